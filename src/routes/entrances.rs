//! Entrances of a venue (one door, one code): add, rename, close, download and rotate codes.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{created, page, page_request, Page, PageQuery, State};
use crate::auth::{Account, Caller, VenueAuthority};
use crate::domain::{EntranceChanges, EntranceName, FieldCode, FieldError, FieldErrors};
use crate::services::entrances::{self, CodeFile, CodeFormat, OutdatedPosterView};
use crate::services::venues::EntranceView;
use crate::web::venue_requests::{entrance_description, EntranceRequest};
use crate::web::{ApiError, Json, Query};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntranceChangesRequest {
    name: Option<String>,
    description: Option<String>,
}

impl TryFrom<EntranceChangesRequest> for EntranceChanges {
    type Error = FieldErrors;

    fn try_from(request: EntranceChangesRequest) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        if request.name.is_none() && request.description.is_none() {
            errors.add(
                "body",
                FieldError::new(FieldCode::Required, "没有要修改的内容"),
            );
        }
        let changes = EntranceChanges {
            name: request
                .name
                .as_deref()
                .and_then(|n| errors.check("name", EntranceName::parse(n))),
            description: request
                .description
                .as_deref()
                .and_then(|d| errors.check("description", entrance_description(d))),
        };
        errors.finish()?;
        Ok(changes)
    }
}

pub async fn add(
    account: Account,
    path: web::Path<i64>,
    body: Json<EntranceRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let new = body.0.parse()?;
    Ok(created(
        entrances::add(&state, &account, path.into_inner(), new).await?,
    ))
}

pub async fn update(
    account: Account,
    path: web::Path<(i64, i64)>,
    body: Json<EntranceChangesRequest>,
    state: State,
) -> Result<web::Json<EntranceView>, ApiError> {
    let changes = EntranceChanges::try_from(body.0)?;
    let (venue_id, entrance_id) = path.into_inner();
    let view = entrances::update(&state, &account, venue_id, entrance_id, changes).await?;
    Ok(web::Json(view))
}

pub async fn close(
    account: Account,
    path: web::Path<(i64, i64)>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let (venue_id, entrance_id) = path.into_inner();
    entrances::close(&state, &account, venue_id, entrance_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn download(file: CodeFile) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(file.content_type)
        .insert_header(("cache-control", "private, no-cache"))
        .insert_header((
            "content-disposition",
            format!("inline; filename=\"{}\"", file.file_name),
        ))
        .body(file.bytes)
}

pub async fn code_png(
    account: Account,
    path: web::Path<(i64, i64)>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let (venue_id, entrance_id) = path.into_inner();
    let file = entrances::code(&state, &account, venue_id, entrance_id, CodeFormat::Png).await?;
    Ok(download(file))
}

pub async fn code_svg(
    account: Account,
    path: web::Path<(i64, i64)>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let (venue_id, entrance_id) = path.into_inner();
    let file = entrances::code(&state, &account, venue_id, entrance_id, CodeFormat::Svg).await?;
    Ok(download(file))
}

pub async fn rotate_code(
    account: Account,
    path: web::Path<(i64, i64)>,
    state: State,
) -> Result<web::Json<EntranceView>, ApiError> {
    let (venue_id, entrance_id) = path.into_inner();
    let view = entrances::rotate_code(&state, &account, venue_id, entrance_id).await?;
    Ok(web::Json(view))
}

/// Every open entrance's code and poster in one zip (manager and venue staff; reviewers and
/// registrars of the venue's region).
pub async fn posters_zip(
    caller: Caller,
    path: web::Path<i64>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let file = entrances::posters_zip(&state, &caller, path.into_inner()).await?;
    Ok(download(file))
}

/// The posters of the region that still carry an earlier venue-code key.
pub async fn outdated_posters(
    VenueAuthority(authority): VenueAuthority,
    query: Query<PageQuery>,
    state: State,
) -> Result<web::Json<Page<OutdatedPosterView>>, ApiError> {
    let request = page_request(query.0.cursor.as_deref(), query.0.limit)?;
    Ok(page(
        entrances::outdated_posters(&state, &authority, request).await?,
    ))
}
