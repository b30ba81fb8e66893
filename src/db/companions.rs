//! Companions: elderly people and children a resident checks in together with themself.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::persons::{self, PersonRow};
use super::schema::{accounts, companions, persons as persons_table};
use super::{DbConnection, DbError};
use crate::domain::{IdNumber, PersonName};
use crate::pii::PiiCipher;

/// At most this many companions per account.
pub const MAX_PER_ACCOUNT: i64 = 5;
/// One person may be the companion of at most this many accounts.
pub const MAX_ACCOUNTS_PER_PERSON: i64 = 3;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = companions)]
pub struct CompanionRow {
    pub id: i64,
    pub account_id: i64,
    pub person_id: i64,
    pub relation: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum CompanionError {
    #[error("the account already has the most companions allowed")]
    TooMany,
    #[error("this person is already the companion of the most accounts allowed")]
    TooManyAccounts,
    #[error("this person is already a companion of the account")]
    AlreadyAdded,
    #[error("the account's own identity cannot be its companion")]
    IsSelf,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for CompanionError {
    fn from(e: diesel::result::Error) -> Self {
        CompanionError::Db(e.into())
    }
}

pub fn list(
    conn: &mut DbConnection,
    account_id: i64,
) -> Result<Vec<(CompanionRow, PersonRow)>, DbError> {
    Ok(companions::table
        .inner_join(persons_table::table)
        .filter(companions::account_id.eq(account_id))
        .order(companions::id.asc())
        .select((CompanionRow::as_select(), PersonRow::as_select()))
        .load(conn)?)
}

/// The account's companions with these ids; ids that are not its own are left out.
pub fn find_many(
    conn: &mut DbConnection,
    account_id: i64,
    ids: &[i64],
) -> Result<Vec<(CompanionRow, PersonRow)>, DbError> {
    Ok(companions::table
        .inner_join(persons_table::table)
        .filter(companions::account_id.eq(account_id))
        .filter(companions::id.eq_any(ids))
        .select((CompanionRow::as_select(), PersonRow::as_select()))
        .load(conn)?)
}

pub fn add(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    account_id: i64,
    id_number: &IdNumber,
    name: &PersonName,
    relation: &str,
) -> Result<(CompanionRow, PersonRow), CompanionError> {
    super::write_transaction(conn, |conn| {
        let own_person: Option<i64> = accounts::table
            .find(account_id)
            .select(accounts::person_id)
            .first(conn)?;
        let count = companions::table
            .filter(companions::account_id.eq(account_id))
            .count()
            .get_result::<i64>(conn)?;
        if count >= MAX_PER_ACCOUNT {
            return Err(CompanionError::TooMany);
        }
        if let Some(existing) = persons::find_by_id_number(conn, cipher, id_number)? {
            if own_person == Some(existing.id) {
                return Err(CompanionError::IsSelf);
            }
            let links: Vec<i64> = companions::table
                .filter(companions::person_id.eq(existing.id))
                .select(companions::account_id)
                .load(conn)?;
            if links.contains(&account_id) {
                return Err(CompanionError::AlreadyAdded);
            }
            if links.len() as i64 >= MAX_ACCOUNTS_PER_PERSON {
                return Err(CompanionError::TooManyAccounts);
            }
        }
        let person = persons::upsert(conn, cipher, id_number, name)?;
        let id: i64 = crate::per_backend!(conn, |c| diesel::insert_into(companions::table)
            .values((
                companions::account_id.eq(account_id),
                companions::person_id.eq(person.id),
                companions::relation.eq(relation),
                companions::created_at.eq(Utc::now().naive_utc()),
            ))
            .returning(companions::id)
            .get_result(c))?;
        let row = companions::table
            .find(id)
            .select(CompanionRow::as_select())
            .first(conn)?;
        Ok((row, person))
    })
}

/// Removes a companion of the account; `false` if it was not one.
pub fn remove(conn: &mut DbConnection, account_id: i64, id: i64) -> Result<bool, DbError> {
    let removed = diesel::delete(
        companions::table
            .filter(companions::id.eq(id))
            .filter(companions::account_id.eq(account_id)),
    )
    .execute(conn)?;
    Ok(removed > 0)
}
