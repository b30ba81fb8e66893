//! `GET /api/v1/regions?parent=<code>`: the children of a division, the provinces without one.

use actix_web::web;
use serde::Deserialize;

use super::State;
use crate::domain::RegionCode;
use crate::services::regions::{self, RegionList};
use crate::web::{ApiError, Query};

#[derive(Deserialize)]
pub struct RegionsQuery {
    parent: Option<String>,
}

pub async fn list(
    query: Query<RegionsQuery>,
    state: State,
) -> Result<web::Json<RegionList>, ApiError> {
    let parent = match query.0.parent.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(code) => {
            Some(RegionCode::parse(code).map_err(|e| ApiError::invalid_parameter("parent", e))?)
        }
    };
    Ok(web::Json(regions::children(&state, parent).await?))
}
