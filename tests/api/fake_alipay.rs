//! A local Alipay gateway: it checks each request's RSA2 signature with the app's public key,
//! dispatches on `method`, and signs the response node with the "Alipay" private key. Keys are
//! generated here, once per test run.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Value};
use sha2::Sha256;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const APP_ID: &str = "2021004100000001";
pub const AES_KEY: &str = "aHdWS0JtZ3lCa3pUZ0NqQQ==";

pub const GOOD_CODE: &str = "ali-code-good";
pub const GOOD_OPEN_ID: &str = "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5";
pub const GOOD_USER_ID: &str = "2088102150477652";
pub const OLD_APP_CODE: &str = "ali-code-user-id-only";
pub const INVALID_CODE: &str = "ali-code-invalid";
pub const TAMPERED_CODE: &str = "ali-code-tampered";
pub const UNSIGNED_ERROR_CODE: &str = "ali-code-unsigned-error";
pub const BUSY_CODE: &str = "ali-code-busy";
pub const UNSIGNED_SUCCESS_CODE: &str = "ali-code-unsigned-success";

pub struct Keys {
    pub app: RsaPrivateKey,
    pub alipay: RsaPrivateKey,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = rand::thread_rng();
        Keys {
            app: RsaPrivateKey::new(&mut rng, 2048).unwrap(),
            alipay: RsaPrivateKey::new(&mut rng, 2048).unwrap(),
        }
    })
}

pub fn app_private_pkcs8() -> String {
    keys().app.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
}

pub fn app_private_pkcs1() -> String {
    keys().app.to_pkcs1_pem(LineEnding::LF).unwrap().to_string()
}

pub fn alipay_public_pem() -> String {
    RsaPublicKey::from(&keys().alipay)
        .to_public_key_pem(LineEnding::LF)
        .unwrap()
}

/// Signs like Alipay: RSA PKCS#1 v1.5 over SHA-256, standard base64.
pub fn alipay_sign(content: &str) -> String {
    let key = SigningKey::<Sha256>::new(keys().alipay.clone());
    BASE64.encode(key.sign(content.as_bytes()).to_bytes())
}

/// The answer of `my.getPhoneNumber` as the mini-program receives it.
pub fn phone_response(plaintext: &Value) -> String {
    let key = BASE64.decode(AES_KEY).unwrap();
    let ciphertext = cbc::Encryptor::<aes::Aes128>::new_from_slices(&key, &[0u8; 16])
        .unwrap()
        .encrypt_padded_vec_mut::<Pkcs7>(plaintext.to_string().as_bytes());
    let response = BASE64.encode(ciphertext);
    let sign = alipay_sign(&format!("\"{response}\""));
    json!({
        "response": response, "sign": sign, "sign_type": "RSA2",
        "encrypt_type": "AES", "charset": "UTF-8"
    })
    .to_string()
}

pub fn phone_success(mobile: &str) -> String {
    phone_response(&json!({"code": "10000", "msg": "Success", "mobile": mobile}))
}

struct Gateway;

impl Gateway {
    fn signed(node_name: &str, node: &str) -> String {
        format!(r#"{{"{node_name}":{node},"sign":"{}"}}"#, alipay_sign(node))
    }

    fn oauth(code: &str) -> String {
        const NODE: &str = "alipay_system_oauth_token_response";
        match code {
            GOOD_CODE => Self::signed(
                NODE,
                &json!({
                    "user_id": GOOD_USER_ID, "open_id": GOOD_OPEN_ID,
                    "access_token": "authusrB-good", "expires_in": "1296000",
                    "refresh_token": "authusrB-refresh", "re_expires_in": 2592000,
                    "auth_start": "2026-11-21 10:00:00"
                })
                .to_string(),
            ),
            OLD_APP_CODE => Self::signed(
                NODE,
                &json!({
                    "user_id": "2088000000000042", "access_token": "authusrB-old",
                    "expires_in": 1296000, "refresh_token": "r", "re_expires_in": 2592000
                })
                .to_string(),
            ),
            TAMPERED_CODE => {
                let node = json!({"user_id": GOOD_USER_ID, "open_id": "attacker",
                    "access_token": "t", "expires_in": 100})
                .to_string();
                let signed = Self::signed(NODE, &node);
                signed.replace("attacker", "victim!!")
            }
            UNSIGNED_ERROR_CODE => json!({"error_response": {
                "code": "40002", "msg": "Invalid Arguments",
                "sub_code": "isv.code-invalid", "sub_msg": "授权码code无效"
            }})
            .to_string(),
            UNSIGNED_SUCCESS_CODE => format!(
                r#"{{"{NODE}":{}}}"#,
                json!({"user_id": GOOD_USER_ID, "open_id": "x", "access_token": "t", "expires_in": 1})
            ),
            BUSY_CODE => Self::signed(
                "error_response",
                &json!({
                    "code": "20000", "msg": "Service Currently Unavailable",
                    "sub_code": "isp.unknow-error", "sub_msg": "系统繁忙"
                })
                .to_string(),
            ),
            _ => Self::signed(
                "error_response",
                &json!({
                    "code": "40002", "msg": "Invalid Arguments",
                    "sub_code": "isv.code-invalid", "sub_msg": "授权码code无效"
                })
                .to_string(),
            ),
        }
    }

    fn user_info(token: &str) -> String {
        const NODE: &str = "alipay_user_info_share_response";
        if token != "authusrB-good" {
            return Self::signed(
                NODE,
                &json!({
                    "code": "20001", "msg": "Insufficient Token Permissions",
                    "sub_code": "aop.invalid-auth-token", "sub_msg": "无效的访问令牌"
                })
                .to_string(),
            );
        }
        // Signed over plain slashes, sent with `\/` as some gateways do.
        let node = json!({
            "code": "10000", "msg": "Success", "user_id": GOOD_USER_ID, "open_id": GOOD_OPEN_ID,
            "avatar": "https://tfs.alipayobjects.com/images/partner/T1.png",
            "nick_name": "小李", "gender": "F", "province": "湖南省", "city": "郴州市"
        })
        .to_string();
        let signature = alipay_sign(&node);
        format!(
            r#"{{"{NODE}":{},"sign":"{signature}"}}"#,
            node.replace('/', "\\/")
        )
    }
}

impl Respond for Gateway {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let params: BTreeMap<String, String> =
            form_urlencoded::parse(&request.body).into_owned().collect();
        let content = params
            .iter()
            .filter(|(k, v)| k.as_str() != "sign" && !v.is_empty())
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let signature_ok = params
            .get("sign")
            .and_then(|s| BASE64.decode(s).ok())
            .and_then(|bytes| Signature::try_from(bytes.as_slice()).ok())
            .is_some_and(|sig| {
                VerifyingKey::<Sha256>::new(RsaPublicKey::from(&keys().app))
                    .verify(content.as_bytes(), &sig)
                    .is_ok()
            });
        let common_ok = params.get("app_id").map(String::as_str) == Some(APP_ID)
            && params.get("sign_type").map(String::as_str) == Some("RSA2")
            && params.get("charset").map(String::as_str) == Some("utf-8")
            && params.get("format").map(String::as_str) == Some("JSON")
            && params.get("version").map(String::as_str) == Some("1.0")
            && params.contains_key("timestamp");
        let body = if !signature_ok || !common_ok {
            Self::signed(
                "error_response",
                &json!({
                    "code": "40002", "msg": "Invalid Arguments",
                    "sub_code": "isv.invalid-signature", "sub_msg": "验签出错"
                })
                .to_string(),
            )
        } else {
            match params.get("method").map(String::as_str) {
                Some("alipay.system.oauth.token")
                    if params.get("grant_type").map(String::as_str) == Some("authorization_code") =>
                {
                    Self::oauth(params.get("code").map_or("", String::as_str))
                }
                Some("alipay.user.info.share") => {
                    Self::user_info(params.get("auth_token").map_or("", String::as_str))
                }
                _ => Self::signed("error_response", &json!({
                    "code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-method"
                }).to_string()),
            }
        };
        ResponseTemplate::new(200).set_body_raw(body, "text/html;charset=utf-8")
    }
}

pub async fn start() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .respond_with(Gateway)
        .mount(&server)
        .await;
    server
}

pub fn gateway(server: &MockServer) -> String {
    format!("{}/gateway.do", server.uri())
}

/// Settings that point the server at this fake.
pub fn settings(server: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("ALIPAY_APPID", APP_ID.to_owned()),
        ("ALIPAY_PRIVATE_KEY", app_private_pkcs8()),
        ("ALIPAY_PUBLIC_KEY", alipay_public_pem()),
        ("ALIPAY_AES_KEY", AES_KEY.to_owned()),
        ("ALIPAY_GATEWAY", gateway(server)),
        ("PLATFORM_TIMEOUT_MS", "1500".to_owned()),
    ]
}
