//! Risky venue windows and the notices they send to everyone whose stay overlapped.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{accounts, check_ins, notifications, risk_windows, venues};
use super::{DbConnection, DbError};

pub struct NewRiskWindow<'a> {
    pub venue_id: i64,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub message: &'a str,
    pub created_by: i64,
}

/// What a window reached: notices written and distinct people whose stay overlapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    pub window_id: i64,
    pub notices: usize,
    pub people: usize,
}

/// Records the window and notifies, for every stay at the venue that overlapped it, the
/// person's own accounts and the account that checked them in (a guardian for a companion).
/// Call inside a transaction.
pub fn create(conn: &mut DbConnection, window: &NewRiskWindow<'_>) -> Result<Reach, DbError> {
    let now = Utc::now().naive_utc();
    let window_id: i64 = crate::per_backend!(conn, |c| diesel::insert_into(risk_windows::table)
        .values((
            risk_windows::venue_id.eq(window.venue_id),
            risk_windows::from_at.eq(window.from),
            risk_windows::to_at.eq(window.to),
            risk_windows::message.eq(window.message),
            risk_windows::created_by.eq(window.created_by),
            risk_windows::created_at.eq(now),
        ))
        .returning(risk_windows::id)
        .get_result(c))?;
    let stays: Vec<(i64, Option<i64>, NaiveDateTime, NaiveDateTime)> = check_ins::table
        .filter(check_ins::venue_id.eq(window.venue_id))
        .filter(check_ins::scanned_at.lt(window.to))
        .filter(check_ins::ends_at.gt(window.from))
        .filter(check_ins::scanned_at.ge(window.from - super::traces::LONGEST_STAY))
        .select((
            check_ins::person_id,
            check_ins::account_id,
            check_ins::scanned_at,
            check_ins::ends_at,
        ))
        .load(conn)?;
    let person_ids: Vec<i64> = stays.iter().map(|s| s.0).collect();
    let own_accounts: Vec<(Option<i64>, i64)> = accounts::table
        .filter(accounts::person_id.eq_any(&person_ids))
        .select((accounts::person_id, accounts::id))
        .load(conn)?;
    let mut rows = std::collections::BTreeMap::new();
    for (person_id, scanned_by, from, to) in &stays {
        let mut recipients: Vec<i64> = own_accounts
            .iter()
            .filter(|(p, _)| *p == Some(*person_id))
            .map(|(_, a)| *a)
            .collect();
        // The account that made the scan: the guardian of a companion. Staff who registered
        // someone by hand made no scan of their own and are not told.
        recipients.extend(scanned_by);
        for account_id in recipients {
            rows.entry((account_id, *person_id)).or_insert((*from, *to));
        }
    }
    let notices: Vec<_> = rows
        .iter()
        .map(|((account_id, person_id), (from, to))| {
            (
                notifications::account_id.eq(*account_id),
                notifications::person_id.eq(*person_id),
                notifications::risk_window_id.eq(window_id),
                notifications::stay_from.eq(*from),
                notifications::stay_to.eq(*to),
                notifications::created_at.eq(now),
            )
        })
        .collect();
    for batch in notices.chunks(500) {
        crate::per_backend!(conn, |c| diesel::insert_into(notifications::table)
            .values(batch)
            .execute(c))?;
    }
    let mut people = person_ids;
    people.sort_unstable();
    people.dedup();
    Ok(Reach {
        window_id,
        notices: rows.len(),
        people: people.len(),
    })
}

/// One notice as its account sees it.
#[derive(Debug, Clone, Queryable)]
pub struct NoticeRow {
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

/// The account's notices, newest first. Never another account's.
pub fn for_account(conn: &mut DbConnection, account_id: i64) -> Result<Vec<NoticeRow>, DbError> {
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
