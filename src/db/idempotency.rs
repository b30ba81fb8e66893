//! Requests sent with an `Idempotency-Key` and their answers (see `web::idempotency`). The
//! request holding a key is named by a random `holder` token: only it keeps an answer or lets
//! the key go, so a request that took over a key left behind is never overwritten by the first.

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

/// Takes the key for the request `holder` about to be answered, or tells who holds it.
pub fn claim(
    conn: &mut DbConnection,
    key_hash: &str,
    principal: &str,
    fingerprint: &str,
    holder: &str,
    now: NaiveDateTime,
) -> Result<Option<Held>, DbError> {
    // A key deleted between the insert and the read (let go, purged) is tried again.
    for _ in 0..3 {
        let taken = crate::per_backend!(conn, |c| diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::id.eq(key_hash),
                idempotency_keys::principal.eq(principal),
                idempotency_keys::fingerprint.eq(fingerprint),
                idempotency_keys::holder.eq(holder),
                idempotency_keys::started_at.eq(now),
            ))
            .on_conflict(idempotency_keys::id)
            .do_nothing()
            .execute(c))?;
        if taken == 1 {
            return Ok(None);
        }
        let held = idempotency_keys::table
            .find(key_hash)
            .select((
                idempotency_keys::fingerprint,
                idempotency_keys::started_at,
                idempotency_keys::status,
                idempotency_keys::answer_sealed,
            ))
            .first(conn)
            .optional()?;
        if held.is_some() {
            return Ok(held);
        }
    }
    Err(DbError::Busy(
        "an idempotency key changed hands three times".into(),
    ))
}

/// Takes a key for the request `holder` anew: one kept past its time (and not yet purged), or
/// one whose request began at `began` and was never answered (its node stopped). False when
/// another request took it first.
pub fn take_over(
    conn: &mut DbConnection,
    key_hash: &str,
    began: NaiveDateTime,
    fingerprint: &str,
    holder: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(
        idempotency_keys::table
            .find(key_hash)
            .filter(idempotency_keys::started_at.eq(began)),
    )
    .set((
        idempotency_keys::fingerprint.eq(fingerprint),
        idempotency_keys::holder.eq(holder),
        idempotency_keys::started_at.eq(now),
        idempotency_keys::status.eq(None::<i32>),
        idempotency_keys::answer_sealed.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Keeps the answer of the request `holder`, if it still holds the key.
pub fn answer(
    conn: &mut DbConnection,
    key_hash: &str,
    holder: &str,
    status: u16,
    answer_sealed: &str,
) -> Result<bool, DbError> {
    let n = diesel::update(
        idempotency_keys::table
            .find(key_hash)
            .filter(idempotency_keys::holder.eq(holder))
            .filter(idempotency_keys::status.is_null()),
    )
    .set((
        idempotency_keys::status.eq(Some(i32::from(status))),
        idempotency_keys::answer_sealed.eq(Some(answer_sealed)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Lets the key go without an answer (nothing was recorded, or it is worth trying again), if
/// `holder` still holds it.
pub fn release(conn: &mut DbConnection, key_hash: &str, holder: &str) -> Result<(), DbError> {
    diesel::delete(
        idempotency_keys::table
            .find(key_hash)
            .filter(idempotency_keys::holder.eq(holder))
            .filter(idempotency_keys::status.is_null()),
    )
    .execute(conn)?;
    Ok(())
}

/// Deletes at most `limit` keys taken before `before`; how many.
pub fn purge_some(
    conn: &mut DbConnection,
    before: NaiveDateTime,
    limit: i64,
) -> Result<usize, DbError> {
    let old = idempotency_keys::table
        .filter(idempotency_keys::started_at.lt(before))
        .select(idempotency_keys::id)
        .limit(limit)
        .load::<String>(conn)?;
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::id.eq_any(&old)))
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
