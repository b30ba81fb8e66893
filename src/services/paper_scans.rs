//! Paper codes at the door: venue staff scan a person's printed code; the entry is recorded like
//! any scan and answers the same door page. Only the latest print is valid. The entry belongs to
//! the account that printed the code as much as a companion's scan does: it shows in that
//! account's itinerary under the name it knows the person by, and its risks are told to it.

use std::sync::Arc;

use super::accounts::identity_of;
use super::scan::{self, DoorCheckIn, DoorPage, ScanError};
use crate::auth::Account;
use crate::crypto::PaperCodeError;
use crate::db::persons::Person;
use crate::db::{accounts, companions, paper_codes, DbConnection, DbError};
use crate::domain::{CheckInSource, Temperature};
use crate::state::AppState;

pub async fn scan(
    state: &Arc<AppState>,
    account: &Account,
    venue_id: i64,
    entrance_id: i64,
    code: String,
    temperature: Option<Temperature>,
) -> Result<DoorPage, ScanError> {
    let code = state
        .paper_codes
        .read(&code, state.clock.today())
        .map_err(|e| match e {
            PaperCodeError::Expired => ScanError::PaperCodeExpired,
            PaperCodeError::Malformed | PaperCodeError::Forged => ScanError::InvalidPaperCode,
        })?;
    let entrance = scan::door_entrance(state, account.id, venue_id, entrance_id).await?;
    let (print, person) = state
        .read(move |state, conn| {
            let print = paper_codes::find(conn, code.id)?
                .filter(|p| p.revoked_at.is_none())
                .ok_or(ScanError::PaperCodeRevoked)?;
            let person = printed_person(state, conn, print.account_id, print.person_id)?
                .ok_or(ScanError::PaperCodeRevoked)?;
            Ok::<_, ScanError>((print, person))
        })
        .await?;
    scan::record_at_door(
        state,
        DoorCheckIn {
            entrance,
            venue_staff_account: account.id,
            source: CheckInSource::Paper,
            person,
            name_typed: true,
            typed_phone: None,
            paper_code_id: Some(print.id),
            temperature,
        },
    )
    .await
}

/// The person of a print, under the name the printing account knows them by: its own identity,
/// or its companion. `None` when the account no longer holds either.
fn printed_person(
    state: &AppState,
    conn: &mut DbConnection,
    account_id: i64,
    person_id: i64,
) -> Result<Option<Person>, DbError> {
    if let Some(held) = companions::of_person(conn, account_id, person_id)? {
        // A person with an account of their own prints their own code; one printed for them by
        // another account stops working once they have one.
        if held.own_account || !held.accepted() {
            return Ok(None);
        }
        return Ok(Some(held.open(&state.cipher)?));
    }
    let Some(account) = accounts::find(conn, account_id)? else {
        return Ok(None);
    };
    Ok(identity_of(state, conn, &account)?.filter(|me| me.id == person_id))
}
