//! Checking a pass token shown at the door, online here or offline with the published key.

use actix_web::HttpResponse;
use chrono::{TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::rfc3339;
use crate::domain::Verdict;
use crate::error::{ApiError, ErrorCode};
use crate::extract::Query;
use crate::passes::{PassError, PassPerson, PassVenue};
use crate::state::State;

#[derive(Deserialize)]
pub struct VerifyQuery {
    token: Option<String>,
}

#[derive(Serialize)]
pub struct VerifyResponse {
    valid: bool,
    /// Why not: `expired` or `invalid`.
    reason: Option<&'static str>,
    check_in_id: Option<i64>,
    scanned_at: Option<String>,
    expires_at: Option<String>,
    venue: Option<PassVenue>,
    verdict: Option<Verdict>,
    people: Option<Vec<PassPerson>>,
}

pub async fn verify(query: Query<VerifyQuery>, state: State) -> Result<HttpResponse, ApiError> {
    let token = query
        .0
        .token
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidQuery).with_details(serde_json::json!({
                "token": {"code": "required", "message": "请提供 token"}
            }))
        })?;
    let response = match state.passes.verify(token.trim()) {
        Ok(claims) => VerifyResponse {
            valid: true,
            reason: None,
            check_in_id: Some(claims.cid),
            scanned_at: Some(claims.scanned_at),
            expires_at: Utc
                .timestamp_opt(claims.exp, 0)
                .single()
                .map(|t| rfc3339(t, state.settings.timezone)),
            venue: Some(claims.venue),
            verdict: Some(claims.verdict),
            people: Some(claims.people),
        },
        Err(error) => VerifyResponse {
            valid: false,
            reason: Some(match error {
                PassError::Expired => "expired",
                PassError::Invalid => "invalid",
            }),
            check_in_id: None,
            scanned_at: None,
            expires_at: None,
            venue: None,
            verdict: None,
            people: None,
        },
    };
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(response))
}

/// The public key that signs passes, for offline checks.
pub async fn jwks(state: State) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header(("cache-control", "public, max-age=3600"))
        .json(state.passes.jwks())
}
