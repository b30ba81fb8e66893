//! A venue's visitors in a window, for health officials of its region.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{page_request, parse_time, State};
use crate::auth::HealthOfficial;
use crate::domain::{FieldCode, FieldError, FieldErrors, Retained};
use crate::services::visitors::{self, VisitorList, Window};
use crate::web::{ApiError, Query};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowQuery {
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

impl WindowQuery {
    fn window(&self, retained: Retained) -> Result<Window, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut time = |field: &str, value: Option<String>| match value {
            Some(value) => parse_time(&mut errors, field, &value),
            None => {
                errors.add(field, FieldError::new(FieldCode::Required, "必填"));
                None
            }
        };
        let (from, to) = (time("from", self.from.clone()), time("to", self.to.clone()));
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
    let page = page_request(query.0.cursor.as_deref(), query.0.limit)?;
    let list = visitors::list(&state, &official, path.into_inner(), window, Some(page)).await?;
    Ok(web::Json(list))
}

pub async fn csv(
    HealthOfficial(official): HealthOfficial,
    path: web::Path<i64>,
    query: Query<WindowQuery>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let window = query.0.window(state.retained())?;
    if query.0.cursor.is_some() || query.0.limit.is_some() {
        return Err(ApiError::invalid_parameter(
            if query.0.cursor.is_some() {
                "cursor"
            } else {
                "limit"
            },
            FieldError::new(FieldCode::InvalidValue, "导出为全部记录，不分页"),
        ));
    }
    let venue_id = path.into_inner();
    let list = visitors::list(&state, &official, venue_id, window, None).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"visitors-{venue_id}.csv\""),
        ))
        .body(visitors::to_csv(&list)))
}
