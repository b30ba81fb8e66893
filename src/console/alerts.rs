//! Alerts of the region: red scans at its venues, and referrals of contacts that other regions'
//! traces found here. Each is closed with a note on how it was handled. Reading them is an
//! official access, audited by the service.

use crate::auth::HealthOfficial;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{filters, posted_as, redirect, render, signed_in_as, unavailable, Frame};
use crate::domain::{AlertKind, AlertStatus};
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
    request: HttpRequest,
    query: web::Query<ListQuery>,
) -> HttpResponse {
    let state = state.into_inner();
    let session = match signed_in_as(&state, &request, HealthOfficial::ROLES).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let all = query.status.as_deref() == Some("all");
    let status = (!all).then_some(AlertStatus::Open);
    let alerts = match alerts::list(&state, &session.staff, status).await {
        Ok(alerts) => alerts,
        Err(e) => return unavailable("alerts", e),
    };
    render(&AlertsPage {
        frame: session.frame(&state, "/console/alerts"),
        all,
        notice: (query.done.as_deref() == Some("closed")).then_some("已办结该预警"),
        alerts,
    })
}

#[derive(Deserialize)]
struct CloseForm {
    csrf: String,
    note: String,
}

async fn close(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<i64>,
    form: web::Form<CloseForm>,
) -> HttpResponse {
    let state = state.into_inner();
    let session = match posted_as(&state, &request, HealthOfficial::ROLES, &form.csrf).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    // The rule of the API (blank, too long or hidden characters: nothing happens); the form's
    // `required` and `maxlength` keep a person from sending most of those.
    let Ok(note) = alerts::note(&form.note) else {
        return redirect("/console/alerts");
    };
    match alerts::close(&state, &session.staff, id.into_inner(), note).await {
        Ok(_) => redirect("/console/alerts?done=closed"),
        Err(AlertError::NotFound) => redirect("/console/alerts"),
        Err(e) => unavailable("closing an alert", e),
    }
}
