//! The staff console at `/console/`: server-rendered pages (askama templates checked at compile
//! time, one stylesheet embedded in the binary, no script), in Chinese. The session is the staff
//! session token of the API, kept in an HttpOnly, SameSite=Strict cookie (Secure in production);
//! every form carries a CSRF token derived from that session; every page is sent with a strict
//! Content-Security-Policy. Pages call the same services as the API, with the same staff
//! extractor rules: a page shows nothing the API would refuse the same account.

use std::net::IpAddr;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::auth::{SessionKind, Staff};
use crate::crypto::constant_time_eq;
use crate::db::audit::ChainReport;
use crate::domain::StaffRole;
use crate::services;
use crate::services::audit::{AuditFilter, AuditItem};
use crate::services::reviews::Decision;
use crate::services::venues::VenueView;
use crate::state::AppState;

const COOKIE: &str = "vc_console";
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
        .route("/console/logout", web::post().to(logout))
        .route("/console/reviews", web::get().to(reviews))
        .route("/console/reviews/{id}", web::post().to(decide))
        .route("/console/audit", web::get().to(audit_log));
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
    token: String,
}

fn cookie_token(request: &HttpRequest) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

async fn session(state: &Arc<AppState>, request: &HttpRequest) -> Option<Session> {
    let token = cookie_token(request)?;
    let SessionKind::Staff { staff_id, version } =
        state.sessions.verify(&token, state.clock.now())?
    else {
        return None;
    };
    let staff = services::staff::authenticate(state, staff_id, version)
        .await
        .ok()?;
    let username = services::staff::me(state, &staff).await.ok()?.username;
    Some(Session {
        staff,
        username,
        token,
    })
}

/// The session of a page for `role`, or the answer instead: to the login page without one, 403
/// for another role.
async fn signed_in_as(
    state: &Arc<AppState>,
    request: &HttpRequest,
    role: StaffRole,
) -> Result<Session, HttpResponse> {
    let session = session(state, request)
        .await
        .ok_or_else(|| redirect("/console/login"))?;
    if session.staff.role != role {
        return Err(page(StatusCode::FORBIDDEN, "您的账号无权使用该页面".into()));
    }
    Ok(session)
}

/// A page whose data could not be read: said plainly, the cause logged.
fn unavailable(what: &str, error: impl std::fmt::Display) -> HttpResponse {
    tracing::warn!(%error, "{what} was not read for a console page");
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "服务繁忙，请稍后再试".into(),
    )
}

/// The CSRF token of a session: a keyed hash of its token, so it needs no storage and dies with it.
fn csrf_token(state: &AppState, session_token: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(state.settings.keys.jwt_secret.expose().as_bytes())
            .expect("HMAC takes any key length");
    mac.update(b"console-csrf:");
    mac.update(session_token.as_bytes());
    let digest = mac.finalize().into_bytes();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn csrf_ok(state: &AppState, session: &Session, given: &str) -> bool {
    constant_time_eq(
        csrf_token(state, &session.token).as_bytes(),
        given.as_bytes(),
    )
}

fn session_cookie(state: &AppState, token: &str, max_age_secs: i64) -> String {
    let secure = if state.settings.is_development() {
        ""
    } else {
        "; Secure"
    };
    format!("{COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}")
}

async fn home(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let state = state.into_inner();
    match session(&state, &request).await {
        Some(session) => redirect(start_page(session.staff.role)),
        None => redirect("/console/login"),
    }
}

/// Where a role starts.
fn start_page(role: StaffRole) -> &'static str {
    match role {
        StaffRole::Auditor => "/console/audit",
        _ => "/console/reviews",
    }
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    problem: Option<&'static str>,
    username: String,
}

async fn login_page() -> HttpResponse {
    render(&LoginPage {
        problem: None,
        username: String::new(),
    })
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

async fn login(
    state: web::Data<AppState>,
    request: HttpRequest,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let state = state.into_inner();
    let LoginForm { username, password } = form.into_inner();
    let client: Option<IpAddr> = request.peer_addr().map(|peer| peer.ip());
    match services::staff::login(&state, username.clone(), password, client).await {
        Ok(session) => {
            let hours = i64::from(state.settings.sessions.staff_hours);
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, start_page(session.staff.role)))
                .insert_header((
                    header::SET_COOKIE,
                    session_cookie(&state, &session.token, hours * 3600),
                ))
                .finish()
        }
        Err(e) => {
            let problem = match e {
                services::staff::StaffError::Locked { .. } => "登录失败次数过多，请稍后再试",
                _ => "用户名或密码错误",
            };
            let mut response = render(&LoginPage {
                problem: Some(problem),
                username,
            });
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response
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
            return page(StatusCode::FORBIDDEN, "请求已失效，请刷新页面后重试".into());
        }
    }
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/console/login"))
        .insert_header((header::SET_COOKIE, session_cookie(&state, "", 0)))
        .finish()
}

/// A pending application as the queue shows it.
struct QueueRow {
    id: i64,
    name: String,
    category: String,
    subtype: String,
    region: String,
    address: String,
    lat: f64,
    lng: f64,
    manager: String,
    created_at: String,
}

impl From<VenueView> for QueueRow {
    fn from(venue: VenueView) -> Self {
        Self {
            id: venue.id,
            name: venue.name,
            category: venue.category.name,
            subtype: venue.subtype.name,
            region: venue.region.name,
            address: venue.address,
            lat: venue.location.lat,
            lng: venue.location.lng,
            manager: format!("{} {}", venue.manager.name, venue.manager.phone),
            created_at: venue.created_at,
        }
    }
}

#[derive(Template)]
#[template(path = "console/reviews.html")]
struct ReviewsPage {
    username: String,
    region: String,
    csrf: String,
    notice: Option<String>,
    venues: Vec<QueueRow>,
}

#[derive(Deserialize)]
struct Notice {
    done: Option<String>,
}

async fn reviews(
    state: web::Data<AppState>,
    request: HttpRequest,
    notice: web::Query<Notice>,
) -> HttpResponse {
    let state = state.into_inner();
    let session = match signed_in_as(&state, &request, StaffRole::Reviewer).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let pending = Some(crate::domain::VenueStatus::Pending);
    let venues = match services::reviews::list(&state, &session.staff, pending).await {
        Ok(venues) => venues,
        Err(e) => return unavailable("the review queue", e),
    };
    let notice = match notice.done.as_deref() {
        Some("approved") => Some("已通过该申请，场所码已生效".to_owned()),
        Some("rejected") => Some("已驳回该申请".to_owned()),
        _ => None,
    };
    render(&ReviewsPage {
        username: session.username.clone(),
        region: session.staff.region.to_string(),
        csrf: csrf_token(&state, &session.token),
        notice,
        venues: venues.into_iter().map(QueueRow::from).collect(),
    })
}

#[derive(Deserialize)]
struct DecisionForm {
    csrf: String,
    decision: String,
    reason: Option<String>,
}

async fn decide(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<i64>,
    form: web::Form<DecisionForm>,
) -> HttpResponse {
    let state = state.into_inner();
    let session = match signed_in_as(&state, &request, StaffRole::Reviewer).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    if !csrf_ok(&state, &session, &form.csrf) {
        return page(StatusCode::FORBIDDEN, "请求已失效，请刷新页面后重试".into());
    }
    let (decision, done) = match (form.decision.as_str(), form.reason.as_deref()) {
        ("approve", _) => (Decision::Approve, "approved"),
        ("reject", Some(reason)) if !reason.trim().is_empty() => (
            Decision::Reject {
                reason: reason.trim().chars().take(200).collect(),
            },
            "rejected",
        ),
        _ => return redirect("/console/reviews"),
    };
    match services::reviews::decide(&state, &session.staff, id.into_inner(), decision).await {
        Ok(_) => redirect(&format!("/console/reviews?done={done}")),
        Err(e) => {
            tracing::debug!(error = %e, "a console decision was refused");
            redirect("/console/reviews")
        }
    }
}

/// The outcome of a chain verification, as the audit page says it.
struct ChainNotice {
    class: &'static str,
    text: String,
}

impl From<ChainReport> for ChainNotice {
    fn from(report: ChainReport) -> Self {
        match report {
            ChainReport::Intact { entries } => ChainNotice {
                class: "intact",
                text: format!("哈希链完整：共 {entries} 条记录，均未被删改"),
            },
            ChainReport::Changed { seq, .. } => ChainNotice {
                class: "tampered",
                text: format!("哈希链被破坏：第 {seq} 条记录的内容已被修改"),
            },
            ChainReport::Broken { seq, .. } => ChainNotice {
                class: "tampered",
                text: format!("哈希链被破坏：第 {seq} 条记录之前有记录被删除或调换"),
            },
            ChainReport::Truncated { last_seq, head_seq } => ChainNotice {
                class: "tampered",
                text: format!("哈希链被截断：链止于第 {last_seq} 条，应至第 {head_seq} 条"),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    username: String,
    region: String,
    csrf: String,
    report: Option<ChainNotice>,
    entries: Vec<AuditItem>,
}

#[derive(Deserialize)]
struct AuditQuery {
    verify: Option<String>,
}

/// The auditor's region's newest entries; with `?verify=1`, the whole chain checked first.
async fn audit_log(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<AuditQuery>,
) -> HttpResponse {
    let state = state.into_inner();
    let session = match signed_in_as(&state, &request, StaffRole::Auditor).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let report = match query.verify {
        Some(_) => match services::audit::verify(&state, None).await {
            Ok(report) => Some(ChainNotice::from(report)),
            Err(e) => return unavailable("the audit chain", e),
        },
        None => None,
    };
    let filter = AuditFilter {
        action: None,
        before_seq: None,
        limit: 100,
    };
    let entries = match services::audit::list(&state, &session.staff, filter).await {
        Ok(entries) => entries,
        Err(e) => return unavailable("the audit log", e),
    };
    render(&AuditPage {
        username: session.username.clone(),
        region: session.staff.region.to_string(),
        csrf: csrf_token(&state, &session.token),
        report,
        entries,
    })
}
