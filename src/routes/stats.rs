//! A venue's counts per hour and colour: `GET /api/v1/venues/{id}/stats?date=YYYY-MM-DD`.

use actix_web::web;
use chrono::NaiveDate;
use serde::Deserialize;

use super::State;
use crate::auth::Account;
use crate::domain::{FieldCode, FieldError};
use crate::services::stats::{self, VenueStats};
use crate::web::{ApiError, Query};

#[derive(Deserialize)]
pub struct StatsQuery {
    date: Option<String>,
}

pub async fn of_day(
    account: Account,
    path: web::Path<i64>,
    query: Query<StatsQuery>,
    state: State,
) -> Result<web::Json<VenueStats>, ApiError> {
    let date = match query.0.date.as_deref() {
        None | Some("") => None,
        Some(value) => Some(NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
            ApiError::invalid_parameter(
                "date",
                FieldError::new(FieldCode::DateInvalid, "日期格式应为 YYYY-MM-DD"),
            )
        })?),
    };
    let counts = stats::of_day(&state, &account, path.into_inner(), date).await?;
    Ok(web::Json(counts))
}
