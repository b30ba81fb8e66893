//! `GET /api/v1/venue-categories`: the taxonomy this deployment uses.

use std::sync::Arc;

use actix_web::{web, HttpResponse};

use crate::domain::Taxonomy;

pub async fn list(taxonomy: web::Data<Arc<Taxonomy>>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=300"))
        .json(taxonomy.as_ref().as_ref())
}
