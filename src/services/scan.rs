//! The scan: `POST /api/v1/check-ins` records the entry of a resident and their companions and
//! answers with the door page. Every rule of the README's "The scan" is here, in its order. Hand
//! registrations and paper codes (`manual_check_ins`, `paper_scans`) record through
//! [`record_at_door`] and answer the same [`DoorPage`].
//!
//! At the peak nothing known before the request is read during it: the entrance, the account
//! (consent, person, companions) and colours come from memory (`cache/`, kept true on every node
//! by `cache_sync`); the rows go to the one writer of check-ins (`db/check_in_writer.rs`), which
//! counts the hourly limit, finds repeats and writes many scans in one transaction, and answers
//! once they are durable. The pass token is the only signature made per scan.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime};
use serde::Serialize;

use super::accounts::{self as account_service, consented, consented_snapshot, AccountError};
use super::authorize::{self, VenueRole};
use super::venues::VenueError;
use crate::auth::Account;
use crate::cache::{AccountSnapshot, EntranceSnapshot};
use crate::crypto::passes::{PassPerson, PassVenue};
use crate::crypto::{Field, VenueCodeRef};
use crate::db::check_in_writer::{self, HourlyLimit, Recorded, WriteError};
use crate::db::check_ins::CheckInRow;
use crate::db::health_codes::{self, PersonHealth};
use crate::db::persons::Person;
use crate::db::{regions, venues, DbConnection, DbError};

use crate::domain::{
    test_required_notice, CheckInRole, CheckInSource, CompanionRule, FieldError, FieldErrors,
    HealthColor, IdType, MapPoint, MobileNumber, PersonName, Temperature, TestResult,
    TransportKind, VenueStatus, Verdict,
};
use crate::state::AppState;

/// A scan at the same entrance within this time returns the earlier check-in.
const REPEAT_WINDOW: Duration = Duration::seconds(60);
/// A client clock this far ahead of ours still counts as now.
const CLOCK_SKEW: Duration = Duration::seconds(120);
/// How long a client is asked to wait after reaching the hourly limit.
const LIMIT_RETRY_AFTER_SECS: u32 = 600;

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("the code is not a venue code of ours")]
    InvalidCode,
    #[error("the code was replaced or its entrance closed")]
    Revoked,
    #[error("the venue is not approved")]
    NotActive,
    #[error("the entrance is closed")]
    EntranceClosed,
    #[error("the venue is suspended")]
    Suspended,
    #[error("the account reached its hourly limit of scans")]
    TooManyScans { retry_after_secs: u32 },
    #[error("the venue staff account reached its hourly limit of registrations")]
    TooManyRegistrations { retry_after_secs: u32 },
    /// `REQUIRE_SCAN_LOCATION` is on and the scan came without a location.
    #[error("the scan came without a location")]
    LocationRequired,
    #[error("the scan was made {distance_m} m from the venue")]
    TooFar {
        distance_m: i64,
        max_distance_m: u32,
    },
    #[error("companion {0} is not one of the account's")]
    CompanionNotFound(i64),
    #[error("companion {0} has an account of their own and has not accepted")]
    CompanionNotAccepted(i64),
    #[error("companion {0} is neither a child nor elderly")]
    CompanionNotEligible(i64, CompanionRule),
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

/// The door page.
#[derive(Debug, Serialize)]
pub struct DoorPage {
    pub check_in_id: i64,
    pub scanned_at: String,
    pub offline: bool,
    pub venue: VenueOnPage,
    pub verdict: Verdict,
    pub people: Vec<PersonOnPage>,
    pub pass: PassOnPage,
    pub notice: String,
}

#[derive(Debug, Serialize)]
pub struct VenueOnPage {
    pub id: i64,
    pub name: String,
    pub entrance: String,
    pub address: String,
    pub category: String,
}

#[derive(Debug, Serialize)]
pub struct PersonOnPage {
    pub role: CheckInRole,
    pub name: String,
    /// `None` with the number for someone registered by hand with a mobile number only.
    pub id_type: Option<IdType>,
    /// Masked.
    pub id_number: Option<String>,
    pub health: HealthOnPage,
    /// °C, when venue staff took it at a hand registration.
    pub temperature: Option<f64>,
    pub verdict: Verdict,
    pub check_in_id: i64,
}

#[derive(Debug, Serialize)]
pub struct HealthOnPage {
    pub color: HealthColor,
    pub updated_at: Option<String>,
    /// The latest nucleic-acid result on record.
    pub test: Option<TestOnPage>,
    pub vaccination: Option<VaccinationOnPage>,
}

#[derive(Debug, Serialize)]
pub struct TestOnPage {
    pub result: TestResult,
    pub sampled_at: String,
}

#[derive(Debug, Serialize)]
pub struct VaccinationOnPage {
    pub doses: i16,
    /// `YYYY-MM-DD`, when known.
    pub last_dose_on: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PassOnPage {
    pub token: String,
    pub expires_at: String,
}

/// A resident scans a venue code, for themself and their companions.
pub async fn scan(
    state: &Arc<AppState>,
    account: &Account,
    input: ScanInput,
) -> Result<DoorPage, ScanError> {
    // 1. The code's signature first: a forged code costs no database work.
    let code = state
        .venue_codes
        .parse_scanned(&input.code, &state.settings.server.venue_code_hosts)
        .map_err(|_| ScanError::InvalidCode)?;
    // 2. The entry time: now, or the client's own time for an offline scan.
    let time = entry_time(state, input.scanned_at)?;
    // 3. The entrance and venue the code names, still current and approved.
    let entrance = entrance_for_code(state, code).await?;
    // 4. The account consented to all three elements.
    let snapshot = account_service::snapshot(state, account.id).await?;
    let me = consented_snapshot(&snapshot)?;
    // 5. The distance from the venue, when the scan is located.
    let distance_m = check_distance(state, &entrance, input.location)?;
    // 6. Each companion is the account's own and eligible today.
    let mut attendees = vec![Attendee {
        person: me.clone(),
        role: CheckInRole::Own,
        typed_name: None,
        health_details: true,
    }];
    attendees.extend(companions_of(state, &snapshot, &input.companion_ids)?);
    // 7–10. Colours, then repeats, the hourly limit and the rows by the writer; the door page.
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

/// When the entry happened, by the client's clock when it scanned offline.
#[derive(Debug, Clone, Copy)]
pub struct EntryTime {
    pub scanned_at: NaiveDateTime,
    pub offline: bool,
}

impl EntryTime {
    pub fn now(state: &AppState) -> Self {
        Self {
            scanned_at: state.clock.now_naive(),
            offline: false,
        }
    }
}

/// A client's `scanned_at` may not lie in the future nor before the offline window.
fn entry_time(
    state: &AppState,
    client_time: Option<DateTime<FixedOffset>>,
) -> Result<EntryTime, ScanError> {
    match client_time {
        None => Ok(EntryTime::now(state)),
        Some(time) => {
            EntryTime::offline(state, time).map_err(|e| FieldErrors::one("scanned_at", e).into())
        }
    }
}

impl EntryTime {
    /// An entry at a time of the client's (or of a paper sheet's), which may not lie in the
    /// future nor before the offline window.
    pub fn offline(state: &AppState, time: DateTime<FixedOffset>) -> Result<Self, FieldError> {
        let now = state.clock.now();
        let time = time.with_timezone(&chrono::Utc);
        if time > now + CLOCK_SKEW {
            return Err(FieldError::new("scanned_at_future", "扫码时间不能晚于现在"));
        }
        let hours = state.settings.scan.offline_window_hours;
        if time < now - Duration::hours(i64::from(hours)) {
            return Err(FieldError::new(
                "scanned_at_too_old",
                format!("离线扫码记录须在{hours}小时内上传"),
            ));
        }
        Ok(EntryTime {
            scanned_at: time.naive_utc().min(now.naive_utc()),
            offline: time < now - CLOCK_SKEW,
        })
    }
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

/// The open entrance of an approved venue that a scanned code names, or why not.
async fn entrance_for_code(
    state: &Arc<AppState>,
    code: VenueCodeRef,
) -> Result<Arc<EntranceSnapshot>, ScanError> {
    let snapshot = entrance(state, code.entrance_id)
        .await?
        .ok_or(ScanError::InvalidCode)?;
    if code.version != snapshot.code_version || !snapshot.open {
        return Err(ScanError::Revoked);
    }
    if snapshot.venue_status != VenueStatus::Approved {
        return Err(ScanError::NotActive);
    }
    if snapshot.suspended {
        return Err(ScanError::Suspended);
    }
    Ok(snapshot)
}

/// A located scan farther from the venue than `MAX_SCAN_DISTANCE_M` is refused, and with
/// `REQUIRE_SCAN_LOCATION` one without a location; vehicles are exempt from both.
fn check_distance(
    state: &AppState,
    entrance: &EntranceSnapshot,
    location: Option<MapPoint>,
) -> Result<Option<i32>, ScanError> {
    let vehicle = entrance.transport == Some(TransportKind::Vehicle);
    if location.is_none() && state.settings.scan.require_location && !vehicle {
        return Err(ScanError::LocationRequired);
    }
    let (Some(scan), Some(venue)) = (location, entrance.location) else {
        return Ok(None);
    };
    let distance = scan.distance_m(&venue);
    let max = state.settings.scan.max_distance_m;
    if !vehicle && distance > f64::from(max) {
        return Err(ScanError::TooFar {
            distance_m: distance.round() as i64,
            max_distance_m: max,
        });
    }
    Ok(Some(distance.round().min(f64::from(i32::MAX)) as i32))
}

/// The account's companions of these ids, each eligible today, in the order asked.
fn companions_of(
    state: &AppState,
    account: &AccountSnapshot,
    ids: &[i64],
) -> Result<Vec<Attendee>, ScanError> {
    let today = state.clock.today();
    ids.iter()
        .map(|id| {
            let companion = account
                .companions
                .iter()
                .find(|c| c.id == *id)
                .ok_or(ScanError::CompanionNotFound(*id))?;
            if !companion.accepted {
                return Err(ScanError::CompanionNotAccepted(*id));
            }
            let person = companion.person.clone();
            let rule = state.settings.scan.companions;
            if !person
                .birth_date
                .is_some_and(|born| rule.is_eligible(born, today))
            {
                return Err(ScanError::CompanionNotEligible(
                    *id,
                    state.settings.scan.companions,
                ));
            }
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

/// Why the door turned a person away, if not for their colour alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    /// The colour decides (green passes).
    Colour,
    /// A temperature of `FEVER_FROM_C` or more.
    Fever,
    /// The venue requires a recent negative result and there is none.
    NoRecentTest,
}

/// A person's verdict at this door at `at`: their colour's; for a colour that passes, deny with a
/// fever, or where the venue requires a recent negative result and there is none sampled within
/// its hours.
fn verdict_at(
    state: &AppState,
    entrance: &EntranceSnapshot,
    health: &PersonHealth,
    at: NaiveDateTime,
    temperature: Option<Temperature>,
) -> (Verdict, Cause) {
    let by_color = health.color.color.verdict();
    if by_color != Verdict::Pass {
        return (by_color, Cause::Colour);
    }
    if temperature.is_some_and(|t| t >= state.settings.scan.fever_from) {
        return (Verdict::Deny, Cause::Fever);
    }
    if let Some(hours) = entrance.test_required_hours {
        let fresh = health.test.is_some_and(|t| {
            t.result == TestResult::Negative
                && t.sampled_at >= at - Duration::hours(i64::from(hours))
        });
        if !fresh {
            return (Verdict::Deny, Cause::NoRecentTest);
        }
    }
    (Verdict::Pass, Cause::Colour)
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
    /// The temperature venue staff took (a hand registration).
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
    // 7. Each person's current colour (people without one get UNKNOWN_HEALTH_COLOR), latest test
    // and vaccination.
    let health = health_of(state, &person_ids).await?;
    let rows = new_rows(state, &entry, &attendees, &health);
    // 8–10. Repeats, the hourly limit and the rows, in the writer's transaction.
    let recorded = state
        .check_ins
        .record(check_in_writer::Entry {
            account_id: entry.account_id,
            limit: hourly_limit(state, entry.source),
            rows,
            region_code: entry.entrance.region_code.clone(),
            repeat_window: REPEAT_WINDOW,
        })
        .await
        .map_err(|e| refused(e, entry.source))?;
    // 11. The door page.
    Ok(door_page(
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
        (WriteError::LimitReached, _) => ScanError::TooManyRegistrations {
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

/// The hourly limit of the recording account: its own scans, or its registrations at the door.
fn hourly_limit(state: &AppState, source: CheckInSource) -> HourlyLimit {
    let policy = &state.settings.scan;
    let (sources, per_hour): (&'static [CheckInSource], u32) = match source {
        CheckInSource::Scan => (&[CheckInSource::Scan], policy.hourly_limit),
        CheckInSource::Manual | CheckInSource::Paper => (
            &[CheckInSource::Manual, CheckInSource::Paper],
            policy.door_hourly_limit,
        ),
    };
    let since = state.clock.now_naive() - Duration::hours(1);
    HourlyLimit {
        sources,
        per_hour,
        since,
        scanned_since: since - Duration::hours(i64::from(policy.offline_window_hours)) - CLOCK_SKEW,
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
            let (verdict, _) = verdict_at(
                state,
                entrance,
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

/// One person registered at the door by venue staff: by hand, or from their paper code.
pub struct DoorRegistration {
    pub entrance: Arc<EntranceSnapshot>,
    pub venue_staff_account: i64,
    pub source: CheckInSource,
    /// The person, under the name the door page shows: what was typed for a hand registration,
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
                FieldError::new("entrance_unknown", "该场所没有这个入口"),
            )
        })?;
    if !snapshot.open {
        return Err(ScanError::EntranceClosed);
    }
    if snapshot.venue_status != VenueStatus::Approved {
        return Err(ScanError::NotActive);
    }
    if snapshot.suspended {
        return Err(ScanError::Suspended);
    }
    Ok(snapshot)
}

/// Records one person entering now, registered at the door (rules 7–11).
pub async fn record_at_door(
    state: &Arc<AppState>,
    registration: DoorRegistration,
) -> Result<DoorPage, ScanError> {
    let typed_name = registration
        .name_typed
        .then(|| registration.person.name.clone());
    record(
        state,
        Entry {
            entrance: registration.entrance,
            account_id: registration.venue_staff_account,
            source: registration.source,
            time: EntryTime::now(state),
            located: false,
            distance_m: None,
            typed_phone: registration.typed_phone,
            paper_code_id: registration.paper_code_id,
            temperature: registration.temperature,
        },
        vec![Attendee {
            person: registration.person,
            role: CheckInRole::Own,
            typed_name,
            // Venue staff at the door: the verdict and its rule, not the health details.
            health_details: false,
        }],
    )
    .await
}

/// One row of a paper sheet the door kept while it could not record (`DoorRegistration`, with
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
    let limit = hourly_limit(state, CheckInSource::Manual);
    let to_write = entries
        .iter()
        .map(|(entry, attendees)| check_in_writer::Entry {
            account_id: venue_staff_account,
            limit,
            rows: new_rows(state, entry, attendees, &health),
            region_code: entrance.region_code.clone(),
            repeat_window: REPEAT_WINDOW,
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
            door_page(state, &entrance, &rows, attendees, &health)
        })
        .collect())
}

/// The door's notice: the worst verdict's, unless everyone turned away was turned away for a
/// fever or for want of a recent negative result; then that reason, the fever first.
fn door_notice(
    state: &AppState,
    entrance: &EntranceSnapshot,
    verdict: Verdict,
    causes: &[(Verdict, Cause, Option<Temperature>)],
) -> String {
    let denied = || causes.iter().filter(|(v, ..)| *v == verdict);
    if verdict != Verdict::Deny || denied().any(|(_, cause, _)| *cause == Cause::Colour) {
        return verdict.notice().to_owned();
    }
    if let Some(t) = denied().find_map(|(_, cause, t)| (*cause == Cause::Fever).then_some(*t)?) {
        return format!(
            "体温{}℃，达到{}℃及以上，请勿进入，请做好防护并前往就近发热门诊就诊。",
            t.shown(),
            state.settings.scan.fever_from.shown()
        );
    }
    match entrance.test_required_hours {
        Some(hours) => test_required_notice(hours),
        None => verdict.notice().to_owned(),
    }
}

/// The page shown at the door: the venue, each person masked with their colour and verdict, the
/// worst verdict on top with its notice, and a signed pass.
fn door_page(
    state: &AppState,
    entrance: &EntranceSnapshot,
    rows: &[CheckInRow],
    attendees: &[Attendee],
    health: &HashMap<i64, PersonHealth>,
) -> DoorPage {
    let clock = &state.clock;
    let mut causes = Vec::with_capacity(rows.len());
    let people: Vec<PersonOnPage> = rows
        .iter()
        .zip(attendees)
        .map(|(row, attendee)| {
            // A repeat answers the earlier rows, with each person's health as it is now.
            let known = &health[&row.person_id];
            let temperature = row.temperature_dc.map(Temperature::from_tenths);
            let (verdict, cause) = verdict_at(state, entrance, known, row.scanned_at, temperature);
            causes.push((verdict, cause, temperature));
            PersonOnPage {
                role: attendee.role,
                name: attendee.person.name.masked(),
                id_type: attendee.person.id_type(),
                id_number: attendee.person.masked_id_number(),
                health: HealthOnPage {
                    color: known.color.color,
                    // When an official last changed it is the person's business too.
                    updated_at: known
                        .color
                        .updated_at
                        .filter(|_| attendee.health_details)
                        .map(|t| clock.show(t)),
                    test: known
                        .test
                        .filter(|_| attendee.health_details)
                        .map(|t| TestOnPage {
                            result: t.result,
                            sampled_at: clock.show(t.sampled_at),
                        }),
                    vaccination: known
                        .vaccination
                        .filter(|_| attendee.health_details)
                        .map(|v| VaccinationOnPage {
                            doses: v.doses,
                            last_dose_on: v.last_dose_on.map(|d| d.to_string()),
                        }),
                },
                temperature: temperature.map(Temperature::celsius),
                verdict,
                check_in_id: row.id,
            }
        })
        .collect();
    let verdict = Verdict::worst(people.iter().map(|p| p.verdict));
    let notice = door_notice(state, entrance, verdict, &causes);
    let scanned_at = clock.show(rows[0].scanned_at);
    let (token, expires_at) = state.passes.issue(
        clock.now(),
        rows[0].id,
        scanned_at.clone(),
        PassVenue {
            id: entrance.venue_id,
            name: entrance.venue_name.clone(),
            entrance: entrance.entrance_name.clone(),
        },
        verdict,
        people
            .iter()
            .map(|p| PassPerson {
                role: p.role.as_str().to_owned(),
                name: p.name.clone(),
                id_type: p.id_type,
                id_number: p.id_number.clone(),
                color: p.health.color,
                verdict: p.verdict,
            })
            .collect(),
    );
    DoorPage {
        check_in_id: rows[0].id,
        scanned_at,
        offline: rows[0].offline,
        venue: VenueOnPage {
            id: entrance.venue_id,
            name: entrance.venue_name.clone(),
            entrance: entrance.entrance_name.clone(),
            address: entrance.full_address.clone(),
            category: entrance.category_label.clone(),
        },
        verdict,
        people,
        pass: PassOnPage {
            token,
            expires_at: clock.show_utc(expires_at),
        },
        notice,
    }
}
