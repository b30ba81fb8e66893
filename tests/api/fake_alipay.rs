//! A local Alipay gateway: it checks each request's RSA2 signature with the app's public key,
//! dispatches on `method`, and signs the response node with the "Alipay" private key. The keys
//! are fixed test keys made with openssl (tests/fixtures/alipay); signing and verifying here use
//! `ring` directly, not the client's code.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{
    RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};

use crate::fake_messages::{
    Answer, Messages, Taken, HEALTH_CODE_TEMPLATE, REVIEW_RESULT_TEMPLATE, RISK_WINDOW_TEMPLATE,
    TEMPLATES,
};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::fake_faces::{FaceCheck, Faces, Outcome};

pub const APP_ID: &str = "2021004100000001";
pub const AES_KEY: &str = "aHdWS0JtZ3lCa3pUZ0NqQQ==";

pub const GOOD_CODE: &str = "ali-code-good";
pub const GOOD_OPEN_ID: &str = "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5";
pub const GOOD_USER_ID: &str = "2088102150477652";
pub const OLD_APP_CODE: &str = "ali-code-user-id-only";
pub const INVALID_CODE: &str = "ali-code-invalid";
pub const TAMPERED_CODE: &str = "ali-code-tampered";
pub const UNSIGNED_ERROR_CODE: &str = "ali-code-unsigned-error";
/// An error answered with an empty signature, as the gateway does for some errors.
pub const EMPTY_SIGN_ERROR_CODE: &str = "ali-code-empty-sign-error";
pub const BUSY_CODE: &str = "ali-code-busy";
pub const UNSIGNED_SUCCESS_CODE: &str = "ali-code-unsigned-success";

const APP_PKCS8: &str = include_str!("../fixtures/alipay/app.pkcs8.pem");
const APP_PKCS1: &str = include_str!("../fixtures/alipay/app.pkcs1.pem");
const ALIPAY_PKCS8: &str = include_str!("../fixtures/alipay/alipay.pkcs8.pem");
const ALIPAY_PUBLIC: &str = include_str!("../fixtures/alipay/alipay.public.pem");
const STRANGER_PKCS8: &str = include_str!("../fixtures/alipay/stranger.pkcs8.pem");

/// The DER inside a PEM.
fn der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    BASE64.decode(body).expect("a PEM's body is base64")
}

pub struct Keys {
    pub app: RsaKeyPair,
    pub alipay: RsaKeyPair,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        app: RsaKeyPair::from_pkcs8(&der(APP_PKCS8)).expect("the app's test key"),
        alipay: RsaKeyPair::from_pkcs8(&der(ALIPAY_PKCS8)).expect("Alipay's test key"),
    })
}

pub fn app_private_pkcs8() -> String {
    APP_PKCS8.to_owned()
}

pub fn app_private_pkcs1() -> String {
    APP_PKCS1.to_owned()
}

/// A key the gateway does not know.
pub fn stranger_private_pkcs8() -> String {
    STRANGER_PKCS8.to_owned()
}

pub fn alipay_public_pem() -> String {
    ALIPAY_PUBLIC.to_owned()
}

/// Signs like Alipay: RSA PKCS#1 v1.5 over SHA-256, standard base64.
pub fn alipay_sign(content: &str) -> String {
    let key = &keys().alipay;
    let mut signature = vec![0u8; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        content.as_bytes(),
        &mut signature,
    )
    .expect("signing");
    BASE64.encode(signature)
}

/// Whether `sign` is the app's signature of `content`.
fn app_signed(content: &str, sign: &str) -> bool {
    let Ok(signature) = BASE64.decode(sign) else {
        return false;
    };
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, keys().app.public().as_ref())
        .verify(content.as_bytes(), &signature)
        .is_ok()
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

struct Gateway {
    faces: Arc<Faces>,
    messages: Arc<Messages>,
}

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
            EMPTY_SIGN_ERROR_CODE => json!({"error_response": {
                "code": "40002", "msg": "Invalid Arguments",
                "sub_code": "isv.code-invalid", "sub_msg": "授权码code无效"
            }, "sign": ""})
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

impl Gateway {
    fn invalid_arguments(node: &str, sub_code: &str, sub_msg: &str) -> String {
        Self::signed(
            node,
            &json!({"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg})
                .to_string(),
        )
    }

    /// 身份认证初始化: checks the business parameters as documented and opens a check.
    fn certify_initialize(&self, biz_content: &str) -> String {
        const NODE: &str = "alipay_user_certify_open_initialize_response";
        let Ok(biz) = serde_json::from_str::<Value>(biz_content) else {
            return Self::invalid_arguments(NODE, "isv.invalid-parameter", "biz_content 格式错误");
        };
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let order = text(&biz["outer_order_no"]);
        let identity = &biz["identity_param"];
        let valid = !order.is_empty()
            && order.len() <= 32
            && order.bytes().all(|b| b.is_ascii_alphanumeric())
            && biz["biz_code"] == "FACE"
            && identity["identity_type"] == "CERT_INFO"
            && identity["cert_type"] == "IDENTITY_CARD"
            && !text(&identity["cert_name"]).is_empty()
            && !text(&identity["cert_no"]).is_empty()
            && biz["merchant_config"].is_object();
        if !valid {
            return Self::invalid_arguments(NODE, "isv.invalid-parameter", "参数有误");
        }
        let certify_id = format!("certify{order}");
        self.faces.open(
            &certify_id,
            FaceCheck {
                name: text(&identity["cert_name"]),
                id_number: text(&identity["cert_no"]),
                subject: None,
                out_id: order,
                face: None,
            },
        );
        Self::signed(
            NODE,
            &json!({"code": "10000", "msg": "Success", "certify_id": certify_id}).to_string(),
        )
    }

    /// 身份认证记录查询: `passed` is `T` only for a check done with the claimed person's face.
    fn certify_query(&self, biz_content: &str) -> String {
        const NODE: &str = "alipay_user_certify_open_query_response";
        let certify_id = serde_json::from_str::<Value>(biz_content)
            .ok()
            .and_then(|biz| biz["certify_id"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let Some(check) = self.faces.get(&certify_id) else {
            return Self::invalid_arguments(NODE, "CERTIFY_ID_NOT_EXIST", "认证单据不存在");
        };
        let passed = if Faces::outcome(&check) == Outcome::Verified {
            "T"
        } else {
            "F"
        };
        Self::signed(
            NODE,
            &json!({"code": "10000", "msg": "Success", "passed": passed}).to_string(),
        )
    }
}

impl Gateway {
    /// 小程序发送模板消息: a known template, one recipient (`to_open_id` or `to_user_id`), a page
    /// and `data` as a JSON string of `{"keyword1": {"value": …}, …}`; then answered by
    /// `Messages` (not subscribed: `isv.user-not-subscribed` [unverified]; busy: 20000).
    fn template_message(&self, biz_content: &str) -> String {
        const NODE: &str = "alipay_open_app_mini_templatemessage_send_response";
        let Ok(biz) = serde_json::from_str::<Value>(biz_content) else {
            return Self::invalid_arguments(NODE, "isv.invalid-parameter", "biz_content 格式错误");
        };
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let recipient = match (biz["to_open_id"].as_str(), biz["to_user_id"].as_str()) {
            (Some(open_id), None) => open_id.to_owned(),
            (None, Some(user_id)) if user_id.starts_with("2088") => user_id.to_owned(),
            _ => return Self::invalid_arguments(NODE, "isv.invalid-parameter", "接收人有误"),
        };
        let template = text(&biz["user_template_id"]);
        if !TEMPLATES.contains(&template.as_str()) {
            return Self::invalid_arguments(NODE, "isv.invalid-template-id", "模板不存在");
        }
        let data = biz["data"]
            .as_str()
            .and_then(|d| serde_json::from_str::<Value>(d).ok())
            .and_then(|d| d.as_object().cloned());
        let Some(data) = data.filter(|d| !d.is_empty()) else {
            return Self::invalid_arguments(NODE, "isv.invalid-parameter", "data 格式错误");
        };
        let page = text(&biz["page"]);
        if page.is_empty() {
            return Self::invalid_arguments(NODE, "isv.missing-page", "缺少 page");
        }
        let values = data
            .into_iter()
            .map(|(key, field)| (key, text(&field["value"])))
            .collect();
        match self.messages.answer(Taken {
            recipient,
            template,
            page,
            values,
        }) {
            Answer::Taken => Self::signed(NODE, &json!({"code": "10000", "msg": "Success"}).to_string()),
            Answer::NotSubscribed => {
                Self::invalid_arguments(NODE, "isv.user-not-subscribed", "用户未订阅该消息")
            }
            Answer::Busy => Self::signed(
                NODE,
                &json!({"code": "20000", "msg": "Service Currently Unavailable", "sub_code": "isp.unknow-error", "sub_msg": "系统繁忙"}).to_string(),
            ),
        }
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
            .is_some_and(|sign| app_signed(&content, sign));
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
                Some("alipay.user.certify.open.initialize") => {
                    self.certify_initialize(params.get("biz_content").map_or("", String::as_str))
                }
                Some("alipay.user.certify.open.query") => {
                    self.certify_query(params.get("biz_content").map_or("", String::as_str))
                }
                Some("alipay.open.app.mini.templatemessage.send") => {
                    self.template_message(params.get("biz_content").map_or("", String::as_str))
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
    start_with_faces().await.0
}

/// The gateway, and the face checks it opened (a test does them as the user would).
pub async fn start_with_faces() -> (MockServer, Arc<Faces>) {
    let (server, faces, _) = start_with_everything().await;
    (server, faces)
}

/// The gateway, and the template messages it took.
pub async fn start_with_messages() -> (MockServer, Arc<Messages>) {
    let (server, _, messages) = start_with_everything().await;
    (server, messages)
}

async fn start_with_everything() -> (MockServer, Arc<Faces>, Arc<Messages>) {
    let server = MockServer::start().await;
    let faces = Arc::new(Faces::default());
    let messages = Arc::new(Messages::default());
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .respond_with(Gateway {
            faces: Arc::clone(&faces),
            messages: Arc::clone(&messages),
        })
        .mount(&server)
        .await;
    (server, faces, messages)
}

/// The templates of `fake_messages`, one setting per kind.
pub fn template_settings() -> Vec<(&'static str, String)> {
    vec![
        (
            "ALIPAY_TEMPLATE_RISK_WINDOW",
            RISK_WINDOW_TEMPLATE.to_owned(),
        ),
        (
            "ALIPAY_TEMPLATE_REVIEW_RESULT",
            REVIEW_RESULT_TEMPLATE.to_owned(),
        ),
        (
            "ALIPAY_TEMPLATE_HEALTH_CODE",
            HEALTH_CODE_TEMPLATE.to_owned(),
        ),
    ]
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
