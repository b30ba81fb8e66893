//! Manual check-ins: venue staff register a person without a phone by hand (the seeds' paper
//! registration, made digital). The record enters the same table as any scan and the answer is
//! the same door page.

use std::sync::Arc;

use super::authorize::{self, VenueRole};
use super::scan::{self, DoorPage, ScanError};
use crate::auth::Account;
use crate::db::persons;
use crate::domain::{CheckInSource, IdNumber, MobileNumber, PersonName};
use crate::state::AppState;

/// A person typed in at the door, validated at the edge.
#[derive(Debug, Clone)]
pub struct ManualCheckIn {
    pub entrance_id: i64,
    pub name: PersonName,
    pub id_number: IdNumber,
    pub phone: Option<MobileNumber>,
}

pub async fn register(
    state: &Arc<AppState>,
    account: &Account,
    venue_id: i64,
    input: ManualCheckIn,
) -> Result<DoorPage, ScanError> {
    let account_id = account.id;
    state
        .read(move |state, conn| {
            authorize::venue(conn, venue_id, account_id, VenueRole::VenueStaff)?;
            let entrance = scan::entrance_of_venue(state, conn, venue_id, input.entrance_id)?;
            let now = state.clock.now_naive();
            let row = persons::upsert(conn, &state.cipher, &input.id_number, &input.name, now)?;
            if let Some(phone) = &input.phone {
                persons::set_phone(conn, &state.cipher, row.id, phone)?;
            }
            let person = row.open(&state.cipher)?;
            scan::record_at_door(
                state,
                conn,
                entrance,
                account_id,
                CheckInSource::Manual,
                person,
            )
        })
        .await
}
