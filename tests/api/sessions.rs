//! Logging in through WeChat and Alipay, consent, and what the account shows of itself.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::fake_alipay;
use crate::fake_wechat;
use crate::helpers::{assert_error, spawn_app, spawn_app_with, TestApp};

pub async fn app_with_platforms() -> (TestApp, wiremock::MockServer, wiremock::MockServer) {
    let wechat = fake_wechat::start().await;
    let alipay = fake_alipay::start().await;
    let mut settings = fake_wechat::settings(&wechat);
    settings.extend(fake_alipay::settings(&alipay));
    (spawn_app_with(&settings).await, wechat, alipay)
}

async fn login(app: &TestApp, path: &str, body: Value) -> Value {
    let response = app.post_json(path, &body).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn wechat_login_then_consent_then_a_masked_identity() {
    let (app, _wechat, _alipay) = app_with_platforms().await;
    let session = login(
        &app,
        "/api/v1/sessions/wechat",
        json!({"code": fake_wechat::GOOD_CODE}),
    )
    .await;
    let token = session["token"].as_str().unwrap();
    assert!(session["expires_at"].as_str().unwrap().ends_with("+08:00"));
    assert_eq!(session["user"]["platform"], "wechat");

    let me: Value = app.get_as(token, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(
        me["consent"],
        json!({"profile": false, "phone": false, "identity": false})
    );
    assert!(me["identity"].is_null());
    assert!(me["phone"].is_null());

    let response = app
        .put_as(
            token,
            "/api/v1/me/consent",
            &json!({
                "profile": {"nickname": "李阿姨", "avatar_url": "https://thirdwx.qlogo.cn/a.png", "gender": "female"},
                "phone": {"wechat_code": fake_wechat::PHONE_CODE},
                "identity": {"name": "李秀英", "id_number": "11010519491231002x"}
            }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.unwrap();
    assert_eq!(
        me["consent"],
        json!({"profile": true, "phone": true, "identity": true})
    );
    assert_eq!(
        me["identity"],
        json!({"name": "李**", "id_number": "1101**********002X"})
    );
    assert_eq!(me["phone"], "138****5678");
    assert_eq!(me["profile"]["nickname"], "李阿姨");

    // The same openid logs in to the same account.
    let again = login(
        &app,
        "/api/v1/sessions/wechat",
        json!({"code": fake_wechat::GOOD_CODE}),
    )
    .await;
    assert_eq!(again["user"]["id"], me["id"]);
    assert_eq!(again["user"]["consent"]["identity"], true);
}

#[tokio::test]
async fn alipay_login_then_consent_with_the_encrypted_phone_answer() {
    let (app, _wechat, _alipay) = app_with_platforms().await;
    let session = login(
        &app,
        "/api/v1/sessions/alipay",
        json!({"auth_code": fake_alipay::GOOD_CODE}),
    )
    .await;
    let token = session["token"].as_str().unwrap();
    assert_eq!(session["user"]["platform"], "alipay");
    assert_eq!(session["user"]["consent"]["phone"], false);

    let response = app
        .put_as(
            token,
            "/api/v1/me/consent",
            &json!({
                "profile": {},
                "phone": {"alipay_response": fake_alipay::phone_success("15912345678")},
                "identity": {"name": "欧阳娜娜", "id_number": "440524188001010014"}
            }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.unwrap();
    assert_eq!(
        me["identity"],
        json!({"name": "欧阳**", "id_number": "4405**********0014"})
    );
    assert_eq!(me["phone"], "159****5678");
    // The profile came from alipay.user.info.share, not from the client.
    assert_eq!(me["profile"]["nickname"], "小李");
    assert_eq!(me["profile"]["city"], "郴州市");
}

#[tokio::test]
async fn bad_codes_are_401_and_platform_trouble_is_503() {
    let (app, _wechat, _alipay) = app_with_platforms().await;
    for (path, body) in [
        (
            "/api/v1/sessions/wechat",
            json!({"code": fake_wechat::INVALID_CODE}),
        ),
        (
            "/api/v1/sessions/wechat",
            json!({"code": fake_wechat::USED_CODE}),
        ),
        (
            "/api/v1/sessions/alipay",
            json!({"auth_code": fake_alipay::INVALID_CODE}),
        ),
        (
            "/api/v1/sessions/alipay",
            json!({"auth_code": fake_alipay::UNSIGNED_ERROR_CODE}),
        ),
    ] {
        assert_error(
            app.post_json(path, &body).await,
            StatusCode::UNAUTHORIZED,
            "platform_code_invalid",
        )
        .await;
    }
    for (path, body) in [
        (
            "/api/v1/sessions/wechat",
            json!({"code": fake_wechat::BUSY_CODE}),
        ),
        (
            "/api/v1/sessions/wechat",
            json!({"code": fake_wechat::MALFORMED_CODE}),
        ),
        (
            "/api/v1/sessions/wechat",
            json!({"code": fake_wechat::HTTP500_CODE}),
        ),
        (
            "/api/v1/sessions/wechat",
            json!({"code": fake_wechat::SLOW_CODE}),
        ),
        (
            "/api/v1/sessions/alipay",
            json!({"auth_code": fake_alipay::BUSY_CODE}),
        ),
        (
            "/api/v1/sessions/alipay",
            json!({"auth_code": fake_alipay::TAMPERED_CODE}),
        ),
    ] {
        let response = app.post_json(path, &body).await;
        assert!(response.headers().contains_key("retry-after"), "{body}");
        assert_error(
            response,
            StatusCode::SERVICE_UNAVAILABLE,
            "platform_unavailable",
        )
        .await;
    }
    assert_error(
        app.post_json(
            "/api/v1/sessions/wechat",
            &json!({"code": fake_wechat::LIMITED_CODE}),
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
    )
    .await;
    assert_error(
        app.post_json(
            "/api/v1/sessions/wechat",
            &json!({"code": fake_wechat::RISKY_CODE}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "platform_user_blocked",
    )
    .await;
    let body = assert_error(
        app.post_json("/api/v1/sessions/wechat", &json!({"code": "  "}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["error"]["details"]["code"]["code"], "required");
}

#[tokio::test]
async fn an_unconfigured_platform_says_so() {
    let app = spawn_app().await;
    assert_error(
        app.post_json("/api/v1/sessions/wechat", &json!({"code": "x"}))
            .await,
        StatusCode::SERVICE_UNAVAILABLE,
        "platform_not_configured",
    )
    .await;
    assert_error(
        app.post_json("/api/v1/sessions/alipay", &json!({"auth_code": "x"}))
            .await,
        StatusCode::SERVICE_UNAVAILABLE,
        "platform_not_configured",
    )
    .await;
}

#[tokio::test]
async fn a_refused_phone_code_stores_nothing() {
    let (app, _wechat, _alipay) = app_with_platforms().await;
    let session = login(
        &app,
        "/api/v1/sessions/wechat",
        json!({"code": fake_wechat::GOOD_CODE}),
    )
    .await;
    let token = session["token"].as_str().unwrap();
    let response = app
        .put_as(
            token,
            "/api/v1/me/consent",
            &json!({
                "phone": {"wechat_code": fake_wechat::PHONE_CODE_OTHER_APP},
                "identity": {"name": "李秀英", "id_number": "11010519491231002X"}
            }),
        )
        .await;
    assert_error(response, StatusCode::UNAUTHORIZED, "platform_code_invalid").await;
    let me: Value = app.get_as(token, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["consent"]["identity"], false, "all or nothing");

    // A foreign number is refused as a field error.
    let body = assert_error(
        app.put_as(
            token,
            "/api/v1/me/consent",
            &json!({"phone": {"wechat_code": fake_wechat::PHONE_CODE_FOREIGN}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        body["error"]["details"]["phone"]["code"],
        "mobile_unsupported"
    );
    // A proof of the other platform is refused.
    let body = assert_error(
        app.put_as(
            token,
            "/api/v1/me/consent",
            &json!({"phone": {"alipay_response": fake_alipay::phone_success("13812345678")}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        body["error"]["details"]["phone"]["code"],
        "phone_proof_platform"
    );
}

#[tokio::test]
async fn consent_fields_are_validated_before_any_platform_call() {
    let (app, wechat, _alipay) = app_with_platforms().await;
    let session = login(
        &app,
        "/api/v1/sessions/wechat",
        json!({"code": fake_wechat::GOOD_CODE}),
    )
    .await;
    let token = session["token"].as_str().unwrap();
    let calls_before = wechat.received_requests().await.unwrap().len();
    let body = assert_error(
        app.put_as(
            token,
            "/api/v1/me/consent",
            &json!({
                "phone": {"wechat_code": fake_wechat::PHONE_CODE},
                "identity": {"name": "", "id_number": "110105194912310021"}
            }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        body["error"]["details"]["identity.id_number"]["code"],
        "id_number_check_character"
    );
    assert_eq!(
        body["error"]["details"]["identity.name"]["code"],
        "required"
    );
    assert_eq!(
        wechat.received_requests().await.unwrap().len(),
        calls_before
    );
    assert_error(
        app.put_as(token, "/api/v1/me/consent", &json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_error(
        app.put_as(
            token,
            "/api/v1/me/consent",
            &json!({"phone": {"wechat_code": "a", "alipay_response": "b"}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn one_id_number_binds_one_account_per_platform() {
    let (app, _wechat, _alipay) = app_with_platforms().await;
    let identity = json!({"identity": {"name": "王五", "id_number": "11010519491231002X"}});
    let first = login(
        &app,
        "/api/v1/sessions/wechat",
        json!({"code": fake_wechat::GOOD_CODE}),
    )
    .await;
    let second = login(
        &app,
        "/api/v1/sessions/wechat",
        json!({"code": fake_wechat::SECOND_CODE}),
    )
    .await;
    let alipay = login(
        &app,
        "/api/v1/sessions/alipay",
        json!({"auth_code": fake_alipay::GOOD_CODE}),
    )
    .await;
    let token = |s: &Value| s["token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.put_as(&token(&first), "/api/v1/me/consent", &identity)
            .await
            .status(),
        200
    );
    assert_error(
        app.put_as(&token(&second), "/api/v1/me/consent", &identity)
            .await,
        StatusCode::CONFLICT,
        "identity_already_bound",
    )
    .await;
    // The same person may hold one Alipay account too.
    assert_eq!(
        app.put_as(&token(&alipay), "/api/v1/me/consent", &identity)
            .await
            .status(),
        200
    );
    // An account with an identity cannot switch to another without withdrawing.
    assert_error(
        app.put_as(
            &token(&first),
            "/api/v1/me/consent",
            &json!({"identity": {"name": "赵六", "id_number": "440524188001010014"}}),
        )
        .await,
        StatusCode::CONFLICT,
        "identity_mismatch",
    )
    .await;
    // After the first account withdraws, the second may bind.
    assert_eq!(
        app.delete_as(&token(&first), "/api/v1/me/consent")
            .await
            .status(),
        204
    );
    assert_eq!(
        app.put_as(&token(&second), "/api/v1/me/consent", &identity)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn withdrawing_consent_removes_phone_profile_and_identity() {
    let app = spawn_app().await;
    let token = app
        .consented_resident("withdrawer", "张三", "11010519491231002X", "13812345678")
        .await;
    let me: Value = app.get_as(&token, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(
        me["consent"],
        json!({"profile": true, "phone": true, "identity": true})
    );
    assert_eq!(
        app.delete_as(&token, "/api/v1/me/consent").await.status(),
        204
    );
    let me: Value = app.get_as(&token, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(
        me["consent"],
        json!({"profile": false, "phone": false, "identity": false})
    );
    assert!(me["identity"].is_null() && me["phone"].is_null() && me["profile"].is_null());
}

#[tokio::test]
async fn resident_routes_need_a_valid_resident_token() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/me").await;
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert_error(
        app.get_as("not.a.token", "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let token = app.dev_login("alipay", "someone").await;
    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    assert_error(
        app.get_as(std::str::from_utf8(&tampered).unwrap(), "/api/v1/me")
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let staff = app.staff_login("auditor1", "auditor", "43").await;
    assert_error(
        app.get_as(&staff, "/api/v1/me").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn development_logins_do_not_exist_in_production() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with(&[
        ("APP_ENV", "production"),
        ("PUBLIC_BASE_URL", "https://code.example.gov.cn"),
        ("DATA_DIR", dir.path().to_str().unwrap()),
    ])
    .await;
    assert_error(
        app.post_json(
            "/api/v1/sessions/dev",
            &json!({"platform": "wechat", "subject": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}
