//! A local WeChat that answers as the platform documents: code2Session with success for known
//! codes and each errcode for the others (errmsg with a `rid` suffix), stable_token, and
//! getuserphonenumber.

use serde_json::{json, Value};
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

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
