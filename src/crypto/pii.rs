//! Personal data at rest. Names, ID numbers and phone numbers are stored sealed with AES-256-GCM
//! (a random nonce per value, the column's purpose bound in as associated data so a sealed value
//! cannot be moved to another column); equality lookups use a keyed hash (HMAC-SHA-256), so the
//! database never holds these values in clear. Both keys are derived from a `PII_KEYS` key.
//!
//! Keys have ids and the first is current: values are sealed as `v2:{id}:…` under it, and opened
//! under whichever configured key their id names (values written before ids were `v1:…`, under the
//! single key whose id is `default`). A lookup hash carries no id, so a lookup tries the hash of
//! every configured key until `venuecode keys reseal` has rewritten everything under the current
//! one.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Format marker of sealed values that name their key.
const VERSION: &str = "v2";
/// Values sealed before keys had ids, all under the key with this id.
const LEGACY_VERSION: &str = "v1";
const LEGACY_KEY_ID: &str = crate::config::SINGLE_KEY_ID;
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
    /// An answer kept for a request sent with an `Idempotency-Key` (a door page names a person).
    Answer,
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
            Field::Answer => b"answer",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a sealed value could not be opened (damaged, or sealed under a key no longer configured)")]
pub struct OpenError;

/// One key's derived keys.
struct PiiKey {
    id: String,
    aead: Aes256Gcm,
    lookup_key: [u8; 32],
    audit_key: [u8; 32],
}

impl PiiKey {
    fn new(id: &str, pii_key: &[u8; 32]) -> Self {
        let encryption_key = derive(pii_key, b"venuecode/pii/encryption/v1");
        Self {
            id: id.to_owned(),
            aead: Aes256Gcm::new(&encryption_key.into()),
            lookup_key: derive(pii_key, b"venuecode/pii/lookup/v1"),
            audit_key: derive(pii_key, b"venuecode/audit/chain/v1"),
        }
    }

    fn lookup_hash(&self, field: Field, value: &str) -> String {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.lookup_key).expect("any key length works");
        mac.update(field.label());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

/// The personal-data keys, the current one first.
#[derive(Clone)]
pub struct PiiCipher {
    keys: std::sync::Arc<Vec<PiiKey>>,
}

impl PiiCipher {
    /// One key, under the id a key given alone goes by.
    pub fn new(pii_key: &[u8; 32]) -> Self {
        Self::with_keys(&[(LEGACY_KEY_ID, pii_key)])
    }

    /// The configured keys (`PII_KEYS`).
    pub fn from_ring(ring: &crate::config::KeyRing<[u8; 32]>) -> Self {
        Self::with_keys(&ring.all().collect::<Vec<_>>())
    }

    /// Keys with ids, the current first (ids distinct, checked when the settings are read).
    pub fn with_keys(keys: &[(&str, &[u8; 32])]) -> Self {
        assert!(!keys.is_empty(), "at least one personal-data key");
        Self {
            keys: std::sync::Arc::new(keys.iter().map(|(id, key)| PiiKey::new(id, key)).collect()),
        }
    }

    fn current(&self) -> &PiiKey {
        &self.keys[0]
    }

    fn key(&self, id: &str) -> Option<&PiiKey> {
        self.keys.iter().find(|key| key.id == id)
    }

    /// The id of the key new values are sealed and hashed under.
    pub fn current_id(&self) -> &str {
        &self.current().id
    }

    /// `v2:{key id}:` + base64(nonce ‖ ciphertext ‖ tag), under the current key.
    pub fn seal(&self, field: Field, plaintext: &str) -> String {
        let key = self.current();
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ciphertext = key
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
        format!("{VERSION}:{}:{}", key.id, B64.encode(sealed))
    }

    /// The id of the key a sealed value names (`default` for the values from before ids).
    pub fn key_id_of(sealed: &str) -> Option<&str> {
        let (version, rest) = sealed.split_once(':')?;
        match version {
            VERSION => rest.split_once(':').map(|(id, _)| id),
            LEGACY_VERSION => Some(LEGACY_KEY_ID),
            _ => None,
        }
    }

    /// Whether `sealed` is already under the current key.
    pub fn is_current(&self, sealed: &str) -> bool {
        Self::key_id_of(sealed) == Some(self.current_id()) && sealed.starts_with(VERSION)
    }

    pub fn open(&self, field: Field, sealed: &str) -> Result<String, OpenError> {
        let (key, encoded) = match sealed.split_once(':').ok_or(OpenError)? {
            (VERSION, rest) => {
                let (id, encoded) = rest.split_once(':').ok_or(OpenError)?;
                (self.key(id).ok_or(OpenError)?, encoded)
            }
            (LEGACY_VERSION, encoded) => (self.key(LEGACY_KEY_ID).ok_or(OpenError)?, encoded),
            _ => return Err(OpenError),
        };
        let bytes = B64.decode(encoded).map_err(|_| OpenError)?;
        if bytes.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plaintext = key
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

    /// A stable keyed hash for equality lookups (hex, 64 characters), under the current key: what
    /// is written.
    pub fn lookup_hash(&self, field: Field, value: &str) -> String {
        self.current().lookup_hash(field, value)
    }

    /// The lookup hash under every configured key, the current first: what a lookup matches, so
    /// that rows not yet resealed are still found.
    pub fn lookup_hashes(&self, field: Field, value: &str) -> Vec<String> {
        self.keys
            .iter()
            .map(|key| key.lookup_hash(field, value))
            .collect()
    }
}

impl PiiCipher {
    /// The keyed hash that links an audit entry to the one before it, under the key `key_id`
    /// (`None` when that key is no longer configured). Keyed, so that someone who can write to
    /// the database still cannot forge a consistent chain.
    pub fn audit_chain_hash(&self, key_id: &str, content: &str) -> Option<String> {
        let key = self.key(key_id)?;
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&key.audit_key).expect("any key length");
        mac.update(content.as_bytes());
        Some(hex(&mac.finalize().into_bytes()))
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
        assert!(sealed.starts_with("v2:default:"));
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
        damaged[20] = if damaged[20] == b'A' { b'B' } else { b'A' };
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

    #[test]
    fn values_name_their_key_and_open_under_any_key_still_configured() {
        let (a, b) = ([7u8; 32], [9u8; 32]);
        let old = PiiCipher::new(&a);
        let sealed_before = old.seal(Field::Name, "张三");
        // Values from before keys had ids: `v1:`, under the single key `default`.
        let legacy = sealed_before.replacen("v2:default:", "v1:", 1);
        let rotated = PiiCipher::with_keys(&[("2026b", &b), ("default", &a)]);
        assert_eq!(rotated.current_id(), "2026b");
        for value in [&sealed_before, &legacy] {
            assert_eq!(rotated.open(Field::Name, value).unwrap(), "张三");
            assert!(!rotated.is_current(value));
        }
        let sealed_after = rotated.seal(Field::Name, "张三");
        assert!(sealed_after.starts_with("v2:2026b:"));
        assert!(rotated.is_current(&sealed_after));
        assert_eq!(PiiCipher::key_id_of(&legacy), Some("default"));
        // The old key removed: what it sealed no longer opens, what the new one sealed does.
        let only_new = PiiCipher::with_keys(&[("2026b", &b)]);
        assert_eq!(only_new.open(Field::Name, &sealed_before), Err(OpenError));
        assert_eq!(only_new.open(Field::Name, &legacy), Err(OpenError));
        assert_eq!(only_new.open(Field::Name, &sealed_after).unwrap(), "张三");
        // A value naming one key is not tried under another.
        let renamed = sealed_before.replacen("v2:default:", "v2:2026b:", 1);
        assert_eq!(rotated.open(Field::Name, &renamed), Err(OpenError));
    }

    #[test]
    fn a_lookup_matches_the_hash_of_every_configured_key_and_writes_the_current() {
        let (a, b) = ([7u8; 32], [9u8; 32]);
        let rotated = PiiCipher::with_keys(&[("2026b", &b), ("default", &a)]);
        let hashes = rotated.lookup_hashes(Field::Phone, "13800000000");
        assert_eq!(
            hashes,
            vec![
                PiiCipher::with_keys(&[("x", &b)]).lookup_hash(Field::Phone, "13800000000"),
                PiiCipher::new(&a).lookup_hash(Field::Phone, "13800000000"),
            ]
        );
        assert_eq!(rotated.lookup_hash(Field::Phone, "13800000000"), hashes[0]);
        assert_eq!(rotated.audit_chain_hash("gone", "entry"), None);
        assert_ne!(
            rotated.audit_chain_hash("2026b", "entry"),
            rotated.audit_chain_hash("default", "entry")
        );
    }
}
