//! Several nodes on one database: what one node changes reaches the others' caches through the
//! change feed (`services::cache_sync`), within `CACHE_SYNC_MS`. Each test first warms the second
//! node's cache with a scan, changes something on the first node, lets the second read the feed,
//! and scans there again. Without the feed the second node would keep its entry for 30 seconds.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, body_of, spawn_app, spawn_app_with, TestApp, Venue, LINWU};

/// A second entrance of `venue`, so that a later scan is not a repeat of the first.
async fn another_entrance(app: &TestApp, venue: &Venue) -> String {
    let entrance = body_of(
        app.post_as(
            &venue.manager,
            &format!("/api/v1/venues/{}/entrances", venue.id),
            &json!({"name": "北门"}),
        )
        .await,
        201,
    )
    .await;
    entrance["code_url"].as_str().unwrap().to_owned()
}

async fn rotate(app: &TestApp, venue: &Venue) -> String {
    let rotated: Value = body_of(
        app.post_as(
            &venue.manager,
            &format!(
                "/api/v1/venues/{}/entrances/{}/code/rotate",
                venue.id, venue.entrance_id
            ),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    rotated["code_url"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_code_rotated_on_one_node_works_on_the_other() {
    let app = spawn_app().await;
    let other = app.second_node().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("冯买").await;
    body_of(other.scan(&resident.token, &venue.code_url).await, 201).await;

    let new_code = rotate(&app, &venue).await;
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
    let app = spawn_app().await;
    let other = app.second_node().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("冯买").await;
    body_of(other.scan(&resident.token, &venue.code_url).await, 201).await;

    body_of(
        app.delete_as(
            &venue.manager,
            &format!(
                "/api/v1/venues/{}/entrances/{}",
                venue.id, venue.entrance_id
            ),
        )
        .await,
        204,
    )
    .await;
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
    let app = spawn_app().await;
    let other = app.second_node().await;
    let venue = app.approved_venue().await;
    let west = another_entrance(&app, &venue).await;
    let official = app.official(LINWU).await;
    let resident = app.resident("孙红").await;
    let first = body_of(other.scan(&resident.token, &venue.code_url).await, 201).await;
    assert_eq!(first["people"][0]["health"]["color"], "green");

    app.set_color(&official, &resident.id_number, "孙红", "yellow")
        .await;
    other.sync().await;

    let page = body_of(other.scan(&resident.token, &west).await, 201).await;
    assert_eq!(page["people"][0]["health"]["color"], "yellow");
    assert_eq!(page["verdict"], "deny");
}

#[tokio::test]
async fn consent_withdrawn_on_one_node_stops_scans_on_the_other() {
    let app = spawn_app().await;
    let other = app.second_node().await;
    let venue = app.approved_venue().await;
    let west = another_entrance(&app, &venue).await;
    let resident = app.resident("冯买").await;
    body_of(other.scan(&resident.token, &venue.code_url).await, 201).await;

    body_of(
        app.delete_as(&resident.token, "/api/v1/me/consent").await,
        204,
    )
    .await;
    other.sync().await;

    assert_error(
        other.scan(&resident.token, &west).await,
        StatusCode::FORBIDDEN,
        "consent_required",
    )
    .await;
}

#[tokio::test]
async fn the_other_node_learns_of_a_change_within_a_second_by_itself() {
    let app = spawn_app_with(&[("CACHE_SYNC_MS", "200")]).await;
    let other = app.second_node().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("冯买").await;
    body_of(other.scan(&resident.token, &venue.code_url).await, 201).await;

    let new_code = rotate(&app, &venue).await;
    let changed = Instant::now();
    let second = app.resident("冯卖").await;
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
