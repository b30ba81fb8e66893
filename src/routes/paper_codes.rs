//! Printed paper codes: the caller's own, or a companion's.

use actix_web::{web, HttpResponse};

use super::State;
use crate::auth::Account;
use crate::services::paper_codes::{self, PaperCodeImage};
use crate::web::ApiError;

fn png(image: PaperCodeImage) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("cache-control", "no-store"))
        .insert_header((
            "x-valid-until",
            image.valid_until.format("%Y-%m-%d").to_string(),
        ))
        .body(image.png)
}

pub async fn own(account: Account, state: State) -> Result<HttpResponse, ApiError> {
    Ok(png(paper_codes::own(&state, &account).await?))
}

pub async fn companion(
    account: Account,
    path: web::Path<i64>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    Ok(png(paper_codes::companion(
        &state,
        &account,
        path.into_inner(),
    )
    .await?))
}
