//! The audit log: every official access and decision is written here, in the transaction of the
//! action itself, and only here. Auditors read it; `venuecode audit verify` walks its chain.

use std::sync::Arc;

use serde::Serialize;

use crate::auth::Staff;
use crate::db::audit::{self, AuditEntry, ChainReport};
use crate::db::{DbConnection, DbError};
use crate::state::AppState;

/// An action by a staff member, about `subject` (`venue:17`, `person:3`), touching `count` records.
pub fn by_staff(
    staff: &Staff,
    action: &'static str,
    subject: String,
    count: i64,
) -> AuditEntry<'static> {
    AuditEntry {
        actor: format!("staff:{}", staff.id),
        role: staff.role.as_str(),
        action,
        subject,
        count,
    }
}

/// Appends `entries` in the caller's transaction.
pub fn record(
    state: &AppState,
    conn: &mut DbConnection,
    entries: &[AuditEntry<'_>],
) -> Result<(), DbError> {
    audit::append_many(conn, &state.cipher, entries, state.clock.now_naive())
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Which entries an auditor asks for.
#[derive(Debug, Clone)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub before_seq: Option<i64>,
    pub limit: i64,
}

#[derive(Debug, Serialize)]
pub struct AuditItem {
    seq: i64,
    at: String,
    actor: String,
    role: String,
    action: String,
    subject_hash: String,
    count: i64,
    prev_hash: String,
    hash: String,
}

/// Entries for auditors, newest first.
pub async fn list(
    state: &Arc<AppState>,
    filter: AuditFilter,
) -> Result<Vec<AuditItem>, AuditError> {
    state
        .read(move |state, conn| {
            let rows = audit::list(
                conn,
                filter.action.as_deref(),
                filter.before_seq,
                filter.limit,
            )?;
            Ok(rows
                .into_iter()
                .map(|row| AuditItem {
                    seq: row.seq,
                    at: state.clock.show(row.at),
                    actor: row.actor,
                    role: row.role,
                    action: row.action,
                    subject_hash: row.subject_hash,
                    count: row.count,
                    prev_hash: row.prev_hash,
                    hash: row.hash,
                })
                .collect())
        })
        .await
}

/// Walks the whole chain (the command line's `audit verify`).
pub async fn verify(state: &Arc<AppState>) -> Result<ChainReport, AuditError> {
    state
        .read(|state, conn| Ok(audit::verify(conn, &state.cipher)?))
        .await
}
