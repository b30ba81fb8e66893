//! Tracing a case (health officials): who shared a venue with them and when, stored sealed as a
//! trace; read back, exported as CSV that no spreadsheet can run, and acted on with colour changes
//! that need a second official above `TRACE_CONFIRM_THRESHOLD` people. Every step is audited.
//!
//! An official traces only a case of their region, sees in full only the contacts at their
//! region's venues, and changes only their colours; contacts elsewhere are counted per region and
//! referred to that region's officials as an alert.

mod contacts;

use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::Serialize;

pub use contacts::Contact;
use contacts::{Elsewhere, Referral, Search, TraceResult};

use super::health_codes;
use super::{audit, authorize};
use crate::auth::Staff;
use crate::crypto::Field;
use crate::db::alerts::{self, NewReferral};
use crate::db::health_codes::ColorChange;
use crate::db::traces::{self, ColorChangeRow, NewColorChange, NewTrace, TraceRow};
use crate::db::{DbConnection, DbError};
use crate::domain::{
    ChangeStatus, FieldCode, FieldError, FieldErrors, HealthColor, HealthReason, IdDocument,
    IdType, Retained,
};
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("the case has no record")]
    CaseUnknown,
    #[error("no such trace or colour change in this region")]
    NotFound,
    #[error("the change must be confirmed by another official")]
    SecondOfficialRequired,
    #[error("the change was already applied")]
    ChangeNotPending,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What an official asks to trace, validated at the edge.
#[derive(Debug, Clone)]
pub struct TraceQuery {
    pub document: IdDocument,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    /// 1: contacts of the case; 2: also the contacts of those.
    pub depth: u8,
}

/// A trace as it was asked for, times already read (`None` for a time that was not readable).
pub struct TraceWindow<'a> {
    pub id_type: Option<&'a str>,
    pub id_number: &'a str,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub depth: u8,
}

impl TraceQuery {
    /// Checks what was asked: a valid document, depth 1 or 2, a window that ends after it starts,
    /// spans at most the retention period and starts inside it. Every bad field is added to
    /// `errors`.
    pub fn check(
        errors: &mut FieldErrors,
        asked: TraceWindow<'_>,
        retained: Retained,
    ) -> Option<Self> {
        let document = IdDocument::check(errors, "", asked.id_type, asked.id_number);
        if !(1..=2).contains(&asked.depth) {
            errors.add(
                "depth",
                FieldError::new(FieldCode::DepthInvalid, "depth 只能是 1 或 2"),
            );
        }
        let (from, to) = retained.check(errors, asked.from, asked.to, "追踪")?;
        Some(TraceQuery {
            document: document?,
            from,
            to,
            depth: asked.depth,
        })
    }
}

/// A colour for a trace's contacts, validated at the edge.
#[derive(Debug, Clone, Copy)]
pub struct ContactsColor {
    pub color: HealthColor,
    pub reason: HealthReason,
    /// 1 or 2; every level when `None`.
    pub level: Option<u8>,
}

#[derive(Debug, Serialize)]
pub struct PersonView {
    pub name: String,
    /// `None` with the number for someone registered by hand with a mobile number only.
    pub id_type: Option<IdType>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct StayView {
    pub check_in_id: i64,
    pub venue: String,
    pub address: String,
    pub entrance: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Serialize)]
pub struct ContactView {
    pub level: u8,
    pub name: String,
    /// `None` with the number for someone registered by hand with a mobile number only.
    pub id_type: Option<IdType>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub venue: String,
    pub entrance: String,
    pub overlap_from: String,
    pub overlap_to: String,
    pub check_in_id: i64,
}

#[derive(Debug, Serialize)]
pub struct LevelView {
    pub level: u8,
    pub people: usize,
}

/// A trace as officials see it: people in full.
#[derive(Debug, Serialize)]
pub struct TraceView {
    pub trace_id: i64,
    pub created_at: String,
    pub case: PersonView,
    pub from: String,
    pub to: String,
    pub depth: u8,
    pub truncated: bool,
    pub stays: Vec<StayView>,
    pub levels: Vec<LevelView>,
    /// Contacts at venues of the official's region.
    pub contacts: Vec<ContactView>,
    /// Contacts at other regions' venues: counts only; those regions got a referral.
    pub elsewhere: Vec<Elsewhere>,
}

#[derive(Debug, Serialize)]
pub struct ColorChangeView {
    pub id: i64,
    pub trace_id: i64,
    pub status: ChangeStatus,
    pub color: HealthColor,
    pub reason_code: HealthReason,
    pub level: Option<i32>,
    pub person_count: i64,
    /// Changes above this many people wait for a second official of the region.
    pub confirm_threshold: u32,
}

fn view(state: &AppState, row: &TraceRow, result: &TraceResult) -> TraceView {
    let clock = &state.clock;
    TraceView {
        trace_id: row.id,
        created_at: clock.show(row.created_at),
        case: PersonView {
            name: result.case.name.clone(),
            id_type: result.case.id_type,
            id_number: result.case.id_number.clone(),
            phone: result.case.phone.clone(),
        },
        from: clock.show(result.from),
        to: clock.show(result.to),
        depth: result.depth,
        truncated: result.truncated,
        stays: result
            .stays
            .iter()
            .map(|s| StayView {
                check_in_id: s.check_in_id,
                venue: s.venue.clone(),
                address: s.address.clone(),
                entrance: s.entrance.clone(),
                from: clock.show(s.from),
                to: clock.show(s.to),
            })
            .collect(),
        levels: contacts::level_counts(result)
            .into_iter()
            .map(|(level, people)| LevelView { level, people })
            .collect(),
        contacts: result
            .contacts
            .iter()
            .map(|c| contact_view(state, c))
            .collect(),
        elsewhere: result.elsewhere.clone(),
    }
}

fn contact_view(state: &AppState, contact: &Contact) -> ContactView {
    ContactView {
        level: contact.level,
        name: contact.person.name.clone(),
        id_type: contact.person.id_type,
        id_number: contact.person.id_number.clone(),
        phone: contact.person.phone.clone(),
        venue: contact.venue.clone(),
        entrance: contact.entrance.clone(),
        overlap_from: state.clock.show(contact.overlap_from),
        overlap_to: state.clock.show(contact.overlap_to),
        check_in_id: contact.check_in_id,
    }
}

/// Traces a case of the official's region and stores the result, sealed, for that region; the
/// contacts at other regions' venues go to those regions as referrals.
pub async fn create(
    state: &Arc<AppState>,
    official: &Staff,
    query: TraceQuery,
) -> Result<TraceView, TraceError> {
    let official = official.clone();
    let started = std::time::Instant::now();
    let (row, result) = state
        .read(move |state, conn| {
            let case = authorize::person(state, conn, &official, &query.document)?
                .ok_or(TraceError::CaseUnknown)?;
            let (result, referrals) = contacts::trace(
                conn,
                &state.cipher,
                &Search {
                    case_id: case.id,
                    from: query.from,
                    to: query.to,
                    since: state.retained().since,
                    depth: query.depth,
                    scope: &official.region,
                },
            )?;
            let json = serde_json::to_string(&result).map_err(|e| DbError::Other(e.to_string()))?;
            let row = crate::db::write_transaction(conn, |conn| {
                let row = traces::insert(
                    conn,
                    &state.cipher,
                    &NewTrace {
                        created_by: official.id,
                        region_code: official.region.as_ref(),
                        case_person_id: case.id,
                        from: query.from,
                        to: query.to,
                        depth: i32::from(query.depth),
                        contact_count: result.contacts.len() as i64,
                        result_json: &json,
                        created_at: state.clock.now_naive(),
                    },
                )?;
                let mut entries = vec![audit::by_staff(
                    &official,
                    "trace.create",
                    format!("person:{}", case.id),
                    result.contacts.len() as i64,
                )];
                for referral in &referrals {
                    refer(state, conn, &official, row.id, referral)?;
                    entries.push(audit::by_staff(
                        &official,
                        "trace.refer",
                        format!("venue:{}", referral.venue_id),
                        referral.contacts.len() as i64,
                    ));
                }
                audit::record(state, conn, &entries)?;
                Ok::<_, DbError>(row)
            })?;
            Ok::<_, TraceError>((row, result))
        })
        .await?;
    tracing::info!(
        trace_id = row.id,
        contacts = result.contacts.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "trace"
    );
    Ok(view(state, &row, &result))
}

/// Hands the contacts found at another region's venue to that region's officials.
fn refer(
    state: &AppState,
    conn: &mut DbConnection,
    official: &Staff,
    trace_id: i64,
    referral: &Referral,
) -> Result<(), DbError> {
    let details =
        serde_json::to_string(&referral.contacts).map_err(|e| DbError::Other(e.to_string()))?;
    let people = referral
        .contacts
        .iter()
        .map(|c| c.person.person_id)
        .collect::<std::collections::HashSet<_>>()
        .len();
    alerts::raise_referral(
        conn,
        &state.cipher,
        &NewReferral {
            venue_id: referral.venue_id,
            region_code: &referral.region_code,
            trace_id,
            from_region_code: official.region.as_ref(),
            contact_count: people as i64,
            details_json: &details,
        },
        state.clock.now_naive(),
    )?;
    Ok(())
}

/// A stored trace, for officials of the region it was made in; audited as `action`.
fn load(
    state: &AppState,
    conn: &mut DbConnection,
    official: &Staff,
    trace_id: i64,
    action: &'static str,
) -> Result<(TraceRow, TraceResult), TraceError> {
    let row = traces::find(conn, trace_id)?
        .filter(|row| official.covers(&row.region_code))
        .ok_or(TraceError::NotFound)?;
    let json = state
        .cipher
        .open(Field::TraceResult, &row.result_sealed)
        .map_err(|e| DbError::Other(format!("trace {trace_id}: {e}")))?;
    let mut result: TraceResult = serde_json::from_str(&json)
        .map_err(|e| DbError::Other(format!("trace {trace_id}: {e}")))?;
    // A stored trace outlives the oldest stays it found by up to the retention period: those that
    // ended before it are no longer shown (nor exported), as if the purge had taken them.
    let since = state.retained().since;
    result
        .contacts
        .retain(|contact| contact.overlap_to >= since);
    let entry = audit::by_staff(
        official,
        action,
        format!("trace:{trace_id}"),
        result.contacts.len() as i64,
    );
    audit::record(state, conn, &[entry])?;
    Ok((row, result))
}

pub async fn get(
    state: &Arc<AppState>,
    official: &Staff,
    trace_id: i64,
) -> Result<TraceView, TraceError> {
    let official = official.clone();
    state
        .write(move |state, conn| {
            let (row, result) = load(state, conn, &official, trace_id, "trace.read")?;
            Ok(view(state, &row, &result))
        })
        .await
}

/// A cell that a spreadsheet cannot run: quoted, and prefixed with `'` when it starts like a
/// formula (`=`, `+`, `-`, `@`, tab, carriage return).
pub fn csv_cell(value: &str) -> String {
    let neutral = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    };
    format!("\"{}\"", neutral.replace('"', "\"\""))
}

pub fn csv_line(cells: &[&str]) -> String {
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// The trace's contacts as CSV: UTF-8 with a byte-order mark, so spreadsheets show Chinese.
pub async fn export_csv(
    state: &Arc<AppState>,
    official: &Staff,
    trace_id: i64,
) -> Result<String, TraceError> {
    let official = official.clone();
    state
        .write(move |state, conn| {
            let (_, result) = load(state, conn, &official, trace_id, "trace.export")?;
            let mut csv = String::from("\u{feff}");
            csv.push_str(&csv_line(&[
                "层级",
                "姓名",
                "证件号码",
                "手机号",
                "场所",
                "入口",
                "重叠开始",
                "重叠结束",
            ]));
            for contact in &result.contacts {
                let c = contact_view(state, contact);
                csv.push_str(&csv_line(&[
                    &c.level.to_string(),
                    &c.name,
                    c.id_number.as_deref().unwrap_or_default(),
                    c.phone.as_deref().unwrap_or_default(),
                    &c.venue,
                    &c.entrance,
                    &c.overlap_from,
                    &c.overlap_to,
                ]));
            }
            Ok(csv)
        })
        .await
}

fn change_view(state: &AppState, row: ColorChangeRow) -> ColorChangeView {
    ColorChangeView {
        id: row.id,
        trace_id: row.trace_id,
        status: row.status,
        color: row.color,
        reason_code: row.reason_code,
        level: row.level,
        person_count: row.person_count,
        confirm_threshold: state.settings.trace_confirm_threshold,
    }
}

fn apply_to_people(
    state: &AppState,
    conn: &mut DbConnection,
    official: &Staff,
    people: &[i64],
    color: HealthColor,
    reason: HealthReason,
    trace_id: i64,
) -> Result<(), DbError> {
    let changes: Vec<ColorChange> = people
        .iter()
        .map(|&person_id| ColorChange {
            person_id,
            color,
            reason,
            note: Some(format!("trace:{trace_id}")),
        })
        .collect();
    health_codes::apply(state, conn, official, &changes)
}

/// Sets a colour for the trace's contacts: at once up to the threshold, otherwise pending until
/// another official of the region confirms.
pub async fn request_color_change(
    state: &Arc<AppState>,
    official: &Staff,
    trace_id: i64,
    change: ContactsColor,
) -> Result<ColorChangeView, TraceError> {
    let official = official.clone();
    state
        .write(move |state, conn| {
            let (_, result) = load(state, conn, &official, trace_id, "trace.read")?;
            let people = result.people(change.level);
            let applied = people.len() <= state.settings.trace_confirm_threshold as usize;
            if applied {
                apply_to_people(
                    state,
                    conn,
                    &official,
                    &people,
                    change.color,
                    change.reason,
                    trace_id,
                )?;
            }
            let row = traces::insert_color_change(
                conn,
                &NewColorChange {
                    trace_id,
                    level: change.level.map(i32::from),
                    color: change.color,
                    reason: change.reason,
                    person_count: people.len() as i64,
                    applied,
                    requested_by: official.id,
                },
                state.clock.now_naive(),
            )?;
            Ok(change_view(state, row))
        })
        .await
}

/// A colour change of a trace, with who asked for it.
#[derive(Debug)]
pub struct RequestedChange {
    pub change: ColorChangeView,
    pub requested_by: i64,
    pub requested_at: String,
}

/// The colour changes asked for a trace of the official's region, oldest first.
pub async fn color_changes(
    state: &Arc<AppState>,
    official: &Staff,
    trace_id: i64,
) -> Result<Vec<RequestedChange>, TraceError> {
    let official = official.clone();
    state
        .read(move |state, conn| {
            traces::find(conn, trace_id)?
                .filter(|row| official.covers(&row.region_code))
                .ok_or(TraceError::NotFound)?;
            Ok(traces::color_changes_of(conn, trace_id)?
                .into_iter()
                .map(|row| RequestedChange {
                    requested_by: row.requested_by,
                    requested_at: state.clock.show(row.requested_at),
                    change: change_view(state, row),
                })
                .collect())
        })
        .await
}

/// A second official of the region confirms a pending change; it is applied then.
pub async fn confirm_color_change(
    state: &Arc<AppState>,
    official: &Staff,
    trace_id: i64,
    change_id: i64,
) -> Result<ColorChangeView, TraceError> {
    let official = official.clone();
    state
        .write(move |state, conn| {
            let (_, result) = load(state, conn, &official, trace_id, "trace.read")?;
            let change = traces::find_color_change(conn, change_id)?
                .filter(|c| c.trace_id == trace_id)
                .ok_or(TraceError::NotFound)?;
            if change.requested_by == official.id {
                return Err(TraceError::SecondOfficialRequired);
            }
            let now = state.clock.now_naive();
            if change.status != ChangeStatus::Pending
                || !traces::mark_applied(conn, change_id, official.id, now)?
            {
                return Err(TraceError::ChangeNotPending);
            }
            let level = change.level.and_then(|l| u8::try_from(l).ok());
            apply_to_people(
                state,
                conn,
                &official,
                &result.people(level),
                change.color,
                change.reason_code,
                trace_id,
            )?;
            let row = traces::find_color_change(conn, change_id)?.ok_or(TraceError::NotFound)?;
            Ok(change_view(state, row))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("张三"), "\"张三\"");
        assert_eq!(
            csv_cell("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_cell("@SUM(1)"), "\"'@SUM(1)\"");
        assert_eq!(csv_cell("+1"), "\"'+1\"");
        assert_eq!(csv_cell("-1"), "\"'-1\"");
        assert_eq!(csv_cell("\tx"), "\"'\tx\"");
        assert_eq!(csv_cell("\rx"), "\"'\rx\"");
        assert_eq!(csv_cell(""), "\"\"");
    }
}
