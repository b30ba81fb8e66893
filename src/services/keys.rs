//! Rotating the personal-data key: `venuecode keys reseal` moves every sealed value, its lookup
//! hash and every audit entry to the current key while the server serves; `venuecode keys status`
//! says what is still under another key, so that one knows when an old key can be removed.

use std::sync::Arc;
use std::time::Duration;

use crate::db::audit;
use crate::db::reseal::{self, Cursor, Resealed, SEALED};
use crate::db::DbError;
use crate::domain::ChainReport;
use crate::services::audit::{Anchor, AuditError};
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The audit chain is not intact before the reseal: moving its entries to the new key would
    /// hide what changed.
    #[error("the audit chain is not intact ({0:?}); run `venuecode audit verify` and investigate before resealing")]
    ChainNotIntact(ChainReport),
    /// An audit entry no longer matches its hash: it is not moved to the new key, since that
    /// would vouch for a changed entry.
    #[error("audit entry seq {seq} does not match its hash; run `venuecode audit verify` and investigate before resealing")]
    AuditChanged { seq: i64 },
    #[error("audit entry seq {seq} was made under the key `{key_id}`, which is not configured; put it back in PII_KEYS to reseal")]
    AuditKeyMissing { seq: i64, key_id: String },
}

/// How to pace a reseal.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Rows per transaction.
    pub batch: i64,
    /// Rest between batches, to leave the database to the server.
    pub pause: Duration,
}

/// What is still not under the current key: `table.column` and how many values, audit entries
/// last (as `audit_log`).
pub async fn status(state: &Arc<AppState>) -> Result<Vec<(String, i64)>, KeysError> {
    Ok(state
        .read(|state, conn| {
            let current = state.cipher.current_id();
            let mut counts = Vec::with_capacity(SEALED.len() + 1);
            for column in SEALED {
                counts.push((
                    format!("{}.{}", column.table, column.column),
                    reseal::count_not_under(conn, column, current)?,
                ));
            }
            counts.push((
                "audit_log".to_owned(),
                audit::count_not_under(conn, current)?,
            ));
            Ok::<_, DbError>(counts)
        })
        .await?)
}

/// A batch that fails (a deadlock with the server's writes, a busy database, a failover) is
/// tried again this many times, a little later each time, before the reseal gives up.
const BATCH_ATTEMPTS: u32 = 5;

/// Verifies the audit chain (against `anchor` too, when given), reseals every column, then moves
/// the audit entries; `progress` hears of each column when it is done. Values the server writes
/// meanwhile are under the current key already.
pub async fn reseal(
    state: &Arc<AppState>,
    pace: Pace,
    anchor: Option<Anchor>,
    progress: impl Fn(&str, Resealed),
) -> Result<Vec<(String, Resealed)>, KeysError> {
    match crate::services::audit::verify(state, anchor).await? {
        ChainReport::Intact { .. } => {}
        report => return Err(KeysError::ChainNotIntact(report)),
    }
    let mut report = Vec::with_capacity(SEALED.len() + 1);
    for (index, column) in SEALED.iter().enumerate() {
        let mut total = Resealed::default();
        let mut cursor = Cursor::Start;
        while cursor != Cursor::Done {
            let after = cursor.clone();
            let (done, next) = with_retries(|| {
                let after = after.clone();
                state.write(move |state, conn| {
                    reseal::batch(conn, &state.cipher, &SEALED[index], &after, pace.batch)
                })
            })
            .await?;
            total.values += done.values;
            total.skipped += done.skipped;
            cursor = next;
            rest(pace).await;
        }
        let name = format!("{}.{}", column.table, column.column);
        progress(&name, total);
        report.push((name, total));
    }
    let audited = rekey_audit(state, pace).await?;
    progress("audit_log", audited);
    report.push(("audit_log".to_owned(), audited));
    Ok(report)
}

/// Moves audit entries to the current key, each checked under its own first.
async fn rekey_audit(state: &Arc<AppState>, pace: Pace) -> Result<Resealed, KeysError> {
    let mut total = Resealed::default();
    let mut after = i64::MIN;
    loop {
        let (done, last) = state
            .write(move |state, conn| {
                let rows = audit::not_under(conn, state.cipher.current_id(), after, pace.batch)?;
                let mut done = Resealed::default();
                for row in &rows {
                    match row.is_intact(&state.cipher) {
                        Some(true) => {}
                        Some(false) => return Err(KeysError::AuditChanged { seq: row.seq }),
                        None => {
                            return Err(KeysError::AuditKeyMissing {
                                seq: row.seq,
                                key_id: row.key_id.clone(),
                            })
                        }
                    }
                    if audit::rekey(conn, &state.cipher, row)? {
                        done.values += 1;
                    } else {
                        done.skipped += 1;
                    }
                }
                Ok((done, rows.last().map(|row| row.seq)))
            })
            .await?;
        total.values += done.values;
        total.skipped += done.skipped;
        match last {
            Some(seq) => after = seq,
            None => return Ok(total),
        }
        rest(pace).await;
    }
}

/// Runs one batch, again after a pause when the database failed it for a reason that may pass.
async fn with_retries<T, F, Fut>(mut batch: F) -> Result<T, DbError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, DbError>>,
{
    let mut attempt = 1;
    loop {
        match batch().await {
            Err(error) if attempt < BATCH_ATTEMPTS && !error.is_unique_violation() => {
                tracing::warn!(%error, attempt, "reseal batch failed; trying it again");
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

async fn rest(pace: Pace) {
    if !pace.pause.is_zero() {
        tokio::time::sleep(pace.pause).await;
    }
}
