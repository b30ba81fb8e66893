//! Staff logins: accounts made by `venuecode staff create`, throttled guessing, role separation.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, body_of, spawn_app, spawn_app_with, TestApp, STAFF_PASSWORD};

#[tokio::test]
async fn a_staff_account_logs_in_and_sees_itself() {
    let app = spawn_app().await;
    let token = app
        .new_staff("reviewer")
        .in_region("431025")
        .named("linwu-review")
        .login()
        .await;
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
    app.new_staff("health_official")
        .in_region("431025")
        .named("linwu-health")
        .login()
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
    app.new_staff("health_official")
        .in_region("431025")
        .named("target")
        .login()
        .await;
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
    app.new_staff("auditor")
        .in_region("43")
        .named("bystander")
        .login()
        .await;
}

#[tokio::test]
async fn parallel_guesses_are_counted_one_after_another() {
    let app = spawn_app().await;
    app.new_staff("health_official")
        .in_region("431025")
        .named("target")
        .login()
        .await;
    let guess = json!({"username": "target", "password": "guess guess guess"});
    let attempts = (0..25).map(|_| app.post_json("/api/v1/staff-sessions", &guess));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (10, 15), "{statuses:?}");
}

#[tokio::test]
async fn one_address_trying_many_usernames_is_stopped() {
    let app = spawn_app().await;
    for n in 0..30 {
        let guess = json!({"username": format!("guess-{n}"), "password": "guess guess guess"});
        let response = app.post_json("/api/v1/staff-sessions", &guess).await;
        assert_eq!(response.status(), 401, "attempt {n}");
    }
    let guess = json!({"username": "guess-31", "password": "guess guess guess"});
    assert_error(
        app.post_json("/api/v1/staff-sessions", &guess).await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
    )
    .await;
}

#[tokio::test]
async fn staff_logging_in_from_one_office_do_not_lock_it() {
    let app = spawn_app().await;
    // One more than the address's limit of 30 attempts.
    for n in 0..31 {
        app.new_staff("reviewer")
            .in_region("431025")
            .named(&format!("office-{n}"))
            .login()
            .await;
    }
}

#[tokio::test]
async fn parallel_logins_hold_no_database_connection_while_hashing() {
    let app = spawn_app_with(&[("DATABASE_POOL_SIZE", "1")]).await;
    for n in 0..6 {
        venuecode::services::staff::create_account(
            &app.state,
            &venuecode::services::staff::Operator::CommandLine,
            &format!("parallel-{n}"),
            venuecode::domain::StaffRole::Reviewer,
            "431025",
            STAFF_PASSWORD,
        )
        .await
        .unwrap();
    }
    let bodies: Vec<Value> = (0..6)
        .map(|n| json!({"username": format!("parallel-{n}"), "password": STAFF_PASSWORD}))
        .collect();
    let logins = bodies
        .iter()
        .map(|body| app.post_json("/api/v1/staff-sessions", body));
    let statuses: Vec<u16> = futures_util::future::join_all(logins)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

/// A staff login attempt.
async fn log_in(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/staff-sessions",
        &json!({"username": username, "password": password}),
    )
    .await
}

/// The session `token` no longer answers at `path`.
async fn assert_ended(app: &TestApp, token: &str, path: &str) {
    assert_error(
        app.get_as(token, path).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

/// Runs the binary; its standard output.
fn run(app: &TestApp, args: &[&str]) -> String {
    let output = app.command().args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn a_disabled_account_is_refused_within_a_second_and_cannot_log_in() {
    let app = spawn_app().await;
    let token = app
        .new_staff("health_official")
        .in_region("431025")
        .named("leaver")
        .login()
        .await;
    app.read(&token, "/api/v1/staff/me").await;
    // Another process (another node, for this one) disables the account.
    assert!(run(&app, &["staff", "disable", "leaver"]).contains("disabled"));
    app.state.clock.advance(chrono::Duration::seconds(1));
    assert_ended(&app, &token, "/api/v1/staff/me").await;
    assert_ended(&app, &token, "/api/v1/alerts").await;
    assert_error(
        log_in(&app, "leaver", STAFF_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    run(&app, &["staff", "enable", "leaver"]);
    // The old session stays ended; a new login works.
    app.state.clock.advance(chrono::Duration::seconds(1));
    assert_ended(&app, &token, "/api/v1/staff/me").await;
    body_of(log_in(&app, "leaver", STAFF_PASSWORD).await, 200).await;
}

#[tokio::test]
async fn a_role_change_ends_the_sessions_and_the_new_role_comes_from_the_account() {
    let app = spawn_app().await;
    let token = app
        .new_staff("health_official")
        .in_region("431025")
        .named("mover")
        .login()
        .await;
    app.read(&token, "/api/v1/alerts").await;
    let printed = run(
        &app,
        &[
            "staff", "role", "mover", "--role", "auditor", "--region", "43",
        ],
    );
    assert!(printed.contains("auditor"), "{printed}");
    app.state.clock.advance(chrono::Duration::seconds(1));
    assert_ended(&app, &token, "/api/v1/alerts").await;
    let session = body_of(log_in(&app, "mover", STAFF_PASSWORD).await, 200).await;
    let token = session["token"].as_str().unwrap();
    assert_error(
        app.get_as(token, "/api/v1/alerts").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    app.read(token, "/api/v1/audit-log").await;
}
