//! Staff logins with username and password, and the staff member's own account.

use actix_web::{web, HttpRequest, HttpResponse};
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
    request: HttpRequest,
    body: Json<StaffLogin>,
    state: State,
) -> Result<web::Json<StaffSession>, ApiError> {
    let StaffLogin { username, password } = body.0;
    let client = request.peer_addr().map(|a| a.ip());
    Ok(web::Json(
        staff::login(&state, username, password, client).await?,
    ))
}

/// Logging out: the session of this token ends on every node within a second.
pub async fn end(caller: Staff, state: State) -> Result<HttpResponse, ApiError> {
    staff::logout(&state, &caller).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The staff member's own account.
pub async fn me(caller: Staff, state: State) -> Result<web::Json<StaffView>, ApiError> {
    Ok(web::Json(staff::me(&state, &caller).await?))
}
