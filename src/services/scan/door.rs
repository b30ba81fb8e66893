//! The door: venue staff register people by hand (one at a time, or a paper sheet kept while the
//! door could not record) or from their paper code, through the same rules and writer as a scan.

use std::sync::Arc;

use super::{
    entrance, health_of, new_rows, page, record, recorded_rows, refused, Attendee, DoorPage, Entry,
    ScanError,
};
use crate::db::check_in_writer;
use crate::db::persons::Person;
use crate::domain::scan::{self as rules, EntranceSnapshot, EntryTime, HourlyLimit};
use crate::domain::{
    CheckInRole, CheckInSource, FieldCode, FieldError, FieldErrors, MobileNumber, Temperature,
};
use crate::services::accounts::consented;
use crate::services::authorize::{self, VenueRole};
use crate::state::AppState;

/// One person registered at the door by venue staff: by hand, or from their paper code.
pub struct DoorCheckIn {
    pub entrance: Arc<EntranceSnapshot>,
    pub venue_staff_account: i64,
    pub source: CheckInSource,
    /// The person, under the name the door page shows: what was typed for a manual check-in,
    /// the name the printing account knows them by for a paper code.
    pub person: Person,
    /// Whether `person.name` is a name someone typed rather than the person's own.
    pub name_typed: bool,
    pub typed_phone: Option<MobileNumber>,
    pub paper_code_id: Option<i64>,
    /// The temperature taken at the door, if one was.
    pub temperature: Option<Temperature>,
}

/// The entrance where `account_id` registers people at the door: the account is the venue's
/// manager or venue staff, consented itself to all three elements (staff at the door are
/// accountable by name), and the entrance is open at an approved venue.
pub async fn door_entrance(
    state: &Arc<AppState>,
    account_id: i64,
    venue_id: i64,
    entrance_id: i64,
) -> Result<Arc<EntranceSnapshot>, ScanError> {
    state
        .read(move |_, conn| {
            authorize::venue(conn, venue_id, account_id, VenueRole::VenueStaff)?;
            consented(conn, account_id)?;
            Ok::<_, ScanError>(())
        })
        .await?;
    let snapshot = entrance(state, entrance_id)
        .await?
        .filter(|s| s.venue_id == venue_id)
        .ok_or_else(|| {
            FieldErrors::one(
                "entrance_id",
                FieldError::new(FieldCode::EntranceUnknown, "该场所没有这个入口"),
            )
        })?;
    rules::admit_door(&snapshot)?;
    Ok(snapshot)
}

/// Records one person entering now, registered at the door (rules 7–11).
pub async fn record_at_door(
    state: &Arc<AppState>,
    check_in: DoorCheckIn,
) -> Result<DoorPage, ScanError> {
    let typed_name = check_in.name_typed.then(|| check_in.person.name.clone());
    record(
        state,
        Entry {
            entrance: check_in.entrance,
            account_id: check_in.venue_staff_account,
            source: check_in.source,
            time: EntryTime::now(state.clock.now()),
            located: false,
            distance_m: None,
            typed_phone: check_in.typed_phone,
            paper_code_id: check_in.paper_code_id,
            temperature: check_in.temperature,
        },
        vec![Attendee {
            person: check_in.person,
            role: CheckInRole::Own,
            typed_name,
            // Venue staff at the door: the verdict and its rule, not the health details.
            health_details: false,
        }],
    )
    .await
}

/// One row of a paper sheet the door kept while it could not record (`DoorCheckIn`, with
/// the time the sheet gives).
pub struct SheetRow {
    /// Under the name typed on the sheet.
    pub person: Person,
    pub typed_phone: Option<MobileNumber>,
    pub temperature: Option<Temperature>,
    pub time: EntryTime,
}

/// Records a paper sheet's rows by hand at `entrance`, each at its own time, all in one
/// transaction or none (the hourly limit of the recording account refuses the sheet whole). A
/// row that repeats one recorded before (a sheet sent again) answers that one's page, so a
/// resent sheet records nothing twice. One door page per row, in the sheet's order.
pub async fn record_sheet(
    state: &Arc<AppState>,
    entrance: Arc<EntranceSnapshot>,
    venue_staff_account: i64,
    sheet: Vec<SheetRow>,
) -> Result<Vec<DoorPage>, ScanError> {
    let mut person_ids: Vec<i64> = sheet.iter().map(|row| row.person.id).collect();
    person_ids.sort_unstable();
    person_ids.dedup();
    let health = health_of(state, &person_ids).await?;
    let entries: Vec<(Entry, Vec<Attendee>)> = sheet
        .into_iter()
        .map(|row| {
            let entry = Entry {
                entrance: Arc::clone(&entrance),
                account_id: venue_staff_account,
                source: CheckInSource::Manual,
                time: row.time,
                located: false,
                distance_m: None,
                typed_phone: row.typed_phone,
                paper_code_id: None,
                temperature: row.temperature,
            };
            let attendee = Attendee {
                typed_name: Some(row.person.name.clone()),
                person: row.person,
                role: CheckInRole::Own,
                health_details: false,
            };
            (entry, vec![attendee])
        })
        .collect();
    let limit = HourlyLimit::of(
        &state.settings.scan,
        CheckInSource::Manual,
        state.clock.now_naive(),
    );
    let to_write = entries
        .iter()
        .map(|(entry, attendees)| check_in_writer::Entry {
            account_id: venue_staff_account,
            limit,
            rows: new_rows(state, entry, attendees, &health),
            region_code: entrance.region_code.clone(),
        })
        .collect();
    let recorded = state
        .check_ins
        .record_together(to_write)
        .await
        .map_err(|e| refused(e, CheckInSource::Manual))?;
    Ok(entries
        .iter()
        .zip(recorded)
        .map(|((_, attendees), recorded)| {
            let rows = recorded_rows(&entrance, recorded);
            page::door_page(state, &entrance, &rows, attendees, &health)
        })
        .collect())
}
