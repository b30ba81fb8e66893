//! Staff logins with username and password, and the staff member's own account.

use std::sync::LazyLock;
use std::time::Duration;

use actix_web::HttpResponse;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::rfc3339;
use crate::auth::{password, SessionKind, Staff};
use crate::db::{regions, staff, Database};
use crate::domain::login_throttle::{self, FailureState};
use crate::domain::{RegionCode, StaffRole};
use crate::error::{ApiError, ErrorCode};
use crate::extract::Json;
use crate::pii::Field;
use crate::state::State;

/// Checked against when the username does not exist, so that both cases cost the same time.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    password::hash("no account has this password; it only costs time").expect("a valid password")
});

#[derive(Deserialize)]
pub struct StaffLogin {
    username: String,
    password: String,
}

#[derive(Serialize)]
pub struct StaffSessionResponse {
    token: String,
    expires_at: String,
    staff: StaffResponse,
}

#[derive(Serialize)]
pub struct StaffResponse {
    id: i64,
    username: String,
    role: StaffRole,
    region_code: String,
    region_name: Option<String>,
}

enum Outcome {
    Locked {
        retry_after_secs: i64,
    },
    Refused {
        delay_ms: u64,
    },
    Accepted {
        id: i64,
        username: String,
        role: StaffRole,
        region: String,
    },
}

pub async fn create(body: Json<StaffLogin>, state: State) -> Result<HttpResponse, ApiError> {
    let StaffLogin { username, password } = body.0;
    // Long inputs would only make the password hash work harder.
    if username.len() > 64 || password.len() > password::MAX_LENGTH * 4 {
        return Err(ApiError::new(ErrorCode::InvalidCredentials));
    }
    let username = username.trim().to_owned();
    let username_hash = state.cipher.lookup_hash(Field::Username, &username);
    let outcome = state
        .db
        .run(move |conn| -> Result<Outcome, ApiError> {
            let now = Utc::now().naive_utc();
            let failures = staff::login_failures(conn, &username_hash)?;
            if let Some(seconds) = login_throttle::locked_for(failures.as_ref(), now) {
                return Ok(Outcome::Locked {
                    retry_after_secs: seconds,
                });
            }
            let account = staff::find_by_username(conn, &username)?;
            let stored_hash = account
                .as_ref()
                .map_or(DUMMY_HASH.as_str(), |a| a.password_hash.as_str());
            let matches = password::verify(stored_hash, &password);
            match account {
                Some(account) if matches && account.disabled_at.is_none() => {
                    staff::clear_login_failures(conn, &username_hash)?;
                    let role = StaffRole::parse(&account.role)
                        .map_err(|_| ApiError::internal("a staff account has an unknown role"))?;
                    Ok(Outcome::Accepted {
                        id: account.id,
                        username: account.username,
                        role,
                        region: account.region_code,
                    })
                }
                _ => {
                    let state: FailureState = login_throttle::after_failure(failures.as_ref(), now);
                    staff::save_login_failures(conn, &username_hash, &state)?;
                    Ok(Outcome::Refused {
                        delay_ms: login_throttle::delay_ms(state.failures),
                    })
                }
            }
        })
        .await?;
    match outcome {
        Outcome::Locked { retry_after_secs } => Err(ApiError::new(ErrorCode::TooManyRequests)
            .with_message("登录失败次数过多，请稍后再试")
            .with_retry_after(retry_after_secs.clamp(1, i64::from(u32::MAX)) as u32)),
        Outcome::Refused { delay_ms } => {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            Err(ApiError::new(ErrorCode::InvalidCredentials))
        }
        Outcome::Accepted {
            id,
            username,
            role,
            region,
        } => {
            let issued = state.sessions.issue(&SessionKind::Staff {
                staff_id: id,
                role,
                region: region.clone(),
            });
            let region_name = region_name(&state.db, &region).await?;
            tracing::info!(staff_id = id, role = role.as_str(), "staff login");
            Ok(HttpResponse::Ok().json(StaffSessionResponse {
                token: issued.token,
                expires_at: rfc3339(issued.expires_at, state.settings.timezone),
                staff: StaffResponse {
                    id,
                    username,
                    role,
                    region_code: region,
                    region_name,
                },
            }))
        }
    }
}

/// The staff member's own account; a disabled or deleted account is logged out.
pub async fn me(staff_member: Staff, state: State) -> Result<HttpResponse, ApiError> {
    let id = staff_member.staff_id;
    let account = state
        .db
        .run(move |conn| staff::find(conn, id))
        .await?
        .filter(|a| a.disabled_at.is_none())
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized).with_message("账号已停用"))?;
    let region_name = region_name(&state.db, &account.region_code).await?;
    Ok(HttpResponse::Ok().json(StaffResponse {
        id: account.id,
        username: account.username,
        role: staff_member.role,
        region_code: account.region_code,
        region_name,
    }))
}

async fn region_name(db: &Database, code: &str) -> Result<Option<String>, ApiError> {
    let Ok(code) = RegionCode::parse(code) else {
        return Ok(None);
    };
    Ok(db
        .run(move |conn| regions::find(conn, &code).map_err(crate::db::DbError::from))
        .await?
        .map(|r| r.name))
}
