//! A resident's inbox: notifications of a risky window that a stay overlapped, of an identity
//! released by someone's verified claim, of being added as someone's companion.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{notifications, risk_windows, venues};
use super::{DbConnection, DbError};
use crate::domain::NotificationKind;

/// A risky-window notification to write: `account_id` is told that `person_id` stayed at the
/// window's venue.
pub struct NewRiskNotification {
    pub account_id: i64,
    pub person_id: i64,
    pub stay_from: NaiveDateTime,
    pub stay_to: NaiveDateTime,
}

pub fn insert_risk_windows(
    conn: &mut DbConnection,
    risk_window_id: i64,
    rows: &[NewRiskNotification],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let rows: Vec<_> = rows
        .iter()
        .map(|row| {
            (
                notifications::kind.eq(NotificationKind::RiskWindow),
                notifications::account_id.eq(row.account_id),
                notifications::person_id.eq(row.person_id),
                notifications::risk_window_id.eq(risk_window_id),
                notifications::stay_from.eq(row.stay_from),
                notifications::stay_to.eq(row.stay_to),
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

/// A notification that is a message only.
pub fn insert_message(
    conn: &mut DbConnection,
    account_id: i64,
    kind: NotificationKind,
    message: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::insert_into(notifications::table)
        .values((
            notifications::kind.eq(kind),
            notifications::account_id.eq(account_id),
            notifications::message.eq(message),
            notifications::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// One notification as its account sees it; the window and venue only for a risky window.
#[derive(Debug, Clone, Queryable)]
pub struct NotificationRow {
    pub id: i64,
    pub kind: NotificationKind,
    pub person_id: Option<i64>,
    pub stay_from: Option<NaiveDateTime>,
    pub stay_to: Option<NaiveDateTime>,
    pub message: Option<String>,
    pub created_at: NaiveDateTime,
    pub window_message: Option<String>,
    pub window_from: Option<NaiveDateTime>,
    pub window_to: Option<NaiveDateTime>,
    pub venue_name: Option<String>,
    pub venue_address: Option<String>,
}

/// The account's notifications, newest first. Never another account's.
pub fn for_account(
    conn: &mut DbConnection,
    account_id: i64,
) -> Result<Vec<NotificationRow>, DbError> {
    Ok(notifications::table
        .left_join(risk_windows::table.inner_join(venues::table))
        .filter(notifications::account_id.eq(account_id))
        .order(notifications::id.desc())
        .select((
            notifications::id,
            notifications::kind,
            notifications::person_id,
            notifications::stay_from,
            notifications::stay_to,
            notifications::message,
            notifications::created_at,
            risk_windows::message.nullable(),
            risk_windows::from_at.nullable(),
            risk_windows::to_at.nullable(),
            venues::name.nullable(),
            venues::address.nullable(),
        ))
        .load(conn)?)
}
