//! The signed, versioned token printed in each entrance's QR code as `{PUBLIC_BASE_URL}/v/{token}`.
//!
//! The token is base32 (RFC 4648, upper case, no padding) of
//! `varint(entrance id) ‖ varint(version) ‖ tag`, where the tag is the first 10 bytes of
//! HMAC-SHA-256 over the rest. It cannot be made up or altered without the key, and a new version
//! revokes the old poster. The URL is printed with its scheme, host and path in capitals, so the
//! whole of it is QR "alphanumeric" data: about 50 characters fit a version-3 code (29 × 29
//! modules) at medium error correction, which a cheap phone reads from a poster across a doorway.

use super::compact_token::{CompactSigner, TokenError};

const DOMAIN: &[u8] = b"venuecode/venue-code/v1";
/// The path segment before the token in the printed URL (capitals, see above); `/v/` is
/// accepted too.
pub const URL_PATH: &str = "/V/";

/// What a genuine token names. Whether that version is still the current one is for the caller
/// to check against the entrance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VenueCodeRef {
    pub entrance_id: i64,
    pub version: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VenueCodeError {
    /// Not a venue code of this system at all (another QR code, a damaged scan).
    #[error("not a venue code")]
    Malformed,
    /// Shaped like one, but the signature does not match: forged or altered.
    #[error("the venue code's signature does not match")]
    Forged,
    /// A genuine token inside a URL of a host that is not ours: a look-alike poster.
    #[error("the venue code's URL names another host")]
    ForeignHost,
}

#[derive(Clone)]
pub struct VenueCodeSigner {
    signer: CompactSigner,
}

impl VenueCodeSigner {
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            signer: CompactSigner::new(key),
        }
    }

    /// A signer of these keys (id, key), the first current: codes signed under any of them scan.
    pub fn with_keys(keys: Vec<(String, [u8; 32])>) -> Self {
        Self {
            signer: CompactSigner::with_keys(keys),
        }
    }

    pub fn token(&self, code: VenueCodeRef) -> String {
        self.signer
            .sign(DOMAIN, &[code.entrance_id as u64, code.version as u64])
    }

    /// The URL the QR code holds: `HTTPS://HOST[/prefix]/V/TOKEN`. Scheme and host are
    /// case-insensitive, so they are written in capitals; a path prefix is kept as configured.
    pub fn url(&self, public_base_url: &str, code: VenueCodeRef) -> String {
        let base = public_base_url.trim_end_matches('/');
        let authority_end = base
            .find("://")
            .map(|i| i + 3)
            .and_then(|start| base[start..].find('/').map(|i| start + i))
            .unwrap_or(base.len());
        format!(
            "{}{}{URL_PATH}{}",
            base[..authority_end].to_ascii_uppercase(),
            &base[authority_end..],
            self.token(code)
        )
    }

    /// Reads what a phone scanned: the bare token, or the full URL under one of `hosts`
    /// (`host[:port]`, compared without regard to case): the host of `PUBLIC_BASE_URL` and those
    /// of `VENUE_CODE_HOSTS`, so that a moved deployment keeps its posters but a look-alike
    /// domain printed around a genuine token is refused.
    pub fn parse_scanned(
        &self,
        scanned: &str,
        hosts: &[String],
    ) -> Result<VenueCodeRef, VenueCodeError> {
        let scanned = scanned.trim();
        let Some((scheme, rest)) = scanned.split_once("://") else {
            return self.verify(scanned);
        };
        if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
            return Err(VenueCodeError::Malformed);
        }
        let (authority, path) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
        if !hosts.iter().any(|h| h.eq_ignore_ascii_case(authority)) {
            return Err(VenueCodeError::ForeignHost);
        }
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let at = path
            .rfind(URL_PATH)
            .or_else(|| path.rfind("/v/"))
            .ok_or(VenueCodeError::Malformed)?;
        self.verify(&path[at + URL_PATH.len()..])
    }

    /// The `host[:port]` of a base URL, as [`Self::parse_scanned`] compares it.
    pub fn host_of(base_url: &str) -> Option<String> {
        let (_, rest) = base_url.trim().split_once("://")?;
        let authority = rest.split(['/', '?', '#']).next()?;
        (!authority.is_empty() && !authority.contains('@')).then(|| authority.to_ascii_lowercase())
    }

    pub fn verify(&self, token: &str) -> Result<VenueCodeRef, VenueCodeError> {
        self.verify_with_key(token).map(|(code, _)| code)
    }

    /// The id of the key new codes are signed with.
    pub fn current_key_id(&self) -> &str {
        self.signer.current_key_id()
    }

    /// What a genuine token names, and the id of the key it was signed under.
    pub fn verify_with_key(&self, token: &str) -> Result<(VenueCodeRef, &str), VenueCodeError> {
        let (fields, key) = self
            .signer
            .verify_with_key(DOMAIN, token, 2)
            .map_err(|e| match e {
                TokenError::Malformed => VenueCodeError::Malformed,
                TokenError::Forged => VenueCodeError::Forged,
            })?;
        let code = VenueCodeRef {
            entrance_id: i64::try_from(fields[0]).map_err(|_| VenueCodeError::Forged)?,
            version: i32::try_from(fields[1]).map_err(|_| VenueCodeError::Forged)?,
        };
        Ok((code, key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> VenueCodeSigner {
        VenueCodeSigner::new([42u8; 32])
    }

    #[test]
    fn tokens_round_trip_and_are_short() {
        let s = signer();
        for (entrance_id, version) in [(1, 1), (12_345, 3), (9_000_000_000, 70_000)] {
            let code = VenueCodeRef {
                entrance_id,
                version,
            };
            let token = s.token(code);
            // Up to two million entrances and 127 rotations: 23 characters at most.
            let limit = if entrance_id < 1 << 21 && version < 128 {
                23
            } else {
                29
            };
            assert!(token.len() <= limit, "{token}");
            assert_eq!(s.verify(&token), Ok(code));
        }
    }

    #[test]
    fn urls_and_bare_tokens_are_read() {
        let s = signer();
        let code = VenueCodeRef {
            entrance_id: 77,
            version: 2,
        };
        let hosts = vec!["code.example.gov.cn".to_owned(), "gov.cn".to_owned()];
        let url = s.url("https://code.example.gov.cn/", code);
        assert!(url.starts_with("HTTPS://CODE.EXAMPLE.GOV.CN/V/"), "{url}");
        assert_eq!(s.parse_scanned(&url, &hosts), Ok(code));
        assert_eq!(s.parse_scanned(&url.to_lowercase(), &hosts), Ok(code));
        let prefixed = s.url("https://gov.cn/venuecode", code);
        assert!(
            prefixed.starts_with("HTTPS://GOV.CN/venuecode/V/"),
            "{prefixed}"
        );
        assert_eq!(s.parse_scanned(&prefixed, &hosts), Ok(code));
        assert_eq!(
            s.parse_scanned(&format!(" {url}?from=poster "), &hosts),
            Ok(code)
        );
        assert_eq!(s.parse_scanned(&s.token(code), &hosts), Ok(code));
    }

    #[test]
    fn a_genuine_token_under_another_host_is_refused() {
        let s = signer();
        let hosts = vec!["code.example.gov.cn".to_owned()];
        let token = s.token(VenueCodeRef {
            entrance_id: 77,
            version: 2,
        });
        for url in [
            format!("https://code.example.gov.cn.evil.cn/V/{token}"),
            format!("https://evil.cn/code.example.gov.cn/V/{token}"),
            format!("https://code.example.gov.cn@evil.cn/V/{token}"),
            format!("https://evil.cn/V/{token}"),
        ] {
            assert_eq!(
                s.parse_scanned(&url, &hosts),
                Err(VenueCodeError::ForeignHost),
                "{url}"
            );
        }
        assert_eq!(
            s.parse_scanned(&format!("ftp://code.example.gov.cn/V/{token}"), &hosts),
            Err(VenueCodeError::Malformed)
        );
        assert_eq!(
            VenueCodeSigner::host_of("HTTPS://Code.Example.gov.cn:8443/base/"),
            Some("code.example.gov.cn:8443".to_owned())
        );
    }

    #[test]
    fn every_single_character_change_is_refused() {
        let s = signer();
        let token = s.token(VenueCodeRef {
            entrance_id: 12_345,
            version: 1,
        });
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567018-_";
        for position in 0..token.len() {
            for replacement in alphabet.chars() {
                let mut changed: Vec<char> = token.chars().collect();
                if changed[position].eq_ignore_ascii_case(&replacement) {
                    continue;
                }
                changed[position] = replacement;
                let changed: String = changed.into_iter().collect();
                assert!(s.verify(&changed).is_err(), "{changed} accepted");
            }
        }
    }

    #[test]
    fn forged_and_foreign_codes_are_told_apart() {
        let s = signer();
        let other = VenueCodeSigner::new([1u8; 32]);
        let forged = other.token(VenueCodeRef {
            entrance_id: 5,
            version: 1,
        });
        assert_eq!(s.verify(&forged), Err(VenueCodeError::Forged));
        for junk in ["", "hello world", "AAAA", "A1B2", &"A".repeat(100)] {
            assert_eq!(
                s.parse_scanned(junk, &[]),
                Err(VenueCodeError::Malformed),
                "{junk}"
            );
        }
        assert_eq!(
            s.parse_scanned("https://weixin.qq.com/x", &[]),
            Err(VenueCodeError::ForeignHost)
        );
    }
}
