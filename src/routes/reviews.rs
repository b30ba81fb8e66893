//! County review of venue applications.

use actix_web::web;
use serde::Deserialize;

use super::{page, page_request, status_query, Page, State};
use crate::auth::Reviewer;
use crate::domain::{optional_text, FieldCode, FieldError, FieldErrors, VenueStatus};
use crate::services::reviews::{self, Decision};
use crate::services::venues::VenueView;
use crate::web::{ApiError, Json, Query};

const MAX_REASON_CHARS: usize = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewQuery {
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    decision: String,
    reason: Option<String>,
}

impl TryFrom<DecisionRequest> for Decision {
    type Error = FieldErrors;

    fn try_from(request: DecisionRequest) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let reason = optional_text(
            &mut errors,
            "reason",
            request.reason.as_deref(),
            MAX_REASON_CHARS,
            FieldError::new(
                FieldCode::ReasonInvalid,
                format!("原因最多{MAX_REASON_CHARS}个字"),
            ),
        );
        let decision = match request.decision.as_str() {
            "approve" => Some(Decision::Approve),
            "reject" if reason.is_some() || !errors.is_empty() => {
                reason.map(|reason| Decision::Reject { reason })
            }
            "reject" => {
                errors.add(
                    "reason",
                    FieldError::new(FieldCode::Required, "驳回时请填写原因，申请人会看到"),
                );
                None
            }
            _ => {
                errors.add(
                    "decision",
                    FieldError::new(
                        FieldCode::DecisionInvalid,
                        "decision 只能是 approve 或 reject",
                    ),
                );
                None
            }
        };
        errors.into_result(decision)
    }
}

pub async fn list(
    Reviewer(reviewer): Reviewer,
    query: Query<ReviewQuery>,
    state: State,
) -> Result<web::Json<Page<VenueView>>, ApiError> {
    let status = status_query(
        query.0.status.as_deref(),
        VenueStatus::Pending,
        VenueStatus::ALL,
        VenueStatus::as_str,
    )?;
    let page_request = page_request(query.0.cursor.as_deref(), query.0.limit)?;
    Ok(page(
        reviews::list(&state, &reviewer, status, page_request).await?,
    ))
}

pub async fn decide(
    Reviewer(reviewer): Reviewer,
    path: web::Path<i64>,
    body: Json<DecisionRequest>,
    state: State,
) -> Result<web::Json<VenueView>, ApiError> {
    let decision = Decision::try_from(body.0)?;
    let venue = reviews::decide(&state, &reviewer, path.into_inner(), decision).await?;
    Ok(web::Json(venue))
}
