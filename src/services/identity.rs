//! Proving an identity: a face check through the account's platform (WeChat 人脸核身, Alipay
//! 身份认证) verifies that the account's holder is the person of a name and ID number. A verified
//! claim takes the identity over from an account that only declared it (which is told); a verified
//! binding can be released only by a health official of the person's region.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use serde::Serialize;

use super::accounts::{self, AccountError, MeView};
use super::cache_sync::changed;
use super::{audit, authorize};
use crate::auth::{Account, Staff};
use crate::cache::CacheKey;
use crate::db::identity_verifications::{self, NewVerification, VerificationRow};
use crate::db::persons::{NewPerson, PersonKey};
use crate::db::{
    accounts as account_rows, notifications, paper_codes, persons, DbConnection, DbError,
};
use crate::domain::{
    FieldCode, FieldError, FieldErrors, IdDocument, IdNumber, NotificationKind, PersonName,
    Platform, VerificationStatus,
};
use crate::platforms::{IdentityClaim, VerificationOutcome};
use crate::state::AppState;

/// Face checks one account may open in a day: each one is a paid call to the platform, and a
/// check is not a way to test ID numbers.
pub const DAILY_CHECKS: i64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("no such verification of this account")]
    NotFound,
    #[error("the account opened {DAILY_CHECKS} face checks in the last day")]
    TooManyChecks { retry_after_secs: u32 },
    #[error("the face check did not verify the identity: {0}")]
    Failed(String),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<FieldErrors> for IdentityError {
    fn from(e: FieldErrors) -> Self {
        IdentityError::Account(e.into())
    }
}

impl From<crate::platforms::PlatformError> for IdentityError {
    fn from(e: crate::platforms::PlatformError) -> Self {
        IdentityError::Account(e.into())
    }
}

/// A face check opened with the platform: what the mini-program needs to run it.
#[derive(Debug, Serialize)]
pub struct VerificationStart {
    pub platform: Platform,
    pub verification_id: String,
    pub expires_at: String,
    /// WeChat: `{"verify_id"}` for `wx.requestFacialVerify`; Alipay: `{"certify_id"}` for
    /// `my.startAPVerify`.
    #[serde(flatten)]
    pub client: serde_json::Map<String, serde_json::Value>,
}

/// The platforms' face verification checks a name against a resident ID only.
pub fn face_check_needs_resident_id() -> FieldError {
    FieldError::new(
        FieldCode::IdTypeUnsupported,
        "人脸核验仅支持居民身份证；持其他证件的，请在场所出示证件由工作人员登记",
    )
}

/// Opens a face check of the caller against `claim`, or against the identity the account
/// declared when `claim` is `None`.
pub async fn start(
    state: &Arc<AppState>,
    account: &Account,
    claim: Option<(IdNumber, PersonName)>,
) -> Result<VerificationStart, IdentityError> {
    let row = accounts::account_row(state, account).await?;
    let (id_number, name) = match claim {
        Some(claim) => claim,
        None => {
            let declared = {
                let row = row.clone();
                state
                    .read(move |state, conn| accounts::identity_of(state, conn, &row))
                    .await?
            };
            let person = declared.ok_or_else(|| {
                FieldErrors::one(
                    "id_number",
                    FieldError::new(FieldCode::Required, "请填写要核验的姓名和身份证号"),
                )
            })?;
            let id_number = person
                .document
                .as_ref()
                .and_then(IdDocument::resident_id)
                .ok_or_else(|| FieldErrors::one("id_type", face_check_needs_resident_id()))?;
            (id_number, person.name)
        }
    };
    let (account_id, since) = (row.id, state.clock.now_naive() - Duration::days(1));
    let opened = state
        .read(move |_, conn| identity_verifications::count_since(conn, account_id, since))
        .await?;
    if opened >= DAILY_CHECKS {
        return Err(IdentityError::TooManyChecks {
            retry_after_secs: 3600,
        });
    }
    let provider = state.providers.for_account(row.platform, &row.subject)?;
    let out_id = uuid::Uuid::new_v4().simple().to_string();
    let claim = IdentityClaim {
        name: name.as_ref(),
        id_number: id_number.as_ref(),
    };
    let ticket = provider
        .start_verification(&row.subject, &claim, &out_id)
        .await?;
    let now = state.clock.now_naive();
    let expires_at = now + Duration::seconds(ticket.expires_in_secs.min(86_400) as i64);
    let (id, provider_id, platform, account_id) = (
        out_id.clone(),
        ticket.provider_id.clone(),
        row.platform,
        row.id,
    );
    state
        .write(move |state, conn| {
            identity_verifications::insert(
                conn,
                &state.cipher,
                &NewVerification {
                    id: &id,
                    account_id,
                    platform,
                    provider_id: &provider_id,
                    id_number: &id_number,
                    name: &name,
                    created_at: now,
                    expires_at,
                },
            )
        })
        .await?;
    Ok(VerificationStart {
        platform: row.platform,
        verification_id: out_id,
        expires_at: state.clock.show(expires_at),
        client: match ticket.client {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        },
    })
}

/// Asks the platform what became of a face check; a verified one binds the identity to the
/// caller's account, verified.
pub async fn result(
    state: &Arc<AppState>,
    account: &Account,
    verification_id: String,
) -> Result<MeView, IdentityError> {
    let row = accounts::account_row(state, account).await?;
    let (account_id, lookup) = (row.id, verification_id.clone());
    let verification: VerificationRow = state
        .read(move |_, conn| {
            identity_verifications::find_of_account(conn, account_id, &lookup)?
                .ok_or(IdentityError::NotFound)
        })
        .await?;
    match verification.status {
        VerificationStatus::Verified => return Ok(accounts::get_me(state, account).await?),
        VerificationStatus::Failed => {
            return Err(IdentityError::Failed("the check failed before".into()))
        }
        VerificationStatus::Pending => {}
    }
    let (id_number, name) = verification.claim(&state.cipher)?;
    let outcome = if verification.expires_at <= state.clock.now_naive() {
        VerificationOutcome::Failed("the check expired".into())
    } else {
        let provider = state.providers.for_account(row.platform, &row.subject)?;
        let claim = IdentityClaim {
            name: name.as_ref(),
            id_number: id_number.as_ref(),
        };
        provider
            .verification_result(
                &row.subject,
                &claim,
                &verification.id,
                &verification.provider_id,
            )
            .await?
    };
    state
        .write(move |state, conn| {
            let now = state.clock.now_naive();
            if let VerificationOutcome::Failed(reason) = outcome {
                identity_verifications::complete(
                    conn,
                    &verification_id,
                    VerificationStatus::Failed,
                    now,
                )?;
                return Ok(Err(IdentityError::Failed(reason)));
            }
            bind_verified(state, conn, &row, &id_number, &name)?;
            changed(state, conn, &[CacheKey::Account(row.id)])?;
            identity_verifications::complete(
                conn,
                &verification_id,
                VerificationStatus::Verified,
                now,
            )?;
            Ok::<_, IdentityError>(Ok(accounts::me(state, conn, row.id)?))
        })
        .await?
}

/// Binds a verified identity to `account`: an account that only declared it loses it and is
/// told; one that verified it keeps it.
fn bind_verified(
    state: &AppState,
    conn: &mut DbConnection,
    account: &account_rows::AccountRow,
    id_number: &IdNumber,
    name: &PersonName,
) -> Result<(), IdentityError> {
    let now = state.clock.now_naive();
    let new = NewPerson {
        key: &PersonKey::Document(IdDocument::from(id_number.clone())),
        name,
        birth_date: None,
        region: None,
    };
    let person = persons::find_or_create(conn, &state.cipher, new, now)?;
    if let Some(owner) = account_rows::owner_of(conn, person.id)? {
        if owner.id != account.id {
            if owner.is_verified() {
                return Err(AccountError::IdentityAlreadyBound {
                    verification_required: false,
                }
                .into());
            }
            release_binding(
                state,
                conn,
                &owner,
                "您账号绑定的实名信息已由本人通过人脸核验认领，您的账号已解除该实名绑定。如有疑问请联系当地卫生健康部门。",
                now,
            )?;
        }
    }
    if let Some(earlier) = account.person_id.filter(|p| *p != person.id) {
        if account.is_verified() {
            return Err(AccountError::IdentityMismatch.into());
        }
        // The account declared someone else before: that declaration and its paper codes end.
        account_rows::release_identity(conn, account.id)?;
        paper_codes::revoke(conn, account.id, Some(earlier), now)?;
    }
    persons::set_verified_name(conn, &state.cipher, person.id, name, now)?;
    if account.person_id != Some(person.id) {
        // Whatever a previous holder of the identity accepted is not this account's word.
        accounts::identity_changed_hands(state, conn, person.id)?;
    }
    account_rows::bind_person(
        conn,
        &state.cipher,
        account.id,
        person.id,
        name,
        Some(now),
        now,
    )?;
    Ok(())
}

/// Unlinks `owner`'s identity, revokes the paper codes it printed of that person and tells it why.
fn release_binding(
    state: &AppState,
    conn: &mut DbConnection,
    owner: &account_rows::AccountRow,
    message: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    account_rows::release_identity(conn, owner.id)?;
    changed(state, conn, &[CacheKey::Account(owner.id)])?;
    if let Some(person_id) = owner.person_id {
        paper_codes::revoke(conn, owner.id, Some(person_id), now)?;
        accounts::identity_changed_hands(state, conn, person_id)?;
    }
    notifications::insert_message(
        conn,
        owner.id,
        NotificationKind::IdentityReleased,
        message,
        None,
        now,
    )
}

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("no such person in this region, or no account holds the identity")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A health official of the person's region releases the account binding of an identity (a
/// verified one too), so that its true holder can claim it; audited, and the account is told.
pub async fn release(
    state: &Arc<AppState>,
    official: &Staff,
    document: IdDocument,
) -> Result<(), ReleaseError> {
    let official = official.clone();
    state
        .write(move |state, conn| {
            let person = authorize::person(state, conn, &official, &document)?
                .ok_or(ReleaseError::NotFound)?;
            let owner = account_rows::owner_of(conn, person.id)?.ok_or(ReleaseError::NotFound)?;
            release_binding(
                state,
                conn,
                &owner,
                "您账号绑定的实名信息已由卫生健康部门解除。如需重新绑定，请通过人脸核验认证本人身份。",
                state.clock.now_naive(),
            )?;
            let entry = audit::by_staff(&official, "identity.release", format!("person:{}", person.id), 1);
            audit::record(state, conn, &[entry])?;
            Ok(())
        })
        .await
}
