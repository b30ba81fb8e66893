//! Entrances (one door, one code): added and renamed at any time, their codes downloaded,
//! rotated and voided by closing.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, body_of, decode_qr, spawn_app, TestApp, Venue, LINWU_TOWNSHIP};

async fn add_entrance(app: &TestApp, venue: &Venue, name: &str) -> Value {
    body_of(
        app.post_as(
            &venue.manager,
            &format!("/api/v1/venues/{}/entrances", venue.id),
            &json!({"name": name, "description": "停车场"}),
        )
        .await,
        201,
    )
    .await
}

fn code_path(venue: &Venue, entrance: &Value, what: &str) -> String {
    format!(
        "/api/v1/venues/{}/entrances/{}/{what}",
        venue.id, entrance["id"]
    )
}

#[tokio::test]
async fn an_entrance_added_after_approval_has_a_code_at_once() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let north = add_entrance(&app, &venue, "北门").await;
    assert!(north["code_url"].is_string());
}

#[tokio::test]
async fn entrance_names_are_unique_among_open_entrances() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    assert_error(
        app.post_as(
            &venue.manager,
            &format!("/api/v1/venues/{}/entrances", venue.id),
            &json!({"name": "东门"}),
        )
        .await,
        StatusCode::CONFLICT,
        "entrance_name_taken",
    )
    .await;
    let north = add_entrance(&app, &venue, "北门").await;
    assert_error(
        app.patch_as(
            &venue.manager,
            &format!("/api/v1/venues/{}/entrances/{}", venue.id, north["id"]),
            &json!({"name": "西门"}),
        )
        .await,
        StatusCode::CONFLICT,
        "entrance_name_taken",
    )
    .await;
}

#[tokio::test]
async fn an_entrance_is_renamed() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let north = add_entrance(&app, &venue, "北门").await;
    let renamed = body_of(
        app.patch_as(
            &venue.manager,
            &format!("/api/v1/venues/{}/entrances/{}", venue.id, north["id"]),
            &json!({"name": "北门（停车场）"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(renamed["name"], "北门（停车场）");
    assert_eq!(renamed["code_url"], north["code_url"], "the code stays");
}

#[tokio::test]
async fn codes_are_not_issued_before_approval() {
    let app = spawn_app().await;
    let (manager, venue) = app
        .applied_venue(LINWU_TOWNSHIP, "临武县金江镇便民药店")
        .await;
    let (id, entrance) = (&venue["id"], &venue["entrances"][0]["id"]);
    for path in ["code.png", "code.svg"] {
        assert_error(
            app.get_as(
                &manager,
                &format!("/api/v1/venues/{id}/entrances/{entrance}/{path}"),
            )
            .await,
            StatusCode::CONFLICT,
            "venue_not_active",
        )
        .await;
    }
    assert_error(
        app.post_as(
            &manager,
            &format!("/api/v1/venues/{id}/entrances/{entrance}/code/rotate"),
            &json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "venue_not_active",
    )
    .await;
}

#[tokio::test]
async fn the_png_holds_exactly_the_entrances_url() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let entrance = &venue.json["entrances"][0];
    let response = app
        .get_as(&venue.manager, &code_path(&venue, entrance, "code.png"))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    let url = decode_qr(&response.bytes().await.unwrap());
    assert_eq!(url, venue.code_url);
    assert!(url.starts_with("HTTP://127.0.0.1:"), "{url}");
}

#[tokio::test]
async fn the_svg_poster_names_venue_entrance_and_category() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let entrance = &venue.json["entrances"][0];
    let response = app
        .get_as(&venue.manager, &code_path(&venue, entrance, "code.svg"))
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("image/svg+xml"));
    let svg = response.text().await.unwrap();
    for text in [
        "临武县舜峰镇好又多超市",
        "东门",
        "生活购物场所",
        "请使用微信或支付宝",
        "210mm",
    ] {
        assert!(svg.contains(text), "{text} missing from the poster");
    }
}

#[tokio::test]
async fn rotating_a_code_issues_a_new_version() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let entrance = &venue.json["entrances"][0];
    let rotated = body_of(
        app.post_as(
            &venue.manager,
            &code_path(&venue, entrance, "code/rotate"),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(rotated["code_version"], 2);
    assert_ne!(rotated["code_url"], venue.code_url.as_str());
    let png = app
        .get_as(&venue.manager, &code_path(&venue, entrance, "code.png"))
        .await;
    assert_eq!(
        decode_qr(&png.bytes().await.unwrap()),
        rotated["code_url"].as_str().unwrap()
    );
}

#[tokio::test]
async fn a_closed_entrances_code_cannot_be_downloaded() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let entrance = &venue.json["entrances"][0];
    body_of(
        app.delete_as(
            &venue.manager,
            &format!("/api/v1/venues/{}/entrances/{}", venue.id, entrance["id"]),
        )
        .await,
        204,
    )
    .await;
    assert_error(
        app.get_as(&venue.manager, &code_path(&venue, entrance, "code.png"))
            .await,
        StatusCode::CONFLICT,
        "entrance_closed",
    )
    .await;
}

#[tokio::test]
async fn a_stranger_cannot_touch_the_entrances() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let stranger = app.account().await;
    assert_error(
        app.post_as(
            &stranger,
            &format!("/api/v1/venues/{}/entrances", venue.id),
            &json!({"name": "后门"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}
