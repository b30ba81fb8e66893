//! Admission control: at most `MAX_IN_FLIGHT` requests are served at once. A request beyond that
//! waits for a place at most `QUEUE_TIMEOUT_MS`, behind at most `MAX_QUEUED` others; otherwise it
//! is answered 503 `overloaded` with `Retry-After` at once, before its body is read or the
//! database touched. A request whose client disconnects while it waits is dropped unstarted
//! (the server does not keep half-closed connections, so a client's going ends its request).
//! Liveness, readiness and metrics are never held back: they say how the node is, also when it
//! is full.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};
use tokio::sync::Semaphore;

use super::error::{ErrorCode, OVERLOADED_RETRY_AFTER_SECS};
use super::metrics::Metrics;
use crate::config::AdmissionSettings;
use crate::telemetry::OncePer;

/// Paths answered whatever the load.
const ALWAYS_ADMITTED: &[&str] = &["/healthz", "/readyz", "/metrics"];

pub struct Admission {
    places: Arc<Semaphore>,
    max_in_flight: usize,
    queued: AtomicUsize,
    max_queued: usize,
    queue_timeout: Duration,
    metrics: Metrics,
    shed_log: OncePer,
}

/// Why a request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shed {
    /// `MAX_QUEUED` requests were already waiting.
    QueueFull,
    /// It waited `QUEUE_TIMEOUT_MS` without a place coming free.
    Waited,
}

impl Shed {
    pub fn as_str(self) -> &'static str {
        match self {
            Shed::QueueFull => "queue_full",
            Shed::Waited => "queue_timeout",
        }
    }
}

/// The body of the 503 a shed request gets: the same bytes every time, made once.
static SHED_BODY: LazyLock<Vec<u8>> = LazyLock::new(|| {
    serde_json::to_vec(&serde_json::json!({"error": {
        "code": ErrorCode::Overloaded.as_str(),
        "message": ErrorCode::Overloaded.default_message(),
        "details": {},
    }}))
    .expect("a static body serialises")
});

impl Admission {
    pub fn new(settings: &AdmissionSettings, metrics: Metrics) -> Self {
        Self {
            places: Arc::new(Semaphore::new(settings.max_in_flight)),
            max_in_flight: settings.max_in_flight,
            queued: AtomicUsize::new(0),
            max_queued: settings.max_queued,
            queue_timeout: settings.queue_timeout,
            metrics,
            shed_log: OncePer::new(Duration::from_secs(10)),
        }
    }

    /// Requests being served now.
    pub fn in_flight(&self) -> usize {
        self.max_in_flight - self.places.available_permits()
    }

    /// Requests waiting for a place now.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// A place, at once or after waiting; or why not.
    async fn enter(&self) -> Result<tokio::sync::OwnedSemaphorePermit, Shed> {
        if let Ok(place) = Arc::clone(&self.places).try_acquire_owned() {
            self.metrics.observe_admission_wait(0.0);
            return Ok(place);
        }
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return Err(Shed::QueueFull);
        }
        let waiting = Waiting {
            admission: self,
            since: Instant::now(),
            ended: false,
        };
        let outcome =
            tokio::time::timeout(self.queue_timeout, Arc::clone(&self.places).acquire_owned())
                .await;
        waiting.end(outcome.is_ok());
        match outcome {
            Ok(Ok(place)) => Ok(place),
            // The semaphore is never closed; a timeout is the only way out.
            Ok(Err(_)) | Err(_) => Err(Shed::Waited),
        }
    }

    fn shed(&self, why: Shed) -> HttpResponse {
        self.metrics.observe_shed(why.as_str());
        if let Some(skipped) = self.shed_log.due() {
            tracing::warn!(
                reason = why.as_str(),
                in_flight = self.in_flight(),
                queued = self.queued(),
                shed_since_last_line = skipped,
                "overloaded: shedding requests"
            );
        }
        let mut response = HttpResponse::build(StatusCode::SERVICE_UNAVAILABLE)
            .insert_header((header::RETRY_AFTER, OVERLOADED_RETRY_AFTER_SECS.to_string()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .content_type("application/json")
            .body(SHED_BODY.as_slice());
        response.extensions_mut().insert(why);
        response
    }
}

/// A request waiting for a place. Dropped before it ended, its client went away.
struct Waiting<'a> {
    admission: &'a Admission,
    since: Instant,
    ended: bool,
}

impl Waiting<'_> {
    fn end(mut self, admitted: bool) {
        self.ended = true;
        if admitted {
            self.admission
                .metrics
                .observe_admission_wait(self.since.elapsed().as_secs_f64());
        }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.admission.queued.fetch_sub(1, Ordering::AcqRel);
        if !self.ended {
            self.admission.metrics.observe_abandoned();
        }
    }
}

pub async fn admission<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let admission = match req.app_data::<web::Data<Admission>>() {
        Some(admission) if !ALWAYS_ADMITTED.contains(&req.path()) => admission.clone(),
        _ => return Ok(next.call(req).await?.map_into_left_body()),
    };
    match admission.enter().await {
        Ok(place) => {
            let response = next.call(req).await;
            drop(place);
            Ok(response?.map_into_left_body())
        }
        Err(why) => Ok(req.into_response(admission.shed(why)).map_into_right_body()),
    }
}
