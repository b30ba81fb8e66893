//! The use cases, one module per capability. Each function takes the state and the caller it
//! needs and a parsed input, owns its transaction and its audit entry, and returns its own typed
//! error; none knows about HTTP.

pub mod accounts;
pub mod alerts;
pub mod audit;
pub mod authorize;
pub mod cache_sync;
pub mod check_ins;
pub mod companions;
pub mod delivery;
pub mod entrances;
pub mod follow_ups;
pub mod health_code_imports;
pub mod health_codes;
pub mod identity;
pub mod keys;
pub mod manual_check_ins;
pub mod notifications;
pub mod paper_codes;
pub mod paper_scans;
pub mod passes;
pub mod personal_data;
pub mod regions;
pub mod retention;
pub mod reviews;
pub mod risk_windows;
pub mod scan;
pub mod staff;
pub mod stats;
pub mod test_results;
pub mod traces;
pub mod venue_codes;
pub mod venue_error;
pub mod venue_imports;
pub mod venue_staff;
pub mod venues;
pub mod visitors;

/// Readiness: the database answers and takes a write.
pub async fn readiness(
    state: &std::sync::Arc<crate::state::AppState>,
) -> Result<(), crate::db::DbError> {
    let now = state.clock.now_naive();
    state
        .write(move |_, conn| crate::db::probe_write(conn, now))
        .await
}
