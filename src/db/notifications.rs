//! In-app notifications: one per account and risky window, naming whose stay overlapped.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{notifications, risk_windows, venues};
use super::{DbConnection, DbError};

/// A notification to write: `account_id` is told that `person_id` stayed at the window's venue.
pub struct NewNotification {
    pub account_id: i64,
    pub person_id: i64,
    pub stay_from: NaiveDateTime,
    pub stay_to: NaiveDateTime,
}

pub fn insert_many(
    conn: &mut DbConnection,
    risk_window_id: i64,
    notifications: &[NewNotification],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let rows: Vec<_> = notifications
        .iter()
        .map(|notification| {
            (
                notifications::account_id.eq(notification.account_id),
                notifications::person_id.eq(notification.person_id),
                notifications::risk_window_id.eq(risk_window_id),
                notifications::stay_from.eq(notification.stay_from),
                notifications::stay_to.eq(notification.stay_to),
                notifications::created_at.eq(now),
            )
        })
        .collect();
    for batch in rows.chunks(500) {
        crate::per_backend!(conn, |c| diesel::insert_into(notifications::table)
            .values(batch)
            .execute(c))?;
    }
    Ok(())
}

/// One notification as its account sees it.
#[derive(Debug, Clone, Queryable)]
pub struct NotificationRow {
    pub id: i64,
    pub person_id: i64,
    pub stay_from: NaiveDateTime,
    pub stay_to: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub message: String,
    pub window_from: NaiveDateTime,
    pub window_to: NaiveDateTime,
    pub venue_name: String,
    pub venue_address: String,
}

/// The account's notifications, newest first. Never another account's.
pub fn for_account(
    conn: &mut DbConnection,
    account_id: i64,
) -> Result<Vec<NotificationRow>, DbError> {
    Ok(notifications::table
        .inner_join(risk_windows::table.inner_join(venues::table))
        .filter(notifications::account_id.eq(account_id))
        .order(notifications::id.desc())
        .select((
            notifications::id,
            notifications::person_id,
            notifications::stay_from,
            notifications::stay_to,
            notifications::created_at,
            risk_windows::message,
            risk_windows::from_at,
            risk_windows::to_at,
            venues::name,
            venues::address,
        ))
        .load(conn)?)
}
