//! The one place that answers "may this mini-program account do this at this venue". Staff roles
//! are required by the routes' extractors and a staff member's region by `Staff::covers`. Anything
//! a caller may not see answers as if it did not exist.

use crate::db::venues::{self, VenueRow};
use crate::db::DbConnection;

use super::venues::VenueError;

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
    let role = if venue.manager_account_id == account_id {
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
