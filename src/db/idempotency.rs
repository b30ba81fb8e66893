//! Requests sent with an `Idempotency-Key` and their answers (see `web::idempotency`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::idempotency_keys;
use super::{DbConnection, DbError};

/// A key already held: by an answer, or by a request still being answered.
#[derive(Debug, Clone, Queryable)]
pub struct Held {
    pub fingerprint: String,
    pub started_at: NaiveDateTime,
    pub status: Option<i32>,
    pub answer_sealed: Option<String>,
}

/// Takes the key for a request about to be answered, or tells who holds it.
pub fn claim(
    conn: &mut DbConnection,
    key_hash: &str,
    principal: &str,
    fingerprint: &str,
    now: NaiveDateTime,
) -> Result<Option<Held>, DbError> {
    let taken = crate::per_backend!(conn, |c| diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::id.eq(key_hash),
            idempotency_keys::principal.eq(principal),
            idempotency_keys::fingerprint.eq(fingerprint),
            idempotency_keys::started_at.eq(now),
        ))
        .on_conflict(idempotency_keys::id)
        .do_nothing()
        .execute(c))?;
    if taken == 1 {
        return Ok(None);
    }
    Ok(idempotency_keys::table
        .find(key_hash)
        .select((
            idempotency_keys::fingerprint,
            idempotency_keys::started_at,
            idempotency_keys::status,
            idempotency_keys::answer_sealed,
        ))
        .first(conn)
        .optional()?)
}

/// Takes over a key whose request began at `began` and was never answered (its node stopped).
/// False when another request took it over first.
pub fn take_over(
    conn: &mut DbConnection,
    key_hash: &str,
    began: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(
        idempotency_keys::table
            .find(key_hash)
            .filter(idempotency_keys::status.is_null())
            .filter(idempotency_keys::started_at.eq(began)),
    )
    .set(idempotency_keys::started_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// Takes a key kept past its time (and not yet purged) for a new request.
pub fn restart(
    conn: &mut DbConnection,
    key_hash: &str,
    fingerprint: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(idempotency_keys::table.find(key_hash))
        .set((
            idempotency_keys::fingerprint.eq(fingerprint),
            idempotency_keys::started_at.eq(now),
            idempotency_keys::status.eq(None::<i32>),
            idempotency_keys::answer_sealed.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Keeps the answer of the request that holds the key.
pub fn answer(
    conn: &mut DbConnection,
    key_hash: &str,
    status: u16,
    answer_sealed: &str,
) -> Result<(), DbError> {
    diesel::update(idempotency_keys::table.find(key_hash))
        .set((
            idempotency_keys::status.eq(Some(i32::from(status))),
            idempotency_keys::answer_sealed.eq(Some(answer_sealed)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Lets the key go without an answer (the request failed in a way worth trying again).
pub fn release(conn: &mut DbConnection, key_hash: &str) -> Result<(), DbError> {
    diesel::delete(
        idempotency_keys::table
            .find(key_hash)
            .filter(idempotency_keys::status.is_null()),
    )
    .execute(conn)?;
    Ok(())
}

/// Deletes keys taken before `before`.
pub fn purge(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, DbError> {
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::started_at.lt(before)))
            .execute(conn)?,
    )
}

/// Deletes every key and answer of one caller (an account cancelled).
pub fn delete_of(conn: &mut DbConnection, principal: &str) -> Result<usize, DbError> {
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::principal.eq(principal)))
            .execute(conn)?,
    )
}
