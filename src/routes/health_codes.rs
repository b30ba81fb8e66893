//! Health-code colours, set by health officials one at a time or in bulk.

use actix_web::web;
use actix_web::HttpResponse;
use serde::Deserialize;

use super::{items, DocumentQuery, Items, State};
use crate::auth::HealthOfficial;
use crate::domain::{ChangeStatus, FieldCode, FieldError, FieldErrors};
use crate::services::health_code_imports::{self, ImportView};
use crate::services::health_codes::{self, ColorInput, HealthCodeView, NewColor, MAX_IMPORT_ROWS};
use crate::web::{ApiError, Json, Query};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetColorRequest {
    color: String,
    reason_code: String,
    note: Option<String>,
    /// Needed only when the document is not yet known to the system.
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRow {
    id_type: Option<String>,
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

pub async fn set(
    HealthOfficial(official): HealthOfficial,
    path: web::Path<String>,
    query: Query<DocumentQuery>,
    body: Json<SetColorRequest>,
    state: State,
) -> Result<web::Json<HealthCodeView>, ApiError> {
    let mut errors = FieldErrors::default();
    let request = body.0;
    let input = ColorInput {
        id_type: query.0.id_type.as_deref(),
        id_number: &path.into_inner(),
        name: request.name.as_deref(),
        color: &request.color,
        reason_code: &request.reason_code,
        note: request.note.as_deref(),
    };
    let change = NewColor::check(&mut errors, "", input);
    let change = errors.into_result(change)?;
    Ok(web::Json(
        health_codes::set(&state, &official, change).await?,
    ))
}

pub async fn get(
    HealthOfficial(official): HealthOfficial,
    path: web::Path<String>,
    query: Query<DocumentQuery>,
    state: State,
) -> Result<web::Json<HealthCodeView>, ApiError> {
    let document = query.0.document(&path.into_inner())?;
    Ok(web::Json(
        health_codes::get(&state, &official, document).await?,
    ))
}

impl TryFrom<ImportRequest> for Vec<NewColor> {
    type Error = FieldErrors;

    fn try_from(request: ImportRequest) -> Result<Self, FieldErrors> {
        let rows = request.changes;
        if rows.is_empty() || rows.len() > MAX_IMPORT_ROWS {
            return Err(FieldErrors::one(
                "changes",
                FieldError::new(
                    FieldCode::ChangesCount,
                    format!("每次导入1至{MAX_IMPORT_ROWS}条"),
                ),
            ));
        }
        let mut errors = FieldErrors::default();
        // Every row is checked, so that one 422 names every bad field.
        let changes: Vec<Option<NewColor>> = rows
            .into_iter()
            .enumerate()
            .map(|(index, row)| {
                let input = ColorInput {
                    id_type: row.id_type.as_deref(),
                    id_number: &row.id_number,
                    name: row.name.as_deref(),
                    color: &row.color,
                    reason_code: &row.reason_code,
                    note: row.note.as_deref(),
                };
                NewColor::check(&mut errors, &format!("changes[{index}]."), input)
            })
            .collect();
        errors.into_result(changes.into_iter().collect())
    }
}

/// Up to 10,000 changes, all or nothing; a 422 names every bad row's fields (`changes[3].color`).
/// 200 when applied, 202 when waiting for a second official.
pub async fn import(
    HealthOfficial(official): HealthOfficial,
    body: Json<ImportRequest, { 4 * 1024 * 1024 }>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let changes = Vec::<NewColor>::try_from(body.0)?;
    let view = health_code_imports::import(&state, &official, changes).await?;
    Ok(match view.status {
        ChangeStatus::Pending => HttpResponse::Accepted().json(view),
        _ => HttpResponse::Ok().json(view),
    })
}

pub async fn pending_imports(
    HealthOfficial(official): HealthOfficial,
    state: State,
) -> Result<web::Json<Items<ImportView>>, ApiError> {
    Ok(items(
        health_code_imports::pending_imports(&state, &official).await?,
    ))
}

pub async fn confirm_import(
    HealthOfficial(official): HealthOfficial,
    path: web::Path<i64>,
    state: State,
) -> Result<web::Json<ImportView>, ApiError> {
    Ok(web::Json(
        health_code_imports::confirm_import(&state, &official, path.into_inner()).await?,
    ))
}
