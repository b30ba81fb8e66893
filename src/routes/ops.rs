//! Operations: liveness, readiness, metrics and the API description.

use actix_web::http::header::ContentType;
use actix_web::{web, HttpResponse};
use serde_json::json;

use super::State;
use crate::services;
use crate::web::metrics::Metrics;
use crate::web::ApiError;

const OPENAPI: &str = include_str!("../../api-spec/openapi.yaml");

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The process can serve: the database answers.
pub async fn readyz(state: State) -> Result<HttpResponse, ApiError> {
    services::ping(&state).await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        ApiError::unavailable().with_message("数据库暂时无法访问")
    })?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready", "database": state.db.backend()})))
}

pub async fn metrics(state: State, metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(&state.db))
}

pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType(
            "application/yaml; charset=utf-8"
                .parse()
                .expect("static mime"),
        ))
        .body(OPENAPI)
}
