//! Extractors for the caller: a resident (mini-program account) or a staff member. A missing,
//! expired or tampered token answers 401 `unauthorized`; a valid token of the wrong kind or role
//! answers 403 `forbidden`.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};

use super::tokens::SessionKind;
use crate::domain::{RegionCode, StaffRole};
use crate::error::{ApiError, ErrorCode};
use crate::platforms::Platform;
use crate::state::State;

/// A logged-in mini-program account.
#[derive(Debug, Clone)]
pub struct Resident {
    pub account_id: i64,
    pub platform: Platform,
}

/// A logged-in staff member.
#[derive(Debug, Clone)]
pub struct Staff {
    pub staff_id: i64,
    pub role: StaffRole,
    /// The prefix of the region codes this account may act on.
    pub region: RegionCode,
}

impl Staff {
    /// 403 unless the staff member has one of `roles`.
    pub fn require(&self, roles: &[StaffRole]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::Forbidden))
        }
    }
}

fn session(req: &HttpRequest) -> Result<SessionKind, ApiError> {
    let state = req
        .app_data::<State>()
        .ok_or_else(|| ApiError::internal("the application state is not registered"))?;
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized))?;
    state.sessions.verify(token).ok_or_else(|| {
        ApiError::new(ErrorCode::Unauthorized).with_message("登录已失效，请重新登录")
    })
}

impl FromRequest for Resident {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(session(req).and_then(|kind| match kind {
            SessionKind::Resident {
                account_id,
                platform,
            } => Ok(Resident {
                account_id,
                platform,
            }),
            SessionKind::Staff { .. } => Err(
                ApiError::new(ErrorCode::Forbidden).with_message("工作人员账号不能使用居民功能"),
            ),
        }))
    }
}

impl FromRequest for Staff {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(session(req).and_then(|kind| {
            match kind {
                SessionKind::Staff {
                    staff_id,
                    role,
                    region,
                } => Ok(Staff {
                    staff_id,
                    role,
                    region: RegionCode::parse(&region)
                        .map_err(|_| ApiError::new(ErrorCode::Unauthorized))?,
                }),
                SessionKind::Resident { .. } => {
                    Err(ApiError::new(ErrorCode::Forbidden).with_message("该功能仅限工作人员使用"))
                }
            }
        }))
    }
}
