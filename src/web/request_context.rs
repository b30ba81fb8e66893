//! Middleware around every request: a request id (taken from a well-formed `X-Request-Id` or
//! made new) on the response and on every log line of the request, an access log line, and the
//! request metrics.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::Error;
use tracing::Instrument;

use actix_web::web;

use super::metrics::Metrics;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Label for requests that matched no route, so unknown paths cannot grow the metric set.
const UNMATCHED: &str = "unmatched";

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_acceptable_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let method = req.method().as_str().to_owned();
    let route = req.match_pattern().unwrap_or_else(|| UNMATCHED.to_owned());
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);

    let result = next.call(req).instrument(span.clone()).await;
    let seconds = started.elapsed().as_secs_f64();
    let mut response = result?;
    let status = response.status();
    span.in_scope(|| {
        // A 500 is a defect; a 503 (database or platform unavailable) is a condition to watch.
        if status == actix_web::http::StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(
                status = status.as_u16(),
                latency_ms = seconds * 1e3,
                "request failed"
            );
        } else if status.is_server_error() {
            tracing::warn!(
                status = status.as_u16(),
                latency_ms = seconds * 1e3,
                "request unavailable"
            );
        } else {
            tracing::info!(
                status = status.as_u16(),
                latency_ms = seconds * 1e3,
                "request finished"
            );
        }
    });
    if let Some(metrics) = metrics {
        metrics.observe_request(&method, &route, status.as_u16(), seconds);
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(response)
}

/// A caller's id is reused only when short and plain, so it cannot forge log content.
fn is_acceptable_id(value: &str) -> bool {
    (8..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_are_reused() {
        assert!(is_acceptable_id("3f2c9a7e-1b2d-4c5e"));
        assert!(!is_acceptable_id("short"));
        assert!(!is_acceptable_id("has space in it"));
        assert!(!is_acceptable_id(&"a".repeat(65)));
    }
}
