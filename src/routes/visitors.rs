//! A venue's visitors in a window, for health officials of its region.

use crate::domain::FieldCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{parse_time, State};
use crate::auth::HealthOfficial;
use crate::domain::{FieldError, FieldErrors, Retained};
use crate::services::visitors::{self, VisitorList, Window};
use crate::web::{ApiError, Query};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowQuery {
    from: Option<String>,
    to: Option<String>,
}

impl WindowQuery {
    fn window(self, retained: Retained) -> Result<Window, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut time = |field: &str, value: Option<String>| match value {
            Some(value) => parse_time(&mut errors, field, &value),
            None => {
                errors.add(field, FieldError::new(FieldCode::Required, "必填"));
                None
            }
        };
        let (from, to) = (time("from", self.from), time("to", self.to));
        let window = Window::check(&mut errors, from, to, retained);
        errors.into_result(window)
    }
}

pub async fn list(
    HealthOfficial(official): HealthOfficial,
    path: web::Path<i64>,
    query: Query<WindowQuery>,
    state: State,
) -> Result<web::Json<VisitorList>, ApiError> {
    let window = query.0.window(state.retained())?;
    let list = visitors::list(&state, &official, path.into_inner(), window).await?;
    Ok(web::Json(list))
}

pub async fn csv(
    HealthOfficial(official): HealthOfficial,
    path: web::Path<i64>,
    query: Query<WindowQuery>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let window = query.0.window(state.retained())?;
    let venue_id = path.into_inner();
    let list = visitors::list(&state, &official, venue_id, window).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"visitors-{venue_id}.csv\""),
        ))
        .body(visitors::to_csv(&list)))
}
