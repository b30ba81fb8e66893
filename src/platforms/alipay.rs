//! Alipay mini-program: `alipay.system.oauth.token` for login, `alipay.user.info.share` for the
//! profile, and the signed, encrypted answer of `my.getPhoneNumber`.
//!
//! Requests are signed RSA2 (PKCS#1 v1.5 over SHA-256) with the app's private key. Answers are
//! verified against Alipay's public key over the exact raw text of the response node, never a
//! re-serialisation; an answer whose signature fails is refused.

use std::collections::{BTreeMap, HashMap};

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};
use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::Duration as ChronoDuration;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::messages::{MessageSender, MessageTemplates, OutgoingMessage, SendError};
use super::rsa2::{Rsa2Signer, Rsa2Verifier};
use super::{
    AlipaySettings, IdentityClaim, IdentityProvider, PhoneProof, PlatformError, PlatformLogin,
    PlatformProfile, VerificationOutcome, VerificationTicket,
};
use crate::clock::Clock;

const OAUTH_METHOD: &str = "alipay.system.oauth.token";
const USER_INFO_METHOD: &str = "alipay.user.info.share";
const CERTIFY_INITIALIZE_METHOD: &str = "alipay.user.certify.open.initialize";
const CERTIFY_QUERY_METHOD: &str = "alipay.user.certify.open.query";
const NOTICE_METHOD: &str = "alipay.open.app.mini.templatemessage.send";
const SUCCESS_CODE: &str = "10000";

pub struct AlipayClient {
    http: reqwest::Client,
    app_id: String,
    gateway: String,
    signer: Rsa2Signer,
    verifier: Rsa2Verifier,
    aes_key: Option<Vec<u8>>,
    templates: MessageTemplates,
    clock: Clock,
}

/// The gateway's `timestamp` is Beijing time whatever the deployment's zone.
const GATEWAY_ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// What `alipay.system.oauth.token` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlipayToken {
    pub user_id: Option<String>,
    pub open_id: Option<String>,
    pub access_token: String,
    pub expires_in_secs: i64,
}

#[derive(Deserialize)]
struct OauthNode {
    user_id: Option<String>,
    open_id: Option<String>,
    access_token: Option<String>,
    expires_in: Option<Value>,
}

#[derive(Deserialize)]
struct UserInfoNode {
    avatar: Option<String>,
    nick_name: Option<String>,
    gender: Option<String>,
    province: Option<String>,
    city: Option<String>,
}

#[derive(Deserialize)]
struct PhoneEnvelope {
    response: String,
    sign: Option<String>,
}

#[derive(Deserialize)]
struct PhonePlaintext {
    code: Option<String>,
    mobile: Option<String>,
    #[serde(rename = "subCode")]
    sub_code: Option<String>,
}

impl AlipayClient {
    /// Parses the keys; the error names the setting that is wrong.
    pub fn new(config: AlipaySettings, clock: Clock) -> Result<Self, String> {
        let signer = Rsa2Signer::from_text(config.private_key.expose())
            .map_err(|e| format!("ALIPAY_PRIVATE_KEY: {e}"))?;
        let verifier = Rsa2Verifier::from_text(&config.alipay_public_key)
            .map_err(|e| format!("ALIPAY_PUBLIC_KEY: {e}"))?;
        let aes_key = match &config.aes_key {
            Some(key) => {
                let bytes = BASE64
                    .decode(key.expose().trim())
                    .map_err(|_| "ALIPAY_AES_KEY: must be base64".to_string())?;
                if ![16, 24, 32].contains(&bytes.len()) {
                    return Err("ALIPAY_AES_KEY: must decode to 16, 24 or 32 bytes".into());
                }
                Some(bytes)
            }
            None => None,
        };
        let http = super::http_client(config.timeout)?;
        Ok(Self {
            http,
            app_id: config.app_id,
            gateway: config.gateway,
            signer,
            verifier,
            aes_key,
            templates: config.templates,
            clock,
        })
    }

    pub async fn oauth_token(&self, auth_code: &str) -> Result<AlipayToken, PlatformError> {
        let node = self
            .call(
                OAUTH_METHOD,
                &[],
                &[("grant_type", "authorization_code"), ("code", auth_code)],
            )
            .await?;
        let node: OauthNode = serde_json::from_value(node)
            .map_err(|e| PlatformError::Unavailable(format!("unexpected oauth answer: {e}")))?;
        let access_token = node.access_token.filter(|t| !t.is_empty()).ok_or_else(|| {
            PlatformError::Unavailable("oauth answer without access_token".into())
        })?;
        if node.user_id.is_none() && node.open_id.is_none() {
            return Err(PlatformError::Unavailable(
                "oauth answer with neither user_id nor open_id".into(),
            ));
        }
        let expires_in_secs = match node.expires_in {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        }
        .unwrap_or(0);
        Ok(AlipayToken {
            user_id: node.user_id,
            open_id: node.open_id,
            access_token,
            expires_in_secs,
        })
    }

    pub async fn user_info(&self, access_token: &str) -> Result<PlatformProfile, PlatformError> {
        let node = self
            .call(USER_INFO_METHOD, &[("auth_token", access_token)], &[])
            .await?;
        let node: UserInfoNode = serde_json::from_value(node)
            .map_err(|e| PlatformError::Unavailable(format!("unexpected profile answer: {e}")))?;
        let gender = node.gender.map(|g| match g.to_ascii_lowercase().as_str() {
            "m" => "male".to_owned(),
            "f" => "female".to_owned(),
            _ => "unknown".to_owned(),
        });
        Ok(PlatformProfile {
            nickname: node.nick_name,
            avatar_url: node.avatar,
            gender,
            province: node.province,
            city: node.city,
        })
    }

    /// Verifies and decrypts the string the mini-program got from `my.getPhoneNumber`.
    pub fn decrypt_phone(&self, response: &str) -> Result<String, PlatformError> {
        let Some(aes_key) = &self.aes_key else {
            return Err(PlatformError::NotConfigured);
        };
        let envelope: PhoneEnvelope = serde_json::from_str(response).map_err(|_| {
            PlatformError::CodeInvalid("the phone answer is not the expected JSON".into())
        })?;
        let sign = envelope
            .sign
            .ok_or_else(|| PlatformError::CodeInvalid("the phone answer is not signed".into()))?;
        // Alipay signs the ciphertext as a JSON string, quotes included.
        if !self.verify(&format!("\"{}\"", envelope.response), &sign) {
            tracing::warn!("a phone answer failed Alipay signature verification");
            return Err(PlatformError::CodeInvalid(
                "the phone answer's signature does not verify".into(),
            ));
        }
        let ciphertext = BASE64
            .decode(envelope.response.trim())
            .map_err(|_| PlatformError::CodeInvalid("the phone ciphertext is not base64".into()))?;
        let plaintext = decrypt_cbc_zero_iv(aes_key, &ciphertext).ok_or_else(|| {
            PlatformError::CodeInvalid("the phone answer does not decrypt".into())
        })?;
        let answer: PhonePlaintext = serde_json::from_slice(&plaintext).map_err(|_| {
            PlatformError::CodeInvalid("the decrypted phone answer is not JSON".into())
        })?;
        if answer.code.as_deref() != Some(SUCCESS_CODE) {
            return Err(PlatformError::CodeInvalid(format!(
                "Alipay refused the phone number: {} {}",
                answer.code.unwrap_or_default(),
                answer.sub_code.unwrap_or_default()
            )));
        }
        answer
            .mobile
            .filter(|m| !m.is_empty())
            .ok_or_else(|| PlatformError::CodeInvalid("the phone answer has no number".into()))
    }

    /// 身份认证, step 1: opens a face check of the holder of `claim`.
    pub async fn certify_initialize(
        &self,
        claim: &IdentityClaim<'_>,
        outer_order_no: &str,
    ) -> Result<VerificationTicket, PlatformError> {
        let biz_content = serde_json::json!({
            "outer_order_no": outer_order_no,
            "biz_code": "FACE",
            "identity_param": {
                "identity_type": "CERT_INFO",
                "cert_type": "IDENTITY_CARD",
                "cert_name": claim.name,
                "cert_no": claim.id_number,
            },
            "merchant_config": {"return_url": ""},
        })
        .to_string();
        let node = self
            .call(
                CERTIFY_INITIALIZE_METHOD,
                &[],
                &[("biz_content", &biz_content)],
            )
            .await?;
        let certify_id = node
            .get("certify_id")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| PlatformError::Unavailable("initialize without certify_id".into()))?
            .to_owned();
        Ok(VerificationTicket {
            client: serde_json::json!({ "certify_id": certify_id }),
            provider_id: certify_id,
            // Alipay keeps an opened check for 24 hours.
            expires_in_secs: 24 * 3600,
        })
    }

    /// 身份认证, step 3: whether the check passed, asked from the server side.
    pub async fn certify_query(
        &self,
        certify_id: &str,
    ) -> Result<VerificationOutcome, PlatformError> {
        let biz_content = serde_json::json!({ "certify_id": certify_id }).to_string();
        let node = self
            .call(CERTIFY_QUERY_METHOD, &[], &[("biz_content", &biz_content)])
            .await?;
        Ok(match node.get("passed").and_then(Value::as_str) {
            Some("T") => VerificationOutcome::Verified,
            Some(_) => VerificationOutcome::Failed("the face check did not pass".into()),
            None => return Err(PlatformError::Unavailable("query without passed".into())),
        })
    }

    /// Calls one gateway method and returns its verified response node.
    async fn call(
        &self,
        method: &str,
        common: &[(&str, &str)],
        business: &[(&str, &str)],
    ) -> Result<Value, PlatformError> {
        self.call_raw(method, common, business)
            .await
            .map_err(|refusal| match refusal {
                Refusal::Gateway(e) => e,
                Refusal::Business(node) => map_error(&node),
            })
    }

    /// [`Self::call`], with a business error's node kept for the caller to read.
    async fn call_raw(
        &self,
        method: &str,
        common: &[(&str, &str)],
        business: &[(&str, &str)],
    ) -> Result<Value, Refusal> {
        let timestamp = self
            .clock
            .now()
            .with_timezone(&GATEWAY_ZONE)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        let mut params: BTreeMap<&str, &str> = BTreeMap::from([
            ("app_id", self.app_id.as_str()),
            ("method", method),
            ("format", "JSON"),
            ("charset", "utf-8"),
            ("sign_type", "RSA2"),
            ("timestamp", timestamp.as_str()),
            ("version", "1.0"),
        ]);
        params.extend(common.iter().copied());
        params.extend(business.iter().copied());
        let sign = self.sign(&signing_string(&params));
        params.insert("sign", &sign);

        let form = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter())
            .finish();
        let response = self
            .http
            .post(&self.gateway)
            .header(
                "content-type",
                "application/x-www-form-urlencoded;charset=utf-8",
            )
            .body(form)
            .send()
            .await
            .map_err(|e| {
                PlatformError::Unavailable(if e.is_timeout() {
                    "Alipay did not answer in time".into()
                } else {
                    format!("Alipay could not be reached: {e}")
                })
            })?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| PlatformError::Unavailable(format!("reading Alipay's answer: {e}")))?;
        if status.is_server_error() {
            return Err(Refusal::Gateway(PlatformError::Unavailable(format!(
                "Alipay answered HTTP {status}"
            ))));
        }
        self.read_answer(method, &body)
    }

    /// Finds the response node and verifies it; an error node is handed back as it is.
    fn read_answer(&self, method: &str, body: &str) -> Result<Value, Refusal> {
        let nodes: HashMap<String, &RawValue> = serde_json::from_str(body).map_err(|_| {
            PlatformError::Unavailable("Alipay's answer is not a JSON object".into())
        })?;
        // An empty signature is no signature (Alipay answers some errors with `"sign": ""`).
        let sign = nodes
            .get("sign")
            .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
            .filter(|sign| !sign.is_empty());
        let node_name = format!("{}_response", method.replace('.', "_"));

        if let Some(error) = nodes.get("error_response") {
            // Errors may come unsigned; a signed one must verify.
            if let Some(sign) = &sign {
                if !self.verify_node(error.get(), sign) {
                    return Err(refused_signature().into());
                }
            }
            let error: Value = serde_json::from_str(error.get())
                .map_err(|_| PlatformError::Unavailable("unreadable error_response".into()))?;
            return Err(Refusal::Business(error));
        }
        let node = nodes
            .get(node_name.as_str())
            .ok_or_else(|| PlatformError::Unavailable(format!("answer without {node_name}")))?;
        let sign = sign.ok_or_else(|| {
            tracing::warn!(method, "an Alipay answer came without a signature");
            PlatformError::Unavailable("Alipay's answer is not signed".into())
        })?;
        if !self.verify_node(node.get(), &sign) {
            return Err(refused_signature().into());
        }
        let node: Value = serde_json::from_str(node.get())
            .map_err(|_| PlatformError::Unavailable(format!("unreadable {node_name}")))?;
        match node.get("code").and_then(Value::as_str) {
            None | Some(SUCCESS_CODE) => Ok(node),
            Some(_) => Err(Refusal::Business(node)),
        }
    }

    fn sign(&self, content: &str) -> String {
        self.signer.sign(content.as_bytes())
    }

    /// The node as sent; if that fails, with `\/` unescaped, as Alipay's own SDK retries.
    fn verify_node(&self, raw: &str, sign: &str) -> bool {
        self.verify(raw, sign)
            || (raw.contains("\\/") && self.verify(&raw.replace("\\/", "/"), sign))
    }

    fn verify(&self, content: &str, sign: &str) -> bool {
        self.verifier.verify(content.as_bytes(), sign)
    }
}

/// Why a gateway call did not succeed: the gateway itself (unreachable, unsigned, tampered), or
/// a verified business error node (`code`, `sub_code`, `sub_msg`).
enum Refusal {
    Gateway(PlatformError),
    Business(Value),
}

impl From<PlatformError> for Refusal {
    fn from(error: PlatformError) -> Self {
        Refusal::Gateway(error)
    }
}

fn refused_signature() -> PlatformError {
    tracing::warn!("an Alipay answer failed signature verification and was refused");
    PlatformError::Unavailable("Alipay's answer failed signature verification".into())
}

/// Every parameter but `sign`, empty values dropped, sorted by key, joined raw as `k=v&k=v`.
pub fn signing_string(params: &BTreeMap<&str, &str>) -> String {
    params
        .iter()
        .filter(|(key, value)| **key != "sign" && !value.is_empty())
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn map_error(error: &Value) -> PlatformError {
    let text = |key: &str| error.get(key).and_then(Value::as_str).unwrap_or("");
    let (code, sub_code) = (text("code"), text("sub_code"));
    let described = format!("{code} {sub_code} {}", text("sub_msg"));
    match (code, sub_code) {
        (_, "isv.code-invalid" | "isv.refresh-token-invalid" | "isv.refresh-token-time-out")
        | ("20001", _) => PlatformError::CodeInvalid(described),
        (_, sub) if sub.contains("limit") => PlatformError::RateLimited,
        ("20000", _) => PlatformError::Unavailable(described),
        _ => {
            tracing::error!(code, sub_code, "Alipay refused the request");
            PlatformError::Unavailable(described)
        }
    }
}

/// Sorts a refused template message. Alipay documents no code for "not subscribed": any
/// `sub_code` that speaks of a subscription or a form id is taken as one [unverified].
fn message_refusal(refusal: Refusal) -> SendError {
    let node = match refusal {
        Refusal::Gateway(e) => return SendError::Unavailable(e.to_string()),
        Refusal::Business(node) => node,
    };
    let text = |key: &str| node.get(key).and_then(Value::as_str).unwrap_or("");
    let (code, sub_code) = (text("code"), text("sub_code"));
    let described = format!("{code} {sub_code} {}", text("sub_msg"));
    let lower = sub_code.to_ascii_lowercase();
    if lower.contains("subscri") || lower.contains("form_id") || lower.contains("form-id") {
        SendError::NotSubscribed
    } else if code == "20000" || lower.contains("limit") || lower.contains("system") {
        SendError::Unavailable(described)
    } else {
        SendError::Refused(described)
    }
}

/// An Alipay user id is `2088` and twelve more digits; anything else is an app's `open_id`.
fn is_user_id(subject: &str) -> bool {
    subject.len() == 16
        && subject.starts_with("2088")
        && subject.bytes().all(|b| b.is_ascii_digit())
}

#[async_trait]
impl MessageSender for AlipayClient {
    /// `alipay.open.app.mini.templatemessage.send` to the user's `open_id` (or `user_id` for
    /// older apps), the values as `{"keyword1": {"value": …}, …}` in a JSON string.
    async fn send(&self, recipient: &str, message: &OutgoingMessage<'_>) -> Result<(), SendError> {
        let template = self
            .templates
            .get(message.kind)
            .ok_or(SendError::NoTemplate)?;
        let data = template.data(message.values, |_, value| value.to_owned());
        let to = if is_user_id(recipient) {
            "to_user_id"
        } else {
            "to_open_id"
        };
        let biz_content = serde_json::json!({
            to: recipient,
            "user_template_id": template.id,
            "page": message.page,
            "data": Value::Object(data).to_string(),
        })
        .to_string();
        self.call_raw(NOTICE_METHOD, &[], &[("biz_content", &biz_content)])
            .await
            .map(|_| ())
            .map_err(message_refusal)
    }
}

fn decrypt_cbc_zero_iv(key: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>> {
    let iv = [0u8; 16];
    match key.len() {
        16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, &iv)
            .ok()?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            .ok(),
        24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, &iv)
            .ok()?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            .ok(),
        32 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, &iv)
            .ok()?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            .ok(),
        _ => None,
    }
}

#[async_trait]
impl IdentityProvider for AlipayClient {
    async fn login(&self, code: &str) -> Result<PlatformLogin, PlatformError> {
        let token = self.oauth_token(code).await?;
        let subject = token
            .open_id
            .clone()
            .or_else(|| token.user_id.clone())
            .expect("checked when read");
        let expires_at = self.clock.now() + ChronoDuration::seconds(token.expires_in_secs.max(0));
        Ok(PlatformLogin {
            subject,
            platform_user_id: token.user_id,
            access_token: Some((token.access_token, expires_at)),
        })
    }

    async fn phone_number(&self, proof: &PhoneProof) -> Result<String, PlatformError> {
        match proof {
            PhoneProof::AlipayResponse(response) => self.decrypt_phone(response),
            PhoneProof::WechatCode(_) => Err(PlatformError::WrongProof),
        }
    }

    async fn profile(
        &self,
        access_token: Option<&str>,
        _offered: Option<PlatformProfile>,
    ) -> Result<PlatformProfile, PlatformError> {
        let token = access_token.ok_or_else(|| {
            PlatformError::CodeInvalid(
                "no Alipay authorisation to read the profile; log in again".into(),
            )
        })?;
        self.user_info(token).await
    }

    async fn start_verification(
        &self,
        _subject: &str,
        claim: &IdentityClaim<'_>,
        out_id: &str,
    ) -> Result<VerificationTicket, PlatformError> {
        self.certify_initialize(claim, out_id).await
    }

    async fn verification_result(
        &self,
        _subject: &str,
        _claim: &IdentityClaim<'_>,
        _out_id: &str,
        provider_id: &str,
    ) -> Result<VerificationOutcome, PlatformError> {
        self.certify_query(provider_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signing_string_sorts_skips_empty_values_and_sign() {
        let params = BTreeMap::from([
            ("method", "alipay.system.oauth.token"),
            ("app_id", "2021000000000000"),
            ("sign", "xxx"),
            ("empty", ""),
            ("code", "a=b&c"),
        ]);
        assert_eq!(
            signing_string(&params),
            "app_id=2021000000000000&code=a=b&c&method=alipay.system.oauth.token"
        );
    }

    #[test]
    fn error_mapping() {
        let err = |code: &str, sub: &str| {
            map_error(&serde_json::json!({"code": code, "msg": "m", "sub_code": sub}))
        };
        assert!(matches!(
            err("40002", "isv.code-invalid"),
            PlatformError::CodeInvalid(_)
        ));
        assert!(matches!(
            err("20001", "aop.invalid-auth-token"),
            PlatformError::CodeInvalid(_)
        ));
        assert!(matches!(
            err("20000", "isp.unknow-error"),
            PlatformError::Unavailable(_)
        ));
        assert!(matches!(
            err("40002", "isv.invalid-app-id"),
            PlatformError::Unavailable(_)
        ));
        assert_eq!(
            err("40004", "isv.app-call-limited"),
            PlatformError::RateLimited
        );
    }
}
