//! The scan (`POST /api/v1/check-ins`), checkout, and the itinerary.

use actix_web::{web, HttpResponse};
use chrono::DateTime;
use serde::{Deserialize, Serialize};

use super::{created, State};
use crate::auth::Account;
use crate::domain::scan as scan_rules;
use crate::domain::{FieldCode, FieldError, FieldErrors, MapPoint};
use crate::services::check_ins::{self, Checkout, ItineraryItem};
use crate::services::scan::{self, ScanInput};
use crate::web::{ApiError, Json, Query};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    code: String,
    #[serde(default)]
    companion_ids: Vec<i64>,
    location: Option<LocationRequest>,
    scanned_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationRequest {
    lat: f64,
    lng: f64,
}

impl TryFrom<ScanRequest> for ScanInput {
    type Error = FieldErrors;

    fn try_from(request: ScanRequest) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let location = request
            .location
            .as_ref()
            .and_then(|l| errors.check("location", MapPoint::parse(l.lat, l.lng)));
        let scanned_at = request.scanned_at.as_deref().and_then(|t| {
            errors.check(
                "scanned_at",
                DateTime::parse_from_rfc3339(t).map_err(|_| {
                    FieldError::new(
                        FieldCode::ScannedAtInvalid,
                        "扫码时间应为带时区的 RFC 3339 时间",
                    )
                }),
            )
        });
        errors.check(
            "companion_ids",
            scan_rules::companion_ids(&request.companion_ids),
        );
        errors.finish()?;
        Ok(ScanInput {
            code: request.code,
            companion_ids: request.companion_ids,
            location,
            scanned_at,
        })
    }
}

pub async fn scan(
    account: Account,
    body: Json<ScanRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let input = ScanInput::try_from(body.0)?;
    Ok(created(scan::scan(&state, &account, input).await?))
}

pub async fn checkout(
    account: Account,
    path: web::Path<i64>,
    state: State,
) -> Result<web::Json<Checkout>, ApiError> {
    Ok(web::Json(
        check_ins::checkout(&state, &account, path.into_inner()).await?,
    ))
}

#[derive(Deserialize)]
pub struct ItineraryQuery {
    days: Option<u32>,
}

#[derive(Serialize)]
pub struct Itinerary {
    days: u32,
    items: Vec<ItineraryItem>,
}

/// The places the caller and their companions went, newest first, at most the retention period.
pub async fn itinerary(
    account: Account,
    query: Query<ItineraryQuery>,
    state: State,
) -> Result<web::Json<Itinerary>, ApiError> {
    let retention = state.settings.retention.days;
    let days = query.0.days.unwrap_or(14);
    if days == 0 || days > retention {
        return Err(ApiError::invalid_parameter(
            "days",
            FieldError::new(
                FieldCode::DaysOutOfRange,
                format!("days 应在 1 到 {retention} 之间"),
            ),
        ));
    }
    let items = check_ins::itinerary(&state, &account, days).await?;
    Ok(web::Json(Itinerary { days, items }))
}
