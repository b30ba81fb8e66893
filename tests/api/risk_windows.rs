//! Risky venue windows and the notices they leave in residents' inboxes.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, body_of, elder, spawn_app, LINWU};
use crate::helpers::{scenario, Scenario};

async fn declare(s: &Scenario) -> Value {
    body_of(
        s.app
            .post_as(
                &s.official,
                "/api/v1/risk-windows",
                &json!({
                    "venue_id": s.hospital,
                    "from": s.t0.to_rfc3339(),
                    "to": (s.t0 + Duration::hours(2)).to_rfc3339(),
                    "message": "该时段医院有确诊病例到访，请立即报告社区并做核酸检测"
                }),
            )
            .await,
        201,
    )
    .await
}

fn people(notices: &Value) -> Vec<&str> {
    notices["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["person"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_window_counts_the_people_whose_stay_overlapped() {
    let s = scenario().await;
    let window = declare(&s).await;
    assert_eq!(window["people"], 3, "A, K and B");
}

#[tokio::test]
async fn a_guardian_is_told_about_themself_and_their_companion() {
    let s = scenario().await;
    declare(&s).await;
    let notices = s.app.read(&s.k_token, "/api/v1/me/notifications").await;
    let people = people(&notices);
    assert!(
        people.contains(&"乙**") && people.contains(&"柯**"),
        "{people:?}"
    );
    assert!(notices["items"][0]["message"]
        .as_str()
        .unwrap()
        .contains("核酸"));
}

#[tokio::test]
async fn someone_who_came_after_the_window_is_not_told() {
    let s = scenario().await;
    declare(&s).await;
    let none = s.app.read(&s.c_token, "/api/v1/me/notifications").await;
    assert_eq!(none["items"], json!([]));
}

#[tokio::test]
async fn another_regions_venue_cannot_be_declared_risky() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let elsewhere = app.official("3701").await;
    let now = chrono::Utc::now();
    assert_error(
        app.post_as(
            &elsewhere,
            "/api/v1/risk-windows",
            &json!({"venue_id": venue.id, "from": (now - Duration::hours(2)).to_rfc3339(), "to": now.to_rfc3339(), "message": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_window_must_end_after_it_starts_and_say_something() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let official = app.official(LINWU).await;
    let now = chrono::Utc::now();
    let body = assert_error(
        app.post_as(
            &official,
            "/api/v1/risk-windows",
            &json!({"venue_id": venue.id, "from": now.to_rfc3339(), "to": (now - Duration::hours(1)).to_rfc3339(), "message": ""}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(
        body["error"]["details"]["to"].is_object()
            && body["error"]["details"]["message"].is_object()
    );
}

async fn declare_at(app: &crate::helpers::TestApp, venue_id: i64) {
    let official = app.official(LINWU).await;
    body_of(
        app.post_as(
            &official,
            "/api/v1/risk-windows",
            &json!({
                "venue_id": venue_id,
                "from": (chrono::Utc::now() - Duration::hours(1)).to_rfc3339(),
                "to": (chrono::Utc::now() + Duration::hours(1)).to_rfc3339(),
                "message": "该时段有确诊病例到访，请报告社区"
            }),
        )
        .await,
        201,
    )
    .await;
}

#[tokio::test]
async fn venue_staff_are_not_told_about_people_they_registered_and_a_printer_is() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let desk = app.venue_staff(&venue).await;
    // By hand, and from a paper code a grandson printed.
    body_of(
        app.post_as(
            &desk.token,
            &format!("/api/v1/venues/{}/manual-check-ins", venue.id),
            &json!({"entrance_id": venue.entrance_id, "name": "钱老人", "id_number": elder(1)}),
        )
        .await,
        201,
    )
    .await;
    let grandson = app.resident("孙孝").await;
    let (_, code) = app
        .companion_with_paper_code(&grandson.token, "孙奶奶", 2)
        .await;
    body_of(
        app.post_as(
            &desk.token,
            &format!("/api/v1/venues/{}/paper-scans", venue.id),
            &json!({"entrance_id": venue.entrance_id, "code": code}),
        )
        .await,
        201,
    )
    .await;
    declare_at(&app, venue.id).await;

    let desk_told = app.read(&desk.token, "/api/v1/me/notifications").await;
    assert_eq!(desk_told["items"], json!([]));
    // The manager was told the review result, and nothing about the window.
    let manager_told = app.read(&venue.manager, "/api/v1/me/notifications").await;
    let kinds: Vec<&str> = manager_told["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["review_result"]);
    let grandson_told = app.read(&grandson.token, "/api/v1/me/notifications").await;
    assert_eq!(people(&grandson_told), ["孙**"]);
}
