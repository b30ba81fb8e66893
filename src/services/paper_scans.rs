//! Paper codes at the door: venue staff scan a person's printed code; the entry is recorded like
//! any scan and answers the same door page.

use std::sync::Arc;

use super::authorize::{self, VenueRole};
use super::scan::{self, DoorPage, ScanError};
use crate::auth::Account;
use crate::crypto::PaperCodeError;
use crate::db::persons;
use crate::domain::CheckInSource;
use crate::state::AppState;

pub async fn scan(
    state: &Arc<AppState>,
    account: &Account,
    venue_id: i64,
    entrance_id: i64,
    code: String,
) -> Result<DoorPage, ScanError> {
    let code = state
        .paper_codes
        .read(&code, state.clock.today())
        .map_err(|e| match e {
            PaperCodeError::Expired => ScanError::PaperCodeExpired,
            PaperCodeError::Malformed | PaperCodeError::Forged => ScanError::InvalidPaperCode,
        })?;
    let account_id = account.id;
    state
        .read(move |state, conn| {
            authorize::venue(conn, venue_id, account_id, VenueRole::VenueStaff)?;
            let entrance = scan::entrance_of_venue(state, conn, venue_id, entrance_id)?;
            let person = persons::open(conn, &state.cipher, code.person_id)?
                .ok_or(ScanError::InvalidPaperCode)?;
            scan::record_at_door(
                state,
                conn,
                entrance,
                account_id,
                CheckInSource::Paper,
                person,
            )
        })
        .await
}
