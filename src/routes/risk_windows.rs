//! Risky venue windows, declared by health officials.

use actix_web::HttpResponse;
use serde::Deserialize;

use super::{created, parse_time, State};
use crate::auth::HealthOfficial;
use crate::domain::{FieldErrors, Retained};
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

impl RiskWindowRequest {
    fn parse(self, retained: Retained) -> Result<NewWindow, FieldErrors> {
        let mut errors = FieldErrors::default();
        let from = parse_time(&mut errors, "from", &self.from);
        let to = parse_time(&mut errors, "to", &self.to);
        let window = NewWindow::check(
            &mut errors,
            self.venue_id,
            from,
            to,
            &self.message,
            retained,
        );
        errors.into_result(window)
    }
}

pub async fn create(
    HealthOfficial(official): HealthOfficial,
    body: Json<RiskWindowRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let window = body.0.parse(state.retained())?;
    Ok(created(
        risk_windows::create(&state, &official, window).await?,
    ))
}
