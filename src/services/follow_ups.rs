//! Follow-up tasks: the street office or community of a region follows up every yellow or red
//! person who scanned in at one of its venues or was given that colour by one of its officials
//! (Taiyuan: 黄码由驻地街办、社区落实后续追踪管理；红码报驻地防控办). Registrars and health
//! officials of the region list them, in full (they act on them; the reading is audited), and
//! close them with an outcome.

use std::sync::Arc;

use serde::Serialize;

use super::audit;
use crate::auth::Staff;
use crate::crypto::Field;
use crate::db::{follow_ups, persons, DbError};
use crate::domain::{
    required_text, FieldCode, FieldError, FieldErrors, FollowUpCause, FollowUpStatus, HealthColor,
    IdType, PageRequest,
};
use crate::state::AppState;

/// The longest outcome a task may be closed with.
const MAX_OUTCOME_CHARS: usize = 500;

/// How a task was handled, as typed: trimmed, 1–500 characters, line breaks but no other hidden
/// characters (the rule of every note).
pub fn outcome(text: &str) -> Result<String, FieldErrors> {
    let mut errors = FieldErrors::default();
    let error = FieldError::new(
        FieldCode::OutcomeInvalid,
        format!("处置结果须为1至{MAX_OUTCOME_CHARS}字，不能含控制字符"),
    );
    let outcome = required_text(&mut errors, "outcome", text, MAX_OUTCOME_CHARS, error);
    errors.into_result(outcome)
}

#[derive(Debug, thiserror::Error)]
pub enum FollowUpError {
    #[error("no such follow-up task in this region")]
    NotFound,
    #[error("the task is closed already")]
    Closed,
    #[error(transparent)]
    Db(#[from] DbError),
}

#[derive(Debug, Serialize)]
pub struct FollowUpPerson {
    pub name: String,
    /// `None` with the number for someone registered by hand with a mobile number only.
    pub id_type: Option<IdType>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct FollowUpView {
    pub id: i64,
    pub status: FollowUpStatus,
    pub color: HealthColor,
    pub cause: FollowUpCause,
    pub region_code: String,
    pub person: FollowUpPerson,
    /// For a scan: where.
    pub venue_id: Option<i64>,
    pub venue: Option<String>,
    pub created_at: String,
    pub closed_at: Option<String>,
    pub outcome: Option<String>,
}

/// The tasks of the staff member's region, newest first; `None` for every status.
pub async fn list(
    state: &Arc<AppState>,
    staff: &Staff,
    status: Option<FollowUpStatus>,
    page: PageRequest,
) -> Result<(Vec<FollowUpView>, Option<String>), FollowUpError> {
    let staff = staff.clone();
    state
        .write(move |state, conn| {
            let rows = follow_ups::in_region(conn, &staff.region, status, page)?;
            let (rows, next) = page.cut(rows, |row| row.id);
            let mut ids: Vec<i64> = rows.iter().map(|r| r.person_id).collect();
            ids.sort_unstable();
            ids.dedup();
            let people = persons::contacts(conn, &state.cipher, &ids)?;
            let mut items = Vec::with_capacity(rows.len());
            for row in rows {
                let person = people.get(&row.person_id).cloned().unwrap_or_default();
                let outcome = match &row.outcome_sealed {
                    Some(sealed) => Some(
                        state
                            .cipher
                            .open(Field::Note, sealed)
                            .map_err(|e| DbError::Other(format!("follow-up {}: {e}", row.id)))?,
                    ),
                    None => None,
                };
                items.push(FollowUpView {
                    id: row.id,
                    status: row.status,
                    color: row.color,
                    cause: row.cause,
                    region_code: row.region_code,
                    person: FollowUpPerson {
                        name: person.name,
                        id_type: person.id_type,
                        id_number: person.id_number,
                        phone: person.phone,
                    },
                    venue_id: row.venue_id,
                    venue: row.venue,
                    created_at: state.clock.show(row.created_at),
                    closed_at: row.closed_at.map(|t| state.clock.show(t)),
                    outcome,
                });
            }
            if !items.is_empty() {
                let subject = format!("follow_ups:{}", staff.region);
                let entry = audit::by_staff(&staff, "follow_up.read", subject, ids.len() as i64);
                audit::record(state, conn, &[entry])?;
            }
            Ok((items, next))
        })
        .await
}

/// Closes an open task of the staff member's region with how it was handled.
pub async fn close(
    state: &Arc<AppState>,
    staff: &Staff,
    id: i64,
    outcome: String,
) -> Result<(), FollowUpError> {
    let staff = staff.clone();
    state
        .write(move |state, conn| {
            let (region, status) = follow_ups::find(conn, id)?
                .filter(|(region, _)| staff.covers(region))
                .ok_or(FollowUpError::NotFound)?;
            let now = state.clock.now_naive();
            if status != FollowUpStatus::Open
                || !follow_ups::close(conn, &state.cipher, id, staff.id, &outcome, now)?
            {
                return Err(FollowUpError::Closed);
            }
            let entry = audit::by_staff(&staff, "follow_up.close", format!("follow_up:{id}"), 1);
            let mut entry = entry;
            entry.region = region;
            audit::record(state, conn, &[entry])?;
            Ok(())
        })
        .await
}
