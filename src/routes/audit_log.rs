//! The audit log, for auditors.

use actix_web::web;
use serde::Deserialize;

use super::{items, Items, State};
use crate::auth::Auditor;
use crate::domain::{FieldCode, FieldError};
use crate::services::audit::{self, AuditFilter, AuditItem};
use crate::web::{ApiError, Query};

#[derive(Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    before_seq: Option<i64>,
    limit: Option<i64>,
}

impl TryFrom<AuditQuery> for AuditFilter {
    type Error = ApiError;

    fn try_from(query: AuditQuery) -> Result<Self, ApiError> {
        let limit = query.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(ApiError::invalid_parameter(
                "limit",
                FieldError::new(FieldCode::LimitOutOfRange, "limit 应在 1 到 1000 之间"),
            ));
        }
        Ok(AuditFilter {
            action: query.action,
            before_seq: query.before_seq,
            limit,
        })
    }
}

pub async fn list(
    Auditor(auditor): Auditor,
    query: Query<AuditQuery>,
    state: State,
) -> Result<web::Json<Items<AuditItem>>, ApiError> {
    let filter = AuditFilter::try_from(query.0)?;
    Ok(items(audit::list(&state, &auditor, filter).await?))
}
