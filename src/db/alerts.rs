//! Alerts for the health officials of a region: a red scan at one of its venues, or a referral
//! from another region's trace of the contacts found at one of its venues.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::alerts;
use super::{DbConnection, DbError};
use crate::crypto::{Field, PiiCipher};
use crate::domain::{AlertKind, AlertStatus, PageRequest, RegionCode};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = alerts)]
pub struct AlertRow {
    pub id: i64,
    pub kind: AlertKind,
    pub venue_id: i64,
    pub region_code: String,
    pub check_in_id: Option<i64>,
    pub person_id: Option<i64>,
    pub trace_id: Option<i64>,
    pub from_region_code: Option<String>,
    pub contact_count: i64,
    /// Sealed: a referral's contacts, in full.
    pub details_sealed: Option<String>,
    pub status: AlertStatus,
    pub created_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    pub closed_by: Option<i64>,
    /// Sealed: an official's note may name people.
    pub note: Option<String>,
}

/// A red person scanned in at a venue of `region_code`.
pub fn raise_red_scan(
    conn: &mut DbConnection,
    venue_id: i64,
    region_code: &str,
    check_in_id: i64,
    person_id: i64,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::insert_into(alerts::table)
        .values((
            alerts::kind.eq(AlertKind::RedScan),
            alerts::venue_id.eq(venue_id),
            alerts::region_code.eq(region_code),
            alerts::check_in_id.eq(check_in_id),
            alerts::person_id.eq(person_id),
            alerts::status.eq(AlertStatus::Open),
            alerts::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// A referral to the officials of a venue's region.
pub struct NewReferral<'a> {
    pub venue_id: i64,
    pub region_code: &'a str,
    pub trace_id: i64,
    pub from_region_code: &'a str,
    pub contact_count: i64,
    /// The contacts at the venue, as JSON.
    pub details_json: &'a str,
}

pub fn raise_referral(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    referral: &NewReferral<'_>,
    now: NaiveDateTime,
) -> Result<i64, DbError> {
    Ok(crate::per_backend!(conn, |c| diesel::insert_into(
        alerts::table
    )
    .values((
        alerts::kind.eq(AlertKind::Referral),
        alerts::venue_id.eq(referral.venue_id),
        alerts::region_code.eq(referral.region_code),
        alerts::trace_id.eq(referral.trace_id),
        alerts::from_region_code.eq(referral.from_region_code),
        alerts::contact_count.eq(referral.contact_count),
        alerts::details_sealed.eq(cipher.seal(Field::TraceResult, referral.details_json)),
        alerts::status.eq(AlertStatus::Open),
        alerts::created_at.eq(now),
    ))
    .returning(alerts::id)
    .get_result(c))?)
}

/// Alerts inside `scope`, newest first, optionally of one status; the page's rows.
pub fn in_region(
    conn: &mut DbConnection,
    scope: &RegionCode,
    status: Option<AlertStatus>,
    page: PageRequest,
) -> Result<Vec<AlertRow>, DbError> {
    let mut query = alerts::table
        .filter(alerts::region_code.like(format!("{scope}%")))
        .order(alerts::id.desc())
        .limit(page.rows())
        .select(AlertRow::as_select())
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(alerts::status.eq(status));
    }
    if let Some(before) = page.after {
        query = query.filter(alerts::id.lt(before));
    }
    Ok(query.load(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<AlertRow>, DbError> {
    Ok(alerts::table
        .find(id)
        .select(AlertRow::as_select())
        .first(conn)
        .optional()?)
}

/// Closes an alert with the official's note, sealed.
pub fn close(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    id: i64,
    staff_id: i64,
    note: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(alerts::table.find(id))
        .set((
            alerts::status.eq(AlertStatus::Closed),
            alerts::closed_at.eq(now),
            alerts::closed_by.eq(staff_id),
            alerts::note.eq(cipher.seal(Field::Note, note)),
        ))
        .execute(conn)?;
    Ok(())
}
