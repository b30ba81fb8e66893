//! Follow-up tasks of a region, for its registrars and health officials.

use actix_web::web;
use serde::Deserialize;

use super::{page, page_request, status_query, Page, State};
use crate::auth::FollowUpStaff;
use crate::domain::FollowUpStatus;
use crate::services::follow_ups::{self, FollowUpView};
use crate::web::{ApiError, Json, Query};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

pub async fn list(
    FollowUpStaff(staff): FollowUpStaff,
    query: Query<ListQuery>,
    state: State,
) -> Result<web::Json<Page<FollowUpView>>, ApiError> {
    let status = status_query(
        query.0.status.as_deref(),
        FollowUpStatus::Open,
        FollowUpStatus::ALL,
        FollowUpStatus::as_str,
    )?;
    Ok(page(
        follow_ups::list(
            &state,
            &staff,
            status,
            page_request(query.0.cursor.as_deref(), query.0.limit)?,
        )
        .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    outcome: String,
}

pub async fn close(
    FollowUpStaff(staff): FollowUpStaff,
    path: web::Path<i64>,
    body: Json<CloseRequest>,
    state: State,
) -> Result<actix_web::HttpResponse, ApiError> {
    let outcome = follow_ups::outcome(&body.0.outcome)?;
    follow_ups::close(&state, &staff, path.into_inner(), outcome).await?;
    Ok(actix_web::HttpResponse::NoContent().finish())
}
