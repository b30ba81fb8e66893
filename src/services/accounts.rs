//! Mini-program accounts: logging in through the platform, the account as its owner sees it, and
//! the three-element consent of the seeds — (a) nickname, avatar, gender and region, (b) mobile
//! number, (c) real name and ID number — granted once and withdrawable.
//!
//! One ID number has one owner: an account that declares an identity another account holds is
//! refused, and must prove it by a face check (`identity.rs`). A declared name is kept with the
//! account; the person's own name is written only when the person is new or a face check verified it.

use std::sync::Arc;

use serde::Serialize;

use super::cache_sync::changed;
use crate::auth::{Account, SessionKind};
use crate::cache::{AccountSnapshot, CacheKey, CompanionSnapshot};
use crate::crypto::Field;
use crate::db::accounts::{self, AccountRow, Consent};
use crate::db::persons::{self, Person};
use crate::db::persons::{NewPerson, PersonKey};
use crate::db::{companions, paper_codes, DbConnection, DbError};
use crate::domain::{
    FieldCode, FieldError, FieldErrors, IdDocument, IdType, MobileNumber, PersonName, Platform,
};
use crate::platforms::{IdentityProvider, PhoneProof, PlatformError, PlatformProfile};
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The session names an account that no longer exists.
    #[error("the account does not exist")]
    Gone,
    #[error("consent is missing: {0:?}")]
    ConsentRequired(Vec<&'static str>),
    /// Another account holds this ID number. A face check can claim it from a declared binding;
    /// a verified binding only an official can release.
    #[error("the identity is bound to another account")]
    IdentityAlreadyBound { verification_required: bool },
    /// This account already holds another identity; it must withdraw first.
    #[error("the account holds another identity")]
    IdentityMismatch,
    /// Development logins exist only in development.
    #[error("development logins are off")]
    DevLoginsOff,
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    #[error(transparent)]
    Db(#[from] DbError),
}

#[derive(Debug, Serialize)]
pub struct MaskedIdentity {
    /// `张*`.
    pub name: String,
    pub id_type: IdType,
    /// `1101**********002X`, `E1*****78`.
    pub id_number: String,
    /// Whether a face check proved the account's holder is this person.
    pub verified: bool,
}

/// The account as its owner sees it, personal data masked.
#[derive(Debug, Serialize)]
pub struct MeView {
    pub id: i64,
    pub platform: Platform,
    pub consent: Consent,
    pub identity: Option<MaskedIdentity>,
    /// `138****5678`.
    pub phone: Option<String>,
    pub profile: Option<PlatformProfile>,
}

#[derive(Debug, Serialize)]
pub struct SessionView {
    pub token: String,
    pub expires_at: String,
    pub user: MeView,
}

/// How a login arrives.
#[derive(Debug, Clone, Copy)]
pub enum LoginVia {
    /// The platform's own one-time code.
    Platform(Platform),
    /// Development only: any subject, no platform called.
    Development(Platform),
}

/// What one consent request grants, each part already validated at the edge.
#[derive(Debug, Default)]
pub struct ConsentOffer {
    pub profile: Option<PlatformProfile>,
    pub phone: Option<PhoneProof>,
    pub identity: Option<(IdDocument, PersonName)>,
}

/// The person behind an account with the name the account goes by: the declared name, which
/// for a verified identity is the verified one.
pub fn identity_of(
    state: &AppState,
    conn: &mut DbConnection,
    account: &AccountRow,
) -> Result<Option<Person>, DbError> {
    let Some(person_id) = account.person_id else {
        return Ok(None);
    };
    let Some(mut person) = persons::open(conn, &state.cipher, person_id)? else {
        return Ok(None);
    };
    if let Some(declared) = account.declared_name(&state.cipher)? {
        person.name = declared;
    }
    Ok(Some(person))
}

pub(crate) fn me(
    state: &AppState,
    conn: &mut DbConnection,
    account_id: i64,
) -> Result<MeView, AccountError> {
    let account = accounts::find(conn, account_id)?.ok_or(AccountError::Gone)?;
    let person = identity_of(state, conn, &account)?;
    Ok(MeView {
        id: account.id,
        platform: account.platform,
        consent: account.consent(),
        identity: person.and_then(|p| {
            let document = p.document?;
            Some(MaskedIdentity {
                name: p.name.masked(),
                id_type: document.kind(),
                id_number: document.masked(),
                verified: account.is_verified(),
            })
        }),
        phone: account.phone(&state.cipher)?.map(|p| p.masked()),
        profile: account.profile(&state.cipher)?,
    })
}

/// Exchanges the code with the platform, records the login and issues the session.
pub async fn login(
    state: &Arc<AppState>,
    via: LoginVia,
    code: String,
) -> Result<SessionView, AccountError> {
    let (provider, platform) = match via {
        LoginVia::Platform(platform) => (state.providers.for_platform(platform)?, platform),
        LoginVia::Development(platform) => (
            state
                .providers
                .dev
                .as_ref()
                .ok_or(AccountError::DevLoginsOff)?,
            platform,
        ),
    };
    let login = provider.login(&code).await?;
    let (token, user) = state
        .write(move |state, conn| {
            let now = state.clock.now_naive();
            let account = accounts::record_login(conn, &state.cipher, platform, &login, now)?;
            let issued = state.sessions.issue(
                &SessionKind::Resident {
                    account_id: account.id,
                    platform,
                    issued_at: state.clock.now().timestamp(),
                },
                state.clock.now(),
            );
            Ok::<_, AccountError>((issued, me(state, conn, account.id)?))
        })
        .await?;
    Ok(SessionView {
        token: token.token,
        expires_at: state.clock.show_utc(token.expires_at),
        user,
    })
}

pub async fn get_me(state: &Arc<AppState>, account: &Account) -> Result<MeView, AccountError> {
    let account_id = account.id;
    state
        .read(move |state, conn| me(state, conn, account_id))
        .await
}

/// The account row, for a caller whose session names it.
pub async fn account_row(
    state: &Arc<AppState>,
    account: &Account,
) -> Result<AccountRow, AccountError> {
    let account_id = account.id;
    state
        .read(move |_, conn| accounts::find(conn, account_id)?.ok_or(AccountError::Gone))
        .await
}

/// Resolves each offered element with the platform, then applies all of them in one transaction:
/// all of them or none.
pub async fn grant_consent(
    state: &Arc<AppState>,
    account: &Account,
    offer: ConsentOffer,
) -> Result<MeView, AccountError> {
    let row = account_row(state, account).await?;
    let provider = state.providers.for_account(row.platform, &row.subject)?;
    let phone = match &offer.phone {
        Some(proof) => Some(verified_phone(provider.as_ref(), proof).await?),
        None => None,
    };
    // An Alipay phone answer names no user: each is accepted for one account only.
    let proof_hashes = match &offer.phone {
        Some(PhoneProof::AlipayResponse(response)) => {
            Some(state.cipher.lookup_hashes(Field::PhoneProof, response))
        }
        _ => None,
    };
    let profile = match offer.profile {
        Some(offered) => {
            let token = row.platform_token(&state.cipher, state.clock.now_naive());
            Some(provider.profile(token.as_deref(), Some(offered)).await?)
        }
        None => None,
    };
    let identity = offer.identity;
    state
        .write(move |state, conn| {
            let now = state.clock.now_naive();
            if let Some(hashes) = &proof_hashes {
                if !accounts::claim_phone_proof(conn, hashes, row.id, now)? {
                    return Err(PlatformError::CodeInvalid(
                        "this phone answer was used by another account".into(),
                    )
                    .into());
                }
            }
            if let Some(profile) = &profile {
                accounts::set_profile(conn, &state.cipher, row.id, profile, now)?;
            }
            if let Some(phone) = &phone {
                accounts::set_phone(conn, &state.cipher, row.id, phone, now)?;
            }
            if let Some((document, name)) = &identity {
                declare_identity(state, conn, &row, document, name)?;
            }
            let granted: Vec<&str> = [
                ("profile", profile.is_some()),
                ("phone", phone.is_some()),
                ("identity", identity.is_some()),
            ]
            .into_iter()
            .filter_map(|(element, given)| given.then_some(element))
            .collect();
            accounts::record_consent(conn, row.id, &granted, true, now)?;
            changed(state, conn, &[CacheKey::Account(row.id)])?;
            me(state, conn, row.id)
        })
        .await
}

async fn verified_phone(
    provider: &dyn IdentityProvider,
    proof: &PhoneProof,
) -> Result<MobileNumber, AccountError> {
    let number = provider.phone_number(proof).await?;
    MobileNumber::parse(&number).map_err(|_| {
        FieldErrors::one(
            "phone",
            FieldError::new(FieldCode::MobileUnsupported, "仅支持中国大陆手机号码"),
        )
        .into()
    })
}

/// Declares an identity: one identity per account, one account per identity. A person new to the
/// system takes the declared name; an existing person keeps theirs, and the declared name stays
/// with the account.
fn declare_identity(
    state: &AppState,
    conn: &mut DbConnection,
    account: &AccountRow,
    document: &IdDocument,
    name: &PersonName,
) -> Result<(), AccountError> {
    let existing = persons::find_by_document(conn, &state.cipher, document)?;
    if let Some(current) = account.person_id {
        if existing.as_ref().map(|p| p.id) != Some(current) {
            return Err(AccountError::IdentityMismatch);
        }
        if account.is_verified() {
            // A verified name is not re-declared.
            return Ok(());
        }
    }
    if let Some(person) = &existing {
        if let Some(owner) = accounts::owner_of(conn, person.id)? {
            if owner.id != account.id {
                return Err(AccountError::IdentityAlreadyBound {
                    verification_required: !owner.is_verified(),
                });
            }
        }
    }
    let now = state.clock.now_naive();
    let new = NewPerson {
        key: &PersonKey::Document(document.clone()),
        name,
        birth_date: None,
        region: None,
    };
    let person = persons::find_or_create(conn, &state.cipher, new, now)?;
    if account.person_id != Some(person.id) {
        // Accounts that hold this person as a companion now need this account's acceptance.
        identity_changed_hands(state, conn, person.id)?;
    }
    accounts::bind_person(conn, &state.cipher, account.id, person.id, name, None, now).map_err(
        |e| {
            if e.is_unique_violation() {
                // Another account declared the same identity a moment before.
                AccountError::IdentityAlreadyBound {
                    verification_required: true,
                }
            } else {
                e.into()
            }
        },
    )
}

/// Withdraws all three elements: the profile and phone are deleted, the identity unlinked, the
/// companions the account named forgotten and every paper code it printed revoked. Records made
/// while consent was given stay until the retention period deletes them.
pub async fn withdraw_consent(
    state: &Arc<AppState>,
    account: &Account,
) -> Result<(), AccountError> {
    let account_id = account.id;
    state
        .write(move |state, conn| withdraw_all(state, conn, account_id))
        .await
}

/// Withdraws all three elements of `account_id` in the caller's transaction (see
/// [`withdraw_consent`]); cancelling an account begins with it.
pub(crate) fn withdraw_all(
    state: &AppState,
    conn: &mut DbConnection,
    account_id: i64,
) -> Result<(), AccountError> {
    let account = accounts::find(conn, account_id)?.ok_or(AccountError::Gone)?;
    companions::remove_all_of_account(conn, account_id)?;
    changed(state, conn, &[CacheKey::Account(account_id)])?;
    if let Some(person_id) = account.person_id {
        // Others' companion rows of this person wait for a new owner's word.
        identity_changed_hands(state, conn, person_id)?;
    }
    let withdrawn: Vec<&str> = [
        ("profile", account.consent_profile_at.is_some()),
        ("phone", account.consent_phone_at.is_some()),
        ("identity", account.consent_identity_at.is_some()),
    ]
    .into_iter()
    .filter_map(|(element, was)| was.then_some(element))
    .collect();
    let now = state.clock.now_naive();
    accounts::record_consent(conn, account_id, &withdrawn, false, now)?;
    paper_codes::revoke(conn, account_id, None, now)?;
    Ok(accounts::clear_consent(conn, account_id)?)
}

/// What the scan needs of an account, from memory or, the first time, from the database.
pub async fn snapshot(
    state: &Arc<AppState>,
    account_id: i64,
) -> Result<Arc<AccountSnapshot>, AccountError> {
    if let Some(snapshot) = state.caches.accounts.get(account_id) {
        return Ok(snapshot);
    }
    let epoch = state.caches.accounts.epoch();
    let snapshot = state
        .read(move |state, conn| load_snapshot(state, conn, account_id))
        .await?;
    state
        .caches
        .accounts
        .put(account_id, Arc::clone(&snapshot), epoch);
    Ok(snapshot)
}

fn load_snapshot(
    state: &AppState,
    conn: &mut DbConnection,
    account_id: i64,
) -> Result<Arc<AccountSnapshot>, AccountError> {
    // A cancelled account is not found: its sessions end on every node as the change reaches it.
    let account = accounts::find(conn, account_id)?.ok_or(AccountError::Gone)?;
    let me = identity_of(state, conn, &account)?;
    let companions = companions::list(conn, account_id)?
        .iter()
        .map(|held| {
            Ok(CompanionSnapshot {
                id: held.row.id,
                person: held.open(&state.cipher)?,
                accepted: held.accepted(),
                own_account: held.own_account,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok(Arc::new(AccountSnapshot {
        id: account_id,
        missing_consent: account.consent().missing(),
        me,
        verified: account.is_verified(),
        companions,
    }))
}

/// The account's own person, when it consented to all three elements; otherwise which are
/// missing.
pub fn consented_snapshot(snapshot: &AccountSnapshot) -> Result<&Person, AccountError> {
    if !snapshot.missing_consent.is_empty() {
        return Err(AccountError::ConsentRequired(
            snapshot.missing_consent.clone(),
        ));
    }
    snapshot
        .me
        .as_ref()
        .ok_or_else(|| AccountError::ConsentRequired(vec!["identity"]))
}

/// The account, when it consented to all three elements; otherwise which are missing.
pub fn consented(conn: &mut DbConnection, account_id: i64) -> Result<AccountRow, AccountError> {
    let account = accounts::find(conn, account_id)?.ok_or(AccountError::Gone)?;
    let consent = account.consent();
    if !consent.is_complete() {
        return Err(AccountError::ConsentRequired(consent.missing()));
    }
    Ok(account)
}

/// The person behind an account that consented to all three elements, with the account's name.
pub fn consented_person(
    state: &AppState,
    conn: &mut DbConnection,
    account_id: i64,
) -> Result<Person, AccountError> {
    let account = consented(conn, account_id)?;
    identity_of(state, conn, &account)?.ok_or(AccountError::ConsentRequired(vec!["identity"]))
}

/// The person's identity was bound to an account, or released from one (a declaration, a
/// verified claim that took it from another account, a withdrawal, an official's release): what
/// the previous holder accepted is nobody's word now, so every companion row of the person waits
/// for an acceptance again, and the holders' accounts are read again on every node.
pub fn identity_changed_hands(
    state: &AppState,
    conn: &mut crate::db::DbConnection,
    person_id: i64,
) -> Result<(), DbError> {
    crate::db::companions::reset_acceptances(conn, person_id)?;
    let holders = crate::db::companions::holders_of(conn, &[person_id], false)?;
    for (_, holder) in &holders {
        // A paper code printed for them by another account stops working with its acceptance.
        crate::db::paper_codes::revoke(conn, *holder, Some(person_id), state.clock.now_naive())?;
    }
    let keys: Vec<CacheKey> = holders
        .into_iter()
        .map(|(_, holder)| CacheKey::Account(holder))
        .collect();
    changed(state, conn, &keys)
}
