//! Follow-up tasks of the region, for registrars and health officials: who, which colour, why,
//! and a form to close each with how it was handled.

use crate::auth::FollowUpStaff;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::edge::{csrf_forms, Answer, Posted, Signed};
use super::{filters, redirect, render, Frame};
use crate::domain::{FollowUpCause, FollowUpStatus, HealthColor, PageRequest};
use crate::services::follow_ups::{self, FollowUpError, FollowUpView};
use crate::state::AppState;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/follow-ups", web::get().to(list))
        .route("/console/follow-ups/{id}/close", web::post().to(close));
}

#[derive(Template)]
#[template(path = "console/follow_ups.html")]
struct FollowUpsPage {
    frame: Frame,
    all: bool,
    notice: Option<&'static str>,
    tasks: Vec<FollowUpView>,
    /// More than the page shows: the oldest or newest 500 only.
    more: bool,
}

impl FollowUpsPage {
    fn color(task: &FollowUpView) -> (&'static str, &'static str) {
        (task.color.label(), task.color.as_str())
    }

    fn cause(task: &FollowUpView) -> &'static str {
        match (task.cause, task.color) {
            (FollowUpCause::Scan, _) => "扫码进入本地区场所",
            (FollowUpCause::ColorChange, HealthColor::Red) => "被赋红码，报驻地防控办",
            (FollowUpCause::ColorChange, _) => "被赋黄码",
        }
    }

    fn is_open(task: &FollowUpView) -> bool {
        task.status == FollowUpStatus::Open
    }
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    done: Option<String>,
}

async fn list(
    state: web::Data<AppState>,
    session: Signed<FollowUpStaff>,
    query: web::Query<ListQuery>,
) -> Answer {
    let all = query.status.as_deref() == Some("all");
    let status = (!all).then_some(FollowUpStatus::Open);
    // The newest 500; the API pages through the rest.
    let (tasks, next) = follow_ups::list(
        &state,
        &session.staff,
        status,
        PageRequest::first(PageRequest::MAX_LIMIT),
    )
    .await?;
    Ok(render(&FollowUpsPage {
        frame: session.frame(&state, "/console/follow-ups"),
        all,
        notice: (query.done.as_deref() == Some("closed")).then_some("已办结该跟进任务"),
        tasks,
        more: next.is_some(),
    }))
}

#[derive(Deserialize)]
struct CloseForm {
    csrf: String,
    outcome: String,
}

csrf_forms!(CloseForm);

async fn close(
    state: web::Data<AppState>,
    Posted { session, form, .. }: Posted<FollowUpStaff, CloseForm>,
    id: web::Path<i64>,
) -> Answer {
    // The rule of the API (blank, too long or hidden characters: nothing happens); the form's
    // `required` and `maxlength` keep a person from sending most of those.
    let Ok(outcome) = follow_ups::outcome(&form.outcome) else {
        return Ok(redirect("/console/follow-ups"));
    };
    match follow_ups::close(&state, &session.staff, id.into_inner(), outcome).await {
        Ok(()) => Ok(redirect("/console/follow-ups?done=closed")),
        Err(FollowUpError::NotFound | FollowUpError::Closed) => Ok(redirect("/console/follow-ups")),
        Err(e) => Err(e.into()),
    }
}
