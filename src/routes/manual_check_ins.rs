//! Manual check-ins: venue staff register a person without a phone by hand.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{created, State};
use crate::auth::Account;
use crate::domain::{FieldErrors, IdNumber, MobileNumber, PersonName, Temperature};
use crate::services::manual_check_ins::{self, ManualCheckIn};
use crate::web::{ApiError, Json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualRequest {
    entrance_id: i64,
    name: String,
    id_number: String,
    phone: Option<String>,
    /// °C, when staff took it.
    temperature: Option<f64>,
}

impl TryFrom<ManualRequest> for ManualCheckIn {
    type Error = FieldErrors;

    fn try_from(request: ManualRequest) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.check("name", PersonName::parse(&request.name));
        let id_number = errors.check("id_number", IdNumber::parse(&request.id_number));
        let phone = request
            .phone
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .and_then(|p| errors.check("phone", MobileNumber::parse(p)));
        let temperature = match request
            .temperature
            .map(|t| errors.check("temperature", Temperature::parse(t)))
        {
            Some(None) => return Err(errors),
            checked => checked.flatten(),
        };
        errors.into_result(name.zip(id_number).map(|(name, id_number)| ManualCheckIn {
            entrance_id: request.entrance_id,
            name,
            id_number,
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
