//! Check-ins: one row per person per entry, grouped when a resident checks in companions with
//! them. A stay runs from `scanned_at` to `ends_at` (checkout, or the subtype's default stay).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{check_ins, entrances, venues};
use super::{DbConnection, DbError};
use crate::domain::{CheckInRole, CheckInSource, HealthColor, Verdict};

#[derive(Debug, Clone, Queryable, Selectable)]
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
}

#[derive(Debug, Clone)]
pub struct NewCheckIn {
    pub venue_id: i64,
    pub entrance_id: i64,
    pub person_id: i64,
    pub account_id: Option<i64>,
    pub role: CheckInRole,
    pub source: CheckInSource,
    pub color: HealthColor,
    pub verdict: Verdict,
    pub scanned_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub offline: bool,
    pub located: bool,
    pub distance_m: Option<i32>,
}

/// Inserts one entry's rows; the first row's id becomes the group of all. Returns the ids in
/// order. Call inside a transaction.
pub fn insert_group(conn: &mut DbConnection, rows: &[NewCheckIn]) -> Result<Vec<i64>, DbError> {
    let mut ids = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = crate::per_backend!(conn, |c| diesel::insert_into(check_ins::table)
            .values((
                check_ins::venue_id.eq(row.venue_id),
                check_ins::entrance_id.eq(row.entrance_id),
                check_ins::person_id.eq(row.person_id),
                check_ins::account_id.eq(row.account_id),
                check_ins::group_id.eq(ids.first().copied()),
                check_ins::role.eq(row.role),
                check_ins::source.eq(row.source),
                check_ins::health_color.eq(row.color),
                check_ins::verdict.eq(row.verdict),
                check_ins::scanned_at.eq(row.scanned_at),
                check_ins::recorded_at.eq(row.recorded_at),
                check_ins::ends_at.eq(row.ends_at),
                check_ins::offline.eq(row.offline),
                check_ins::located.eq(row.located),
                check_ins::distance_m.eq(row.distance_m),
            ))
            .returning(check_ins::id)
            .get_result(c))?;
        ids.push(id);
    }
    if let Some(first) = ids.first() {
        diesel::update(check_ins::table.find(*first))
            .set(check_ins::group_id.eq(*first))
            .execute(conn)?;
    }
    Ok(ids)
}

/// The rows of one entry, in the order they were recorded.
pub fn group(conn: &mut DbConnection, group_id: i64) -> Result<Vec<CheckInRow>, DbError> {
    Ok(check_ins::table
        .filter(check_ins::group_id.eq(group_id))
        .order(check_ins::id.asc())
        .select(CheckInRow::as_select())
        .load(conn)?)
}

/// The person's latest check-in at this entrance whose entry time lies within `window` of `at`.
pub fn near_in_time(
    conn: &mut DbConnection,
    person_id: i64,
    entrance_id: i64,
    at: NaiveDateTime,
    window: chrono::Duration,
) -> Result<Option<CheckInRow>, DbError> {
    Ok(check_ins::table
        .filter(check_ins::person_id.eq(person_id))
        .filter(check_ins::entrance_id.eq(entrance_id))
        .filter(check_ins::scanned_at.ge(at - window))
        .filter(check_ins::scanned_at.le(at + window))
        .order(check_ins::id.desc())
        .select(CheckInRow::as_select())
        .first(conn)
        .optional()?)
}

/// Scans the account made itself since `since` (companions and staff registrations not counted).
pub fn scans_by_account_since(
    conn: &mut DbConnection,
    account_id: i64,
    since: NaiveDateTime,
) -> Result<i64, DbError> {
    Ok(check_ins::table
        .filter(check_ins::account_id.eq(account_id))
        .filter(check_ins::role.eq(CheckInRole::Own))
        .filter(check_ins::source.eq(CheckInSource::Scan))
        .filter(check_ins::recorded_at.ge(since))
        .count()
        .get_result(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<CheckInRow>, DbError> {
    Ok(check_ins::table
        .find(id)
        .select(CheckInRow::as_select())
        .first(conn)
        .optional()?)
}

/// Ends at `now` the stays among `ids` that are still running; returns the rows afterwards.
pub fn end_stays(
    conn: &mut DbConnection,
    ids: &[i64],
    now: NaiveDateTime,
) -> Result<Vec<CheckInRow>, DbError> {
    diesel::update(
        check_ins::table
            .filter(check_ins::id.eq_any(ids))
            .filter(check_ins::left_at.is_null())
            .filter(check_ins::ends_at.gt(now)),
    )
    .set((check_ins::left_at.eq(now), check_ins::ends_at.eq(now)))
    .execute(conn)?;
    Ok(check_ins::table
        .filter(check_ins::id.eq_any(ids))
        .order(check_ins::id.asc())
        .select(CheckInRow::as_select())
        .load(conn)?)
}

/// One line of an itinerary.
#[derive(Debug, Clone, Queryable)]
pub struct ItineraryRow {
    pub check_in_id: i64,
    pub person_id: i64,
    pub scanned_at: NaiveDateTime,
    pub left_at: Option<NaiveDateTime>,
    pub ends_at: NaiveDateTime,
    pub venue_name: String,
    pub entrance_name: String,
    pub region_code: String,
    pub address: String,
}

/// Where these people checked in since `since`, newest first.
pub fn itinerary(
    conn: &mut DbConnection,
    person_ids: &[i64],
    since: NaiveDateTime,
) -> Result<Vec<ItineraryRow>, DbError> {
    Ok(check_ins::table
        .inner_join(venues::table)
        .inner_join(entrances::table)
        .filter(check_ins::person_id.eq_any(person_ids))
        .filter(check_ins::scanned_at.ge(since))
        .order((check_ins::scanned_at.desc(), check_ins::id.desc()))
        .select((
            check_ins::id,
            check_ins::person_id,
            check_ins::scanned_at,
            check_ins::left_at,
            check_ins::ends_at,
            venues::name,
            entrances::name,
            venues::region_code,
            venues::address,
        ))
        .load(conn)?)
}

/// Entry times and colours at a venue in `[from, to)`: the raw material of its counts.
pub fn times_and_colors(
    conn: &mut DbConnection,
    venue_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<(NaiveDateTime, HealthColor)>, DbError> {
    Ok(check_ins::table
        .filter(check_ins::venue_id.eq(venue_id))
        .filter(check_ins::scanned_at.ge(from))
        .filter(check_ins::scanned_at.lt(to))
        .select((check_ins::scanned_at, check_ins::health_color))
        .load(conn)?)
}

/// One stay at a venue: whose, who recorded it, and when.
#[derive(Debug, Clone, Queryable)]
pub struct StayRow {
    pub person_id: i64,
    pub account_id: Option<i64>,
    pub source: CheckInSource,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

/// Stays at a venue that overlap `[from, to)`. No stay lasts longer than `longest`.
pub fn stays_overlapping(
    conn: &mut DbConnection,
    venue_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
    longest: chrono::Duration,
) -> Result<Vec<StayRow>, DbError> {
    Ok(check_ins::table
        .filter(check_ins::venue_id.eq(venue_id))
        .filter(check_ins::scanned_at.lt(to))
        .filter(check_ins::ends_at.gt(from))
        .filter(check_ins::scanned_at.ge(from - longest))
        .select((
            check_ins::person_id,
            check_ins::account_id,
            check_ins::source,
            check_ins::scanned_at,
            check_ins::ends_at,
        ))
        .load(conn)?)
}
