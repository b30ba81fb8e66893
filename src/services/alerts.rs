//! Alerts for the health officials of a venue's region: a red code scanned at the door (who is
//! being held, where), or a referral of the contacts another region's trace found at one of its
//! venues. Reading them is an official access to people's data, audited; closing one records how
//! it was handled.

use std::sync::Arc;

use serde::Serialize;

use super::audit;
use super::traces::Contact;
use crate::auth::Staff;
use crate::crypto::Field;
use crate::db::alerts::{self, AlertRow};
use crate::db::{persons, regions, venues, DbConnection, DbError};
use crate::domain::{
    required_text, AlertKind, AlertStatus, FieldCode, FieldError, FieldErrors, IdType, PageRequest,
};
use crate::state::AppState;

/// The longest note an alert is closed with, in characters.
const MAX_NOTE_CHARS: usize = 500;

/// The note an alert is closed with, as typed: trimmed, 1–500 characters, line breaks but no
/// other hidden characters (the rule of every note).
pub fn note(text: &str) -> Result<String, FieldErrors> {
    let mut errors = FieldErrors::default();
    let error = FieldError::new(
        FieldCode::NoteRequired,
        format!("请填写处置情况（最多{MAX_NOTE_CHARS}字，不能含控制字符）"),
    );
    let note = required_text(&mut errors, "note", text, MAX_NOTE_CHARS, error);
    errors.into_result(note)
}

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
    /// `None` with the number for someone registered by hand with a mobile number only.
    pub id_type: Option<IdType>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
}

/// A contact another region's trace found at the venue, in full.
#[derive(Debug, Serialize)]
pub struct ReferredContact {
    pub level: u8,
    pub name: String,
    /// `None` with the number for someone registered by hand with a mobile number only.
    pub id_type: Option<IdType>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub entrance: String,
    pub overlap_from: String,
    pub overlap_to: String,
    pub check_in_id: i64,
}

#[derive(Debug, Serialize)]
pub struct ReferralView {
    pub trace_id: i64,
    /// The region whose trace found them.
    pub from_region_code: String,
    pub from_region: String,
    /// Distinct people.
    pub people: i64,
    pub contacts: Vec<ReferredContact>,
}

#[derive(Debug, Serialize)]
pub struct AlertView {
    pub id: i64,
    pub kind: AlertKind,
    pub status: AlertStatus,
    pub created_at: String,
    pub closed_at: Option<String>,
    pub note: Option<String>,
    pub venue: AlertVenue,
    /// A red scan: the check-in and the person, in full (officials act on it).
    pub check_in_id: Option<i64>,
    pub person: Option<AlertPerson>,
    /// A referral: the contacts found at the venue.
    pub referral: Option<ReferralView>,
}

fn view(state: &AppState, conn: &mut DbConnection, alert: AlertRow) -> Result<AlertView, DbError> {
    let venue = venues::find(conn, alert.venue_id)?
        .ok_or_else(|| DbError::Other(format!("alert {}: its venue is gone", alert.id)))?;
    let person = match alert.person_id {
        Some(person_id) => {
            let person = persons::contacts(conn, &state.cipher, &[person_id])?
                .remove(&person_id)
                .ok_or_else(|| DbError::Other(format!("alert {}: its person is gone", alert.id)))?;
            Some(AlertPerson {
                name: person.name,
                id_type: person.id_type,
                id_number: person.id_number,
                phone: person.phone,
            })
        }
        None => None,
    };
    let referral = referral_of(state, conn, &alert)?;
    let note = alert
        .note
        .map(|sealed| state.cipher.open(Field::Note, &sealed))
        .transpose()
        .map_err(|e| DbError::Other(format!("alert {}: {e}", alert.id)))?;
    Ok(AlertView {
        id: alert.id,
        kind: alert.kind,
        status: alert.status,
        created_at: state.clock.show(alert.created_at),
        closed_at: alert.closed_at.map(|t| state.clock.show(t)),
        note,
        venue: AlertVenue {
            id: venue.id,
            name: venue.name,
            address: venue.address,
            region_code: venue.region_code,
        },
        check_in_id: alert.check_in_id,
        person,
        referral,
    })
}

/// A referral's contacts, opened.
fn referral_of(
    state: &AppState,
    conn: &mut DbConnection,
    alert: &AlertRow,
) -> Result<Option<ReferralView>, DbError> {
    let (Some(trace_id), Some(from), Some(sealed)) = (
        alert.trace_id,
        &alert.from_region_code,
        &alert.details_sealed,
    ) else {
        return Ok(None);
    };
    let broken = |e: String| DbError::Other(format!("alert {}: {e}", alert.id));
    let json = state
        .cipher
        .open(Field::TraceResult, sealed)
        .map_err(|e| broken(e.to_string()))?;
    let contacts: Vec<Contact> = serde_json::from_str(&json).map_err(|e| broken(e.to_string()))?;
    let clock = &state.clock;
    Ok(Some(ReferralView {
        trace_id,
        from_region_code: from.clone(),
        from_region: regions::full_name_of(conn, from)?,
        people: alert.contact_count,
        contacts: contacts
            .into_iter()
            .map(|c| ReferredContact {
                level: c.level,
                name: c.person.name,
                id_type: c.person.id_type,
                id_number: c.person.id_number,
                phone: c.person.phone,
                entrance: c.entrance,
                overlap_from: clock.show(c.overlap_from),
                overlap_to: clock.show(c.overlap_to),
                check_in_id: c.check_in_id,
            })
            .collect(),
    }))
}

/// The alerts of the official's region, newest first; `None` for every status.
pub async fn list(
    state: &Arc<AppState>,
    official: &Staff,
    status: Option<AlertStatus>,
    page: PageRequest,
) -> Result<(Vec<AlertView>, Option<String>), AlertError> {
    let official = official.clone();
    state
        .write(move |state, conn| {
            let (rows, next) = page.cut(
                alerts::in_region(conn, &official.region, status, page)?,
                |row| row.id,
            );
            let items = rows
                .into_iter()
                .map(|alert| view(state, conn, alert))
                .collect::<Result<Vec<_>, _>>()?;
            if !items.is_empty() {
                let subject = format!("alerts:{}", official.region);
                let entry = audit::by_staff(&official, "alert.read", subject, items.len() as i64);
                audit::record(state, conn, &[entry])?;
            }
            Ok((items, next))
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
