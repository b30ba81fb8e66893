//! Several nodes on one database: what one node changes reaches the others' caches through the
//! change feed (`services::cache_sync`), within `CACHE_SYNC_MS`. Each test first warms the second
//! node's cache with a scan, changes something on the first node, lets the second read the feed,
//! and scans there again. Without the feed the second node would keep its entry for 30 seconds.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_error, body_of, spawn_app, Node, Resident, TestApp, Venue, LINWU};

/// Two nodes on one database, an approved venue, a resident and the code of a second entrance
/// (so that a later scan is not a repeat); the resident has scanned on the second node, which now
/// holds the venue, the account and the colour in its caches.
async fn warmed() -> (TestApp, Node, Venue, Resident, String) {
    let app = spawn_app().await;
    let other = app.second_node().await;
    let venue = app.approved_venue().await;
    let north = code_of(&app.entrance(&venue, "北门").await);
    let resident = app.resident("孙红").await;
    let page = body_of(other.scan(&resident.token, &venue.code_url).await, 201).await;
    assert_eq!(page["people"][0]["health"]["color"], "green");
    (app, other, venue, resident, north)
}

fn code_of(entrance: &Value) -> String {
    entrance["code_url"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_code_rotated_on_one_node_works_on_the_other() {
    let (app, other, venue, _, _) = warmed().await;
    let new_code = code_of(&app.rotate_code(&venue).await);
    other.sync().await;

    let second = app.resident("冯卖").await;
    body_of(other.scan(&second.token, &new_code).await, 201).await;
    assert_error(
        other.scan(&second.token, &venue.code_url).await,
        StatusCode::GONE,
        "venue_code_revoked",
    )
    .await;
}

#[tokio::test]
async fn an_entrance_closed_on_one_node_refuses_its_code_on_the_other() {
    let (app, other, venue, _, _) = warmed().await;
    let path = format!(
        "/api/v1/venues/{}/entrances/{}",
        venue.id, venue.entrance_id
    );
    body_of(app.delete_as(&venue.manager, &path).await, 204).await;
    other.sync().await;

    let second = app.resident("冯卖").await;
    assert_error(
        other.scan(&second.token, &venue.code_url).await,
        StatusCode::GONE,
        "venue_code_revoked",
    )
    .await;
}

#[tokio::test]
async fn a_colour_set_on_one_node_is_shown_by_the_other() {
    let (app, other, _, resident, north) = warmed().await;
    let official = app.official(LINWU).await;
    app.set_color(&official, &resident.id_number, "孙红", "yellow")
        .await;
    other.sync().await;

    let page = body_of(other.scan(&resident.token, &north).await, 201).await;
    assert_eq!(page["people"][0]["health"]["color"], "yellow");
    assert_eq!(page["verdict"], "deny");
}

#[tokio::test]
async fn consent_withdrawn_on_one_node_stops_scans_on_the_other() {
    let (app, other, _, resident, north) = warmed().await;
    body_of(
        app.delete_as(&resident.token, "/api/v1/me/consent").await,
        204,
    )
    .await;
    other.sync().await;

    assert_error(
        other.scan(&resident.token, &north).await,
        StatusCode::FORBIDDEN,
        "consent_required",
    )
    .await;
}

#[tokio::test]
async fn the_other_node_learns_of_a_change_within_a_second_by_itself() {
    // CACHE_SYNC_MS is 200 by default; nothing here reads the feed but the node itself.
    let (app, other, venue, _, _) = warmed().await;
    let second = app.resident("冯卖").await;
    let new_code = code_of(&app.rotate_code(&venue).await);
    let changed = Instant::now();
    loop {
        let response = other.scan(&second.token, &new_code).await;
        if response.status() == StatusCode::CREATED {
            break;
        }
        assert!(
            changed.elapsed() < Duration::from_secs(1),
            "the second node still refuses the rotated code after {:?}",
            changed.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
