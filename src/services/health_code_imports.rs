//! Colour changes in bulk: a sheet of changes previewed, then imported; an import of more than
//! `TRACE_CONFIRM_THRESHOLD` people waits, sealed, for a second official of the region.

use std::sync::Arc;

use serde::Serialize;

use super::health_codes::{apply, current_color, resolve, HealthCodeError, NewColor};
use super::{audit, authorize};
use crate::auth::Staff;
use crate::crypto::Field;
use crate::db::health_code_imports::{self, ImportRow};
use crate::db::health_codes::ColorChange;
use crate::db::{persons, DbConnection, DbError};
use crate::domain::{ChangeStatus, HealthColor, HealthReason, IdDocument, IdType};
use crate::state::AppState;

/// What a change would do to its person, told before it is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewOutcome {
    /// A person of the region whose colour changes.
    Change,
    /// A person of the region who already has this colour.
    Unchanged,
    /// Not yet known: recorded with the typed name, inside the official's region.
    NewPerson,
    /// Not yet known, and no name was given.
    NameRequired,
    /// Not a person of the official's region: the change cannot be made.
    Outside,
}

impl PreviewOutcome {
    /// Whether a change with this outcome can be applied.
    pub fn applies(self) -> bool {
        !matches!(self, PreviewOutcome::NameRequired | PreviewOutcome::Outside)
    }
}

/// One row of a preview: who, from which colour to which.
#[derive(Debug, Clone)]
pub struct PreviewRow {
    pub id_type: IdType,
    pub id_number: String,
    /// The name on record; for a new person, the name given.
    pub name: String,
    /// The colour on record; `None` for a person without one or outside the region.
    pub current: Option<HealthColor>,
    pub color: HealthColor,
    pub reason: HealthReason,
    pub note: Option<String>,
    pub outcome: PreviewOutcome,
}

fn preview_known(
    state: &AppState,
    conn: &mut DbConnection,
    person_id: i64,
    color: HealthColor,
) -> Result<(IdDocument, String, Option<HealthColor>, PreviewOutcome), DbError> {
    let person = persons::open(conn, &state.cipher, person_id)?
        .ok_or_else(|| DbError::Other(format!("person {person_id} vanished")))?;
    let current = current_color(conn, state, person_id)?;
    let effective = current.unwrap_or(state.settings.scan.unknown_color);
    let outcome = if current.is_some() && effective == color {
        PreviewOutcome::Unchanged
    } else {
        PreviewOutcome::Change
    };
    let document = person.document.ok_or_else(|| {
        DbError::Other(format!("person {person_id}: a colour without a document"))
    })?;
    Ok((document, person.name.as_ref().to_owned(), current, outcome))
}

/// What `changes` would do, row by row, without doing it. Reading the colours of the region's
/// people is an official access: audited, one entry for the whole preview.
pub async fn preview(
    state: &Arc<AppState>,
    official: &Staff,
    changes: Vec<NewColor>,
) -> Result<Vec<PreviewRow>, HealthCodeError> {
    let official = official.clone();
    state
        .write(move |state, conn| {
            let mut rows = Vec::with_capacity(changes.len());
            let mut known = 0;
            for change in changes {
                let found = persons::find_by_document(conn, &state.cipher, &change.document)?;
                let (document, name, current, outcome) = match found {
                    Some(person)
                        if authorize::person_in_region(
                            state,
                            conn,
                            &official,
                            &person,
                            Some(&change.document),
                        )? =>
                    {
                        known += 1;
                        preview_known(state, conn, person.id, change.color)?
                    }
                    found => {
                        let outcome = if found.is_some()
                            || !authorize::new_person_in_region(&official, &change.document)
                        {
                            PreviewOutcome::Outside
                        } else if change.name.is_some() {
                            PreviewOutcome::NewPerson
                        } else if change.document.division().is_none() {
                            // Said like a holder on record elsewhere (see `resolve_people`).
                            PreviewOutcome::Outside
                        } else {
                            PreviewOutcome::NameRequired
                        };
                        let name = match outcome {
                            PreviewOutcome::NewPerson => change
                                .name
                                .as_ref()
                                .map(|n| n.as_ref().to_owned())
                                .unwrap_or_default(),
                            _ => String::new(),
                        };
                        (change.document.clone(), name, None, outcome)
                    }
                };
                rows.push(PreviewRow {
                    id_type: document.kind(),
                    id_number: document.number().to_owned(),
                    name,
                    current,
                    color: change.color,
                    reason: change.reason,
                    note: change.note,
                    outcome,
                });
            }
            if known > 0 {
                let entry =
                    audit::by_staff(&official, "health_code.preview", "preview".into(), known);
                audit::record(state, conn, &[entry])?;
            }
            Ok(rows)
        })
        .await
}

/// A pending import as its second official reads it before confirming.
pub struct PendingImport {
    pub view: ImportView,
    pub requested_by: i64,
    pub rows: Vec<PreviewRow>,
}

/// A pending import of the official's region, opened row by row (audited).
pub async fn pending_import(
    state: &Arc<AppState>,
    official: &Staff,
    import_id: i64,
) -> Result<PendingImport, HealthCodeError> {
    let official = official.clone();
    state
        .write(move |state, conn| {
            let row = health_code_imports::find(conn, import_id)?
                .filter(|row| official.covers(&row.region_code))
                .filter(|row| row.status == ChangeStatus::Pending)
                .ok_or(HealthCodeError::ImportNotFound)?;
            let changes = open_import(state, &row)?;
            let mut rows = Vec::with_capacity(changes.len());
            for change in &changes {
                let (document, name, current, outcome) =
                    preview_known(state, conn, change.person_id, change.color)?;
                rows.push(PreviewRow {
                    id_type: document.kind(),
                    id_number: document.number().to_owned(),
                    name,
                    current,
                    color: change.color,
                    reason: change.reason,
                    note: change.note.clone(),
                    outcome,
                });
            }
            let entry = audit::by_staff(
                &official,
                "health_code.import_read",
                format!("import:{import_id}"),
                row.row_count,
            );
            audit::record(state, conn, &[entry])?;
            Ok(PendingImport {
                view: import_view(state, &row),
                requested_by: row.requested_by,
                rows,
            })
        })
        .await
}

/// The resolved changes sealed in an import.
fn open_import(state: &AppState, row: &ImportRow) -> Result<Vec<ColorChange>, DbError> {
    let broken = |e: String| DbError::Other(format!("import {}: {e}", row.id));
    let json = state
        .cipher
        .open(Field::ColorImport, &row.changes_sealed)
        .map_err(|e| broken(e.to_string()))?;
    serde_json::from_str(&json).map_err(|e| broken(e.to_string()))
}

/// What became of an import.
#[derive(Debug, Serialize)]
pub struct ImportView {
    pub id: Option<i64>,
    pub status: ChangeStatus,
    /// Rows in the import.
    pub rows: i64,
    /// Imports above this many rows wait for a second official of the region.
    pub confirm_threshold: u32,
    pub requested_at: Option<String>,
}

fn import_view(state: &AppState, row: &ImportRow) -> ImportView {
    ImportView {
        id: Some(row.id),
        status: row.status,
        rows: row.row_count,
        confirm_threshold: state.settings.trace_confirm_threshold,
        requested_at: Some(state.clock.show(row.requested_at)),
    }
}

/// Up to 10,000 changes, all or nothing; a bad row's fields are named (`changes[3].name`), and so
/// are rows naming people outside the official's region (404). Above the threshold the import is
/// kept, sealed, until a second official of the region confirms it.
pub async fn import(
    state: &Arc<AppState>,
    official: &Staff,
    changes: Vec<NewColor>,
) -> Result<ImportView, HealthCodeError> {
    let official = official.clone();
    let view = state
        .write(move |state, conn| {
            let resolved = resolve(state, conn, &official, &changes, |i, field| {
                format!("changes[{i}].{field}")
            })?;
            let threshold = state.settings.trace_confirm_threshold;
            if resolved.len() <= threshold as usize {
                apply(state, conn, &official, &resolved)?;
                return Ok::<_, HealthCodeError>(ImportView {
                    id: None,
                    status: ChangeStatus::Applied,
                    rows: resolved.len() as i64,
                    confirm_threshold: threshold,
                    requested_at: None,
                });
            }
            let json =
                serde_json::to_string(&resolved).map_err(|e| DbError::Other(e.to_string()))?;
            let row = health_code_imports::insert(
                conn,
                official.id,
                &official.region,
                resolved.len() as i64,
                &state.cipher.seal(Field::ColorImport, &json),
                state.clock.now_naive(),
            )?;
            let entry = audit::by_staff(
                &official,
                "health_code.import",
                format!("import:{}", row.id),
                row.row_count,
            );
            audit::record(state, conn, &[entry])?;
            Ok(import_view(state, &row))
        })
        .await?;
    tracing::info!(rows = view.rows, status = %view.status.as_str(), "health codes imported");
    Ok(view)
}

/// The imports of the official's region waiting for a second official, oldest first.
pub async fn pending_imports(
    state: &Arc<AppState>,
    official: &Staff,
) -> Result<Vec<ImportView>, HealthCodeError> {
    let official = official.clone();
    state
        .read(move |state, conn| {
            Ok(health_code_imports::pending_in(conn, &official.region)?
                .iter()
                .map(|row| import_view(state, row))
                .collect())
        })
        .await
}

/// A second official of the region confirms a pending import; it is applied then.
pub async fn confirm_import(
    state: &Arc<AppState>,
    official: &Staff,
    import_id: i64,
) -> Result<ImportView, HealthCodeError> {
    let official = official.clone();
    state
        .write(move |state, conn| {
            let row = health_code_imports::find(conn, import_id)?
                .filter(|row| official.covers(&row.region_code))
                .ok_or(HealthCodeError::ImportNotFound)?;
            if row.requested_by == official.id {
                return Err(HealthCodeError::SecondOfficialRequired);
            }
            let now = state.clock.now_naive();
            if row.status != ChangeStatus::Pending
                || !health_code_imports::mark_applied(conn, import_id, official.id, now)?
            {
                return Err(HealthCodeError::ImportNotPending);
            }
            let changes = open_import(state, &row)?;
            apply(state, conn, &official, &changes)?;
            let row = health_code_imports::find(conn, import_id)?
                .ok_or(HealthCodeError::ImportNotFound)?;
            Ok(import_view(state, &row))
        })
        .await
}
