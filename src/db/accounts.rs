//! Mini-program accounts and the three consent elements they grant: profile, phone, identity.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::accounts;
use super::{DbConnection, DbError};
use crate::crypto::{Field, PiiCipher};
use crate::domain::{MobileNumber, PersonName, Platform};
use crate::platforms::{PlatformLogin, PlatformProfile};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub struct AccountRow {
    pub id: i64,
    pub platform: Platform,
    pub subject: String,
    pub platform_user_id: Option<String>,
    pub person_id: Option<i64>,
    pub profile_sealed: Option<String>,
    pub phone_sealed: Option<String>,
    pub phone_hash: Option<String>,
    pub platform_token_sealed: Option<String>,
    pub platform_token_expires_at: Option<NaiveDateTime>,
    pub consent_profile_at: Option<NaiveDateTime>,
    pub consent_phone_at: Option<NaiveDateTime>,
    pub consent_identity_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub last_login_at: NaiveDateTime,
    /// The name this account declared with its identity, sealed.
    pub declared_name_sealed: Option<String>,
    /// When a face check verified that the account's holder is the person of its identity.
    pub identity_verified_at: Option<NaiveDateTime>,
    /// When its holder cancelled it: the row holds nothing of them any more.
    pub deleted_at: Option<NaiveDateTime>,
}

impl AccountRow {
    pub fn is_verified(&self) -> bool {
        self.person_id.is_some() && self.identity_verified_at.is_some()
    }

    /// The name this account declared, opened.
    pub fn declared_name(&self, cipher: &PiiCipher) -> Result<Option<PersonName>, DbError> {
        self.declared_name_sealed
            .as_deref()
            .map(|sealed| super::open_name(cipher, sealed, format_args!("account {}", self.id)))
            .transpose()
    }

    /// The three consent elements, in the order the seeds list them.
    pub fn consent(&self) -> Consent {
        Consent {
            profile: self.consent_profile_at.is_some(),
            phone: self.consent_phone_at.is_some(),
            identity: self.consent_identity_at.is_some() && self.person_id.is_some(),
        }
    }

    pub fn phone(&self, cipher: &PiiCipher) -> Result<Option<MobileNumber>, DbError> {
        self.phone_sealed
            .as_deref()
            .map(|sealed| {
                let phone = cipher
                    .open(Field::Phone, sealed)
                    .map_err(|e| DbError::Other(format!("account {}: {e}", self.id)))?;
                MobileNumber::parse(&phone)
                    .map_err(|e| DbError::Other(format!("account {}: stored phone: {e}", self.id)))
            })
            .transpose()
    }

    pub fn profile(&self, cipher: &PiiCipher) -> Result<Option<PlatformProfile>, DbError> {
        self.profile_sealed
            .as_deref()
            .map(|sealed| {
                let text = cipher
                    .open(Field::Profile, sealed)
                    .map_err(|e| DbError::Other(format!("account {}: {e}", self.id)))?;
                serde_json::from_str(&text).map_err(|e| {
                    DbError::Other(format!("account {}: stored profile: {e}", self.id))
                })
            })
            .transpose()
    }

    /// The platform's access token, when one is held and not expired at `now`.
    pub fn platform_token(&self, cipher: &PiiCipher, now: NaiveDateTime) -> Option<String> {
        let expires_at = self.platform_token_expires_at?;
        if expires_at <= now {
            return None;
        }
        cipher
            .open(Field::PlatformToken, self.platform_token_sealed.as_deref()?)
            .ok()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Consent {
    pub profile: bool,
    pub phone: bool,
    pub identity: bool,
}

impl Consent {
    pub fn is_complete(&self) -> bool {
        self.profile && self.phone && self.identity
    }

    /// The elements still missing, by name.
    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("profile", self.profile),
            ("phone", self.phone),
            ("identity", self.identity),
        ]
        .into_iter()
        .filter(|(_, granted)| !granted)
        .map(|(name, _)| name)
        .collect()
    }
}

/// The account, unless it was cancelled.
pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<AccountRow>, DbError> {
    Ok(accounts::table
        .find(id)
        .filter(accounts::deleted_at.is_null())
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?)
}

fn find_by_subject(
    conn: &mut DbConnection,
    platform: Platform,
    subject: &str,
) -> Result<Option<AccountRow>, DbError> {
    Ok(accounts::table
        .filter(accounts::platform.eq(platform))
        .filter(accounts::subject.eq(subject))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?)
}

/// The account of a platform login, created on first sight. Call inside a transaction.
pub fn record_login(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    platform: Platform,
    login: &PlatformLogin,
    now: NaiveDateTime,
) -> Result<AccountRow, DbError> {
    let token_sealed = login
        .access_token
        .as_ref()
        .map(|(token, _)| cipher.seal(Field::PlatformToken, token));
    let token_expires = login
        .access_token
        .as_ref()
        .map(|(_, expires)| expires.naive_utc());
    if let Some(existing) = find_by_subject(conn, platform, &login.subject)? {
        diesel::update(accounts::table.find(existing.id))
            .set((
                accounts::last_login_at.eq(now),
                accounts::platform_user_id.eq(login
                    .platform_user_id
                    .as_ref()
                    .or(existing.platform_user_id.as_ref())),
                accounts::platform_token_sealed.eq(&token_sealed),
                accounts::platform_token_expires_at.eq(token_expires),
            ))
            .execute(conn)?;
    } else {
        diesel::insert_into(accounts::table)
            .values((
                accounts::platform.eq(platform),
                accounts::subject.eq(&login.subject),
                accounts::platform_user_id.eq(&login.platform_user_id),
                accounts::platform_token_sealed.eq(&token_sealed),
                accounts::platform_token_expires_at.eq(token_expires),
                accounts::created_at.eq(now),
                accounts::last_login_at.eq(now),
            ))
            .execute(conn)?;
    }
    find_by_subject(conn, platform, &login.subject)?
        .ok_or_else(|| DbError::Other("an account vanished at login".into()))
}

pub fn set_profile(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    account_id: i64,
    profile: &PlatformProfile,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let text = serde_json::to_string(profile).expect("a profile serialises");
    diesel::update(accounts::table.find(account_id))
        .set((
            accounts::profile_sealed.eq(cipher.seal(Field::Profile, &text)),
            accounts::consent_profile_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_phone(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    account_id: i64,
    phone: &MobileNumber,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(accounts::table.find(account_id))
        .set((
            accounts::phone_sealed.eq(cipher.seal(Field::Phone, phone.as_ref())),
            accounts::phone_hash.eq(cipher.lookup_hash(Field::Phone, phone.as_ref())),
            accounts::consent_phone_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Binds the account to a person: declared (`verified_at` is `None`) or verified by a face check.
pub fn bind_person(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    account_id: i64,
    person_id: i64,
    declared_name: &PersonName,
    verified_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(accounts::table.find(account_id))
        .set((
            accounts::person_id.eq(person_id),
            accounts::consent_identity_at.eq(now),
            accounts::declared_name_sealed.eq(cipher.seal(Field::Name, declared_name.as_ref())),
            accounts::identity_verified_at.eq(verified_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The account that holds this person's identity, if any.
pub fn owner_of(conn: &mut DbConnection, person_id: i64) -> Result<Option<AccountRow>, DbError> {
    Ok(accounts::table
        .filter(accounts::person_id.eq(person_id))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?)
}

/// Unlinks the account's identity; its profile and phone stay.
pub fn release_identity(conn: &mut DbConnection, account_id: i64) -> Result<(), DbError> {
    diesel::update(accounts::table.find(account_id))
        .set((
            accounts::person_id.eq(None::<i64>),
            accounts::consent_identity_at.eq(None::<NaiveDateTime>),
            accounts::declared_name_sealed.eq(None::<String>),
            accounts::identity_verified_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets the profile and phone and unlinks the identity.
pub fn clear_consent(conn: &mut DbConnection, account_id: i64) -> Result<(), DbError> {
    diesel::update(accounts::table.find(account_id))
        .set((
            accounts::profile_sealed.eq(None::<String>),
            accounts::phone_sealed.eq(None::<String>),
            accounts::phone_hash.eq(None::<String>),
            accounts::person_id.eq(None::<i64>),
            accounts::consent_profile_at.eq(None::<NaiveDateTime>),
            accounts::consent_phone_at.eq(None::<NaiveDateTime>),
            accounts::consent_identity_at.eq(None::<NaiveDateTime>),
            accounts::declared_name_sealed.eq(None::<String>),
            accounts::identity_verified_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// The accounts bound to one of these people, as (person id, account id): every binding, or
/// with `verified_only` those a face check proved.
pub fn owners(
    conn: &mut DbConnection,
    person_ids: &[i64],
    verified_only: bool,
) -> Result<Vec<(i64, i64)>, DbError> {
    let mut query = accounts::table
        .filter(accounts::person_id.eq_any(person_ids))
        .select((accounts::person_id, accounts::id))
        .into_boxed();
    if verified_only {
        query = query.filter(accounts::identity_verified_at.is_not_null());
    }
    Ok(query
        .load::<(Option<i64>, i64)>(conn)?
        .into_iter()
        .filter_map(|(person, account)| Some((person?, account)))
        .collect())
}

/// The sealed phone numbers people consented to give through their accounts, by person.
pub fn sealed_phones_of(
    conn: &mut DbConnection,
    person_ids: &[i64],
) -> Result<Vec<(i64, String)>, DbError> {
    Ok(accounts::table
        .filter(accounts::person_id.eq_any(person_ids))
        .filter(accounts::phone_sealed.is_not_null())
        .select((accounts::person_id, accounts::phone_sealed))
        .load::<(Option<i64>, Option<String>)>(conn)?
        .into_iter()
        .filter_map(|(person, phone)| Some((person?, phone?)))
        .collect())
}

/// Records that `account_id` used a phone proof; `false` when another account used it before.
pub fn claim_phone_proof(
    conn: &mut DbConnection,
    proof_hashes: &[String],
    account_id: i64,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    use super::schema::used_phone_proofs;
    let proof_hash = proof_hashes
        .first()
        .ok_or_else(|| DbError::Other("a phone proof needs its hash".into()))?;
    let earlier: Option<i64> = used_phone_proofs::table
        .filter(used_phone_proofs::proof_hash.eq_any(proof_hashes))
        .select(used_phone_proofs::account_id)
        .first(conn)
        .optional()?;
    match earlier {
        Some(owner) => Ok(owner == account_id),
        None => {
            diesel::insert_into(used_phone_proofs::table)
                .values((
                    used_phone_proofs::proof_hash.eq(proof_hash),
                    used_phone_proofs::account_id.eq(account_id),
                    used_phone_proofs::used_at.eq(now),
                ))
                .execute(conn)?;
            Ok(true)
        }
    }
}

/// Cancels an account (注销): everything it held of its holder is erased — profile, phone,
/// platform identifiers and token, the identity binding and its declared name, consent — and the
/// row stays only as a number that older records may name. The next login through the platform
/// finds no account and makes a new, empty one.
pub fn cancel(conn: &mut DbConnection, account_id: i64, now: NaiveDateTime) -> Result<(), DbError> {
    diesel::update(accounts::table.find(account_id))
        .set((
            accounts::subject.eq(format!("cancelled:{account_id}")),
            accounts::platform_user_id.eq(None::<String>),
            accounts::person_id.eq(None::<i64>),
            accounts::profile_sealed.eq(None::<String>),
            accounts::phone_sealed.eq(None::<String>),
            accounts::phone_hash.eq(None::<String>),
            accounts::platform_token_sealed.eq(None::<String>),
            accounts::platform_token_expires_at.eq(None::<NaiveDateTime>),
            accounts::consent_profile_at.eq(None::<NaiveDateTime>),
            accounts::consent_phone_at.eq(None::<NaiveDateTime>),
            accounts::consent_identity_at.eq(None::<NaiveDateTime>),
            accounts::declared_name_sealed.eq(None::<String>),
            accounts::identity_verified_at.eq(None::<NaiveDateTime>),
            accounts::deleted_at.eq(Some(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// One grant or withdrawal of a consent element.
#[derive(Debug, Clone, Queryable)]
pub struct ConsentEvent {
    pub element: String,
    pub granted: bool,
    pub at: NaiveDateTime,
}

/// Records grants or withdrawals of consent elements (`profile`, `phone`, `identity`).
pub fn record_consent(
    conn: &mut DbConnection,
    account_id: i64,
    elements: &[&str],
    granted: bool,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    use super::schema::consent_events;
    for element in elements {
        diesel::insert_into(consent_events::table)
            .values((
                consent_events::account_id.eq(account_id),
                consent_events::element.eq(*element),
                consent_events::granted.eq(granted),
                consent_events::at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The account's consent history, oldest first.
pub fn consent_history(
    conn: &mut DbConnection,
    account_id: i64,
) -> Result<Vec<ConsentEvent>, DbError> {
    use super::schema::consent_events;
    Ok(consent_events::table
        .filter(consent_events::account_id.eq(account_id))
        .order((consent_events::at.asc(), consent_events::id.asc()))
        .select((
            consent_events::element,
            consent_events::granted,
            consent_events::at,
        ))
        .load(conn)?)
}

/// Forgets the account's consent history (with the account).
pub fn forget_consent_history(conn: &mut DbConnection, account_id: i64) -> Result<(), DbError> {
    use super::schema::consent_events;
    diesel::delete(consent_events::table.filter(consent_events::account_id.eq(account_id)))
        .execute(conn)?;
    Ok(())
}

/// Detaches a cancelled account from everything that named it: its check-ins stay, without it
/// and without the names it typed for its companions (pseudonymous: the person, no account),
/// until the retention period deletes them; its notifications, face checks, phone proofs and venue
/// staff places go. The venues it managed keep their manager's data as the application gave it
/// and stay tied to the cancelled account, which no one can log in as (so no one claims them by
/// the manager's phone number); their region hands them over to a new manager.
pub fn detach(conn: &mut DbConnection, account_id: i64) -> Result<(), DbError> {
    use super::schema::{
        check_ins, identity_verifications, notifications, used_phone_proofs, venue_staff,
    };
    use crate::domain::CheckInSource;
    diesel::update(
        check_ins::table
            .filter(check_ins::account_id.eq(account_id))
            .filter(check_ins::source.eq(CheckInSource::Scan)),
    )
    .set(check_ins::typed_name_sealed.eq(None::<String>))
    .execute(conn)?;
    diesel::update(check_ins::table.filter(check_ins::account_id.eq(account_id)))
        .set(check_ins::account_id.eq(None::<i64>))
        .execute(conn)?;
    diesel::delete(notifications::table.filter(notifications::account_id.eq(account_id)))
        .execute(conn)?;
    diesel::delete(
        identity_verifications::table.filter(identity_verifications::account_id.eq(account_id)),
    )
    .execute(conn)?;
    diesel::delete(used_phone_proofs::table.filter(used_phone_proofs::account_id.eq(account_id)))
        .execute(conn)?;
    diesel::delete(venue_staff::table.filter(venue_staff::account_id.eq(account_id)))
        .execute(conn)?;
    forget_consent_history(conn, account_id)
}

/// Check-ins a cancelled account's scan wrote while the cancellation was reaching every node:
/// detached like the rest (see [`detach`]).
pub fn detach_late_check_ins(conn: &mut DbConnection) -> Result<usize, DbError> {
    use super::schema::check_ins;
    let cancelled = accounts::table
        .filter(accounts::deleted_at.is_not_null())
        .select(accounts::id.nullable());
    Ok(
        diesel::update(check_ins::table.filter(check_ins::account_id.eq_any(cancelled)))
            .set((
                check_ins::account_id.eq(None::<i64>),
                check_ins::typed_name_sealed.eq(None::<String>),
            ))
            .execute(conn)?,
    )
}
