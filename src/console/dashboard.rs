//! The region dashboard of reviewers and health officials: the last 24 hours of their region's
//! scans by colour, venues issued against venues in use, the share of scans without a location,
//! and the busiest venues. Counts only.

use actix_web::web;
use askama::Template;

use super::edge::{Answer, Signed};
use super::{charts, render, Frame};
use crate::auth::RegionWatcher;
use crate::services::stats;
use crate::state::AppState;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/dashboard", web::get().to(dashboard));
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    frame: Frame,
    scans: u32,
    red: u32,
    yellow: u32,
    /// Per cent, one decimal.
    unlocated_share: String,
    approved: u32,
    active: u32,
    pending: u32,
    scans_chart: String,
    unlocated_chart: String,
    venues_chart: String,
    top_chart: String,
    has_top: bool,
}

async fn dashboard(state: web::Data<AppState>, session: Signed<RegionWatcher>) -> Answer {
    let region = stats::region_last_day(&state, &session.staff).await?;
    let share = if region.scans == 0 {
        0.0
    } else {
        100.0 * f64::from(region.unlocated) / f64::from(region.scans)
    };
    Ok(render(&DashboardPage {
        frame: session.frame(&state, "/console/dashboard"),
        scans: region.scans,
        red: region.hours.iter().map(|h| h.red).sum(),
        yellow: region.hours.iter().map(|h| h.yellow).sum(),
        unlocated_share: format!("{share:.1}"),
        approved: region.venues_approved,
        active: region.venues_active,
        pending: region.venues_pending,
        scans_chart: charts::scans_by_hour(&region.hours),
        unlocated_chart: charts::unlocated_share(&region.hours),
        venues_chart: charts::venues(
            region.venues_pending,
            region.venues_approved,
            region.venues_active,
        ),
        has_top: !region.top_venues.is_empty(),
        top_chart: charts::top_venues(&region.top_venues),
    }))
}
