//! Storage for tracing: the stays of people in a time window, everyone at a venue in a time
//! range, stored trace results, and the colour changes decided on them.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::check_ins::CheckInRow;
use super::schema::{check_ins, entrances, trace_color_changes, traces, venues};
use super::{DbConnection, DbError};
use crate::crypto::{Field, PiiCipher};
use crate::domain::{ChangeStatus, HealthColor, HealthReason};

/// No stay lasts longer than a day (the longest default stay of any subtype), so a stay that
/// reaches into a window began at most this long before it.
pub const LONGEST_STAY: Duration = Duration::hours(24);

/// Stays of these people that overlap `[from, to)`.
pub fn stays_of(
    conn: &mut DbConnection,
    person_ids: &[i64],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<CheckInRow>, DbError> {
    let mut rows = Vec::new();
    // Bounded batches keep the IN list within every backend's parameter limit.
    for batch in person_ids.chunks(5_000) {
        rows.extend(
            check_ins::table
                .filter(check_ins::person_id.eq_any(batch))
                .filter(check_ins::scanned_at.ge(from - LONGEST_STAY))
                .filter(check_ins::scanned_at.lt(to))
                .filter(check_ins::ends_at.gt(from))
                .order(check_ins::scanned_at.asc())
                .select(CheckInRow::as_select())
                .load(conn)?,
        );
    }
    Ok(rows)
}

/// Where and when a trace reads check-ins that may overlap its stays: those at `venue_id` that
/// entered in `[from, to]` and ended at or after `ended_after` (a check-in that ended before
/// every stay began overlaps none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub venue_id: i64,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub ended_after: NaiveDateTime,
}

/// Every check-in in one of `windows`, bounds included; windows of one venue must not overlap
/// (or rows come twice). PostgreSQL reads them all in one statement, SQLite one window at a time;
/// there `(venue_id, scanned_at, ends_at)` is one index, so a check-in that ended too early is
/// passed over in the index without its row being read (most are: a window looks back a whole
/// day for stays that began before it, and few of those lasted into it).
pub fn at_venues(conn: &mut DbConnection, windows: &[Window]) -> Result<Vec<CheckInRow>, DbError> {
    if let DbConnection::Postgresql(pg) = conn {
        let windows: Vec<_> = windows.iter().map(|w| (w.venue_id, w.from, w.to)).collect();
        return super::check_ins_pg::near::<super::check_ins_pg::ByVenue>(pg, &windows);
    }
    let mut rows = Vec::new();
    for window in windows {
        rows.extend(
            check_ins::table
                .filter(check_ins::venue_id.eq(window.venue_id))
                .filter(check_ins::scanned_at.ge(window.from))
                .filter(check_ins::scanned_at.le(window.to))
                .filter(check_ins::ends_at.ge(window.ended_after))
                .select(CheckInRow::as_select())
                .load(conn)?,
        );
    }
    Ok(rows)
}

/// Venue (name, address) and entrance names by id.
/// A venue's name, address and region code.
#[derive(Debug, Clone, Default)]
pub struct Place {
    pub name: String,
    pub address: String,
    pub region_code: String,
}

pub type PlaceNames = (HashMap<i64, Place>, HashMap<i64, String>);
/// Venue and entrance names by id.
pub fn place_names(
    conn: &mut DbConnection,
    venue_ids: &[i64],
    entrance_ids: &[i64],
) -> Result<PlaceNames, DbError> {
    let venues: HashMap<i64, Place> = venues::table
        .filter(venues::id.eq_any(venue_ids))
        .select((
            venues::id,
            venues::name,
            venues::address,
            venues::region_code,
        ))
        .load::<(i64, String, String, String)>(conn)?
        .into_iter()
        .map(|(id, name, address, region_code)| {
            (
                id,
                Place {
                    name,
                    address,
                    region_code,
                },
            )
        })
        .collect();
    let entrances: HashMap<i64, String> = entrances::table
        .filter(entrances::id.eq_any(entrance_ids))
        .select((entrances::id, entrances::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    Ok((venues, entrances))
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = traces)]
pub struct TraceRow {
    pub id: i64,
    pub created_by: i64,
    pub region_code: String,
    pub case_person_id: i64,
    pub from_at: NaiveDateTime,
    pub to_at: NaiveDateTime,
    pub depth: i32,
    pub contact_count: i64,
    pub result_sealed: String,
    pub created_at: NaiveDateTime,
}

pub struct NewTrace<'a> {
    pub created_by: i64,
    pub region_code: &'a str,
    pub case_person_id: i64,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub depth: i32,
    pub contact_count: i64,
    pub result_json: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn insert(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    trace: &NewTrace<'_>,
) -> Result<TraceRow, DbError> {
    let id: i64 = crate::per_backend!(conn, |c| diesel::insert_into(traces::table)
        .values((
            traces::created_by.eq(trace.created_by),
            traces::region_code.eq(trace.region_code),
            traces::case_person_id.eq(trace.case_person_id),
            traces::from_at.eq(trace.from),
            traces::to_at.eq(trace.to),
            traces::depth.eq(trace.depth),
            traces::contact_count.eq(trace.contact_count),
            traces::result_sealed.eq(cipher.seal(Field::TraceResult, trace.result_json)),
            traces::created_at.eq(trace.created_at),
        ))
        .returning(traces::id)
        .get_result(c))?;
    find(conn, id)?.ok_or_else(|| DbError::Other("a new trace vanished".into()))
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<TraceRow>, DbError> {
    Ok(traces::table
        .find(id)
        .select(TraceRow::as_select())
        .first(conn)
        .optional()?)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = trace_color_changes)]
pub struct ColorChangeRow {
    pub id: i64,
    pub trace_id: i64,
    pub level: Option<i32>,
    pub color: HealthColor,
    pub reason_code: HealthReason,
    pub person_count: i64,
    pub status: ChangeStatus,
    pub requested_by: i64,
    pub requested_at: NaiveDateTime,
    pub confirmed_by: Option<i64>,
    pub applied_at: Option<NaiveDateTime>,
}

pub struct NewColorChange {
    pub trace_id: i64,
    pub level: Option<i32>,
    pub color: HealthColor,
    pub reason: HealthReason,
    pub person_count: i64,
    pub applied: bool,
    pub requested_by: i64,
}

pub fn insert_color_change(
    conn: &mut DbConnection,
    change: &NewColorChange,
    now: NaiveDateTime,
) -> Result<ColorChangeRow, DbError> {
    let id: i64 = crate::per_backend!(conn, |c| diesel::insert_into(trace_color_changes::table)
        .values((
            trace_color_changes::trace_id.eq(change.trace_id),
            trace_color_changes::level.eq(change.level),
            trace_color_changes::color.eq(change.color),
            trace_color_changes::reason_code.eq(change.reason),
            trace_color_changes::person_count.eq(change.person_count),
            trace_color_changes::status.eq(if change.applied {
                ChangeStatus::Applied
            } else {
                ChangeStatus::Pending
            }),
            trace_color_changes::requested_by.eq(change.requested_by),
            trace_color_changes::requested_at.eq(now),
            trace_color_changes::applied_at.eq(change.applied.then_some(now)),
        ))
        .returning(trace_color_changes::id)
        .get_result(c))?;
    find_color_change(conn, id)?
        .ok_or_else(|| DbError::Other("a new colour change vanished".into()))
}

pub fn find_color_change(
    conn: &mut DbConnection,
    id: i64,
) -> Result<Option<ColorChangeRow>, DbError> {
    Ok(trace_color_changes::table
        .find(id)
        .select(ColorChangeRow::as_select())
        .first(conn)
        .optional()?)
}

/// Marks a pending change applied; `false` when it was no longer pending.
pub fn mark_applied(
    conn: &mut DbConnection,
    id: i64,
    confirmed_by: i64,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let changed = diesel::update(
        trace_color_changes::table
            .filter(trace_color_changes::id.eq(id))
            .filter(trace_color_changes::status.eq(ChangeStatus::Pending)),
    )
    .set((
        trace_color_changes::status.eq(ChangeStatus::Applied),
        trace_color_changes::confirmed_by.eq(confirmed_by),
        trace_color_changes::applied_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed > 0)
}

/// The colour changes requested for a trace, oldest first.
pub fn color_changes_of(
    conn: &mut DbConnection,
    trace_id: i64,
) -> Result<Vec<ColorChangeRow>, DbError> {
    Ok(trace_color_changes::table
        .filter(trace_color_changes::trace_id.eq(trace_id))
        .order(trace_color_changes::id.asc())
        .select(ColorChangeRow::as_select())
        .load(conn)?)
}
