//! Operations: liveness, readiness, metrics and the API description.

use actix_web::http::header::{self, ContentType};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::State;
use std::net::IpAddr;

use crate::config::Settings;
use crate::crypto::constant_time_eq;
use crate::services;
use crate::web::admission::Admission;
use crate::web::metrics::Metrics;
use crate::web::ApiError;

const OPENAPI: &str = include_str!("../../api-spec/openapi.yaml");

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// How long `/readyz` waits for the database before it says "not ready".
const READINESS_DEADLINE: std::time::Duration = std::time::Duration::from_millis(800);

/// The process can serve: the database answers and takes writes, within a second.
pub async fn readyz(state: State) -> Result<HttpResponse, ApiError> {
    let checked = tokio::time::timeout(READINESS_DEADLINE, services::readiness(&state)).await;
    match checked {
        Ok(Ok(())) => {
            Ok(HttpResponse::Ok().json(json!({"status": "ready", "database": state.db.backend()})))
        }
        Ok(Err(e)) => Err(ApiError::from(e).with_message("数据库暂时无法访问或无法写入")),
        Err(_) => Err(ApiError::database_unavailable()
            .with_message("数据库暂时无法访问或无法写入")
            .with_cause("the readiness check took longer than its deadline")),
    }
}

/// Prometheus metrics, for the scraper that presents `METRICS_TOKEN` as a bearer token; without
/// a token configured, for loopback clients in development only. Anyone else gets 404.
pub async fn metrics(
    request: HttpRequest,
    state: State,
    metrics: web::Data<Metrics>,
    admission: Option<web::Data<Admission>>,
) -> Result<HttpResponse, ApiError> {
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let peer = request.peer_addr().map(|peer| peer.ip());
    if !metrics_allowed(&state.settings, bearer, peer) {
        return Err(ApiError::not_found());
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(
            &state.db,
            state.replica.as_deref(),
            admission.map(|a| (a.in_flight(), a.queued())),
        )))
}

fn metrics_allowed(settings: &Settings, bearer: Option<&str>, peer: Option<IpAddr>) -> bool {
    match &settings.server.metrics_token {
        Some(token) => bearer
            .is_some_and(|given| constant_time_eq(given.as_bytes(), token.expose().as_bytes())),
        None => settings.is_development() && peer.is_some_and(|ip| ip.is_loopback()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AppEnv;

    #[test]
    fn metrics_are_for_the_token_or_for_loopback_in_development() {
        let loopback = Some(IpAddr::from([127, 0, 0, 1]));
        let remote = Some(IpAddr::from([203, 0, 113, 9]));
        let mut settings = Settings::load(|_| None).unwrap();
        assert!(metrics_allowed(&settings, None, loopback));
        assert!(!metrics_allowed(&settings, None, remote));
        settings.env = AppEnv::Production;
        assert!(!metrics_allowed(&settings, None, loopback));
        settings.server.metrics_token = Some(crate::domain::Secret::new("t".repeat(20)));
        assert!(metrics_allowed(&settings, Some(&"t".repeat(20)), remote));
        assert!(!metrics_allowed(&settings, Some("t"), loopback));
        assert!(!metrics_allowed(&settings, None, loopback));
    }
}
