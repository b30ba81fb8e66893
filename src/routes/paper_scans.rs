//! Paper scans: venue staff scan a person's printed paper code at their entrance.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{created, State};
use crate::auth::Account;
use crate::domain::{FieldErrors, Temperature};
use crate::services::paper_scans;
use crate::web::{ApiError, Json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperScanRequest {
    entrance_id: i64,
    code: String,
    /// °C, when staff took it.
    temperature: Option<f64>,
}

pub async fn scan(
    account: Account,
    path: web::Path<i64>,
    body: Json<PaperScanRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let PaperScanRequest {
        entrance_id,
        code,
        temperature,
    } = body.0;
    let temperature = temperature
        .map(Temperature::parse)
        .transpose()
        .map_err(|e| FieldErrors::one("temperature", e))?;
    let venue_id = path.into_inner();
    let page =
        paper_scans::scan(&state, &account, venue_id, entrance_id, code, temperature).await?;
    Ok(created(page))
}
