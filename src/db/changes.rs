//! `cache_changes`: what changed, for the caches of every node.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::cache_changes;
use super::{DbConnection, DbError};

/// Records changed keys in the caller's transaction.
pub fn record(conn: &mut DbConnection, keys: &[String], now: NaiveDateTime) -> Result<(), DbError> {
    let rows: Vec<_> = keys
        .iter()
        .map(|key| {
            (
                cache_changes::key.eq(key),
                cache_changes::changed_at.eq(now),
            )
        })
        .collect();
    for batch in rows.chunks(1000) {
        crate::per_backend!(conn, |c| diesel::insert_into(cache_changes::table)
            .values(batch)
            .execute(c))?;
    }
    Ok(())
}

/// Changes after `after`, oldest first, at most `limit`.
pub fn after(
    conn: &mut DbConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>, DbError> {
    Ok(cache_changes::table
        .filter(cache_changes::seq.gt(after))
        .order(cache_changes::seq.asc())
        .limit(limit)
        .select((cache_changes::seq, cache_changes::key))
        .load(conn)?)
}

/// The newest change's number (0 when none).
pub fn head(conn: &mut DbConnection) -> Result<i64, DbError> {
    Ok(cache_changes::table
        .select(diesel::dsl::max(cache_changes::seq))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

/// Deletes changes recorded before `before`; their number.
pub fn purge(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, DbError> {
    Ok(
        diesel::delete(cache_changes::table.filter(cache_changes::changed_at.lt(before)))
            .execute(conn)?,
    )
}
