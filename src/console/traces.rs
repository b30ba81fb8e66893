//! Tracing a case: the form, the contacts found at the region's venues (other regions' as counts
//! and referrals), and their CSV export. The ID number travels in the form's body; the trace is
//! then addressed by its id, and every reading of it is audited.

use crate::auth::HealthOfficial;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use chrono::Duration;
use serde::Deserialize;

use super::edge::{csrf_forms, Answer, EmptyForm, Posted, Signed};
use super::health_codes::Choices;
use super::{download, filters, form_window, problems, redirect, render, DocumentField, Frame};
use crate::domain::{ChangeStatus, FieldErrors, HealthColor, HealthReason};
use crate::services::traces::{
    self, ContactsColor, TraceError, TraceQuery, TraceView, TraceWindow,
};
use crate::state::AppState;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/traces", web::get().to(form_page))
        .route("/console/traces", web::post().to(create))
        .route("/console/traces/{id}", web::get().to(show))
        .route("/console/traces/{id}/export.csv", web::get().to(export))
        .route(
            "/console/traces/{id}/color-changes",
            web::post().to(request_change),
        )
        .route(
            "/console/traces/{id}/color-changes/{change}/confirm",
            web::post().to(confirm_change),
        );
}

#[derive(Template)]
#[template(path = "console/trace_form.html")]
struct FormPage {
    frame: Frame,
    document: DocumentField,
    id_number: String,
    from: String,
    to: String,
    depth: u8,
    problems: Vec<String>,
}

async fn form_page(state: web::Data<AppState>, session: Signed<HealthOfficial>) -> Answer {
    let now = state.clock.now_naive();
    Ok(render(&FormPage {
        frame: session.frame(&state, "/console/traces"),
        document: DocumentField::new(None),
        id_number: String::new(),
        from: state.clock.local_input(now - Duration::days(14)),
        to: state.clock.local_input(now),
        depth: 1,
        problems: Vec::new(),
    }))
}

#[derive(Deserialize)]
struct TraceForm {
    csrf: String,
    id_type: Option<String>,
    id_number: String,
    from: String,
    to: String,
    depth: Option<u8>,
}

csrf_forms!(TraceForm);

fn field_label(field: &str) -> &'static str {
    match field {
        "id_type" => "证件类型",
        "id_number" => "证件号码",
        "from" => "开始时间",
        "to" => "结束时间",
        "depth" => "追踪层级",
        _ => "内容",
    }
}

async fn create(
    state: web::Data<AppState>,
    Posted { session, form, .. }: Posted<HealthOfficial, TraceForm>,
) -> Answer {
    let mut errors = FieldErrors::default();
    let (from, to) = form_window(&state, &mut errors, Some(&form.from), Some(&form.to));
    let window = TraceWindow {
        id_type: form.id_type.as_deref(),
        id_number: form.id_number.trim(),
        from,
        to,
        depth: form.depth.unwrap_or(1),
    };
    let query = TraceQuery::check(&mut errors, window, state.retained());
    let mut problems = problems(&errors, field_label);
    if let Some(query) = query.filter(|_| problems.is_empty()) {
        match traces::create(&state, &session.staff, query).await {
            Ok(trace) => return Ok(redirect(&format!("/console/traces/{}", trace.trace_id))),
            Err(TraceError::CaseUnknown) => problems.push(
                "本地区无此人记录（身份证号不属本地区、非本地区登记，且保留期内未到访本地区场所）"
                    .into(),
            ),
            Err(e) => return Err(e.into()),
        }
    }
    let mut response = render(&FormPage {
        frame: session.frame(&state, "/console/traces"),
        document: DocumentField::new(form.id_type.as_deref()),
        id_number: form.id_number,
        from: form.from,
        to: form.to,
        depth: form.depth.unwrap_or(1),
        problems,
    });
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// A colour change for the trace's contacts, as the page lists it.
struct ChangeLine {
    id: i64,
    color: &'static str,
    color_class: &'static str,
    reason: &'static str,
    level: &'static str,
    people: i64,
    requested_at: String,
    pending: bool,
    /// Asked for by the signed-in official, who cannot confirm it.
    own: bool,
}

#[derive(Template)]
#[template(path = "console/trace.html")]
struct TracePage {
    frame: Frame,
    trace: TraceView,
    choices: Choices,
    threshold: u32,
    changes: Vec<ChangeLine>,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
struct Outcome {
    done: Option<String>,
}

async fn show(
    state: web::Data<AppState>,
    session: Signed<HealthOfficial>,
    id: web::Path<i64>,
    outcome: web::Query<Outcome>,
) -> Answer {
    let id = id.into_inner();
    let trace = match traces::get(&state, &session.staff, id).await {
        Ok(trace) => trace,
        Err(TraceError::NotFound) => return Ok(redirect("/console/traces")),
        Err(e) => return Err(e.into()),
    };
    let changes = traces::color_changes(&state, &session.staff, id).await?;
    let notice = match outcome.done.as_deref() {
        Some("applied") => Some("已为接触人员赋码，即时生效"),
        Some("pending") => Some("人数超过复核门槛，已提交，待本地区另一名工作人员复核后生效"),
        Some("confirmed") => Some("已复核，赋码已生效"),
        Some("own") => Some("须由提交人以外的工作人员复核"),
        _ => None,
    };
    Ok(render(&TracePage {
        frame: session.frame(&state, "/console/traces"),
        trace,
        choices: Choices::default(),
        threshold: state.settings.trace_confirm_threshold,
        changes: changes
            .into_iter()
            .map(|c| ChangeLine {
                id: c.change.id,
                color: c.change.color.label(),
                color_class: c.change.color.as_str(),
                reason: c.change.reason_code.label(),
                level: match c.change.level {
                    Some(1) => "密切接触者",
                    Some(_) => "次密切接触者",
                    None => "全部接触人员",
                },
                people: c.change.person_count,
                requested_at: c.requested_at,
                pending: c.change.status == ChangeStatus::Pending,
                own: c.requested_by == session.staff.id,
            })
            .collect(),
        notice,
    }))
}

#[derive(Deserialize)]
struct ChangeForm {
    csrf: String,
    color: String,
    reason_code: String,
    /// `1`, `2`, or `all`.
    level: String,
}

csrf_forms!(ChangeForm);

/// A colour for the trace's contacts: applied at once, or held for a second official.
async fn request_change(
    state: web::Data<AppState>,
    Posted { session, form, .. }: Posted<HealthOfficial, ChangeForm>,
    id: web::Path<i64>,
) -> Answer {
    let id = id.into_inner();
    let back = format!("/console/traces/{id}");
    let (Ok(color), Ok(reason)) = (
        HealthColor::parse(&form.color),
        HealthReason::parse(&form.reason_code),
    ) else {
        return Ok(redirect(&back));
    };
    let level = match form.level.as_str() {
        "1" => Some(1),
        "2" => Some(2),
        _ => None,
    };
    let change = ContactsColor {
        color,
        reason,
        level,
    };
    match traces::request_color_change(&state, &session.staff, id, change).await {
        Ok(view) if view.status == ChangeStatus::Pending => {
            Ok(redirect(&format!("{back}?done=pending")))
        }
        Ok(_) => Ok(redirect(&format!("{back}?done=applied"))),
        Err(TraceError::NotFound) => Ok(redirect("/console/traces")),
        Err(e) => Err(e.into()),
    }
}

async fn confirm_change(
    state: web::Data<AppState>,
    Posted { session, .. }: Posted<HealthOfficial, EmptyForm>,
    path: web::Path<(i64, i64)>,
) -> Answer {
    let (id, change) = path.into_inner();
    let back = format!("/console/traces/{id}");
    match traces::confirm_color_change(&state, &session.staff, id, change).await {
        Ok(_) => Ok(redirect(&format!("{back}?done=confirmed"))),
        Err(TraceError::SecondOfficialRequired) => Ok(redirect(&format!("{back}?done=own"))),
        Err(TraceError::NotFound | TraceError::ChangeNotPending) => Ok(redirect(&back)),
        Err(e) => Err(e.into()),
    }
}

/// The contacts as a CSV download, as the API exports them (audited).
async fn export(
    state: web::Data<AppState>,
    session: Signed<HealthOfficial>,
    id: web::Path<i64>,
) -> Answer {
    let id = id.into_inner();
    match traces::export_csv(&state, &session.staff, id).await {
        Ok(csv) => Ok(download(
            "text/csv; charset=utf-8",
            &format!("trace-{id}.csv"),
            csv,
        )),
        Err(TraceError::NotFound) => Ok(redirect("/console/traces")),
        Err(e) => Err(e.into()),
    }
}
