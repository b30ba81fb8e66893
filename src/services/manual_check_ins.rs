//! Manual check-ins: venue staff register a person without a phone by hand (the seeds' paper
//! registration, made digital): by an identity document, or by name and mobile number when the
//! person has no document with them. The record enters the same table as any scan and the answer is
//! the same door page. What was typed stays with the check-in: it never renames the person nor
//! gives them a phone number.

use std::sync::Arc;

use super::scan::{self, DoorPage, DoorRegistration, ScanError};
use crate::auth::Account;
use crate::db::persons::{self, NewPerson, Person, PersonKey};
use crate::domain::{CheckInSource, MobileNumber, PersonName, Temperature};
use crate::state::AppState;

/// A person typed in at the door, validated at the edge.
#[derive(Debug, Clone)]
pub struct ManualCheckIn {
    pub entrance_id: i64,
    pub name: PersonName,
    /// A document, or the mobile number of someone who has none with them.
    pub key: PersonKey,
    pub phone: Option<MobileNumber>,
    /// The temperature staff took, if they did.
    pub temperature: Option<Temperature>,
}

pub async fn register(
    state: &Arc<AppState>,
    account: &Account,
    venue_id: i64,
    input: ManualCheckIn,
) -> Result<DoorPage, ScanError> {
    let entrance = scan::door_entrance(state, account.id, venue_id, input.entrance_id).await?;
    let (key, name) = (input.key.clone(), input.name.clone());
    let row = state
        .write(move |state, conn| {
            let now = state.clock.now_naive();
            let new = NewPerson {
                key: &key,
                name: &name,
                birth_date: None,
                region: None,
            };
            persons::find_or_create(conn, &state.cipher, new, now)
        })
        .await?;
    let document = match input.key {
        PersonKey::Document(document) => Some(document),
        PersonKey::Mobile(_) => None,
    };
    scan::record_at_door(
        state,
        DoorRegistration {
            entrance,
            venue_staff_account: account.id,
            source: CheckInSource::Manual,
            // The door page shows what was typed.
            person: Person {
                id: row.id,
                birth_date: document.as_ref().and_then(|d| d.birth_date()),
                document,
                name: input.name,
            },
            name_typed: true,
            typed_phone: input.phone,
            paper_code_id: None,
            temperature: input.temperature,
        },
    )
    .await
}
