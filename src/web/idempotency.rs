//! `Idempotency-Key` on the requests a weak signal makes worth sending again: the scan, hand
//! registrations, paper scans and every import. The first request with a key is answered as
//! usual and its answer kept (sealed) for 24 hours in the database, so whichever node a repeat
//! reaches answers the same again, marked `Idempotency-Replayed: true`, and records nothing.
//! The key belongs to the caller (two callers' equal keys are unrelated). The same key with a
//! different request (method, path, body) answers 422 `idempotency_key_reused`; while the first
//! is still being answered, a repeat answers 409 `idempotency_key_in_flight` with `Retry-After`.
//! Only a success is kept: after any other answer (which recorded nothing) the key is let go
//! and a repeat runs afresh. The request runs to its end on a task of its own, also when its
//! client goes, so its answer is kept. A node that stops between recording and keeping the
//! answer leaves the key held; after `ABANDONED_AFTER` a repeat takes it over and runs afresh:
//! within the scan's repeat window that answers the same check-in, later it records again.
//! Replays check the caller's session, not the caller's access to a venue as it is now: an
//! answer once given is given again for a day.

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

use super::extract::DEFAULT_JSON_LIMIT;
use super::{ApiError, ErrorCode};
use crate::auth::Caller;
use crate::crypto::Field;
use crate::db::idempotency::{self as keys, Held};
use crate::state::AppState;

/// The paths whose `POST` honours `Idempotency-Key`, each with the longest body it accepts (a
/// longer one is passed on unread, for its handler to refuse).
pub const PATHS: &[(&str, usize)] = &[
    ("/api/v1/check-ins", DEFAULT_JSON_LIMIT),
    ("/api/v1/venues/{id}/manual-check-ins", DEFAULT_JSON_LIMIT),
    ("/api/v1/venues/{id}/manual-check-ins/sheets", 256 * 1024),
    ("/api/v1/venues/{id}/paper-scans", DEFAULT_JSON_LIMIT),
    ("/api/v1/venues/import", 8 * 1024 * 1024),
    ("/api/v1/health-codes/import", 4 * 1024 * 1024),
    ("/api/v1/test-results/import", 4 * 1024 * 1024),
];

/// The longest body `path` accepts, if it honours `Idempotency-Key`.
pub fn body_limit(path: &str) -> Option<usize> {
    PATHS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, limit)| *limit)
}

/// How long a key and its answer are kept.
pub const KEPT_FOR: Duration = Duration::hours(24);
/// A key held this long without an answer was left by a node that stopped.
const ABANDONED_AFTER: Duration = Duration::seconds(60);
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
    let limit = req.match_pattern().as_deref().and_then(body_limit);
    let (true, Some(limit)) = (req.method() == actix_web::http::Method::POST, limit) else {
        return next.call(req).await;
    };
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
        Err(e) if matches!(e.code(), ErrorCode::Unauthorized | ErrorCode::Forbidden) => {
            return next.call(req).await
        }
        Err(e) => return Ok(refuse(req, e)),
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let Some(state) = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.clone().into_inner())
    else {
        return next.call(req).await;
    };
    if declared.is_some_and(|length| length > limit) {
        return next.call(req).await;
    }
    let body = match read_body(&mut req, limit).await {
        Ok(body) => body,
        Err(_) => return Ok(refuse(req, ApiError::new(ErrorCode::MalformedJson))),
    };
    let fingerprint = fingerprint(&req, &body);
    req.set_payload(Payload::from(body));
    let key_hash = hex(&Sha256::new()
        .chain_update(principal.as_bytes())
        .chain_update([0])
        .chain_update(key.as_bytes())
        .finalize());
    let holder = uuid::Uuid::new_v4().simple().to_string();

    match claim(&state, &key_hash, &principal, &fingerprint, &holder).await {
        Ok(Claim::Mine) => {}
        Ok(Claim::Answered(status, kept)) => return Ok(replay(req, status, &kept)),
        Ok(Claim::Refused(error)) | Err(error) => return Ok(refuse(req, error)),
    }
    // To its end, also when the client goes: what it records is answered and kept.
    let held = Holding {
        state,
        key_hash,
        holder,
    };
    match actix_web::rt::spawn(run_and_keep(next.call(req), held)).await {
        Ok(answered) => answered,
        Err(_) => Err(ApiError::internal("an idempotent request's task ended early").into()),
    }
}

struct Holding {
    state: Arc<AppState>,
    key_hash: String,
    holder: String,
}

async fn run_and_keep(
    answer: impl std::future::Future<Output = Result<ServiceResponse<BoxBody>, Error>>,
    held: Holding,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let response = match answer.await {
        Ok(response) => response,
        Err(error) => {
            let _ = let_go(&held).await;
            return Err(error);
        }
    };
    if !response.status().is_success() {
        // Nothing was recorded: a repeat may run afresh (fixed, or later).
        let _ = let_go(&held).await;
        return Ok(response);
    }
    let status = response.status();
    let (req, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body).await else {
        let _ = let_go(&held).await;
        let error = ApiError::internal("an answer's body could not be read");
        return Ok(ServiceResponse::new(req, error.error_response()));
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        // Every answer of these is JSON; one that is not is sent once and not kept.
        let _ = let_go(&held).await;
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
    if let Err(error) = keep(&held, status.as_u16(), &kept).await {
        // The work is done and its answer goes out; a repeat would wait, then run again.
        tracing::warn!(error = %error, "an idempotent answer was not kept");
    }
    Ok(ServiceResponse::new(
        req,
        head.set_body(BoxBody::new(bytes)),
    ))
}

/// The body, read whole (up to `limit` and one byte: a longer one is refused by its handler).
async fn read_body(req: &mut ServiceRequest, limit: usize) -> Result<web::Bytes, Error> {
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        body.extend_from_slice(&chunk);
        if body.len() > limit {
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
    holder: &str,
) -> Result<Claim, ApiError> {
    let (key_hash, principal, fingerprint, holder) = (
        key_hash.to_owned(),
        principal.to_owned(),
        fingerprint.to_owned(),
        holder.to_owned(),
    );
    let now = state.clock.now_naive();
    let mine = fingerprint.clone();
    let held = state
        .write_beside_check_ins(move |conn| {
            let Some(held) = keys::claim(conn, &key_hash, &principal, &fingerprint, &holder, now)?
            else {
                return Ok(None);
            };
            // Older than a day and not yet purged: as if it were gone. Held unanswered too long:
            // its node stopped.
            let expired = held.started_at < now - KEPT_FOR;
            let abandoned = held.status.is_none()
                && held.fingerprint == fingerprint
                && held.started_at < now - ABANDONED_AFTER;
            if (expired || abandoned)
                && keys::take_over(conn, &key_hash, held.started_at, &fingerprint, &holder, now)?
            {
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

async fn keep(held: &Holding, status: u16, kept: &Kept) -> Result<(), ApiError> {
    let sealed = held.state.cipher.seal(
        Field::Answer,
        &serde_json::to_string(kept).expect("an answer serialises"),
    );
    let (key_hash, holder) = (held.key_hash.clone(), held.holder.clone());
    let kept = held
        .state
        .write_beside_check_ins(move |conn| keys::answer(conn, &key_hash, &holder, status, &sealed))
        .await?;
    if !kept {
        tracing::warn!("an idempotency key was taken over before its answer was kept");
    }
    Ok(())
}

async fn let_go(held: &Holding) -> Result<(), ApiError> {
    let (key_hash, holder) = (held.key_hash.clone(), held.holder.clone());
    held.state
        .write_beside_check_ins(move |conn| keys::release(conn, &key_hash, &holder))
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
