//! The outside identity services. Residents and venue managers arrive from the WeChat or Alipay
//! mini-program with a one-time code; each platform turns it into a stable account subject, and
//! later into a verified phone number and a profile. Both sit behind [`IdentityProvider`], so
//! routes never know which platform they talk to, and tests swap in fakes.

pub mod alipay;
pub mod dev;
pub mod messages;
pub mod rsa2;
pub mod wechat;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::domain::Platform;
use crate::domain::Secret;
use messages::MessageTemplates;

/// Who the platform says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformLogin {
    /// Stable per-app identifier: WeChat `openid`, Alipay `open_id` (or `user_id` for older apps).
    pub subject: String,
    /// WeChat `unionid` or Alipay `user_id`, when given.
    pub platform_user_id: Option<String>,
    /// A token for later profile calls (Alipay), with its expiry.
    pub access_token: Option<(String, DateTime<Utc>)>,
}

/// What the mini-program sends to prove a phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneProof {
    /// The code from WeChat's `getPhoneNumber` button.
    WechatCode(String),
    /// The whole `res.response` string of Alipay's `my.getPhoneNumber`.
    AlipayResponse(String),
}

/// The first consent element: nickname, avatar, gender, region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformProfile {
    pub nickname: Option<String>,
    pub avatar_url: Option<String>,
    pub gender: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlatformError {
    /// The code (login or phone) is invalid, expired, used, or from another app.
    #[error("the platform refused the code: {0}")]
    CodeInvalid(String),
    /// The platform's frequency limit was hit.
    #[error("the platform's rate limit was hit")]
    RateLimited,
    /// The platform refuses this user (WeChat 40226, high-risk user).
    #[error("the platform refuses this user")]
    UserBlocked,
    /// Busy, timed out, 5xx, malformed or unverifiable answer, or our credentials refused.
    #[error("the platform is unavailable: {0}")]
    Unavailable(String),
    /// This deployment has no credentials for the platform.
    #[error("the platform is not configured")]
    NotConfigured,
    /// The proof is of the wrong kind for this platform.
    #[error("this proof does not belong to this platform")]
    WrongProof,
}

/// The identity a face check is to confirm: the holder of this name and ID number.
#[derive(Debug, Clone, Copy)]
pub struct IdentityClaim<'a> {
    pub name: &'a str,
    pub id_number: &'a str,
}

/// A face check the platform has opened.
#[derive(Debug, Clone, PartialEq)]
pub struct VerificationTicket {
    /// The platform's id of the check: WeChat `verify_id`, Alipay `certify_id`.
    pub provider_id: String,
    pub expires_in_secs: u64,
    /// What the mini-program needs to run the check (`{"verify_id"}`, `{"certify_id"}`).
    pub client: serde_json::Value,
}

/// What the platform says became of a face check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerificationOutcome {
    Verified,
    /// Not verified, and why.
    Failed(String),
}

#[async_trait]
pub trait IdentityProvider: Send + Sync {
    /// Exchanges the mini-program's one-time login code.
    async fn login(&self, code: &str) -> Result<PlatformLogin, PlatformError>;

    /// Resolves a phone-number proof into the number the platform verified.
    async fn phone_number(&self, proof: &PhoneProof) -> Result<String, PlatformError>;

    /// The profile: fetched from the platform with `access_token` where it offers that (Alipay),
    /// otherwise what the mini-program `offered` (WeChat gives the profile to the client only).
    async fn profile(
        &self,
        _access_token: Option<&str>,
        offered: Option<PlatformProfile>,
    ) -> Result<PlatformProfile, PlatformError> {
        Ok(offered.unwrap_or_default())
    }

    /// Opens a face check of the user `subject` against `claim`; `out_id` is ours, unique.
    async fn start_verification(
        &self,
        subject: &str,
        claim: &IdentityClaim<'_>,
        out_id: &str,
    ) -> Result<VerificationTicket, PlatformError>;

    /// Asks the platform what became of a check (never trusting what the client reports).
    async fn verification_result(
        &self,
        subject: &str,
        claim: &IdentityClaim<'_>,
        out_id: &str,
        provider_id: &str,
    ) -> Result<VerificationOutcome, PlatformError>;
}

/// The providers this deployment has.
#[derive(Clone, Default)]
pub struct IdentityProviders {
    pub wechat: Option<Arc<dyn IdentityProvider>>,
    pub alipay: Option<Arc<dyn IdentityProvider>>,
    /// Development logins (`POST /api/v1/sessions/dev`); never present in production.
    pub dev: Option<Arc<dyn IdentityProvider>>,
}

impl IdentityProviders {
    pub fn for_platform(
        &self,
        platform: Platform,
    ) -> Result<&Arc<dyn IdentityProvider>, PlatformError> {
        match platform {
            Platform::Wechat => self.wechat.as_ref(),
            Platform::Alipay => self.alipay.as_ref(),
        }
        .ok_or(PlatformError::NotConfigured)
    }

    /// The provider that answers for an existing account: development accounts (subject
    /// `dev:…`) are resolved by the development provider, all others by their platform.
    pub fn for_account(
        &self,
        platform: Platform,
        subject: &str,
    ) -> Result<&Arc<dyn IdentityProvider>, PlatformError> {
        if subject.starts_with(dev::SUBJECT_PREFIX) {
            return self.dev.as_ref().ok_or(PlatformError::NotConfigured);
        }
        self.for_platform(platform)
    }
}

/// An HTTP client for a platform: the whole call bounded by `timeout`, connecting by less.
pub(crate) fn http_client(timeout: std::time::Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(std::time::Duration::from_secs(3)))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// The configured outside base URL with `path` appended.
pub(crate) fn join_url(base: &str, path: &str) -> String {
    format!("{}{}", base.trim_end_matches('/'), path)
}

/// The WeChat mini-program this deployment logs in through (`WECHAT_*`).
#[derive(Debug, Clone)]
pub struct WechatSettings {
    pub appid: String,
    pub secret: Secret<String>,
    pub api_base: String,
    pub timeout: Duration,
    /// Subscribe-message templates by kind of notification (`WECHAT_TEMPLATE_*`).
    pub templates: MessageTemplates,
}

/// The Alipay mini-program this deployment logs in through (`ALIPAY_*`).
#[derive(Debug, Clone)]
pub struct AlipaySettings {
    pub app_id: String,
    /// PKCS#1 or PKCS#8, PEM or bare base64 DER.
    pub private_key: Secret<String>,
    /// SubjectPublicKeyInfo (or PKCS#1), PEM or bare base64 DER.
    pub alipay_public_key: String,
    /// Base64 AES key for `my.getPhoneNumber` answers, when the app has one.
    pub aes_key: Option<Secret<String>>,
    pub gateway: String,
    pub timeout: Duration,
    /// Template messages by kind of notification (`ALIPAY_TEMPLATE_*`).
    pub templates: MessageTemplates,
}
