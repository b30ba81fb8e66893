//! The staff console at `/console/`: server-rendered pages (askama templates checked at compile
//! time, one stylesheet embedded in the binary, no script), in Chinese. The session is the staff
//! session token of the API, kept in an HttpOnly, SameSite=Strict cookie (Secure in production);
//! every form carries a CSRF token derived from that session; every page is sent with a strict
//! Content-Security-Policy. Pages call the same services as the API, with the same staff
//! extractors and the same answers to a service's errors (`edge`): a page shows nothing the API
//! would refuse the same account.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;

use crate::domain::{FieldCode, FieldError, FieldErrors, StaffRole};
use crate::state::AppState;

mod alerts;
mod audit;
mod charts;
mod dashboard;
mod edge;
mod follow_ups;
mod health_code_imports;
mod health_codes;
mod login;
mod reviews;
mod risk_windows;
mod staff;
mod traces;
mod venue_imports;
mod venues;

const STYLESHEET: &str = include_str!("../../assets/console/console.css");
/// No script at all, styles and images from here only, no framing, forms post here only.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/assets/console.css", web::get().to(stylesheet));
    login::routes(cfg);
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
            errors.add(
                field,
                FieldError::new(FieldCode::TimeInvalid, "请填写日期和时间"),
            );
        }
        time
    };
    (time("from", from), time("to", to))
}

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

/// Every bad field of a form as a line for the page: `开始时间：结束时间应晚于开始时间`.
fn problems(errors: &FieldErrors, label: impl Fn(&str) -> &'static str) -> Vec<String> {
    errors
        .iter()
        .map(|(field, error)| format!("{}：{}", label(field), error.message))
        .collect()
}
