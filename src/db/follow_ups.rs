//! Follow-up tasks of a region's street offices and communities: one open task per person and
//! region, opened by a yellow or red scan at a venue of the region or a colour change by an
//! official of it, closed with an outcome (sealed: it may name people).

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{follow_ups, venues};
use super::{DbConnection, DbError};
use crate::crypto::{Field, PiiCipher};
use crate::domain::{FollowUpCause, FollowUpStatus, HealthColor, PageRequest, RegionCode};

/// A task to open, unless the person already has an open one in the region.
#[derive(Debug, Clone)]
pub struct NewFollowUp {
    pub person_id: i64,
    pub region_code: String,
    pub color: HealthColor,
    pub cause: FollowUpCause,
    pub venue_id: Option<i64>,
    pub check_in_id: Option<i64>,
}

/// Opens the tasks of `new` whose person has no open task in that region yet; how many opened.
pub fn open(
    conn: &mut DbConnection,
    new: &[NewFollowUp],
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    let mut open_already: HashSet<(i64, String)> = HashSet::new();
    let person_ids: Vec<i64> = new.iter().map(|n| n.person_id).collect();
    for batch in person_ids.chunks(5_000) {
        let rows: Vec<(i64, String)> = follow_ups::table
            .filter(follow_ups::person_id.eq_any(batch))
            .filter(follow_ups::status.eq(FollowUpStatus::Open))
            .select((follow_ups::person_id, follow_ups::region_code))
            .load(conn)?;
        open_already.extend(rows);
    }
    let mut opened = 0;
    for task in new {
        if !open_already.insert((task.person_id, task.region_code.clone())) {
            continue;
        }
        diesel::insert_into(follow_ups::table)
            .values((
                follow_ups::person_id.eq(task.person_id),
                follow_ups::region_code.eq(&task.region_code),
                follow_ups::color.eq(task.color),
                follow_ups::cause.eq(task.cause),
                follow_ups::venue_id.eq(task.venue_id),
                follow_ups::check_in_id.eq(task.check_in_id),
                follow_ups::status.eq(FollowUpStatus::Open),
                follow_ups::created_at.eq(now),
            ))
            .execute(conn)?;
        opened += 1;
    }
    Ok(opened)
}

#[derive(Debug, Clone, Queryable)]
pub struct FollowUpRow {
    pub id: i64,
    pub person_id: i64,
    pub region_code: String,
    pub color: HealthColor,
    pub cause: FollowUpCause,
    pub venue_id: Option<i64>,
    pub venue: Option<String>,
    pub status: FollowUpStatus,
    pub created_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    pub outcome_sealed: Option<String>,
}

/// The tasks of regions inside `scope`, newest first, of one status or all; the page's rows.
pub fn in_region(
    conn: &mut DbConnection,
    scope: &RegionCode,
    status: Option<FollowUpStatus>,
    page: PageRequest,
) -> Result<Vec<FollowUpRow>, DbError> {
    let mut query = follow_ups::table
        .left_join(venues::table.on(venues::id.nullable().eq(follow_ups::venue_id)))
        .filter(follow_ups::region_code.like(format!("{scope}%")))
        .order(follow_ups::id.desc())
        .limit(page.rows())
        .select((
            follow_ups::id,
            follow_ups::person_id,
            follow_ups::region_code,
            follow_ups::color,
            follow_ups::cause,
            follow_ups::venue_id,
            venues::name.nullable(),
            follow_ups::status,
            follow_ups::created_at,
            follow_ups::closed_at,
            follow_ups::outcome_sealed,
        ))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(follow_ups::status.eq(status));
    }
    if let Some(before) = page.after {
        query = query.filter(follow_ups::id.lt(before));
    }
    Ok(query.load(conn)?)
}

/// A task's region and status.
pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<(String, FollowUpStatus)>, DbError> {
    Ok(follow_ups::table
        .find(id)
        .select((follow_ups::region_code, follow_ups::status))
        .first(conn)
        .optional()?)
}

/// Closes an open task with its outcome; `false` when it was not open any more.
pub fn close(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    id: i64,
    staff_id: i64,
    outcome: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let closed = diesel::update(
        follow_ups::table
            .filter(follow_ups::id.eq(id))
            .filter(follow_ups::status.eq(FollowUpStatus::Open)),
    )
    .set((
        follow_ups::status.eq(FollowUpStatus::Closed),
        follow_ups::closed_at.eq(now),
        follow_ups::closed_by.eq(staff_id),
        follow_ups::outcome_sealed.eq(cipher.seal(Field::Note, outcome)),
    ))
    .execute(conn)?;
    Ok(closed > 0)
}
