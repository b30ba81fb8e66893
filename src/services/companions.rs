//! Companions (同行人员): elderly people and children a resident checks in with them in one scan.
//! Who may be one follows Shanghai's rule (under 18, or 60 and over, by the birth date in the ID
//! number or given beside a document that carries none; both limits are settings), checked when added and again at every scan.
//!
//! A companion gives the account nothing of the person's own: the itinerary shows only the
//! check-ins the account made, and the name and birth date typed stay with the companion row. A
//! person who has an account of their own becomes someone's companion only after accepting the
//! request in their own mini-program ([`requests`], [`accept`]), is judged by their own birth date
//! alone, and can end it at any time ([`end`]).

use std::sync::Arc;

use chrono::NaiveDate;

use serde::Serialize;

use super::accounts::{consented_person, AccountError};
use super::cache_sync::changed;
use crate::auth::Account;
use crate::cache::CacheKey;
use crate::crypto::Field;
use crate::db::companions::{self, CompanionRow, Held, NewCompanion as NewRow};
use crate::db::persons::{NewPerson, Person, PersonKey};
use crate::db::{accounts, notifications, paper_codes, persons, DbError};
use crate::domain::scan::MAX_COMPANIONS;
use crate::domain::CompanionRule;
use crate::domain::{age_on, IdDocument, IdType, NotificationKind, PersonName};
use crate::state::AppState;

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
    /// Someone who has not accepted (again) to be this account's companion.
    #[error("the companion has not accepted")]
    NotAccepted,
    /// No request of another account for the caller's own person with this id.
    #[error("no such companion request")]
    RequestNotFound,
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
    /// `None` when their age is not known (someone with an account of their own who declared
    /// no birth date).
    pub age: Option<u32>,
    /// Whether the person may be checked in as a companion today: accepted (or without an
    /// account of their own) and of an eligible age.
    pub eligible: bool,
    /// `active`, or `awaiting_acceptance` while a person with an account of their own has not
    /// accepted.
    pub status: &'static str,
}

fn view(state: &AppState, held: &Held) -> Result<CompanionView, DbError> {
    let Person {
        document,
        birth_date,
        name,
        ..
    } = held.open(&state.cipher)?;
    let Some(document) = document else {
        return Err(DbError::Other(format!(
            "companion {}: a person without a document",
            held.row.id
        )));
    };
    let today = state.clock.today();
    let rule = state.settings.scan.companions;
    Ok(CompanionView {
        id: held.row.id,
        name: name.masked(),
        id_type: document.kind(),
        id_number: document.masked(),
        relation: held.row.relation.clone(),
        age: birth_date.map(|born| age_on(born, today)),
        eligible: held.accepted() && birth_date.is_some_and(|born| rule.is_eligible(born, today)),
        status: status(held.accepted()),
    })
}

/// A companion row as its holder and its person see it: `active` once it may be checked in,
/// `awaiting_acceptance` before.
pub(crate) fn status(accepted: bool) -> &'static str {
    if accepted {
        "active"
    } else {
        "awaiting_acceptance"
    }
}

pub async fn list(
    state: &Arc<AppState>,
    account: &Account,
) -> Result<Vec<CompanionView>, CompanionError> {
    let account_id = account.id;
    state
        .read(move |state, conn| {
            companions::list(conn, account_id)?
                .iter()
                .map(|held| Ok(view(state, held)?))
                .collect()
        })
        .await
}

/// Adds a companion. Someone with an account of their own is asked first: the row waits for
/// their answer, and only their own birth date counts. For anyone else the birth date typed beside
/// a document that carries none stays with this row; it never becomes the person's.
pub async fn add(
    state: &Arc<AppState>,
    account: &Account,
    new: NewCompanion,
) -> Result<CompanionView, CompanionError> {
    let account_id = account.id;
    state
        .write(move |state, conn| {
            let me = consented_person(state, conn, account_id)?;
            if companions::count_of_account(conn, account_id)? >= MAX_COMPANIONS as i64 {
                return Err(CompanionError::TooMany);
            }
            let now = state.clock.now_naive();
            let today = state.clock.today();
            let rule = state.settings.scan.companions;
            let key = PersonKey::Document(new.document.clone());
            let person = persons::find_or_create(
                conn,
                &state.cipher,
                NewPerson {
                    key: &key,
                    name: &new.name,
                    birth_date: None,
                    region: None,
                },
                now,
            )?;
            if person.id == me.id {
                return Err(CompanionError::IsSelf);
            }
            let owner = accounts::owner_of(conn, person.id)?.filter(|o| o.id != account_id);
            let own_birth = person.open(&state.cipher)?.birth_date;
            let judged_by = match (&owner, own_birth) {
                // Someone with an account of their own: their own birth date, or none.
                (Some(_), own) => own,
                (None, Some(own)) if own != new.birth_date => {
                    return Err(CompanionError::BirthDateMismatch)
                }
                (None, _) => Some(new.birth_date),
            };
            if !judged_by.is_some_and(|born| rule.is_eligible(born, today)) {
                return Err(CompanionError::NotEligible(rule));
            }
            if companions::is_companion_of(conn, account_id, person.id)? {
                return Err(CompanionError::AlreadyAdded);
            }
            let typed_birth = new
                .document
                .birth_date()
                .is_none()
                .then_some(new.birth_date);
            companions::insert(
                conn,
                &NewRow {
                    account_id,
                    person_id: person.id,
                    relation: &new.relation,
                    name_sealed: state.cipher.seal(Field::Name, new.name.as_ref()),
                    birth_date: typed_birth,
                    accepted_at: owner.is_none().then_some(now),
                },
                now,
            )?;
            changed(state, conn, &[CacheKey::Account(account_id)])?;
            let held = companions::of_person(conn, account_id, person.id)?
                .ok_or_else(|| DbError::Other("a new companion vanished".into()))?;
            if let Some(owner) = owner {
                notifications::insert_message(
                    conn,
                    owner.id,
                    NotificationKind::AddedAsCompanion,
                    &format!(
                        "{}请求将您添加为同行人员（关系：{}）。同意后，对方扫码时可为您一同登记；请在“同行人员请求”中同意或拒绝。如非家人所为，请拒绝并联系当地卫生健康部门。",
                        me.name.masked(),
                        new.relation
                    ),
                    None,
                    now,
                )?;
            }
            Ok(view(state, &held)?)
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
            let held = companions::find(conn, account_id, companion_id)?
                .ok_or(CompanionError::NotFound)?;
            forget(state, conn, &held.row)
        })
        .await
}

/// Removes a companion row: the paper codes its account printed for the person stop working.
fn forget(
    state: &AppState,
    conn: &mut crate::db::DbConnection,
    row: &CompanionRow,
) -> Result<(), CompanionError> {
    paper_codes::revoke(
        conn,
        row.account_id,
        Some(row.person_id),
        state.clock.now_naive(),
    )?;
    companions::remove(conn, row.id)?;
    changed(state, conn, &[CacheKey::Account(row.account_id)])?;
    Ok(())
}

/// Another account's request to check the caller in as its companion, as the caller sees it.
#[derive(Debug, Serialize)]
pub struct CompanionRequestView {
    pub id: i64,
    /// The requesting account's declared name, masked; `None` when it has none.
    pub requested_by: Option<String>,
    pub relation: String,
    pub requested_at: String,
    /// `awaiting_acceptance` or `active`.
    pub status: &'static str,
}

fn request_view(
    state: &AppState,
    conn: &mut crate::db::DbConnection,
    row: &CompanionRow,
) -> Result<CompanionRequestView, DbError> {
    let requested_by = match accounts::find(conn, row.account_id)? {
        Some(holder) => holder.declared_name(&state.cipher)?.map(|n| n.masked()),
        None => None,
    };
    Ok(CompanionRequestView {
        id: row.id,
        requested_by,
        relation: row.relation.clone(),
        requested_at: state.clock.show(row.created_at),
        status: status(row.accepted_at.is_some()),
    })
}

/// The caller's own person, which requests name; `None` without a bound identity.
fn own_person(
    conn: &mut crate::db::DbConnection,
    account_id: i64,
) -> Result<Option<i64>, CompanionError> {
    Ok(accounts::find(conn, account_id)?.and_then(|a| a.person_id))
}

/// Every account that asked to check the caller in as its companion, accepted or not.
pub async fn requests(
    state: &Arc<AppState>,
    account: &Account,
) -> Result<Vec<CompanionRequestView>, CompanionError> {
    let account_id = account.id;
    state
        .read(move |state, conn| {
            let Some(person_id) = own_person(conn, account_id)? else {
                return Ok(Vec::new());
            };
            companions::held_by_others(conn, person_id, account_id)?
                .iter()
                .map(|row| Ok(request_view(state, conn, row)?))
                .collect()
        })
        .await
}

/// The request `id` made of the caller's own person.
fn request_of(
    conn: &mut crate::db::DbConnection,
    account_id: i64,
    id: i64,
) -> Result<CompanionRow, CompanionError> {
    let person_id = own_person(conn, account_id)?.ok_or(CompanionError::RequestNotFound)?;
    companions::held_by_others(conn, person_id, account_id)?
        .into_iter()
        .find(|row| row.id == id)
        .ok_or(CompanionError::RequestNotFound)
}

/// Accepts a request: the requesting account may check the caller in from now on, and is told.
pub async fn accept(
    state: &Arc<AppState>,
    account: &Account,
    id: i64,
) -> Result<CompanionRequestView, CompanionError> {
    let account_id = account.id;
    state
        .write(move |state, conn| {
            let row = request_of(conn, account_id, id)?;
            let now = state.clock.now_naive();
            if row.accepted_at.is_none() {
                companions::accept(conn, row.id, now)?;
                changed(state, conn, &[CacheKey::Account(row.account_id)])?;
                notifications::insert_message(
                    conn,
                    row.account_id,
                    NotificationKind::AddedAsCompanion,
                    &format!(
                        "对方已同意作为您的同行人员（关系：{}），扫码时可为其一同登记。",
                        row.relation
                    ),
                    None,
                    now,
                )?;
            }
            let row = request_of(conn, account_id, id)?;
            Ok(request_view(state, conn, &row)?)
        })
        .await
}

/// Declines a request, or ends one accepted before: the requesting account can no longer check
/// the caller in, its paper codes for the caller stop working, and it is told.
pub async fn end(state: &Arc<AppState>, account: &Account, id: i64) -> Result<(), CompanionError> {
    let account_id = account.id;
    state
        .write(move |state, conn| {
            let row = request_of(conn, account_id, id)?;
            forget(state, conn, &row)?;
            let message = if row.accepted_at.is_some() {
                format!("对方已结束与您的同行人员关系（关系：{}）。", row.relation)
            } else {
                format!("对方拒绝了您的同行人员请求（关系：{}）。", row.relation)
            };
            notifications::insert_message(
                conn,
                row.account_id,
                NotificationKind::AddedAsCompanion,
                &message,
                None,
                state.clock.now_naive(),
            )?;
            Ok(())
        })
        .await
}
