//! Risky venue windows, declared by health officials.

use actix_web::HttpResponse;
use serde::Deserialize;

use super::{created, parse_time, State};
use crate::auth::HealthOfficial;
use crate::domain::FieldErrors;
use crate::services::risk_windows::{self, NewWindow};
use crate::web::{ApiError, Json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskWindowRequest {
    venue_id: i64,
    from: String,
    to: String,
    message: String,
}

impl TryFrom<RiskWindowRequest> for NewWindow {
    type Error = FieldErrors;

    fn try_from(request: RiskWindowRequest) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let from = parse_time(&mut errors, "from", &request.from);
        let to = parse_time(&mut errors, "to", &request.to);
        let window = NewWindow::check(&mut errors, request.venue_id, from, to, &request.message);
        errors.into_result(window)
    }
}

pub async fn create(
    HealthOfficial(official): HealthOfficial,
    body: Json<RiskWindowRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let window = NewWindow::try_from(body.0)?;
    Ok(created(
        risk_windows::create(&state, &official, window).await?,
    ))
}
