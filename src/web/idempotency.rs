//! `Idempotency-Key` on the requests a weak signal makes worth sending again: the scan, hand
//! registrations, paper scans and every import. The first request with a key is answered as
//! usual and its answer kept (sealed) for 24 hours in the database, so whichever node a repeat
//! reaches answers the same again, marked `Idempotency-Replayed: true`, and records nothing.
//! The key belongs to the caller (two callers' equal keys are unrelated). The same key with a
//! different request (method, path, body) answers 422 `idempotency_key_reused`; while the first
//! is still being answered, a repeat answers 409 `idempotency_key_in_flight` with `Retry-After`.
//! An answer worth trying again (5xx, 429) is not kept: the key is let go and a repeat runs
//! afresh. A node that stops half-way leaves its key held; after `ABANDONED_AFTER` another
//! request takes it over and runs afresh (the scan's repeat window still holds a repeated scan
//! to one check-in).

use std::sync::Arc;

use actix_web::body::{to_bytes, BoxBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpResponse, ResponseError};
use chrono::Duration;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{ApiError, ErrorCode};
use crate::auth::Caller;
use crate::crypto::Field;
use crate::db::idempotency::{self as keys, Held};
use crate::state::AppState;

/// The paths whose `POST` honours `Idempotency-Key`.
pub const PATHS: &[&str] = &[
    "/api/v1/check-ins",
    "/api/v1/venues/{id}/manual-check-ins",
    "/api/v1/venues/{id}/manual-check-ins/sheets",
    "/api/v1/venues/{id}/paper-scans",
    "/api/v1/venues/import",
    "/api/v1/health-codes/import",
    "/api/v1/test-results/import",
];

/// How long a key and its answer are kept.
pub const KEPT_FOR: Duration = Duration::hours(24);
/// A key held this long without an answer was left by a node that stopped.
const ABANDONED_AFTER: Duration = Duration::seconds(60);
/// The longest body any of these requests accepts (the venue import's); a longer one is refused
/// by its handler, unread past this.
const MAX_BODY: usize = 8 * 1024 * 1024;
const MAX_KEY_LEN: usize = 255;

pub static REPLAYED: HeaderName = HeaderName::from_static("idempotency-replayed");

/// An answer as kept: enough to answer it again byte for byte.
#[derive(Serialize, Deserialize)]
struct Kept {
    content_type: Option<String>,
    location: Option<String>,
    body: String,
}

pub async fn remember(
    mut req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(key) = req.headers().get("idempotency-key").cloned() else {
        return next.call(req).await;
    };
    if req.method() != actix_web::http::Method::POST {
        return next.call(req).await;
    }
    let Some(key) = key
        .to_str()
        .ok()
        .filter(|k| (1..=MAX_KEY_LEN).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
    else {
        return Ok(refuse(req, ApiError::new(ErrorCode::IdempotencyKeyInvalid)));
    };
    // Only a proven caller holds keys; without one the handler answers 401 or 403 itself.
    let principal = match req.extract::<Caller>().await {
        Ok(Caller::Account(account)) => format!("account:{}", account.id),
        Ok(Caller::Staff(staff)) => format!("staff:{}", staff.id),
        Err(_) => return next.call(req).await,
    };
    let Some(state) = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.clone().into_inner())
    else {
        return next.call(req).await;
    };
    let body = read_body(&mut req).await?;
    let fingerprint = fingerprint(&req, &body);
    req.set_payload(Payload::from(body));
    let key_hash = hex(&Sha256::new()
        .chain_update(principal.as_bytes())
        .chain_update([0])
        .chain_update(key.as_bytes())
        .finalize());

    match claim(&state, &key_hash, &principal, &fingerprint).await {
        Ok(Claim::Mine) => {}
        Ok(Claim::Answered(status, kept)) => return Ok(replay(req, status, &kept)),
        Ok(Claim::Refused(error)) => return Ok(refuse(req, error)),
        Err(error) => return Ok(refuse(req, error)),
    }
    let response = match next.call(req).await {
        Ok(response) => response,
        Err(error) => {
            let _ = let_go(&state, &key_hash).await;
            return Err(error);
        }
    };
    let status = response.status();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        let _ = let_go(&state, &key_hash).await;
        return Ok(response);
    }
    let (req, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let bytes = match to_bytes(body).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let _ = let_go(&state, &key_hash).await;
            let error = ApiError::internal("an answer's body could not be read");
            return Ok(ServiceResponse::new(req, error.error_response()));
        }
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        // Every answer of these is JSON; one that is not is sent once and not kept.
        let _ = let_go(&state, &key_hash).await;
        return Ok(ServiceResponse::new(
            req,
            head.set_body(BoxBody::new(bytes)),
        ));
    };
    let kept = Kept {
        content_type: text_header(head.headers().get(header::CONTENT_TYPE)),
        location: text_header(head.headers().get(header::LOCATION)),
        body: text.to_owned(),
    };
    if let Err(error) = keep(&state, key_hash, status.as_u16(), &kept).await {
        // The work is done and its answer goes out; only a repeat would run it again.
        tracing::warn!(error = %error, "an idempotent answer was not kept");
    }
    Ok(ServiceResponse::new(
        req,
        head.set_body(BoxBody::new(bytes)),
    ))
}

/// The body, read whole (up to `MAX_BODY` and one byte).
async fn read_body(req: &mut ServiceRequest) -> Result<web::Bytes, Error> {
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BODY {
            break;
        }
    }
    Ok(body.freeze())
}

/// What makes two requests the same: method, path, query, content type and body.
fn fingerprint(req: &ServiceRequest, body: &[u8]) -> String {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    hex(&Sha256::new()
        .chain_update(req.method().as_str())
        .chain_update([0])
        .chain_update(req.path())
        .chain_update([0])
        .chain_update(req.query_string())
        .chain_update([0])
        .chain_update(content_type)
        .chain_update([0])
        .chain_update(body)
        .finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn text_header(value: Option<&HeaderValue>) -> Option<String> {
    value.and_then(|v| v.to_str().ok()).map(str::to_owned)
}

enum Claim {
    /// This request holds the key: it runs.
    Mine,
    /// Answered before: the same answer again.
    Answered(StatusCode, Kept),
    Refused(ApiError),
}

async fn claim(
    state: &Arc<AppState>,
    key_hash: &str,
    principal: &str,
    fingerprint: &str,
) -> Result<Claim, ApiError> {
    let (key_hash, principal, fingerprint) = (
        key_hash.to_owned(),
        principal.to_owned(),
        fingerprint.to_owned(),
    );
    let now = state.clock.now_naive();
    let mine = fingerprint.clone();
    let held = state
        .write_beside_check_ins(move |conn| {
            let Some(held) = keys::claim(conn, &key_hash, &principal, &fingerprint, now)? else {
                return Ok(None);
            };
            if held.started_at < now - KEPT_FOR {
                // Older than a day and not yet purged: as if it were gone.
                keys::restart(conn, &key_hash, &fingerprint, now)?;
                return Ok(None);
            }
            let abandoned = held.status.is_none()
                && held.fingerprint == fingerprint
                && held.started_at < now - ABANDONED_AFTER;
            if abandoned && keys::take_over(conn, &key_hash, held.started_at, now)? {
                return Ok(None);
            }
            Ok(Some(held))
        })
        .await?;
    match held {
        None => Ok(Claim::Mine),
        Some(held) if held.fingerprint != mine => Ok(Claim::Refused(ApiError::new(
            ErrorCode::IdempotencyKeyReused,
        ))),
        Some(held) => answered(state, held),
    }
}

fn answered(state: &AppState, held: Held) -> Result<Claim, ApiError> {
    let (Some(status), Some(sealed)) = (held.status, held.answer_sealed) else {
        return Ok(Claim::Refused(
            ApiError::new(ErrorCode::IdempotencyKeyInFlight).with_retry_after(1),
        ));
    };
    let kept = state
        .cipher
        .open(Field::Answer, &sealed)
        .ok()
        .and_then(|json| serde_json::from_str::<Kept>(&json).ok())
        .ok_or_else(|| ApiError::internal("a kept answer could not be opened"))?;
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| ApiError::internal("a kept answer has no valid status"))?;
    Ok(Claim::Answered(status, kept))
}

async fn keep(
    state: &Arc<AppState>,
    key_hash: String,
    status: u16,
    kept: &Kept,
) -> Result<(), ApiError> {
    let sealed = state.cipher.seal(
        Field::Answer,
        &serde_json::to_string(kept).expect("an answer serialises"),
    );
    state
        .write_beside_check_ins(move |conn| keys::answer(conn, &key_hash, status, &sealed))
        .await
        .map_err(ApiError::from)
}

async fn let_go(state: &Arc<AppState>, key_hash: &str) -> Result<(), ApiError> {
    let key_hash = key_hash.to_owned();
    state
        .write_beside_check_ins(move |conn| keys::release(conn, &key_hash))
        .await
        .map_err(ApiError::from)
}

fn replay(req: ServiceRequest, status: StatusCode, kept: &Kept) -> ServiceResponse<BoxBody> {
    let mut response = HttpResponse::build(status);
    response.insert_header((REPLAYED.clone(), "true"));
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(content_type) = &kept.content_type {
        response.insert_header((header::CONTENT_TYPE, content_type.as_str()));
    }
    if let Some(location) = &kept.location {
        response.insert_header((header::LOCATION, location.as_str()));
    }
    req.into_response(response.body(kept.body.clone()))
}

fn refuse(req: ServiceRequest, error: ApiError) -> ServiceResponse<BoxBody> {
    let response = error.error_response();
    req.into_response(response)
}
