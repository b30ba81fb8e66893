//! Counts of check-ins, never anything per person: a venue's per hour of a local day, split by
//! colour (all its manager and staff may learn), and a region's last 24 hours for its staff's
//! dashboard.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;

use super::authorize::{self, VenueRole};
use super::venues::VenueError;
use crate::auth::{Account, Staff};
use crate::db::{check_ins, venues, DbError};
use crate::domain::{HealthColor, VenueStatus};
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

/// One hour of a region's scans.
#[derive(Debug, Default, Clone, Copy)]
pub struct RegionHour {
    /// The local hour it begins (0–23).
    pub hour: u32,
    pub green: u32,
    pub yellow: u32,
    pub red: u32,
    /// Scans without a location (or too far from the venue to count as located).
    pub unlocated: u32,
}

impl RegionHour {
    pub fn total(&self) -> u32 {
        self.green + self.yellow + self.red
    }
}

/// A region's last 24 hours, counts only: what its staff dashboard shows.
#[derive(Debug, Default)]
pub struct RegionStats {
    /// Oldest first; the last is the current hour.
    pub hours: Vec<RegionHour>,
    pub scans: u32,
    pub unlocated: u32,
    pub venues_pending: u32,
    pub venues_approved: u32,
    pub venues_rejected: u32,
    /// Venues with at least one scan in the 24 hours.
    pub venues_active: u32,
    /// The busiest venues: name and scans, busiest first.
    pub top_venues: Vec<(String, u32)>,
}

/// How many of the busiest venues the dashboard names.
const TOP_VENUES: usize = 10;

/// The staff member's region over the last 24 whole hours (this one included).
pub async fn region_last_day(state: &Arc<AppState>, staff: &Staff) -> Result<RegionStats, DbError> {
    use chrono::{Duration, DurationRound};
    let scope = staff.region.clone();
    let now = state.clock.now_naive();
    let this_hour = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    let first = this_hour - Duration::hours(23);
    state
        .read_behind(move |state, conn| {
            let mut stats = RegionStats::default();
            let mut per_venue: HashMap<i64, u32> = HashMap::new();
            for n in 0..24 {
                let from = first + Duration::hours(n);
                let mut hour = RegionHour {
                    hour: state.clock.local_hour(from),
                    ..Default::default()
                };
                for (venue_id, color, located, count) in
                    check_ins::region_counts(conn, &scope, from, from + Duration::hours(1))?
                {
                    let count = u32::try_from(count).unwrap_or(u32::MAX);
                    match color {
                        HealthColor::Green => hour.green += count,
                        HealthColor::Yellow => hour.yellow += count,
                        HealthColor::Red => hour.red += count,
                    }
                    if !located {
                        hour.unlocated += count;
                    }
                    *per_venue.entry(venue_id).or_default() += count;
                }
                stats.scans += hour.total();
                stats.unlocated += hour.unlocated;
                stats.hours.push(hour);
            }
            for (status, count) in venues::count_by_status(conn, &scope)? {
                let count = u32::try_from(count).unwrap_or(u32::MAX);
                match status {
                    VenueStatus::Pending => stats.venues_pending = count,
                    VenueStatus::Approved => stats.venues_approved = count,
                    VenueStatus::Rejected => stats.venues_rejected = count,
                }
            }
            stats.venues_active = per_venue.len() as u32;
            let mut busiest: Vec<(i64, u32)> = per_venue.into_iter().collect();
            busiest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            busiest.truncate(TOP_VENUES);
            let ids: Vec<i64> = busiest.iter().map(|(id, _)| *id).collect();
            let names: HashMap<i64, String> = venues::names(conn, &ids)?.into_iter().collect();
            stats.top_venues = busiest
                .into_iter()
                .map(|(id, count)| (names.get(&id).cloned().unwrap_or_default(), count))
                .collect();
            Ok(stats)
        })
        .await
}
