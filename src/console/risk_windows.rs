//! Risky windows: an official marks a time at a venue of the region risky; everyone whose stay
//! overlapped it is told in their notices. The page lists the region's newest windows.

use crate::auth::HealthOfficial;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use chrono::Duration;
use serde::Deserialize;

use super::edge::{csrf_forms, Answer, Posted, Session, Signed};
use super::{filters, form_window, problems, render, Frame};
use crate::domain::{FieldCode, FieldError, FieldErrors};
use crate::services::risk_windows::{self, DeclaredWindow, NewWindow, RiskWindowError};
use crate::state::AppState;

/// How many of the region's windows the page lists.
const LISTED: i64 = 50;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/risk-windows", web::get().to(page))
        .route("/console/risk-windows", web::post().to(create));
}

#[derive(Template)]
#[template(path = "console/risk_windows.html")]
struct WindowsPage {
    frame: Frame,
    venue_id: String,
    from: String,
    to: String,
    message: String,
    notice: Option<String>,
    problems: Vec<String>,
    windows: Vec<DeclaredWindow>,
}

#[derive(Deserialize)]
struct Prefill {
    venue_id: Option<i64>,
}

async fn show(
    state: &std::sync::Arc<AppState>,
    session: &Session,
    mut page: WindowsPage,
) -> Answer {
    page.windows = risk_windows::recent(state, &session.staff, LISTED).await?;
    Ok(render(&page))
}

fn blank(state: &AppState, session: &Session) -> WindowsPage {
    let now = state.clock.now_naive();
    WindowsPage {
        frame: session.frame(state, "/console/risk-windows"),
        venue_id: String::new(),
        from: state.clock.local_input(now - Duration::hours(2)),
        to: state.clock.local_input(now),
        message: String::new(),
        notice: None,
        problems: Vec::new(),
        windows: Vec::new(),
    }
}

async fn page(
    state: web::Data<AppState>,
    session: Signed<HealthOfficial>,
    prefill: web::Query<Prefill>,
) -> Answer {
    let mut page = blank(&state, &session);
    page.venue_id = prefill
        .venue_id
        .map(|id| id.to_string())
        .unwrap_or_default();
    show(&state, &session, page).await
}

#[derive(Deserialize)]
struct WindowForm {
    csrf: String,
    venue_id: String,
    from: String,
    to: String,
    message: String,
}

csrf_forms!(WindowForm);

fn field_label(field: &str) -> &'static str {
    match field {
        "venue_id" => "场所编号",
        "from" => "开始时间",
        "to" => "结束时间",
        "message" => "提示内容",
        _ => "内容",
    }
}

async fn create(
    state: web::Data<AppState>,
    Posted { session, form, .. }: Posted<HealthOfficial, WindowForm>,
) -> Answer {
    let mut errors = FieldErrors::default();
    let venue_id = form.venue_id.trim().parse::<i64>().ok();
    if venue_id.is_none() {
        errors.add(
            "venue_id",
            FieldError::new(FieldCode::VenueIdInvalid, "请填写场所编号"),
        );
    }
    let (from, to) = form_window(&state, &mut errors, Some(&form.from), Some(&form.to));
    let window = NewWindow::check(
        &mut errors,
        venue_id.unwrap_or(0),
        from,
        to,
        &form.message,
        state.retained(),
    );
    let mut page = blank(&state, &session);
    page.problems = problems(&errors, field_label);
    if let Some(window) = window.filter(|_| page.problems.is_empty()) {
        match risk_windows::create(&state, &session.staff, window).await {
            Ok(done) => {
                page.notice = Some(format!(
                    "已标记风险时段：时段内到访 {} 人，已发送 {} 条提醒",
                    done.people, done.notified
                ));
                return show(&state, &session, page).await;
            }
            Err(RiskWindowError::VenueNotFound) => {
                page.problems.push("本地区没有该编号的场所".into())
            }
            Err(e) => return Err(e.into()),
        }
    }
    page.venue_id = form.venue_id;
    page.from = form.from;
    page.to = form.to;
    page.message = form.message;
    let mut response = show(&state, &session, page).await?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}
