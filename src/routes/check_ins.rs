//! The scan: `POST /api/v1/check-ins` records the entry of the resident and their companions and
//! answers with the door page. Also checkout and the 14-day itinerary.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use super::local_time;
use crate::auth::Resident;
use crate::check_in::{self, Attendee, Entry};
use crate::db::check_ins::{self, Source};
use crate::db::{accounts, companions, persons, regions, DbConnection};
use crate::domain::{FieldError, MapPoint, RegionCode};
use crate::error::{ApiError, ErrorCode, Invalid};
use crate::extract::{Json, Query};
use crate::state::{AppState, State};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    code: String,
    #[serde(default)]
    companion_ids: Vec<i64>,
    location: Option<LocationRequest>,
    scanned_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationRequest {
    lat: f64,
    lng: f64,
}

/// Parses the optional parts of a scan request, naming each bad field.
fn check_scan_fields(
    request: &ScanRequest,
) -> Result<(Option<MapPoint>, Option<DateTime<FixedOffset>>), ApiError> {
    let mut invalid = Invalid::default();
    let location = request
        .location
        .as_ref()
        .and_then(|l| invalid.check("location", MapPoint::parse(l.lat, l.lng)));
    let scanned_at = request.scanned_at.as_deref().and_then(|t| {
        invalid.check(
            "scanned_at",
            DateTime::parse_from_rfc3339(t).map_err(|_| {
                FieldError::new("scanned_at_invalid", "扫码时间应为带时区的 RFC 3339 时间")
            }),
        )
    });
    let mut seen = std::collections::HashSet::new();
    if request.companion_ids.len() > companions::MAX_PER_ACCOUNT as usize
        || !request.companion_ids.iter().all(|id| seen.insert(*id))
    {
        invalid.add(
            "companion_ids",
            FieldError::new("companion_ids_invalid", "同行人员不能重复，且最多5人"),
        );
    }
    invalid.finish()?;
    Ok((location, scanned_at))
}

/// 403 with the missing elements unless the account consented to all three.
pub(crate) fn consented_person(
    state: &AppState,
    conn: &mut DbConnection,
    account_id: i64,
) -> Result<persons::Person, ApiError> {
    let account =
        accounts::find(conn, account_id)?.ok_or_else(|| ApiError::new(ErrorCode::Unauthorized))?;
    let consent = account.consent();
    if !consent.is_complete() {
        return Err(ApiError::new(ErrorCode::ConsentRequired)
            .with_details(serde_json::json!({ "missing": consent.missing() })));
    }
    let person_id = account.person_id.expect("identity consent means a person");
    let row = persons::find(conn, person_id)?.ok_or_else(ApiError::not_found)?;
    Ok(row.open(&state.cipher)?)
}

pub async fn scan(
    resident: Resident,
    body: Json<ScanRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    // The code is checked before anything else: a forged one costs no database work.
    let code = state
        .venue_codes
        .parse_scanned(&request.code)
        .map_err(|_| ApiError::new(ErrorCode::InvalidVenueCode))?;
    let (location, client_time) = check_scan_fields(&request)?;
    let time = check_in::entry_time(&state, client_time)?;
    let worker = state.clone();
    let display = state
        .db
        .run(move |conn| {
            let state = &worker;
            let entrance = check_in::entrance_for_code(state, conn, code)?;
            let me = consented_person(state, conn, resident.account_id)?;
            let limit = state.settings.scan.hourly_limit;
            let recent = check_ins::scans_by_account_since(
                conn,
                resident.account_id,
                Utc::now().naive_utc() - Duration::hours(1),
            )?;
            if recent >= i64::from(limit) {
                return Err(ApiError::new(ErrorCode::TooManyRequests)
                    .with_message("扫码过于频繁，请稍后再试")
                    .with_retry_after(600));
            }
            let distance_m = check_in::check_distance(state, &entrance, location)?;
            let mut attendees = vec![Attendee {
                person: me,
                companion: false,
            }];
            if !request.companion_ids.is_empty() {
                let found =
                    companions::find_many(conn, resident.account_id, &request.companion_ids)?;
                let today = (Utc::now() + Duration::hours(8)).date_naive();
                for id in &request.companion_ids {
                    let (_, person) = found.iter().find(|(c, _)| c.id == *id).ok_or_else(|| {
                        ApiError::new(ErrorCode::CompanionNotFound)
                            .with_details(serde_json::json!({ "companion_id": id }))
                    })?;
                    let person = person.open(&state.cipher)?;
                    if !state
                        .settings
                        .scan
                        .companions
                        .is_eligible(&person.id_number, today)
                    {
                        return Err(ApiError::new(ErrorCode::CompanionNotEligible)
                            .with_details(serde_json::json!({ "companion_id": id })));
                    }
                    attendees.push(Attendee {
                        person,
                        companion: true,
                    });
                }
            }
            check_in::record(
                state,
                conn,
                &Entry {
                    entrance,
                    account_id: Some(resident.account_id),
                    source: Source::Scan,
                    time,
                    located: location.is_some(),
                    distance_m,
                },
                &attendees,
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(display))
}

#[derive(Serialize)]
pub struct CheckoutResponse {
    check_in_id: i64,
    left_at: Option<String>,
    check_in_ids: Vec<i64>,
}

pub async fn checkout(
    resident: Resident,
    path: web::Path<i64>,
    state: State,
) -> Result<web::Json<CheckoutResponse>, ApiError> {
    let id = path.into_inner();
    let rows = state
        .db
        .run(move |conn| check_ins::checkout(conn, resident.account_id, id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    let own = rows
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(ApiError::not_found)?;
    Ok(web::Json(CheckoutResponse {
        check_in_id: id,
        left_at: own.left_at.map(|t| local_time(&state, t)),
        check_in_ids: rows.iter().map(|r| r.id).collect(),
    }))
}

#[derive(Deserialize)]
pub struct ItineraryQuery {
    days: Option<u32>,
}

#[derive(Serialize)]
pub struct ItineraryItem {
    check_in_id: i64,
    person: ItineraryPerson,
    venue: String,
    entrance: String,
    region: String,
    address: String,
    scanned_at: String,
    left_at: Option<String>,
}

#[derive(Serialize)]
pub struct ItineraryPerson {
    role: &'static str,
    name: String,
}

#[derive(Serialize)]
pub struct ItineraryResponse {
    days: u32,
    items: Vec<ItineraryItem>,
}

/// The places the caller and their companions went, newest first, at most the retention period.
pub async fn itinerary(
    resident: Resident,
    query: Query<ItineraryQuery>,
    state: State,
) -> Result<web::Json<ItineraryResponse>, ApiError> {
    let retention = state.settings.retention_days;
    let days = query.0.days.unwrap_or(14);
    if days == 0 || days > retention {
        return Err(ApiError::new(ErrorCode::InvalidQuery).with_details(serde_json::json!({
            "days": {"code": "days_out_of_range", "message": format!("days 应在 1 到 {retention} 之间")}
        })));
    }
    let worker = state.clone();
    let items = state
        .db
        .run(move |conn| -> Result<Vec<ItineraryItem>, ApiError> {
            let state = &worker;
            let account = accounts::find(conn, resident.account_id)?
                .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized))?;
            let mut people: HashMap<i64, ItineraryPerson> = HashMap::new();
            if let Some(person_id) = account.person_id {
                if let Some(row) = persons::find(conn, person_id)? {
                    let person = row.open(&state.cipher)?;
                    people.insert(
                        person_id,
                        ItineraryPerson {
                            role: "self",
                            name: person.name.masked(),
                        },
                    );
                }
            }
            for (_, row) in companions::list(conn, resident.account_id)? {
                let person = row.open(&state.cipher)?;
                people.entry(row.id).or_insert(ItineraryPerson {
                    role: "companion",
                    name: person.name.masked(),
                });
            }
            let ids: Vec<i64> = people.keys().copied().collect();
            let since = Utc::now().naive_utc() - Duration::days(i64::from(days));
            let rows = check_ins::itinerary(conn, &ids, since)?;
            let mut region_names: HashMap<String, String> = HashMap::new();
            let mut items = Vec::with_capacity(rows.len());
            for row in rows {
                if !region_names.contains_key(&row.region_code) {
                    let name = match RegionCode::parse(&row.region_code) {
                        Ok(code) => regions::full_name(&regions::path(conn, &code)?),
                        Err(_) => String::new(),
                    };
                    region_names.insert(row.region_code.clone(), name);
                }
                let person = &people[&row.person_id];
                items.push(ItineraryItem {
                    check_in_id: row.check_in_id,
                    person: ItineraryPerson {
                        role: person.role,
                        name: person.name.clone(),
                    },
                    venue: row.venue_name,
                    entrance: row.entrance_name,
                    region: region_names[&row.region_code].clone(),
                    address: row.address,
                    scanned_at: local_time(state, row.scanned_at),
                    left_at: row.left_at.map(|t| local_time(state, t)),
                });
            }
            Ok(items)
        })
        .await?;
    Ok(web::Json(ItineraryResponse { days, items }))
}
