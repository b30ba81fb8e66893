//! Personal data at rest. Names, ID numbers and phone numbers are stored sealed with AES-256-GCM
//! (a random nonce per value, the column's purpose bound in as associated data so a sealed value
//! cannot be moved to another column); equality lookups use a keyed hash (HMAC-SHA-256), so the
//! database never holds these values in clear. Both keys are derived from `PII_KEY`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Format marker of sealed values, so a later key rotation can tell generations apart.
const VERSION: &str = "v1";
const NONCE_LEN: usize = 12;

/// What a sealed value is; part of the associated data and of the lookup hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    IdNumber,
    Phone,
    Profile,
    PlatformToken,
    /// Staff usernames typed at login: only ever hashed, since a mistyped one may be a password.
    Username,
    /// What an audit entry is about (a venue, a person), hashed so the log names no one.
    AuditSubject,
    /// One-time codes (staff invitations), stored only hashed.
    OneTimeCode,
    /// Free-text notes of officials, which may name people.
    Note,
    /// A stored trace result, which names every contact; also a referral's contacts.
    TraceResult,
    /// A colour import waiting for its second official.
    ColorImport,
    /// A phone proof answered by a platform, only ever hashed (a proof is used by one account).
    PhoneProof,
}

impl Field {
    fn label(self) -> &'static [u8] {
        match self {
            Field::Name => b"name",
            Field::IdNumber => b"id_number",
            Field::Phone => b"phone",
            Field::Profile => b"profile",
            Field::PlatformToken => b"platform_token",
            Field::Username => b"username",
            Field::AuditSubject => b"audit_subject",
            Field::OneTimeCode => b"one_time_code",
            Field::Note => b"note",
            Field::TraceResult => b"trace_result",
            Field::ColorImport => b"color_import",
            Field::PhoneProof => b"phone_proof",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a sealed value could not be opened (damaged, or sealed with another PII_KEY)")]
pub struct OpenError;

#[derive(Clone)]
pub struct PiiCipher {
    aead: Aes256Gcm,
    lookup_key: [u8; 32],
    audit_key: [u8; 32],
}

impl PiiCipher {
    pub fn new(pii_key: &[u8; 32]) -> Self {
        let encryption_key = derive(pii_key, b"venuecode/pii/encryption/v1");
        let lookup_key = derive(pii_key, b"venuecode/pii/lookup/v1");
        let audit_key = derive(pii_key, b"venuecode/audit/chain/v1");
        Self {
            aead: Aes256Gcm::new(&encryption_key.into()),
            lookup_key,
            audit_key,
        }
    }

    /// `v1:` + base64(nonce ‖ ciphertext ‖ tag).
    pub fn seal(&self, field: Field, plaintext: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .aead
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: field.label(),
                },
            )
            .expect("AES-GCM encryption of an in-memory value cannot fail");
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        format!("{VERSION}:{}", B64.encode(sealed))
    }

    pub fn open(&self, field: Field, sealed: &str) -> Result<String, OpenError> {
        let encoded = sealed
            .strip_prefix(VERSION)
            .and_then(|rest| rest.strip_prefix(':'))
            .ok_or(OpenError)?;
        let bytes = B64.decode(encoded).map_err(|_| OpenError)?;
        if bytes.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plaintext = self
            .aead
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: field.label(),
                },
            )
            .map_err(|_| OpenError)?;
        String::from_utf8(plaintext).map_err(|_| OpenError)
    }

    /// A stable keyed hash for equality lookups (hex, 64 characters).
    pub fn lookup_hash(&self, field: Field, value: &str) -> String {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.lookup_key).expect("any key length works");
        mac.update(field.label());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

impl PiiCipher {
    /// The keyed hash that links an audit entry to the one before it. Keyed, so that someone who
    /// can write to the database still cannot forge a consistent chain.
    pub fn audit_chain_hash(&self, content: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.audit_key).expect("any key length");
        mac.update(content.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

fn derive(key: &[u8; 32], purpose: &[u8]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("any key length works");
    mac.update(purpose);
    mac.finalize().into_bytes().into()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> PiiCipher {
        PiiCipher::new(&[7u8; 32])
    }

    #[test]
    fn sealed_values_open_and_hide_the_plaintext() {
        let c = cipher();
        let sealed = c.seal(Field::IdNumber, "11010519491231002X");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("11010519491231002X"));
        assert_eq!(
            c.open(Field::IdNumber, &sealed).unwrap(),
            "11010519491231002X"
        );
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let c = cipher();
        assert_ne!(c.seal(Field::Name, "张三"), c.seal(Field::Name, "张三"));
    }

    #[test]
    fn a_value_cannot_be_opened_as_another_field_or_with_another_key() {
        let c = cipher();
        let sealed = c.seal(Field::Name, "张三");
        assert_eq!(c.open(Field::Phone, &sealed), Err(OpenError));
        assert_eq!(
            PiiCipher::new(&[8u8; 32]).open(Field::Name, &sealed),
            Err(OpenError)
        );
        let mut damaged = sealed.clone().into_bytes();
        damaged[10] = if damaged[10] == b'A' { b'B' } else { b'A' };
        let damaged = String::from_utf8(damaged).unwrap();
        assert_eq!(c.open(Field::Name, &damaged), Err(OpenError));
        assert_eq!(c.open(Field::Name, "garbage"), Err(OpenError));
    }

    #[test]
    fn lookup_hashes_are_stable_keyed_and_separated_by_field() {
        let c = cipher();
        let a = c.lookup_hash(Field::IdNumber, "11010519491231002X");
        assert_eq!(a, c.lookup_hash(Field::IdNumber, "11010519491231002X"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, c.lookup_hash(Field::Phone, "11010519491231002X"));
        assert_ne!(
            a,
            PiiCipher::new(&[8u8; 32]).lookup_hash(Field::IdNumber, "11010519491231002X")
        );
    }
}
