//! A check-in as stored: one row per person entering.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::check_ins;
use crate::domain::{CheckInRole, CheckInSource, HealthColor, Verdict};

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = check_ins)]
pub struct CheckInRow {
    pub id: i64,
    pub venue_id: i64,
    pub entrance_id: i64,
    pub person_id: i64,
    pub account_id: Option<i64>,
    pub group_id: Option<i64>,
    pub role: CheckInRole,
    pub source: CheckInSource,
    pub health_color: HealthColor,
    pub verdict: Verdict,
    pub scanned_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub left_at: Option<NaiveDateTime>,
    pub offline: bool,
    pub located: bool,
    pub distance_m: Option<i32>,
    /// The name the recording account typed (a companion's, a manual check-in's), sealed.
    pub typed_name_sealed: Option<String>,
    /// The phone venue staff typed at a manual check-in, sealed.
    pub typed_phone_sealed: Option<String>,
    /// The paper code scanned at the door, if the entry came from one.
    pub paper_code_id: Option<i64>,
    /// The temperature taken at a manual check-in, in tenths of a degree Celsius.
    pub temperature_dc: Option<i16>,
}
