//! What the scan needs to know about an entrance and its venue, so that a scan needs no venue
//! query at all.

use crate::domain::{MapPoint, TransportKind, VenueStatus};

#[derive(Debug, Clone)]
pub struct EntranceSnapshot {
    pub entrance_id: i64,
    pub entrance_name: String,
    pub code_version: i32,
    pub open: bool,
    pub venue_id: i64,
    pub venue_name: String,
    pub venue_status: VenueStatus,
    /// Suspended by a reviewer or registrar: no check-ins until resumed.
    pub suspended: bool,
    /// Province to street, for the door page.
    pub full_address: String,
    /// `生活购物场所 · 超市`.
    pub category_label: String,
    pub region_code: String,
    pub default_stay_minutes: u32,
    pub transport: Option<TransportKind>,
    pub location: Option<MapPoint>,
    /// A negative nucleic-acid result sampled within this many hours is required to pass.
    pub test_required_hours: Option<u32>,
}
