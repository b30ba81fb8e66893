//! Suspending and resuming a venue: its codes refuse check-ins meanwhile.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{adult, assert_error, body_of, spawn_app, LINWU, LINWU_TOWNSHIP};

#[tokio::test]
async fn a_suspended_venue_refuses_check_ins_until_it_is_resumed() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("周平").await;
    let reviewer = app.reviewer(LINWU).await;
    let path = |action: &str| format!("/api/v1/venues/{}/{action}", venue.id);

    let suspended = body_of(
        app.post_as(
            &reviewer,
            &path("suspend"),
            &json!({"reason": "消防检查不合格"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(suspended["suspension"]["reason"], "消防检查不合格");
    assert_eq!(suspended["status"], "approved");

    let scan = app.new_scan(&resident.token, &venue.code_url).send().await;
    assert_error(scan, StatusCode::CONFLICT, "venue_suspended").await;
    let by_hand = app
        .post_as(
            &venue.manager,
            &format!("/api/v1/venues/{}/manual-check-ins", venue.id),
            &json!({"entrance_id": venue.entrance_id, "name": "王大爷", "id_number": adult(77)}),
        )
        .await;
    assert_error(by_hand, StatusCode::CONFLICT, "venue_suspended").await;
    // Suspending again, or resuming what is not suspended, is a conflict.
    let again = app
        .post_as(&reviewer, &path("suspend"), &json!({"reason": "重复"}))
        .await;
    assert_error(again, StatusCode::CONFLICT, "venue_suspended").await;

    // A registrar of the township resumes it; scans work again at once.
    let registrar = app
        .new_staff("registrar")
        .in_region(LINWU_TOWNSHIP)
        .named("linwu-street")
        .login()
        .await;
    let resumed = body_of(
        app.post_as(&registrar, &path("resume"), &json!({"reason": "整改完成"}))
            .await,
        200,
    )
    .await;
    assert!(resumed["suspension"].is_null(), "{resumed}");
    app.check_in(&resident.token, &venue.code_url).await;
    let not_suspended = app
        .post_as(&registrar, &path("resume"), &json!({"reason": "整改完成"}))
        .await;
    assert_error(not_suspended, StatusCode::CONFLICT, "venue_not_suspended").await;

    let auditor = app.auditor(LINWU).await;
    for action in ["venue.suspend", "venue.resume"] {
        let log = app
            .read(&auditor, &format!("/api/v1/audit-log?action={action}"))
            .await;
        assert_eq!(log["items"].as_array().unwrap().len(), 1, "{action}: {log}");
    }
}

#[tokio::test]
async fn only_the_local_authorities_over_a_venue_suspend_it() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let path = format!("/api/v1/venues/{}/suspend", venue.id);
    let body = json!({"reason": "消防检查不合格"});

    let official = app.official(LINWU).await;
    let answer = app.post_as(&official, &path, &body).await;
    assert_error(answer, StatusCode::FORBIDDEN, "forbidden").await;
    let answer = app.post_as(&venue.manager, &path, &body).await;
    assert_eq!(answer.status(), 403);
    let elsewhere = app.reviewer("370102").await;
    let answer = app.post_as(&elsewhere, &path, &body).await;
    assert_error(answer, StatusCode::NOT_FOUND, "not_found").await;

    let reviewer = app.reviewer(LINWU).await;
    let answer = app
        .post_as(&reviewer, &path, &json!({"reason": "  "}))
        .await;
    let error = assert_error(
        answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        error["error"]["details"]["reason"]["code"],
        "reason_invalid"
    );

    let (_, pending) = app
        .applied_venue(LINWU_TOWNSHIP, "临武县舜峰镇待审超市")
        .await;
    let answer = app
        .post_as(
            &reviewer,
            &format!("/api/v1/venues/{}/suspend", pending["id"]),
            &body,
        )
        .await;
    assert_error(answer, StatusCode::CONFLICT, "venue_not_active").await;
}

#[tokio::test]
async fn every_node_refuses_a_suspended_venue_within_a_second() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("周平").await;
    let other = app.second_node().await;
    // The other node has read the venue into its cache.
    let first = other.scan(&resident.token, &venue.code_url).await;
    assert_eq!(first.status(), 201);
    let reviewer = app.reviewer(LINWU).await;
    body_of(
        app.post_as(
            &reviewer,
            &format!("/api/v1/venues/{}/suspend", venue.id),
            &json!({"reason": "消防检查不合格"}),
        )
        .await,
        200,
    )
    .await;
    other.sync().await;
    let next = app.resident("吴敏").await;
    let answer = other.scan(&next.token, &venue.code_url).await;
    assert_error(answer, StatusCode::CONFLICT, "venue_suspended").await;
}
