//! What venue staff do at the door: register people without phones by hand, scan a person's
//! printed code, and read the venue's counts (never names).

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use chrono::{Duration, NaiveDate, TimeZone, Timelike, Utc};
use serde::{Deserialize, Serialize};

use super::venues::{load_venue, Need};
use crate::auth::Resident;
use crate::check_in::{self, Attendee, CheckInDisplay, Entry, EntryTime};
use crate::db::check_ins::{self, Source};
use crate::db::persons::{self, Person};
use crate::db::DbConnection;
use crate::domain::{HealthColor, IdNumber, MobileNumber, PaperCodeError, PersonName};
use crate::entrance_cache::EntranceSnapshot;
use crate::error::{ApiError, ErrorCode, Invalid};
use crate::extract::{Json, Query};
use crate::state::{AppState, State};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualRequest {
    entrance_id: i64,
    name: String,
    id_number: String,
    phone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperScanRequest {
    entrance_id: i64,
    code: String,
}

/// Records one person entering now, registered by the staff member `staff_account`.
fn record_at_door(
    state: &AppState,
    conn: &mut DbConnection,
    entrance: Arc<EntranceSnapshot>,
    staff_account: i64,
    source: Source,
    person: Person,
) -> Result<CheckInDisplay, ApiError> {
    check_in::record(
        state,
        conn,
        &Entry {
            entrance,
            account_id: Some(staff_account),
            source,
            time: EntryTime {
                scanned_at: Utc::now().naive_utc(),
                offline: false,
            },
            located: false,
            distance_m: None,
        },
        &[Attendee {
            person,
            companion: false,
        }],
    )
}

pub async fn manual(
    resident: Resident,
    path: web::Path<i64>,
    body: Json<ManualRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let venue_id = path.into_inner();
    let request = body.0;
    let mut invalid = Invalid::default();
    let name = invalid.check("name", PersonName::parse(&request.name));
    let id_number = invalid.check("id_number", IdNumber::parse(&request.id_number));
    let phone = request
        .phone
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .and_then(|p| invalid.check("phone", MobileNumber::parse(p)));
    invalid.finish()?;
    let (name, id_number) = (name.expect("checked"), id_number.expect("checked"));
    let worker = state.clone();
    let display = state
        .db
        .run(move |conn| {
            let state = &worker;
            load_venue(conn, venue_id, resident.account_id, Need::ManagerOrStaff)?;
            let entrance = check_in::entrance_of_venue(state, conn, venue_id, request.entrance_id)?;
            let row = persons::upsert(conn, &state.cipher, &id_number, &name)?;
            if let Some(phone) = &phone {
                persons::set_phone(conn, &state.cipher, row.id, phone)?;
            }
            let person = row.open(&state.cipher)?;
            record_at_door(
                state,
                conn,
                entrance,
                resident.account_id,
                Source::Manual,
                person,
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(display))
}

pub async fn paper_scan(
    resident: Resident,
    path: web::Path<i64>,
    body: Json<PaperScanRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let venue_id = path.into_inner();
    let request = body.0;
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let code = state
        .paper_codes
        .read(&request.code, today)
        .map_err(|e| match e {
            PaperCodeError::Expired => ApiError::new(ErrorCode::PersonalCodeExpired),
            PaperCodeError::Malformed | PaperCodeError::Forged => {
                ApiError::new(ErrorCode::InvalidPersonalCode)
            }
        })?;
    let worker = state.clone();
    let display = state
        .db
        .run(move |conn| {
            let state = &worker;
            load_venue(conn, venue_id, resident.account_id, Need::ManagerOrStaff)?;
            let entrance = check_in::entrance_of_venue(state, conn, venue_id, request.entrance_id)?;
            let person = persons::find(conn, code.person_id)?
                .ok_or_else(|| ApiError::new(ErrorCode::InvalidPersonalCode))?
                .open(&state.cipher)?;
            record_at_door(
                state,
                conn,
                entrance,
                resident.account_id,
                Source::Paper,
                person,
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(display))
}

#[derive(Deserialize)]
pub struct StatsQuery {
    date: Option<String>,
}

#[derive(Serialize, Default, Clone, Copy)]
pub struct HourCount {
    hour: u32,
    green: u32,
    yellow: u32,
    red: u32,
}

#[derive(Serialize)]
pub struct StatsResponse {
    venue_id: i64,
    date: String,
    total: u32,
    hours: Vec<HourCount>,
}

/// Check-ins per hour of a local day, split by colour: counts only, nothing per person.
pub async fn stats(
    resident: Resident,
    path: web::Path<i64>,
    query: Query<StatsQuery>,
    state: State,
) -> Result<web::Json<StatsResponse>, ApiError> {
    let venue_id = path.into_inner();
    let zone = state.settings.timezone;
    let date = match query.0.date.as_deref() {
        None | Some("") => Utc::now().with_timezone(&zone).date_naive(),
        Some(value) => NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
            ApiError::new(ErrorCode::InvalidQuery).with_details(serde_json::json!({
                "date": {"code": "date_invalid", "message": "日期格式应为 YYYY-MM-DD"}
            }))
        })?,
    };
    let start = zone
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"))
        .earliest()
        .ok_or_else(|| ApiError::internal("a day without a start"))?
        .with_timezone(&Utc);
    let end = start + Duration::days(1);
    let rows = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            load_venue(conn, venue_id, resident.account_id, Need::ManagerOrStaff)?;
            Ok(check_ins::times_and_colors(
                conn,
                venue_id,
                start.naive_utc(),
                end.naive_utc(),
            )?)
        })
        .await?;
    let mut hours: Vec<HourCount> = (0..24)
        .map(|hour| HourCount {
            hour,
            ..Default::default()
        })
        .collect();
    for (scanned_at, color) in &rows {
        let hour = Utc
            .from_utc_datetime(scanned_at)
            .with_timezone(&zone)
            .hour() as usize;
        let slot = &mut hours[hour];
        match HealthColor::parse(color) {
            Ok(HealthColor::Green) => slot.green += 1,
            Ok(HealthColor::Yellow) => slot.yellow += 1,
            _ => slot.red += 1,
        }
    }
    Ok(web::Json(StatsResponse {
        venue_id,
        date: date.format("%Y-%m-%d").to_string(),
        total: rows.len() as u32,
        hours,
    }))
}
