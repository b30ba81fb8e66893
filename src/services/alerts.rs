//! Red-code alerts for the health officials of the venue's region: who is being held, where.
//! Reading them is an official access to people's data, audited; closing one records how it was
//! handled.

use std::sync::Arc;

use serde::Serialize;

use super::audit;
use crate::auth::Staff;
use crate::crypto::Field;
use crate::db::alerts::{self, AlertRow};
use crate::db::{persons, venues, DbConnection, DbError};
use crate::domain::AlertStatus;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("no such alert in this region")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

#[derive(Debug, Serialize)]
pub struct AlertVenue {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub region_code: String,
}

#[derive(Debug, Serialize)]
pub struct AlertPerson {
    pub name: String,
    pub id_number: String,
    pub phone: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AlertView {
    pub id: i64,
    pub status: AlertStatus,
    pub created_at: String,
    pub closed_at: Option<String>,
    pub note: Option<String>,
    pub check_in_id: i64,
    pub venue: AlertVenue,
    /// In full: officials act on it.
    pub person: AlertPerson,
}

fn view(state: &AppState, conn: &mut DbConnection, alert: AlertRow) -> Result<AlertView, DbError> {
    let venue = venues::find(conn, alert.venue_id)?
        .ok_or_else(|| DbError::Other(format!("alert {}: its venue is gone", alert.id)))?;
    let person = persons::contacts(conn, &state.cipher, &[alert.person_id])?
        .remove(&alert.person_id)
        .ok_or_else(|| DbError::Other(format!("alert {}: its person is gone", alert.id)))?;
    let note = alert
        .note
        .map(|sealed| state.cipher.open(Field::Note, &sealed))
        .transpose()
        .map_err(|e| DbError::Other(format!("alert {}: {e}", alert.id)))?;
    Ok(AlertView {
        id: alert.id,
        status: alert.status,
        created_at: state.clock.show(alert.created_at),
        closed_at: alert.closed_at.map(|t| state.clock.show(t)),
        note,
        check_in_id: alert.check_in_id,
        venue: AlertVenue {
            id: venue.id,
            name: venue.name,
            address: venue.address,
            region_code: venue.region_code,
        },
        person: AlertPerson {
            name: person.name,
            id_number: person.id_number,
            phone: person.phone,
        },
    })
}

/// The alerts of the official's region, newest first; `None` for every status.
pub async fn list(
    state: &Arc<AppState>,
    official: &Staff,
    status: Option<AlertStatus>,
) -> Result<Vec<AlertView>, AlertError> {
    let official = official.clone();
    state
        .write(move |state, conn| {
            let items = alerts::in_region(conn, &official.region, status)?
                .into_iter()
                .map(|alert| view(state, conn, alert))
                .collect::<Result<Vec<_>, _>>()?;
            if !items.is_empty() {
                let subject = format!("alerts:{}", official.region);
                let entry = audit::by_staff(&official, "alert.read", subject, items.len() as i64);
                audit::record(state, conn, &[entry])?;
            }
            Ok(items)
        })
        .await
}

/// Closes an alert of the official's region with a note on how it was handled.
pub async fn close(
    state: &Arc<AppState>,
    official: &Staff,
    alert_id: i64,
    note: String,
) -> Result<AlertView, AlertError> {
    let official = official.clone();
    state
        .write(move |state, conn| {
            alerts::find(conn, alert_id)?
                .filter(|a| official.covers(&a.region_code))
                .ok_or(AlertError::NotFound)?;
            let now = state.clock.now_naive();
            alerts::close(conn, &state.cipher, alert_id, official.id, &note, now)?;
            let entry = audit::by_staff(&official, "alert.close", format!("alert:{alert_id}"), 1);
            audit::record(state, conn, &[entry])?;
            let alert = alerts::find(conn, alert_id)?.ok_or(AlertError::NotFound)?;
            Ok(view(state, conn, alert)?)
        })
        .await
}
