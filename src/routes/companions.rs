//! Companions (同行人员) of the caller.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{created, items, Items, State};
use crate::auth::Account;
use crate::domain::{parse_birth_date, FieldCode, FieldError, FieldErrors, IdDocument, PersonName};
use crate::services::companions::{self, CompanionRequestView, CompanionView, NewCompanion};
use crate::web::{ApiError, Json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanionRequest {
    name: String,
    id_type: Option<String>,
    id_number: String,
    /// `YYYY-MM-DD`: required beside a document whose number carries no birth date.
    birth_date: Option<String>,
    relation: String,
}

impl TryFrom<CompanionRequest> for NewCompanion {
    type Error = FieldErrors;

    fn try_from(request: CompanionRequest) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.check("name", PersonName::parse(&request.name));
        let document = IdDocument::check(
            &mut errors,
            "",
            request.id_type.as_deref(),
            &request.id_number,
        );
        // `None` when a typed birth date did not parse (already recorded).
        let given = match request.birth_date.as_deref() {
            None => Some(None),
            Some(day) => errors.check("birth_date", parse_birth_date(day)).map(Some),
        };
        let birth_date = match (&document, given) {
            (Some(document), Some(given)) => {
                match errors.check("birth_date", document.holder_birth_date(given)) {
                    Some(Some(day)) => Some(day),
                    Some(None) => {
                        let message = format!(
                            "{}号码中没有出生日期，请填写出生日期（birth_date）",
                            document.kind().label()
                        );
                        errors.add(
                            "birth_date",
                            FieldError::new(FieldCode::BirthDateRequired, message),
                        );
                        None
                    }
                    None => None,
                }
            }
            _ => None,
        };
        let relation = request.relation.trim().to_owned();
        if relation.is_empty()
            || relation.chars().count() > 10
            || relation.chars().any(crate::domain::is_hidden)
        {
            errors.add(
                "relation",
                FieldError::new(
                    FieldCode::RelationInvalid,
                    "关系请填写1至10个字，如 父亲、女儿",
                ),
            );
        }
        let value = match (name, document, birth_date) {
            (Some(name), Some(document), Some(birth_date)) => Some(NewCompanion {
                name,
                document,
                birth_date,
                relation,
            }),
            _ => None,
        };
        errors.into_result(value)
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

/// Requests of other accounts to check the caller in as their companion.
pub async fn requests(
    account: Account,
    state: State,
) -> Result<web::Json<Items<CompanionRequestView>>, ApiError> {
    Ok(items(companions::requests(&state, &account).await?))
}

pub async fn accept(
    account: Account,
    path: web::Path<i64>,
    state: State,
) -> Result<web::Json<CompanionRequestView>, ApiError> {
    Ok(web::Json(
        companions::accept(&state, &account, path.into_inner()).await?,
    ))
}

/// Declines a request, or ends a companionship accepted before.
pub async fn end(
    account: Account,
    path: web::Path<i64>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    companions::end(&state, &account, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
