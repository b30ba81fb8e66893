//! What a venue code's link leads to when opened outside the mini-program: the venue and
//! entrance, or why the code does not work.

use std::sync::Arc;

use crate::crypto::VenueCodeError;
use crate::db::{venues, DbError};
use crate::domain::VenueStatus;
use crate::state::AppState;

/// Where a code stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeStatus {
    Working {
        venue: String,
        entrance: String,
    },
    /// Not one of ours, damaged or forged.
    Invalid,
    /// Signed by us, but its entrance does not exist.
    Unknown,
    /// Replaced by a newer version, or its entrance closed.
    Revoked,
    /// Its venue is not approved.
    NotActive,
}

pub async fn status(state: &Arc<AppState>, token: &str) -> Result<CodeStatus, DbError> {
    let code = match state.venue_codes.verify(token) {
        Ok(code) => code,
        Err(VenueCodeError::Malformed | VenueCodeError::Forged | VenueCodeError::ForeignHost) => {
            return Ok(CodeStatus::Invalid)
        }
    };
    let found = state
        .read(move |_, conn| venues::entrance_with_venue(conn, code.entrance_id))
        .await?;
    Ok(match found {
        None => CodeStatus::Unknown,
        Some((entrance, _)) if entrance.code_version != code.version || !entrance.is_open() => {
            CodeStatus::Revoked
        }
        Some((_, venue)) if venue.status != VenueStatus::Approved => CodeStatus::NotActive,
        Some((entrance, venue)) => CodeStatus::Working {
            venue: venue.name,
            entrance: entrance.name,
        },
    })
}
