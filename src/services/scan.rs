//! The scan: `POST /api/v1/check-ins` records the entry of a resident and their companions and
//! answers with the door page. Every rule of the README's "The scan" is here, in its order. Hand
//! registrations and paper codes (`manual_check_ins`, `paper_scans`) record through
//! [`record_at_door`] and answer the same [`DoorPage`].

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime};
use serde::Serialize;

use super::accounts::{consented, consented_person, AccountError};
use super::authorize::{self, VenueRole};
use super::venues::VenueError;
use crate::auth::Account;
use crate::cache::EntranceSnapshot;
use crate::crypto::passes::{PassPerson, PassVenue};
use crate::crypto::Field;
use crate::crypto::VenueCodeRef;
use crate::db::check_ins::{self, CheckInRow, NewCheckIn};
use crate::db::health_codes::{self, CurrentColor};
use crate::db::persons::Person;
use crate::db::{accounts, alerts, companions, regions, venues, DbConnection, DbError};
use crate::domain::{
    CheckInRole, CheckInSource, FieldError, FieldErrors, HealthColor, MapPoint, MobileNumber,
    PersonName, TransportKind, VenueStatus, Verdict,
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
    #[error("the account reached its hourly limit of scans")]
    TooManyScans { retry_after_secs: u32 },
    #[error("the venue staff account reached its hourly limit of registrations")]
    TooManyRegistrations { retry_after_secs: u32 },
    #[error("the scan was made {distance_m} m from the venue")]
    TooFar {
        distance_m: i64,
        max_distance_m: u32,
    },
    #[error("companion {0} is not one of the account's")]
    CompanionNotFound(i64),
    #[error("companion {0} is neither a child nor elderly")]
    CompanionNotEligible(i64),
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
    pub notice: &'static str,
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
    pub id_number: String,
    pub health: HealthOnPage,
    pub verdict: Verdict,
    pub check_in_id: i64,
}

#[derive(Debug, Serialize)]
pub struct HealthOnPage {
    pub color: HealthColor,
    pub updated_at: Option<String>,
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
    let account_id = account.id;
    state
        .read(move |state, conn| {
            // 3. The entrance and venue the code names, still current and approved.
            let entrance = entrance_for_code(state, conn, code)?;
            // 4. The account consented to all three elements.
            let me = consented_person(state, conn, account_id)?;
            // 5. The distance from the venue, when the scan is located.
            let distance_m = check_distance(state, &entrance, input.location)?;
            // 6. Each companion is the account's own and eligible today.
            let mut attendees = vec![Attendee {
                person: me,
                role: CheckInRole::Own,
                typed_name: None,
            }];
            attendees.extend(companions_of(
                state,
                conn,
                account_id,
                &input.companion_ids,
            )?);
            // 7–10. Colours, repeats, the hourly limit and the rows, in one transaction; then
            // the door page.
            record(
                state,
                conn,
                &Entry {
                    entrance,
                    account_id,
                    source: CheckInSource::Scan,
                    time,
                    located: input.location.is_some(),
                    distance_m,
                    typed_phone: None,
                    paper_code_id: None,
                },
                &attendees,
            )
        })
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
    let now = state.clock.now();
    let Some(client_time) = client_time else {
        return Ok(EntryTime::now(state));
    };
    let client_time = client_time.with_timezone(&chrono::Utc);
    if client_time > now + CLOCK_SKEW {
        return Err(FieldErrors::one(
            "scanned_at",
            FieldError::new("scanned_at_future", "扫码时间不能晚于现在"),
        )
        .into());
    }
    let hours = state.settings.scan.offline_window_hours;
    if client_time < now - Duration::hours(i64::from(hours)) {
        return Err(FieldErrors::one(
            "scanned_at",
            FieldError::new(
                "scanned_at_too_old",
                format!("离线扫码记录须在{hours}小时内上传"),
            ),
        )
        .into());
    }
    Ok(EntryTime {
        scanned_at: client_time.naive_utc().min(now.naive_utc()),
        offline: client_time < now - CLOCK_SKEW,
    })
}

/// The entrance behind a venue code, from the cache or the database.
pub fn entrance(
    state: &AppState,
    conn: &mut DbConnection,
    entrance_id: i64,
) -> Result<Option<Arc<EntranceSnapshot>>, DbError> {
    if let Some(snapshot) = state.entrances.get(entrance_id) {
        return Ok(Some(snapshot));
    }
    let Some((entrance, venue)) = venues::entrance_with_venue(conn, entrance_id)? else {
        return Ok(None);
    };
    let (category, subtype_name) = state.taxonomy.label(&venue.category, &venue.subtype);
    let subtype = state.taxonomy.subtype(&venue.category, &venue.subtype);
    let snapshot = Arc::new(EntranceSnapshot {
        entrance_id: entrance.id,
        open: entrance.is_open(),
        entrance_name: entrance.name,
        code_version: entrance.code_version,
        venue_id: venue.id,
        venue_status: venue.status,
        full_address: format!(
            "{}{}",
            regions::full_name_of(conn, &venue.region_code)?,
            venue.address
        ),
        category_label: format!("{category} · {subtype_name}"),
        region_code: venue.region_code,
        default_stay_minutes: subtype.map_or(60, |s| s.default_stay_minutes),
        transport: subtype.and_then(|s| s.transport),
        location: MapPoint::parse(venue.lat, venue.lng).ok(),
        venue_name: venue.name,
    });
    state.entrances.put(Arc::clone(&snapshot));
    Ok(Some(snapshot))
}

/// The open entrance of an approved venue that a scanned code names, or why not.
fn entrance_for_code(
    state: &AppState,
    conn: &mut DbConnection,
    code: VenueCodeRef,
) -> Result<Arc<EntranceSnapshot>, ScanError> {
    let snapshot = entrance(state, conn, code.entrance_id)?.ok_or(ScanError::InvalidCode)?;
    if code.version != snapshot.code_version || !snapshot.open {
        return Err(ScanError::Revoked);
    }
    if snapshot.venue_status != VenueStatus::Approved {
        return Err(ScanError::NotActive);
    }
    Ok(snapshot)
}

/// An entrance of the venue that venue staff register people at: open, approved, of that venue.
pub fn entrance_of_venue(
    state: &AppState,
    conn: &mut DbConnection,
    venue_id: i64,
    entrance_id: i64,
) -> Result<Arc<EntranceSnapshot>, ScanError> {
    let snapshot = entrance(state, conn, entrance_id)?
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
    Ok(snapshot)
}

/// Entries the account recorded in the last hour against its limit, counted inside the
/// transaction that records the next one with the account's row locked, so parallel requests
/// count one after another: a resident's own scans against `CHECKIN_HOURLY_LIMIT`, venue staff's
/// registrations at the door against `MANUAL_CHECKIN_HOURLY_LIMIT`.
fn check_hourly_limit(
    state: &AppState,
    conn: &mut DbConnection,
    entry: &Entry,
) -> Result<(), ScanError> {
    accounts::lock(conn, entry.account_id)?;
    let since = state.clock.now_naive() - Duration::hours(1);
    let policy = &state.settings.scan;
    let (sources, limit): (&[CheckInSource], u32) = match entry.source {
        CheckInSource::Scan => (&[CheckInSource::Scan], policy.hourly_limit),
        CheckInSource::Manual | CheckInSource::Paper => (
            &[CheckInSource::Manual, CheckInSource::Paper],
            policy.door_hourly_limit,
        ),
    };
    let recent = check_ins::entries_by_account_since(conn, entry.account_id, sources, since)?;
    if recent < i64::from(limit) {
        return Ok(());
    }
    let retry_after_secs = LIMIT_RETRY_AFTER_SECS;
    Err(match entry.source {
        CheckInSource::Scan => ScanError::TooManyScans { retry_after_secs },
        _ => ScanError::TooManyRegistrations { retry_after_secs },
    })
}

/// A located scan farther from the venue than `MAX_SCAN_DISTANCE_M` is refused, vehicles exempt.
fn check_distance(
    state: &AppState,
    entrance: &EntranceSnapshot,
    location: Option<MapPoint>,
) -> Result<Option<i32>, ScanError> {
    let (Some(scan), Some(venue)) = (location, entrance.location) else {
        return Ok(None);
    };
    let distance = scan.distance_m(&venue);
    let max = state.settings.scan.max_distance_m;
    if entrance.transport != Some(TransportKind::Vehicle) && distance > f64::from(max) {
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
    conn: &mut DbConnection,
    account_id: i64,
    ids: &[i64],
) -> Result<Vec<Attendee>, ScanError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = companions::find_many(conn, account_id, ids)?;
    let today = state.clock.today();
    ids.iter()
        .map(|id| {
            let (companion, row) = found
                .iter()
                .find(|(c, _)| c.id == *id)
                .ok_or(ScanError::CompanionNotFound(*id))?;
            let person = companions::open(&state.cipher, companion, row)?;
            if !state
                .settings
                .scan
                .companions
                .is_eligible(&person.id_number, today)
            {
                return Err(ScanError::CompanionNotEligible(*id));
            }
            Ok(Attendee {
                typed_name: Some(person.name.clone()),
                person,
                role: CheckInRole::Companion,
            })
        })
        .collect()
}

/// One person entering, opened, under the name the recording account knows them by.
struct Attendee {
    person: Person,
    role: CheckInRole,
    /// The name the recording account typed (for a companion, or at the door), kept with the row
    /// so that it never has to be the person's.
    typed_name: Option<PersonName>,
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
}

/// Records an entry for `attendees` (the first is the one whose scan it is) in one transaction
/// and builds the door page. A repeat of the same people at the same entrance within a minute
/// returns the earlier entry instead.
fn record(
    state: &AppState,
    conn: &mut DbConnection,
    entry: &Entry,
    attendees: &[Attendee],
) -> Result<DoorPage, ScanError> {
    let person_ids: Vec<i64> = attendees.iter().map(|a| a.person.id).collect();
    let (rows, colors) = crate::db::write_transaction::<_, ScanError, _>(conn, |conn| {
        // 7. Each person's current colour; people without one get UNKNOWN_HEALTH_COLOR.
        let colors = health_codes::current(conn, &person_ids, state.settings.scan.unknown_color)?;
        // 8. A repeat within the window returns the earlier entry.
        if let Some(earlier) = repeat_of(conn, entry, attendees)? {
            return Ok((earlier, colors));
        }
        // 9. The recording account's hourly limit.
        check_hourly_limit(state, conn, entry)?;
        // 10. One row per person; a red person raises an alert for the venue's region.
        let rows = insert_rows(state, conn, entry, attendees, &colors)?;
        Ok((rows, colors))
    })?;
    if rows.iter().any(|r| r.health_color == HealthColor::Red) {
        tracing::warn!(
            venue_id = entry.entrance.venue_id,
            "red code at a venue: alert raised"
        );
    }
    Ok(door_page(state, &entry.entrance, &rows, attendees, &colors))
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
}

/// The entrance where `account_id` registers people at the door: the account is the venue's
/// manager or venue staff, consented itself to all three elements (staff at the door are
/// accountable by name), and the entrance is open at an approved venue.
pub fn door_entrance(
    state: &AppState,
    conn: &mut DbConnection,
    account_id: i64,
    venue_id: i64,
    entrance_id: i64,
) -> Result<Arc<EntranceSnapshot>, ScanError> {
    authorize::venue(conn, venue_id, account_id, VenueRole::VenueStaff)?;
    consented(conn, account_id)?;
    entrance_of_venue(state, conn, venue_id, entrance_id)
}

/// Records one person entering now, registered at the door (rules 7–11).
pub fn record_at_door(
    state: &AppState,
    conn: &mut DbConnection,
    registration: DoorRegistration,
) -> Result<DoorPage, ScanError> {
    let typed_name = registration
        .name_typed
        .then(|| registration.person.name.clone());
    record(
        state,
        conn,
        &Entry {
            entrance: registration.entrance,
            account_id: registration.venue_staff_account,
            source: registration.source,
            time: EntryTime::now(state),
            located: false,
            distance_m: None,
            typed_phone: registration.typed_phone,
            paper_code_id: registration.paper_code_id,
        },
        &[Attendee {
            person: registration.person,
            role: CheckInRole::Own,
            typed_name,
        }],
    )
}

/// The earlier entry of the same people at the same entrance within the repeat window.
fn repeat_of(
    conn: &mut DbConnection,
    entry: &Entry,
    attendees: &[Attendee],
) -> Result<Option<Vec<CheckInRow>>, DbError> {
    let first = &attendees[0].person;
    let Some(earlier) = check_ins::near_in_time(
        conn,
        first.id,
        entry.entrance.entrance_id,
        entry.time.scanned_at,
        REPEAT_WINDOW,
    )?
    else {
        return Ok(None);
    };
    let group = check_ins::group(conn, earlier.group_id.unwrap_or(earlier.id))?;
    let same_people = group.len() == attendees.len()
        && group
            .iter()
            .zip(attendees)
            .all(|(row, a)| row.person_id == a.person.id);
    Ok(same_people.then_some(group))
}

fn insert_rows(
    state: &AppState,
    conn: &mut DbConnection,
    entry: &Entry,
    attendees: &[Attendee],
    colors: &HashMap<i64, CurrentColor>,
) -> Result<Vec<CheckInRow>, DbError> {
    let entrance = &entry.entrance;
    let now = state.clock.now_naive();
    let ends_at =
        entry.time.scanned_at + Duration::minutes(i64::from(entrance.default_stay_minutes));
    let new_rows: Vec<NewCheckIn> = attendees
        .iter()
        .map(|attendee| {
            let color = colors[&attendee.person.id].color;
            NewCheckIn {
                venue_id: entrance.venue_id,
                entrance_id: entrance.entrance_id,
                person_id: attendee.person.id,
                account_id: Some(entry.account_id),
                role: attendee.role,
                source: entry.source,
                color,
                verdict: color.verdict(),
                scanned_at: entry.time.scanned_at,
                recorded_at: now,
                ends_at,
                offline: entry.time.offline,
                located: entry.located,
                distance_m: entry.distance_m,
                typed_name_sealed: attendee
                    .typed_name
                    .as_ref()
                    .map(|name| state.cipher.seal(Field::Name, name.as_ref())),
                typed_phone_sealed: entry
                    .typed_phone
                    .as_ref()
                    .map(|phone| state.cipher.seal(Field::Phone, phone.as_ref())),
                paper_code_id: entry.paper_code_id,
            }
        })
        .collect();
    let ids = check_ins::insert_group(conn, &new_rows)?;
    for (id, row) in ids.iter().zip(&new_rows) {
        if row.color == HealthColor::Red {
            alerts::raise_red_scan(
                conn,
                row.venue_id,
                &entrance.region_code,
                *id,
                row.person_id,
                now,
            )?;
        }
    }
    check_ins::group(conn, ids[0])
}

/// The page shown at the door: the venue, each person masked with their colour and verdict, the
/// worst verdict on top with its notice, and a signed pass.
fn door_page(
    state: &AppState,
    entrance: &EntranceSnapshot,
    rows: &[CheckInRow],
    attendees: &[Attendee],
    colors: &HashMap<i64, CurrentColor>,
) -> DoorPage {
    let clock = &state.clock;
    let people: Vec<PersonOnPage> = rows
        .iter()
        .zip(attendees)
        .map(|(row, attendee)| PersonOnPage {
            role: attendee.role,
            name: attendee.person.name.masked(),
            id_number: attendee.person.id_number.masked(),
            health: HealthOnPage {
                color: row.health_color,
                updated_at: colors
                    .get(&row.person_id)
                    .and_then(|c| c.updated_at)
                    .map(|t| clock.show(t)),
            },
            verdict: row.verdict,
            check_in_id: row.id,
        })
        .collect();
    let verdict = Verdict::worst(people.iter().map(|p| p.verdict));
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
        notice: verdict.notice(),
    }
}
