//! Staff accounts (reviewers, health officials, auditors, sysadmins): logging in with username
//! and password, the staff member's own account, and creating accounts from the command line.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use serde::Serialize;

use crate::auth::{password, SessionKind, Staff};
use crate::crypto::Field;
use crate::db::staff::{self, NewStaffAccount, StaffAccountRow};
use crate::db::{regions, DbError};
use crate::domain::login_throttle;
use crate::domain::{RegionCode, StaffRole};
use crate::state::AppState;

/// Checked against when the username does not exist, so that both cases cost the same time.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    password::hash("no account has this password; it only costs time").expect("a valid password")
});

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("too many failed logins; retry in {retry_after_secs} s")]
    Locked { retry_after_secs: u32 },
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("the staff account is disabled or gone")]
    Disabled,
    #[error("the username `{0}` is taken")]
    UsernameTaken(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

#[derive(Debug, Serialize)]
pub struct StaffView {
    pub id: i64,
    pub username: String,
    pub role: StaffRole,
    pub region_code: String,
    pub region_name: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct StaffSession {
    pub token: String,
    pub expires_at: String,
    pub staff: StaffView,
}

enum Outcome {
    Locked(i64),
    Refused(u64),
    Accepted(StaffAccountRow, Option<String>),
}

/// Checks the password; failures are counted per username (hashed), slowed down after a few and
/// locked after many. Unknown usernames are treated exactly like known ones.
pub async fn login(
    state: &Arc<AppState>,
    username: String,
    password: String,
) -> Result<StaffSession, StaffError> {
    // Long inputs would only make the password hash work harder.
    if username.len() > 64 || password.len() > password::MAX_LENGTH * 4 {
        return Err(StaffError::InvalidCredentials);
    }
    let username = username.trim().to_owned();
    let username_hash = state.cipher.lookup_hash(Field::Username, &username);
    let outcome = state
        .write(move |state, conn| {
            let now = state.clock.now_naive();
            let failures = staff::login_failures(conn, &username_hash)?;
            if let Some(seconds) = login_throttle::locked_for(failures.as_ref(), now) {
                return Ok::<_, StaffError>(Outcome::Locked(seconds));
            }
            let account = staff::find_by_username(conn, &username)?;
            let stored_hash = account
                .as_ref()
                .map_or(DUMMY_HASH.as_str(), |a| a.password_hash.as_str());
            let matches = password::verify(stored_hash, &password);
            match account {
                Some(account) if matches && account.disabled_at.is_none() => {
                    staff::clear_login_failures(conn, &username_hash)?;
                    let region_name = region_name(conn, &account.region_code)?;
                    Ok(Outcome::Accepted(account, region_name))
                }
                _ => {
                    let next = login_throttle::after_failure(failures.as_ref(), now);
                    staff::save_login_failures(conn, &username_hash, &next)?;
                    Ok(Outcome::Refused(login_throttle::delay_ms(next.failures)))
                }
            }
        })
        .await?;
    match outcome {
        Outcome::Locked(seconds) => Err(StaffError::Locked {
            retry_after_secs: seconds.clamp(1, i64::from(u32::MAX)) as u32,
        }),
        Outcome::Refused(delay_ms) => {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            Err(StaffError::InvalidCredentials)
        }
        Outcome::Accepted(account, region_name) => {
            let issued = state.sessions.issue(
                &SessionKind::Staff {
                    staff_id: account.id,
                    role: account.role,
                    region: account.region_code.clone(),
                },
                state.clock.now(),
            );
            tracing::info!(staff_id = account.id, role = %account.role, "staff login");
            Ok(StaffSession {
                token: issued.token,
                expires_at: state.clock.show_utc(issued.expires_at),
                staff: view(account, region_name),
            })
        }
    }
}

fn view(account: StaffAccountRow, region_name: Option<String>) -> StaffView {
    StaffView {
        id: account.id,
        username: account.username,
        role: account.role,
        region_code: account.region_code,
        region_name,
    }
}

fn region_name(conn: &mut crate::db::DbConnection, code: &str) -> Result<Option<String>, DbError> {
    let Ok(code) = RegionCode::parse(code) else {
        return Ok(None);
    };
    Ok(regions::find(conn, &code)?.map(|r| r.name))
}

/// The staff member's own account; a disabled or deleted account is logged out.
pub async fn me(state: &Arc<AppState>, caller: &Staff) -> Result<StaffView, StaffError> {
    let (id, role) = (caller.id, caller.role);
    state
        .read(move |_, conn| {
            let account = staff::find(conn, id)?
                .filter(|a| a.disabled_at.is_none())
                .ok_or(StaffError::Disabled)?;
            let region_name = region_name(conn, &account.region_code)?;
            Ok(StaffView {
                role,
                ..view(account, region_name)
            })
        })
        .await
}

/// Creates a staff account after checking the username, the region and the password policy.
pub async fn create_account(
    state: &Arc<AppState>,
    username: &str,
    role: StaffRole,
    region: &str,
    plain_password: &str,
) -> Result<StaffAccountRow, StaffError> {
    let username = username.trim().to_owned();
    let well_formed = (3..=32).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !well_formed {
        return Err(StaffError::Invalid(
            "the username must be 3 to 32 characters of lower-case letters, digits, '.', '_' or '-'"
                .into(),
        ));
    }
    let region = RegionCode::parse(region)
        .map_err(|e| StaffError::Invalid(format!("--region: {}", e.message)))?;
    let password_hash =
        password::hash(plain_password).map_err(|e| StaffError::Invalid(e.to_string()))?;
    state
        .write(move |state, conn| {
            if !regions::is_known(conn, &region).map_err(DbError::from)? {
                return Err(StaffError::Invalid(format!(
                    "--region {region} is not a known administrative division"
                )));
            }
            if staff::find_by_username(conn, &username)?.is_some() {
                return Err(StaffError::UsernameTaken(username));
            }
            Ok(staff::insert(
                conn,
                &NewStaffAccount {
                    username: &username,
                    password_hash: &password_hash,
                    role,
                    region_code: &region,
                    created_at: state.clock.now_naive(),
                },
            )?)
        })
        .await
}
