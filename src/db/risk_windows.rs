//! Risky venue windows declared by health officials.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::risk_windows;
use super::{DbConnection, DbError};

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
