//! The division picker: `GET /api/v1/regions?parent=<code>` lists the children of a division,
//! the provinces when `parent` is absent.

use actix_web::web;
use serde::{Deserialize, Serialize};

use crate::db::regions::{self, RegionRow};
use crate::domain::{RegionCode, RegionLevel};
use crate::error::{ApiError, ErrorCode};
use crate::extract::Query;
use crate::state::State;

#[derive(Deserialize)]
pub struct RegionsQuery {
    parent: Option<String>,
}

#[derive(Serialize)]
pub struct RegionResponse {
    code: String,
    name: String,
    level: RegionLevel,
    /// Whether the picker can go one level further down with the shipped data.
    has_children: bool,
}

#[derive(Serialize)]
pub struct RegionListResponse {
    parent: Option<RegionResponse>,
    items: Vec<RegionResponse>,
}

impl From<RegionRow> for RegionResponse {
    fn from(row: RegionRow) -> Self {
        let level = RegionLevel::from_i16(row.level).unwrap_or(RegionLevel::Township);
        Self {
            code: row.code,
            name: row.name,
            level,
            has_children: level < RegionLevel::Township,
        }
    }
}

pub async fn list(
    query: Query<RegionsQuery>,
    state: State,
) -> Result<web::Json<RegionListResponse>, ApiError> {
    let parent = match query.0.parent.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(code) => Some(RegionCode::parse(code).map_err(|e| {
            ApiError::new(ErrorCode::InvalidQuery).with_details(serde_json::json!({
                "parent": {"code": e.code, "message": e.message}
            }))
        })?),
    };
    let response = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            let parent_row = match &parent {
                Some(code) => Some(
                    regions::find(conn, code)?
                        .ok_or_else(|| ApiError::not_found().with_message("该行政区划不存在"))?,
                ),
                None => None,
            };
            let items = regions::children(conn, parent.as_ref())?;
            Ok(RegionListResponse {
                parent: parent_row.map(Into::into),
                items: items.into_iter().map(Into::into).collect(),
            })
        })
        .await?;
    Ok(web::Json(response))
}
