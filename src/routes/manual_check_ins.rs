//! Manual check-ins: venue staff register a person without a phone by hand.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{created, State};
use crate::auth::Account;
use crate::domain::{
    FieldError, FieldErrors, IdDocument, MobileNumber, PersonKey, PersonName, Temperature,
};
use crate::services::manual_check_ins::{self, ManualCheckIn};
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

impl TryFrom<ManualRequest> for ManualCheckIn {
    type Error = FieldErrors;

    fn try_from(request: ManualRequest) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.check("name", PersonName::parse(&request.name));
        let phone = match request.phone.as_deref().filter(|p| !p.trim().is_empty()) {
            Some(phone) => Some(errors.check("phone", MobileNumber::parse(phone))),
            None => None,
        };
        let key = match (request.id_number.as_deref(), &phone) {
            (Some(number), _) => {
                IdDocument::check(&mut errors, "", request.id_type.as_deref(), number)
                    .map(PersonKey::Document)
            }
            (None, Some(mobile)) if request.id_type.is_none() => {
                mobile.clone().map(PersonKey::Mobile)
            }
            (None, _) => {
                errors.add(
                    "id_number",
                    FieldError::new(
                        "id_number_required",
                        "请填写证件号码；无证件的，请填写手机号码（phone）",
                    ),
                );
                None
            }
        };
        let phone = phone.flatten();
        let temperature = match request
            .temperature
            .map(|t| errors.check("temperature", Temperature::parse(t)))
        {
            Some(None) => return Err(errors),
            checked => checked.flatten(),
        };
        errors.into_result(name.zip(key).map(|(name, key)| ManualCheckIn {
            entrance_id: request.entrance_id,
            name,
            key,
            phone,
            temperature,
        }))
    }
}

pub async fn register(
    account: Account,
    path: web::Path<i64>,
    body: Json<ManualRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let input = ManualCheckIn::try_from(body.0)?;
    let page = manual_check_ins::register(&state, &account, path.into_inner(), input).await?;
    Ok(created(page))
}
