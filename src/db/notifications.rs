//! A resident's inbox: notifications of a risky window that a stay overlapped, of an identity
//! released by someone's verified claim, of being added as someone's companion, of a review
//! result, of a colour change. A notification that a platform message should also carry is
//! queued with its template values (`delivery = 'pending'`) for the sender.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{accounts, notifications, risk_windows, venues};
use super::{DbConnection, DbError};
use crate::domain::{Delivery, NotificationKind, PageRequest, Platform};

/// A risky-window notification to write: `account_id` is told that `person_id` stayed at the
/// window's venue.
pub struct NewRiskNotification {
    pub account_id: i64,
    pub person_id: i64,
    pub stay_from: NaiveDateTime,
    pub stay_to: NaiveDateTime,
    /// The platform message's values; `None`: the inbox only.
    pub outgoing: Option<Vec<String>>,
}

/// The delivery columns of a new notification: queued now when it has values to send.
fn queued(
    outgoing: Option<&[String]>,
    now: NaiveDateTime,
) -> (Delivery, Option<String>, Option<NaiveDateTime>) {
    match outgoing {
        Some(values) => (
            Delivery::Pending,
            Some(serde_json::to_string(values).expect("strings serialise")),
            Some(now),
        ),
        None => (Delivery::InboxOnly, None, None),
    }
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
            let (delivery, values, after) = queued(row.outgoing.as_deref(), now);
            (
                notifications::kind.eq(NotificationKind::RiskWindow),
                notifications::account_id.eq(row.account_id),
                notifications::person_id.eq(row.person_id),
                notifications::risk_window_id.eq(risk_window_id),
                notifications::stay_from.eq(row.stay_from),
                notifications::stay_to.eq(row.stay_to),
                notifications::created_at.eq(now),
                notifications::delivery.eq(delivery),
                notifications::delivery_values.eq(values),
                notifications::deliver_after.eq(after),
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

/// A notification that is a message, about one of the account's people or not, and the
/// platform message's values when one is to carry it.
pub struct NewMessage<'a> {
    pub account_id: i64,
    pub kind: NotificationKind,
    pub person_id: Option<i64>,
    pub message: &'a str,
    pub outgoing: Option<&'a [String]>,
}

pub fn insert_messages(
    conn: &mut DbConnection,
    messages: &[NewMessage<'_>],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let rows: Vec<_> = messages
        .iter()
        .map(|m| {
            let (delivery, values, after) = queued(m.outgoing, now);
            (
                notifications::kind.eq(m.kind),
                notifications::account_id.eq(m.account_id),
                notifications::person_id.eq(m.person_id),
                notifications::message.eq(m.message),
                notifications::created_at.eq(now),
                notifications::delivery.eq(delivery),
                notifications::delivery_values.eq(values),
                notifications::deliver_after.eq(after),
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

/// One message about no one in particular.
pub fn insert_message(
    conn: &mut DbConnection,
    account_id: i64,
    kind: NotificationKind,
    message: &str,
    outgoing: Option<&[String]>,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    insert_messages(
        conn,
        &[NewMessage {
            account_id,
            kind,
            person_id: None,
            message,
            outgoing,
        }],
        now,
    )
}

/// A notification the sender may take: due, with its recipient.
#[derive(Debug, Clone, Queryable)]
pub struct DueDelivery {
    pub id: i64,
    pub kind: NotificationKind,
    pub values: Option<String>,
    pub attempts: i32,
    pub platform: Platform,
    pub subject: String,
}

/// Up to `limit` pending notifications due at `now`, the longest waiting first.
pub fn due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> Result<Vec<DueDelivery>, DbError> {
    Ok(notifications::table
        .inner_join(accounts::table)
        // A cancelled account has no one at the platform to send to.
        .filter(accounts::deleted_at.is_null())
        .filter(notifications::delivery.eq(Delivery::Pending))
        .filter(notifications::deliver_after.le(now))
        .order(notifications::deliver_after)
        .limit(limit)
        .select((
            notifications::id,
            notifications::kind,
            notifications::delivery_values,
            notifications::delivery_attempts,
            accounts::platform,
            accounts::subject,
        ))
        .load(conn)?)
}

/// Takes a due notification for one try: it is not due again before `lease_until` (another
/// node's sender passes it by), and the try is counted. False when someone took it first.
pub fn claim(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> Result<bool, DbError> {
    let taken = diesel::update(
        notifications::table
            .filter(notifications::id.eq(id))
            .filter(notifications::delivery.eq(Delivery::Pending))
            .filter(notifications::deliver_after.le(now)),
    )
    .set((
        notifications::deliver_after.eq(lease_until),
        notifications::delivery_attempts.eq(notifications::delivery_attempts + 1),
    ))
    .execute(conn)?;
    Ok(taken == 1)
}

/// What became of a try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TryOutcome {
    /// Settled: sent, not subscribed, failed or skipped, with the reason when it did not go.
    Settled(Delivery, Option<String>),
    /// Pending again, due at this time, with the reason of this failure.
    Retry(NaiveDateTime, String),
}

pub fn record(
    conn: &mut DbConnection,
    id: i64,
    outcome: &TryOutcome,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let target = notifications::table.filter(notifications::id.eq(id));
    match outcome {
        TryOutcome::Settled(delivery, error) => diesel::update(target)
            .set((
                notifications::delivery.eq(delivery),
                notifications::delivery_error.eq(error),
                notifications::deliver_after.eq(None::<NaiveDateTime>),
                notifications::delivered_at.eq((*delivery == Delivery::Sent).then_some(now)),
            ))
            .execute(conn)?,
        TryOutcome::Retry(next, error) => diesel::update(target)
            .set((
                notifications::deliver_after.eq(next),
                notifications::delivery_error.eq(error),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// How many notifications stand at each delivery state (for `/metrics`).
pub fn delivery_counts(conn: &mut DbConnection) -> Result<Vec<(Delivery, i64)>, DbError> {
    Ok(notifications::table
        .group_by(notifications::delivery)
        .select((notifications::delivery, diesel::dsl::count_star()))
        .load(conn)?)
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

/// The account's notifications, newest first: all of them, or a page's rows. Never another
/// account's.
pub fn for_account(
    conn: &mut DbConnection,
    account_id: i64,
    page: Option<PageRequest>,
) -> Result<Vec<NotificationRow>, DbError> {
    let mut query = notifications::table
        .left_join(risk_windows::table.inner_join(venues::table))
        .filter(notifications::account_id.eq(account_id))
        .order(notifications::id.desc())
        .into_boxed();
    if let Some(page) = page {
        query = query.limit(page.rows());
        if let Some(after) = page.after {
            query = query.filter(notifications::id.lt(after));
        }
    }
    Ok(query
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

/// How each of the account's notifications went out as a platform message: (id, delivery, when
/// the platform took it).
pub fn deliveries_of(
    conn: &mut DbConnection,
    account_id: i64,
) -> Result<Vec<(i64, Delivery, Option<NaiveDateTime>)>, DbError> {
    Ok(notifications::table
        .filter(notifications::account_id.eq(account_id))
        .select((
            notifications::id,
            notifications::delivery,
            notifications::delivered_at,
        ))
        .load(conn)?)
}
