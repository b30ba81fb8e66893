//! Development logins: no platform is called. The subject given is the account, and a phone
//! "proof" is the number itself, and a face check always passes. Exists only when
//! `APP_ENV=development`.

use async_trait::async_trait;

use super::{
    IdentityClaim, IdentityProvider, PhoneProof, PlatformError, PlatformLogin, VerificationOutcome,
    VerificationTicket,
};

/// Marks development accounts, so that no production path ever resolves them.
pub const SUBJECT_PREFIX: &str = "dev:";

pub struct DevProvider;

/// A development subject: 1 to 64 letters, digits, `-` or `_`.
pub fn is_subject(subject: &str) -> bool {
    (1..=64).contains(&subject.len())
        && subject
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[async_trait]
impl IdentityProvider for DevProvider {
    async fn login(&self, code: &str) -> Result<PlatformLogin, PlatformError> {
        let subject = code.trim();
        if !is_subject(subject) {
            return Err(PlatformError::CodeInvalid(
                "a development subject is 1-64 letters, digits, '-' or '_'".into(),
            ));
        }
        Ok(PlatformLogin {
            subject: format!("{SUBJECT_PREFIX}{subject}"),
            platform_user_id: None,
            access_token: None,
        })
    }

    async fn phone_number(&self, proof: &PhoneProof) -> Result<String, PlatformError> {
        match proof {
            PhoneProof::WechatCode(number) | PhoneProof::AlipayResponse(number) => {
                Ok(number.trim().to_owned())
            }
        }
    }

    /// Development has no face to check: the claim is taken as verified.
    async fn start_verification(
        &self,
        _subject: &str,
        _claim: &IdentityClaim<'_>,
        out_id: &str,
    ) -> Result<VerificationTicket, PlatformError> {
        Ok(VerificationTicket {
            provider_id: format!("dev-{out_id}"),
            expires_in_secs: 3600,
            client: serde_json::json!({ "verify_id": format!("dev-{out_id}") }),
        })
    }

    async fn verification_result(
        &self,
        _subject: &str,
        _claim: &IdentityClaim<'_>,
        _out_id: &str,
        _provider_id: &str,
    ) -> Result<VerificationOutcome, PlatformError> {
        Ok(VerificationOutcome::Verified)
    }
}
