//! Manual check-ins: venue staff register a person without a phone by hand, one at a time or a
//! paper sheet's rows at once.

use actix_web::{web, HttpResponse};
use chrono::DateTime;
use serde::Deserialize;

use super::{created, Items, State};
use crate::auth::Account;
use crate::domain::{
    FieldCode, FieldError, FieldErrors, IdDocument, MobileNumber, PersonKey, PersonName,
    Temperature,
};
use crate::services::manual_check_ins::{
    self, ManualCheckIn, ManualSheet, TypedPerson, MAX_SHEET_ROWS,
};
use crate::web::{ApiError, Json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualRequest {
    entrance_id: i64,
    name: String,
    id_type: Option<String>,
    /// Absent for someone with no document with them: then `phone` is required.
    id_number: Option<String>,
    phone: Option<String>,
    /// °C, when staff took it.
    temperature: Option<f64>,
}

/// A person as typed at the door (a request's or a sheet row's fields).
struct PersonRequest {
    name: String,
    id_type: Option<String>,
    /// Absent for someone with no document with them: then `phone` is required.
    id_number: Option<String>,
    phone: Option<String>,
    /// °C, when staff took it.
    temperature: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetRequest {
    entrance_id: i64,
    rows: Vec<SheetRowRequest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetRowRequest {
    name: String,
    id_type: Option<String>,
    id_number: Option<String>,
    phone: Option<String>,
    temperature: Option<f64>,
    /// When the person entered, as written on the sheet (RFC 3339).
    scanned_at: String,
}

impl PersonRequest {
    /// Checks the typed person, naming bad fields under `prefix`.
    fn check(&self, errors: &mut FieldErrors, prefix: &str) -> Option<TypedPerson> {
        let field = |name: &str| format!("{prefix}{name}");
        let name = errors.check(field("name"), PersonName::parse(&self.name));
        // `Some(None)`: a phone was typed and did not read (already recorded).
        let phone = self
            .phone
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(|phone| errors.check(field("phone"), MobileNumber::parse(phone)));
        let key = match (self.id_number.as_deref(), &phone) {
            (Some(number), _) => IdDocument::check(errors, prefix, self.id_type.as_deref(), number)
                .map(PersonKey::Document),
            (None, Some(mobile)) if self.id_type.is_none() => mobile.clone().map(PersonKey::Mobile),
            (None, _) => {
                errors.add(
                    field("id_number"),
                    FieldError::new(
                        FieldCode::IdNumberRequired,
                        "请填写证件号码；无证件的，请填写手机号码（phone）",
                    ),
                );
                None
            }
        };
        let temperature = match self.temperature {
            Some(t) => Some(errors.check(field("temperature"), Temperature::parse(t))?),
            None => None,
        };
        Some(TypedPerson {
            name: name?,
            key: key?,
            phone: phone.flatten(),
            temperature,
        })
    }
}

impl TryFrom<ManualRequest> for ManualCheckIn {
    type Error = FieldErrors;

    fn try_from(request: ManualRequest) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let person = PersonRequest {
            name: request.name,
            id_type: request.id_type,
            id_number: request.id_number,
            phone: request.phone,
            temperature: request.temperature,
        }
        .check(&mut errors, "");
        errors.into_result(person.map(|person| ManualCheckIn {
            entrance_id: request.entrance_id,
            person,
        }))
    }
}

impl TryFrom<SheetRequest> for ManualSheet {
    type Error = FieldErrors;

    fn try_from(request: SheetRequest) -> Result<Self, FieldErrors> {
        if request.rows.is_empty() || request.rows.len() > MAX_SHEET_ROWS {
            return Err(FieldErrors::one(
                "rows",
                FieldError::new(
                    FieldCode::RowsCount,
                    format!("每张登记表1至{MAX_SHEET_ROWS}行"),
                ),
            ));
        }
        let mut errors = FieldErrors::default();
        // Every row is checked, so that one 422 names every bad field.
        let rows: Vec<Option<_>> = request
            .rows
            .into_iter()
            .enumerate()
            .map(|(i, row)| {
                let prefix = format!("rows[{i}].");
                let at = errors.check(
                    format!("{prefix}scanned_at"),
                    DateTime::parse_from_rfc3339(row.scanned_at.trim()).map_err(|_| {
                        FieldError::new(FieldCode::TimeInvalid, "时间应为带时区的 RFC 3339 时间")
                    }),
                );
                let person = PersonRequest {
                    name: row.name,
                    id_type: row.id_type,
                    id_number: row.id_number,
                    phone: row.phone,
                    temperature: row.temperature,
                }
                .check(&mut errors, &prefix);
                person.zip(at)
            })
            .collect();
        errors.into_result(
            rows.into_iter()
                .collect::<Option<Vec<_>>>()
                .map(|rows| ManualSheet {
                    entrance_id: request.entrance_id,
                    rows,
                }),
        )
    }
}

pub async fn record(
    account: Account,
    path: web::Path<i64>,
    body: Json<ManualRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let input = ManualCheckIn::try_from(body.0)?;
    let page = manual_check_ins::record(&state, &account, path.into_inner(), input).await?;
    Ok(created(page))
}

/// A paper sheet's rows, all or nothing: `{"items": [door page, …]}` in the sheet's order.
pub async fn record_sheet(
    account: Account,
    path: web::Path<i64>,
    body: Json<SheetRequest, { 256 * 1024 }>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let sheet = ManualSheet::try_from(body.0)?;
    let pages = manual_check_ins::record_sheet(&state, &account, path.into_inner(), sheet).await?;
    Ok(created(Items { items: pages }))
}
