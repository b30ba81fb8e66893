//! The scan: `POST /api/v1/check-ins` records the entry of a resident and their companions and
//! answers with the door page. [`scan`] applies the rules of `domain/scan.rs` in their order;
//! manual check-ins and paper scans (`door.rs`) record through the same `record` (a paper
//! sheet's rows through the same rows and writer, all in one transaction) and answer the same
//! door page (`page.rs`).
//!
//! At the peak nothing known before the request is read during it: the entrance, the account
//! (consent, person, companions) and colours come from memory (`cache/`, kept true on every node
//! by `cache_sync`); the rows go to the one writer of check-ins (`db/check_in_writer.rs`), which
//! has the rules decide repeats and the hourly limit and writes many scans in one transaction,
//! and answers once they are durable. The pass token is the only signature made per scan.

mod door;
mod page;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset};

pub use self::door::{door_entrance, record_at_door, record_sheet, DoorCheckIn, SheetRow};
pub use self::page::{
    DoorPage, HealthOnPage, PassOnPage, PersonOnPage, TestOnPage, VaccinationOnPage, VenueOnPage,
};
use super::accounts::{self as account_service, consented_snapshot, AccountError};
use super::venues::VenueError;
use crate::auth::Account;
use crate::cache::AccountSnapshot;
use crate::crypto::Field;
use crate::db::check_in_writer::{self, Recorded, WriteError};
use crate::db::check_ins::CheckInRow;
use crate::db::health_codes;
use crate::db::persons::Person;
use crate::db::{regions, venues, DbConnection, DbError};
use crate::domain::scan::{
    self as rules, CompanionOnFile, EntranceSnapshot, EntryTime, HourlyLimit, Refusal,
};
use crate::domain::{
    CheckInRole, CheckInSource, FieldErrors, HealthColor, MapPoint, MobileNumber, PersonHealth,
    PersonName, Temperature,
};
use crate::state::AppState;

/// How long a client is asked to wait after reaching the hourly limit.
const LIMIT_RETRY_AFTER_SECS: u32 = 600;

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("the code is not a venue code of ours")]
    InvalidCode,
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("the account reached its hourly limit of scans")]
    TooManyScans { retry_after_secs: u32 },
    #[error(
        "the venue staff account reached its hourly limit of manual check-ins and paper scans"
    )]
    TooManyDoorCheckIns { retry_after_secs: u32 },
    #[error("the paper code is not one of ours")]
    InvalidPaperCode,
    #[error("the paper code has expired")]
    PaperCodeExpired,
    #[error("the paper code was replaced by a newer print or its companion removed")]
    PaperCodeRevoked,
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Venue(#[from] VenueError),
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A scan as the mini-program sends it, validated at the edge: the location is a real point, the
/// companions distinct and at most five, the time a real RFC 3339 time.
#[derive(Debug, Clone)]
pub struct ScanInput {
    /// The scanned string, whole.
    pub code: String,
    pub companion_ids: Vec<i64>,
    pub location: Option<MapPoint>,
    /// The client's own time, for a scan made offline.
    pub scanned_at: Option<DateTime<FixedOffset>>,
}

/// A resident scans a venue code, for themself and their companions: the rules of
/// `domain/scan.rs`, numbered as there.
pub async fn scan(
    state: &Arc<AppState>,
    account: &Account,
    input: ScanInput,
) -> Result<DoorPage, ScanError> {
    let policy = &state.settings.scan;
    // 1. The code's signature first: a forged code costs no database work (the request's own
    // fields, the companions asked for among them, were checked at the edge).
    let code = state
        .venue_codes
        .parse_scanned(&input.code, &state.settings.server.venue_code_hosts)
        .map_err(|_| ScanError::InvalidCode)?;
    // 2. The entry time: now, or the client's own time for an offline scan.
    let time = rules::entry_time(
        state.clock.now(),
        input.scanned_at,
        policy.offline_window_hours,
    )
    .map_err(|e| FieldErrors::one("scanned_at", e))?;
    // 3. The entrance and venue the code names, still current and approved.
    let entrance = entrance(state, code.entrance_id)
        .await?
        .ok_or(ScanError::InvalidCode)?;
    rules::admit_code(&entrance, code.version)?;
    // 4. The account consented to all three elements.
    let snapshot = account_service::snapshot(state, account.id).await?;
    let me = consented_snapshot(&snapshot)?;
    // 5. The distance from the venue, when the scan is located.
    let distance_m = rules::distance(policy, &entrance, input.location)?;
    // 6. Each companion is the account's own and eligible today.
    let mut attendees = vec![Attendee {
        person: me.clone(),
        role: CheckInRole::Own,
        typed_name: None,
        health_details: true,
    }];
    attendees.extend(companions_of(state, &snapshot, &input.companion_ids)?);
    // 7–11. Verdicts, then repeats, the hourly limit, alert and follow-up by the writer; the
    // door page.
    record(
        state,
        Entry {
            entrance,
            account_id: account.id,
            source: CheckInSource::Scan,
            time,
            located: input.location.is_some(),
            distance_m,
            typed_phone: None,
            paper_code_id: None,
            temperature: None,
        },
        attendees,
    )
    .await
}

/// The entrance behind a venue code: from memory, or from the database the first time.
pub async fn entrance(
    state: &Arc<AppState>,
    entrance_id: i64,
) -> Result<Option<Arc<EntranceSnapshot>>, DbError> {
    if let Some(snapshot) = state.caches.entrances.get(entrance_id) {
        return Ok(Some(snapshot));
    }
    let epoch = state.caches.entrances.epoch();
    let snapshot = state
        .read(move |state, conn| load_entrance(state, conn, entrance_id))
        .await?;
    if let Some(snapshot) = &snapshot {
        state
            .caches
            .entrances
            .put(entrance_id, Arc::clone(snapshot), epoch);
    }
    Ok(snapshot)
}

fn load_entrance(
    state: &AppState,
    conn: &mut DbConnection,
    entrance_id: i64,
) -> Result<Option<Arc<EntranceSnapshot>>, DbError> {
    let Some((entrance, venue)) = venues::entrance_with_venue(conn, entrance_id)? else {
        return Ok(None);
    };
    let (category, subtype_name) = state.taxonomy.label(&venue.category, &venue.subtype);
    let subtype = state.taxonomy.subtype(&venue.category, &venue.subtype);
    Ok(Some(Arc::new(EntranceSnapshot {
        entrance_id: entrance.id,
        open: entrance.is_open(),
        entrance_name: entrance.name,
        code_version: entrance.code_version,
        venue_id: venue.id,
        venue_status: venue.status,
        suspended: venue.suspended_at.is_some(),
        full_address: regions::full_address_of(conn, &venue.region_code, &venue.address)?,
        test_required_hours: venue
            .test_required_hours
            .and_then(|h| u32::try_from(h).ok()),
        category_label: format!("{category} · {subtype_name}"),
        region_code: venue.region_code,
        default_stay_minutes: subtype.map_or(60, |s| s.default_stay_minutes),
        transport: subtype.and_then(|s| s.transport),
        location: MapPoint::parse(venue.lat, venue.lng).ok(),
        venue_name: venue.name,
    })))
}

/// The account's companions of these ids, each admitted by the rules today, in the order asked.
fn companions_of(
    state: &AppState,
    account: &AccountSnapshot,
    ids: &[i64],
) -> Result<Vec<Attendee>, ScanError> {
    let today = state.clock.today();
    ids.iter()
        .map(|id| {
            let found = account.companions.iter().find(|c| c.id == *id);
            rules::companion(
                *id,
                found.map(|c| CompanionOnFile {
                    accepted: c.accepted,
                    birth_date: c.person.birth_date,
                }),
                state.settings.scan.companions,
                today,
            )?;
            let companion = found.expect("an admitted companion is the account's");
            let person = companion.person.clone();
            Ok(Attendee {
                typed_name: Some(person.name.clone()),
                person,
                role: CheckInRole::Companion,
                health_details: !companion.own_account,
            })
        })
        .collect()
}

/// The current colours of these people: from memory, the rest from the database in one query.
async fn health_of(
    state: &Arc<AppState>,
    person_ids: &[i64],
) -> Result<HashMap<i64, PersonHealth>, DbError> {
    let mut health = HashMap::with_capacity(person_ids.len());
    let mut missing = Vec::new();
    for id in person_ids {
        match state.caches.health.get(*id) {
            Some(known) => {
                health.insert(*id, *known);
            }
            None => missing.push(*id),
        }
    }
    if missing.is_empty() {
        return Ok(health);
    }
    let epoch = state.caches.health.epoch();
    let loaded = state
        .read(move |state, conn| {
            health_codes::health_of(conn, &missing, state.settings.scan.unknown_color)
        })
        .await?;
    for (id, known) in loaded {
        state.caches.health.put(id, Arc::new(known), epoch);
        health.insert(id, known);
    }
    Ok(health)
}

/// One person entering, opened, under the name the recording account knows them by.
struct Attendee {
    person: Person,
    role: CheckInRole,
    /// The name the recording account typed (for a companion, or at the door), kept with the row
    /// so that it never has to be the person's.
    typed_name: Option<PersonName>,
    /// Whether the page may show their latest test and vaccination: only to the person and to
    /// the guardian of someone without an account of their own. Anyone else (venue staff at the
    /// door, the holder of a companion with an account of their own) sees the colour and the
    /// verdict, and the notice says which rule turned them away.
    health_details: bool,
}

/// Everything about one entry except the people.
struct Entry {
    entrance: Arc<EntranceSnapshot>,
    /// The account that recorded it: the resident who scanned, or the venue staff at the door.
    account_id: i64,
    source: CheckInSource,
    time: EntryTime,
    located: bool,
    distance_m: Option<i32>,
    /// The phone number venue staff typed, kept with the row.
    typed_phone: Option<MobileNumber>,
    /// The paper code scanned at the door.
    paper_code_id: Option<i64>,
    /// The temperature venue staff took (a manual check-in).
    temperature: Option<Temperature>,
}

/// Records an entry for `attendees` (the first is the one whose entry it is) through the writer
/// and builds the door page with everyone's current colour. A repeat of the same people at the
/// same entrance within a minute answers the earlier entry.
async fn record(
    state: &Arc<AppState>,
    entry: Entry,
    attendees: Vec<Attendee>,
) -> Result<DoorPage, ScanError> {
    let person_ids: Vec<i64> = attendees.iter().map(|a| a.person.id).collect();
    // Each person's current colour (people without one get UNKNOWN_HEALTH_COLOR), latest test
    // and vaccination; 7. their verdicts, in the rows.
    let health = health_of(state, &person_ids).await?;
    let rows = new_rows(state, &entry, &attendees, &health);
    // 8–10. Repeats, the hourly limit, alert and follow-up, in the writer's transaction.
    let recorded = state
        .check_ins
        .record(check_in_writer::Entry {
            account_id: entry.account_id,
            limit: HourlyLimit::of(&state.settings.scan, entry.source, state.clock.now_naive()),
            rows,
            region_code: entry.entrance.region_code.clone(),
        })
        .await
        .map_err(|e| refused(e, entry.source))?;
    // 11. The door page.
    Ok(page::door_page(
        state,
        &entry.entrance,
        &recorded_rows(&entry.entrance, recorded),
        &attendees,
        &health,
    ))
}

/// What the writer's refusal means for the caller.
fn refused(error: WriteError, source: CheckInSource) -> ScanError {
    match (error, source) {
        (WriteError::LimitReached, CheckInSource::Scan) => ScanError::TooManyScans {
            retry_after_secs: LIMIT_RETRY_AFTER_SECS,
        },
        (WriteError::LimitReached, _) => ScanError::TooManyDoorCheckIns {
            retry_after_secs: LIMIT_RETRY_AFTER_SECS,
        },
        (WriteError::Db(e), _) => ScanError::Db(e),
    }
}

/// The rows a recorded entry answers with: its new ones, or those of the entry it repeats.
fn recorded_rows(entrance: &EntranceSnapshot, recorded: Recorded) -> Vec<CheckInRow> {
    match recorded {
        Recorded::New(rows) => {
            if rows.iter().any(|r| r.health_color == HealthColor::Red) {
                tracing::warn!(
                    venue_id = entrance.venue_id,
                    "red code at a venue: alert raised"
                );
            }
            rows
        }
        Recorded::Repeat(rows) => rows,
    }
}

/// The rows of an entry, one per person, before the writer numbers them.
fn new_rows(
    state: &AppState,
    entry: &Entry,
    attendees: &[Attendee],
    health: &HashMap<i64, PersonHealth>,
) -> Vec<CheckInRow> {
    let entrance = &entry.entrance;
    let now = state.clock.now_naive();
    let ends_at =
        entry.time.scanned_at + Duration::minutes(i64::from(entrance.default_stay_minutes));
    let typed_phone = entry
        .typed_phone
        .as_ref()
        .map(|phone| state.cipher.seal(Field::Phone, phone.as_ref()));
    attendees
        .iter()
        .map(|attendee| {
            let known = &health[&attendee.person.id];
            let (verdict, _) = rules::verdict(
                state.settings.scan.fever_from,
                entrance.test_required_hours,
                known,
                entry.time.scanned_at,
                entry.temperature,
            );
            CheckInRow {
                id: 0,
                venue_id: entrance.venue_id,
                entrance_id: entrance.entrance_id,
                person_id: attendee.person.id,
                account_id: Some(entry.account_id),
                group_id: None,
                role: attendee.role,
                source: entry.source,
                health_color: known.color.color,
                verdict,
                scanned_at: entry.time.scanned_at,
                recorded_at: now,
                ends_at,
                left_at: None,
                offline: entry.time.offline,
                located: entry.located,
                distance_m: entry.distance_m,
                typed_name_sealed: attendee
                    .typed_name
                    .as_ref()
                    .map(|name| state.cipher.seal(Field::Name, name.as_ref())),
                typed_phone_sealed: typed_phone.clone(),
                paper_code_id: entry.paper_code_id,
                temperature_dc: entry.temperature.map(Temperature::tenths),
            }
        })
        .collect()
}
