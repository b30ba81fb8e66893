//! Risky venue windows declared by health officials.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{risk_windows, venues};
use super::{DbConnection, DbError};
use crate::domain::RegionCode;

pub struct NewRiskWindow<'a> {
    pub venue_id: i64,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub message: &'a str,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, window: &NewRiskWindow<'_>) -> Result<i64, DbError> {
    Ok(crate::per_backend!(conn, |c| diesel::insert_into(
        risk_windows::table
    )
    .values((
        risk_windows::venue_id.eq(window.venue_id),
        risk_windows::from_at.eq(window.from),
        risk_windows::to_at.eq(window.to),
        risk_windows::message.eq(window.message),
        risk_windows::created_by.eq(window.created_by),
        risk_windows::created_at.eq(window.created_at),
    ))
    .returning(risk_windows::id)
    .get_result(c))?)
}

/// A stored window with its venue's name.
#[derive(Debug, Queryable)]
pub struct WindowRow {
    pub id: i64,
    pub venue_id: i64,
    pub venue: String,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub message: String,
    pub created_at: NaiveDateTime,
}

/// The newest `limit` windows at venues of `scope`.
pub fn recent_in(
    conn: &mut DbConnection,
    scope: &RegionCode,
    limit: i64,
) -> Result<Vec<WindowRow>, DbError> {
    Ok(risk_windows::table
        .inner_join(venues::table.on(venues::id.eq(risk_windows::venue_id)))
        .filter(venues::region_code.like(format!("{scope}%")))
        .order(risk_windows::id.desc())
        .limit(limit)
        .select((
            risk_windows::id,
            risk_windows::venue_id,
            venues::name,
            risk_windows::from_at,
            risk_windows::to_at,
            risk_windows::message,
            risk_windows::created_at,
        ))
        .load(conn)?)
}
