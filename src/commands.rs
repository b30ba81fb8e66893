//! What the command line does besides serving: migrations and staff accounts.

use crate::auth::password;
use crate::config::Settings;
use crate::db::staff::{self, NewStaffAccount, StaffAccountRow};
use crate::db::{regions, Database};
use crate::domain::{RegionCode, StaffRole};
use crate::startup::prepare_database;

/// Applies migrations and loads reference data; returns the database for further work.
pub fn migrate(settings: &Settings) -> anyhow::Result<Database> {
    prepare_database(settings)
}

/// Creates a staff account after checking the username, the region and the password policy.
pub fn create_staff(
    settings: &Settings,
    username: &str,
    role: StaffRole,
    region: &str,
    plain_password: &str,
) -> anyhow::Result<StaffAccountRow> {
    let username = username.trim();
    let well_formed = (3..=32).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !well_formed {
        anyhow::bail!(
            "the username must be 3 to 32 characters of lower-case letters, digits, '.', '_' or '-'"
        );
    }
    let region =
        RegionCode::parse(region).map_err(|e| anyhow::anyhow!("--region: {}", e.message))?;
    let password_hash = password::hash(plain_password)?;
    let database = prepare_database(settings)?;
    let mut conn = database.get()?;
    if !regions::is_known(&mut conn, &region)? {
        anyhow::bail!("--region {region} is not a known administrative division");
    }
    let account = staff::create(
        &mut conn,
        &NewStaffAccount {
            username,
            password_hash: &password_hash,
            role,
            region_code: &region,
        },
    )?;
    Ok(account)
}

/// Deletes what is older than the retention periods; returns what was deleted.
pub fn purge(settings: &Settings) -> anyhow::Result<crate::db::retention::Purged> {
    let database = prepare_database(settings)?;
    let mut conn = database.get()?;
    let purged = crate::db::retention::purge(
        &mut conn,
        settings.retention_days,
        settings.audit_retention_days,
    )?;
    Ok(purged)
}

/// Walks the audit chain.
pub fn verify_audit(settings: &Settings) -> anyhow::Result<crate::db::audit::ChainReport> {
    let database = prepare_database(settings)?;
    let mut conn = database.get()?;
    let cipher = crate::pii::PiiCipher::new(settings.pii_key.expose());
    Ok(crate::db::audit::verify(&mut conn, &cipher)?)
}
