//! Staff logins with username and password, and the staff member's own account.

use actix_web::web;
use serde::Deserialize;

use super::State;
use crate::auth::Staff;
use crate::services::staff::{self, StaffSession, StaffView};
use crate::web::{ApiError, Json};

#[derive(Deserialize)]
pub struct StaffLogin {
    username: String,
    password: String,
}

pub async fn create(
    body: Json<StaffLogin>,
    state: State,
) -> Result<web::Json<StaffSession>, ApiError> {
    let StaffLogin { username, password } = body.0;
    Ok(web::Json(staff::login(&state, username, password).await?))
}

/// The staff member's own account; a disabled or deleted account is logged out.
pub async fn me(caller: Staff, state: State) -> Result<web::Json<StaffView>, ApiError> {
    Ok(web::Json(staff::me(&state, &caller).await?))
}
