//! Tracing a case: the form, the contacts found at the region's venues (other regions' as counts
//! and referrals), and their CSV export. The ID number travels in the form's body; the trace is
//! then addressed by its id, and every reading of it is audited.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Duration;
use serde::Deserialize;

use super::{filters, posted_as, redirect, render, signed_in_as, unavailable, Frame};
use crate::domain::{FieldErrors, StaffRole};
use crate::services::traces::{self, TraceError, TraceQuery, TraceView, TraceWindow};
use crate::state::AppState;

const OFFICIAL: &[StaffRole] = &[StaffRole::HealthOfficial];

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/traces", web::get().to(form_page))
        .route("/console/traces", web::post().to(create))
        .route("/console/traces/{id}", web::get().to(show))
        .route("/console/traces/{id}/export.csv", web::get().to(export));
}

#[derive(Template)]
#[template(path = "console/trace_form.html")]
struct FormPage {
    frame: Frame,
    id_number: String,
    from: String,
    to: String,
    depth: u8,
    problems: Vec<String>,
}

async fn form_page(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let state = state.into_inner();
    let session = match signed_in_as(&state, &request, OFFICIAL).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let now = state.clock.now_naive();
    render(&FormPage {
        frame: session.frame(&state, "/console/traces"),
        id_number: String::new(),
        from: state.clock.local_input(now - Duration::days(14)),
        to: state.clock.local_input(now),
        depth: 1,
        problems: Vec::new(),
    })
}

#[derive(Deserialize)]
struct TraceForm {
    csrf: String,
    id_number: String,
    from: String,
    to: String,
    depth: Option<u8>,
}

fn field_label(field: &str) -> &'static str {
    match field {
        "id_number" => "身份证号",
        "from" => "开始时间",
        "to" => "结束时间",
        "depth" => "追踪层级",
        _ => "内容",
    }
}

async fn create(
    state: web::Data<AppState>,
    request: HttpRequest,
    form: web::Form<TraceForm>,
) -> HttpResponse {
    let state = state.into_inner();
    let form = form.into_inner();
    let session = match posted_as(&state, &request, OFFICIAL, &form.csrf).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let mut errors = FieldErrors::default();
    let mut time = |field: &str, value: &str| {
        let time = state.clock.read_local_input(value);
        if time.is_none() {
            errors.add(
                field,
                crate::domain::FieldError::new("time_invalid", "请填写日期和时间"),
            );
        }
        time
    };
    let (from, to) = (time("from", &form.from), time("to", &form.to));
    let window = TraceWindow {
        id_number: form.id_number.trim(),
        from,
        to,
        depth: form.depth.unwrap_or(1),
    };
    let query = TraceQuery::check(&mut errors, window, state.settings.retention.days);
    let mut problems: Vec<String> = errors
        .iter()
        .map(|(field, e)| format!("{}：{}", field_label(field), e.message))
        .collect();
    if let Some(query) = query.filter(|_| problems.is_empty()) {
        match traces::create(&state, &session.staff, query).await {
            Ok(trace) => return redirect(&format!("/console/traces/{}", trace.trace_id)),
            Err(TraceError::CaseUnknown) => problems
                .push("本地区无此人记录（身份证号不属本地区，且保留期内未到访本地区场所）".into()),
            Err(e) => return unavailable("a trace", e),
        }
    }
    let mut response = render(&FormPage {
        frame: session.frame(&state, "/console/traces"),
        id_number: form.id_number,
        from: form.from,
        to: form.to,
        depth: form.depth.unwrap_or(1),
        problems,
    });
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    response
}

#[derive(Template)]
#[template(path = "console/trace.html")]
struct TracePage {
    frame: Frame,
    trace: TraceView,
}

async fn show(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<i64>,
) -> HttpResponse {
    let state = state.into_inner();
    let session = match signed_in_as(&state, &request, OFFICIAL).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    match traces::get(&state, &session.staff, id.into_inner()).await {
        Ok(trace) => render(&TracePage {
            frame: session.frame(&state, "/console/traces"),
            trace,
        }),
        Err(TraceError::NotFound) => redirect("/console/traces"),
        Err(e) => unavailable("a trace", e),
    }
}

/// The contacts as a CSV download, as the API exports them (audited).
async fn export(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<i64>,
) -> HttpResponse {
    let state = state.into_inner();
    let session = match signed_in_as(&state, &request, OFFICIAL).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let id = id.into_inner();
    match traces::export_csv(&state, &session.staff, id).await {
        Ok(csv) => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header(("cache-control", "no-store"))
            .insert_header((
                "content-disposition",
                format!("attachment; filename=\"trace-{id}.csv\""),
            ))
            .body(csv),
        Err(TraceError::NotFound) => redirect("/console/traces"),
        Err(e) => unavailable("a trace export", e),
    }
}
