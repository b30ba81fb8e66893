//! The audit log, for auditors: who did what to whom (as a keyed hash), how many, when, and the
//! hash chain that shows nothing was changed.

use actix_web::web;
use serde::{Deserialize, Serialize};

use super::local_time;
use crate::auth::Staff;
use crate::db::audit;
use crate::domain::StaffRole;
use crate::error::{ApiError, ErrorCode};
use crate::extract::Query;
use crate::state::State;

#[derive(Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    before_seq: Option<i64>,
    limit: Option<i64>,
}

#[derive(Serialize)]
pub struct AuditItem {
    seq: i64,
    at: String,
    actor: String,
    role: String,
    action: String,
    subject_hash: String,
    count: i64,
    prev_hash: String,
    hash: String,
}

#[derive(Serialize)]
pub struct AuditListResponse {
    items: Vec<AuditItem>,
}

pub async fn list(
    staff: Staff,
    query: Query<AuditQuery>,
    state: State,
) -> Result<web::Json<AuditListResponse>, ApiError> {
    staff.require(&[StaffRole::Auditor])?;
    let AuditQuery {
        action,
        before_seq,
        limit,
    } = query.0;
    let limit = limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(
            ApiError::new(ErrorCode::InvalidQuery).with_details(serde_json::json!({
                "limit": {"code": "limit_out_of_range", "message": "limit 应在 1 到 1000 之间"}
            })),
        );
    }
    let rows = state
        .db
        .run(move |conn| audit::list(conn, action.as_deref(), before_seq, limit))
        .await?;
    Ok(web::Json(AuditListResponse {
        items: rows
            .into_iter()
            .map(|row| AuditItem {
                seq: row.seq,
                at: local_time(&state, row.at),
                actor: row.actor,
                role: row.role,
                action: row.action,
                subject_hash: row.subject_hash,
                count: row.count,
                prev_hash: row.prev_hash,
                hash: row.hash,
            })
            .collect(),
    }))
}
