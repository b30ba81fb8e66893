//! Alerts of the region: red scans at its venues, and referrals of contacts that other regions'
//! traces found here. Each is closed with a note on how it was handled. Reading them is an
//! official access, audited by the service.

use crate::auth::HealthOfficial;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::edge::{csrf_forms, Answer, Posted, Signed};
use super::{filters, redirect, render, Frame};
use crate::domain::{AlertKind, AlertStatus, PageRequest};
use crate::services::alerts::{self, AlertError, AlertView};
use crate::state::AppState;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/alerts", web::get().to(list))
        .route("/console/alerts/{id}/close", web::post().to(close));
}

#[derive(Template)]
#[template(path = "console/alerts.html")]
struct AlertsPage {
    frame: Frame,
    all: bool,
    notice: Option<&'static str>,
    alerts: Vec<AlertView>,
    /// More than the page shows: the oldest or newest 500 only.
    more: bool,
}

impl AlertsPage {
    fn is_red_scan(alert: &AlertView) -> bool {
        alert.kind == AlertKind::RedScan
    }

    fn is_open(alert: &AlertView) -> bool {
        alert.status == AlertStatus::Open
    }
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    done: Option<String>,
}

async fn list(
    state: web::Data<AppState>,
    session: Signed<HealthOfficial>,
    query: web::Query<ListQuery>,
) -> Answer {
    let all = query.status.as_deref() == Some("all");
    let status = (!all).then_some(AlertStatus::Open);
    // The newest 500; the API pages through the rest.
    let (alerts, next) = alerts::list(
        &state,
        &session.staff,
        status,
        PageRequest::first(PageRequest::MAX_LIMIT),
    )
    .await?;
    Ok(render(&AlertsPage {
        frame: session.frame(&state, "/console/alerts"),
        all,
        notice: (query.done.as_deref() == Some("closed")).then_some("已办结该预警"),
        alerts,
        more: next.is_some(),
    }))
}

#[derive(Deserialize)]
struct CloseForm {
    csrf: String,
    note: String,
}

csrf_forms!(CloseForm);

async fn close(
    state: web::Data<AppState>,
    posted: Posted<HealthOfficial, CloseForm>,
    id: web::Path<i64>,
) -> Answer {
    // The rule of the API (blank, too long or hidden characters: nothing happens); the form's
    // `required` and `maxlength` keep a person from sending most of those.
    let Ok(note) = alerts::note(&posted.form.note) else {
        return Ok(redirect("/console/alerts"));
    };
    match alerts::close(&state, &posted.staff, id.into_inner(), note).await {
        Ok(_) => Ok(redirect("/console/alerts?done=closed")),
        Err(AlertError::NotFound) => Ok(redirect("/console/alerts")),
        Err(e) => Err(e.into()),
    }
}
