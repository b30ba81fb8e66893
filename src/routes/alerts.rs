//! Red-code alerts for the health officials of the venue's region.

use actix_web::web;
use serde::Deserialize;

use super::{items, status_query, Items, State};
use crate::auth::HealthOfficial;
use crate::domain::{required_text, AlertStatus, FieldError, FieldErrors};
use crate::services::alerts::{self, AlertView, MAX_NOTE_CHARS};
use crate::web::{ApiError, Json, Query};

#[derive(Deserialize)]
pub struct AlertQuery {
    status: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    note: String,
}

pub async fn list(
    HealthOfficial(official): HealthOfficial,
    query: Query<AlertQuery>,
    state: State,
) -> Result<web::Json<Items<AlertView>>, ApiError> {
    let status = status_query(
        query.0.status.as_deref(),
        AlertStatus::Open,
        AlertStatus::ALL,
        AlertStatus::as_str,
    )?;
    Ok(items(alerts::list(&state, &official, status).await?))
}

pub async fn close(
    HealthOfficial(official): HealthOfficial,
    path: web::Path<i64>,
    body: Json<CloseRequest>,
    state: State,
) -> Result<web::Json<AlertView>, ApiError> {
    let mut errors = FieldErrors::default();
    let note = required_text(
        &mut errors,
        "note",
        &body.0.note,
        MAX_NOTE_CHARS,
        FieldError::new(
            "note_required",
            format!("请填写处置情况（最多{MAX_NOTE_CHARS}字，不能含控制字符）"),
        ),
    );
    let note = errors.into_result(note)?;
    let alert = alerts::close(&state, &official, path.into_inner(), note).await?;
    Ok(web::Json(alert))
}
