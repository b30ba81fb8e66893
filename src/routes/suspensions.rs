//! Suspending and resuming a venue's codes, by the local authorities over venues (a county
//! reviewer or a street-office / community registrar of its region).

use actix_web::web;
use serde::Deserialize;

use super::State;
use crate::auth::VenueAuthority;
use crate::domain::{required_text, FieldCode, FieldError, FieldErrors};
use crate::services::venues::{self, VenueView, MAX_REASON_CHARS};
use crate::web::{ApiError, Json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    reason: String,
}

impl ReasonRequest {
    fn reason(&self) -> Result<String, FieldErrors> {
        let mut errors = FieldErrors::default();
        let reason = required_text(
            &mut errors,
            "reason",
            &self.reason,
            MAX_REASON_CHARS,
            FieldError::new(
                FieldCode::ReasonInvalid,
                format!("原因须为1至{MAX_REASON_CHARS}字"),
            ),
        );
        errors.into_result(reason)
    }
}

pub async fn suspend(
    VenueAuthority(staff): VenueAuthority,
    path: web::Path<i64>,
    body: Json<ReasonRequest>,
    state: State,
) -> Result<web::Json<VenueView>, ApiError> {
    let reason = body.0.reason()?;
    let view = venues::set_suspended(&state, &staff, path.into_inner(), true, reason).await?;
    Ok(web::Json(view))
}

pub async fn resume(
    VenueAuthority(staff): VenueAuthority,
    path: web::Path<i64>,
    body: Json<ReasonRequest>,
    state: State,
) -> Result<web::Json<VenueView>, ApiError> {
    let reason = body.0.reason()?;
    let view = venues::set_suspended(&state, &staff, path.into_inner(), false, reason).await?;
    Ok(web::Json(view))
}
