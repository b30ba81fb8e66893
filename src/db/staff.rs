//! Staff accounts: reviewers, health officials, auditors, sysadmins.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::staff_accounts;
use super::{DbConnection, DbError};
use crate::domain::{RegionCode, StaffRole};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff_accounts)]
pub struct StaffAccountRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub region_code: String,
    pub created_at: NaiveDateTime,
    pub disabled_at: Option<NaiveDateTime>,
}

pub struct NewStaffAccount<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub role: StaffRole,
    pub region_code: &'a RegionCode,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateStaffError {
    #[error("the username `{0}` is taken")]
    UsernameTaken(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

pub fn create(
    conn: &mut DbConnection,
    account: &NewStaffAccount<'_>,
) -> Result<StaffAccountRow, CreateStaffError> {
    conn.transaction(|conn| {
        let taken = staff_accounts::table
            .filter(staff_accounts::username.eq(account.username))
            .count()
            .get_result::<i64>(conn)
            .map_err(DbError::from)?;
        if taken > 0 {
            return Err(CreateStaffError::UsernameTaken(account.username.to_owned()));
        }
        diesel::insert_into(staff_accounts::table)
            .values((
                staff_accounts::username.eq(account.username),
                staff_accounts::password_hash.eq(account.password_hash),
                staff_accounts::role.eq(account.role.as_str()),
                staff_accounts::region_code.eq(account.region_code.as_ref()),
                staff_accounts::created_at.eq(Utc::now().naive_utc()),
            ))
            .execute(conn)
            .map_err(DbError::from)?;
        find_by_username(conn, account.username)?
            .ok_or_else(|| DbError::Other("the new staff account vanished".into()).into())
    })
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

impl From<diesel::result::Error> for CreateStaffError {
    fn from(e: diesel::result::Error) -> Self {
        CreateStaffError::Db(e.into())
    }
}
