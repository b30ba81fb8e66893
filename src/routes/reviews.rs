//! County review: reviewers see and decide only the applications of their own region. Another
//! region's application answers 404, as if it did not exist.

use actix_web::web;
use serde::{Deserialize, Serialize};

use super::venues::{venue_response, VenueResponse};
use crate::auth::Staff;
use crate::db::venues::{self, Decision};
use crate::domain::{FieldError, RegionCode, StaffRole, VenueStatus};
use crate::error::{ApiError, ErrorCode, Invalid};
use crate::extract::{Json, Query};
use crate::state::State;

const MAX_REASON_CHARS: usize = 500;

#[derive(Deserialize)]
pub struct ReviewQuery {
    status: Option<String>,
}

#[derive(Serialize)]
pub struct ReviewListResponse {
    items: Vec<VenueResponse>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    decision: String,
    reason: Option<String>,
}

pub async fn list(
    staff: Staff,
    query: Query<ReviewQuery>,
    state: State,
) -> Result<web::Json<ReviewListResponse>, ApiError> {
    staff.require(&[StaffRole::Reviewer])?;
    let status = match query.0.status.as_deref() {
        None | Some("") => Some(VenueStatus::Pending),
        Some("all") => None,
        Some(value) => Some(VenueStatus::parse(value).ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidQuery).with_details(serde_json::json!({
                "status": {"code": "status_invalid", "message": "status 只能是 pending、approved、rejected 或 all"}
            }))
        })?),
    };
    let worker = state.clone();
    let items = state
        .db
        .run(move |conn| -> Result<Vec<VenueResponse>, ApiError> {
            venues::in_region(conn, &staff.region, status)?
                .into_iter()
                .map(|venue| venue_response(&worker, conn, venue))
                .collect()
        })
        .await?;
    Ok(web::Json(ReviewListResponse { items }))
}

pub async fn decide(
    staff: Staff,
    path: web::Path<i64>,
    body: Json<DecisionRequest>,
    state: State,
) -> Result<web::Json<VenueResponse>, ApiError> {
    staff.require(&[StaffRole::Reviewer])?;
    let venue_id = path.into_inner();
    let request = body.0;
    let mut invalid = Invalid::default();
    let reason = request
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    if reason.as_deref().is_some_and(|r| {
        r.chars().count() > MAX_REASON_CHARS || r.chars().any(|c| c.is_control() && c != '\n')
    }) {
        invalid.add(
            "reason",
            FieldError::new("reason_invalid", format!("原因最多{MAX_REASON_CHARS}个字")),
        );
    }
    let decision = match request.decision.as_str() {
        "approve" => Some(Decision::Approve),
        "reject" => match &reason {
            Some(reason) => Some(Decision::Reject {
                reason: reason.clone(),
            }),
            None => {
                invalid.add(
                    "reason",
                    FieldError::new("required", "驳回时请填写原因，申请人会看到"),
                );
                None
            }
        },
        _ => {
            invalid.add(
                "decision",
                FieldError::new("decision_invalid", "decision 只能是 approve 或 reject"),
            );
            None
        }
    };
    invalid.finish()?;
    let decision = decision.expect("checked");
    let worker = state.clone();
    let response = state
        .db
        .run(move |conn| -> Result<VenueResponse, ApiError> {
            let venue = venues::find(conn, venue_id)?.ok_or_else(ApiError::not_found)?;
            let in_scope = RegionCode::parse(&venue.region_code)
                .map(|code| code.is_within(&staff.region))
                .unwrap_or(false);
            if !in_scope {
                return Err(ApiError::not_found());
            }
            if venue.status() != VenueStatus::Pending {
                return Err(ApiError::new(ErrorCode::VenueNotPending));
            }
            venues::decide(conn, &worker.cipher, venue_id, staff.staff_id, &decision)?;
            worker.entrances.invalidate_venue(venue_id);
            let venue = venues::find(conn, venue_id)?.ok_or_else(ApiError::not_found)?;
            venue_response(&worker, conn, venue)
        })
        .await?;
    Ok(web::Json(response))
}
