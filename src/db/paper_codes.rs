//! Printed paper codes: each print is a row, so that a reprint or a removed companion revokes the
//! codes printed before.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::paper_codes;
use super::{DbConnection, DbError};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = paper_codes)]
pub struct PaperCodeRow {
    pub id: i64,
    pub person_id: i64,
    pub account_id: i64,
    pub issued_on: NaiveDate,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Revokes the codes `account_id` printed for `person_id` before, or for anyone when `person_id`
/// is `None` (its identity and companions are gone).
pub fn revoke(
    conn: &mut DbConnection,
    account_id: i64,
    person_id: Option<i64>,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let mut printed = paper_codes::table
        .filter(paper_codes::account_id.eq(account_id))
        .filter(paper_codes::revoked_at.is_null())
        .select(paper_codes::id)
        .into_boxed();
    if let Some(person_id) = person_id {
        printed = printed.filter(paper_codes::person_id.eq(person_id));
    }
    let ids: Vec<i64> = printed.load(conn)?;
    diesel::update(paper_codes::table.filter(paper_codes::id.eq_any(ids)))
        .set(paper_codes::revoked_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// A new print, revoking the account's earlier codes of the person; returns its id.
pub fn issue(
    conn: &mut DbConnection,
    account_id: i64,
    person_id: i64,
    issued_on: NaiveDate,
    now: NaiveDateTime,
) -> Result<i64, DbError> {
    revoke(conn, account_id, Some(person_id), now)?;
    Ok(crate::per_backend!(conn, |c| diesel::insert_into(
        paper_codes::table
    )
    .values((
        paper_codes::person_id.eq(person_id),
        paper_codes::account_id.eq(account_id),
        paper_codes::issued_on.eq(issued_on),
        paper_codes::created_at.eq(now),
    ))
    .returning(paper_codes::id)
    .get_result(c))?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<PaperCodeRow>, DbError> {
    Ok(paper_codes::table
        .find(id)
        .select(PaperCodeRow::as_select())
        .first(conn)
        .optional()?)
}

/// The paper codes the account printed, newest first.
pub fn printed_by(conn: &mut DbConnection, account_id: i64) -> Result<Vec<PaperCodeRow>, DbError> {
    Ok(paper_codes::table
        .filter(paper_codes::account_id.eq(account_id))
        .order(paper_codes::id.desc())
        .select(PaperCodeRow::as_select())
        .load(conn)?)
}
