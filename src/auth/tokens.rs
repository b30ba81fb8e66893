//! Signed session tokens (JWT, HS256 with `JWT_SECRET`). The audience tells a resident's token
//! from a staff member's, so neither can stand in for the other. Every token carries a session id
//! of its own (`jti`, 128 random bits): two logins never share a token, and a staff session can
//! be ended by its id (`services::staff::logout`).

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::domain::Platform;

const ISSUER: &str = "venuecode";
const RESIDENT_AUDIENCE: &str = "resident";
const STAFF_AUDIENCE: &str = "staff";
/// Clocks of several nodes may differ this much.
const LEEWAY_SECS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Account id (residents) or staff account id.
    pub sub: String,
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The staff account's session version when the token was issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ver: Option<i32>,
    /// The session's own id.
    #[serde(default)]
    pub jti: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionKind {
    Resident {
        account_id: i64,
        platform: Platform,
        /// When the platform login that made the session happened (unix seconds): a copy of
        /// one's data needs a fresh one.
        issued_at: i64,
    },
    /// Role and region are not in the token: they are read from the account at each request,
    /// so a change or a disabled account takes effect at once.
    Staff {
        staff_id: i64,
        version: i32,
        /// The session's id (`jti`): logging out ends this session alone.
        session: String,
    },
}

/// A new session id: 128 random bits, URL-safe base64 (22 characters).
pub fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Session ids are 22 characters of URL-safe base64; anything else is not one of ours.
pub fn well_formed_session_id(id: &str) -> bool {
    id.len() == 22
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Keys and lifetimes, built once at start-up. Tokens are signed with the current key and name it
/// (`kid`); a token of any key still configured is accepted, so `JWT_SECRETS` rotates without
/// logging anyone out.
#[derive(Clone)]
pub struct Sessions {
    /// The current key's id and key.
    encoding: (String, EncodingKey),
    /// Every key by id, the current first.
    decoding: Vec<(String, DecodingKey)>,
    validation: Validation,
    resident_ttl: Duration,
    staff_ttl: Duration,
}

impl Sessions {
    /// One key, under the id `default`.
    pub fn new(secret: &str, resident_hours: u32, staff_hours: u32) -> Self {
        Self::with_keys(
            vec![("default".to_owned(), secret.to_owned())],
            resident_hours,
            staff_hours,
        )
    }

    /// These keys (id, secret), the first current.
    pub fn with_keys(keys: Vec<(String, String)>, resident_hours: u32, staff_hours: u32) -> Self {
        assert!(!keys.is_empty(), "sessions need a key");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[RESIDENT_AUDIENCE, STAFF_AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        // Expiry is checked against the server's clock in `verify`.
        validation.validate_exp = false;
        Self {
            encoding: (
                keys[0].0.clone(),
                EncodingKey::from_secret(keys[0].1.as_bytes()),
            ),
            decoding: keys
                .iter()
                .map(|(id, secret)| (id.clone(), DecodingKey::from_secret(secret.as_bytes())))
                .collect(),
            validation,
            resident_ttl: Duration::hours(i64::from(resident_hours)),
            staff_ttl: Duration::hours(i64::from(staff_hours)),
        }
    }

    /// A token for `kind`, issued at `now` (a resident's `issued_at` is taken from `now`); a
    /// resident's gets a new session id, a staff member's carries the id of the session recorded
    /// for it.
    pub fn issue(&self, kind: &SessionKind, now: DateTime<Utc>) -> IssuedToken {
        let jti = match kind {
            SessionKind::Resident { .. } => new_session_id(),
            SessionKind::Staff { session, .. } => session.clone(),
        };
        let (sub, aud, ttl, platform, ver) = match kind {
            SessionKind::Resident {
                account_id,
                platform,
                ..
            } => (
                account_id.to_string(),
                RESIDENT_AUDIENCE,
                self.resident_ttl,
                Some(*platform),
                None,
            ),
            SessionKind::Staff {
                staff_id, version, ..
            } => (
                staff_id.to_string(),
                STAFF_AUDIENCE,
                self.staff_ttl,
                None,
                Some(*version),
            ),
        };
        let expires_at = now + ttl;
        let claims = Claims {
            sub,
            aud: aud.into(),
            iss: ISSUER.into(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            platform,
            ver,
            jti,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.encoding.0.clone());
        let token = encode(&header, &claims, &self.encoding.1)
            .expect("HS256 signing of in-memory claims cannot fail");
        IssuedToken { token, expires_at }
    }

    /// The session a token stands for, or `None` when it is malformed, tampered with, expired
    /// at `now` or not ours.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Option<SessionKind> {
        // The key the token names; a token without a `kid` (issued before keys had ids) is tried
        // against each.
        let kid = decode_header(token).ok()?.kid;
        let claims = self
            .decoding
            .iter()
            .filter(|(id, _)| kid.as_deref().is_none_or(|kid| kid == id))
            .find_map(|(_, key)| decode::<Claims>(token, key, &self.validation).ok())?
            .claims;
        if claims.exp + LEEWAY_SECS <= now.timestamp() {
            return None;
        }
        let id: i64 = claims.sub.parse().ok()?;
        match claims.aud.as_str() {
            RESIDENT_AUDIENCE => Some(SessionKind::Resident {
                account_id: id,
                platform: claims.platform?,
                issued_at: claims.iat,
            }),
            // A staff token without a recorded session (issued before sessions were recorded) is
            // refused; residents' tokens of before stay valid until they expire.
            STAFF_AUDIENCE if well_formed_session_id(&claims.jti) => Some(SessionKind::Staff {
                staff_id: id,
                version: claims.ver?,
                session: claims.jti,
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions() -> Sessions {
        Sessions::new("a test secret that is long enough for HS256", 24, 8)
    }

    #[test]
    fn tokens_round_trip_for_both_kinds() {
        let s = sessions();
        let now = Utc::now();
        for kind in [
            SessionKind::Resident {
                account_id: 7,
                platform: Platform::Alipay,
                issued_at: now.timestamp(),
            },
            SessionKind::Staff {
                staff_id: 3,
                version: 2,
                session: new_session_id(),
            },
        ] {
            let issued = s.issue(&kind, now);
            assert!(issued.expires_at > now);
            assert_eq!(s.verify(&issued.token, now), Some(kind));
        }
    }

    #[test]
    fn tampered_foreign_and_expired_tokens_are_refused() {
        let s = sessions();
        let token = s
            .issue(
                &SessionKind::Resident {
                    account_id: 7,
                    platform: Platform::Wechat,
                    issued_at: 0,
                },
                Utc::now(),
            )
            .token;
        let mut tampered = token.clone().into_bytes();
        let middle = token.find('.').unwrap() + 5;
        tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            s.verify(&String::from_utf8(tampered).unwrap(), Utc::now()),
            None
        );
        let other = Sessions::new("another secret, also long enough for HS256", 24, 8);
        assert_eq!(other.verify(&token, Utc::now()), None);
        assert_eq!(s.verify("not a token", Utc::now()), None);

        let expired = Claims {
            sub: "7".into(),
            aud: RESIDENT_AUDIENCE.into(),
            iss: ISSUER.into(),
            iat: 0,
            exp: Utc::now().timestamp() - 3600,
            platform: Some(Platform::Wechat),
            ver: None,
            jti: new_session_id(),
        };
        let expired = encode(&Header::new(Algorithm::HS256), &expired, &s.encoding.1).unwrap();
        assert_eq!(s.verify(&expired, Utc::now()), None);
        assert!(s.verify(&token, Utc::now() + Duration::hours(25)).is_none());
    }

    #[test]
    fn a_token_of_an_earlier_key_is_accepted_until_that_key_is_removed() {
        let now = Utc::now();
        let kind = SessionKind::Resident {
            account_id: 7,
            platform: Platform::Wechat,
            issued_at: now.timestamp(),
        };
        let old_secret = "the old secret, long enough for HS256 signing".to_owned();
        let new_secret = "the new secret, also long enough for HS256 signing".to_owned();
        let before = Sessions::with_keys(vec![("a".into(), old_secret.clone())], 24, 8);
        let token = before.issue(&kind, now).token;
        let rotated = Sessions::with_keys(
            vec![("b".into(), new_secret.clone()), ("a".into(), old_secret)],
            24,
            8,
        );
        assert_eq!(rotated.verify(&token, now), Some(kind.clone()));
        let fresh = rotated.issue(&kind, now).token;
        assert_eq!(decode_header(&fresh).unwrap().kid.as_deref(), Some("b"));
        let removed = Sessions::with_keys(vec![("b".into(), new_secret)], 24, 8);
        assert_eq!(removed.verify(&token, now), None);
        assert_eq!(removed.verify(&fresh, now), Some(kind));
    }

    #[test]
    fn two_logins_in_the_same_second_get_different_tokens() {
        let s = sessions();
        let now = Utc::now();
        let kind = SessionKind::Resident {
            account_id: 7,
            platform: Platform::Wechat,
            issued_at: now.timestamp(),
        };
        assert_ne!(s.issue(&kind, now).token, s.issue(&kind, now).token);
        assert_ne!(new_session_id(), new_session_id());
        assert_eq!(new_session_id().len(), 22);
    }

    #[test]
    fn a_staff_token_without_a_session_id_is_refused() {
        let s = sessions();
        let claims = Claims {
            sub: "3".into(),
            aud: STAFF_AUDIENCE.into(),
            iss: ISSUER.into(),
            iat: Utc::now().timestamp(),
            exp: Utc::now().timestamp() + 3600,
            platform: None,
            ver: Some(1),
            jti: String::new(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &s.encoding.1).unwrap();
        assert_eq!(s.verify(&token, Utc::now()), None);
    }
}
