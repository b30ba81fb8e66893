//! Staff accounts (reviewers, health officials, auditors, sysadmins) and the throttles that slow
//! down password guessing.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{login_throttles, staff_accounts, staff_sessions};
use super::{DbConnection, DbError};
use crate::domain::login_throttle::FailureState;
use crate::domain::{RegionCode, StaffRole};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff_accounts)]
pub struct StaffAccountRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: StaffRole,
    pub region_code: String,
    pub created_at: NaiveDateTime,
    pub disabled_at: Option<NaiveDateTime>,
    /// Sessions carry the version they were issued under; raising it ends them.
    pub session_version: i32,
}

pub struct NewStaffAccount<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub role: StaffRole,
    pub region_code: &'a RegionCode,
    pub created_at: NaiveDateTime,
}

pub fn insert(
    conn: &mut DbConnection,
    account: &NewStaffAccount<'_>,
) -> Result<StaffAccountRow, DbError> {
    diesel::insert_into(staff_accounts::table)
        .values((
            staff_accounts::username.eq(account.username),
            staff_accounts::password_hash.eq(account.password_hash),
            staff_accounts::role.eq(account.role),
            staff_accounts::region_code.eq(account.region_code.as_ref()),
            staff_accounts::created_at.eq(account.created_at),
        ))
        .execute(conn)?;
    find_by_username(conn, account.username)?
        .ok_or_else(|| DbError::Other("the new staff account vanished".into()))
}

pub fn find_by_username(
    conn: &mut DbConnection,
    username: &str,
) -> Result<Option<StaffAccountRow>, DbError> {
    Ok(staff_accounts::table
        .filter(staff_accounts::username.eq(username))
        .select(StaffAccountRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<StaffAccountRow>, DbError> {
    Ok(staff_accounts::table
        .find(id)
        .select(StaffAccountRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every staff account, by username.
pub fn all(conn: &mut DbConnection) -> Result<Vec<StaffAccountRow>, DbError> {
    Ok(staff_accounts::table
        .order(staff_accounts::username.asc())
        .select(StaffAccountRow::as_select())
        .load(conn)?)
}

/// Disables or enables an account; either way its sessions end.
pub fn set_disabled(
    conn: &mut DbConnection,
    id: i64,
    disabled_at: Option<NaiveDateTime>,
) -> Result<(), DbError> {
    diesel::update(staff_accounts::table.find(id))
        .set((
            staff_accounts::disabled_at.eq(disabled_at),
            staff_accounts::session_version.eq(staff_accounts::session_version + 1),
        ))
        .execute(conn)?;
    Ok(())
}

/// Changes role and region; the account's sessions end.
pub fn set_role(
    conn: &mut DbConnection,
    id: i64,
    role: StaffRole,
    region: &RegionCode,
) -> Result<(), DbError> {
    diesel::update(staff_accounts::table.find(id))
        .set((
            staff_accounts::role.eq(role),
            staff_accounts::region_code.eq(region.as_ref()),
            staff_accounts::session_version.eq(staff_accounts::session_version + 1),
        ))
        .execute(conn)?;
    Ok(())
}

/// The throttle state of each key, locked until the end of the transaction. A key seen for the
/// first time gets a row with no failures first, so that parallel attempts on a new key wait for
/// each other too; keys are locked in sorted order, so two attempts sharing a key cannot
/// deadlock. SQLite's write transaction already holds the database's write lock.
pub fn throttles_for_update(
    conn: &mut DbConnection,
    keys: &[&str],
    now: NaiveDateTime,
) -> Result<Vec<Option<FailureState>>, DbError> {
    let mut sorted: Vec<&str> = keys.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut found: Vec<(String, FailureState)> = Vec::with_capacity(sorted.len());
    for key in sorted {
        crate::per_backend!(conn, |c| diesel::insert_into(login_throttles::table)
            .values((
                login_throttles::key_hash.eq(key),
                login_throttles::failures.eq(0),
                login_throttles::window_started_at.eq(now),
                login_throttles::locked_until.eq(None::<NaiveDateTime>),
            ))
            .on_conflict(login_throttles::key_hash)
            .do_nothing()
            .execute(c))?;
        let query = login_throttles::table.find(key).select((
            login_throttles::failures,
            login_throttles::window_started_at,
            login_throttles::locked_until,
        ));
        let (failures, window_started_at, locked_until) = match conn {
            DbConnection::Postgresql(c) => query.for_update().first(c)?,
            DbConnection::Sqlite(c) => query.first(c)?,
        };
        found.push((
            key.to_owned(),
            FailureState {
                failures,
                window_started_at,
                locked_until,
            },
        ));
    }
    Ok(keys
        .iter()
        .map(|key| found.iter().find(|(k, _)| k == key).map(|(_, s)| *s))
        .collect())
}

pub fn save_throttle(
    conn: &mut DbConnection,
    key: &str,
    state: &FailureState,
) -> Result<(), DbError> {
    crate::per_backend!(conn, |c| diesel::insert_into(login_throttles::table)
        .values((
            login_throttles::key_hash.eq(key),
            login_throttles::failures.eq(state.failures),
            login_throttles::window_started_at.eq(state.window_started_at),
            login_throttles::locked_until.eq(state.locked_until),
        ))
        .on_conflict(login_throttles::key_hash)
        .do_update()
        .set((
            login_throttles::failures.eq(state.failures),
            login_throttles::window_started_at.eq(state.window_started_at),
            login_throttles::locked_until.eq(state.locked_until),
        ))
        .execute(c))?;
    Ok(())
}

pub fn clear_throttle(conn: &mut DbConnection, key: &str) -> Result<(), DbError> {
    diesel::delete(login_throttles::table.find(key)).execute(conn)?;
    Ok(())
}

/// Takes back one counted attempt of an unlocked key (a login that succeeded).
pub fn forgive_attempt(conn: &mut DbConnection, key: &str) -> Result<(), DbError> {
    diesel::update(
        login_throttles::table
            .find(key)
            .filter(login_throttles::failures.gt(0))
            .filter(login_throttles::locked_until.is_null()),
    )
    .set(login_throttles::failures.eq(login_throttles::failures - 1))
    .execute(conn)?;
    Ok(())
}

/// A staff session as recorded at login.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff_sessions)]
pub struct StaffSessionRow {
    pub id: String,
    pub staff_id: i64,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
}

pub fn insert_session(
    conn: &mut DbConnection,
    id: &str,
    staff_id: i64,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::insert_into(staff_sessions::table)
        .values((
            staff_sessions::id.eq(id),
            staff_sessions::staff_id.eq(staff_id),
            staff_sessions::created_at.eq(created_at),
            staff_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find_session(conn: &mut DbConnection, id: &str) -> Result<Option<StaffSessionRow>, DbError> {
    Ok(staff_sessions::table
        .find(id)
        .select(StaffSessionRow::as_select())
        .first(conn)
        .optional()?)
}

/// Ends a session; ending one already ended changes nothing.
pub fn end_session(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> Result<(), DbError> {
    diesel::update(
        staff_sessions::table
            .find(id)
            .filter(staff_sessions::ended_at.is_null()),
    )
    .set(staff_sessions::ended_at.eq(at))
    .execute(conn)?;
    Ok(())
}

/// Forgets sessions that expired before `before`.
pub fn purge_sessions(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, DbError> {
    Ok(
        diesel::delete(staff_sessions::table.filter(staff_sessions::expires_at.lt(before)))
            .execute(conn)?,
    )
}
