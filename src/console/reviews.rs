//! The reviewer's queue: a region's pending applications, each approved or rejected with a reason.

use crate::auth::Reviewer;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::edge::{csrf_forms, Answer, Posted, Signed};
use super::{redirect, render, Frame};
use crate::domain::PageRequest;
use crate::domain::VenueStatus;
use crate::services;
use crate::services::reviews::Decision;
use crate::services::venues::VenueView;
use crate::state::AppState;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/reviews", web::get().to(queue))
        .route("/console/reviews/{id}", web::post().to(decide));
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
    frame: Frame,
    notice: Option<String>,
    venues: Vec<QueueRow>,
    /// More than the page shows: the oldest or newest 500 only.
    more: bool,
}

#[derive(Deserialize)]
struct Notice {
    done: Option<String>,
}

async fn queue(
    state: web::Data<AppState>,
    session: Signed<Reviewer>,
    notice: web::Query<Notice>,
) -> Answer {
    let pending = Some(VenueStatus::Pending);
    // The oldest 500 waiting; the API pages through the rest.
    let first = PageRequest::first(PageRequest::MAX_LIMIT);
    let (venues, next) = services::reviews::list(&state, &session.staff, pending, first).await?;
    let notice = match notice.done.as_deref() {
        Some("approved") => Some("已通过该申请，场所码已生效".to_owned()),
        Some("rejected") => Some("已驳回该申请".to_owned()),
        _ => None,
    };
    Ok(render(&ReviewsPage {
        frame: session.frame(&state, "/console/reviews"),
        notice,
        venues: venues.into_iter().map(QueueRow::from).collect(),
        more: next.is_some(),
    }))
}

#[derive(Deserialize)]
struct DecisionForm {
    csrf: String,
    decision: String,
    reason: Option<String>,
}

csrf_forms!(DecisionForm);

async fn decide(
    state: web::Data<AppState>,
    Posted { session, form, .. }: Posted<Reviewer, DecisionForm>,
    id: web::Path<i64>,
) -> Answer {
    let (decision, done) = match (form.decision.as_str(), form.reason.as_deref()) {
        ("approve", _) => (Decision::Approve, "approved"),
        ("reject", Some(reason)) if !reason.trim().is_empty() => (
            Decision::Reject {
                reason: reason.trim().chars().take(200).collect(),
            },
            "rejected",
        ),
        _ => return Ok(redirect("/console/reviews")),
    };
    match services::reviews::decide(&state, &session.staff, id.into_inner(), decision).await {
        Ok(_) => Ok(redirect(&format!("/console/reviews?done={done}"))),
        Err(e) => {
            tracing::debug!(error = %e, "a console decision was refused");
            Ok(redirect("/console/reviews"))
        }
    }
}
