//! Staff accounts (reviewers, health officials, auditors, sysadmins): logging in with username
//! and password, the sessions that follow, the staff member's own account, and managing accounts,
//! by the operator at the command line or by a sysadmin in the console for their region.

use std::net::IpAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use serde::Serialize;

use super::audit;
use super::cache_sync::changed;
use crate::auth::{new_session_id, password, SessionKind, Staff};
use crate::cache::CacheKey;
use crate::crypto::Field;
use crate::db::audit::AuditEntry;
use crate::db::staff::{self, NewStaffAccount, StaffAccountRow};
use crate::db::{regions, DbConnection, DbError};
use crate::domain::login_throttle::{self, PER_ADDRESS, PER_USERNAME};
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
    /// The session's account is disabled, gone, or changed since the session began.
    #[error("the staff session has ended")]
    SessionEnded,
    #[error("no staff account `{0}`")]
    UnknownUsername(String),
    #[error("the username `{0}` is taken")]
    UsernameTaken(String),
    #[error("the region lies outside the sysadmin's own")]
    OutsideRegion,
    #[error(
        "the username must be 3 to 32 characters of lower-case letters, digits, '.', '_' or '-'"
    )]
    InvalidUsername,
    #[error("--region {0} is not a known administrative division")]
    UnknownRegion(String),
    #[error(transparent)]
    Password(#[from] password::PasswordError),
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

/// Who manages staff accounts.
#[derive(Debug, Clone)]
pub enum Operator {
    /// The operator at the command line: any account, any region.
    CommandLine,
    /// A sysadmin in the console: accounts of their region only, never their own.
    Sysadmin(Staff),
}

impl Operator {
    /// A sysadmin manages the accounts of their region, never their own, nor another sysadmin's
    /// unless that one's region lies strictly inside their own: peers cannot disable or demote
    /// each other.
    fn may_manage(&self, account: &StaffAccountRow) -> bool {
        match self {
            Operator::CommandLine => true,
            Operator::Sysadmin(admin) => {
                admin.id != account.id
                    && admin.covers(&account.region_code)
                    && (account.role != StaffRole::Sysadmin
                        || strictly_inside(&account.region_code, &admin.region))
            }
        }
    }

    /// A sysadmin gives roles inside their region; the sysadmin role only for a region strictly
    /// inside it, so no one makes a peer or a superior.
    fn may_assign(&self, role: StaffRole, region: &RegionCode) -> bool {
        match self {
            Operator::CommandLine => true,
            Operator::Sysadmin(admin) => {
                region.is_within(&admin.region)
                    && (role != StaffRole::Sysadmin || region.as_ref() != admin.region.as_ref())
            }
        }
    }

    fn entry(&self, action: &'static str, staff_id: i64, region: &str) -> AuditEntry<'static> {
        match self {
            Operator::CommandLine => audit::by_operator(action, staff_id, region),
            Operator::Sysadmin(admin) => {
                let mut entry = audit::by_staff(admin, action, format!("staff:{staff_id}"), 1);
                entry.region = region.to_owned();
                entry
            }
        }
    }
}

fn strictly_inside(region: &str, of: &RegionCode) -> bool {
    region != of.as_ref() && RegionCode::parse(region).is_ok_and(|r| r.is_within(of))
}

/// A staff account as the accounts page lists it.
#[derive(Debug)]
pub struct ManagedAccount {
    pub username: String,
    pub role: StaffRole,
    pub region_code: String,
    pub region_name: Option<String>,
    pub disabled: bool,
    pub created_at: String,
    /// Whether the sysadmin may change it (not their own, not a peer's).
    pub manageable: bool,
}

/// The accounts a sysadmin manages: those of their region, by username.
pub async fn accounts_of(
    state: &Arc<AppState>,
    admin: &Staff,
) -> Result<Vec<ManagedAccount>, StaffError> {
    let operator = Operator::Sysadmin(admin.clone());
    let admin = admin.clone();
    state
        .read(move |state, conn| {
            let mut listed = Vec::new();
            for account in staff::all(conn)? {
                if !admin.covers(&account.region_code) {
                    continue;
                }
                listed.push(ManagedAccount {
                    manageable: operator.may_manage(&account),
                    region_name: region_name_of(conn, &account.region_code)?,
                    disabled: account.disabled_at.is_some(),
                    created_at: state.clock.show(account.created_at),
                    username: account.username,
                    role: account.role,
                    region_code: account.region_code,
                });
            }
            Ok(listed)
        })
        .await
}

#[derive(Debug, Serialize)]
pub struct StaffSession {
    pub token: String,
    pub expires_at: String,
    pub staff: StaffView,
}

/// What the throttles allowed for one attempt.
enum Admission {
    Locked(i64),
    /// The attempt was counted; hold a failure's answer this long.
    Counted {
        delay_ms: u64,
    },
}

/// The throttle keys of an attempt: its username, and its client address when known.
fn throttle_keys(state: &AppState, username: &str, client: Option<IpAddr>) -> Vec<String> {
    let mut keys = vec![format!(
        "u:{}",
        state.cipher.lookup_hash(Field::Username, username)
    )];
    if let Some(client) = client {
        keys.push(format!(
            "a:{}",
            state
                .cipher
                .lookup_hash(Field::Username, &client.to_string())
        ));
    }
    keys
}

/// Counts the attempt against every key in one transaction whose rows are locked, so parallel
/// guesses are counted one after another: the lock engages after exactly `lock_after`.
fn admit(state: &AppState, conn: &mut DbConnection, keys: &[String]) -> Result<Admission, DbError> {
    let now = state.clock.now_naive();
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let current = staff::throttles_for_update(conn, &key_refs, now)?;
    let locked = current
        .iter()
        .filter_map(|s| login_throttle::locked_for(s.as_ref(), now))
        .max();
    if let Some(seconds) = locked {
        return Ok(Admission::Locked(seconds));
    }
    let mut delay_ms = 0;
    for (index, (key, state)) in keys.iter().zip(&current).enumerate() {
        let policy = if index == 0 {
            &PER_USERNAME
        } else {
            &PER_ADDRESS
        };
        let next = login_throttle::after_attempt(policy, state.as_ref(), now);
        delay_ms = delay_ms.max(login_throttle::delay_ms(policy, next.failures));
        staff::save_throttle(conn, key, &next)?;
    }
    Ok(Admission::Counted { delay_ms })
}

/// Checks the password. Each attempt is counted first (per username, and per client address),
/// then the password is checked without holding a database connection; a correct one clears
/// its username's count. Unknown usernames are treated exactly like known ones.
pub async fn login(
    state: &Arc<AppState>,
    username: String,
    password: String,
    client: Option<IpAddr>,
) -> Result<StaffSession, StaffError> {
    // Long inputs would only make the password hash work harder.
    if username.len() > 64 || password.len() > password::MAX_LENGTH * 4 {
        return Err(StaffError::InvalidCredentials);
    }
    let username = username.trim().to_owned();
    let keys = throttle_keys(state, &username, client);
    let lookup = username.clone();
    let throttle_keys = keys.clone();
    let (admission, account) = state
        .write(move |state, conn| {
            let admission = admit(state, conn, &throttle_keys)?;
            Ok::<_, DbError>((admission, staff::find_by_username(conn, &lookup)?))
        })
        .await?;
    let delay_ms = match admission {
        Admission::Locked(seconds) => {
            return Err(StaffError::Locked {
                retry_after_secs: seconds.clamp(1, i64::from(u32::MAX)) as u32,
            })
        }
        Admission::Counted { delay_ms } => delay_ms,
    };
    let stored_hash = account
        .as_ref()
        .map_or(DUMMY_HASH.clone(), |a| a.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || password::verify(&stored_hash, &password))
        .await
        .unwrap_or(false);
    match account {
        Some(account) if matches && account.disabled_at.is_none() => {
            let region_name = account.region_code.clone();
            let session = new_session_id();
            let issued = state.sessions.issue(
                &SessionKind::Staff {
                    staff_id: account.id,
                    version: account.session_version,
                    session: session.clone(),
                },
                state.clock.now(),
            );
            let (staff_id, expires_at) = (account.id, issued.expires_at.naive_utc());
            let region_name = state
                .write(move |state, conn| {
                    // A correct password clears its username's count and takes its attempt back
                    // from the address's: an office of staff logging in is not a guesser.
                    staff::clear_throttle(conn, &keys[0])?;
                    for address_key in &keys[1..] {
                        staff::forgive_attempt(conn, address_key)?;
                    }
                    staff::insert_session(
                        conn,
                        &session,
                        staff_id,
                        state.clock.now_naive(),
                        expires_at,
                    )?;
                    region_name_of(conn, &region_name)
                })
                .await?;
            tracing::info!(staff_id = account.id, role = %account.role, "staff login");
            Ok(StaffSession {
                token: issued.token,
                expires_at: state.clock.show_utc(issued.expires_at),
                staff: view(account, region_name),
            })
        }
        _ => {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            Err(StaffError::InvalidCredentials)
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

fn region_name_of(conn: &mut DbConnection, code: &str) -> Result<Option<String>, DbError> {
    let Ok(code) = RegionCode::parse(code) else {
        return Ok(None);
    };
    Ok(regions::find(conn, &code)?.map(|r| r.name))
}

/// Ends the caller's session (logging out): its token opens nothing on any node a second later,
/// while the account's other sessions go on.
pub async fn logout(state: &Arc<AppState>, caller: &Staff) -> Result<(), StaffError> {
    let session = caller.session.clone();
    let forget = session.clone();
    state
        .write(move |state, conn| staff::end_session(conn, &session, state.clock.now_naive()))
        .await?;
    state.caches.staff_sessions.forget(&forget);
    tracing::info!(staff_id = caller.id, "staff logout");
    Ok(())
}

/// The staff member's own account.
pub async fn me(state: &Arc<AppState>, caller: &Staff) -> Result<StaffView, StaffError> {
    let id = caller.id;
    state
        .read(move |_, conn| {
            let account = staff::find(conn, id)?.ok_or(StaffError::SessionEnded)?;
            let region_name = region_name_of(conn, &account.region_code)?;
            Ok(view(account, region_name))
        })
        .await
}

/// Creates a staff account after checking the username, the region and the password policy.
pub async fn create_account(
    state: &Arc<AppState>,
    by: &Operator,
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
        return Err(StaffError::InvalidUsername);
    }
    let region = known_region(state, region).await?;
    if !by.may_assign(role, &region) {
        return Err(StaffError::OutsideRegion);
    }
    let plain_password = plain_password.to_owned();
    let password_hash = tokio::task::spawn_blocking(move || password::hash(&plain_password))
        .await
        .map_err(|e| password::PasswordError::Hashing(e.to_string()))??;
    let by = by.clone();
    state
        .write(move |state, conn| {
            if staff::find_by_username(conn, &username)?.is_some() {
                return Err(StaffError::UsernameTaken(username));
            }
            let account = staff::insert(
                conn,
                &NewStaffAccount {
                    username: &username,
                    password_hash: &password_hash,
                    role,
                    region_code: &region,
                    created_at: state.clock.now_naive(),
                },
            )?;
            let entry = by.entry("staff.create", account.id, &account.region_code);
            audit::record(state, conn, &[entry])?;
            Ok(account)
        })
        .await
}

async fn known_region(state: &Arc<AppState>, region: &str) -> Result<RegionCode, StaffError> {
    let region =
        RegionCode::parse(region).map_err(|_| StaffError::UnknownRegion(region.to_owned()))?;
    let lookup = region.clone();
    let known = state
        .read(move |_, conn| Ok::<_, DbError>(regions::is_known(conn, &lookup)?))
        .await?;
    if known {
        Ok(region)
    } else {
        Err(StaffError::UnknownRegion(region.to_string()))
    }
}

/// Disables (or enables again) an account by username; its sessions end on every node within a
/// second.
pub async fn set_disabled(
    state: &Arc<AppState>,
    by: &Operator,
    username: &str,
    disabled: bool,
) -> Result<StaffAccountRow, StaffError> {
    let username = username.trim().to_owned();
    let by = by.clone();
    let account = state
        .write(move |state, conn| {
            let account = staff::find_by_username(conn, &username)?
                .filter(|account| by.may_manage(account))
                .ok_or(StaffError::UnknownUsername(username))?;
            let at = disabled.then(|| state.clock.now_naive());
            staff::set_disabled(conn, account.id, at)?;
            let action = if disabled {
                "staff.disable"
            } else {
                "staff.enable"
            };
            let entry = by.entry(action, account.id, &account.region_code);
            audit::record(state, conn, &[entry])?;
            changed(state, conn, &[CacheKey::Staff(account.id)])?;
            staff::find(conn, account.id)?.ok_or(StaffError::SessionEnded)
        })
        .await?;
    tracing::info!(staff_id = account.id, disabled, "staff account changed");
    Ok(account)
}

/// Gives an account another role and region; its sessions end.
pub async fn set_role(
    state: &Arc<AppState>,
    by: &Operator,
    username: &str,
    role: StaffRole,
    region: &str,
) -> Result<StaffAccountRow, StaffError> {
    let region = known_region(state, region).await?;
    if !by.may_assign(role, &region) {
        return Err(StaffError::OutsideRegion);
    }
    let username = username.trim().to_owned();
    let by = by.clone();
    let account = state
        .write(move |state, conn| {
            let account = staff::find_by_username(conn, &username)?
                .filter(|account| by.may_manage(account))
                .ok_or(StaffError::UnknownUsername(username))?;
            staff::set_role(conn, account.id, role, &region)?;
            // Filed under both regions: the one it leaves and the one it joins.
            let entries = [
                by.entry("staff.role", account.id, &account.region_code),
                by.entry("staff.role", account.id, region.as_ref()),
            ];
            audit::record(state, conn, &entries)?;
            changed(state, conn, &[CacheKey::Staff(account.id)])?;
            staff::find(conn, account.id)?.ok_or(StaffError::SessionEnded)
        })
        .await?;
    Ok(account)
}
