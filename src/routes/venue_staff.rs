//! Venue staff: invitations by the manager, redeemed by the staff member's own account.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{created, items, Items, State};
use crate::auth::Account;
use crate::domain::{FieldCode, FieldError, FieldErrors};
use crate::services::venue_staff::{self, MyVenue, Redeemed, StaffMember, CODE_LEN};
use crate::web::{ApiError, Json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemRequest {
    code: String,
}

pub async fn invite(
    account: Account,
    path: web::Path<i64>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    Ok(created(
        venue_staff::invite(&state, &account, path.into_inner()).await?,
    ))
}

pub async fn redeem(
    account: Account,
    body: Json<RedeemRequest>,
    state: State,
) -> Result<web::Json<Redeemed>, ApiError> {
    let code = body.0.code.trim().to_ascii_uppercase();
    if !venue_staff::is_invitation_code(&code) {
        return Err(FieldErrors::one(
            "code",
            FieldError::new(
                FieldCode::CodeInvalid,
                format!("邀请码为{CODE_LEN}位字母和数字（不含0、1、I、O）"),
            ),
        )
        .into());
    }
    Ok(web::Json(
        venue_staff::redeem(&state, &account, code).await?,
    ))
}

pub async fn list(
    account: Account,
    path: web::Path<i64>,
    state: State,
) -> Result<web::Json<Items<StaffMember>>, ApiError> {
    Ok(items(
        venue_staff::list(&state, &account, path.into_inner()).await?,
    ))
}

pub async fn remove(
    account: Account,
    path: web::Path<(i64, i64)>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    let (venue_id, staff_account_id) = path.into_inner();
    venue_staff::remove(&state, &account, venue_id, staff_account_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The venues the caller manages or works at, for the mini-program's venue menu.
pub async fn my_venues(
    account: Account,
    state: State,
) -> Result<web::Json<Items<MyVenue>>, ApiError> {
    Ok(items(venue_staff::my_venues(&state, &account).await?))
}
