//! The division picker: the children of a division, the provinces at the top; and the villages,
//! loaded after start-up for the provinces this deployment serves.

use std::collections::HashSet;
use std::sync::Arc;

use serde::Serialize;

use crate::db::regions::{self, RegionRow};
use crate::db::DbError;
use crate::domain::{RegionCode, RegionLevel};
use crate::reference::divisions;
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

impl RegionView {
    /// A township has children where its villages are loaded.
    fn of(row: RegionRow, with_children: &HashSet<String>) -> Self {
        let level = RegionLevel::from_i16(row.level).unwrap_or(RegionLevel::Township);
        Self {
            has_children: level < RegionLevel::Township
                || (level == RegionLevel::Township && with_children.contains(&row.code)),
            code: row.code,
            name: row.name,
            level,
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
            let mut items = regions::children(conn, parent.as_ref()).map_err(DbError::from)?;
            // A province's villages show once all of them are in (they are loaded in batches).
            if let Some(code) = parent
                .as_ref()
                .filter(|c| c.level() == RegionLevel::Township)
            {
                if regions::villages_loaded(conn, &code.as_ref()[..2])
                    .map_err(DbError::from)?
                    .is_none()
                {
                    items.clear();
                }
            }
            let townships: Vec<String> = parent_row
                .iter()
                .chain(&items)
                .filter(|r| r.level == RegionLevel::Township.as_i16())
                .map(|r| r.code.clone())
                .collect();
            let loaded = match townships.first() {
                Some(code) => regions::villages_loaded(conn, &code[..2])
                    .map_err(DbError::from)?
                    .is_some(),
                None => false,
            };
            let with_children = if loaded {
                regions::with_children(conn, &townships).map_err(DbError::from)?
            } else {
                HashSet::new()
            };
            Ok(RegionList {
                parent: parent_row.map(|r| RegionView::of(r, &with_children)),
                items: items
                    .into_iter()
                    .map(|r| RegionView::of(r, &with_children))
                    .collect(),
            })
        })
        .await
}

/// Loads the villages of `VILLAGE_PROVINCES` whose rows are missing or from another version of
/// the shipped file, one province per transaction; returns the rows written.
pub async fn load_villages(state: &Arc<AppState>) -> Result<usize, DbError> {
    let wanted = state.settings.village_provinces.clone();
    if wanted.as_ref().is_some_and(Vec::is_empty) {
        return Ok(0);
    }
    let now = state.clock.now_naive();
    let sqlite = state.db.backend() == "sqlite";
    state
        .db
        .run(move |conn| {
            let checksum = divisions::villages_checksum();
            let provinces = match wanted {
                Some(provinces) => provinces,
                None => regions::children(conn, None)?
                    .into_iter()
                    .map(|r| r.code)
                    .collect(),
            };
            let mut stale = Vec::new();
            for province in provinces {
                if regions::villages_loaded(conn, &province)?.as_deref() != Some(checksum.as_str())
                {
                    stale.push(province);
                }
            }
            if stale.is_empty() {
                return Ok(0);
            }
            // Nodes sharing one PostgreSQL load one at a time; the others leave it to the first.
            if !regions::try_lock_village_load(conn)? {
                return Ok(0);
            }
            let loaded = load_stale(conn, &stale, &checksum, now, sqlite);
            regions::unlock_village_load(conn);
            loaded
        })
        .await
}

/// Loads the villages of the `stale` provinces.
fn load_stale(
    conn: &mut crate::db::DbConnection,
    stale: &[String],
    checksum: &str,
    now: chrono::NaiveDateTime,
    sqlite: bool,
) -> Result<usize, DbError> {
    // Read (and decompress) the file only when something is to be loaded.
    let by_province = divisions::villages(Some(stale)).map_err(DbError::Other)?;
    let mut written = 0;
    for (province, villages) in &by_province {
        // On SQLite a write holds the whole database: between batches the loader leaves
        // it free for longer than a waiting writer's busy handler sleeps (up to 100 ms a
        // try), or scans and the command line starve behind it. PostgreSQL locks rows.
        let pause = || {
            if sqlite {
                std::thread::sleep(std::time::Duration::from_millis(120));
            }
        };
        written += regions::load_villages(conn, province, villages, checksum, now, &pause)?;
    }
    Ok(written)
}

/// Loads the villages in the background, so that start-up stays quick: until a province's are
/// in, its village codes are checked against their township only.
pub fn spawn_village_load(state: Arc<AppState>) {
    tokio::spawn(async move {
        match load_villages(&state).await {
            Ok(0) => {}
            Ok(rows) => tracing::info!(rows, "loaded villages"),
            Err(e) => {
                tracing::warn!(error = %e, "villages not loaded; they are tried again at the next start")
            }
        }
    });
}
