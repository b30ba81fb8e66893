//! The one place that answers "may this caller do this": a mini-program account's role at a venue,
//! and whether a person lies within a staff member's region. Staff roles are required by the
//! routes' extractors. Anything a caller may not see answers as if it did not exist.

use chrono::Duration;

use crate::auth::{Caller, Staff};
use crate::db::persons::{self, PersonRow};
use crate::db::venues::{self, VenueRow};
use crate::db::{DbConnection, DbError};
use crate::domain::{IdDocument, StaffRole};
use crate::state::AppState;

use super::venue_error::VenueError;

/// What an account is at a venue; the manager may do everything venue staff may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum VenueRole {
    VenueStaff,
    Manager,
}

/// The venue, when `account_id` holds at least `needed` there: 404 for strangers (the venue's
/// existence is not theirs to learn), 403 for venue staff asking for a manager's action.
pub fn venue(
    conn: &mut DbConnection,
    venue_id: i64,
    account_id: i64,
    needed: VenueRole,
) -> Result<VenueRow, VenueError> {
    let venue = venues::find(conn, venue_id)?.ok_or(VenueError::NotFound)?;
    let role = if venue.manager_account_id == Some(account_id) {
        VenueRole::Manager
    } else if venues::is_venue_staff(conn, venue_id, account_id)? {
        VenueRole::VenueStaff
    } else {
        return Err(VenueError::NotFound);
    };
    if role < needed {
        return Err(VenueError::ManagerOnly);
    }
    Ok(venue)
}

/// The venue for a caller that may be either kind: an account holding at least `needed` there
/// (see [`venue`]), or a reviewer or registrar of the venue's region; 403 for other staff.
pub fn venue_for(
    conn: &mut DbConnection,
    caller: &Caller,
    venue_id: i64,
    needed: VenueRole,
) -> Result<VenueRow, VenueError> {
    match caller {
        Caller::Account(account) => venue(conn, venue_id, account.id, needed),
        Caller::Staff(staff)
            if matches!(staff.role, StaffRole::Reviewer | StaffRole::Registrar) =>
        {
            venues::find(conn, venue_id)?
                .filter(|v| staff.covers(&v.region_code))
                .ok_or(VenueError::NotFound)
        }
        Caller::Staff(_) => Err(VenueError::ForStaffOfVenues),
    }
}

/// The holder of `document`, when they lie within the official's region: their resident ID's
/// division code is in it, or they stayed at a venue of it within the retention period.
pub fn person(
    state: &AppState,
    conn: &mut DbConnection,
    official: &Staff,
    document: &IdDocument,
) -> Result<Option<PersonRow>, DbError> {
    let Some(person) = persons::find_by_document(conn, &state.cipher, document)? else {
        return Ok(None);
    };
    Ok(person_in_region(state, conn, official, &person, Some(document))?.then_some(person))
}

/// Whether the person lies within the official's region (see [`person`]).
pub fn person_in_region(
    state: &AppState,
    conn: &mut DbConnection,
    official: &Staff,
    person: &PersonRow,
    document: Option<&IdDocument>,
) -> Result<bool, DbError> {
    let since = state.clock.now_naive() - Duration::days(i64::from(state.settings.retention.days));
    persons::in_region(conn, person, document, &official.region, since)
}

/// Whether a person new to the system may be named by the official: a resident whose ID
/// number's division code lies in the official's region. The other documents name no home
/// region (a traveller's only tie to one is where they stay), so any official may name their
/// holder; once they have stayed anywhere, [`person_in_region`] decides by the stays.
pub fn new_person_in_region(official: &Staff, document: &IdDocument) -> bool {
    document
        .division()
        .is_none_or(|division| division.starts_with(official.region.as_ref()))
}
