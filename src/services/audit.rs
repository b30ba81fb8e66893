//! The audit log: every official access and decision is written here, in the transaction of the
//! action itself, and only here. Auditors read it; `venuecode audit verify` walks its chain.

use std::sync::Arc;

use serde::Serialize;

use crate::auth::Staff;
use crate::db::audit::{self, AuditEntry};
use crate::db::{DbConnection, DbError};
use crate::domain::ChainReport;

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
        region: staff.region.to_string(),
    }
}

/// An operator's change to a staff account at the command line, filed under the account's region
/// so that its auditors see it.
pub fn by_operator(action: &'static str, staff_id: i64, region: &str) -> AuditEntry<'static> {
    AuditEntry {
        actor: "operator".into(),
        role: "operator",
        action,
        subject: format!("staff:{staff_id}"),
        count: 1,
        region: region.to_owned(),
    }
}

/// A mini-program account's act on a venue (a manager handing it over), filed under the venue's
/// region.
pub fn by_account(
    account_id: i64,
    action: &'static str,
    venue_id: i64,
    region: &str,
) -> AuditEntry<'static> {
    AuditEntry {
        actor: format!("account:{account_id}"),
        role: "manager",
        action,
        subject: format!("venue:{venue_id}"),
        count: 1,
        region: region.to_owned(),
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
    pub seq: i64,
    pub region_code: String,
    pub at: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub subject_hash: String,
    pub count: i64,
    pub prev_hash: String,
    pub hash: String,
}

/// The entries of the auditor's region, newest first.
pub async fn list(
    state: &Arc<AppState>,
    auditor: &Staff,
    filter: AuditFilter,
) -> Result<Vec<AuditItem>, AuditError> {
    let region = auditor.region.to_string();
    state
        .read_behind(move |state, conn| {
            let rows = audit::list(
                conn,
                &region,
                filter.action.as_deref(),
                filter.before_seq,
                filter.limit,
            )?;
            Ok(rows
                .into_iter()
                .map(|row| AuditItem {
                    seq: row.seq,
                    region_code: row.region_code,
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

/// Where the chain ends now: written outside the database (to the log, by `venuecode audit
/// anchor` to wherever the operator keeps it), it lets `verify` notice a chain cut short and its
/// head rewritten by someone with access to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
}

impl std::fmt::Display for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl std::str::FromStr for Anchor {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (seq, hash) = text.trim().split_once(':').ok_or_else(|| {
            "an anchor is SEQ:HASH, as `venuecode audit anchor` prints it".to_string()
        })?;
        Ok(Anchor {
            seq: seq
                .parse()
                .map_err(|_| "the anchor's SEQ is not a number".to_string())?,
            hash: hash.to_owned(),
        })
    }
}

pub async fn anchor(state: &Arc<AppState>) -> Result<Anchor, AuditError> {
    let (seq, hash) = state.read(|_, conn| audit::head(conn)).await?;
    Ok(Anchor { seq, hash })
}

/// Walks the whole chain (the command line's `audit verify`); with an anchor taken earlier, also
/// checks that the chain still holds the anchored entry unchanged.
pub async fn verify(
    state: &Arc<AppState>,
    anchor: Option<Anchor>,
) -> Result<ChainReport, AuditError> {
    state
        .read(move |state, conn| {
            let report = audit::verify(conn, &state.cipher)?;
            let Some(anchor) = anchor else {
                return Ok(report);
            };
            if !matches!(report, ChainReport::Intact { .. }) || anchor.seq == 0 {
                return Ok(report);
            }
            let (head_seq, _) = audit::head(conn)?;
            let holds = head_seq >= anchor.seq
                && match audit::hash_at(conn, anchor.seq)? {
                    Some(hash) => hash == anchor.hash,
                    // Deleted by the audit retention period, not cut off.
                    None => audit::oldest_seq(conn)?.is_some_and(|oldest| oldest > anchor.seq),
                };
            Ok(if holds {
                report
            } else {
                ChainReport::Truncated {
                    last_seq: head_seq.min(anchor.seq - 1),
                    head_seq: anchor.seq,
                }
            })
        })
        .await
}
