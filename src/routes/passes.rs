//! Checking a pass token shown at the door, and the public key that signs them.

use actix_web::HttpResponse;
use serde::Deserialize;

use super::State;
use crate::domain::{FieldCode, FieldError};
use crate::services::passes;
use crate::web::{ApiError, Query};

#[derive(Deserialize)]
pub struct VerifyQuery {
    token: Option<String>,
}

pub async fn verify(query: Query<VerifyQuery>, state: State) -> Result<HttpResponse, ApiError> {
    let token = query
        .0
        .token
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            ApiError::invalid_parameter(
                "token",
                FieldError::new(FieldCode::Required, "请提供 token"),
            )
        })?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(passes::verify(&state, token.trim())))
}

/// The public key that signs passes, for offline checks.
pub async fn jwks(state: State) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header(("cache-control", "public, max-age=3600"))
        .json(state.passes.jwks())
}
