//! Deleting what is older than the retention periods: hourly in the background and on demand
//! from the command line.

use std::sync::Arc;

use chrono::Duration;

use crate::db::retention::{self, Purged};
use crate::db::{partitions, DbError};
use crate::state::AppState;

/// Deletes everything older than `retention_days` (and audit entries older than
/// `AUDIT_RETENTION_DAYS`). On PostgreSQL whole days of check-ins are dropped first, each in a
/// short transaction of its own (dropping a partition briefly locks the table scans write to);
/// the rest goes in one transaction. Days ahead are created as they come.
pub async fn purge(state: &Arc<AppState>, retention_days: u32) -> Result<Purged, DbError> {
    let now = state.clock.now_naive();
    let cutoff = now - Duration::days(i64::from(retention_days));
    // Check-ins are stored in UTC, so their day partitions are UTC days.
    let (today, old_days) = (now.date(), cutoff.date());
    let dropped = state
        .read(move |_, conn| {
            partitions::ensure_days(conn, today)?;
            partitions::drop_days_before(conn, old_days)
        })
        .await?;
    let mut purged = state
        .write(move |state, conn| {
            retention::purge(
                conn,
                retention_days,
                state.settings.retention.audit_days,
                now,
            )
        })
        .await?;
    if let Some((_, rows)) = purged.counts.iter_mut().find(|(t, _)| *t == "check_ins") {
        *rows += dropped;
    }
    // An import is written within minutes; one still unfinished after a day was left half-way by
    // a node that stopped. Deleted apart, at an import's pace (see `venue_imports::discard_import`).
    let abandoned = crate::services::venue_imports::discard_import(
        state,
        crate::db::venues::Unfinished::StartedBefore(now - Duration::days(1)),
    )
    .await?;
    purged
        .counts
        .push(("venues_of_unfinished_imports", abandoned));
    // Kept answers, a part at a time beside the scans (at a peak a day holds millions).
    let kept_since = now - crate::web::idempotency::KEPT_FOR;
    let mut keys = 0;
    loop {
        let deleted = state
            .write_beside_check_ins(move |conn| {
                crate::db::idempotency::purge_some(conn, kept_since, 2_000)
            })
            .await?;
        keys += deleted;
        if deleted < 2_000 {
            break;
        }
    }
    purged.counts.push(("idempotency_keys", keys));
    Ok(purged)
}
