//! Middleware around every request: a request id (taken from a well-formed `X-Request-Id` or
//! made new) on the response and on every log line of the request, and the request metrics.
//! Metrics count every request; the log gets one line for a request that failed on our side
//! (5xx, with its cause) or was slow, none for the others. A flood of 503s (a database that is
//! down) is summarised, a line every few seconds per error code, rather than written out.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::Error;
use tracing::Instrument;

use actix_web::web;

use super::admission::Shed;
use super::error::ErrorCause;
use super::metrics::Metrics;
use crate::state::AppState;
use crate::telemetry::OncePer;
use actix_web::http::StatusCode;

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
    let slow = req
        .app_data::<web::Data<AppState>>()
        .map_or(Duration::from_secs(1), |state| {
            state.settings.server.slow_request
        });
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);

    let result = next.call(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let mut response = result?;
    let status = response.status();
    // Shedding is logged by admission control, a line for many.
    let shed = response.response().extensions().contains::<Shed>();
    if (status.is_server_error() && !shed) || elapsed >= slow {
        span.in_scope(|| log_request(&response, elapsed, slow));
    }
    let seconds = elapsed.as_secs_f64();
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

/// One 503 line per code every few seconds, however many are answered.
static UNAVAILABLE_LOG: LazyLock<OncePer> = LazyLock::new(|| OncePer::new(Duration::from_secs(5)));

/// The one line of a request that failed on our side or was slow.
fn log_request(response: &ServiceResponse<impl MessageBody>, elapsed: Duration, slow: Duration) {
    let status = response.status();
    let cause = response
        .response()
        .extensions()
        .get::<ErrorCause>()
        .map(|cause| cause.0.clone());
    let latency_ms = elapsed.as_secs_f64() * 1e3;
    let cause = cause.as_deref().unwrap_or("");
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        // A defect: every one is written.
        tracing::error!(
            status = status.as_u16(),
            latency_ms,
            cause,
            "request failed"
        );
    } else if status.is_server_error() {
        // The database or a platform is unavailable, or the node is full: a condition to watch.
        if let Some(skipped) = UNAVAILABLE_LOG.due() {
            tracing::warn!(
                status = status.as_u16(),
                latency_ms,
                cause,
                unavailable_since_last_line = skipped,
                "request unavailable"
            );
        }
    } else if elapsed >= slow {
        tracing::warn!(status = status.as_u16(), latency_ms, "slow request");
    }
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
