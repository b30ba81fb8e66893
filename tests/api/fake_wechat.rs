//! A local WeChat that answers as the platform documents: code2Session with success for known
//! codes and each errcode for the others (errmsg with a `rid` suffix), stable_token,
//! getuserphonenumber, and the face checks of 人脸核身.

use std::sync::Arc;

use serde_json::{json, Value};
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::fake_faces::{FaceCheck, Faces, Outcome};
use crate::fake_messages::{
    Answer, Messages, Taken, HEALTH_CODE_TEMPLATE, REVIEW_RESULT_TEMPLATE, RISK_WINDOW_TEMPLATE,
    TEMPLATES,
};

pub const APPID: &str = "wx4f4bc4dec97d474b";
pub const SECRET: &str = "test-wechat-secret";
pub const TOKEN: &str = "ACCESS_TOKEN_1";

/// Login codes the fake knows, and what each answers.
pub const GOOD_CODE: &str = "wx-code-good";
pub const GOOD_OPENID: &str = "oGZUI0egBJY1zhBYw2KhdUfwVJJE";
pub const SECOND_CODE: &str = "wx-code-second";
pub const SECOND_OPENID: &str = "oGZUI0egBJY1zhBYw2KhdUfwXXXX";
pub const USED_CODE: &str = "wx-code-used";
pub const INVALID_CODE: &str = "wx-code-invalid";
pub const BUSY_CODE: &str = "wx-code-busy";
pub const LIMITED_CODE: &str = "wx-code-limited";
pub const RISKY_CODE: &str = "wx-code-risky";
pub const MALFORMED_CODE: &str = "wx-code-malformed";
pub const HTTP500_CODE: &str = "wx-code-500";
pub const SLOW_CODE: &str = "wx-code-slow";

/// Phone codes.
pub const PHONE_CODE: &str = "phone-code-good";
pub const PHONE_NUMBER: &str = "13812345678";
pub const PHONE_CODE_NUMERIC_COUNTRY: &str = "phone-code-numeric-country";
pub const PHONE_CODE_OTHER_APP: &str = "phone-code-other-app";
pub const PHONE_CODE_FOREIGN: &str = "phone-code-foreign";

pub fn error(errcode: i64, errmsg: &str) -> Value {
    json!({"errcode": errcode, "errmsg": format!("{errmsg}, rid: 6551a3b2-0c1d8e4f-3a6b2c1d")})
}

pub fn phone_answer(number: &str, country: Value, appid: &str) -> Value {
    json!({
        "errcode": 0,
        "errmsg": "ok",
        "phone_info": {
            "phoneNumber": number,
            "purePhoneNumber": number,
            "countryCode": country,
            "watermark": {"timestamp": 1637744274, "appid": appid}
        }
    })
}

/// A fake with the login codes above, a token valid for two hours and the phone codes above.
pub async fn start() -> MockServer {
    let server = MockServer::start().await;
    mount_logins(&server).await;
    mount_token(&server, TOKEN, 7200).await;
    mount_phones(&server, TOKEN).await;
    server
}

pub async fn mount_logins(server: &MockServer) {
    let login = |code: &str, answer: ResponseTemplate| {
        Mock::given(method("GET"))
            .and(path("/sns/jscode2session"))
            .and(query_param("appid", APPID))
            .and(query_param("secret", SECRET))
            .and(query_param("grant_type", "authorization_code"))
            .and(query_param("js_code", code))
            .respond_with(answer)
    };
    let ok = |body: Value| ResponseTemplate::new(200).set_body_json(body);
    for mock in [
        login(
            GOOD_CODE,
            ok(
                json!({"openid": GOOD_OPENID, "session_key": "tiihtNczf5v6AKRyjwEUhQ==", "unionid": "ocMvos6NjeKLIBqg5Mr9QjxrP1FA"}),
            ),
        ),
        login(
            SECOND_CODE,
            ok(json!({"openid": SECOND_OPENID, "session_key": "k", "errcode": 0, "errmsg": "ok"})),
        ),
        login(USED_CODE, ok(error(40163, "code been used"))),
        login(INVALID_CODE, ok(error(40029, "invalid code"))),
        login(BUSY_CODE, ok(error(-1, "system error"))),
        login(
            LIMITED_CODE,
            ok(error(45011, "api minute-quota reach limit")),
        ),
        login(RISKY_CODE, ok(error(40226, "invalid user"))),
        login(
            MALFORMED_CODE,
            ResponseTemplate::new(200).set_body_string("<html>gateway</html>"),
        ),
        login(HTTP500_CODE, ResponseTemplate::new(502).set_body_string("")),
        login(
            SLOW_CODE,
            ok(json!({"openid": "slow", "session_key": "k"}))
                .set_delay(std::time::Duration::from_secs(5)),
        ),
    ] {
        mock.mount(server).await;
    }
}

pub async fn mount_token(server: &MockServer, token: &str, expires_in: u64) {
    Mock::given(method("POST"))
        .and(path("/cgi-bin/stable_token"))
        .and(body_partial_json(json!({
            "grant_type": "client_credential", "appid": APPID, "secret": SECRET
        })))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": token, "expires_in": expires_in})),
        )
        .mount(server)
        .await;
}

pub async fn mount_phones(server: &MockServer, token: &str) {
    let phone = |code: &str, body: Value| {
        Mock::given(method("POST"))
            .and(path("/wxa/business/getuserphonenumber"))
            .and(query_param("access_token", token))
            .and(body_partial_json(json!({"code": code})))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
    };
    for mock in [
        phone(PHONE_CODE, phone_answer(PHONE_NUMBER, json!("86"), APPID)),
        phone(
            PHONE_CODE_NUMERIC_COUNTRY,
            phone_answer("13912345678", json!(86), APPID),
        ),
        phone(
            PHONE_CODE_OTHER_APP,
            phone_answer(PHONE_NUMBER, json!("86"), "wx0000000000000000"),
        ),
        phone(
            PHONE_CODE_FOREIGN,
            phone_answer("+14155550100", json!("1"), APPID),
        ),
    ] {
        mock.mount(server).await;
    }
    Mock::given(method("POST"))
        .and(path("/wxa/business/getuserphonenumber"))
        .and(query_param("access_token", token))
        .respond_with(ResponseTemplate::new(200).set_body_json(error(40029, "invalid code")))
        .with_priority(10)
        .mount(server)
        .await;
}

/// Settings that point the server at this fake.
pub fn settings(server: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("WECHAT_APPID", APPID.to_owned()),
        ("WECHAT_SECRET", SECRET.to_owned()),
        ("WECHAT_API_BASE", server.uri()),
        ("PLATFORM_TIMEOUT_MS", "1500".to_owned()),
    ]
}

/// The `cert_hash` of a claim, computed here on its own: base64 of SHA-256 over
/// `cert_type=IDENTITY_CARD&cert_name=…&cert_no=…`.
fn cert_hash(name: &str, id_number: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(
        format!("cert_type=IDENTITY_CARD&cert_name={name}&cert_no={id_number}").as_bytes(),
    ))
}

/// 人脸核身: getverifyid opens a check for an openid of this app, queryverifyinfo answers
/// `verify_ret` from what the user did (see [`Faces::perform`]).
struct FaceIdentify {
    faces: Arc<Faces>,
}

impl Respond for FaceIdentify {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let ok = |body: Value| ResponseTemplate::new(200).set_body_json(body);
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return ok(error(47001, "data format error"));
        };
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let openid = text(&body["openid"]);
        if !openid.starts_with("oGZUI0") {
            return ok(error(40003, "invalid openid"));
        }
        if request.url.path().ends_with("/getverifyid") {
            let cert = &body["cert_info"];
            let out_seq_no = text(&body["out_seq_no"]);
            if out_seq_no.is_empty()
                || cert["cert_type"] != "IDENTITY_CARD"
                || text(&cert["cert_name"]).is_empty()
                || text(&cert["cert_no"]).is_empty()
            {
                return ok(error(10001, "invalid parameter"));
            }
            let verify_id = format!("verify-{out_seq_no}");
            self.faces.open(
                &verify_id,
                FaceCheck {
                    name: text(&cert["cert_name"]),
                    id_number: text(&cert["cert_no"]),
                    subject: Some(openid),
                    out_id: out_seq_no,
                    face: None,
                },
            );
            return ok(
                json!({"errcode": 0, "errmsg": "ok", "verify_id": verify_id, "expires_in": 3600}),
            );
        }
        let Some(check) = self.faces.get(&text(&body["verify_id"])) else {
            return ok(error(10001, "invalid verify_id"));
        };
        if check.subject.as_deref() != Some(openid.as_str())
            || check.out_id != text(&body["out_seq_no"])
            || cert_hash(&check.name, &check.id_number) != text(&body["cert_hash"])
        {
            return ok(error(10001, "invalid parameter"));
        }
        let verify_ret = match Faces::outcome(&check) {
            Outcome::NotDone => 90001,
            Outcome::Verified => 10000,
            Outcome::FaceMismatch => 10004,
        };
        ok(json!({"errcode": 0, "errmsg": "ok", "verify_ret": verify_ret}))
    }
}

/// Mounts the face-check endpoints, for calls with `token`; the checks they open.
pub async fn mount_faces(server: &MockServer, token: &str) -> Arc<Faces> {
    let faces = Arc::new(Faces::default());
    for endpoint in ["getverifyid", "queryverifyinfo"] {
        Mock::given(method("POST"))
            .and(path(format!("/cityservice/face/identify/{endpoint}")))
            .and(query_param("access_token", token))
            .respond_with(FaceIdentify {
                faces: Arc::clone(&faces),
            })
            .mount(server)
            .await;
    }
    faces
}

/// Subscribe messages (`subscribeMessage.send`) with access token `token`: the request checked
/// as documented (a known template, each value within its field type's rules, else 47003), then
/// answered by `Messages`: 43101 for a user who has not subscribed, -1 while busy.
pub async fn mount_messages(server: &MockServer, token: &str) -> Arc<Messages> {
    let messages = Arc::new(Messages::default());
    Mock::given(method("POST"))
        .and(path("/cgi-bin/message/subscribe/send"))
        .respond_with(SubscribeSend {
            token: token.to_owned(),
            messages: Arc::clone(&messages),
        })
        .mount(server)
        .await;
    messages
}

struct SubscribeSend {
    token: String,
    messages: Arc<Messages>,
}

/// Whether a value obeys its field type's rules (the type is the key without its number).
fn value_fits(key: &str, value: &str) -> bool {
    let chars = value.chars().count();
    match key.trim_end_matches(|c: char| c.is_ascii_digit()) {
        "thing" => (1..=20).contains(&chars),
        "phrase" => (1..=5).contains(&chars),
        "time" => chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M").is_ok(),
        _ => chars > 0,
    }
}

impl Respond for SubscribeSend {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let ok = |body: Value| ResponseTemplate::new(200).set_body_json(body);
        let token = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned());
        if token.as_deref() != Some(self.token.as_str()) {
            return ok(error(
                40001,
                "invalid credential, access_token is invalid or not latest",
            ));
        }
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return ok(error(47001, "data format error"));
        };
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let template = text(&body["template_id"]);
        if !TEMPLATES.contains(&template.as_str()) {
            return ok(error(40037, "invalid template_id"));
        }
        let recipient = text(&body["touser"]);
        if !recipient.starts_with("oGZUI0") {
            return ok(error(40003, "invalid openid"));
        }
        if !["developer", "trial", "formal"]
            .contains(&body["miniprogram_state"].as_str().unwrap_or("formal"))
        {
            return ok(error(47001, "data format error"));
        }
        let mut values = std::collections::BTreeMap::new();
        for (key, field) in body["data"].as_object().cloned().unwrap_or_default() {
            let value = text(&field["value"]);
            if !value_fits(&key, &value) {
                return ok(error(
                    47003,
                    &format!("argument invalid! data.{key}.value invalid"),
                ));
            }
            values.insert(key, value);
        }
        if values.is_empty() {
            return ok(error(47003, "argument invalid! data is empty"));
        }
        match self.messages.answer(Taken {
            recipient,
            template,
            page: text(&body["page"]),
            values,
        }) {
            Answer::Taken => {
                ok(json!({"errcode": 0, "errmsg": "ok", "msgid": 294402298110051942u64}))
            }
            Answer::NotSubscribed => ok(error(43101, "user refuse to accept the msg")),
            Answer::Busy => ok(error(-1, "system error")),
        }
    }
}

/// The templates of `fake_messages`, one setting per kind.
pub fn template_settings() -> Vec<(&'static str, String)> {
    vec![
        (
            "WECHAT_TEMPLATE_RISK_WINDOW",
            RISK_WINDOW_TEMPLATE.to_owned(),
        ),
        (
            "WECHAT_TEMPLATE_REVIEW_RESULT",
            REVIEW_RESULT_TEMPLATE.to_owned(),
        ),
        (
            "WECHAT_TEMPLATE_HEALTH_CODE",
            HEALTH_CODE_TEMPLATE.to_owned(),
        ),
    ]
}
