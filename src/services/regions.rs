//! The division picker: the children of a division, the provinces at the top.

use std::sync::Arc;

use serde::Serialize;

use crate::db::regions::{self, RegionRow};
use crate::db::DbError;
use crate::domain::{RegionCode, RegionLevel};
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum RegionError {
    #[error("no such division")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

#[derive(Debug, Serialize)]
pub struct RegionView {
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    /// Whether the picker can go one level further down with the shipped data.
    pub has_children: bool,
}

#[derive(Debug, Serialize)]
pub struct RegionList {
    pub parent: Option<RegionView>,
    pub items: Vec<RegionView>,
}

impl From<RegionRow> for RegionView {
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

pub async fn children(
    state: &Arc<AppState>,
    parent: Option<RegionCode>,
) -> Result<RegionList, RegionError> {
    state
        .read(move |_, conn| {
            let parent_row = match &parent {
                Some(code) => Some(
                    regions::find(conn, code)
                        .map_err(DbError::from)?
                        .ok_or(RegionError::NotFound)?,
                ),
                None => None,
            };
            let items = regions::children(conn, parent.as_ref()).map_err(DbError::from)?;
            Ok(RegionList {
                parent: parent_row.map(Into::into),
                items: items.into_iter().map(Into::into).collect(),
            })
        })
        .await
}
