//! The pass token shown on the door page: signed by the server with Ed25519 (JWT, `EdDSA`),
//! valid for a few minutes, carrying the check-in, its time, the venue and the masked people. Staff
//! devices verify it online (`/api/v1/passes/verify`) or offline with the public key published at
//! `/.well-known/jwks.json`, so a screenshot of an old page cannot pass for a live one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePublicKey};
use ed25519_dalek::{Signer, SigningKey};
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::domain::{HealthColor, IdType, Verdict};

const ISSUER: &str = "venuecode";
const AUDIENCE: &str = "venue-door";

/// One person on the pass, masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassPerson {
    pub role: String,
    pub name: String,
    /// `None` with the number for someone registered by hand with a mobile number only.
    #[serde(default)]
    pub id_type: Option<IdType>,
    /// Masked.
    pub id_number: Option<String>,
    pub color: HealthColor,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassVenue {
    pub id: i64,
    pub name: String,
    pub entrance: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassClaims {
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// The check-in (the first person's row).
    pub cid: i64,
    /// When the person entered (RFC 3339).
    pub scanned_at: String,
    pub venue: PassVenue,
    pub verdict: Verdict,
    pub people: Vec<PassPerson>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassError {
    Expired,
    Invalid,
}

/// A public key passes may be verified with.
struct VerifyingKey {
    /// Derived from the key, so it changes exactly when the key does.
    key_id: String,
    public_key: [u8; 32],
    decoding: DecodingKey,
}

impl VerifyingKey {
    fn of(signing: &SigningKey) -> Self {
        let verifying = signing.verifying_key();
        let public_pem = verifying
            .to_public_key_pem(LineEnding::LF)
            .expect("an Ed25519 public key encodes");
        let public_key = verifying.to_bytes();
        Self {
            key_id: B64URL.encode(&Sha256::digest(public_key)[..12]),
            public_key,
            decoding: DecodingKey::from_ed_pem(public_pem.as_bytes()).expect("our own PEM"),
        }
    }
}

/// Signs passes with the current key (`PASS_SIGNING_KEYS`' first) and verifies those of every
/// key still configured, each by the `kid` it names; the JWKS lists them all, so staff devices
/// that cached it keep verifying through a rotation.
pub struct PassSigner {
    /// The one signature every scan makes: ed25519-dalek signs in about 21 µs here, ring in 28.
    signing: SigningKey,
    /// The JWT header, base64url-encoded once: `{"typ":"JWT","alg":"EdDSA","kid":…}`.
    header: String,
    /// Every key, the current first.
    verifying: Vec<VerifyingKey>,
    validation: Validation,
    ttl: Duration,
}

impl PassSigner {
    pub fn new(seed: &[u8; 32], ttl_seconds: u32) -> Self {
        Self::with_keys(&[*seed], ttl_seconds)
    }

    /// Signs with the first seed; verifies passes of any.
    pub fn with_keys(seeds: &[[u8; 32]], ttl_seconds: u32) -> Self {
        assert!(!seeds.is_empty(), "passes need a key");
        let keys: Vec<SigningKey> = seeds.iter().map(SigningKey::from_bytes).collect();
        let mut verifying: Vec<VerifyingKey> = Vec::with_capacity(keys.len());
        for key in keys.iter().map(VerifyingKey::of) {
            // One seed listed under two ids is one key.
            if !verifying.iter().any(|k| k.key_id == key.key_id) {
                verifying.push(key);
            }
        }
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = 0;
        // Expiry is checked against the server's clock in `verify`, not the system time.
        validation.validate_exp = false;
        let header = json!({"typ": "JWT", "alg": "EdDSA", "kid": verifying[0].key_id}).to_string();
        Self {
            signing: keys[0].clone(),
            header: B64URL.encode(header),
            verifying,
            validation,
            ttl: Duration::seconds(i64::from(ttl_seconds)),
        }
    }

    /// Signs a pass for the door; returns the token and its expiry.
    pub fn issue(
        &self,
        now: DateTime<Utc>,
        check_in_id: i64,
        scanned_at: String,
        venue: PassVenue,
        verdict: Verdict,
        people: Vec<PassPerson>,
    ) -> (String, DateTime<Utc>) {
        let expires_at = now + self.ttl;
        let claims = PassClaims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            cid: check_in_id,
            scanned_at,
            venue,
            verdict,
            people,
        };
        (self.sign(&claims), expires_at)
    }

    /// A compact JWS of the claims (RFC 7515), signed with the key held: the one signature a scan
    /// makes, with no key parsing per token.
    fn sign(&self, claims: &PassClaims) -> String {
        let payload = serde_json::to_vec(claims).expect("claims serialise");
        let mut token = String::with_capacity(self.header.len() + payload.len() * 4 / 3 + 90);
        token.push_str(&self.header);
        token.push('.');
        B64URL.encode_string(payload, &mut token);
        let signature = self.signing.sign(token.as_bytes());
        token.push('.');
        B64URL.encode_string(signature.to_bytes(), &mut token);
        token
    }

    /// The claims of a genuine pass that is still valid at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<PassClaims, PassError> {
        let kid = jsonwebtoken::decode_header(token)
            .map_err(|_| PassError::Invalid)?
            .kid;
        let key = self
            .verifying
            .iter()
            .find(|k| kid.as_deref() == Some(k.key_id.as_str()))
            .ok_or(PassError::Invalid)?;
        let claims = decode::<PassClaims>(token, &key.decoding, &self.validation)
            .map_err(|_| PassError::Invalid)?
            .claims;
        if claims.exp <= now.timestamp() {
            return Err(PassError::Expired);
        }
        Ok(claims)
    }

    /// Every public key as a JSON Web Key Set (RFC 8037 `OKP` / `Ed25519`), the current first.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .verifying
            .iter()
            .map(|key| {
                json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": B64URL.encode(key.public_key),
                    "kid": key.key_id,
                    "alg": "EdDSA",
                    "use": "sig"
                })
            })
            .collect();
        json!({ "keys": keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(signer: &PassSigner) -> String {
        signer
            .issue(
                Utc::now(),
                7,
                "2026-11-21T10:00:00+08:00".into(),
                PassVenue {
                    id: 1,
                    name: "超市".into(),
                    entrance: "东门".into(),
                },
                Verdict::Pass,
                vec![PassPerson {
                    role: "self".into(),
                    name: "张*".into(),
                    id_type: Some(IdType::ResidentId),
                    id_number: Some("1101**********002X".into()),
                    color: HealthColor::Green,
                    verdict: Verdict::Pass,
                }],
            )
            .0
    }

    #[test]
    fn a_pass_verifies_and_a_changed_one_does_not() {
        let signer = PassSigner::new(&[5u8; 32], 180);
        let token = sample(&signer);
        let claims = signer.verify(&token, Utc::now()).unwrap();
        assert_eq!(claims.cid, 7);
        assert_eq!(claims.people[0].name, "张*");
        let mut changed = token.clone().into_bytes();
        let i = token.find('.').unwrap() + 10;
        changed[i] = if changed[i] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            signer.verify(&String::from_utf8(changed).unwrap(), Utc::now()),
            Err(PassError::Invalid)
        );
        assert_eq!(
            PassSigner::new(&[6u8; 32], 180).verify(&token, Utc::now()),
            Err(PassError::Invalid)
        );
    }

    #[test]
    fn an_expired_pass_says_so() {
        let signer = PassSigner::new(&[5u8; 32], 180);
        let old = PassClaims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: 0,
            exp: Utc::now().timestamp() - 5,
            cid: 1,
            scanned_at: String::new(),
            venue: PassVenue {
                id: 1,
                name: String::new(),
                entrance: String::new(),
            },
            verdict: Verdict::Pass,
            people: vec![],
        };
        let token = signer.sign(&old);
        assert_eq!(signer.verify(&token, Utc::now()), Err(PassError::Expired));
        let fresh = sample(&signer);
        let later = Utc::now() + Duration::seconds(181);
        assert_eq!(signer.verify(&fresh, later), Err(PassError::Expired));
    }

    #[test]
    fn the_jwks_publishes_the_public_key() {
        let signer = PassSigner::new(&[5u8; 32], 180);
        let jwks = signer.jwks();
        let x = jwks["keys"][0]["x"].as_str().unwrap();
        assert_eq!(B64URL.decode(x).unwrap(), signer.verifying[0].public_key);
        assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    }

    #[test]
    fn passes_of_an_earlier_key_verify_until_it_is_removed_and_the_jwks_lists_both() {
        let before = PassSigner::new(&[5u8; 32], 180);
        let old = sample(&before);
        let rotated = PassSigner::with_keys(&[[6u8; 32], [5u8; 32]], 180);
        assert!(rotated.verify(&old, Utc::now()).is_ok());
        assert_eq!(rotated.jwks()["keys"].as_array().unwrap().len(), 2);
        let fresh = sample(&rotated);
        let removed = PassSigner::new(&[6u8; 32], 180);
        assert_eq!(removed.verify(&old, Utc::now()), Err(PassError::Invalid));
        assert!(removed.verify(&fresh, Utc::now()).is_ok());
    }
}
