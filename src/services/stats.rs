//! A venue's counts: check-ins per hour of a local day, split by colour. Counts only, nothing per
//! person — all a venue's manager and staff may learn.

use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;

use super::authorize::{self, VenueRole};
use super::venues::VenueError;
use crate::auth::Account;
use crate::db::check_ins;
use crate::domain::HealthColor;
use crate::state::AppState;

#[derive(Debug, Serialize, Default, Clone, Copy)]
pub struct HourCount {
    pub hour: u32,
    pub green: u32,
    pub yellow: u32,
    pub red: u32,
}

#[derive(Debug, Serialize)]
pub struct VenueStats {
    pub venue_id: i64,
    pub date: String,
    pub total: u32,
    pub hours: Vec<HourCount>,
}

/// Counts of a local day, today when `date` is `None`.
pub async fn of_day(
    state: &Arc<AppState>,
    account: &Account,
    venue_id: i64,
    date: Option<NaiveDate>,
) -> Result<VenueStats, VenueError> {
    let date = date.unwrap_or_else(|| state.clock.today());
    let (start, end) = state.clock.day_bounds(date);
    let account_id = account.id;
    let rows = state
        .read(move |_, conn| {
            authorize::venue(conn, venue_id, account_id, VenueRole::VenueStaff)?;
            Ok::<_, VenueError>(check_ins::times_and_colors(conn, venue_id, start, end)?)
        })
        .await?;
    let mut hours: Vec<HourCount> = (0..24)
        .map(|hour| HourCount {
            hour,
            ..Default::default()
        })
        .collect();
    for (scanned_at, color) in &rows {
        let slot = &mut hours[state.clock.local_hour(*scanned_at) as usize];
        match color {
            HealthColor::Green => slot.green += 1,
            HealthColor::Yellow => slot.yellow += 1,
            HealthColor::Red => slot.red += 1,
        }
    }
    Ok(VenueStats {
        venue_id,
        date: date.format("%Y-%m-%d").to_string(),
        total: rows.len() as u32,
        hours,
    })
}
