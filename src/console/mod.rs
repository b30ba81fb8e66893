//! The staff console at `/console/`: server-rendered pages (askama templates checked at compile
//! time, one stylesheet embedded in the binary, no script), in Chinese. The session is the staff
//! session token of the API, kept in an HttpOnly, SameSite=Strict cookie (Secure in production);
//! every form carries a CSRF token derived from that session; every page is sent with a strict
//! Content-Security-Policy. Pages call the same services as the API, with the same staff
//! extractor rules: a page shows nothing the API would refuse the same account.

use std::net::IpAddr;
use std::sync::Arc;

use actix_multipart::Multipart;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::auth::{SessionKind, Staff};
use crate::crypto::constant_time_eq;
use crate::domain::{FieldError, FieldErrors, StaffRole};
use crate::services;
use crate::state::AppState;

mod alerts;
mod audit;
mod charts;
mod dashboard;
mod follow_ups;
mod health_code_imports;
mod health_codes;
mod reviews;
mod risk_windows;
mod staff;
mod traces;
mod venue_imports;
mod venues;

const COOKIE: &str = "vc_console";
/// The login form's own cookie: a random value whose keyed hash the form carries, so only a page
/// this server gave out can post a login (no login CSRF).
const LOGIN_COOKIE: &str = "vc_login";
const STYLESHEET: &str = include_str!("../../assets/console/console.css");
/// No script at all, styles and images from here only, no framing, forms post here only.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console", web::get().to(home))
        .route("/console/", web::get().to(home))
        .route("/console/assets/console.css", web::get().to(stylesheet))
        .route("/console/login", web::get().to(login_page))
        .route("/console/login", web::post().to(login))
        .route("/console/logout", web::post().to(logout));
    reviews::routes(cfg);
    dashboard::routes(cfg);
    health_codes::routes(cfg);
    health_code_imports::routes(cfg);
    traces::routes(cfg);
    risk_windows::routes(cfg);
    alerts::routes(cfg);
    follow_ups::routes(cfg);
    venue_imports::routes(cfg);
    venues::routes(cfg);
    staff::routes(cfg);
    audit::routes(cfg);
}

/// Filters the console's templates use.
mod filters {
    /// A time as the API shows it (`2026-11-21T10:30:00+08:00`), as people read it:
    /// `2026-11-21 10:30`.
    pub fn short_time<T: std::fmt::Display>(
        time: T,
        _: &dyn askama::Values,
    ) -> askama::Result<String> {
        let time = time.to_string();
        Ok(match time.get(..16) {
            Some(minutes) if time.as_bytes().get(10) == Some(&b'T') => {
                minutes.replacen('T', " ", 1)
            }
            _ => time,
        })
    }
}

/// A page, with the console's security headers.
fn page(status: StatusCode, body: String) -> HttpResponse {
    let mut response = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("Content-Security-Policy", CSP))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(body);
    response.headers_mut().insert(
        header::HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    response
}

fn render(template: &impl Template) -> HttpResponse {
    match template.render() {
        Ok(body) => page(StatusCode::OK, body),
        Err(e) => {
            tracing::error!(error = %e, "a console page did not render");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "服务器内部错误，请稍后再试".into(),
            )
        }
    }
}

/// A file the browser saves under `file_name`, never kept by a cache.
fn download(
    content_type: &str,
    file_name: &str,
    body: impl actix_web::body::MessageBody + 'static,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("cache-control", "no-store"))
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"{file_name}\""),
        ))
        .body(body)
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLESHEET)
}

/// The signed-in staff member of a console request, with the session token it came with.
struct Session {
    staff: Staff,
    username: String,
    /// The name of the staff member's region, or its code when it has none.
    region: String,
    token: String,
}

fn cookie(request: &HttpRequest, cookie: &str) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == cookie)
        .map(|(_, value)| value.to_owned())
}

async fn session(state: &Arc<AppState>, request: &HttpRequest) -> Option<Session> {
    let token = cookie(request, COOKIE)?;
    let SessionKind::Staff {
        staff_id,
        version,
        session,
    } = state.sessions.verify(&token, state.clock.now())?
    else {
        return None;
    };
    let staff = crate::auth::staff_sessions::authenticate(state, staff_id, version, &session)
        .await
        .ok()?;
    let me = services::staff::me(state, &staff).await.ok()?;
    Some(Session {
        staff,
        username: me.username,
        region: me.region_name.unwrap_or(me.region_code),
        token,
    })
}

/// The session of a page for one of `roles`, or the answer instead: to the login page without
/// one, 403 for another role.
async fn signed_in_as(
    state: &Arc<AppState>,
    request: &HttpRequest,
    roles: &[StaffRole],
) -> Result<Session, HttpResponse> {
    let session = session(state, request)
        .await
        .ok_or_else(|| redirect("/console/login"))?;
    if !roles.contains(&session.staff.role) {
        return Err(page(StatusCode::FORBIDDEN, "您的账号无权使用该页面".into()));
    }
    Ok(session)
}

/// Like [`signed_in_as`], for a form sent to the server: its CSRF token must be the session's.
async fn posted_as(
    state: &Arc<AppState>,
    request: &HttpRequest,
    roles: &[StaffRole],
    csrf: &str,
) -> Result<Session, HttpResponse> {
    let session = signed_in_as(state, request, roles).await?;
    if !csrf_ok(state, &session, csrf) {
        return Err(stale_form());
    }
    Ok(session)
}

fn stale_form() -> HttpResponse {
    page(StatusCode::FORBIDDEN, "请求已失效，请刷新页面后重试".into())
}

/// What every signed-in page shows around its content: who is signed in, the pages of their
/// role, and the CSRF token its forms carry.
pub struct Frame {
    pub username: String,
    pub region: String,
    pub csrf: String,
    pub role: StaffRole,
    /// The path of the page, so that the menu marks it.
    pub current: &'static str,
}

impl Session {
    fn frame(&self, state: &AppState, current: &'static str) -> Frame {
        Frame {
            username: self.username.clone(),
            region: self.region.clone(),
            csrf: csrf_token(state, &self.token),
            role: self.staff.role,
            current,
        }
    }
}

impl Frame {
    /// The menu: the pages of this role, by path and title.
    pub fn menu(&self) -> &'static [(&'static str, &'static str)] {
        menu_of(self.role)
    }
}

fn menu_of(role: StaffRole) -> &'static [(&'static str, &'static str)] {
    match role {
        StaffRole::Reviewer => &[
            ("/console/reviews", "场所审核"),
            ("/console/venues", "场所查询"),
            ("/console/dashboard", "数据看板"),
        ],
        StaffRole::HealthOfficial => &[
            ("/console/dashboard", "数据看板"),
            ("/console/health-codes", "健康码赋码"),
            ("/console/health-codes/import", "批量导入"),
            ("/console/health-codes/imports", "待复核导入"),
            ("/console/traces", "流调追踪"),
            ("/console/risk-windows", "风险时段"),
            ("/console/alerts", "预警与协查"),
            ("/console/follow-ups", "跟进任务"),
            ("/console/venues", "场所查询"),
        ],
        StaffRole::Auditor => &[("/console/audit", "审计日志")],
        StaffRole::Sysadmin => &[("/console/staff", "工作人员账号")],
        StaffRole::Registrar => &[
            ("/console/follow-ups", "跟进任务"),
            ("/console/venues/import", "场所批量登记"),
            ("/console/venues", "场所查询"),
        ],
    }
}

/// Where a role starts: the first page of its menu.
fn start_page(role: StaffRole) -> &'static str {
    menu_of(role)[0].0
}

/// The `from` and `to` of a form (local dates and times, `2026-11-21T10:30`) as stored times; a
/// field error for each that is not one.
fn form_window(
    state: &AppState,
    errors: &mut FieldErrors,
    from: Option<&str>,
    to: Option<&str>,
) -> (Option<NaiveDateTime>, Option<NaiveDateTime>) {
    let mut time = |field: &str, value: Option<&str>| {
        let time = value.and_then(|v| state.clock.read_local_input(v));
        if time.is_none() {
            errors.add(field, FieldError::new("time_invalid", "请填写日期和时间"));
        }
        time
    };
    (time("from", from), time("to", to))
}

/// Every bad field of a form as a line for the page: `开始时间：结束时间应晚于开始时间`.
/// The document-kind field of a form (`templates/console/document_field.html`): the kinds to
/// choose from and the one chosen.
pub struct DocumentField {
    pub chosen: String,
    pub kinds: Vec<(&'static str, &'static str)>,
}

impl DocumentField {
    /// The field with `chosen` selected (the resident ID when none is).
    pub fn new(chosen: Option<&str>) -> Self {
        let kinds: Vec<_> = crate::domain::IdType::ALL
            .iter()
            .map(|t| (t.as_str(), t.label()))
            .collect();
        Self {
            chosen: chosen.unwrap_or(kinds[0].0).to_owned(),
            kinds,
        }
    }

    pub fn is_chosen(&self, code: &str) -> bool {
        self.chosen == code
    }
}

fn problems(errors: &FieldErrors, label: impl Fn(&str) -> &'static str) -> Vec<String> {
    errors
        .iter()
        .map(|(field, error)| format!("{}：{}", label(field), error.message))
        .collect()
}

/// The largest file a console form takes.
const MAX_UPLOAD_BYTES: usize = 2 * 1024 * 1024;

/// The named text fields of a multipart form, each at most `MAX_UPLOAD_BYTES`.
pub(super) async fn form_fields(
    mut payload: Multipart,
) -> Result<Vec<(String, String)>, &'static str> {
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

pub(super) fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

/// A page whose data could not be read: said plainly, the cause logged.
fn unavailable(what: &str, error: impl std::fmt::Display) -> HttpResponse {
    tracing::warn!(%error, "{what} was not read for a console page");
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "服务繁忙，请稍后再试".into(),
    )
}

/// A keyed hash of `value` for one purpose, as hex: what a form carries to prove the server gave
/// it out.
fn keyed(state: &AppState, purpose: &[u8], value: &str) -> String {
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

fn csrf_ok(state: &AppState, session: &Session, given: &str) -> bool {
    constant_time_eq(
        csrf_token(state, &session.token).as_bytes(),
        given.as_bytes(),
    )
}

fn session_cookie(state: &AppState, token: &str, max_age_secs: i64) -> String {
    console_cookie(state, COOKIE, token, max_age_secs)
}

fn console_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> String {
    let secure = if state.settings.is_development() {
        ""
    } else {
        "; Secure"
    };
    format!(
        "{name}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    )
}

async fn home(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let state = state.into_inner();
    match session(&state, &request).await {
        Some(session) => redirect(start_page(session.staff.role)),
        None => redirect("/console/login"),
    }
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    problem: Option<&'static str>,
    username: String,
    /// The keyed hash of this page's login cookie.
    login_csrf: String,
}

/// How long a login page may stay open before its form is refused.
const LOGIN_PAGE_SECS: i64 = 3600;

/// The login page with the browser's login cookie (a new one when it has none, so that two tabs
/// of the page both work), whose keyed hash its form carries.
fn login_form(
    state: &AppState,
    request: &HttpRequest,
    status: StatusCode,
    problem: Option<&'static str>,
    username: String,
) -> HttpResponse {
    let nonce = cookie(request, LOGIN_COOKIE)
        .filter(|n| crate::auth::well_formed_session_id(n))
        .unwrap_or_else(crate::auth::new_session_id);
    let mut response = render(&LoginPage {
        problem,
        username,
        login_csrf: keyed(state, b"console-login:", &nonce),
    });
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(&console_cookie(
        state,
        LOGIN_COOKIE,
        &nonce,
        LOGIN_PAGE_SECS,
    )) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

async fn login_page(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    login_form(&state, &request, StatusCode::OK, None, String::new())
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    login_csrf: String,
}

/// Whether a login was posted by the login page this server gave the same browser: the browser
/// says the post came from this origin (when it says where from at all), and the form carries
/// the keyed hash of the login cookie, which a page of another origin can neither read nor set.
fn login_posted_here(state: &AppState, request: &HttpRequest, form: &LoginForm) -> bool {
    let site = request
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok());
    if site.is_some_and(|site| site != "same-origin") {
        return false;
    }
    cookie(request, LOGIN_COOKIE).is_some_and(|nonce| {
        constant_time_eq(
            keyed(state, b"console-login:", &nonce).as_bytes(),
            form.login_csrf.as_bytes(),
        )
    })
}

async fn login(
    state: web::Data<AppState>,
    request: HttpRequest,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let state = state.into_inner();
    let form = form.into_inner();
    if !login_posted_here(&state, &request, &form) {
        return login_form(
            &state,
            &request,
            StatusCode::FORBIDDEN,
            Some("登录页面已失效，请重新输入后登录"),
            String::new(),
        );
    }
    let LoginForm {
        username, password, ..
    } = form;
    let client: Option<IpAddr> = request.peer_addr().map(|peer| peer.ip());
    match services::staff::login(&state, username.clone(), password, client).await {
        Ok(session) => {
            let hours = i64::from(state.settings.sessions.staff_hours);
            let mut response = HttpResponse::SeeOther()
                .insert_header((header::LOCATION, start_page(session.staff.role)))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish();
            for cookie in [
                session_cookie(&state, &session.token, hours * 3600),
                console_cookie(&state, LOGIN_COOKIE, "", 0),
            ] {
                if let Ok(value) = HeaderValue::from_str(&cookie) {
                    response.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            response
        }
        Err(e) => {
            let problem = match e {
                services::staff::StaffError::Locked { .. } => "登录失败次数过多，请稍后再试",
                _ => "用户名或密码错误",
            };
            login_form(
                &state,
                &request,
                StatusCode::UNAUTHORIZED,
                Some(problem),
                username,
            )
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    state: web::Data<AppState>,
    request: HttpRequest,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let state = state.into_inner();
    if let Some(session) = session(&state, &request).await {
        if !csrf_ok(&state, &session, &form.csrf) {
            return stale_form();
        }
        if let Err(e) = services::staff::logout(&state, &session.staff).await {
            return unavailable("the end of a session", e);
        }
    }
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/console/login"))
        .insert_header((header::SET_COOKIE, session_cookie(&state, "", 0)))
        .finish()
}
