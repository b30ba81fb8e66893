//! Printed personal codes for people without phones: the resident prints one for themself or a
//! companion; venue staff scan it at the door. Valid 14 days from printing.

use actix_web::{web, HttpResponse};
use chrono::{Duration, Utc};

use super::check_ins::consented_person;
use crate::auth::Resident;
use crate::db::companions;
use crate::domain::PaperCode;
use crate::error::{ApiError, ErrorCode};
use crate::posters;
use crate::state::State;

fn png(state: &State, person_id: i64) -> Result<HttpResponse, ApiError> {
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let code = PaperCode {
        person_id,
        issued_on: today,
    };
    let image = posters::code_png(&state.paper_codes.text(code)).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("cache-control", "no-store"))
        .insert_header((
            "x-valid-until",
            code.valid_until().format("%Y-%m-%d").to_string(),
        ))
        .body(image))
}

pub async fn own(resident: Resident, state: State) -> Result<HttpResponse, ApiError> {
    let worker = state.clone();
    let person = state
        .db
        .run(move |conn| consented_person(&worker, conn, resident.account_id))
        .await?;
    png(&state, person.id)
}

pub async fn companion(
    resident: Resident,
    path: web::Path<i64>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let worker = state.clone();
    let person_id = state
        .db
        .run(move |conn| -> Result<i64, ApiError> {
            consented_person(&worker, conn, resident.account_id)?;
            companions::find_many(conn, resident.account_id, &[id])?
                .first()
                .map(|(_, person)| person.id)
                .ok_or_else(|| ApiError::new(ErrorCode::CompanionNotFound))
        })
        .await?;
    png(&state, person_id)
}
