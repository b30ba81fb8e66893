//! Red-code alerts for the health officials of the venue's region.

use actix_web::web;
use serde::Deserialize;

use super::{page, page_request, status_query, Page, State};
use crate::auth::HealthOfficial;
use crate::domain::AlertStatus;
use crate::services::alerts::{self, AlertView};
use crate::web::{ApiError, Json, Query};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
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
) -> Result<web::Json<Page<AlertView>>, ApiError> {
    let status = status_query(
        query.0.status.as_deref(),
        AlertStatus::Open,
        AlertStatus::ALL,
        AlertStatus::as_str,
    )?;
    Ok(page(
        alerts::list(
            &state,
            &official,
            status,
            page_request(query.0.cursor.as_deref(), query.0.limit)?,
        )
        .await?,
    ))
}

pub async fn close(
    HealthOfficial(official): HealthOfficial,
    path: web::Path<i64>,
    body: Json<CloseRequest>,
    state: State,
) -> Result<web::Json<AlertView>, ApiError> {
    let note = alerts::note(&body.0.note)?;
    let alert = alerts::close(&state, &official, path.into_inner(), note).await?;
    Ok(web::Json(alert))
}
