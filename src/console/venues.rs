//! Venue search and detail for reviewers and health officials, inside their region: status,
//! address and map point, the masked manager, entrances and their codes.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{filters, redirect, render, signed_in_as, unavailable, Frame};
use crate::domain::{StaffRole, VenueStatus};
use crate::services::venues::{self, VenueError, VenueView, SEARCH_LIMIT};
use crate::state::AppState;

const STAFF: &[StaffRole] = &[StaffRole::Reviewer, StaffRole::HealthOfficial];

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/venues", web::get().to(search))
        .route("/console/venues/{id}", web::get().to(detail));
}

/// A status as staff read it.
pub fn status_label(status: VenueStatus) -> &'static str {
    match status {
        VenueStatus::Pending => "待审核",
        VenueStatus::Approved => "已发码",
        VenueStatus::Rejected => "已驳回",
    }
}

#[derive(Template)]
#[template(path = "console/venues.html")]
struct SearchPage {
    frame: Frame,
    q: String,
    status: String,
    statuses: Vec<(&'static str, &'static str)>,
    venues: Vec<VenueView>,
    limit: i64,
}

impl SearchPage {
    fn label(venue: &VenueView) -> &'static str {
        status_label(venue.status)
    }
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
    status: Option<String>,
}

async fn search(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<SearchQuery>,
) -> HttpResponse {
    let state = state.into_inner();
    let session = match signed_in_as(&state, &request, STAFF).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let query = query.into_inner();
    let q: String = query
        .q
        .unwrap_or_default()
        .trim()
        .chars()
        .take(50)
        .collect();
    let status = query.status.as_deref().and_then(VenueStatus::from_name);
    let found = match venues::search_in_region(&state, &session.staff, q.clone(), status).await {
        Ok(found) => found,
        Err(e) => return unavailable("a venue search", e),
    };
    render(&SearchPage {
        frame: session.frame(&state, "/console/venues"),
        q,
        status: status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        statuses: VenueStatus::ALL
            .iter()
            .map(|s| (s.as_str(), status_label(*s)))
            .collect(),
        venues: found,
        limit: SEARCH_LIMIT,
    })
}

#[derive(Template)]
#[template(path = "console/venue.html")]
struct DetailPage {
    frame: Frame,
    venue: VenueView,
    status: &'static str,
    official: bool,
}

async fn detail(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<i64>,
) -> HttpResponse {
    let state = state.into_inner();
    let session = match signed_in_as(&state, &request, STAFF).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    match venues::get_in_region(&state, &session.staff, id.into_inner()).await {
        Ok(venue) => render(&DetailPage {
            frame: session.frame(&state, "/console/venues"),
            status: status_label(venue.status),
            official: session.staff.role == StaffRole::HealthOfficial,
            venue,
        }),
        Err(VenueError::NotFound) => redirect("/console/venues"),
        Err(e) => unavailable("a venue", e),
    }
}
