//! Staff logins: accounts made by `venuecode staff create`, throttled guessing, role separation.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn a_staff_account_logs_in_and_sees_itself() {
    let app = spawn_app().await;
    let token = app.staff_login("linwu-review", "reviewer", "431025").await;
    let me: Value = app
        .get_as(&token, "/api/v1/staff/me")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "linwu-review");
    assert_eq!(me["role"], "reviewer");
    assert_eq!(me["region_code"], "431025");
    assert_eq!(me["region_name"], "临武县");
}

#[tokio::test]
async fn a_resident_token_is_refused_on_a_staff_route() {
    let app = spawn_app().await;
    let resident = app.dev_login("wechat", "resident-1").await;
    assert_error(
        app.get_as(&resident, "/api/v1/staff/me").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_error(
        app.get("/api/v1/staff/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn wrong_passwords_and_unknown_usernames_answer_alike() {
    let app = spawn_app().await;
    app.staff_login("linwu-health", "health_official", "431025")
        .await;
    for username in ["linwu-health", "nobody-here"] {
        let body = assert_error(
            app.post_json(
                "/api/v1/staff-sessions",
                &json!({"username": username, "password": "wrong password!"}),
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
        assert_eq!(body["error"]["message"], "用户名或密码错误");
    }
}

#[tokio::test]
async fn guessing_is_slowed_then_refused_for_a_while() {
    let app = spawn_app().await;
    app.staff_login("target", "health_official", "431025").await;
    let guess = json!({"username": "target", "password": "guess guess guess"});
    let attempt = || app.post_json("/api/v1/staff-sessions", &guess);
    let mut slowest = std::time::Duration::ZERO;
    for n in 1..=10 {
        let started = std::time::Instant::now();
        let response = attempt().await;
        assert_eq!(response.status(), 401, "attempt {n}");
        if n <= 3 {
            assert!(
                started.elapsed() < std::time::Duration::from_millis(450),
                "attempt {n} was held"
            );
        }
        slowest = slowest.max(started.elapsed());
    }
    assert!(
        slowest >= std::time::Duration::from_millis(2000),
        "later failures are held back"
    );
    let response = attempt().await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 800 && retry_after <= 900, "{retry_after}");
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    // Even the right password waits until the lock ends.
    let response = app
        .post_json(
            "/api/v1/staff-sessions",
            &json!({"username": "target", "password": "correct horse battery staple"}),
        )
        .await;
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    // Other usernames are not affected.
    app.staff_login("bystander", "auditor", "43").await;
}
