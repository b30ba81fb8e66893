//! Companions (同行人员) of the caller.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{created, items, Items, State};
use crate::auth::Account;
use crate::domain::{FieldError, FieldErrors, IdNumber, PersonName};
use crate::services::companions::{self, CompanionView, NewCompanion};
use crate::web::{ApiError, Json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanionRequest {
    name: String,
    id_number: String,
    relation: String,
}

impl TryFrom<CompanionRequest> for NewCompanion {
    type Error = FieldErrors;

    fn try_from(request: CompanionRequest) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.check("name", PersonName::parse(&request.name));
        let id_number = errors.check("id_number", IdNumber::parse(&request.id_number));
        let relation = request.relation.trim().to_owned();
        if relation.is_empty()
            || relation.chars().count() > 10
            || relation.chars().any(crate::domain::is_hidden)
        {
            errors.add(
                "relation",
                FieldError::new("relation_invalid", "关系请填写1至10个字，如 父亲、女儿"),
            );
        }
        errors.into_result(name.zip(id_number).map(|(name, id_number)| NewCompanion {
            name,
            id_number,
            relation,
        }))
    }
}

pub async fn list(
    account: Account,
    state: State,
) -> Result<web::Json<Items<CompanionView>>, ApiError> {
    Ok(items(companions::list(&state, &account).await?))
}

pub async fn add(
    account: Account,
    body: Json<CompanionRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let new = NewCompanion::try_from(body.0)?;
    Ok(created(companions::add(&state, &account, new).await?))
}

pub async fn remove(
    account: Account,
    path: web::Path<i64>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    companions::remove(&state, &account, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
