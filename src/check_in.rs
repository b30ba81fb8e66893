//! The scan, as one use case shared by the three ways a person gets in: scanning the venue code
//! (with companions), being registered by hand, and showing a printed personal code. Each records
//! one row per person in one transaction and answers with the same door page.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, NaiveDateTime, TimeZone, Utc};
use serde::Serialize;

use crate::db::check_ins::{self, CheckInRow, NewCheckIn, Source};
use crate::db::persons::Person;
use crate::db::regions;
use crate::db::venues;
use crate::db::{alerts, health_codes, DbConnection, DbError};
use crate::domain::{HealthColor, MapPoint, RegionCode, VenueCodeRef, VenueStatus, Verdict};
use crate::entrance_cache::EntranceSnapshot;
use crate::error::{ApiError, ErrorCode};
use crate::localtime::rfc3339;
use crate::passes::{PassPerson, PassVenue};
use crate::state::AppState;

/// A scan at the same entrance within this time returns the earlier check-in.
const DUPLICATE_WINDOW: Duration = Duration::seconds(60);
/// A client clock this far ahead of ours still counts as now.
const CLOCK_SKEW: Duration = Duration::seconds(120);

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
    let region_path = match RegionCode::parse(&venue.region_code) {
        Ok(code) => regions::path(conn, &code)?,
        Err(_) => Vec::new(),
    };
    let category = state.taxonomy.category(&venue.category);
    let subtype = state.taxonomy.subtype(&venue.category, &venue.subtype);
    let snapshot = Arc::new(EntranceSnapshot {
        entrance_id: entrance.id,
        open: entrance.is_open(),
        entrance_name: entrance.name,
        code_version: entrance.code_version,
        venue_id: venue.id,
        venue_status: venue.status(),
        full_address: format!("{}{}", regions::full_name(&region_path), venue.address),
        category_label: match (category, subtype) {
            (Some(c), Some(s)) => format!("{} · {}", c.name, s.name),
            _ => venue.category.clone(),
        },
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
pub fn entrance_for_code(
    state: &AppState,
    conn: &mut DbConnection,
    code: VenueCodeRef,
) -> Result<Arc<EntranceSnapshot>, ApiError> {
    let snapshot = entrance(state, conn, code.entrance_id)?
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidVenueCode))?;
    if code.version != snapshot.code_version || !snapshot.open {
        return Err(ApiError::new(ErrorCode::VenueCodeRevoked));
    }
    if snapshot.venue_status != VenueStatus::Approved {
        return Err(ApiError::new(ErrorCode::VenueNotActive));
    }
    Ok(snapshot)
}

/// An entrance of a venue that staff register people at: open, approved, of that venue.
pub fn entrance_of_venue(
    state: &AppState,
    conn: &mut DbConnection,
    venue_id: i64,
    entrance_id: i64,
) -> Result<Arc<EntranceSnapshot>, ApiError> {
    let snapshot = entrance(state, conn, entrance_id)?
        .filter(|s| s.venue_id == venue_id)
        .ok_or_else(|| {
            ApiError::invalid_field(
                "entrance_id",
                crate::domain::FieldError::new("entrance_unknown", "该场所没有这个入口"),
            )
        })?;
    if !snapshot.open {
        return Err(ApiError::new(ErrorCode::EntranceClosed));
    }
    if snapshot.venue_status != VenueStatus::Approved {
        return Err(ApiError::new(ErrorCode::VenueNotActive));
    }
    Ok(snapshot)
}

/// When the entry happened, by the client's clock when it scanned offline.
#[derive(Debug, Clone, Copy)]
pub struct EntryTime {
    pub scanned_at: NaiveDateTime,
    pub offline: bool,
}

/// Checks a client's `scanned_at`: not in the future, not older than the offline window.
pub fn entry_time(
    state: &AppState,
    client_time: Option<chrono::DateTime<chrono::FixedOffset>>,
) -> Result<EntryTime, ApiError> {
    let now = Utc::now();
    let Some(client_time) = client_time else {
        return Ok(EntryTime {
            scanned_at: now.naive_utc(),
            offline: false,
        });
    };
    let client_time = client_time.with_timezone(&Utc);
    if client_time > now + CLOCK_SKEW {
        return Err(ApiError::invalid_field(
            "scanned_at",
            crate::domain::FieldError::new("scanned_at_future", "扫码时间不能晚于现在"),
        ));
    }
    let window = Duration::hours(i64::from(state.settings.scan.offline_window_hours));
    if client_time < now - window {
        return Err(ApiError::invalid_field(
            "scanned_at",
            crate::domain::FieldError::new(
                "scanned_at_too_old",
                format!(
                    "离线扫码记录须在{}小时内上传",
                    state.settings.scan.offline_window_hours
                ),
            ),
        ));
    }
    Ok(EntryTime {
        scanned_at: client_time.naive_utc().min(now.naive_utc()),
        offline: client_time < now - CLOCK_SKEW,
    })
}

/// Where the scan was made, checked against the venue: too far is refused, vehicles exempt.
pub fn check_distance(
    state: &AppState,
    entrance: &EntranceSnapshot,
    location: Option<MapPoint>,
) -> Result<Option<i32>, ApiError> {
    let (Some(scan), Some(venue)) = (location, entrance.location) else {
        return Ok(None);
    };
    let distance = scan.distance_m(&venue);
    let exempt = entrance.transport == Some(crate::domain::TransportKind::Vehicle);
    if !exempt && distance > f64::from(state.settings.scan.max_distance_m) {
        return Err(
            ApiError::new(ErrorCode::TooFarFromVenue).with_details(serde_json::json!({
                "distance_m": distance.round() as i64,
                "max_distance_m": state.settings.scan.max_distance_m
            })),
        );
    }
    Ok(Some(distance.round().min(f64::from(i32::MAX)) as i32))
}

/// One person entering, opened.
pub struct Attendee {
    pub person: Person,
    pub companion: bool,
}

/// Everything about one entry except the people.
pub struct Entry {
    pub entrance: Arc<EntranceSnapshot>,
    pub account_id: Option<i64>,
    pub source: Source,
    pub time: EntryTime,
    pub located: bool,
    pub distance_m: Option<i32>,
}

/// The door page.
#[derive(Debug, Serialize)]
pub struct CheckInDisplay {
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
    pub role: &'static str,
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

/// What the door does, in words for the person and the staff.
pub fn notice(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "绿码，请通行。请配合工作人员查验，做好个人防护。",
        Verdict::Deny => "黄码，禁止进入公共场所，不得乘坐公共交通工具。请立即返回驻地并做好个人防护，所在街道（社区）将跟进管理。",
        Verdict::Isolate => "红码，请在原地等候，配合工作人员采取临时隔离管控措施，已通知驻地防控办，请配合核酸检测。",
    }
}

/// Records an entry for `attendees` (the first is the one whose scan it is) in one transaction
/// and builds the door page. A repeat of the same first person at the same entrance within a
/// minute returns the earlier entry instead.
pub fn record(
    state: &AppState,
    conn: &mut DbConnection,
    entry: &Entry,
    attendees: &[Attendee],
) -> Result<CheckInDisplay, ApiError> {
    let first = attendees.first().expect("an entry has at least one person");
    let person_ids: Vec<i64> = attendees.iter().map(|a| a.person.id).collect();
    let (rows, colors) = crate::db::write_transaction::<_, ApiError, _>(conn, |conn| {
        let colors = health_codes::current(conn, &person_ids, state.settings.scan.unknown_color)?;
        if let Some(earlier) = check_ins::near_in_time(
            conn,
            first.person.id,
            entry.entrance.entrance_id,
            entry.time.scanned_at,
            DUPLICATE_WINDOW,
        )? {
            let group = check_ins::group(conn, earlier.group_id.unwrap_or(earlier.id))?;
            let same_people = group.len() == attendees.len()
                && group
                    .iter()
                    .zip(attendees)
                    .all(|(row, a)| row.person_id == a.person.id);
            if same_people {
                return Ok((group, colors));
            }
        }
        let ends_at = entry.time.scanned_at
            + Duration::minutes(i64::from(entry.entrance.default_stay_minutes));
        let new_rows: Vec<NewCheckIn> = attendees
            .iter()
            .map(|attendee| {
                let color = colors[&attendee.person.id].color;
                NewCheckIn {
                    venue_id: entry.entrance.venue_id,
                    entrance_id: entry.entrance.entrance_id,
                    person_id: attendee.person.id,
                    account_id: entry.account_id,
                    companion: attendee.companion,
                    source: entry.source,
                    color,
                    verdict: color.verdict(),
                    scanned_at: entry.time.scanned_at,
                    ends_at,
                    offline: entry.time.offline,
                    located: entry.located,
                    distance_m: entry.distance_m,
                }
            })
            .collect();
        let ids = check_ins::insert_group(conn, &new_rows)?;
        for (id, row) in ids.iter().zip(&new_rows) {
            if row.color == HealthColor::Red {
                alerts::raise(
                    conn,
                    row.venue_id,
                    &entry.entrance.region_code,
                    *id,
                    row.person_id,
                )?;
            }
        }
        let group = check_ins::group(conn, ids[0])?;
        Ok((group, colors))
    })?;
    if rows.iter().any(|r| r.color() == HealthColor::Red) {
        tracing::warn!(
            venue_id = entry.entrance.venue_id,
            "red code at a venue: alert raised"
        );
    }
    Ok(display(state, &entry.entrance, &rows, attendees, &colors))
}

fn display(
    state: &AppState,
    entrance: &EntranceSnapshot,
    rows: &[CheckInRow],
    attendees: &[Attendee],
    colors: &HashMap<i64, health_codes::CurrentColor>,
) -> CheckInDisplay {
    let zone = state.settings.timezone;
    let local = |t: NaiveDateTime| rfc3339(Utc.from_utc_datetime(&t), zone);
    let people: Vec<PersonOnPage> = rows
        .iter()
        .zip(attendees)
        .map(|(row, attendee)| PersonOnPage {
            role: if attendee.companion {
                "companion"
            } else {
                "self"
            },
            name: attendee.person.name.masked(),
            id_number: attendee.person.id_number.masked(),
            health: HealthOnPage {
                color: row.color(),
                updated_at: colors
                    .get(&row.person_id)
                    .and_then(|c| c.updated_at)
                    .map(local),
            },
            verdict: row.verdict(),
            check_in_id: row.id,
        })
        .collect();
    let verdict = Verdict::worst(people.iter().map(|p| p.verdict));
    let scanned_at = local(rows[0].scanned_at);
    let (token, expires_at) = state.passes.issue(
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
                role: p.role.to_owned(),
                name: p.name.clone(),
                id_number: p.id_number.clone(),
                color: p.health.color,
                verdict: p.verdict,
            })
            .collect(),
    );
    CheckInDisplay {
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
            expires_at: rfc3339(expires_at, zone),
        },
        notice: notice(verdict),
    }
}
