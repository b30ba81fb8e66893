//! The printed paper code for people without phones: a signed token naming the print (and so the
//! person; a reprint revokes it) and the day it was issued, valid for 14 days. Venue staff scan it
//! at their entrance. The QR code holds `VCP1:` and the token, all in QR alphanumeric characters.

use chrono::{Duration, NaiveDate};

use super::compact_token::{CompactSigner, TokenError};

/// Version 2 names the print, not the person: codes of version 1 (first release) no longer read.
const DOMAIN: &[u8] = b"venuecode/paper-code/v2";
pub const PREFIX: &str = "VCP1:";
pub const VALID_DAYS: i64 = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaperCode {
    /// The print (a row of `paper_codes`), which names the person and can be revoked.
    pub id: i64,
    pub issued_on: NaiveDate,
}

impl PaperCode {
    /// The last day the code is accepted.
    pub fn valid_until(&self) -> NaiveDate {
        self.issued_on + Duration::days(VALID_DAYS - 1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PaperCodeError {
    #[error("not a paper code")]
    Malformed,
    #[error("the paper code's signature does not match")]
    Forged,
    #[error("the paper code has expired")]
    Expired,
}

#[derive(Clone)]
pub struct PaperCodeSigner {
    signer: CompactSigner,
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 1).expect("a real date")
}

impl PaperCodeSigner {
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            signer: CompactSigner::new(key),
        }
    }

    /// A signer of these keys (id, key), the first current: codes printed under any of them scan.
    pub fn with_keys(keys: Vec<(String, [u8; 32])>) -> Self {
        Self {
            signer: CompactSigner::with_keys(keys),
        }
    }

    /// The text of the QR code.
    pub fn text(&self, code: PaperCode) -> String {
        let day = (code.issued_on - epoch()).num_days().max(0) as u64;
        format!(
            "{PREFIX}{}",
            self.signer.sign(DOMAIN, &[code.id as u64, day])
        )
    }

    /// Reads a scanned paper code, refusing it after its 14 days.
    pub fn read(&self, scanned: &str, today: NaiveDate) -> Result<PaperCode, PaperCodeError> {
        let token = scanned
            .trim()
            .strip_prefix(PREFIX)
            .or_else(|| scanned.trim().strip_prefix(&PREFIX.to_lowercase()))
            .ok_or(PaperCodeError::Malformed)?;
        let fields = self.signer.verify(DOMAIN, token, 2).map_err(|e| match e {
            TokenError::Malformed => PaperCodeError::Malformed,
            TokenError::Forged => PaperCodeError::Forged,
        })?;
        let code = PaperCode {
            id: i64::try_from(fields[0]).map_err(|_| PaperCodeError::Forged)?,
            issued_on: epoch()
                + Duration::days(i64::try_from(fields[1]).map_err(|_| PaperCodeError::Forged)?),
        };
        if today > code.valid_until() || today < code.issued_on {
            return Err(PaperCodeError::Expired);
        }
        Ok(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    #[test]
    fn a_code_is_valid_for_fourteen_days() {
        let signer = PaperCodeSigner::new([9u8; 32]);
        let code = PaperCode {
            id: 4321,
            issued_on: day(1),
        };
        let text = signer.text(code);
        assert!(text.starts_with("VCP1:"));
        assert_eq!(signer.read(&text, day(1)), Ok(code));
        assert_eq!(signer.read(&text, day(14)), Ok(code));
        assert_eq!(signer.read(&text, day(15)), Err(PaperCodeError::Expired));
    }

    #[test]
    fn forged_and_foreign_codes_are_refused() {
        let signer = PaperCodeSigner::new([9u8; 32]);
        let other = PaperCodeSigner::new([8u8; 32]);
        let forged = other.text(PaperCode {
            id: 1,
            issued_on: day(1),
        });
        assert_eq!(signer.read(&forged, day(2)), Err(PaperCodeError::Forged));
        assert_eq!(
            signer.read("HTTPS://X/V/AAAA", day(2)),
            Err(PaperCodeError::Malformed)
        );
        // A venue code's token under the paper prefix is not a paper code.
        let venue =
            super::super::VenueCodeSigner::new([9u8; 32]).token(super::super::VenueCodeRef {
                entrance_id: 1,
                version: 1,
            });
        assert!(signer.read(&format!("VCP1:{venue}"), day(2)).is_err());
    }
}
