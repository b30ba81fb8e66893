//! Companions (同行人员): elderly people and children a resident checks in with them in one scan.

use actix_web::{web, HttpResponse};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};

use super::check_ins::consented_person;
use crate::auth::Resident;
use crate::db::companions::{self, CompanionError, CompanionRow};
use crate::db::persons::Person;
use crate::domain::{FieldError, IdNumber, PersonName};
use crate::error::{ApiError, ErrorCode, Invalid};
use crate::extract::Json;
use crate::state::{AppState, State};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanionRequest {
    name: String,
    id_number: String,
    relation: String,
}

#[derive(Serialize)]
pub struct CompanionResponse {
    id: i64,
    /// Masked.
    name: String,
    /// Masked.
    id_number: String,
    relation: String,
    age: u32,
    /// Whether the person may be checked in as a companion today.
    eligible: bool,
}

#[derive(Serialize)]
pub struct CompanionListResponse {
    items: Vec<CompanionResponse>,
}

fn response(state: &AppState, row: &CompanionRow, person: &Person) -> CompanionResponse {
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    CompanionResponse {
        id: row.id,
        name: person.name.masked(),
        id_number: person.id_number.masked(),
        relation: row.relation.clone(),
        age: person.id_number.age_on(today),
        eligible: state
            .settings
            .scan
            .companions
            .is_eligible(&person.id_number, today),
    }
}

pub async fn list(
    resident: Resident,
    state: State,
) -> Result<web::Json<CompanionListResponse>, ApiError> {
    let worker = state.clone();
    let items = state
        .db
        .run(move |conn| -> Result<Vec<CompanionResponse>, ApiError> {
            companions::list(conn, resident.account_id)?
                .into_iter()
                .map(|(row, person)| Ok(response(&worker, &row, &person.open(&worker.cipher)?)))
                .collect()
        })
        .await?;
    Ok(web::Json(CompanionListResponse { items }))
}

pub async fn add(
    resident: Resident,
    body: Json<CompanionRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let mut invalid = Invalid::default();
    let name = invalid.check("name", PersonName::parse(&request.name));
    let id_number = invalid.check("id_number", IdNumber::parse(&request.id_number));
    let relation = request.relation.trim().to_owned();
    if relation.is_empty()
        || relation.chars().count() > 10
        || relation.chars().any(char::is_control)
    {
        invalid.add(
            "relation",
            FieldError::new("relation_invalid", "关系请填写1至10个字，如 父亲、女儿"),
        );
    }
    invalid.finish()?;
    let (name, id_number) = (name.expect("checked"), id_number.expect("checked"));
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    if !state
        .settings
        .scan
        .companions
        .is_eligible(&id_number, today)
    {
        return Err(ApiError::new(ErrorCode::CompanionNotEligible));
    }
    let worker = state.clone();
    let created = state
        .db
        .run(move |conn| -> Result<CompanionResponse, ApiError> {
            consented_person(&worker, conn, resident.account_id)?;
            let (row, person) = companions::add(
                conn,
                &worker.cipher,
                resident.account_id,
                &id_number,
                &name,
                &relation,
            )
            .map_err(|e| match e {
                CompanionError::TooMany => ApiError::new(ErrorCode::TooManyCompanions),
                CompanionError::TooManyAccounts => ApiError::new(ErrorCode::CompanionAccountLimit),
                CompanionError::AlreadyAdded => ApiError::new(ErrorCode::CompanionExists),
                CompanionError::IsSelf => ApiError::invalid_field(
                    "id_number",
                    FieldError::new("companion_is_self", "不能把自己添加为同行人员"),
                ),
                CompanionError::Db(e) => e.into(),
            })?;
            Ok(response(&worker, &row, &person.open(&worker.cipher)?))
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

pub async fn remove(
    resident: Resident,
    path: web::Path<i64>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let removed = state
        .db
        .run(move |conn| companions::remove(conn, resident.account_id, id))
        .await?;
    if removed {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::new(ErrorCode::CompanionNotFound))
    }
}
