//! Verified identity: a resident's face check through their platform, and an official releasing
//! an identity's binding.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{DocumentQuery, State};
use crate::auth::{Account, HealthOfficial};
use crate::domain::{FieldErrors, IdNumber, IdType, PersonName};
use crate::services::accounts::MeView;
use crate::services::identity::{self, VerificationStart};
use crate::web::{ApiError, Json, Query};

/// The identity to verify; without one, the identity the account declared.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    name: Option<String>,
    /// Only `resident_id`: the platforms verify faces against resident IDs.
    id_type: Option<String>,
    id_number: Option<String>,
}

fn claim(request: StartRequest) -> Result<Option<(IdNumber, PersonName)>, FieldErrors> {
    let mut errors = FieldErrors::default();
    let claim = match (request.id_number, request.name) {
        (None, None) if request.id_type.is_none() => None,
        (id_number, name) => {
            let id_number = match errors.check("id_type", IdType::parse(request.id_type.as_deref()))
            {
                Some(IdType::ResidentId) => errors.check(
                    "id_number",
                    IdNumber::parse(id_number.as_deref().unwrap_or_default()),
                ),
                Some(_) => {
                    errors.add("id_type", identity::face_check_needs_resident_id());
                    None
                }
                None => None,
            };
            let name = errors.check(
                "name",
                PersonName::parse(name.as_deref().unwrap_or_default()),
            );
            id_number.zip(name)
        }
    };
    errors.finish()?;
    Ok(claim)
}

pub async fn start(
    account: Account,
    body: Json<StartRequest>,
    state: State,
) -> Result<web::Json<VerificationStart>, ApiError> {
    let claim = claim(body.0)?;
    Ok(web::Json(identity::start(&state, &account, claim).await?))
}

pub async fn result(
    account: Account,
    path: web::Path<String>,
    state: State,
) -> Result<web::Json<MeView>, ApiError> {
    let verification_id = path.into_inner();
    if verification_id.len() > 64 || !verification_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiError::not_found());
    }
    Ok(web::Json(
        identity::result(&state, &account, verification_id).await?,
    ))
}

pub async fn release(
    HealthOfficial(official): HealthOfficial,
    path: web::Path<String>,
    query: Query<DocumentQuery>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let document = query.0.document(&path.into_inner())?;
    identity::release(&state, &official, document).await?;
    Ok(HttpResponse::NoContent().finish())
}
