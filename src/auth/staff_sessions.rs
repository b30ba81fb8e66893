//! Whether a staff session still stands: the account as it is now (read at most a second
//! earlier on any node, through the caches) and the session not ended by logging out.

use std::sync::Arc;

use super::Staff;
use crate::cache::{SessionRecord, StaffRecord};
use crate::db::{staff, DbError};
use crate::domain::RegionCode;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The account was disabled, its role or region changed, or the session was ended.
    #[error("the staff session has ended")]
    Ended,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The staff member a session stands for, as the account is now: a disabled account, a changed
/// role or region, a new session version, or the session ended by logging out ends it.
pub async fn authenticate(
    state: &Arc<AppState>,
    staff_id: i64,
    version: i32,
    session: &str,
) -> Result<Staff, SessionError> {
    let now = state.clock.now();
    let record = match state.caches.staff.get(&staff_id, now) {
        Some(record) => record,
        None => {
            let row = state
                .read(move |_, conn| staff::find(conn, staff_id))
                .await?
                .ok_or(SessionError::Ended)?;
            let record = Arc::new(StaffRecord {
                id: row.id,
                role: row.role,
                region: RegionCode::parse(&row.region_code)
                    .map_err(|_| DbError::Other(format!("staff {}: stored region", row.id)))?,
                session_version: row.session_version,
                disabled: row.disabled_at.is_some(),
            });
            state.caches.staff.put(staff_id, Arc::clone(&record), now);
            record
        }
    };
    if record.disabled || record.session_version != version {
        return Err(SessionError::Ended);
    }
    let recorded = match state.caches.staff_sessions.get(&session.to_owned(), now) {
        Some(recorded) => recorded,
        None => {
            let id = session.to_owned();
            let row = state
                .read(move |_, conn| staff::find_session(conn, &id))
                .await?
                .ok_or(SessionError::Ended)?;
            let recorded = Arc::new(SessionRecord {
                staff_id: row.staff_id,
                ended: row.ended_at.is_some(),
            });
            state
                .caches
                .staff_sessions
                .put(session.to_owned(), Arc::clone(&recorded), now);
            recorded
        }
    };
    if recorded.ended || recorded.staff_id != staff_id {
        return Err(SessionError::Ended);
    }
    Ok(Staff {
        id: record.id,
        role: record.role,
        region: record.region.clone(),
        session: session.to_owned(),
    })
}
