//! Deleting what is older than the retention periods: hourly in the background and on demand
//! from the command line.

use std::sync::Arc;

use crate::db::retention::{self, Purged};
use crate::db::DbError;
use crate::state::AppState;

/// Deletes everything older than `retention_days` (and audit entries older than
/// `AUDIT_RETENTION_DAYS`) in one transaction.
pub async fn purge(state: &Arc<AppState>, retention_days: u32) -> Result<Purged, DbError> {
    state
        .write(move |state, conn| {
            retention::purge(
                conn,
                retention_days,
                state.settings.retention.audit_days,
                state.clock.now_naive(),
            )
        })
        .await
}
