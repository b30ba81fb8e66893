//! Mini-program accounts: logging in through the platform, the account as its owner sees it, and
//! the three-element consent of the seeds — (a) nickname, avatar, gender and region, (b) mobile
//! number, (c) real name and ID number — granted once and withdrawable.

use std::sync::Arc;

use serde::Serialize;

use crate::auth::{Account, SessionKind};
use crate::db::accounts::{self, AccountRow, Consent};
use crate::db::persons::{self, Person};
use crate::db::{companions, DbConnection, DbError};
use crate::domain::{FieldError, FieldErrors, IdNumber, MobileNumber, PersonName, Platform};
use crate::platforms::{IdentityProvider, PhoneProof, PlatformError, PlatformProfile};
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The session names an account that no longer exists.
    #[error("the account does not exist")]
    Gone,
    #[error("consent is missing: {0:?}")]
    ConsentRequired(Vec<&'static str>),
    /// Another account of the same platform already holds this ID number.
    #[error("the identity is bound to another account of this platform")]
    IdentityAlreadyBound,
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
    /// `1101**********002X`.
    pub id_number: String,
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
    pub identity: Option<(IdNumber, PersonName)>,
}

fn me(state: &AppState, conn: &mut DbConnection, account_id: i64) -> Result<MeView, AccountError> {
    let account = accounts::find(conn, account_id)?.ok_or(AccountError::Gone)?;
    let person = match account.person_id {
        Some(id) => persons::open(conn, &state.cipher, id)?,
        None => None,
    };
    Ok(MeView {
        id: account.id,
        platform: account.platform,
        consent: account.consent(),
        identity: person.map(|p| MaskedIdentity {
            name: p.name.masked(),
            id_number: p.id_number.masked(),
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

/// Resolves each offered element with the platform, then applies all of them in one transaction:
/// all of them or none.
pub async fn grant_consent(
    state: &Arc<AppState>,
    account: &Account,
    offer: ConsentOffer,
) -> Result<MeView, AccountError> {
    let account_id = account.id;
    let row: AccountRow = state
        .read(move |_, conn| accounts::find(conn, account_id)?.ok_or(AccountError::Gone))
        .await?;
    let provider = state.providers.for_account(row.platform, &row.subject)?;
    let phone = match &offer.phone {
        Some(proof) => Some(verified_phone(provider.as_ref(), proof).await?),
        None => None,
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
            if let Some(profile) = &profile {
                accounts::set_profile(conn, &state.cipher, account_id, profile, now)?;
            }
            if let Some(phone) = &phone {
                accounts::set_phone(conn, &state.cipher, account_id, phone, now)?;
            }
            if let Some((id_number, name)) = &identity {
                bind_identity(state, conn, &row, id_number, name)?;
            }
            me(state, conn, account_id)
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
            FieldError::new("mobile_unsupported", "仅支持中国大陆手机号码"),
        )
        .into()
    })
}

/// Links the account to the person with this ID number: one identity per account, and one
/// account per platform per identity.
fn bind_identity(
    state: &AppState,
    conn: &mut DbConnection,
    account: &AccountRow,
    id_number: &IdNumber,
    name: &PersonName,
) -> Result<(), AccountError> {
    let existing = persons::find_by_id_number(conn, &state.cipher, id_number)?;
    match (account.person_id, &existing) {
        (Some(current), Some(existing)) if current != existing.id => {
            return Err(AccountError::IdentityMismatch)
        }
        (Some(_), None) => return Err(AccountError::IdentityMismatch),
        _ => {}
    }
    if let Some(existing) = &existing {
        if accounts::bound_on_platform(conn, existing.id, account.platform, account.id)? > 0 {
            return Err(AccountError::IdentityAlreadyBound);
        }
    }
    let now = state.clock.now_naive();
    let person = persons::upsert(conn, &state.cipher, id_number, name, now)?;
    accounts::bind_person(conn, account.id, person.id, now)?;
    Ok(())
}

/// Withdraws all three elements: the profile and phone are deleted, the identity unlinked and
/// the companions the account named are forgotten. Records made while consent was given stay
/// until the retention period deletes them.
pub async fn withdraw_consent(
    state: &Arc<AppState>,
    account: &Account,
) -> Result<(), AccountError> {
    let account_id = account.id;
    state
        .write(move |_, conn| {
            companions::remove_all_of_account(conn, account_id)?;
            Ok(accounts::clear_consent(conn, account_id)?)
        })
        .await
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

/// The person behind an account that consented to all three elements.
pub fn consented_person(
    state: &AppState,
    conn: &mut DbConnection,
    account_id: i64,
) -> Result<Person, AccountError> {
    let account = consented(conn, account_id)?;
    let person_id = account
        .person_id
        .ok_or(AccountError::ConsentRequired(vec!["identity"]))?;
    persons::open(conn, &state.cipher, person_id)?.ok_or(AccountError::Gone)
}
