//! Keeping every node's caches true to the database: a change is written to `cache_changes` in its
//! own transaction and dropped from this node's caches at once ([`changed`]); every node reads the
//! table every `CACHE_SYNC_MS` and drops the same entries ([`sync`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cache::{CacheKey, Feed};
use crate::db::{changes, DbConnection, DbError};
use crate::state::AppState;

/// Changes read at most per query.
const READ_LIMIT: i64 = 10_000;
/// How long changes are kept in the table: far longer than any node takes to read them.
const KEEP: chrono::Duration = chrono::Duration::hours(1);

/// Records that `keys` changed, in the caller's transaction, and drops them here at once.
pub fn changed(
    state: &AppState,
    conn: &mut DbConnection,
    keys: &[CacheKey],
) -> Result<(), DbError> {
    if keys.is_empty() {
        return Ok(());
    }
    state.caches.invalidate(keys);
    let encoded: Vec<String> = keys.iter().map(CacheKey::encode).collect();
    changes::record(conn, &encoded, state.clock.now_naive())
}

/// Starts reading the table from its current end: what came before is already in the database.
pub async fn start(state: &Arc<AppState>) -> Result<(), DbError> {
    let head = state.read(|_, conn| changes::head(conn)).await?;
    *state.caches.feed.lock().expect("feed lock") = Feed::after(head);
    Ok(())
}

/// Reads the changes other nodes (and this one) made since the last read and drops their keys;
/// the number of keys dropped.
pub async fn sync(state: &Arc<AppState>) -> Result<usize, DbError> {
    let mut dropped = 0;
    loop {
        let after = state.caches.feed.lock().expect("feed lock").read_after();
        let rows = state
            .read(move |_, conn| changes::after(conn, after, READ_LIMIT))
            .await?;
        let full = rows.len() as i64 == READ_LIMIT;
        let keys = state
            .caches
            .feed
            .lock()
            .expect("feed lock")
            .take(rows, Instant::now());
        let keys: Vec<CacheKey> = keys.iter().filter_map(|k| CacheKey::decode(k)).collect();
        state.caches.invalidate(&keys);
        dropped += keys.len();
        if !full {
            return Ok(dropped);
        }
    }
}

/// Reads the changes every `CACHE_SYNC_MS` in the background, and deletes those older than an
/// hour now and then.
pub fn spawn(state: Arc<AppState>) {
    let every = Duration::from_millis(u64::from(state.settings.cache_sync_ms.max(10)));
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_purge = Instant::now();
        // The database being down is logged by its circuit; this says so every ten seconds.
        let failures = crate::telemetry::OncePer::new(Duration::from_secs(10));
        loop {
            ticks.tick().await;
            if let Err(e) = sync(&state).await {
                if let Some(skipped) = failures.due() {
                    tracing::warn!(error = %e, failed_since_last_line = skipped, "cache changes not read");
                }
            }
            if last_purge.elapsed() > Duration::from_secs(600) {
                last_purge = Instant::now();
                let before = state.clock.now_naive() - KEEP;
                if let Err(e) = state
                    .write(move |_, conn| changes::purge(conn, before))
                    .await
                {
                    tracing::warn!(error = %e, "old cache changes not deleted");
                }
            }
        }
    });
}
