//! Staff accounts: reviewers, health officials, auditors, sysadmins.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{staff_accounts, staff_login_failures};
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

/// The failure state of a username (by keyed hash).
pub fn login_failures(
    conn: &mut DbConnection,
    username_hash: &str,
) -> Result<Option<FailureState>, DbError> {
    Ok(staff_login_failures::table
        .find(username_hash)
        .select((
            staff_login_failures::failures,
            staff_login_failures::window_started_at,
            staff_login_failures::locked_until,
        ))
        .first::<(i32, NaiveDateTime, Option<NaiveDateTime>)>(conn)
        .optional()?
        .map(|(failures, window_started_at, locked_until)| FailureState {
            failures,
            window_started_at,
            locked_until,
        }))
}

pub fn save_login_failures(
    conn: &mut DbConnection,
    username_hash: &str,
    state: &FailureState,
) -> Result<(), DbError> {
    crate::per_backend!(conn, |c| diesel::insert_into(staff_login_failures::table)
        .values((
            staff_login_failures::username_hash.eq(username_hash),
            staff_login_failures::failures.eq(state.failures),
            staff_login_failures::window_started_at.eq(state.window_started_at),
            staff_login_failures::locked_until.eq(state.locked_until),
        ))
        .on_conflict(staff_login_failures::username_hash)
        .do_update()
        .set((
            staff_login_failures::failures.eq(state.failures),
            staff_login_failures::window_started_at.eq(state.window_started_at),
            staff_login_failures::locked_until.eq(state.locked_until),
        ))
        .execute(c))?;
    Ok(())
}

pub fn clear_login_failures(conn: &mut DbConnection, username_hash: &str) -> Result<(), DbError> {
    diesel::delete(staff_login_failures::table.find(username_hash)).execute(conn)?;
    Ok(())
}
