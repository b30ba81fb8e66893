//! Companions: elderly people and children a resident checks in together with themself.

use chrono::{NaiveDate, NaiveDateTime};
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
    /// The birth date the account typed beside a document that carries none.
    pub birth_date: Option<NaiveDate>,
    /// Since when the account may check the person in: when it added someone without an account
    /// of their own, or when a person with one accepted. `None` while a request waits, and again
    /// whenever the person's identity is bound to a new account.
    pub accepted_at: Option<NaiveDateTime>,
}

/// A companion row with its person, and whether that person has an account of their own.
#[derive(Debug, Clone)]
pub struct Held {
    pub row: CompanionRow,
    pub person: PersonRow,
    /// Someone else's account is bound to the person: what this account typed about them counts
    /// for nothing, and they are a companion only once they accepted.
    pub own_account: bool,
}

impl Held {
    /// Whether the account may check them in: someone it added while they had no account of
    /// their own (a child or elder it looks after), or who accepted since.
    pub fn accepted(&self) -> bool {
        self.row.accepted_at.is_some()
    }

    /// The person, opened, under the name the account gave them (the person's own for rows of
    /// the first release), with the person's own birth date; for someone without an account of
    /// their own whose document carries none, the one the account typed.
    pub fn open(&self, cipher: &PiiCipher) -> Result<Person, DbError> {
        let mut opened = self.person.open(cipher)?;
        if let Some(sealed) = &self.row.name_sealed {
            opened.name =
                super::open_name(cipher, sealed, format_args!("companion {}", self.row.id))?;
        }
        if !self.own_account {
            opened.birth_date = opened.birth_date.or(self.row.birth_date);
        }
        Ok(opened)
    }
}

/// Attaches to each row whether its person has an account of their own (other than the holder's).
fn held(
    conn: &mut DbConnection,
    rows: Vec<(CompanionRow, PersonRow)>,
) -> Result<Vec<Held>, DbError> {
    let person_ids: Vec<i64> = rows.iter().map(|(row, _)| row.person_id).collect();
    let owners = super::accounts::owners(conn, &person_ids, false)?;
    Ok(rows
        .into_iter()
        .map(|(row, person)| Held {
            own_account: owners
                .iter()
                .any(|(p, account)| *p == row.person_id && *account != row.account_id),
            row,
            person,
        })
        .collect())
}

pub fn list(conn: &mut DbConnection, account_id: i64) -> Result<Vec<Held>, DbError> {
    let rows = companions::table
        .inner_join(persons::table)
        .filter(companions::account_id.eq(account_id))
        .order(companions::id.asc())
        .select((CompanionRow::as_select(), PersonRow::as_select()))
        .load(conn)?;
    held(conn, rows)
}

/// The account's companions with these ids; ids that are not its own are left out.
pub fn find_many(
    conn: &mut DbConnection,
    account_id: i64,
    ids: &[i64],
) -> Result<Vec<Held>, DbError> {
    let rows = companions::table
        .inner_join(persons::table)
        .filter(companions::account_id.eq(account_id))
        .filter(companions::id.eq_any(ids))
        .select((CompanionRow::as_select(), PersonRow::as_select()))
        .load(conn)?;
    held(conn, rows)
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
pub fn find(conn: &mut DbConnection, account_id: i64, id: i64) -> Result<Option<Held>, DbError> {
    Ok(find_many(conn, account_id, &[id])?.into_iter().next())
}

/// The companion rows other accounts hold of this person, oldest first: the requests (accepted
/// or not) the person's own account answers.
pub fn held_by_others(
    conn: &mut DbConnection,
    person_id: i64,
    owner_account: i64,
) -> Result<Vec<CompanionRow>, DbError> {
    Ok(companions::table
        .filter(companions::person_id.eq(person_id))
        .filter(companions::account_id.ne(owner_account))
        .order(companions::id.asc())
        .select(CompanionRow::as_select())
        .load(conn)?)
}

/// Forgets every acceptance given for this person: their account changed hands, and what the
/// previous holder of the identity accepted is not the new one's word.
pub fn reset_acceptances(conn: &mut DbConnection, person_id: i64) -> Result<(), DbError> {
    diesel::update(companions::table.filter(companions::person_id.eq(person_id)))
        .set(companions::accepted_at.eq(None::<NaiveDateTime>))
        .execute(conn)?;
    Ok(())
}

/// Marks a request accepted.
pub fn accept(conn: &mut DbConnection, id: i64, at: NaiveDateTime) -> Result<(), DbError> {
    diesel::update(companions::table.find(id))
        .set(companions::accepted_at.eq(Some(at)))
        .execute(conn)?;
    Ok(())
}

/// The accounts that hold one of these people as a companion, as (person id, account id): every
/// row, or with `accepted_only` those the account may check in.
pub fn holders_of(
    conn: &mut DbConnection,
    person_ids: &[i64],
    accepted_only: bool,
) -> Result<Vec<(i64, i64)>, DbError> {
    let mut holders = Vec::new();
    for chunk in person_ids.chunks(500) {
        let mut query = companions::table
            .filter(companions::person_id.eq_any(chunk))
            .select((companions::person_id, companions::account_id))
            .into_boxed();
        if accepted_only {
            query = query.filter(companions::accepted_at.is_not_null());
        }
        holders.extend(query.load::<(i64, i64)>(conn)?);
    }
    Ok(holders)
}

/// The account's companion row of this person, with the person.
pub fn of_person(
    conn: &mut DbConnection,
    account_id: i64,
    person_id: i64,
) -> Result<Option<Held>, DbError> {
    let rows = companions::table
        .inner_join(persons::table)
        .filter(companions::account_id.eq(account_id))
        .filter(companions::person_id.eq(person_id))
        .select((CompanionRow::as_select(), PersonRow::as_select()))
        .load(conn)?;
    Ok(held(conn, rows)?.into_iter().next())
}

/// A new companion row; `name_sealed` is the name the account typed, sealed.
pub struct NewCompanion<'a> {
    pub account_id: i64,
    pub person_id: i64,
    pub relation: &'a str,
    pub name_sealed: String,
    /// Typed beside a document that carries none.
    pub birth_date: Option<NaiveDate>,
    /// `now` for someone without an account of their own; `None` for a request.
    pub accepted_at: Option<NaiveDateTime>,
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
            companions::birth_date.eq(companion.birth_date),
            companions::accepted_at.eq(companion.accepted_at),
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
