//! `GET /api/v1/venue-categories`: the taxonomy this deployment uses.

use actix_web::HttpResponse;

use super::State;

pub async fn list(state: State) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=300"))
        .json(state.taxonomy.as_ref())
}
