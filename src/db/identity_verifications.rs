//! Face checks started with a platform, and what came of them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::identity_verifications;
use super::{DbConnection, DbError};
use crate::crypto::{Field, PiiCipher};
use crate::domain::{IdNumber, PersonName, Platform, VerificationStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = identity_verifications)]
pub struct VerificationRow {
    /// Ours, also sent to the platform as its out_seq_no / outer_order_no.
    pub id: String,
    pub account_id: i64,
    pub platform: Platform,
    /// The platform's: WeChat `verify_id`, Alipay `certify_id`.
    pub provider_id: String,
    pub id_number_hash: String,
    pub id_number_sealed: String,
    pub name_sealed: String,
    pub status: VerificationStatus,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub completed_at: Option<NaiveDateTime>,
}

impl VerificationRow {
    /// The identity being verified, opened.
    pub fn claim(&self, cipher: &PiiCipher) -> Result<(IdNumber, PersonName), DbError> {
        let open = |field, sealed: &str| {
            cipher
                .open(field, sealed)
                .map_err(|e| DbError::Other(format!("verification {}: {e}", self.id)))
        };
        let id_number = IdNumber::parse(&open(Field::IdNumber, &self.id_number_sealed)?)
            .map_err(|e| DbError::Other(format!("verification {}: {e}", self.id)))?;
        let name = PersonName::parse(&open(Field::Name, &self.name_sealed)?)
            .map_err(|e| DbError::Other(format!("verification {}: {e}", self.id)))?;
        Ok((id_number, name))
    }
}

pub struct NewVerification<'a> {
    pub id: &'a str,
    pub account_id: i64,
    pub platform: Platform,
    pub provider_id: &'a str,
    pub id_number: &'a IdNumber,
    pub name: &'a PersonName,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    new: &NewVerification<'_>,
) -> Result<(), DbError> {
    diesel::insert_into(identity_verifications::table)
        .values((
            identity_verifications::id.eq(new.id),
            identity_verifications::account_id.eq(new.account_id),
            identity_verifications::platform.eq(new.platform),
            identity_verifications::provider_id.eq(new.provider_id),
            identity_verifications::id_number_hash
                .eq(cipher.lookup_hash(Field::IdNumber, new.id_number.as_ref())),
            identity_verifications::id_number_sealed
                .eq(cipher.seal(Field::IdNumber, new.id_number.as_ref())),
            identity_verifications::name_sealed.eq(cipher.seal(Field::Name, new.name.as_ref())),
            identity_verifications::status.eq(VerificationStatus::Pending),
            identity_verifications::created_at.eq(new.created_at),
            identity_verifications::expires_at.eq(new.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The account's verification with this id.
pub fn find_of_account(
    conn: &mut DbConnection,
    account_id: i64,
    id: &str,
) -> Result<Option<VerificationRow>, DbError> {
    Ok(identity_verifications::table
        .find(id)
        .filter(identity_verifications::account_id.eq(account_id))
        .select(VerificationRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn complete(
    conn: &mut DbConnection,
    id: &str,
    status: VerificationStatus,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(identity_verifications::table.find(id))
        .set((
            identity_verifications::status.eq(status),
            identity_verifications::completed_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Face checks the account opened since `since`.
pub fn count_since(
    conn: &mut DbConnection,
    account_id: i64,
    since: NaiveDateTime,
) -> Result<i64, DbError> {
    Ok(identity_verifications::table
        .filter(identity_verifications::account_id.eq(account_id))
        .filter(identity_verifications::created_at.ge(since))
        .count()
        .get_result(conn)?)
}
