//! Health officials set health-code colours, one at a time or in bulk, with a reason code. Each
//! person keeps a history; every change and every read of a person's data is audited.

use actix_web::web;
use serde::{Deserialize, Serialize};

use super::local_time;
use crate::auth::Staff;
use crate::db::audit::{self, AuditEntry};
use crate::db::health_codes::{self, ColorChange};
use crate::db::{persons, DbError};
use crate::domain::{FieldError, HealthColor, HealthReason, IdNumber, PersonName, StaffRole};
use crate::error::{ApiError, Invalid};
use crate::extract::Json;
use crate::state::State;

pub const MAX_IMPORT_ROWS: usize = 10_000;
const MAX_NOTE_CHARS: usize = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetColorRequest {
    color: String,
    reason_code: String,
    note: Option<String>,
    /// Needed only when the ID number is not yet known to the system.
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRow {
    id_number: String,
    name: Option<String>,
    color: String,
    reason_code: String,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    changes: Vec<ImportRow>,
}

#[derive(Serialize)]
pub struct HealthCodeResponse {
    id_number: String,
    name: String,
    color: HealthColor,
    reason_code: Option<String>,
    updated_at: Option<String>,
    history: Vec<HistoryItem>,
}

#[derive(Serialize)]
pub struct HistoryItem {
    color: HealthColor,
    reason_code: String,
    note: Option<String>,
    changed_by: Option<i64>,
    changed_at: String,
}

#[derive(Serialize)]
pub struct ImportResponse {
    applied: usize,
}

/// A validated change, before its person is resolved.
struct Change {
    id_number: IdNumber,
    name: Option<PersonName>,
    color: HealthColor,
    reason: HealthReason,
    note: Option<String>,
}

fn check_change(
    invalid: &mut Invalid,
    prefix: &str,
    id_number: Result<IdNumber, FieldError>,
    name: Option<&str>,
    color: &str,
    reason_code: &str,
    note: Option<&str>,
) -> Option<Change> {
    let id_number = invalid.check(format!("{prefix}id_number"), id_number);
    let name = match name.filter(|n| !n.trim().is_empty()) {
        Some(name) => Some(invalid.check(format!("{prefix}name"), PersonName::parse(name))?),
        None => None,
    };
    let color = invalid.check(format!("{prefix}color"), HealthColor::parse(color));
    let reason = invalid.check(
        format!("{prefix}reason_code"),
        HealthReason::parse(reason_code),
    );
    let note = note
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    if note.as_deref().is_some_and(|n| {
        n.chars().count() > MAX_NOTE_CHARS || n.chars().any(|c| c.is_control() && c != '\n')
    }) {
        invalid.add(
            format!("{prefix}note"),
            FieldError::new("note_invalid", format!("备注最多{MAX_NOTE_CHARS}个字")),
        );
        return None;
    }
    Some(Change {
        id_number: id_number?,
        name,
        color: color?,
        reason: reason?,
        note,
    })
}

/// Resolves each change to a person (created when new, which needs a name). Returns the changes
/// or the fields of rows that name an unknown person without a name.
fn resolve(
    state: &State,
    conn: &mut crate::db::DbConnection,
    changes: &[Change],
    field_of: impl Fn(usize) -> String,
) -> Result<Vec<ColorChange>, ApiError> {
    let mut resolved = Vec::with_capacity(changes.len());
    let mut invalid = Invalid::default();
    for (index, change) in changes.iter().enumerate() {
        let person = match (
            &change.name,
            persons::find_by_id_number(conn, &state.cipher, &change.id_number)?,
        ) {
            (Some(name), _) => Some(persons::upsert(
                conn,
                &state.cipher,
                &change.id_number,
                name,
            )?),
            (None, Some(existing)) => Some(existing),
            (None, None) => {
                invalid.add(
                    field_of(index),
                    FieldError::new("name_required", "该身份证号尚无记录，请同时提供姓名"),
                );
                None
            }
        };
        if let Some(person) = person {
            resolved.push(ColorChange {
                person_id: person.id,
                color: change.color,
                reason: change.reason,
                note: change.note.clone(),
            });
        }
    }
    invalid.finish()?;
    Ok(resolved)
}

fn load_response(
    state: &State,
    conn: &mut crate::db::DbConnection,
    person_id: i64,
) -> Result<HealthCodeResponse, ApiError> {
    let person = persons::find(conn, person_id)?
        .ok_or_else(ApiError::not_found)?
        .open(&state.cipher)?;
    let current =
        health_codes::current(conn, &[person_id], state.settings.scan.unknown_color)?[&person_id];
    let history = health_codes::history(conn, &state.cipher, person_id)?;
    Ok(HealthCodeResponse {
        id_number: person.id_number.as_ref().to_owned(),
        name: person.name.as_ref().to_owned(),
        color: current.color,
        reason_code: history.first().map(|h| h.reason_code.clone()),
        updated_at: current.updated_at.map(|t| local_time(state, t)),
        history: history
            .into_iter()
            .map(|h| HistoryItem {
                color: h.color,
                reason_code: h.reason_code,
                note: h.note,
                changed_by: h.changed_by,
                changed_at: local_time(state, h.changed_at),
            })
            .collect(),
    })
}

fn path_id_number(value: &str) -> Result<IdNumber, ApiError> {
    IdNumber::parse(value).map_err(|e| ApiError::invalid_field("id_number", e))
}

pub async fn set(
    staff: Staff,
    path: web::Path<String>,
    body: Json<SetColorRequest>,
    state: State,
) -> Result<web::Json<HealthCodeResponse>, ApiError> {
    staff.require(&[StaffRole::HealthOfficial])?;
    let request = body.0;
    let mut invalid = Invalid::default();
    let change = check_change(
        &mut invalid,
        "",
        IdNumber::parse(&path.into_inner()),
        request.name.as_deref(),
        &request.color,
        &request.reason_code,
        request.note.as_deref(),
    );
    invalid.finish()?;
    let change = change.expect("checked");
    let worker = state.clone();
    let response = state
        .db
        .run(move |conn| {
            crate::db::write_transaction::<_, ApiError, _>(conn, |conn| {
                let resolved = resolve(&worker, conn, std::slice::from_ref(&change), |_| {
                    "name".into()
                })?;
                health_codes::apply(conn, &worker.cipher, staff.staff_id, &resolved)?;
                load_response(&worker, conn, resolved[0].person_id)
            })
        })
        .await?;
    Ok(web::Json(response))
}

pub async fn get(
    staff: Staff,
    path: web::Path<String>,
    state: State,
) -> Result<web::Json<HealthCodeResponse>, ApiError> {
    staff.require(&[StaffRole::HealthOfficial])?;
    let id_number = path_id_number(&path.into_inner())?;
    let worker = state.clone();
    let response = state
        .db
        .run(move |conn| {
            crate::db::write_transaction::<_, ApiError, _>(conn, |conn| {
                let person = persons::find_by_id_number(conn, &worker.cipher, &id_number)?
                    .ok_or_else(ApiError::not_found)?;
                // Reading a person's data is an official access: it is audited.
                audit::append(
                    conn,
                    &worker.cipher,
                    &AuditEntry::by_staff(
                        staff.staff_id,
                        "health_official",
                        "health_code.read",
                        format!("person:{}", person.id),
                        1,
                    ),
                )?;
                load_response(&worker, conn, person.id)
            })
        })
        .await?;
    Ok(web::Json(response))
}

/// Up to 10,000 changes, all or nothing; a 422 names every bad row's fields (`changes[3].color`).
pub async fn import(
    staff: Staff,
    body: Json<ImportRequest, { 4 * 1024 * 1024 }>,
    state: State,
) -> Result<web::Json<ImportResponse>, ApiError> {
    staff.require(&[StaffRole::HealthOfficial])?;
    let rows = body.0.changes;
    if rows.is_empty() || rows.len() > MAX_IMPORT_ROWS {
        return Err(ApiError::invalid_field(
            "changes",
            FieldError::new("changes_count", format!("每次导入1至{MAX_IMPORT_ROWS}条")),
        ));
    }
    let mut invalid = Invalid::default();
    let changes: Vec<Option<Change>> = rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            check_change(
                &mut invalid,
                &format!("changes[{index}]."),
                IdNumber::parse(&row.id_number),
                row.name.as_deref(),
                &row.color,
                &row.reason_code,
                row.note.as_deref(),
            )
        })
        .collect();
    invalid.finish()?;
    let changes: Vec<Change> = changes.into_iter().map(|c| c.expect("checked")).collect();
    let worker = state.clone();
    let applied = state
        .db
        .run(move |conn| {
            crate::db::write_transaction::<_, ApiError, _>(conn, |conn| {
                let resolved = resolve(&worker, conn, &changes, |i| format!("changes[{i}].name"))?;
                health_codes::apply(conn, &worker.cipher, staff.staff_id, &resolved)
                    .map_err(|e: DbError| ApiError::from(e))?;
                Ok(resolved.len())
            })
        })
        .await?;
    tracing::info!(applied, staff_id = staff.staff_id, "health codes imported");
    Ok(web::Json(ImportResponse { applied }))
}
