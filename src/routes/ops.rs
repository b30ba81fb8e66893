//! Operations: liveness, readiness, metrics and the API description.

use actix_web::http::header::{self, ContentType};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::State;
use crate::config::AppEnv;
use crate::crypto::constant_time_eq;
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

/// Prometheus metrics, for the scraper that presents `METRICS_TOKEN` as a bearer token; without
/// a token configured, for loopback clients in development only.
pub async fn metrics(
    request: HttpRequest,
    state: State,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let allowed = match &state.settings.server.metrics_token {
        Some(token) => request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| constant_time_eq(given.as_bytes(), token.expose().as_bytes())),
        None => {
            state.settings.env == AppEnv::Development
                && request
                    .peer_addr()
                    .is_some_and(|peer| peer.ip().is_loopback())
        }
    };
    if !allowed {
        return Err(ApiError::not_found());
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(&state.db)))
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
