//! The console's edge, the same as the API's: a page states the staff it serves by type
//! (`Signed<HealthOfficial>`: the API's role extractors and their `ROLES`), a form's CSRF token is
//! checked before the handler runs (`Posted`, `Uploaded`), and whatever a service refuses becomes a
//! page through one mapping ([`PageError`], from the API's own answer to that error).

use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;

use actix_multipart::Multipart;
use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use sha2::Sha256;

use super::{page, redirect, Frame};
use crate::auth::{Roles, SessionKind, Staff};
use crate::crypto::constant_time_eq;
use crate::services;
use crate::state::AppState;
use crate::web::error::ErrorCause;
use crate::web::ApiError;

/// The session cookie: the staff session token of the API.
pub(super) const COOKIE: &str = "vc_console";

/// The signed-in staff member of a console request, with the session token it came with.
pub struct Session {
    pub staff: Staff,
    pub username: String,
    /// The name of the staff member's region, or its code when it has none.
    pub region: String,
    token: String,
}

impl Session {
    /// What the page shows around its content; `current` is the page's path, marked in the menu.
    pub fn frame(&self, state: &AppState, current: &'static str) -> Frame {
        Frame {
            username: self.username.clone(),
            region: self.region.clone(),
            csrf: csrf_token(state, &self.token),
            role: self.staff.role,
            current,
        }
    }

    pub(super) fn csrf_ok(&self, state: &AppState, given: &str) -> bool {
        constant_time_eq(csrf_token(state, &self.token).as_bytes(), given.as_bytes())
    }
}

/// Why a request gets no page of its own.
#[derive(Debug)]
pub enum PageError {
    /// No session, or it ended: to the login page.
    SignIn,
    /// Signed in with a role the page does not serve.
    Forbidden,
    /// A form without this session's CSRF token (an old page, or another site's).
    StaleForm,
    /// A form the browser sent wrong (not the page's fields, an upload too large or not text).
    BadForm(&'static str),
    /// What a service answered, as the API answers it.
    Service(ApiError),
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::SignIn => f.write_str("not signed in"),
            PageError::Forbidden => f.write_str("not this role's page"),
            PageError::StaleForm => f.write_str("stale form"),
            PageError::BadForm(problem) => f.write_str(problem),
            PageError::Service(e) => e.fmt(f),
        }
    }
}

/// Every service error the API answers answers a page the same way: its status and its message
/// (an outage is a 503 with `Retry-After`; the cause goes to the request's log line, not the page).
impl<E> From<E> for PageError
where
    ApiError: From<E>,
{
    fn from(e: E) -> Self {
        PageError::Service(ApiError::from(e))
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::SignIn => StatusCode::SEE_OTHER,
            PageError::Forbidden | PageError::StaleForm => StatusCode::FORBIDDEN,
            PageError::BadForm(_) => StatusCode::BAD_REQUEST,
            PageError::Service(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            PageError::SignIn => return redirect("/console/login"),
            PageError::Forbidden => "您的账号无权使用该页面",
            PageError::StaleForm => "请求已失效，请刷新页面后重试",
            PageError::BadForm(problem) => problem,
            PageError::Service(e) => e.message(),
        };
        let mut response = page(self.status_code(), message.to_owned());
        if let PageError::Service(e) = self {
            if let Some(seconds) = e.retry_after_secs() {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            if let Some(cause) = e.cause() {
                response
                    .extensions_mut()
                    .insert(ErrorCause(cause.to_owned()));
            }
        }
        response
    }
}

/// A page's answer: the page, or why not.
pub type Answer = Result<HttpResponse, PageError>;

type Extracted<T> = Pin<Box<dyn Future<Output = Result<T, PageError>>>>;

fn app_state(request: &HttpRequest) -> Result<Arc<AppState>, PageError> {
    request
        .app_data::<web::Data<AppState>>()
        .map(|state| Arc::clone(state))
        .ok_or_else(|| PageError::Service(ApiError::internal("no application state")))
}

pub(super) fn cookie(request: &HttpRequest, cookie: &str) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == cookie)
        .map(|(_, value)| value.to_owned())
}

/// The session of the request's cookie, as the account is now; `SignIn` without one.
pub(super) async fn session(
    state: &Arc<AppState>,
    request: &HttpRequest,
) -> Result<Session, PageError> {
    let token = cookie(request, COOKIE).ok_or(PageError::SignIn)?;
    let Some(SessionKind::Staff {
        staff_id,
        version,
        session,
    }) = state.sessions.verify(&token, state.clock.now())
    else {
        return Err(PageError::SignIn);
    };
    let staff = crate::auth::staff_sessions::authenticate(state, staff_id, version, &session)
        .await
        .map_err(|e| match e {
            crate::auth::staff_sessions::SessionError::Ended => PageError::SignIn,
            crate::auth::staff_sessions::SessionError::Db(e) => e.into(),
        })?;
    let me = services::staff::me(state, &staff)
        .await
        .map_err(|e| match e {
            services::staff::StaffError::SessionEnded => PageError::SignIn,
            e => e.into(),
        })?;
    Ok(Session {
        staff,
        username: me.username,
        region: me.region_name.unwrap_or(me.region_code),
        token,
    })
}

async fn signed_in_as<R: Roles>(
    request: &HttpRequest,
) -> Result<(Arc<AppState>, Session), PageError> {
    let state = app_state(request)?;
    let session = session(&state, request).await?;
    if !R::ROLES.contains(&session.staff.role) {
        return Err(PageError::Forbidden);
    }
    Ok((state, session))
}

/// A page for the staff of `R`'s roles: to the login page without a session, 403 for another role.
pub struct Signed<R> {
    pub session: Session,
    role: PhantomData<R>,
}

impl<R> Deref for Signed<R> {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.session
    }
}

impl<R: Roles + 'static> FromRequest for Signed<R> {
    type Error = PageError;
    type Future = Extracted<Self>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let (_, session) = signed_in_as::<R>(&request).await?;
            Ok(Signed {
                session,
                role: PhantomData,
            })
        })
    }
}

/// A form that carries the session's CSRF token in its `csrf` field.
pub trait CsrfForm {
    fn csrf(&self) -> &str;
}

/// Forms whose `csrf` field is their CSRF token.
macro_rules! csrf_forms {
    ($($form:ty),+ $(,)?) => {$(
        impl $crate::console::edge::CsrfForm for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        }
    )+};
}
pub(super) use csrf_forms;

/// A form of a button alone: its CSRF token.
#[derive(serde::Deserialize)]
pub struct EmptyForm {
    csrf: String,
}

csrf_forms!(EmptyForm);

/// A form posted by the staff of `R`'s roles, its CSRF token already checked.
pub struct Posted<R, F> {
    pub session: Session,
    pub form: F,
    role: PhantomData<R>,
}

impl<R, F> Deref for Posted<R, F> {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.session
    }
}

impl<R: Roles + 'static, F: DeserializeOwned + CsrfForm + 'static> FromRequest for Posted<R, F> {
    type Error = PageError;
    type Future = Extracted<Self>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<F>::from_request(request, payload);
        let request = request.clone();
        Box::pin(async move {
            let form = form.await;
            let (state, session) = signed_in_as::<R>(&request).await?;
            let form = form
                .map_err(|_| PageError::BadForm("表单内容有误，请刷新页面后重试"))?
                .into_inner();
            if !session.csrf_ok(&state, form.csrf()) {
                return Err(PageError::StaleForm);
            }
            Ok(Posted {
                session,
                form,
                role: PhantomData,
            })
        })
    }
}

/// The largest file a console form takes.
const MAX_UPLOAD_BYTES: usize = 2 * 1024 * 1024;

/// A multipart form (a sheet uploaded) posted by the staff of `R`'s roles, its `csrf` field
/// checked: its named text fields, each at most 2 MB.
pub struct Uploaded<R> {
    pub session: Session,
    fields: Vec<(String, String)>,
    role: PhantomData<R>,
}

impl<R> Uploaded<R> {
    /// The text of field `name`, empty when the form has none.
    pub fn field(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

impl<R> Deref for Uploaded<R> {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.session
    }
}

impl<R: Roles + 'static> FromRequest for Uploaded<R> {
    type Error = PageError;
    type Future = Extracted<Self>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = Multipart::from_request(request, payload);
        let request = request.clone();
        Box::pin(async move {
            let (state, session) = signed_in_as::<R>(&request).await?;
            let form = form.await.map_err(|_| PageError::StaleForm)?;
            let fields = form_fields(form).await.map_err(PageError::BadForm)?;
            let uploaded = Uploaded {
                session,
                fields,
                role: PhantomData,
            };
            if !uploaded.session.csrf_ok(&state, uploaded.field("csrf")) {
                return Err(PageError::StaleForm);
            }
            Ok(uploaded)
        })
    }
}

async fn form_fields(mut payload: Multipart) -> Result<Vec<(String, String)>, &'static str> {
    let mut fields = Vec::new();
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| "上传失败，请重试")?;
        let name = field.name().unwrap_or_default().to_owned();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| "上传失败，请重试")?;
            if bytes.len() + chunk.len() > MAX_UPLOAD_BYTES {
                return Err("文件过大，最多 2 MB");
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| "文件不是 UTF-8 编码，请在表格软件中另存为“CSV UTF-8”后上传")?;
        fields.push((name, text));
        if fields.len() > 4 {
            return Err("表单内容有误，请刷新页面后重试");
        }
    }
    Ok(fields)
}

/// A keyed hash of `value` for one purpose, as hex: what a form carries to prove the server gave
/// it out.
pub(super) fn keyed(state: &AppState, purpose: &[u8], value: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(state.settings.keys.jwt_secrets.current().1.as_bytes())
            .expect("HMAC takes any key length");
    mac.update(purpose);
    mac.update(value.as_bytes());
    let digest = mac.finalize().into_bytes();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The CSRF token of a session: a keyed hash of its token, so it needs no storage and dies with it.
fn csrf_token(state: &AppState, session_token: &str) -> String {
    keyed(state, b"console-csrf:", session_token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::DbError;

    #[test]
    fn an_outage_is_a_503_page_with_retry_after_and_its_cause_for_the_log() {
        let error: PageError = DbError::Unavailable("connection refused".into()).into();
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "2");
        assert!(response
            .headers()
            .get(header::CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let cause = response.extensions().get::<ErrorCause>().cloned();
        assert_eq!(cause.map(|c| c.0).as_deref(), Some("connection refused"));
    }

    #[test]
    fn without_a_session_the_page_is_the_login_page_and_a_refusal_is_said_in_chinese() {
        let response = PageError::SignIn.error_response();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            response.headers().get(header::LOCATION).unwrap(),
            "/console/login"
        );
        assert_eq!(
            PageError::Forbidden.error_response().status(),
            StatusCode::FORBIDDEN
        );
        let not_found: PageError = ApiError::not_found().into();
        assert_eq!(not_found.error_response().status(), StatusCode::NOT_FOUND);
        assert_eq!(
            match &not_found {
                PageError::Service(e) => e.message(),
                _ => "",
            },
            "请求的内容不存在"
        );
    }
}
