//! Manual check-ins: venue staff register a person without a phone by hand.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{adult, assert_error, body_of, spawn_app, TestApp, Venue};

async fn register(app: &TestApp, venue: &Venue, token: &str, body: Value) -> reqwest::Response {
    app.post_as(
        token,
        &format!("/api/v1/venues/{}/manual-check-ins", venue.id),
        &body,
    )
    .await
}

#[tokio::test]
async fn a_person_registered_by_hand_gets_the_door_page() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let page = body_of(
        register(
            &app,
            &venue,
            &venue.manager,
            json!({"entrance_id": venue.entrance_id, "name": "钱孝", "id_number": adult(1), "phone": "13912340000"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(page["people"][0]["name"], "钱*");
    assert_eq!(page["verdict"], "pass");
}

#[tokio::test]
async fn venue_staff_register_too() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let helper = app.venue_staff(&venue).await;
    body_of(
        register(
            &app,
            &venue,
            &helper.token,
            json!({"entrance_id": venue.entrance_id, "name": "钱孝", "id_number": adult(1)}),
        )
        .await,
        201,
    )
    .await;
}

#[tokio::test]
async fn bad_fields_are_named() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let body = assert_error(
        register(
            &app,
            &venue,
            &venue.manager,
            json!({"entrance_id": venue.entrance_id, "name": "", "id_number": "110105194912310021"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(
        body["error"]["details"]["name"].is_object()
            && body["error"]["details"]["id_number"].is_object()
    );
}

#[tokio::test]
async fn another_venues_entrance_is_a_field_error() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let other = app.approved_venue().await;
    let body = assert_error(
        register(
            &app,
            &venue,
            &venue.manager,
            json!({"entrance_id": other.entrance_id, "name": "钱孝", "id_number": adult(1)}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        crate::helpers::field_code(&body, "entrance_id"),
        "entrance_unknown"
    );
}

#[tokio::test]
async fn strangers_cannot_register_at_a_venue() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let stranger = app.resident("路人").await;
    assert_error(
        register(
            &app,
            &venue,
            &stranger.token,
            json!({"entrance_id": venue.entrance_id, "name": "x", "id_number": adult(1)}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_hand_registration_appears_only_in_a_verified_persons_itinerary() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("钱孝").await;
    body_of(
        register(
            &app,
            &venue,
            &venue.manager,
            json!({"entrance_id": venue.entrance_id, "name": "钱孝", "id_number": resident.id_number}),
        )
        .await,
        201,
    )
    .await;
    // A declared identity sees only what its account recorded: anyone can type an ID number.
    let itinerary = app.read(&resident.token, "/api/v1/me/check-ins").await;
    assert_eq!(itinerary["items"], json!([]));
    app.verify_identity(&resident.token, json!({})).await;
    let itinerary = app.read(&resident.token, "/api/v1/me/check-ins").await;
    assert_eq!(itinerary["items"].as_array().unwrap().len(), 1);
    assert_eq!(itinerary["items"][0]["person"]["role"], "self");
}
