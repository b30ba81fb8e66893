//! Companions (同行人员): elderly people and children a resident checks in with them in one scan.
//! Who may be one follows Shanghai's rule (under 18, or 60 and over, by the birth date in the ID
//! number; both limits are settings), checked when added and again at every scan.

use std::sync::Arc;

use serde::Serialize;

use super::accounts::{consented_person, AccountError};
use crate::auth::Account;
use crate::db::companions::{self, CompanionRow};
use crate::db::persons::{self, Person};
use crate::db::DbError;
use crate::domain::{IdNumber, PersonName};
use crate::state::AppState;

/// At most this many companions per account.
pub const MAX_PER_ACCOUNT: usize = 5;
/// One person may be the companion of at most this many accounts.
const MAX_ACCOUNTS_PER_PERSON: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum CompanionError {
    #[error("the person is neither a child nor elderly")]
    NotEligible,
    #[error("the account already has the most companions allowed")]
    TooMany,
    #[error("this person is already the companion of the most accounts allowed")]
    TooManyAccounts,
    #[error("this person is already a companion of the account")]
    AlreadyAdded,
    #[error("the account's own identity cannot be its companion")]
    IsSelf,
    #[error("no such companion of this account")]
    NotFound,
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A new companion, validated at the edge.
#[derive(Debug, Clone)]
pub struct NewCompanion {
    pub name: PersonName,
    pub id_number: IdNumber,
    /// `父亲`, `女儿`: 1 to 10 characters.
    pub relation: String,
}

#[derive(Debug, Serialize)]
pub struct CompanionView {
    pub id: i64,
    /// Masked.
    pub name: String,
    /// Masked.
    pub id_number: String,
    pub relation: String,
    pub age: u32,
    /// Whether the person may be checked in as a companion today.
    pub eligible: bool,
}

fn view(state: &AppState, row: &CompanionRow, person: &Person) -> CompanionView {
    let today = state.clock.today();
    CompanionView {
        id: row.id,
        name: person.name.masked(),
        id_number: person.id_number.masked(),
        relation: row.relation.clone(),
        age: person.id_number.age_on(today),
        eligible: state
            .settings
            .scan
            .companions
            .is_eligible(&person.id_number, today),
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
                .into_iter()
                .map(|(row, person)| Ok(view(state, &row, &person.open(&state.cipher)?)))
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
        .is_eligible(&new.id_number, state.clock.today())
    {
        return Err(CompanionError::NotEligible);
    }
    let account_id = account.id;
    state
        .write(move |state, conn| {
            let me = consented_person(state, conn, account_id)?;
            if companions::count_of_account(conn, account_id)? >= MAX_PER_ACCOUNT as i64 {
                return Err(CompanionError::TooMany);
            }
            if let Some(existing) = persons::find_by_id_number(conn, &state.cipher, &new.id_number)?
            {
                if existing.id == me.id {
                    return Err(CompanionError::IsSelf);
                }
                let links = companions::accounts_of_person(conn, existing.id)?;
                if links.contains(&account_id) {
                    return Err(CompanionError::AlreadyAdded);
                }
                if links.len() >= MAX_ACCOUNTS_PER_PERSON {
                    return Err(CompanionError::TooManyAccounts);
                }
            }
            let now = state.clock.now_naive();
            let person = persons::upsert(conn, &state.cipher, &new.id_number, &new.name, now)?;
            let row = companions::insert(conn, account_id, person.id, &new.relation, now)?;
            Ok(view(state, &row, &person.open(&state.cipher)?))
        })
        .await
}

pub async fn remove(
    state: &Arc<AppState>,
    account: &Account,
    companion_id: i64,
) -> Result<(), CompanionError> {
    let account_id = account.id;
    let removed = state
        .write(move |_, conn| companions::remove(conn, account_id, companion_id))
        .await?;
    if removed {
        Ok(())
    } else {
        Err(CompanionError::NotFound)
    }
}
