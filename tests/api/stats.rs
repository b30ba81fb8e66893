//! A venue's counts per hour and colour: numbers only, never names.

use reqwest::StatusCode;

use crate::helpers::{assert_error, spawn_app, LINWU};

#[tokio::test]
async fn counts_by_hour_and_colour_name_nobody() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let official = app.official(LINWU).await;
    let green = app.resident("钱孝").await;
    let yellow = app.resident("钱黄").await;
    app.set_color(&official, &yellow.id_number, "钱黄", "yellow")
        .await;
    app.check_in(&green.token, &venue.code_url).await;
    app.check_in(&yellow.token, &venue.code_url).await;
    let today = app.state.clock.today();
    let stats = app
        .read(
            &venue.manager,
            &format!("/api/v1/venues/{}/stats?date={today}", venue.id),
        )
        .await;
    assert_eq!(stats["total"], 2);
    let sum = |color: &str| -> u64 {
        stats["hours"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h[color].as_u64().unwrap())
            .sum()
    };
    assert_eq!((sum("green"), sum("yellow"), sum("red")), (1, 1, 0));
    assert!(!stats.to_string().contains("钱"));
}

#[tokio::test]
async fn a_day_without_scans_counts_zero() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let stats = app
        .read(
            &venue.manager,
            &format!("/api/v1/venues/{}/stats?date=2022-04-01", venue.id),
        )
        .await;
    assert_eq!(stats["total"], 0);
    assert_eq!(stats["hours"].as_array().unwrap().len(), 24);
}

#[tokio::test]
async fn a_bad_date_is_a_query_error() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    assert_error(
        app.get_as(
            &venue.manager,
            &format!("/api/v1/venues/{}/stats?date=21-11-2026", venue.id),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
}

#[tokio::test]
async fn strangers_see_no_counts() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let stranger = app.resident("路人").await;
    assert_error(
        app.get_as(
            &stranger.token,
            &format!("/api/v1/venues/{}/stats", venue.id),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}
