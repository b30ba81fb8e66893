//! Entrances of a venue — one door, one code: added and renamed at any time, closed, their codes
//! downloaded as a PNG or an A4 poster, and rotated to revoke a leaked poster.

use std::sync::Arc;

use super::authorize::{self, VenueRole};
use super::cache_sync::changed;
use super::venues::{code_url, entrance_view, EntranceView, VenueError};
use crate::auth::{Account, Caller};
use crate::cache::CacheKey;
use crate::db::entrances::{self, EntranceRow};
use crate::db::venues::VenueRow;
use crate::db::{DbConnection, DbError};
use crate::domain::{EntranceChanges, NewEntrance, PageRequest, VenueStatus};
use crate::posters::{self, PosterText};
use crate::state::AppState;

/// The open entrance of a venue, or why not.
fn entrance(
    conn: &mut DbConnection,
    venue_id: i64,
    entrance_id: i64,
) -> Result<EntranceRow, VenueError> {
    entrances::find_entrance(conn, venue_id, entrance_id)?.ok_or(VenueError::NotFound)
}

fn reload(
    state: &AppState,
    conn: &mut DbConnection,
    venue: &VenueRow,
    entrance_id: i64,
) -> Result<EntranceView, VenueError> {
    Ok(entrance_view(
        state,
        venue,
        entrance(conn, venue.id, entrance_id)?,
    ))
}

/// Entrances can be added at any time, approved or not.
pub async fn add(
    state: &Arc<AppState>,
    account: &Account,
    venue_id: i64,
    new: NewEntrance,
) -> Result<EntranceView, VenueError> {
    let account_id = account.id;
    state
        .write(move |state, conn| {
            let venue = authorize::venue(conn, venue_id, account_id, VenueRole::Manager)?;
            if entrances::entrance_name_taken(conn, venue_id, &new.name, None)? {
                return Err(VenueError::EntranceNameTaken(new.name.into_inner()));
            }
            let now = state.clock.now_naive();
            let id = entrances::insert_entrance(conn, venue_id, &new.name, &new.description, now)?;
            reload(state, conn, &venue, id)
        })
        .await
}

/// Renames an open entrance or changes its description, at any time.
pub async fn update(
    state: &Arc<AppState>,
    account: &Account,
    venue_id: i64,
    entrance_id: i64,
    changes: EntranceChanges,
) -> Result<EntranceView, VenueError> {
    let account_id = account.id;
    let view = state
        .write(move |state, conn| {
            let venue = authorize::venue(conn, venue_id, account_id, VenueRole::Manager)?;
            if !entrance(conn, venue_id, entrance_id)?.is_open() {
                return Err(VenueError::EntranceClosed);
            }
            if let Some(name) = &changes.name {
                if entrances::entrance_name_taken(conn, venue_id, name, Some(entrance_id))? {
                    return Err(VenueError::EntranceNameTaken(name.as_ref().to_owned()));
                }
            }
            entrances::update_entrance(
                conn,
                entrance_id,
                changes.name.as_ref(),
                changes.description.as_deref(),
                state.clock.now_naive(),
            )?;
            changed(state, conn, &[CacheKey::Venue(venue_id)])?;
            reload(state, conn, &venue, entrance_id)
        })
        .await?;
    Ok(view)
}

/// Closes an entrance: its code stops working. Check-ins made through it stay.
pub async fn close(
    state: &Arc<AppState>,
    account: &Account,
    venue_id: i64,
    entrance_id: i64,
) -> Result<(), VenueError> {
    let account_id = account.id;
    state
        .write(move |state, conn| {
            authorize::venue(conn, venue_id, account_id, VenueRole::Manager)?;
            entrance(conn, venue_id, entrance_id)?;
            entrances::close_entrance(conn, entrance_id, state.clock.now_naive())?;
            changed(state, conn, &[CacheKey::Venue(venue_id)])?;
            Ok::<_, VenueError>(())
        })
        .await?;
    Ok(())
}

/// Issues a new code version for an open entrance of an approved venue; the old one is revoked.
pub async fn rotate_code(
    state: &Arc<AppState>,
    account: &Account,
    venue_id: i64,
    entrance_id: i64,
) -> Result<EntranceView, VenueError> {
    let account_id = account.id;
    let view = state
        .write(move |state, conn| {
            let venue = authorize::venue(conn, venue_id, account_id, VenueRole::Manager)?;
            let current = printable(conn, &venue, entrance_id)?;
            entrances::set_code_version(
                conn,
                entrance_id,
                current.code_version + 1,
                state.clock.now_naive(),
            )?;
            changed(state, conn, &[CacheKey::Venue(venue_id)])?;
            reload(state, conn, &venue, entrance_id)
        })
        .await?;
    Ok(view)
}

/// An entrance whose code may be printed: the venue approved, the entrance open.
fn printable(
    conn: &mut DbConnection,
    venue: &VenueRow,
    entrance_id: i64,
) -> Result<EntranceRow, VenueError> {
    let entrance = entrance(conn, venue.id, entrance_id)?;
    if venue.status != VenueStatus::Approved {
        return Err(VenueError::NotActive);
    }
    if !entrance.is_open() {
        return Err(VenueError::EntranceClosed);
    }
    Ok(entrance)
}

/// The two printable forms of a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeFormat {
    /// The QR code alone.
    Png,
    /// An A4 poster with the venue, entrance and category.
    Svg,
}

/// A file to download.
pub struct CodeFile {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub file_name: String,
}

/// An entrance's code, for the manager or venue staff to print; 409 before approval.
pub async fn code(
    state: &Arc<AppState>,
    account: &Account,
    venue_id: i64,
    entrance_id: i64,
    format: CodeFormat,
) -> Result<CodeFile, VenueError> {
    let account_id = account.id;
    let (venue, entrance) = state
        .read(move |_, conn| {
            let venue = authorize::venue(conn, venue_id, account_id, VenueRole::VenueStaff)?;
            let entrance = printable(conn, &venue, entrance_id)?;
            Ok::<_, VenueError>((venue, entrance))
        })
        .await?;
    let url = code_url(state, &entrance);
    mark_printed(state, std::slice::from_ref(&entrance)).await?;
    let stem = format!(
        "venue-{venue_id}-entrance-{}-v{}",
        entrance.id, entrance.code_version
    );
    Ok(match format {
        CodeFormat::Png => CodeFile {
            bytes: posters::code_png(&url)?,
            content_type: "image/png",
            file_name: format!("{stem}.png"),
        },
        CodeFormat::Svg => {
            let (category, subtype) = state.taxonomy.label(&venue.category, &venue.subtype);
            let svg = posters::poster_svg(
                &url,
                &PosterText {
                    venue_name: &venue.name,
                    entrance_name: &entrance.name,
                    category: &format!("{category} · {subtype}"),
                    address: &venue.address,
                },
            )?;
            CodeFile {
                bytes: svg.into_bytes(),
                content_type: "image/svg+xml; charset=utf-8",
                file_name: format!("{stem}.svg"),
            }
        }
    })
}

/// Every open entrance's code of an approved venue, as PNG and as A4 SVG poster, in one zip:
/// for its manager and venue staff, and for the reviewers and registrars of its region.
pub async fn posters_zip(
    state: &Arc<AppState>,
    caller: &Caller,
    venue_id: i64,
) -> Result<CodeFile, VenueError> {
    let by_venue = matches!(caller, Caller::Account(_));
    let caller = caller.clone();
    let (venue, entrances) = state
        .read(move |_, conn| {
            let venue = authorize::venue_for(conn, &caller, venue_id, VenueRole::VenueStaff)?;
            if venue.status != VenueStatus::Approved {
                return Err(VenueError::NotActive);
            }
            let entrances: Vec<EntranceRow> = entrances::entrances_of(conn, venue_id)?
                .into_iter()
                .filter(EntranceRow::is_open)
                .collect();
            Ok((venue, entrances))
        })
        .await?;
    if by_venue {
        mark_printed(state, &entrances).await?;
    }
    let state = Arc::clone(state);
    // Drawing a poster takes CPU time: off the request threads.
    tokio::task::spawn_blocking(move || zip_posters(&state, &venue, &entrances))
        .await
        .map_err(|e| VenueError::Db(DbError::Other(e.to_string())))?
}

fn zip_posters(
    state: &AppState,
    venue: &VenueRow,
    entrances: &[EntranceRow],
) -> Result<CodeFile, VenueError> {
    use std::io::Write;
    let (category, subtype) = state.taxonomy.label(&venue.category, &venue.subtype);
    let category = format!("{category} · {subtype}");
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let broken = |e: zip::result::ZipError| VenueError::Db(DbError::Other(e.to_string()));
    for entrance in entrances {
        let url = code_url(state, entrance);
        let stem = format!(
            "venue-{}-entrance-{}-v{}",
            venue.id, entrance.id, entrance.code_version
        );
        let poster = posters::poster_svg(
            &url,
            &PosterText {
                venue_name: &venue.name,
                entrance_name: &entrance.name,
                category: &category,
                address: &venue.address,
            },
        )?;
        archive
            .start_file(format!("{stem}.png"), options)
            .map_err(broken)?;
        archive
            .write_all(&posters::code_png(&url)?)
            .map_err(|e| broken(e.into()))?;
        archive
            .start_file(format!("{stem}.svg"), options)
            .map_err(broken)?;
        archive
            .write_all(poster.as_bytes())
            .map_err(|e| broken(e.into()))?;
    }
    let bytes = archive.finish().map_err(broken)?.into_inner();
    Ok(CodeFile {
        bytes,
        content_type: "application/zip",
        file_name: format!("venue-{}-posters.zip", venue.id),
    })
}

/// Records that these entrances' posters, downloaded by their venue (its manager or staff, who
/// hang them), now carry the current venue-code key, so that after a rotation reviewers see which
/// posters still carry an earlier one ([`outdated_posters`]). Nothing is written when they did.
async fn mark_printed(state: &Arc<AppState>, entrances: &[EntranceRow]) -> Result<(), VenueError> {
    let key = state.venue_codes.current_key_id().to_owned();
    let stale: Vec<i64> = entrances
        .iter()
        .filter(|e| e.code_key_id.as_deref() != Some(key.as_str()))
        .map(|e| e.id)
        .collect();
    if stale.is_empty() {
        return Ok(());
    }
    Ok(state
        .write(move |_, conn| entrances::mark_printed(conn, &stale, &key))
        .await?)
}

/// An entrance whose poster was last downloaded under an earlier venue-code key.
#[derive(Debug, serde::Serialize)]
pub struct OutdatedPosterView {
    pub venue_id: i64,
    pub venue: String,
    pub entrance_id: i64,
    pub entrance: String,
    /// The key its poster carries.
    pub key_id: String,
}

/// The entrances of the caller's region whose posters still carry another key than the current
/// one: to be printed again (`posters.zip`) before that key is removed.
pub async fn outdated_posters(
    state: &Arc<AppState>,
    authority: &crate::auth::Staff,
    page: PageRequest,
) -> Result<(Vec<OutdatedPosterView>, Option<String>), VenueError> {
    let region = authority.region.to_string();
    let current = state.venue_codes.current_key_id().to_owned();
    let rows = state
        .read(move |_, conn| entrances::outdated_posters(conn, &region, &current, page))
        .await?;
    let (rows, next) = page.cut(rows, |row| row.entrance_id);
    let views = rows
        .into_iter()
        .map(|row| OutdatedPosterView {
            venue_id: row.venue_id,
            venue: row.venue_name,
            entrance_id: row.entrance_id,
            entrance: row.entrance_name,
            key_id: row.key_id,
        })
        .collect();
    Ok((views, next))
}
