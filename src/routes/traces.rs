//! Tracing a case, its CSV export, and colour changes for its contacts.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{created, parse_time, State};
use crate::auth::HealthOfficial;
use crate::domain::{
    ChangeStatus, FieldCode, FieldError, FieldErrors, HealthColor, HealthReason, Retained,
};
use crate::services::traces::{
    self, ColorChangeView, ContactsColor, TraceQuery, TraceView, TraceWindow,
};
use crate::web::{ApiError, Json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceRequest {
    id_type: Option<String>,
    id_number: String,
    from: String,
    to: String,
    depth: Option<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColorChangeRequest {
    color: String,
    reason_code: String,
    /// 1 or 2; all levels when absent.
    level: Option<u8>,
}

impl TraceRequest {
    fn parse(self, retained: Retained) -> Result<TraceQuery, FieldErrors> {
        let mut errors = FieldErrors::default();
        let from = parse_time(&mut errors, "from", &self.from);
        let to = parse_time(&mut errors, "to", &self.to);
        let window = TraceWindow {
            id_type: self.id_type.as_deref(),
            id_number: &self.id_number,
            from,
            to,
            depth: self.depth.unwrap_or(1),
        };
        let query = TraceQuery::check(&mut errors, window, retained);
        errors.into_result(query)
    }
}

impl TryFrom<ColorChangeRequest> for ContactsColor {
    type Error = FieldErrors;

    fn try_from(request: ColorChangeRequest) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let color = errors.check("color", HealthColor::parse(&request.color));
        let reason = errors.check("reason_code", HealthReason::parse(&request.reason_code));
        if request.level.is_some_and(|l| !(1..=2).contains(&l)) {
            errors.add(
                "level",
                FieldError::new(FieldCode::LevelInvalid, "level 只能是 1 或 2"),
            );
        }
        errors.into_result(color.zip(reason).map(|(color, reason)| ContactsColor {
            color,
            reason,
            level: request.level,
        }))
    }
}

pub async fn create(
    HealthOfficial(official): HealthOfficial,
    body: Json<TraceRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let query = body.0.parse(state.retained())?;
    Ok(created(traces::create(&state, &official, query).await?))
}

pub async fn get(
    HealthOfficial(official): HealthOfficial,
    path: web::Path<i64>,
    state: State,
) -> Result<web::Json<TraceView>, ApiError> {
    Ok(web::Json(
        traces::get(&state, &official, path.into_inner()).await?,
    ))
}

pub async fn export_csv(
    HealthOfficial(official): HealthOfficial,
    path: web::Path<i64>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let csv = traces::export_csv(&state, &official, id).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"trace-{id}.csv\""),
        ))
        .body(csv))
}

/// 200 when applied at once, 202 when it waits for a second official.
fn applied_or_accepted(change: ColorChangeView) -> HttpResponse {
    match change.status {
        ChangeStatus::Applied => HttpResponse::Ok().json(change),
        ChangeStatus::Pending => HttpResponse::Accepted().json(change),
    }
}

pub async fn request_color_change(
    HealthOfficial(official): HealthOfficial,
    path: web::Path<i64>,
    body: Json<ColorChangeRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let color = ContactsColor::try_from(body.0)?;
    let change = traces::request_color_change(&state, &official, path.into_inner(), color).await?;
    Ok(applied_or_accepted(change))
}

pub async fn confirm_color_change(
    HealthOfficial(official): HealthOfficial,
    path: web::Path<(i64, i64)>,
    state: State,
) -> Result<web::Json<ColorChangeView>, ApiError> {
    let (trace_id, change_id) = path.into_inner();
    let change = traces::confirm_color_change(&state, &official, trace_id, change_id).await?;
    Ok(web::Json(change))
}
