//! Venues as they are typed: an application or its changes in JSON, a registrar's sheet (CSV), a
//! new manager in the console's handover form, each checked into domain values with every bad
//! field named. The API (`routes/venues.rs`) and the console read them alike.

use serde::{Deserialize, Deserializer};

use crate::domain::{
    Address, CreditCode, EntranceName, FieldCode, FieldError, FieldErrors, IdDocument, IdType,
    Manager, ManagerFilter, MapPoint, MobileNumber, NewEntrance, PersonName, RegionCode,
    RegionLevel, Taxonomy, VenueApplication, VenueEdit, VenueName,
};
use crate::services::venue_imports::MAX_IMPORTED;
use crate::web::sheet::Sheet;
use crate::web::ApiError;

const MAX_ENTRANCES: usize = 50;
const MAX_DESCRIPTION_CHARS: usize = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueImportRequest {
    pub venues: Vec<ApplicationRequest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagerRequest {
    name: String,
    phone: String,
    id_type: Option<String>,
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
    #[serde(default)]
    credit_code: Option<String>,
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
pub struct ListQuery {
    phone: Option<String>,
    id_type: Option<String>,
    id_number: Option<String>,
}

/// A new manager as typed in a form (the console's handover).
pub fn manager_of(
    name: &str,
    phone: &str,
    id_type: Option<&str>,
    id_number: &str,
) -> Result<Manager, FieldErrors> {
    let mut errors = FieldErrors::default();
    let request = ManagerRequest {
        name: name.to_owned(),
        phone: phone.to_owned(),
        id_type: id_type.map(str::to_owned),
        id_number: id_number.to_owned(),
    };
    let manager = manager(&mut errors, "manager", &request);
    errors.into_result(manager)
}

fn manager(errors: &mut FieldErrors, prefix: &str, request: &ManagerRequest) -> Option<Manager> {
    let name = errors.check(format!("{prefix}.name"), PersonName::parse(&request.name));
    let phone = errors.check(
        format!("{prefix}.phone"),
        MobileNumber::parse(&request.phone),
    );
    let document = IdDocument::check(
        errors,
        &format!("{prefix}."),
        request.id_type.as_deref(),
        &request.id_number,
    );
    Some(Manager {
        name: name?,
        phone: phone?,
        document: document?,
    })
}

fn region(errors: &mut FieldErrors, value: &str) -> Option<RegionCode> {
    let region = errors.check("region_code", RegionCode::parse(value))?;
    if region.level() < RegionLevel::Township {
        errors.add(
            "region_code",
            FieldError::new(FieldCode::RegionLevel, "请选择到乡镇（街道）或村（社区）"),
        );
        return None;
    }
    Some(region)
}

fn location(errors: &mut FieldErrors, location: &LocationRequest) -> Option<MapPoint> {
    errors.check("location", MapPoint::parse(location.lat, location.lng))
}

fn description(value: Option<&str>) -> Result<String, FieldError> {
    let value = value.unwrap_or("").trim();
    if value.chars().count() > MAX_DESCRIPTION_CHARS || value.chars().any(crate::domain::is_hidden)
    {
        return Err(FieldError::new(
            FieldCode::DescriptionInvalid,
            format!("描述最多{MAX_DESCRIPTION_CHARS}个字，且不能含控制字符"),
        ));
    }
    Ok(value.to_owned())
}

/// One entrance of a request; its fields are named under `prefix` (`entrances[1].`).
pub(super) fn entrance(
    errors: &mut FieldErrors,
    prefix: &str,
    request: &EntranceRequest,
) -> Option<NewEntrance> {
    let name = errors.check(format!("{prefix}name"), EntranceName::parse(&request.name));
    let description = errors.check(
        format!("{prefix}description"),
        description(request.description.as_deref()),
    );
    Some(NewEntrance {
        name: name?,
        description: description?,
    })
}

impl EntranceRequest {
    /// A single entrance, not in a list: its fields are named plainly.
    pub fn parse(&self) -> Result<NewEntrance, FieldErrors> {
        let mut errors = FieldErrors::default();
        let entrance = entrance(&mut errors, "", self);
        errors.into_result(entrance)
    }
}

/// `description` of an entrance edit.
pub fn entrance_description(value: &str) -> Result<String, FieldError> {
    description(Some(value))
}

impl ApplicationRequest {
    /// Every field checked at once, so one 422 names every bad one.
    pub fn parse(&self, taxonomy: &Taxonomy) -> Result<VenueApplication, FieldErrors> {
        let mut errors = FieldErrors::default();
        let manager = manager(&mut errors, "manager", &self.manager);
        let name = errors.check("name", VenueName::parse(&self.name));
        let kind = taxonomy.kind(
            &mut errors,
            &self.category,
            &self.subtype,
            self.transport_line.as_deref(),
            self.plate_number.as_deref(),
        );
        let region = region(&mut errors, &self.region_code);
        let address = errors.check("address", Address::parse(&self.address));
        let location = location(&mut errors, &self.location);
        let credit_code = match self.credit_code.as_deref().filter(|c| !c.trim().is_empty()) {
            Some(code) => errors.check("credit_code", CreditCode::parse(code)),
            None => None,
        };
        if self.entrances.is_empty() {
            errors.add(
                "entrances",
                FieldError::new(FieldCode::Required, "至少填写一个入口"),
            );
        }
        if self.entrances.len() > MAX_ENTRANCES {
            errors.add(
                "entrances",
                FieldError::new(
                    FieldCode::TooMany,
                    format!("一个场所最多{MAX_ENTRANCES}个入口"),
                ),
            );
        }
        let mut entrances: Vec<NewEntrance> = Vec::with_capacity(self.entrances.len());
        for (index, request) in self.entrances.iter().enumerate() {
            let prefix = format!("entrances[{index}].");
            let Some(new) = entrance(&mut errors, &prefix, request) else {
                continue;
            };
            if entrances.iter().any(|e| e.name == new.name) {
                errors.add(
                    format!("{prefix}name"),
                    FieldError::new(FieldCode::Duplicate, "同一场所的入口名称不能重复"),
                );
            } else {
                entrances.push(new);
            }
        }
        let application = (|| {
            Some(VenueApplication {
                manager: manager?,
                name: name?,
                kind: kind?,
                region: region?,
                address: address?,
                location: location?,
                entrances,
                credit_code,
            })
        })();
        errors.into_result(application)
    }
}

impl TryFrom<ChangesRequest> for VenueEdit {
    type Error = FieldErrors;

    fn try_from(request: ChangesRequest) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let edit = VenueEdit {
            manager: request
                .manager
                .as_ref()
                .and_then(|m| manager(&mut errors, "manager", m)),
            name: request
                .name
                .as_deref()
                .and_then(|n| errors.check("name", VenueName::parse(n))),
            region: request
                .region_code
                .as_deref()
                .and_then(|r| region(&mut errors, r)),
            address: request
                .address
                .as_deref()
                .and_then(|a| errors.check("address", Address::parse(a))),
            location: request
                .location
                .as_ref()
                .and_then(|l| location(&mut errors, l)),
            category: request.category,
            subtype: request.subtype,
            transport_line: request.transport_line,
            plate_number: request.plate_number,
        };
        let nothing = edit.manager.is_none()
            && edit.name.is_none()
            && edit.region.is_none()
            && edit.address.is_none()
            && edit.location.is_none()
            && !edit.touches_kind();
        if nothing && errors.is_empty() {
            errors.add(
                "body",
                FieldError::new(FieldCode::Required, "没有要修改的内容"),
            );
        }
        errors.finish()?;
        Ok(edit)
    }
}

impl TryFrom<ListQuery> for ManagerFilter {
    type Error = ApiError;

    fn try_from(query: ListQuery) -> Result<Self, ApiError> {
        if query.id_type.is_some() && query.id_number.is_none() {
            return Err(ApiError::invalid_parameter(
                "id_type",
                FieldError::new(
                    FieldCode::IdNumberRequired,
                    "按证件类型查询时请同时提供 id_number",
                ),
            ));
        }
        Ok(match (query.phone, query.id_number) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid_parameter(
                    "query",
                    FieldError::new(FieldCode::OneFilter, "请只按手机号或身份证号其中一项查询"),
                ))
            }
            (Some(phone), None) => ManagerFilter::Phone(
                MobileNumber::parse(&phone).map_err(|e| ApiError::invalid_parameter("phone", e))?,
            ),
            (None, Some(id)) => {
                let kind = IdType::parse(query.id_type.as_deref())
                    .map_err(|e| ApiError::invalid_parameter("id_type", e))?;
                ManagerFilter::Document(
                    IdDocument::parse(kind, &id)
                        .map_err(|e| ApiError::invalid_parameter("id_number", e))?,
                )
            }
            (None, None) => ManagerFilter::All,
        })
    }
}

/// The columns of a venue import sheet, in any order after a header row.
const SHEET_COLUMNS: [&str; 15] = [
    "name",
    "category",
    "subtype",
    "region_code",
    "address",
    "lat",
    "lng",
    "manager_name",
    "manager_phone",
    "manager_id_number",
    "entrances",
    "transport_line",
    "plate_number",
    "credit_code",
    "manager_id_type",
];

/// The venues of a venue import sheet; entrance names are separated by `|`. A cell that cannot
/// be read is named like a JSON field (`venues[2].location`).
pub fn sheet(text: &str) -> Result<Vec<ApplicationRequest>, FieldErrors> {
    let sheet = Sheet::read(text);
    let missing: Vec<&str> = SHEET_COLUMNS[..11]
        .iter()
        .copied()
        .filter(|c| !sheet.has(c))
        .collect();
    if !missing.is_empty() {
        return Err(FieldErrors::one(
            "body",
            FieldError::new(
                FieldCode::CsvColumns,
                format!("表头缺少列：{}", missing.join(", ")),
            ),
        ));
    }
    let mut errors = FieldErrors::default();
    let mut venues = Vec::new();
    for (index, record) in sheet.rows.iter().enumerate() {
        let prefix = format!("venues[{index}].");
        let Some(record) = record else {
            errors.add(
                format!("venues[{index}]"),
                FieldError::new(FieldCode::CsvRow, "该行不是有效的 CSV"),
            );
            continue;
        };
        let cell = |name: &str| sheet.cell(record, name).to_owned();
        let optional = |name: &str| Some(cell(name)).filter(|v| !v.is_empty());
        let (Ok(lat), Ok(lng)) = (cell("lat").parse::<f64>(), cell("lng").parse::<f64>()) else {
            errors.add(
                format!("{prefix}location"),
                FieldError::new(FieldCode::LocationInvalid, "经纬度须为数字"),
            );
            continue;
        };
        venues.push(ApplicationRequest {
            manager: ManagerRequest {
                name: cell("manager_name"),
                phone: cell("manager_phone"),
                id_type: optional("manager_id_type"),
                id_number: cell("manager_id_number"),
            },
            name: cell("name"),
            category: cell("category"),
            subtype: cell("subtype"),
            region_code: cell("region_code"),
            address: cell("address"),
            location: LocationRequest { lat, lng },
            transport_line: optional("transport_line"),
            plate_number: optional("plate_number"),
            credit_code: optional("credit_code"),
            entrances: cell("entrances")
                .split('|')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|name| EntranceRequest {
                    name: name.to_owned(),
                    description: None,
                })
                .collect(),
        });
    }
    errors.into_result(Some(venues))
}

/// The venues of a venue import sheet (CSV text with a header row), checked row by row: every
/// bad field is named by its row (`venues[3].manager.phone`). The console's upload reads the
/// same sheet.
pub fn import_sheet(text: &str, taxonomy: &Taxonomy) -> Result<Vec<VenueApplication>, FieldErrors> {
    venues_to_import(&sheet(text)?, taxonomy)
}

/// Between one and `MAX_IMPORTED` applications, each checked.
pub fn venues_to_import(
    requests: &[ApplicationRequest],
    taxonomy: &Taxonomy,
) -> Result<Vec<VenueApplication>, FieldErrors> {
    if requests.is_empty() || requests.len() > MAX_IMPORTED {
        return Err(FieldErrors::one(
            "venues",
            FieldError::new(
                FieldCode::VenuesCount,
                format!("每次登记1至{}个场所", MAX_IMPORTED),
            ),
        ));
    }
    let mut errors = FieldErrors::default();
    let mut applications = Vec::with_capacity(requests.len());
    for (index, request) in requests.iter().enumerate() {
        match request.parse(taxonomy) {
            Ok(application) => applications.push(application),
            Err(row) => errors.nest(&format!("venues[{index}]."), row),
        }
    }
    errors.into_result(Some(applications))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoverRequest {
    manager: ManagerRequest,
}

/// The new manager of a handover request.
pub fn manager_of_request(request: &HandoverRequest) -> Result<Manager, FieldErrors> {
    let mut errors = FieldErrors::default();
    let manager = manager(&mut errors, "manager", &request.manager);
    errors.into_result(manager)
}
