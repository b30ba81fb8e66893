//! Venue applications by their managers: apply, look up their own, read, edit until approved.

use actix_web::{web, HttpResponse};

use super::{created, items, Items, State};
use crate::auth::{Account, Caller, Registrar};
use crate::domain::{ManagerFilter, VenueEdit};
use crate::services::venue_imports;
use crate::services::venues::{self, VenueView};
use crate::web::venue_requests::{
    manager_of_request, sheet, venues_to_import, ApplicationRequest, ChangesRequest,
    HandoverRequest, ListQuery, VenueImportRequest,
};
use crate::web::{ApiError, Json, JsonOrCsv, Query};

pub async fn apply(
    account: Account,
    body: Json<ApplicationRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let application = body.0.parse(&state.taxonomy)?;
    let venue = venues::apply(&state, &account, application).await?;
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("/api/v1/venues/{}", venue.id)))
        .json(venue))
}

pub async fn list(
    account: Account,
    query: Query<ListQuery>,
    state: State,
) -> Result<web::Json<Items<VenueView>>, ApiError> {
    let filter = ManagerFilter::try_from(query.0)?;
    Ok(items(venues::list_mine(&state, &account, filter).await?))
}

pub async fn get(
    account: Account,
    path: web::Path<i64>,
    state: State,
) -> Result<web::Json<VenueView>, ApiError> {
    Ok(web::Json(
        venues::get(&state, &account, path.into_inner()).await?,
    ))
}

pub async fn update(
    account: Account,
    path: web::Path<i64>,
    body: Json<ChangesRequest>,
    state: State,
) -> Result<web::Json<VenueView>, ApiError> {
    let edit = VenueEdit::try_from(body.0)?;
    let venue = venues::update(&state, &account, path.into_inner(), edit).await?;
    Ok(web::Json(venue))
}

/// Many venues at once by a registrar of their region (JSON `{"venues": […]}` or CSV with a
/// header row): all or nothing, every bad field named by its row; approved at once.
pub async fn import(
    Registrar(registrar): Registrar,
    body: JsonOrCsv<VenueImportRequest, { 8 * 1024 * 1024 }>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let requests = match body {
        JsonOrCsv::Json(request) => request.venues,
        JsonOrCsv::Csv(text) => sheet(&text)?,
    };
    let applications = venues_to_import(&requests, &state.taxonomy)?;
    let registered = venue_imports::import(&state, &registrar, applications).await?;
    Ok(created(items(registered).0))
}

/// Hands the venue over to another manager (its manager, or a reviewer or registrar of its
/// region); the new manager claims it by logging in with the mobile given.
pub async fn hand_over(
    caller: Caller,
    path: web::Path<i64>,
    body: Json<HandoverRequest>,
    state: State,
) -> Result<web::Json<VenueView>, ApiError> {
    let new_manager = manager_of_request(&body.0)?;
    let view = venues::hand_over(&state, &caller, path.into_inner(), new_manager).await?;
    Ok(web::Json(view))
}
