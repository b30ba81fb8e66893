//! Red-code alerts for the health officials of the venue's region: who is being held, where.

use actix_web::web;
use serde::{Deserialize, Serialize};

use super::local_time;
use crate::auth::Staff;
use crate::db::audit::{self, AuditEntry};
use crate::db::{alerts, persons, venues};
use crate::domain::{RegionCode, StaffRole};
use crate::error::{ApiError, ErrorCode, Invalid};
use crate::extract::{Json, Query};
use crate::state::{AppState, State};

#[derive(Deserialize)]
pub struct AlertQuery {
    status: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    note: String,
}

#[derive(Serialize)]
pub struct AlertResponse {
    id: i64,
    status: String,
    created_at: String,
    closed_at: Option<String>,
    note: Option<String>,
    check_in_id: i64,
    venue: AlertVenue,
    /// In full: officials act on it.
    person: AlertPerson,
}

#[derive(Serialize)]
pub struct AlertVenue {
    id: i64,
    name: String,
    address: String,
    region_code: String,
}

#[derive(Serialize)]
pub struct AlertPerson {
    name: String,
    id_number: String,
    phone: Option<String>,
}

#[derive(Serialize)]
pub struct AlertListResponse {
    items: Vec<AlertResponse>,
}

fn response(
    state: &AppState,
    conn: &mut crate::db::DbConnection,
    alert: alerts::AlertRow,
) -> Result<AlertResponse, ApiError> {
    let venue = venues::find(conn, alert.venue_id)?.ok_or_else(ApiError::not_found)?;
    let row = persons::find(conn, alert.person_id)?.ok_or_else(ApiError::not_found)?;
    let person = row.open(&state.cipher)?;
    let phone = match &row.phone_sealed {
        Some(sealed) => Some(
            state
                .cipher
                .open(crate::pii::Field::Phone, sealed)
                .map_err(ApiError::internal)?,
        ),
        None => crate::db::accounts::phone_of_person(conn, &state.cipher, alert.person_id)?,
    };
    Ok(AlertResponse {
        id: alert.id,
        status: alert.status,
        created_at: local_time(state, alert.created_at),
        closed_at: alert.closed_at.map(|t| local_time(state, t)),
        note: alert
            .note
            .map(|sealed| state.cipher.open(crate::pii::Field::Note, &sealed))
            .transpose()
            .map_err(ApiError::internal)?,
        check_in_id: alert.check_in_id,
        venue: AlertVenue {
            id: venue.id,
            name: venue.name,
            address: venue.address,
            region_code: venue.region_code,
        },
        person: AlertPerson {
            name: person.name.as_ref().to_owned(),
            id_number: person.id_number.as_ref().to_owned(),
            phone,
        },
    })
}

fn audit_read(
    state: &AppState,
    conn: &mut crate::db::DbConnection,
    staff: &Staff,
    subject: String,
    count: i64,
) -> Result<(), ApiError> {
    audit::append(
        conn,
        &state.cipher,
        &AuditEntry::by_staff(
            staff.staff_id,
            "health_official",
            "alert.read",
            subject,
            count,
        ),
    )?;
    Ok(())
}

pub async fn list(
    staff: Staff,
    query: Query<AlertQuery>,
    state: State,
) -> Result<web::Json<AlertListResponse>, ApiError> {
    staff.require(&[StaffRole::HealthOfficial])?;
    let status = match query.0.status.as_deref() {
        None | Some("") | Some("open") => Some("open"),
        Some("closed") => Some("closed"),
        Some("all") => None,
        Some(_) => return Err(ApiError::new(ErrorCode::InvalidQuery).with_details(
            serde_json::json!({
                "status": {"code": "status_invalid", "message": "status 只能是 open、closed 或 all"}
            }),
        )),
    };
    let worker = state.clone();
    let items = state
        .db
        .run(move |conn| {
            crate::db::write_transaction::<_, ApiError, _>(conn, |conn| {
                let rows = alerts::in_region(conn, &staff.region, status)?;
                let items = rows
                    .into_iter()
                    .map(|alert| response(&worker, conn, alert))
                    .collect::<Result<Vec<_>, _>>()?;
                if !items.is_empty() {
                    audit_read(
                        &worker,
                        conn,
                        &staff,
                        format!("alerts:{}", staff.region),
                        items.len() as i64,
                    )?;
                }
                Ok(items)
            })
        })
        .await?;
    Ok(web::Json(AlertListResponse { items }))
}

pub async fn close(
    staff: Staff,
    path: web::Path<i64>,
    body: Json<CloseRequest>,
    state: State,
) -> Result<web::Json<AlertResponse>, ApiError> {
    staff.require(&[StaffRole::HealthOfficial])?;
    let id = path.into_inner();
    let note = body.0.note.trim().to_owned();
    let mut invalid = Invalid::default();
    if note.is_empty() || note.chars().count() > 500 {
        invalid.add(
            "note",
            crate::domain::FieldError::new("note_required", "请填写处置情况（最多500字）"),
        );
    }
    invalid.finish()?;
    let worker = state.clone();
    let response = state
        .db
        .run(move |conn| {
            crate::db::write_transaction::<_, ApiError, _>(conn, |conn| {
                let alert = alerts::find(conn, id)?.ok_or_else(ApiError::not_found)?;
                let in_scope = RegionCode::parse(&alert.region_code)
                    .is_ok_and(|code| code.is_within(&staff.region));
                if !in_scope {
                    return Err(ApiError::not_found());
                }
                alerts::close(conn, &worker.cipher, id, staff.staff_id, &note)?;
                audit::append(
                    conn,
                    &worker.cipher,
                    &AuditEntry::by_staff(
                        staff.staff_id,
                        "health_official",
                        "alert.close",
                        format!("alert:{id}"),
                        1,
                    ),
                )?;
                let alert = alerts::find(conn, id)?.ok_or_else(ApiError::not_found)?;
                response(&worker, conn, alert)
            })
        })
        .await?;
    Ok(web::Json(response))
}
