//! Mini-program accounts and the three consent elements they grant: profile, phone, identity.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::persons::{self, PersonRow};
use super::schema::accounts;
use super::{DbConnection, DbError};
use crate::domain::{IdNumber, MobileNumber, PersonName};
use crate::pii::{Field, PiiCipher};
use crate::platforms::{Platform, PlatformLogin, PlatformProfile};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub struct AccountRow {
    pub id: i64,
    pub platform: String,
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
}

impl AccountRow {
    pub fn platform(&self) -> Platform {
        Platform::parse(&self.platform).unwrap_or(Platform::Wechat)
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

    /// The platform's access token, when one is held and not expired.
    pub fn platform_token(&self, cipher: &PiiCipher) -> Option<String> {
        let expires_at = self.platform_token_expires_at?;
        if expires_at <= Utc::now().naive_utc() {
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

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<AccountRow>, DbError> {
    Ok(accounts::table
        .find(id)
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
        .filter(accounts::platform.eq(platform.as_str()))
        .filter(accounts::subject.eq(subject))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?)
}

/// The account of a platform login, created on first sight.
pub fn record_login(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    platform: Platform,
    login: &PlatformLogin,
) -> Result<AccountRow, DbError> {
    let now = Utc::now().naive_utc();
    let token_sealed = login
        .access_token
        .as_ref()
        .map(|(token, _)| cipher.seal(Field::PlatformToken, token));
    let token_expires = login
        .access_token
        .as_ref()
        .map(|(_, expires): &(String, DateTime<Utc>)| expires.naive_utc());
    super::write_transaction(conn, |conn| {
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
                    accounts::platform.eq(platform.as_str()),
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
    })
}

/// What one consent request grants; each part already resolved and validated.
#[derive(Debug, Default)]
pub struct ConsentGrant {
    pub profile: Option<PlatformProfile>,
    pub phone: Option<MobileNumber>,
    pub identity: Option<(IdNumber, PersonName)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    /// Another account of the same platform already holds this ID number.
    #[error("the identity is bound to another account of this platform")]
    IdentityAlreadyBound,
    /// This account already holds another identity; it must withdraw first.
    #[error("the account holds another identity")]
    IdentityMismatch,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for ConsentError {
    fn from(e: diesel::result::Error) -> Self {
        ConsentError::Db(e.into())
    }
}

/// Applies every granted element in one transaction: all of them or none.
pub fn grant(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    account_id: i64,
    grant: &ConsentGrant,
) -> Result<AccountRow, ConsentError> {
    let now = Utc::now().naive_utc();
    super::write_transaction(conn, |conn| {
        let account =
            find(conn, account_id)?.ok_or(DbError::Query(diesel::result::Error::NotFound))?;
        if let Some(profile) = &grant.profile {
            let text = serde_json::to_string(profile).expect("a profile serialises");
            diesel::update(accounts::table.find(account_id))
                .set((
                    accounts::profile_sealed.eq(cipher.seal(Field::Profile, &text)),
                    accounts::consent_profile_at.eq(now),
                ))
                .execute(conn)?;
        }
        if let Some(phone) = &grant.phone {
            diesel::update(accounts::table.find(account_id))
                .set((
                    accounts::phone_sealed.eq(cipher.seal(Field::Phone, phone.as_ref())),
                    accounts::phone_hash.eq(cipher.lookup_hash(Field::Phone, phone.as_ref())),
                    accounts::consent_phone_at.eq(now),
                ))
                .execute(conn)?;
        }
        if let Some((id_number, name)) = &grant.identity {
            let existing = persons::find_by_id_number(conn, cipher, id_number)?;
            if let (Some(current), Some(existing)) = (account.person_id, &existing) {
                if current != existing.id {
                    return Err(ConsentError::IdentityMismatch);
                }
            } else if account.person_id.is_some() {
                return Err(ConsentError::IdentityMismatch);
            }
            if let Some(existing) = &existing {
                let bound_elsewhere = accounts::table
                    .filter(accounts::person_id.eq(existing.id))
                    .filter(accounts::platform.eq(&account.platform))
                    .filter(accounts::id.ne(account_id))
                    .count()
                    .get_result::<i64>(conn)?;
                if bound_elsewhere > 0 {
                    return Err(ConsentError::IdentityAlreadyBound);
                }
            }
            let person: PersonRow = persons::upsert(conn, cipher, id_number, name)?;
            diesel::update(accounts::table.find(account_id))
                .set((
                    accounts::person_id.eq(person.id),
                    accounts::consent_identity_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(find(conn, account_id)?.ok_or(DbError::Query(diesel::result::Error::NotFound))?)
    })
}

/// Withdraws all three elements: the profile and phone are deleted, the identity unlinked and
/// the companions the account named are forgotten. Records made while consent was given stay
/// until the retention period deletes them.
pub fn withdraw(conn: &mut DbConnection, account_id: i64) -> Result<(), DbError> {
    super::write_transaction(conn, |conn| {
        diesel::delete(
            super::schema::companions::table
                .filter(super::schema::companions::account_id.eq(account_id)),
        )
        .execute(conn)?;
        clear_consent(conn, account_id)
    })
}

fn clear_consent(conn: &mut DbConnection, account_id: i64) -> Result<(), DbError> {
    diesel::update(accounts::table.find(account_id))
        .set((
            accounts::profile_sealed.eq(None::<String>),
            accounts::phone_sealed.eq(None::<String>),
            accounts::phone_hash.eq(None::<String>),
            accounts::person_id.eq(None::<i64>),
            accounts::consent_profile_at.eq(None::<NaiveDateTime>),
            accounts::consent_phone_at.eq(None::<NaiveDateTime>),
            accounts::consent_identity_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// The phone number a person consented to give through their account, if any.
pub fn phone_of_person(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    person_id: i64,
) -> Result<Option<String>, DbError> {
    let sealed: Option<Option<String>> = accounts::table
        .filter(accounts::person_id.eq(person_id))
        .filter(accounts::phone_sealed.is_not_null())
        .select(accounts::phone_sealed)
        .first(conn)
        .optional()?;
    sealed
        .flatten()
        .map(|s| {
            cipher
                .open(Field::Phone, &s)
                .map_err(|e| DbError::Other(e.to_string()))
        })
        .transpose()
}
