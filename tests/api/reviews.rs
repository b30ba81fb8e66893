//! County review: reviewers see and decide only their own region's applications.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, body_of, field_code, spawn_app, LINWU, LINWU_TOWNSHIP};

fn ids(list: &Value) -> Vec<&Value> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["id"])
        .collect()
}

#[tokio::test]
async fn a_reviewer_sees_only_their_countys_applications() {
    let app = spawn_app().await;
    let (_, linwu) = app
        .applied_venue(LINWU_TOWNSHIP, "临武县舜峰镇好又多超市")
        .await;
    let (_, lixia) = app.applied_venue("370102001", "济南市历下区泉城超市").await;
    let reviewer = app.reviewer(LINWU).await;
    let pending = app.read(&reviewer, "/api/v1/reviews?status=pending").await;
    assert_eq!(ids(&pending), vec![&linwu["id"]]);
    let jinan = app.reviewer("3701").await;
    let pending = app.read(&jinan, "/api/v1/reviews").await;
    assert_eq!(ids(&pending), vec![&lixia["id"]]);
}

#[tokio::test]
async fn the_queue_comes_a_page_at_a_time_and_a_page_never_shifts() {
    let app = spawn_app().await;
    let mut applied = Vec::new();
    for n in 0..3 {
        let (_, venue) = app
            .applied_venue(LINWU_TOWNSHIP, &format!("临武县舜峰镇第{n}号商店"))
            .await;
        applied.push(venue["id"].clone());
    }
    let reviewer = app.reviewer(LINWU).await;
    let first = app.read(&reviewer, "/api/v1/reviews?limit=2").await;
    assert_eq!(ids(&first), vec![&applied[0], &applied[1]]);
    let cursor = first["next_cursor"].as_str().expect("another page follows");
    // An application made meanwhile comes after, on a later page, and shifts nothing.
    let (_, later) = app
        .applied_venue(LINWU_TOWNSHIP, "临武县舜峰镇第3号商店")
        .await;
    let second = app
        .read(
            &reviewer,
            &format!("/api/v1/reviews?limit=2&cursor={cursor}"),
        )
        .await;
    assert_eq!(ids(&second), vec![&applied[2], &later["id"]]);
    assert!(second["next_cursor"].is_null(), "the last page says so");
    let whole = app.read(&reviewer, "/api/v1/reviews").await;
    assert_eq!(whole["items"].as_array().unwrap().len(), 4);
    assert!(whole["next_cursor"].is_null());

    for (query, field, code) in [
        ("cursor=abc", "cursor", "cursor_invalid"),
        ("cursor=-1", "cursor", "cursor_invalid"),
        ("limit=0", "limit", "limit_out_of_range"),
        ("limit=501", "limit", "limit_out_of_range"),
    ] {
        let body = assert_error(
            app.get_as(&reviewer, &format!("/api/v1/reviews?{query}"))
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        )
        .await;
        assert_eq!(field_code(&body, field), code, "{query}");
    }
}

#[tokio::test]
async fn another_regions_application_cannot_be_decided() {
    let app = spawn_app().await;
    let (_, lixia) = app.applied_venue("370102001", "济南市历下区泉城超市").await;
    let reviewer = app.reviewer(LINWU).await;
    assert_error(
        app.post_as(
            &reviewer,
            &format!("/api/v1/reviews/{}", lixia["id"]),
            &json!({"decision": "approve"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn approval_issues_codes_and_is_audited() {
    let app = spawn_app().await;
    let (_, venue) = app
        .applied_venue(LINWU_TOWNSHIP, "临武县舜峰镇好又多超市")
        .await;
    let approved = app.approve(venue["id"].as_i64().unwrap()).await;
    assert_eq!(approved["status"], "approved");
    assert!(approved["reviewed_at"].is_string());
    assert!(approved["entrances"][0]["code_url"].is_string());
    let audit = app.audit_of(&format!("venue:{}", venue["id"]));
    assert_eq!(audit.len(), 1, "one decision, one audit entry");
    assert_eq!(audit[0].action, "venue.approve");
    assert_eq!(audit[0].role, "reviewer");
    assert!(audit[0].actor.starts_with("staff:"));
}

#[tokio::test]
async fn a_decided_application_cannot_be_decided_again() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let reviewer = app.reviewer(LINWU).await;
    assert_error(
        app.post_as(
            &reviewer,
            &format!("/api/v1/reviews/{}", venue.id),
            &json!({"decision": "approve"}),
        )
        .await,
        StatusCode::CONFLICT,
        "venue_not_pending",
    )
    .await;
}

#[tokio::test]
async fn only_reviewers_review() {
    let app = spawn_app().await;
    let official = app.official(LINWU).await;
    let resident = app.account().await;
    for token in [official, resident] {
        assert_error(
            app.get_as(&token, "/api/v1/reviews").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
}

#[tokio::test]
async fn a_rejection_needs_a_reason() {
    let app = spawn_app().await;
    let (_, venue) = app
        .applied_venue(LINWU_TOWNSHIP, "临武县金江镇小吃店")
        .await;
    let reviewer = app.reviewer(LINWU).await;
    let body = assert_error(
        app.post_as(
            &reviewer,
            &format!("/api/v1/reviews/{}", venue["id"]),
            &json!({"decision": "reject"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&body, "reason"), "required");
}

#[tokio::test]
async fn the_manager_sees_the_rejection_and_an_edit_sends_it_back_to_review() {
    let app = spawn_app().await;
    let (manager, venue) = app
        .applied_venue(LINWU_TOWNSHIP, "临武县金江镇小吃店")
        .await;
    let id = venue["id"].as_i64().unwrap();
    let reviewer = app.reviewer(LINWU).await;
    body_of(
        app.post_as(
            &reviewer,
            &format!("/api/v1/reviews/{id}"),
            &json!({"decision": "reject", "reason": "场所名称应为营业执照上的全称"}),
        )
        .await,
        200,
    )
    .await;
    let seen = app.read(&manager, &format!("/api/v1/venues/{id}")).await;
    assert_eq!(seen["status"], "rejected");
    assert_eq!(seen["rejection_reason"], "场所名称应为营业执照上的全称");
    let edited = body_of(
        app.patch_as(
            &manager,
            &format!("/api/v1/venues/{id}"),
            &json!({"name": "临武县金江镇老李小吃店"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(edited["status"], "pending");
    assert!(edited["rejection_reason"].is_null());
}

#[tokio::test]
async fn an_unknown_status_filter_is_a_query_error() {
    let app = spawn_app().await;
    let reviewer = app.reviewer(LINWU).await;
    assert_error(
        app.get_as(&reviewer, "/api/v1/reviews?status=closed").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
}

#[tokio::test]
async fn the_applicant_is_told_the_review_result_in_their_notices() {
    let app = spawn_app().await;
    let (manager, approved) = app
        .applied_venue(LINWU_TOWNSHIP, "临武县舜峰镇便民超市")
        .await;
    let (other, rejected) = app
        .applied_venue(LINWU_TOWNSHIP, "临武县舜峰镇某某网吧")
        .await;
    let reviewer = app.reviewer(LINWU).await;
    for (venue, decision) in [
        (&approved, json!({"decision": "approve"})),
        (
            &rejected,
            json!({"decision": "reject", "reason": "营业执照与场所名称不符"}),
        ),
    ] {
        let path = format!("/api/v1/reviews/{}", venue["id"]);
        assert_eq!(app.post_as(&reviewer, &path, &decision).await.status(), 200);
    }
    let notices = app.read(&manager, "/api/v1/me/notifications").await;
    assert_eq!(notices["items"][0]["kind"], "review_result", "{notices}");
    assert!(notices["items"][0]["message"]
        .as_str()
        .unwrap()
        .contains("临武县舜峰镇便民超市”已审核通过"));
    let notices = app.read(&other, "/api/v1/me/notifications").await;
    assert!(
        notices["items"][0]["message"]
            .as_str()
            .unwrap()
            .contains("未通过审核：营业执照与场所名称不符"),
        "{notices}"
    );
}
