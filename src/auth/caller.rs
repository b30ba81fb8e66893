//! Who is calling, proven by a session token: a mini-program [`Account`] (a resident, and perhaps
//! also a venue manager or venue staff) or a [`Staff`] member, and extractors that also require a
//! staff role ([`Reviewer`], [`HealthOfficial`], [`Auditor`]). A missing, expired or tampered token
//! answers 401 `unauthorized`; a valid token of the wrong kind or role answers 403 `forbidden`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use super::staff_sessions::SessionError;
use super::tokens::{SessionKind, Sessions};
use crate::domain::{Platform, RegionCode, StaffRole};
use crate::services;
use crate::state::AppState;
use crate::web::{ApiError, ErrorCode};

/// A logged-in mini-program account.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub platform: Platform,
    /// When the platform login behind the session happened (unix seconds).
    pub logged_in_at: i64,
}

/// The account of a resident session, as long as it exists: a cancelled account's sessions end
/// on every node as soon as the change reaches its cache (within `CACHE_SYNC_MS`).
async fn live_account(
    state: &std::sync::Arc<AppState>,
    account_id: i64,
    platform: Platform,
    logged_in_at: i64,
) -> Result<Account, ApiError> {
    services::accounts::snapshot(state, account_id).await?;
    Ok(Account {
        id: account_id,
        platform,
        logged_in_at,
    })
}

/// A logged-in staff member.
#[derive(Debug, Clone)]
pub struct Staff {
    pub id: i64,
    pub role: StaffRole,
    /// The prefix of the region codes this account may act on.
    pub region: RegionCode,
    /// The id of the session the request came with.
    pub session: String,
}

impl Staff {
    /// Whether `region` lies inside this staff member's region.
    pub fn covers(&self, region: &str) -> bool {
        RegionCode::parse(region).is_ok_and(|code| code.is_within(&self.region))
    }
}

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("the application state is not registered"))
}

fn session(req: &HttpRequest) -> Result<SessionKind, ApiError> {
    let state = app_state(req)?;
    bearer_session(req, &state.sessions, state.clock.now())
}

fn bearer_session(
    req: &HttpRequest,
    sessions: &Sessions,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<SessionKind, ApiError> {
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
    sessions.verify(token, now).ok_or_else(|| {
        ApiError::new(ErrorCode::Unauthorized).with_message("登录已失效，请重新登录")
    })
}

type Extracted<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// What `then` makes of the request's session, given the application state.
fn with_session<T, F, Fut>(req: &HttpRequest, then: F) -> Extracted<T>
where
    F: FnOnce(web::Data<AppState>, SessionKind) -> Fut + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    let found = app_state(req).and_then(|state| Ok((state, session(req)?)));
    Box::pin(async move {
        let (state, kind) = found?;
        then(state, kind).await
    })
}

/// The staff member a session stands for, as the account and the session are now (read at most
/// a second earlier on any node).
async fn staff_of(
    state: &std::sync::Arc<AppState>,
    staff_id: i64,
    version: i32,
    session: &str,
) -> Result<Staff, ApiError> {
    super::staff_sessions::authenticate(state, staff_id, version, session)
        .await
        .map_err(|e| match e {
            SessionError::Ended => ApiError::new(ErrorCode::Unauthorized)
                .with_message("账号已停用或权限已变更，请重新登录"),
            SessionError::Db(e) => e.into(),
        })
}

impl FromRequest for Account {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        with_session(req, |state, kind| async move {
            match kind {
                SessionKind::Resident {
                    account_id,
                    platform,
                    issued_at,
                } => live_account(&state, account_id, platform, issued_at).await,
                SessionKind::Staff { .. } => {
                    Err(ApiError::forbidden("工作人员账号不能使用居民功能"))
                }
            }
        })
    }
}

impl FromRequest for Staff {
    type Error = ApiError;
    type Future = Extracted<Self>;

    /// The token names the account; its role and region are read from the account as it is now.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        with_session(req, |state, kind| async move {
            match kind {
                SessionKind::Staff {
                    staff_id,
                    version,
                    session,
                } => staff_of(&state, staff_id, version, &session).await,
                SessionKind::Resident { .. } => Err(ApiError::forbidden("该功能仅限工作人员使用")),
            }
        })
    }
}

/// Whoever calls, when an endpoint serves both a mini-program account and staff.
#[derive(Debug, Clone)]
pub enum Caller {
    Account(Account),
    Staff(Staff),
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        with_session(req, |state, kind| async move {
            Ok(match kind {
                SessionKind::Resident {
                    account_id,
                    platform,
                    issued_at,
                } => Caller::Account(live_account(&state, account_id, platform, issued_at).await?),
                SessionKind::Staff {
                    staff_id,
                    version,
                    session,
                } => Caller::Staff(staff_of(&state, staff_id, version, &session).await?),
            })
        })
    }
}

/// The roles a staff extractor admits: the API's routes and the console's pages ask for the same.
pub trait Roles {
    const ROLES: &'static [StaffRole];
}

/// Extractors for a staff member of one role: the route states the role, the handler never checks.
/// The console's pages ask for the same roles (`ROLES`).
macro_rules! role_extractors {
    ($($(#[$doc:meta])* $name:ident => [$($role:ident),+],)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Staff);

        impl Roles for $name {
            const ROLES: &'static [StaffRole] = &[$(StaffRole::$role),+];
        }

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

            fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
                let staff = Staff::from_request(req, payload);
                Box::pin(async move {
                    let staff = staff.await?;
                    if Self::ROLES.contains(&staff.role) {
                        Ok($name(staff))
                    } else {
                        Err(ApiError::new(ErrorCode::Forbidden))
                    }
                })
            }
        }
    )*};
}

role_extractors! {
    /// A county reviewer of venue applications.
    Reviewer => [Reviewer],
    /// A health official: colours, traces, risky windows, alerts.
    HealthOfficial => [HealthOfficial],
    /// An auditor of the audit log.
    Auditor => [Auditor],
    /// A street office's or community's registrar of venues.
    Registrar => [Registrar],
    /// A local authority over venues: a county reviewer or a registrar.
    VenueAuthority => [Reviewer, Registrar],
    /// Who follows up yellow and red people: a registrar or a health official.
    FollowUpStaff => [Registrar, HealthOfficial],
    /// Who keeps the staff accounts.
    Sysadmin => [Sysadmin],
    /// Who watches the region's counts on the dashboard: reviewers and health officials.
    RegionWatcher => [Reviewer, HealthOfficial],
    /// Who looks up the region's venues: reviewers, health officials and registrars.
    VenueReader => [Reviewer, HealthOfficial, Registrar],
}
