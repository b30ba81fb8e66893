//! A registrar's import of many venues at once: checked whole, written in parts that no one sees
//! until the last, so that scans never wait behind it.

use std::sync::Arc;

use serde::Serialize;

use super::audit;
use super::venues::{entrance_view, EntranceView, VenueError};
use crate::auth::Staff;
use crate::db::entrances;
use crate::db::venues::{self, Registrant};
use crate::db::{regions, DbConnection, DbError};
use crate::domain::{FieldCode, FieldError, FieldErrors, RegionCode, VenueApplication};
use crate::state::AppState;

/// The most venues one import may carry.
pub const MAX_IMPORTED: usize = 5_000;

/// A venue a registrar registered: its id and its entrances with their codes.
#[derive(Debug, Serialize)]
pub struct RegisteredVenue {
    pub id: i64,
    pub name: String,
    pub entrances: Vec<EntranceView>,
}

/// Rows (venues and entrances) an import writes in one transaction at most.
const IMPORT_PART_ROWS: usize = 2_000;

/// Venues registered by a registrar of their region, all or nothing: approved at once (the
/// street office or community is the local authority), each claimed later by its manager. A
/// venue outside the registrar's region, or of an unknown region, is named by its row
/// (`venues[3].region_code`). One audit entry for the whole import.
///
/// The largest import is 255,000 rows: written in one transaction it would hold SQLite's only
/// write lock for seconds, and every scan behind it would wait or be refused. So it is written in
/// parts of at most [`IMPORT_PART_ROWS`] rows, which no one sees (`unfinished_import`) until
/// the last step shows them all at once with the audit entry; if a part fails, what was written
/// is deleted, and an import whose node stopped half-way is deleted by the retention purge. On
/// SQLite the parts are apart by more than a waiting writer's busy handler sleeps, as the
/// village load's are.
pub async fn import(
    state: &Arc<AppState>,
    registrar: &Staff,
    applications: Vec<VenueApplication>,
) -> Result<Vec<RegisteredVenue>, VenueError> {
    let scope = registrar.region.clone();
    let applications = state
        .read(move |_, conn| {
            check_import_regions(conn, &scope, &applications)?;
            Ok::<_, VenueError>(applications)
        })
        .await?;
    let import = rand::Rng::gen_range(&mut rand::thread_rng(), 1..i64::MAX);
    let started = state.clock.now_naive();
    // On a task of its own: a client that leaves half-way does not leave the import half-written
    // (it ends as a single transaction would have: written whole, or not at all).
    let (writer_state, registrar) = (Arc::clone(state), registrar.clone());
    let registered = tokio::spawn(async move {
        let state = &writer_state;
        let written = write_import(state, &registrar, import, applications).await;
        if written.is_err() {
            if let Err(cleanup) = discard_import(state, venues::Unfinished::Import(import)).await {
                tracing::warn!(error = %cleanup, "an import that failed could not be deleted yet; the retention purge will");
            }
        }
        written
    })
    .await
    .map_err(|e| DbError::Other(format!("the import stopped: {e}")))??;
    tracing::info!(
        venues = registered.len(),
        seconds = (state.clock.now_naive() - started).num_milliseconds() as f64 / 1000.0,
        "venues registered by a registrar"
    );
    Ok(registered)
}

/// Every venue's region lies in the registrar's and is known; else each bad row is named.
fn check_import_regions(
    conn: &mut DbConnection,
    scope: &RegionCode,
    applications: &[VenueApplication],
) -> Result<(), VenueError> {
    let mut errors = FieldErrors::default();
    let mut known: std::collections::HashMap<String, bool> = Default::default();
    for (index, application) in applications.iter().enumerate() {
        let region = &application.region;
        let field = format!("venues[{index}].region_code");
        if !region.is_within(scope) {
            errors.add(
                field,
                FieldError::new(FieldCode::RegionOutside, "该地区不在您的辖区内"),
            );
            continue;
        }
        let is_known = match known.get(region.as_ref()) {
            Some(is_known) => *is_known,
            None => {
                let is_known = regions::is_known(conn, region)?;
                known.insert(region.to_string(), is_known);
                is_known
            }
        };
        if !is_known {
            errors.add(
                field,
                FieldError::new(
                    FieldCode::RegionUnknown,
                    "所选乡镇（街道）或村（社区）不存在",
                ),
            );
        }
    }
    Ok(errors.finish()?)
}

/// Writes an import's venues part by part, then shows them with the audit entry: the venues
/// registered, in the order given.
async fn write_import(
    state: &Arc<AppState>,
    registrar: &Staff,
    import: i64,
    mut applications: Vec<VenueApplication>,
) -> Result<Vec<RegisteredVenue>, VenueError> {
    let by = Registrant::Registrar {
        staff_id: registrar.id,
        import,
    };
    let now = state.clock.now_naive();
    let sqlite = state.db.backend() == "sqlite";
    let mut ids = Vec::with_capacity(applications.len());
    while !applications.is_empty() {
        let mut rows = 0;
        let take = applications
            .iter()
            .take_while(|a| {
                rows += 1 + a.entrances.len();
                rows <= IMPORT_PART_ROWS
            })
            .count()
            .max(1);
        let part: Vec<VenueApplication> = applications.drain(..take).collect();
        let written = state
            .write(move |state, conn| {
                part.iter()
                    .map(|application| venues::insert(conn, &state.cipher, by, application, now))
                    .collect::<Result<Vec<i64>, _>>()
            })
            .await?;
        ids.extend(written);
        if sqlite && !applications.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(120)).await;
        }
    }
    // The answer is read before anyone sees the venues: if it cannot be, the import is undone.
    let registered = state
        .read(move |state, conn| {
            venues::of_import(conn, import)?
                .into_iter()
                .map(|venue| {
                    let entrances = entrances::entrances_of(conn, venue.id)?
                        .into_iter()
                        .map(|e| entrance_view(state, &venue, e))
                        .collect();
                    Ok(RegisteredVenue {
                        id: venue.id,
                        name: venue.name,
                        entrances,
                    })
                })
                .collect::<Result<Vec<_>, VenueError>>()
        })
        .await?;
    if registered.len() != ids.len() {
        return Err(
            DbError::Other("an import's venues went missing while it was written".into()).into(),
        );
    }
    let entry = audit::by_staff(
        registrar,
        "venue.register",
        format!("registration:{}", ids.first().map_or(0, |id| *id)),
        ids.len() as i64,
    );
    let expected = ids.len();
    state
        .write(move |state, conn| {
            if venues::finish_import(conn, import)? != expected {
                return Err(DbError::Other("an import's venues went missing".into()).into());
            }
            audit::record(state, conn, &[entry])?;
            Ok::<_, VenueError>(())
        })
        .await?;
    Ok(registered)
}

/// Deletes an import that will not finish, at the pace it was written.
pub async fn discard_import(
    state: &Arc<AppState>,
    which: venues::Unfinished,
) -> Result<usize, DbError> {
    let sqlite = state.db.backend() == "sqlite";
    state
        .db
        .run(move |conn| {
            venues::discard_imports(conn, which, &|| {
                if sqlite {
                    std::thread::sleep(std::time::Duration::from_millis(120));
                }
            })
        })
        .await
}
