//! Companions: elderly people and children a resident checks in together with themself.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::persons::PersonRow;
use super::schema::{companions, persons};
use super::{DbConnection, DbError};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = companions)]
pub struct CompanionRow {
    pub id: i64,
    pub account_id: i64,
    pub person_id: i64,
    pub relation: String,
    pub created_at: NaiveDateTime,
}

pub fn list(
    conn: &mut DbConnection,
    account_id: i64,
) -> Result<Vec<(CompanionRow, PersonRow)>, DbError> {
    Ok(companions::table
        .inner_join(persons::table)
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
        .inner_join(persons::table)
        .filter(companions::account_id.eq(account_id))
        .filter(companions::id.eq_any(ids))
        .select((CompanionRow::as_select(), PersonRow::as_select()))
        .load(conn)?)
}

pub fn count_of_account(conn: &mut DbConnection, account_id: i64) -> Result<i64, DbError> {
    Ok(companions::table
        .filter(companions::account_id.eq(account_id))
        .count()
        .get_result(conn)?)
}

/// The accounts that have this person as a companion.
pub fn accounts_of_person(conn: &mut DbConnection, person_id: i64) -> Result<Vec<i64>, DbError> {
    Ok(companions::table
        .filter(companions::person_id.eq(person_id))
        .select(companions::account_id)
        .load(conn)?)
}

pub fn insert(
    conn: &mut DbConnection,
    account_id: i64,
    person_id: i64,
    relation: &str,
    now: NaiveDateTime,
) -> Result<CompanionRow, DbError> {
    let id: i64 = crate::per_backend!(conn, |c| diesel::insert_into(companions::table)
        .values((
            companions::account_id.eq(account_id),
            companions::person_id.eq(person_id),
            companions::relation.eq(relation),
            companions::created_at.eq(now),
        ))
        .returning(companions::id)
        .get_result(c))?;
    Ok(companions::table
        .find(id)
        .select(CompanionRow::as_select())
        .first(conn)?)
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

/// Forgets every companion the account named.
pub fn remove_all_of_account(conn: &mut DbConnection, account_id: i64) -> Result<(), DbError> {
    diesel::delete(companions::table.filter(companions::account_id.eq(account_id)))
        .execute(conn)?;
    Ok(())
}
