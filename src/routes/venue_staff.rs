//! Venue staff: the manager invites with a one-time code, a staff member redeems it from their
//! own mini-program account, the manager can remove them. Staff register people by hand and see
//! counts; they never see another person's data unmasked.

use actix_web::{web, HttpResponse};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::local_time;
use super::venues::{load_venue, Need};
use crate::auth::Resident;
use crate::db::{accounts, persons, venue_staff};
use crate::domain::FieldError;
use crate::error::{ApiError, ErrorCode};
use crate::extract::Json;
use crate::state::State;

/// Without 0/O, 1/I: read aloud or typed from a screen without mistakes.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
const CODE_LEN: usize = 8;

#[derive(Serialize)]
pub struct InvitationResponse {
    code: String,
    expires_at: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemRequest {
    code: String,
}

#[derive(Serialize)]
pub struct RedeemResponse {
    venue_id: i64,
    venue_name: String,
}

#[derive(Serialize)]
pub struct StaffMember {
    account_id: i64,
    /// Masked.
    name: Option<String>,
    /// Masked.
    phone: Option<String>,
    since: String,
}

#[derive(Serialize)]
pub struct StaffListResponse {
    items: Vec<StaffMember>,
}

#[derive(Serialize)]
pub struct MyVenue {
    id: i64,
    name: String,
    role: &'static str,
}

#[derive(Serialize)]
pub struct MyVenuesResponse {
    items: Vec<MyVenue>,
}

pub async fn invite(
    resident: Resident,
    path: web::Path<i64>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let venue_id = path.into_inner();
    let code: String = {
        let mut rng = rand::thread_rng();
        (0..CODE_LEN)
            .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
            .collect()
    };
    let worker = state.clone();
    let issued = code.clone();
    let expires_at = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            load_venue(conn, venue_id, resident.account_id, Need::Manager)?;
            Ok(venue_staff::create_invitation(
                conn,
                &worker.cipher,
                venue_id,
                &issued,
            )?)
        })
        .await?;
    Ok(HttpResponse::Created().json(InvitationResponse {
        code,
        expires_at: local_time(&state, expires_at),
    }))
}

pub async fn redeem(
    resident: Resident,
    body: Json<RedeemRequest>,
    state: State,
) -> Result<web::Json<RedeemResponse>, ApiError> {
    let code = body.0.code.trim().to_ascii_uppercase();
    if code.len() != CODE_LEN {
        return Err(ApiError::invalid_field(
            "code",
            FieldError::new("code_invalid", format!("邀请码为{CODE_LEN}位字母和数字")),
        ));
    }
    let worker = state.clone();
    let response = state
        .db
        .run(move |conn| -> Result<RedeemResponse, ApiError> {
            // Staff register other people's data: they must be identified themselves.
            let account =
                accounts::find(conn, resident.account_id)?.ok_or_else(ApiError::not_found)?;
            let consent = account.consent();
            if !consent.is_complete() {
                return Err(ApiError::new(ErrorCode::ConsentRequired)
                    .with_details(serde_json::json!({ "missing": consent.missing() })));
            }
            let venue_id = venue_staff::redeem(conn, &worker.cipher, &code, resident.account_id)?
                .ok_or_else(|| ApiError::new(ErrorCode::InvitationInvalid))?;
            let venue = crate::db::venues::find(conn, venue_id)?.ok_or_else(ApiError::not_found)?;
            Ok(RedeemResponse {
                venue_id,
                venue_name: venue.name,
            })
        })
        .await?;
    Ok(web::Json(response))
}

pub async fn list(
    resident: Resident,
    path: web::Path<i64>,
    state: State,
) -> Result<web::Json<StaffListResponse>, ApiError> {
    let venue_id = path.into_inner();
    let worker = state.clone();
    let items = state
        .db
        .run(move |conn| -> Result<Vec<StaffMember>, ApiError> {
            load_venue(conn, venue_id, resident.account_id, Need::Manager)?;
            let mut items = Vec::new();
            for member in venue_staff::list(conn, venue_id)? {
                let account = accounts::find(conn, member.account_id)?;
                let person = match account.as_ref().and_then(|a| a.person_id) {
                    Some(id) => persons::find(conn, id)?
                        .map(|p| p.open(&worker.cipher))
                        .transpose()?,
                    None => None,
                };
                let phone = match &account {
                    Some(account) => account.phone(&worker.cipher)?,
                    None => None,
                };
                items.push(StaffMember {
                    account_id: member.account_id,
                    name: person.map(|p| p.name.masked()),
                    phone: phone.map(|p| p.masked()),
                    since: local_time(&worker, member.created_at),
                });
            }
            Ok(items)
        })
        .await?;
    Ok(web::Json(StaffListResponse { items }))
}

pub async fn remove(
    resident: Resident,
    path: web::Path<(i64, i64)>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let (venue_id, account_id) = path.into_inner();
    state
        .db
        .run(move |conn| -> Result<(), ApiError> {
            load_venue(conn, venue_id, resident.account_id, Need::Manager)?;
            if venue_staff::remove(conn, venue_id, account_id)? {
                Ok(())
            } else {
                Err(ApiError::not_found())
            }
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The venues the caller manages or works at, for the mini-program's venue menu.
pub async fn my_venues(
    resident: Resident,
    state: State,
) -> Result<web::Json<MyVenuesResponse>, ApiError> {
    let items = state
        .db
        .run(move |conn| venue_staff::venues_of(conn, resident.account_id))
        .await?
        .into_iter()
        .map(|(id, name, manager)| MyVenue {
            id,
            name,
            role: if manager { "manager" } else { "staff" },
        })
        .collect();
    Ok(web::Json(MyVenuesResponse { items }))
}
