//! Companions (同行人员): elderly people and children a resident checks in with them in one scan.
//! Who may be one follows Shanghai's rule (under 18, or 60 and over, by the birth date in the ID
//! number or given beside a document that carries none; both limits are settings), checked when added and again at every scan.
//!
//! A companion gives the account nothing of the person's own: the itinerary shows only the
//! check-ins the account made, the name typed stays with the companion row, and a person who has
//! an account of their own is told that someone added them (and has no paper code printed for
//! them by others).

use std::sync::Arc;

use chrono::NaiveDate;

use serde::Serialize;

use super::accounts::{consented_person, AccountError};
use super::cache_sync::changed;
use crate::auth::Account;
use crate::cache::CacheKey;
use crate::crypto::Field;
use crate::db::companions::{self, CompanionRow, NewCompanion as NewRow};
use crate::db::persons::{NewPerson, Person, PersonKey, PersonRow};
use crate::db::{accounts, notifications, paper_codes, persons, DbError};
use crate::domain::CompanionRule;
use crate::domain::{age_on, IdDocument, IdType, NotificationKind, PersonName};
use crate::state::AppState;

/// At most this many companions per account.
pub const MAX_PER_ACCOUNT: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum CompanionError {
    #[error("the person is neither a child nor elderly")]
    NotEligible(CompanionRule),
    #[error("the account already has the most companions allowed")]
    TooMany,
    /// The birth date given differs from the one on record for the document.
    #[error("the birth date differs from the one on record")]
    BirthDateMismatch,
    #[error("this person is already a companion of the account")]
    AlreadyAdded,
    #[error("the account's own identity cannot be its companion")]
    IsSelf,
    #[error("no such companion of this account")]
    NotFound,
    /// The companion has an account of their own; others may check them in, nothing more.
    #[error("the companion has an account of their own")]
    OwnAccount,
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A new companion, validated at the edge.
#[derive(Debug, Clone)]
pub struct NewCompanion {
    pub name: PersonName,
    pub document: IdDocument,
    /// The number's own, or the one given beside a document that carries none.
    pub birth_date: NaiveDate,
    /// `父亲`, `女儿`: 1 to 10 characters.
    pub relation: String,
}

#[derive(Debug, Serialize)]
pub struct CompanionView {
    pub id: i64,
    /// Masked.
    pub name: String,
    pub id_type: IdType,
    /// Masked.
    pub id_number: String,
    pub relation: String,
    pub age: u32,
    /// Whether the person may be checked in as a companion today.
    pub eligible: bool,
}

fn view(
    state: &AppState,
    row: &CompanionRow,
    person: &PersonRow,
) -> Result<CompanionView, DbError> {
    let Person {
        document,
        birth_date,
        name,
        ..
    } = companions::open(&state.cipher, row, person)?;
    let (Some(document), Some(birth_date)) = (document, birth_date) else {
        return Err(DbError::Other(format!(
            "companion {}: a person without a document or birth date",
            row.id
        )));
    };
    let today = state.clock.today();
    Ok(CompanionView {
        id: row.id,
        name: name.masked(),
        id_type: document.kind(),
        id_number: document.masked(),
        relation: row.relation.clone(),
        age: age_on(birth_date, today),
        eligible: state
            .settings
            .scan
            .companions
            .is_eligible(birth_date, today),
    })
}

pub async fn list(
    state: &Arc<AppState>,
    account: &Account,
) -> Result<Vec<CompanionView>, CompanionError> {
    let account_id = account.id;
    state
        .read(move |state, conn| {
            companions::list(conn, account_id)?
                .into_iter()
                .map(|(row, person)| Ok(view(state, &row, &person)?))
                .collect()
        })
        .await
}

pub async fn add(
    state: &Arc<AppState>,
    account: &Account,
    new: NewCompanion,
) -> Result<CompanionView, CompanionError> {
    if !state
        .settings
        .scan
        .companions
        .is_eligible(new.birth_date, state.clock.today())
    {
        return Err(CompanionError::NotEligible(state.settings.scan.companions));
    }
    let account_id = account.id;
    state
        .write(move |state, conn| {
            let me = consented_person(state, conn, account_id)?;
            if companions::count_of_account(conn, account_id)? >= MAX_PER_ACCOUNT as i64 {
                return Err(CompanionError::TooMany);
            }
            let now = state.clock.now_naive();
            let key = PersonKey::Document(new.document.clone());
            let person = persons::find_or_create(
                conn,
                &state.cipher,
                NewPerson {
                    key: &key,
                    name: &new.name,
                    birth_date: Some(new.birth_date),
                    region: None,
                },
                now,
            )?;
            if person.open(&state.cipher)?.birth_date != Some(new.birth_date) {
                return Err(CompanionError::BirthDateMismatch);
            }
            if person.id == me.id {
                return Err(CompanionError::IsSelf);
            }
            if companions::is_companion_of(conn, account_id, person.id)? {
                return Err(CompanionError::AlreadyAdded);
            }
            let row = companions::insert(
                conn,
                &NewRow {
                    account_id,
                    person_id: person.id,
                    relation: &new.relation,
                    name_sealed: state.cipher.seal(Field::Name, new.name.as_ref()),
                },
                now,
            )?;
            changed(state, conn, &[CacheKey::Account(account_id)])?;
            if let Some(owner) = accounts::owner_of(conn, person.id)? {
                notifications::insert_message(
                    conn,
                    owner.id,
                    NotificationKind::AddedAsCompanion,
                    &format!(
                        "您的身份信息被另一账号添加为同行人员（关系：{}）。如非家人所为，请联系当地卫生健康部门。",
                        new.relation
                    ),
                    None,
                    now,
                )?;
            }
            Ok(view(state, &row, &person)?)
        })
        .await
}

/// Removes a companion; the paper codes the account printed for them stop working.
pub async fn remove(
    state: &Arc<AppState>,
    account: &Account,
    companion_id: i64,
) -> Result<(), CompanionError> {
    let account_id = account.id;
    state
        .write(move |state, conn| {
            let (row, _) = companions::find(conn, account_id, companion_id)?
                .ok_or(CompanionError::NotFound)?;
            paper_codes::revoke(
                conn,
                account_id,
                Some(row.person_id),
                state.clock.now_naive(),
            )?;
            companions::remove(conn, row.id)?;
            changed(state, conn, &[CacheKey::Account(account_id)])?;
            Ok(())
        })
        .await
}
