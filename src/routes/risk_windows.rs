//! Risky venue windows: health officials declare a time at a venue risky; everyone whose stay
//! overlapped finds a notice in their inbox, and so does the account that checked them in.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::{Resident, Staff};
use crate::db::audit::{self, AuditEntry};
use crate::db::risk_windows::{self, NewRiskWindow};
use crate::db::{persons, venues};
use crate::domain::{FieldError, RegionCode, StaffRole};
use crate::error::{ApiError, Invalid};
use crate::extract::Json;
use crate::routes::{local_time, parse_time};
use crate::state::State;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskWindowRequest {
    venue_id: i64,
    from: String,
    to: String,
    message: String,
}

#[derive(Serialize)]
pub struct RiskWindowResponse {
    id: i64,
    venue_id: i64,
    from: String,
    to: String,
    /// Distinct people whose stay overlapped.
    people: usize,
    /// Notices written (a person's own accounts and whoever checked them in).
    notified: usize,
}

pub async fn create(
    staff: Staff,
    body: Json<RiskWindowRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    staff.require(&[StaffRole::HealthOfficial])?;
    let request = body.0;
    let mut invalid = Invalid::default();
    let from = parse_time(&mut invalid, "from", &request.from);
    let to = parse_time(&mut invalid, "to", &request.to);
    if let (Some(from), Some(to)) = (from, to) {
        if to <= from {
            invalid.add(
                "to",
                FieldError::new("range_invalid", "结束时间应晚于开始时间"),
            );
        }
    }
    let message = request.message.trim().to_owned();
    if message.is_empty() || message.chars().count() > 500 {
        invalid.add(
            "message",
            FieldError::new("message_invalid", "提示内容须为1至500字"),
        );
    }
    invalid.finish()?;
    let (from, to) = (from.expect("checked"), to.expect("checked"));
    let worker = state.clone();
    let reach = state
        .db
        .run(move |conn| {
            crate::db::write_transaction(conn, |conn| -> Result<_, ApiError> {
                let venue =
                    venues::find(conn, request.venue_id)?.ok_or_else(ApiError::not_found)?;
                let in_scope =
                    RegionCode::parse(&venue.region_code).is_ok_and(|c| c.is_within(&staff.region));
                if !in_scope {
                    return Err(ApiError::not_found());
                }
                let reach = risk_windows::create(
                    conn,
                    &NewRiskWindow {
                        venue_id: venue.id,
                        from,
                        to,
                        message: &message,
                        created_by: staff.staff_id,
                    },
                )?;
                audit::append(
                    conn,
                    &worker.cipher,
                    &AuditEntry::by_staff(
                        staff.staff_id,
                        "health_official",
                        "risk_window.create",
                        format!("venue:{}", venue.id),
                        reach.people as i64,
                    ),
                )?;
                Ok(reach)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(RiskWindowResponse {
        id: reach.window_id,
        venue_id: request.venue_id,
        from: local_time(&state, from),
        to: local_time(&state, to),
        people: reach.people,
        notified: reach.notices,
    }))
}

#[derive(Serialize)]
pub struct NotificationResponse {
    id: i64,
    /// Whose stay overlapped: the caller or a companion, masked.
    person: String,
    venue: String,
    address: String,
    message: String,
    window_from: String,
    window_to: String,
    stay_from: String,
    stay_to: String,
    created_at: String,
}

#[derive(Serialize)]
pub struct NotificationListResponse {
    items: Vec<NotificationResponse>,
}

pub async fn mine(
    resident: Resident,
    state: State,
) -> Result<web::Json<NotificationListResponse>, ApiError> {
    let worker = state.clone();
    let items = state
        .db
        .run(move |conn| -> Result<Vec<NotificationResponse>, ApiError> {
            let rows = risk_windows::for_account(conn, resident.account_id)?;
            let mut items = Vec::with_capacity(rows.len());
            for row in rows {
                let person = persons::find(conn, row.person_id)?
                    .map(|p| p.open(&worker.cipher))
                    .transpose()?
                    .map(|p| p.name.masked())
                    .unwrap_or_default();
                items.push(NotificationResponse {
                    id: row.id,
                    person,
                    venue: row.venue_name,
                    address: row.venue_address,
                    message: row.message,
                    window_from: local_time(&worker, row.window_from),
                    window_to: local_time(&worker, row.window_to),
                    stay_from: local_time(&worker, row.stay_from),
                    stay_to: local_time(&worker, row.stay_to),
                    created_at: local_time(&worker, row.created_at),
                });
            }
            Ok(items)
        })
        .await?;
    Ok(web::Json(NotificationListResponse { items }))
}
