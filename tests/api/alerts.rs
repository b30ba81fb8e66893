//! Red-code alerts for the health officials of the venue's region.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, body_of, spawn_app, TestApp, LINWU};

/// A red scan at a Linwu venue: the official of Linwu and the door page.
async fn red_scan(app: &TestApp) -> (String, Value, i64) {
    let venue = app.approved_venue().await;
    let official = app.official(LINWU).await;
    let resident = app.resident("孙红").await;
    app.set_color(&official, &resident.id_number, "孙红", "red")
        .await;
    let page = app.check_in(&resident.token, &venue.code_url).await;
    (official, page, venue.id)
}

#[tokio::test]
async fn a_red_scan_alerts_the_venues_region_with_the_person_in_full() {
    let app = spawn_app().await;
    let (official, page, venue_id) = red_scan(&app).await;
    let alerts = app.read(&official, "/api/v1/alerts?status=open").await;
    let items = alerts["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["venue"]["id"], venue_id);
    assert_eq!(items[0]["person"]["name"], "孙红");
    assert_eq!(items[0]["check_in_id"], page["check_in_id"]);
}

#[tokio::test]
async fn another_region_sees_no_alert() {
    let app = spawn_app().await;
    red_scan(&app).await;
    let elsewhere = app.official("3701").await;
    let other = app.read(&elsewhere, "/api/v1/alerts").await;
    assert_eq!(other["items"], json!([]));
}

#[tokio::test]
async fn another_region_cannot_close_an_alert() {
    let app = spawn_app().await;
    let (official, _, _) = red_scan(&app).await;
    let id = app.read(&official, "/api/v1/alerts").await["items"][0]["id"].clone();
    let elsewhere = app.official("3701").await;
    assert_error(
        app.post_as(
            &elsewhere,
            &format!("/api/v1/alerts/{id}/close"),
            &json!({"note": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_closed_alert_leaves_the_open_list() {
    let app = spawn_app().await;
    let (official, _, _) = red_scan(&app).await;
    let id = app.read(&official, "/api/v1/alerts").await["items"][0]["id"].clone();
    let closed = body_of(
        app.post_as(
            &official,
            &format!("/api/v1/alerts/{id}/close"),
            &json!({"note": "已转运至集中隔离点"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["note"], "已转运至集中隔离点");
    let open = app.read(&official, "/api/v1/alerts").await;
    assert_eq!(open["items"], json!([]));
    let all = app.read(&official, "/api/v1/alerts?status=all").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn closing_needs_a_note() {
    let app = spawn_app().await;
    let (official, _, _) = red_scan(&app).await;
    let id = app.read(&official, "/api/v1/alerts").await["items"][0]["id"].clone();
    // Blank, too long, or with a character that hides or reorders text: the same rule as every note.
    for note in [
        " ".to_owned(),
        "转".repeat(501),
        "已转运\u{202E}隔离点".to_owned(),
    ] {
        let body = assert_error(
            app.post_as(
                &official,
                &format!("/api/v1/alerts/{id}/close"),
                &json!({ "note": note }),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(body["error"]["details"]["note"]["code"], "note_required");
    }
    let closed = body_of(
        app.post_as(
            &official,
            &format!("/api/v1/alerts/{id}/close"),
            &json!({"note": "  已转运\n至集中隔离点  "}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(closed["note"], "已转运\n至集中隔离点");
}

#[tokio::test]
async fn reading_alerts_is_audited() {
    let app = spawn_app().await;
    let (official, _, _) = red_scan(&app).await;
    app.read(&official, "/api/v1/alerts").await;
    let entries = app.audit_of(&format!("alerts:{LINWU}"));
    assert_eq!(entries[0].action, "alert.read");
}
