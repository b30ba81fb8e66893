//! Venue applications by their managers: apply, look up, edit until approved, manage entrances
//! (one door, one code), and download each entrance's code and poster.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Deserializer, Serialize};

use super::local_time;
use crate::auth::Resident;
use crate::db::regions;
use crate::db::venues::{
    self, EntranceRow, Manager, ManagerFilter, NewEntrance, VenueAccess, VenueApplication,
    VenueChanges, VenueError, VenueRow,
};
use crate::db::DbConnection;
use crate::domain::{
    transport, Address, EntranceName, FieldError, IdNumber, MapPoint, MobileNumber, PersonName,
    RegionCode, RegionLevel, Taxonomy, TransportKind, VenueCodeRef, VenueName, VenueStatus,
};
use crate::error::{ApiError, ErrorCode, Invalid};
use crate::extract::{Json, Query};
use crate::posters::{self, PosterText};
use crate::state::{AppState, State};

const MAX_ENTRANCES: usize = 50;
const MAX_DESCRIPTION_CHARS: usize = 200;

// ---- wire types ------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagerRequest {
    name: String,
    phone: String,
    id_number: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationRequest {
    lat: f64,
    lng: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntranceRequest {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationRequest {
    manager: ManagerRequest,
    name: String,
    category: String,
    subtype: String,
    region_code: String,
    address: String,
    location: LocationRequest,
    #[serde(default)]
    transport_line: Option<String>,
    #[serde(default)]
    plate_number: Option<String>,
    entrances: Vec<EntranceRequest>,
}

/// `null` clears a field, absence leaves it alone.
fn nullable<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangesRequest {
    manager: Option<ManagerRequest>,
    name: Option<String>,
    category: Option<String>,
    subtype: Option<String>,
    region_code: Option<String>,
    address: Option<String>,
    location: Option<LocationRequest>,
    #[serde(default, deserialize_with = "nullable")]
    transport_line: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    plate_number: Option<Option<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntranceChangesRequest {
    name: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    phone: Option<String>,
    id_number: Option<String>,
}

#[derive(Serialize)]
pub struct CodeName {
    code: String,
    name: String,
}

#[derive(Serialize)]
pub struct SubtypeResponse {
    code: String,
    name: String,
    default_stay_minutes: Option<u32>,
    transport: Option<TransportKind>,
}

#[derive(Serialize)]
pub struct RegionSummary {
    code: String,
    /// Province to township, e.g. `湖南省郴州市临武县舜峰镇`.
    name: String,
}

#[derive(Serialize)]
pub struct MaskedManager {
    name: String,
    phone: String,
    id_number: String,
}

#[derive(Serialize)]
pub struct EntranceResponse {
    id: i64,
    name: String,
    description: String,
    open: bool,
    code_version: i32,
    /// What the QR code holds; only while the venue is approved and the entrance open.
    code_url: Option<String>,
}

#[derive(Serialize)]
pub struct VenueResponse {
    id: i64,
    status: VenueStatus,
    name: String,
    category: CodeName,
    subtype: SubtypeResponse,
    region: RegionSummary,
    address: String,
    location: LocationResponse,
    transport_line: Option<String>,
    plate_number: Option<String>,
    manager: MaskedManager,
    entrances: Vec<EntranceResponse>,
    rejection_reason: Option<String>,
    created_at: String,
    updated_at: String,
    reviewed_at: Option<String>,
}

#[derive(Serialize)]
pub struct LocationResponse {
    lat: f64,
    lng: f64,
}

#[derive(Serialize)]
pub struct VenueListResponse {
    items: Vec<VenueResponse>,
}

// ---- building responses ----------------------------------------------------------------------

pub(crate) fn entrance_response(
    state: &AppState,
    venue: &VenueRow,
    entrance: EntranceRow,
) -> EntranceResponse {
    let code_url = (venue.status() == VenueStatus::Approved && entrance.is_open()).then(|| {
        state.venue_codes.url(
            &state.settings.public_base_url,
            VenueCodeRef {
                entrance_id: entrance.id,
                version: entrance.code_version,
            },
        )
    });
    EntranceResponse {
        id: entrance.id,
        open: entrance.is_open(),
        name: entrance.name,
        description: entrance.description,
        code_version: entrance.code_version,
        code_url,
    }
}

fn category_names(taxonomy: &Taxonomy, venue: &VenueRow) -> (CodeName, SubtypeResponse) {
    let category = taxonomy.category(&venue.category);
    let subtype = taxonomy.subtype(&venue.category, &venue.subtype);
    (
        CodeName {
            code: venue.category.clone(),
            name: category.map_or_else(|| venue.category.clone(), |c| c.name.clone()),
        },
        SubtypeResponse {
            code: venue.subtype.clone(),
            name: subtype.map_or_else(|| venue.subtype.clone(), |s| s.name.clone()),
            default_stay_minutes: subtype.map(|s| s.default_stay_minutes),
            transport: subtype.and_then(|s| s.transport),
        },
    )
}

/// Everything about a venue as its manager (or a reviewer) sees it, personal data masked.
pub(crate) fn venue_response(
    state: &AppState,
    conn: &mut DbConnection,
    venue: VenueRow,
) -> Result<VenueResponse, ApiError> {
    let manager = venue.manager(&state.cipher)?;
    let entrances = venues::entrances_of(conn, venue.id)?;
    let region_path = match RegionCode::parse(&venue.region_code) {
        Ok(code) => regions::path(conn, &code)?,
        Err(_) => Vec::new(),
    };
    let (category, subtype) = category_names(&state.taxonomy, &venue);
    Ok(VenueResponse {
        id: venue.id,
        status: venue.status(),
        category,
        subtype,
        region: RegionSummary {
            code: venue.region_code.clone(),
            name: regions::full_name(&region_path),
        },
        location: LocationResponse {
            lat: venue.lat,
            lng: venue.lng,
        },
        manager: MaskedManager {
            name: manager.name.masked(),
            phone: manager.phone.masked(),
            id_number: manager.id_number.masked(),
        },
        entrances: entrances
            .into_iter()
            .map(|e| entrance_response(state, &venue, e))
            .collect(),
        created_at: local_time(state, venue.created_at),
        updated_at: local_time(state, venue.updated_at),
        reviewed_at: venue.reviewed_at.map(|t| local_time(state, t)),
        name: venue.name,
        address: venue.address,
        transport_line: venue.transport_line,
        plate_number: venue.plate_number,
        rejection_reason: venue.rejection_reason,
    })
}

// ---- validation at the edge ------------------------------------------------------------------

fn check_manager(invalid: &mut Invalid, prefix: &str, request: &ManagerRequest) -> Option<Manager> {
    let name = invalid.check(format!("{prefix}.name"), PersonName::parse(&request.name));
    let phone = invalid.check(
        format!("{prefix}.phone"),
        MobileNumber::parse(&request.phone),
    );
    let id_number = invalid.check(
        format!("{prefix}.id_number"),
        IdNumber::parse(&request.id_number),
    );
    Some(Manager {
        name: name?,
        phone: phone?,
        id_number: id_number?,
    })
}

fn check_region(invalid: &mut Invalid, value: &str) -> Option<RegionCode> {
    let region = invalid.check("region_code", RegionCode::parse(value))?;
    if region.level() < RegionLevel::Township {
        invalid.add(
            "region_code",
            FieldError::new("region_level", "请选择到乡镇（街道）或村（社区）"),
        );
        return None;
    }
    Some(region)
}

fn check_location(invalid: &mut Invalid, location: &LocationRequest) -> Option<MapPoint> {
    invalid.check("location", MapPoint::parse(location.lat, location.lng))
}

fn check_description(value: Option<&str>) -> Result<String, FieldError> {
    let value = value.unwrap_or("").trim();
    if value.chars().count() > MAX_DESCRIPTION_CHARS || value.chars().any(char::is_control) {
        return Err(FieldError::new(
            "description_invalid",
            format!("描述最多{MAX_DESCRIPTION_CHARS}个字，且不能含控制字符"),
        ));
    }
    Ok(value.to_owned())
}

/// The subtype exists in the taxonomy and the transport fields fit it.
fn check_kind(
    invalid: &mut Invalid,
    taxonomy: &Taxonomy,
    category: &str,
    subtype: &str,
    line: Option<&str>,
    plate: Option<&str>,
) -> Option<(String, String, Option<String>, Option<String>)> {
    let (category, subtype) = (category.trim(), subtype.trim());
    if taxonomy.category(category).is_none() {
        invalid.add(
            "category",
            FieldError::new("category_unknown", "场所类型不存在"),
        );
        return None;
    }
    let Some(kind) = taxonomy.subtype(category, subtype) else {
        invalid.add(
            "subtype",
            FieldError::new("subtype_unknown", "该类型下没有这个细分行业"),
        );
        return None;
    };
    let line = line.map(|l| invalid.check("transport_line", transport::parse_line(l)));
    let plate = plate.map(|p| invalid.check("plate_number", transport::parse_plate(p)));
    if kind.transport.is_some() {
        if line.is_none() && plate.is_none() {
            invalid.add(
                "transport_line",
                FieldError::new("transport_required", "公共交通场所请填写线路或车牌号"),
            );
            return None;
        }
    } else {
        for (field, given) in [
            ("transport_line", line.is_some()),
            ("plate_number", plate.is_some()),
        ] {
            if given {
                invalid.add(
                    field,
                    FieldError::new("transport_only", "只有公共交通场所需要填写线路或车牌号"),
                );
            }
        }
    }
    Some((
        category.to_owned(),
        subtype.to_owned(),
        line.flatten(),
        plate.flatten(),
    ))
}

fn check_entrance(
    invalid: &mut Invalid,
    index: usize,
    request: &EntranceRequest,
) -> Option<NewEntrance> {
    let name = invalid.check(
        format!("entrances[{index}].name"),
        EntranceName::parse(&request.name),
    );
    let description = invalid.check(
        format!("entrances[{index}].description"),
        check_description(request.description.as_deref()),
    );
    Some(NewEntrance {
        name: name?,
        description: description?,
    })
}

fn validate_application(
    taxonomy: &Taxonomy,
    request: &ApplicationRequest,
) -> Result<VenueApplication, ApiError> {
    let mut invalid = Invalid::default();
    let manager = check_manager(&mut invalid, "manager", &request.manager);
    let name = invalid.check("name", VenueName::parse(&request.name));
    let kind = check_kind(
        &mut invalid,
        taxonomy,
        &request.category,
        &request.subtype,
        request.transport_line.as_deref(),
        request.plate_number.as_deref(),
    );
    let region = check_region(&mut invalid, &request.region_code);
    let address = invalid.check("address", Address::parse(&request.address));
    let location = check_location(&mut invalid, &request.location);
    if request.entrances.is_empty() {
        invalid.add("entrances", FieldError::new("required", "至少填写一个入口"));
    }
    if request.entrances.len() > MAX_ENTRANCES {
        invalid.add(
            "entrances",
            FieldError::new("too_many", format!("一个场所最多{MAX_ENTRANCES}个入口")),
        );
    }
    let mut entrances = Vec::with_capacity(request.entrances.len());
    for (index, entrance) in request.entrances.iter().enumerate() {
        if let Some(entrance) = check_entrance(&mut invalid, index, entrance) {
            if entrances
                .iter()
                .any(|e: &NewEntrance| e.name == entrance.name)
            {
                invalid.add(
                    format!("entrances[{index}].name"),
                    FieldError::new("duplicate", "同一场所的入口名称不能重复"),
                );
            } else {
                entrances.push(entrance);
            }
        }
    }
    invalid.finish()?;
    let (category, subtype, transport_line, plate_number) = kind.expect("checked");
    Ok(VenueApplication {
        manager: manager.expect("checked"),
        name: name.expect("checked"),
        category,
        subtype,
        region: region.expect("checked"),
        address: address.expect("checked"),
        location: location.expect("checked"),
        transport_line,
        plate_number,
        entrances,
    })
}

// ---- access ----------------------------------------------------------------------------------

/// Who may do what: the manager everything, venue staff read only; anyone else sees nothing, as
/// if the venue did not exist.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    Manager,
    ManagerOrStaff,
}

pub(crate) fn load_venue(
    conn: &mut DbConnection,
    venue_id: i64,
    account_id: i64,
    need: Need,
) -> Result<(VenueRow, VenueAccess), ApiError> {
    let venue = venues::find(conn, venue_id)?.ok_or_else(ApiError::not_found)?;
    let access = venues::access(conn, &venue, account_id)?;
    match (access, need) {
        (VenueAccess::None, _) => Err(ApiError::not_found()),
        (VenueAccess::Staff, Need::Manager) => {
            Err(ApiError::new(ErrorCode::Forbidden).with_message("只有场所管理员可以进行此操作"))
        }
        _ => Ok((venue, access)),
    }
}

// ---- handlers --------------------------------------------------------------------------------

pub async fn apply(
    resident: Resident,
    body: Json<ApplicationRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let application = validate_application(&state.taxonomy, &body.0)?;
    let worker = state.clone();
    let response = state
        .db
        .run(move |conn| -> Result<VenueResponse, ApiError> {
            let id = venues::create(conn, &worker.cipher, resident.account_id, &application)?;
            let venue = venues::find(conn, id)?.ok_or_else(ApiError::not_found)?;
            venue_response(&worker, conn, venue)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("/api/v1/venues/{}", response.id)))
        .json(response))
}

pub async fn list(
    resident: Resident,
    query: Query<ListQuery>,
    state: State,
) -> Result<web::Json<VenueListResponse>, ApiError> {
    let filter =
        match (&query.0.phone, &query.0.id_number) {
            (Some(_), Some(_)) => return Err(ApiError::new(ErrorCode::InvalidQuery).with_details(
                serde_json::json!({
                    "query": {"code": "one_filter", "message": "请只按手机号或身份证号其中一项查询"}
                }),
            )),
            (Some(phone), None) => {
                ManagerFilter::Phone(MobileNumber::parse(phone).map_err(query_error("phone"))?)
            }
            (None, Some(id)) => {
                ManagerFilter::IdNumber(IdNumber::parse(id).map_err(query_error("id_number"))?)
            }
            (None, None) => ManagerFilter::All,
        };
    let worker = state.clone();
    let items = state
        .db
        .run(move |conn| -> Result<Vec<VenueResponse>, ApiError> {
            venues::list_for_manager(conn, &worker.cipher, resident.account_id, &filter)?
                .into_iter()
                .map(|venue| venue_response(&worker, conn, venue))
                .collect()
        })
        .await?;
    Ok(web::Json(VenueListResponse { items }))
}

fn query_error(field: &'static str) -> impl Fn(FieldError) -> ApiError {
    move |e| {
        ApiError::new(ErrorCode::InvalidQuery).with_details(serde_json::json!({
            field: {"code": e.code, "message": e.message}
        }))
    }
}

pub async fn get(
    resident: Resident,
    path: web::Path<i64>,
    state: State,
) -> Result<web::Json<VenueResponse>, ApiError> {
    let venue_id = path.into_inner();
    let worker = state.clone();
    let response = state
        .db
        .run(move |conn| {
            let (venue, _) = load_venue(conn, venue_id, resident.account_id, Need::ManagerOrStaff)?;
            venue_response(&worker, conn, venue)
        })
        .await?;
    Ok(web::Json(response))
}

pub async fn update(
    resident: Resident,
    path: web::Path<i64>,
    body: Json<ChangesRequest>,
    state: State,
) -> Result<web::Json<VenueResponse>, ApiError> {
    let venue_id = path.into_inner();
    let request = body.0;
    let worker = state.clone();
    let response = state
        .db
        .run(move |conn| {
            let (venue, _) = load_venue(conn, venue_id, resident.account_id, Need::Manager)?;
            if !venue.status().is_editable() {
                return Err(ApiError::from(VenueError::Locked));
            }
            let changes = validate_changes(&worker.taxonomy, &venue, &request)?;
            venues::update_basic(conn, &worker.cipher, venue_id, &changes)?;
            worker.entrances.invalidate_venue(venue_id);
            let venue = venues::find(conn, venue_id)?.ok_or_else(ApiError::not_found)?;
            venue_response(&worker, conn, venue)
        })
        .await?;
    Ok(web::Json(response))
}

fn validate_changes(
    taxonomy: &Taxonomy,
    venue: &VenueRow,
    request: &ChangesRequest,
) -> Result<VenueChanges, ApiError> {
    let mut invalid = Invalid::default();
    let manager = request
        .manager
        .as_ref()
        .and_then(|m| check_manager(&mut invalid, "manager", m));
    let name = request
        .name
        .as_deref()
        .and_then(|n| invalid.check("name", VenueName::parse(n)));
    let region = request
        .region_code
        .as_deref()
        .and_then(|r| check_region(&mut invalid, r));
    let address = request
        .address
        .as_deref()
        .and_then(|a| invalid.check("address", Address::parse(a)));
    let location = request
        .location
        .as_ref()
        .and_then(|l| check_location(&mut invalid, l));
    // Kind and transport fields are checked as they will be after the change.
    let kind_touched = request.category.is_some()
        || request.subtype.is_some()
        || request.transport_line.is_some()
        || request.plate_number.is_some();
    let kind = if kind_touched {
        let category = request.category.as_deref().unwrap_or(&venue.category);
        let subtype = request.subtype.as_deref().unwrap_or(&venue.subtype);
        let line = match &request.transport_line {
            Some(value) => value.as_deref(),
            None => venue.transport_line.as_deref(),
        };
        let plate = match &request.plate_number {
            Some(value) => value.as_deref(),
            None => venue.plate_number.as_deref(),
        };
        check_kind(&mut invalid, taxonomy, category, subtype, line, plate)
    } else {
        None
    };
    let nothing = manager.is_none()
        && name.is_none()
        && region.is_none()
        && address.is_none()
        && location.is_none()
        && !kind_touched;
    if nothing && invalid.is_empty() {
        invalid.add("body", FieldError::new("required", "没有要修改的内容"));
    }
    invalid.finish()?;
    let (category_subtype, transport_line, plate_number) = match kind {
        Some((category, subtype, line, plate)) => {
            (Some((category, subtype)), Some(line), Some(plate))
        }
        None => (None, None, None),
    };
    Ok(VenueChanges {
        manager,
        name,
        category_subtype,
        region,
        address,
        location,
        transport_line,
        plate_number,
    })
}

pub async fn add_entrance(
    resident: Resident,
    path: web::Path<i64>,
    body: Json<EntranceRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let venue_id = path.into_inner();
    let mut invalid = Invalid::default();
    let entrance = check_entrance(&mut invalid, 0, &body.0);
    if !invalid.is_empty() {
        // A single entrance is not in a list: name its fields plainly.
        return Err(rename_fields(invalid.into_error()));
    }
    let entrance = entrance.expect("checked");
    let worker = state.clone();
    let response = state
        .db
        .run(move |conn| -> Result<EntranceResponse, ApiError> {
            let (venue, _) = load_venue(conn, venue_id, resident.account_id, Need::Manager)?;
            let id = venues::add_entrance(conn, venue_id, &entrance)?;
            let row = venues::find_entrance(conn, venue_id, id)?.ok_or_else(ApiError::not_found)?;
            Ok(entrance_response(&worker, &venue, row))
        })
        .await?;
    Ok(HttpResponse::Created().json(response))
}

/// `entrances[0].name` → `name` for requests about one entrance.
fn rename_fields(error: ApiError) -> ApiError {
    error.map_details(|details| {
        let renamed: serde_json::Map<String, serde_json::Value> = details
            .as_object()
            .map(|fields| {
                fields
                    .iter()
                    .map(|(k, v)| (k.trim_start_matches("entrances[0].").to_owned(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        serde_json::Value::Object(renamed)
    })
}

pub async fn update_entrance(
    resident: Resident,
    path: web::Path<(i64, i64)>,
    body: Json<EntranceChangesRequest>,
    state: State,
) -> Result<web::Json<EntranceResponse>, ApiError> {
    let (venue_id, entrance_id) = path.into_inner();
    let request = body.0;
    let mut invalid = Invalid::default();
    let name = request
        .name
        .as_deref()
        .and_then(|n| invalid.check("name", EntranceName::parse(n)));
    let description = request
        .description
        .as_deref()
        .and_then(|d| invalid.check("description", check_description(Some(d))));
    if request.name.is_none() && request.description.is_none() {
        invalid.add("body", FieldError::new("required", "没有要修改的内容"));
    }
    invalid.finish()?;
    let worker = state.clone();
    let response = state
        .db
        .run(move |conn| -> Result<EntranceResponse, ApiError> {
            let (venue, _) = load_venue(conn, venue_id, resident.account_id, Need::Manager)?;
            venues::rename_entrance(
                conn,
                venue_id,
                entrance_id,
                name.as_ref(),
                description.as_deref(),
            )?;
            worker.entrances.invalidate_venue(venue_id);
            let row = venues::find_entrance(conn, venue_id, entrance_id)?
                .ok_or_else(ApiError::not_found)?;
            Ok(entrance_response(&worker, &venue, row))
        })
        .await?;
    Ok(web::Json(response))
}

pub async fn close_entrance(
    resident: Resident,
    path: web::Path<(i64, i64)>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let (venue_id, entrance_id) = path.into_inner();
    state
        .db
        .run(move |conn| -> Result<(), ApiError> {
            load_venue(conn, venue_id, resident.account_id, Need::Manager)?;
            Ok(venues::close_entrance(conn, venue_id, entrance_id)?)
        })
        .await?;
    state.entrances.invalidate_venue(venue_id);
    Ok(HttpResponse::NoContent().finish())
}

/// The venue, entrance and code URL behind a download; 409 before approval.
async fn code_for(
    state: &State,
    account_id: i64,
    venue_id: i64,
    entrance_id: i64,
) -> Result<(VenueRow, EntranceRow, String), ApiError> {
    let worker = state.clone();
    state
        .db
        .run(move |conn| {
            let (venue, _) = load_venue(conn, venue_id, account_id, Need::ManagerOrStaff)?;
            let entrance = venues::find_entrance(conn, venue_id, entrance_id)?
                .ok_or_else(ApiError::not_found)?;
            if venue.status() != VenueStatus::Approved {
                return Err(ApiError::new(ErrorCode::VenueNotActive));
            }
            if !entrance.is_open() {
                return Err(ApiError::new(ErrorCode::EntranceClosed));
            }
            let url = worker.venue_codes.url(
                &worker.settings.public_base_url,
                VenueCodeRef {
                    entrance_id: entrance.id,
                    version: entrance.code_version,
                },
            );
            Ok((venue, entrance, url))
        })
        .await
}

pub async fn code_png(
    resident: Resident,
    path: web::Path<(i64, i64)>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let (venue_id, entrance_id) = path.into_inner();
    let (_, entrance, url) = code_for(&state, resident.account_id, venue_id, entrance_id).await?;
    let png = posters::code_png(&url).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("cache-control", "private, no-cache"))
        .insert_header((
            "content-disposition",
            format!(
                "inline; filename=\"venue-{venue_id}-entrance-{}-v{}.png\"",
                entrance.id, entrance.code_version
            ),
        ))
        .body(png))
}

pub async fn code_svg(
    resident: Resident,
    path: web::Path<(i64, i64)>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let (venue_id, entrance_id) = path.into_inner();
    let (venue, entrance, url) =
        code_for(&state, resident.account_id, venue_id, entrance_id).await?;
    let (category, subtype) = category_names(&state.taxonomy, &venue);
    let category_line = format!("{} · {}", category.name, subtype.name);
    let svg = posters::poster_svg(
        &url,
        &PosterText {
            venue_name: &venue.name,
            entrance_name: &entrance.name,
            category: &category_line,
            address: &venue.address,
        },
    )
    .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml; charset=utf-8")
        .insert_header(("cache-control", "private, no-cache"))
        .insert_header((
            "content-disposition",
            format!(
                "inline; filename=\"venue-{venue_id}-entrance-{}-v{}.svg\"",
                entrance.id, entrance.code_version
            ),
        ))
        .body(svg))
}

pub async fn rotate_code(
    resident: Resident,
    path: web::Path<(i64, i64)>,
    state: State,
) -> Result<web::Json<EntranceResponse>, ApiError> {
    let (venue_id, entrance_id) = path.into_inner();
    let worker = state.clone();
    let response = state
        .db
        .run(move |conn| -> Result<EntranceResponse, ApiError> {
            let (venue, _) = load_venue(conn, venue_id, resident.account_id, Need::Manager)?;
            venues::rotate_code(conn, venue_id, entrance_id)?;
            worker.entrances.invalidate_venue(venue_id);
            let row = venues::find_entrance(conn, venue_id, entrance_id)?
                .ok_or_else(ApiError::not_found)?;
            Ok(entrance_response(&worker, &venue, row))
        })
        .await?;
    Ok(web::Json(response))
}
