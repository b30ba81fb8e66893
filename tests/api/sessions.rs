//! Resident logins through WeChat, Alipay and the development provider.

use reqwest::StatusCode;
use serde_json::json;

use crate::fake_alipay;
use crate::fake_wechat;
use crate::helpers::{
    app_with_platforms, assert_error, field_code, login, spawn_app, spawn_app_with,
};

#[tokio::test]
async fn a_wechat_code_gives_a_session_for_a_new_account() {
    let p = app_with_platforms().await;
    let session = login(
        &p.app,
        "/api/v1/sessions/wechat",
        json!({"code": fake_wechat::GOOD_CODE}),
    )
    .await;
    assert!(session["expires_at"].as_str().unwrap().ends_with("+08:00"));
    assert_eq!(session["user"]["platform"], "wechat");
    assert_eq!(
        session["user"]["consent"],
        json!({"profile": false, "phone": false, "identity": false})
    );
}

#[tokio::test]
async fn the_same_openid_logs_in_to_the_same_account() {
    let p = app_with_platforms().await;
    let body = json!({"code": fake_wechat::GOOD_CODE});
    let first = login(&p.app, "/api/v1/sessions/wechat", body.clone()).await;
    let again = login(&p.app, "/api/v1/sessions/wechat", body).await;
    assert_eq!(again["user"]["id"], first["user"]["id"]);
}

#[tokio::test]
async fn an_alipay_code_gives_a_session() {
    let p = app_with_platforms().await;
    let session = login(
        &p.app,
        "/api/v1/sessions/alipay",
        json!({"auth_code": fake_alipay::GOOD_CODE}),
    )
    .await;
    assert_eq!(session["user"]["platform"], "alipay");
}

#[tokio::test]
async fn refused_codes_are_401() {
    let p = app_with_platforms().await;
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
            p.app.post_json(path, &body).await,
            StatusCode::UNAUTHORIZED,
            "platform_code_invalid",
        )
        .await;
    }
}

#[tokio::test]
async fn platform_trouble_is_503_with_retry_after() {
    let p = app_with_platforms().await;
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
        let response = p.app.post_json(path, &body).await;
        assert!(response.headers().contains_key("retry-after"), "{body}");
        assert_error(
            response,
            StatusCode::SERVICE_UNAVAILABLE,
            "platform_unavailable",
        )
        .await;
    }
}

#[tokio::test]
async fn a_rate_limited_code_is_429() {
    let p = app_with_platforms().await;
    assert_error(
        p.app
            .post_json(
                "/api/v1/sessions/wechat",
                &json!({"code": fake_wechat::LIMITED_CODE}),
            )
            .await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
    )
    .await;
}

#[tokio::test]
async fn a_user_the_platform_blocks_is_403() {
    let p = app_with_platforms().await;
    assert_error(
        p.app
            .post_json(
                "/api/v1/sessions/wechat",
                &json!({"code": fake_wechat::RISKY_CODE}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "platform_user_blocked",
    )
    .await;
}

#[tokio::test]
async fn a_blank_code_is_a_field_error() {
    let p = app_with_platforms().await;
    let body = assert_error(
        p.app
            .post_json("/api/v1/sessions/wechat", &json!({"code": "  "}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&body, "code"), "required");
    // The platforms' codes are printable ASCII: anything else is refused before a platform is asked.
    for code in ["授权码", "a b", &"a".repeat(257)] {
        let body = assert_error(
            p.app
                .post_json("/api/v1/sessions/wechat", &json!({ "code": code }))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(field_code(&body, "code"), "code_invalid", "{code}");
    }
}

#[tokio::test]
async fn an_unconfigured_platform_says_so() {
    let app = spawn_app().await;
    for (path, body) in [
        ("/api/v1/sessions/wechat", json!({"code": "x"})),
        ("/api/v1/sessions/alipay", json!({"auth_code": "x"})),
    ] {
        assert_error(
            app.post_json(path, &body).await,
            StatusCode::NOT_FOUND,
            "platform_not_configured",
        )
        .await;
    }
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

#[tokio::test]
async fn a_development_subject_of_the_wrong_shape_is_a_field_error() {
    let app = spawn_app().await;
    let body = assert_error(
        app.post_json(
            "/api/v1/sessions/dev",
            &json!({"platform": "wechat", "subject": "a.b"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        crate::helpers::field_code(&body, "subject"),
        "subject_invalid"
    );
}
