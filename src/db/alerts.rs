//! Red-code alerts: raised by a red scan, for the health officials of the venue's region.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::alerts;
use super::{DbConnection, DbError};
use crate::domain::RegionCode;
use crate::pii::{Field, PiiCipher};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = alerts)]
pub struct AlertRow {
    pub id: i64,
    pub venue_id: i64,
    pub region_code: String,
    pub check_in_id: i64,
    pub person_id: i64,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    pub closed_by: Option<i64>,
    pub note: Option<String>,
}

pub fn raise(
    conn: &mut DbConnection,
    venue_id: i64,
    region_code: &str,
    check_in_id: i64,
    person_id: i64,
) -> Result<(), DbError> {
    diesel::insert_into(alerts::table)
        .values((
            alerts::venue_id.eq(venue_id),
            alerts::region_code.eq(region_code),
            alerts::check_in_id.eq(check_in_id),
            alerts::person_id.eq(person_id),
            alerts::status.eq("open"),
            alerts::created_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Alerts inside `scope`, newest first, optionally of one status.
pub fn in_region(
    conn: &mut DbConnection,
    scope: &RegionCode,
    status: Option<&str>,
) -> Result<Vec<AlertRow>, DbError> {
    let mut query = alerts::table
        .filter(alerts::region_code.like(format!("{scope}%")))
        .order(alerts::id.desc())
        .select(AlertRow::as_select())
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(alerts::status.eq(status.to_owned()));
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

/// Closes an alert; the official's note may name people, so it is sealed.
pub fn close(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    id: i64,
    staff_id: i64,
    note: &str,
) -> Result<(), DbError> {
    diesel::update(alerts::table.find(id))
        .set((
            alerts::status.eq("closed"),
            alerts::closed_at.eq(Utc::now().naive_utc()),
            alerts::closed_by.eq(staff_id),
            alerts::note.eq(cipher.seal(Field::Note, note)),
        ))
        .execute(conn)?;
    Ok(())
}
