//! Manual check-ins: venue staff register a person without a phone by hand (the seeds' paper
//! registration, made digital): by an identity document, or by name and mobile number when the
//! person has no document with them; one at a time as they come, or a paper sheet's rows kept
//! while the door could not record, each at its own time. The records enter the same table as any
//! scan and the answer is the same door page. What was typed stays with the check-in: it never
//! renames the person nor gives them a phone number.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};

use super::scan::{self, DoorCheckIn, DoorPage, ScanError, SheetRow};
use crate::auth::Account;
use crate::db::persons::{self, NewPerson, Person, PersonRow};
use crate::db::DbError;
use crate::domain::scan::{entry_time, EntryTime};
use crate::domain::{CheckInSource, FieldErrors, MobileNumber, PersonKey, PersonName, Temperature};
use crate::state::AppState;

/// The most rows one paper sheet may carry.
pub const MAX_SHEET_ROWS: usize = 100;

/// A person as staff typed them in at the door, validated at the edge.
#[derive(Debug, Clone)]
pub struct TypedPerson {
    pub name: PersonName,
    /// A document, or the mobile number of someone who has none with them.
    pub key: PersonKey,
    pub phone: Option<MobileNumber>,
    /// The temperature staff took, if they did.
    pub temperature: Option<Temperature>,
}

/// One person registered at the door now.
#[derive(Debug, Clone)]
pub struct ManualCheckIn {
    pub entrance_id: i64,
    pub person: TypedPerson,
}

/// A paper sheet: the rows of one entrance, each with the time written beside it.
#[derive(Debug, Clone)]
pub struct ManualSheet {
    pub entrance_id: i64,
    pub rows: Vec<(TypedPerson, DateTime<FixedOffset>)>,
}

/// The person typed, found or created; the person as the door page shows them (the typed name).
fn typed_person(
    state: &AppState,
    conn: &mut crate::db::DbConnection,
    typed: &TypedPerson,
) -> Result<Person, DbError> {
    let now = state.clock.now_naive();
    let new = NewPerson {
        key: &typed.key,
        name: &typed.name,
        birth_date: None,
        region: None,
    };
    let row: PersonRow = persons::find_or_create(conn, &state.cipher, new, now)?;
    let document = typed.key.document().cloned();
    Ok(Person {
        id: row.id,
        birth_date: document.as_ref().and_then(|d| d.birth_date()),
        document,
        name: typed.name.clone(),
    })
}

pub async fn record(
    state: &Arc<AppState>,
    account: &Account,
    venue_id: i64,
    input: ManualCheckIn,
) -> Result<DoorPage, ScanError> {
    let entrance = scan::door_entrance(state, account.id, venue_id, input.entrance_id).await?;
    let typed = input.person.clone();
    let person = state
        .write(move |state, conn| typed_person(state, conn, &typed))
        .await?;
    scan::record_at_door(
        state,
        DoorCheckIn {
            entrance,
            venue_staff_account: account.id,
            source: CheckInSource::Manual,
            person,
            name_typed: true,
            typed_phone: input.person.phone,
            paper_code_id: None,
            temperature: input.person.temperature,
        },
    )
    .await
}

/// Records a paper sheet all or nothing (see [`scan::record_sheet`]); one door page per row.
pub async fn record_sheet(
    state: &Arc<AppState>,
    account: &Account,
    venue_id: i64,
    sheet: ManualSheet,
) -> Result<Vec<DoorPage>, ScanError> {
    let mut errors = FieldErrors::default();
    let times: Vec<Option<EntryTime>> = sheet
        .rows
        .iter()
        .enumerate()
        .map(|(i, (_, at))| {
            errors.check(
                format!("rows[{i}].scanned_at"),
                entry_time(
                    state.clock.now(),
                    Some(*at),
                    state.settings.scan.offline_window_hours,
                ),
            )
        })
        .collect();
    errors.finish()?;
    let entrance = scan::door_entrance(state, account.id, venue_id, sheet.entrance_id).await?;
    let typed: Vec<TypedPerson> = sheet.rows.iter().map(|(p, _)| p.clone()).collect();
    let people = state
        .write(move |state, conn| {
            typed
                .iter()
                .map(|t| typed_person(state, conn, t))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let rows = sheet
        .rows
        .into_iter()
        .zip(people)
        .zip(times)
        .map(|(((typed, _), person), time)| SheetRow {
            person,
            typed_phone: typed.phone,
            temperature: typed.temperature,
            time: time.expect("every time was checked"),
        })
        .collect();
    scan::record_sheet(state, entrance, account.id, rows).await
}
