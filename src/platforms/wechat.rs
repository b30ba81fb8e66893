//! WeChat mini-program: `code2Session` for login, the access token through `stable_token`, and
//! the phone number through `getuserphonenumber`.
//!
//! WeChat answers errors as `{"errcode": N, "errmsg": "…, rid: …"}`, possibly with HTTP 200; we
//! branch on `errcode` only and read the body whatever the status.

use std::time::Duration;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;

use super::messages::{cut, MessageSender, OutgoingMessage, SendError};
use super::{
    join_url, IdentityClaim, IdentityProvider, PhoneProof, PlatformError, PlatformLogin,
    VerificationOutcome, VerificationTicket, WechatSettings,
};
use crate::clock::Clock;

/// Token errors after which one refresh and one retry are allowed.
const STALE_TOKEN_ERRCODES: [i64; 3] = [40001, 42001, 40014];
/// Refresh this long before the token's own expiry.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);

pub struct WechatClient {
    http: reqwest::Client,
    config: WechatSettings,
    clock: Clock,
    /// The cached access token. Holding the lock while refreshing makes refreshes one at a time.
    token: Mutex<Option<CachedToken>>,
}

#[derive(Clone)]
struct CachedToken {
    value: String,
    refresh_at: chrono::DateTime<chrono::Utc>,
}

/// What `code2Session` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WechatSession {
    pub openid: String,
    pub unionid: Option<String>,
}

#[derive(Deserialize)]
struct Code2SessionAnswer {
    openid: Option<String>,
    unionid: Option<String>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    expires_in: Option<Value>,
}

#[derive(Deserialize)]
struct PhoneAnswer {
    phone_info: Option<PhoneInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhoneInfo {
    pure_phone_number: Option<String>,
    phone_number: Option<String>,
    /// A string or a number, depending on the day.
    country_code: Option<Value>,
    watermark: Option<Watermark>,
}

#[derive(Deserialize)]
struct Watermark {
    appid: Option<String>,
}

impl WechatClient {
    pub fn new(config: WechatSettings, clock: Clock) -> Result<Self, String> {
        let http = super::http_client(config.timeout)?;
        Ok(Self {
            http,
            config,
            clock,
            token: Mutex::new(None),
        })
    }

    pub async fn code_to_session(&self, code: &str) -> Result<WechatSession, PlatformError> {
        let url = join_url(&self.config.api_base, "/sns/jscode2session");
        let request = self.http.get(url).query(&[
            ("appid", self.config.appid.as_str()),
            ("secret", self.config.secret.expose().as_str()),
            ("js_code", code),
            ("grant_type", "authorization_code"),
        ]);
        let answer: Code2SessionAnswer = self.send(Call::Login, request).await?;
        let openid = answer.openid.filter(|o| !o.is_empty()).ok_or_else(|| {
            PlatformError::Unavailable("code2Session answered without openid".into())
        })?;
        Ok(WechatSession {
            openid,
            unionid: answer.unionid.filter(|u| !u.is_empty()),
        })
    }

    /// A POST with the access token: a token WeChat calls stale is refreshed once and the call
    /// retried once.
    async fn post_with_token<T: DeserializeOwned>(
        &self,
        call: Call,
        path: &str,
        body: &Value,
    ) -> Result<T, PlatformError> {
        self.post_with_fresh_token(call, path, body)
            .await
            .map_err(Rejection::into_platform_error)
    }

    /// [`Self::post_with_token`], with WeChat's refusal kept for the caller to sort.
    async fn post_with_fresh_token<T: DeserializeOwned>(
        &self,
        call: Call,
        path: &str,
        body: &Value,
    ) -> Result<T, Rejection> {
        let url = join_url(&self.config.api_base, path);
        let send = |token: String| {
            let request = self
                .http
                .post(&url)
                .query(&[("access_token", token)])
                .json(body);
            self.send_raw(call, request)
        };
        let token = self.access_token().await.map_err(Rejection::Platform)?;
        match send(token.clone()).await {
            Err(Rejection::StaleToken) => {
                let fresh = self
                    .refresh_after_rejection(&token)
                    .await
                    .map_err(Rejection::Platform)?;
                match send(fresh).await {
                    Err(Rejection::StaleToken) => Err(Rejection::Platform(
                        PlatformError::Unavailable("the access token was refused twice".into()),
                    )),
                    other => other,
                }
            }
            other => other,
        }
    }

    /// A subscribe message (`subscribeMessage.send`) to the user `openid`. Each value is cut to
    /// what its field's type allows (a `thing` holds 20 characters), so that a long venue name
    /// does not cost the message (47003).
    pub async fn send_subscribe_message(
        &self,
        openid: &str,
        message: &OutgoingMessage<'_>,
    ) -> Result<(), SendError> {
        let template = self
            .config
            .templates
            .get(message.kind)
            .ok_or(SendError::NoTemplate)?;
        let data = template.data(message.values, fit);
        let body = serde_json::json!({
            "touser": openid,
            "template_id": template.id,
            "page": message.page,
            "data": data,
            "miniprogram_state": "formal",
            "lang": "zh_CN",
        });
        self.post_with_fresh_token::<Value>(Call::Notice, "/cgi-bin/message/subscribe/send", &body)
            .await
            .map(|_| ())
            .map_err(|rejection| match rejection {
                Rejection::Notice(e) => e,
                other => SendError::Unavailable(other.into_platform_error().to_string()),
            })
    }

    /// The mainland number behind a `getPhoneNumber` code, checked to belong to our app.
    pub async fn phone_number(&self, code: &str) -> Result<String, PlatformError> {
        let answer: PhoneAnswer = self
            .post_with_token(
                Call::Phone,
                "/wxa/business/getuserphonenumber",
                &serde_json::json!({ "code": code }),
            )
            .await?;
        let info = answer
            .phone_info
            .ok_or_else(|| PlatformError::Unavailable("answer without phone_info".into()))?;
        let watermark_appid = info.watermark.and_then(|w| w.appid);
        if watermark_appid.as_deref() != Some(self.config.appid.as_str()) {
            tracing::warn!("getuserphonenumber answered with another app's watermark");
            return Err(PlatformError::CodeInvalid(
                "the phone number was issued to another app".into(),
            ));
        }
        let country = match info.country_code {
            Some(Value::String(s)) => s,
            Some(Value::Number(n)) => n.to_string(),
            _ => "86".into(),
        };
        if country != "86" {
            // Only mainland numbers are accepted; the caller reports it as a bad phone number.
            return Ok(info.phone_number.unwrap_or_default());
        }
        info.pure_phone_number
            .or(info.phone_number)
            .ok_or_else(|| PlatformError::Unavailable("answer without a phone number".into()))
    }

    /// 人脸核身, step 1: a check of the holder of `claim` by the user `openid`.
    pub async fn get_verify_id(
        &self,
        openid: &str,
        claim: &IdentityClaim<'_>,
        out_seq_no: &str,
    ) -> Result<VerificationTicket, PlatformError> {
        let answer: VerifyIdAnswer = self
            .post_with_token(
                Call::Face,
                "/cityservice/face/identify/getverifyid",
                &serde_json::json!({
                    "out_seq_no": out_seq_no,
                    "cert_info": {
                        "cert_type": "IDENTITY_CARD",
                        "cert_name": claim.name,
                        "cert_no": claim.id_number,
                    },
                    "openid": openid,
                }),
            )
            .await?;
        let verify_id = answer
            .verify_id
            .filter(|v| !v.is_empty())
            .ok_or_else(|| PlatformError::Unavailable("getverifyid without verify_id".into()))?;
        Ok(VerificationTicket {
            client: serde_json::json!({ "verify_id": verify_id }),
            provider_id: verify_id,
            expires_in_secs: answer.expires_in.unwrap_or(3600),
        })
    }

    /// 人脸核身, step 3: what became of the check, asked from the server side.
    pub async fn query_verify_info(
        &self,
        openid: &str,
        claim: &IdentityClaim<'_>,
        out_seq_no: &str,
        verify_id: &str,
    ) -> Result<VerificationOutcome, PlatformError> {
        let answer: VerifyInfoAnswer = self
            .post_with_token(
                Call::Face,
                "/cityservice/face/identify/queryverifyinfo",
                &serde_json::json!({
                    "verify_id": verify_id,
                    "out_seq_no": out_seq_no,
                    "cert_hash": cert_hash(claim),
                    "openid": openid,
                }),
            )
            .await?;
        Ok(match answer.verify_ret {
            Some(10000) => VerificationOutcome::Verified,
            Some(code @ 90001..=90199) => {
                VerificationOutcome::Failed(format!("the check did not finish ({code})"))
            }
            Some(10002) => VerificationOutcome::Failed("no face was detected".into()),
            Some(10003) => VerificationOutcome::Failed("the ID number does not match".into()),
            Some(10004) => VerificationOutcome::Failed("the face does not match".into()),
            Some(code) => VerificationOutcome::Failed(format!("verify_ret {code}")),
            None => {
                return Err(PlatformError::Unavailable(
                    "answer without verify_ret".into(),
                ))
            }
        })
    }

    /// The cached token, or a new one when it is missing or about to expire.
    async fn access_token(&self) -> Result<String, PlatformError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| self.clock.now() < t.refresh_at) {
            return Ok(token.value.clone());
        }
        let fresh = self.fetch_token(false).await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    /// After WeChat refused `rejected`: one refresh. If another caller already replaced it, use
    /// theirs; if the normal refresh hands back the same token, force a new one (rate-limited by
    /// WeChat, so only then).
    async fn refresh_after_rejection(&self, rejected: &str) -> Result<String, PlatformError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| t.value != rejected) {
            return Ok(token.value.clone());
        }
        let mut fresh = self.fetch_token(false).await?;
        if fresh.value == rejected {
            fresh = self.fetch_token(true).await?;
        }
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    async fn fetch_token(&self, force_refresh: bool) -> Result<CachedToken, PlatformError> {
        let url = join_url(&self.config.api_base, "/cgi-bin/stable_token");
        let request = self.http.post(url).json(&serde_json::json!({
            "grant_type": "client_credential",
            "appid": self.config.appid,
            "secret": self.config.secret.expose(),
            "force_refresh": force_refresh,
        }));
        let answer: TokenAnswer = self.send(Call::Token, request).await?;
        let value = answer
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                PlatformError::Unavailable("stable_token without access_token".into())
            })?;
        let expires_in = match answer.expires_in {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        }
        .unwrap_or(7200);
        let lifetime = Duration::from_secs(expires_in);
        // Short-lived tokens are refreshed at 90% of their life instead of 5 minutes early.
        let margin = TOKEN_MARGIN.min(lifetime / 10);
        Ok(CachedToken {
            value,
            refresh_at: self.clock.now()
                + chrono::Duration::from_std(lifetime - margin).unwrap_or(chrono::Duration::zero()),
        })
    }

    async fn send<T: DeserializeOwned>(
        &self,
        call: Call,
        request: reqwest::RequestBuilder,
    ) -> Result<T, PlatformError> {
        self.send_raw(call, request)
            .await
            .map_err(Rejection::into_platform_error)
    }

    /// Sends, reads the body whatever the HTTP status, and sorts out `errcode`.
    async fn send_raw<T: DeserializeOwned>(
        &self,
        call: Call,
        request: reqwest::RequestBuilder,
    ) -> Result<T, Rejection> {
        let response = request.send().await.map_err(|e| {
            Rejection::Platform(PlatformError::Unavailable(if e.is_timeout() {
                "WeChat did not answer in time".into()
            } else {
                format!("WeChat could not be reached: {e}")
            }))
        })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| {
            Rejection::Platform(PlatformError::Unavailable(format!(
                "reading WeChat's answer: {e}"
            )))
        })?;
        let value: Value = serde_json::from_slice(&body).map_err(|_| {
            Rejection::Platform(PlatformError::Unavailable(format!(
                "WeChat answered HTTP {status} with a body that is not JSON"
            )))
        })?;
        let errcode = match value.get("errcode") {
            None | Some(Value::Null) => 0,
            Some(code) => code.as_i64().ok_or_else(|| {
                Rejection::Platform(PlatformError::Unavailable("errcode is not a number".into()))
            })?,
        };
        if errcode != 0 {
            let errmsg = value.get("errmsg").and_then(Value::as_str).unwrap_or("");
            return Err(Rejection::from_errcode(call, errcode, errmsg));
        }
        if status.is_server_error() {
            return Err(Rejection::Platform(PlatformError::Unavailable(format!(
                "WeChat answered HTTP {status}"
            ))));
        }
        serde_json::from_value(value).map_err(|e| {
            Rejection::Platform(PlatformError::Unavailable(format!(
                "WeChat's answer has an unexpected shape: {e}"
            )))
        })
    }
}

/// Which call an answer belongs to: some errcodes mean different things in different calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Login,
    Token,
    Phone,
    Face,
    Notice,
}

/// Why WeChat said no; a stale token is kept apart because it is retried.
enum Rejection {
    StaleToken,
    Platform(PlatformError),
    /// A subscribe message that is not to be retried.
    Notice(SendError),
}

impl Rejection {
    fn from_errcode(call: Call, errcode: i64, errmsg: &str) -> Self {
        if matches!(call, Call::Phone | Call::Face | Call::Notice)
            && STALE_TOKEN_ERRCODES.contains(&errcode)
        {
            return Rejection::StaleToken;
        }
        if call == Call::Notice {
            match errcode {
                43101 => return Rejection::Notice(SendError::NotSubscribed),
                // A field breaks the template's rules, the template or the openid is not ours.
                47003 | 40037 | 40003 | 43107 => {
                    tracing::warn!(errcode, errmsg, "WeChat refused a subscribe message");
                    return Rejection::Notice(SendError::Refused(format!(
                        "errcode {errcode}: {errmsg}"
                    )));
                }
                _ => {}
            }
        }
        Rejection::Platform(match (call, errcode) {
            // 40013 is "invalid appid" for our credentials, but "code from another app" for a
            // phone code.
            (Call::Login | Call::Phone, 40029 | 40163 | 41008) | (Call::Phone, 40013) => {
                PlatformError::CodeInvalid(format!("errcode {errcode}: {errmsg}"))
            }
            (_, 45011) => PlatformError::RateLimited,
            (_, 40226) => PlatformError::UserBlocked,
            (_, -1) => PlatformError::Unavailable("WeChat is busy (errcode -1)".into()),
            _ => {
                tracing::error!(errcode, errmsg, "WeChat refused the request");
                PlatformError::Unavailable(format!("errcode {errcode}: {errmsg}"))
            }
        })
    }

    fn into_platform_error(self) -> PlatformError {
        match self {
            Rejection::StaleToken => {
                PlatformError::Unavailable("WeChat refused our access token".into())
            }
            Rejection::Platform(e) => e,
            Rejection::Notice(e) => PlatformError::Unavailable(e.to_string()),
        }
    }
}

/// A value cut to what a template field of this key's type holds: the type is the key without
/// its number (`thing3` → `thing`); times and dates are left as they are.
fn fit(key: &str, value: &str) -> String {
    let field_type = key.trim_end_matches(|c: char| c.is_ascii_digit());
    let limit = match field_type {
        "thing" => 20,
        "name" => 10,
        "phrase" | "symbol" => 5,
        "car_number" => 8,
        "character_string" | "number" | "letter" | "amount" | "phone_number" => 32,
        _ => return value.to_owned(),
    };
    cut(value, limit)
}

#[async_trait]
impl MessageSender for WechatClient {
    async fn send(&self, recipient: &str, message: &OutgoingMessage<'_>) -> Result<(), SendError> {
        self.send_subscribe_message(recipient, message).await
    }
}

#[async_trait]
impl IdentityProvider for WechatClient {
    async fn login(&self, code: &str) -> Result<PlatformLogin, PlatformError> {
        let session = self.code_to_session(code).await?;
        Ok(PlatformLogin {
            subject: session.openid,
            platform_user_id: session.unionid,
            access_token: None,
        })
    }

    async fn phone_number(&self, proof: &PhoneProof) -> Result<String, PlatformError> {
        match proof {
            PhoneProof::WechatCode(code) => WechatClient::phone_number(self, code).await,
            PhoneProof::AlipayResponse(_) => Err(PlatformError::WrongProof),
        }
    }

    // WeChat gives the nickname and avatar to the mini-program only: the trait's default keeps
    // what it offers.

    async fn start_verification(
        &self,
        subject: &str,
        claim: &IdentityClaim<'_>,
        out_id: &str,
    ) -> Result<VerificationTicket, PlatformError> {
        self.get_verify_id(subject, claim, out_id).await
    }

    async fn verification_result(
        &self,
        subject: &str,
        claim: &IdentityClaim<'_>,
        out_id: &str,
        provider_id: &str,
    ) -> Result<VerificationOutcome, PlatformError> {
        self.query_verify_info(subject, claim, out_id, provider_id)
            .await
    }
}

/// The `cert_hash` that queryverifyinfo asks for, derived from the certificate data. WeChat's
/// formula is not confirmed by a primary source; it is kept here, in one function:
/// base64(SHA-256(`cert_type=IDENTITY_CARD&cert_name={name}&cert_no={number}`)).
pub fn cert_hash(claim: &IdentityClaim<'_>) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let text = format!(
        "cert_type=IDENTITY_CARD&cert_name={}&cert_no={}",
        claim.name, claim.id_number
    );
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

#[derive(Deserialize)]
struct VerifyIdAnswer {
    verify_id: Option<String>,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct VerifyInfoAnswer {
    verify_ret: Option<i64>,
}
