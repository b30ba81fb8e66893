//! Companions: elderly people and children a resident checks in together with themself.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::persons::{Person, PersonRow};
use super::schema::{companions, persons};
use super::{DbConnection, DbError};
use crate::crypto::PiiCipher;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = companions)]
pub struct CompanionRow {
    pub id: i64,
    pub account_id: i64,
    pub person_id: i64,
    pub relation: String,
    pub created_at: NaiveDateTime,
    /// The name the account typed, sealed (`None` for rows of the first release).
    pub name_sealed: Option<String>,
}

/// The companion's person, opened, under the name the account gave it (the person's own for
/// rows of the first release).
pub fn open(
    cipher: &PiiCipher,
    companion: &CompanionRow,
    person: &PersonRow,
) -> Result<Person, DbError> {
    let mut opened = person.open(cipher)?;
    if let Some(sealed) = &companion.name_sealed {
        opened.name = super::open_name(cipher, sealed, format_args!("companion {}", companion.id))?;
    }
    Ok(opened)
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

/// Whether the account has this person as a companion.
pub fn is_companion_of(
    conn: &mut DbConnection,
    account_id: i64,
    person_id: i64,
) -> Result<bool, DbError> {
    let count: i64 = companions::table
        .filter(companions::account_id.eq(account_id))
        .filter(companions::person_id.eq(person_id))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

/// The account's companion with this id and its person, if it is the account's.
pub fn find(
    conn: &mut DbConnection,
    account_id: i64,
    id: i64,
) -> Result<Option<(CompanionRow, PersonRow)>, DbError> {
    Ok(find_many(conn, account_id, &[id])?.into_iter().next())
}

/// The accounts that check one of these people in as a companion, as (person id, account id).
pub fn holders_of(conn: &mut DbConnection, person_ids: &[i64]) -> Result<Vec<(i64, i64)>, DbError> {
    let mut holders = Vec::new();
    for chunk in person_ids.chunks(500) {
        holders.extend(
            companions::table
                .filter(companions::person_id.eq_any(chunk))
                .select((companions::person_id, companions::account_id))
                .load::<(i64, i64)>(conn)?,
        );
    }
    Ok(holders)
}

/// The account's companion row of this person, with the person.
pub fn of_person(
    conn: &mut DbConnection,
    account_id: i64,
    person_id: i64,
) -> Result<Option<(CompanionRow, PersonRow)>, DbError> {
    Ok(companions::table
        .inner_join(persons::table)
        .filter(companions::account_id.eq(account_id))
        .filter(companions::person_id.eq(person_id))
        .select((CompanionRow::as_select(), PersonRow::as_select()))
        .first(conn)
        .optional()?)
}

/// A new companion row; `name_sealed` is the name the account typed, sealed.
pub struct NewCompanion<'a> {
    pub account_id: i64,
    pub person_id: i64,
    pub relation: &'a str,
    pub name_sealed: String,
}

pub fn insert(
    conn: &mut DbConnection,
    companion: &NewCompanion<'_>,
    now: NaiveDateTime,
) -> Result<CompanionRow, DbError> {
    let id: i64 = crate::per_backend!(conn, |c| diesel::insert_into(companions::table)
        .values((
            companions::account_id.eq(companion.account_id),
            companions::person_id.eq(companion.person_id),
            companions::relation.eq(companion.relation),
            companions::name_sealed.eq(&companion.name_sealed),
            companions::created_at.eq(now),
        ))
        .returning(companions::id)
        .get_result(c))?;
    Ok(companions::table
        .find(id)
        .select(CompanionRow::as_select())
        .first(conn)?)
}

/// Removes a companion row of the account.
pub fn remove(conn: &mut DbConnection, id: i64) -> Result<(), DbError> {
    diesel::delete(companions::table.find(id)).execute(conn)?;
    Ok(())
}

/// Forgets every companion the account named.
pub fn remove_all_of_account(conn: &mut DbConnection, account_id: i64) -> Result<(), DbError> {
    diesel::delete(companions::table.filter(companions::account_id.eq(account_id)))
        .execute(conn)?;
    Ok(())
}
