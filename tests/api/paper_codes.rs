//! Paper codes: printed by a resident for themself or a companion, scanned by venue staff.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, body_of, decode_qr, spawn_app, spawn_app_with, TestApp, Venue};

/// The text of a companion's printed code.
async fn grandmas_paper_code(app: &TestApp) -> String {
    let resident = app.resident("钱孝").await;
    app.companion_with_paper_code(&resident.token, "钱奶奶", 1)
        .await
        .1
}

async fn paper_scan(app: &TestApp, venue: &Venue, token: &str, code: &str) -> reqwest::Response {
    app.post_as(
        token,
        &format!("/api/v1/venues/{}/paper-scans", venue.id),
        &json!({"entrance_id": venue.entrance_id, "code": code}),
    )
    .await
}

#[tokio::test]
async fn a_resident_prints_their_own_code_valid_fourteen_days() {
    let app = spawn_app().await;
    let resident = app.resident("钱孝").await;
    let png = app
        .get_as(&resident.token, "/api/v1/me/paper-code.png")
        .await;
    assert_eq!(png.status(), 200);
    let valid_until = png.headers()["x-valid-until"].to_str().unwrap().to_owned();
    let expected = (app.state.clock.today() + chrono::Duration::days(13)).to_string();
    assert_eq!(valid_until, expected);
    assert!(decode_qr(&png.bytes().await.unwrap()).starts_with("VCP1:"));
}

#[tokio::test]
async fn only_ones_own_companions_codes_are_printed() {
    let app = spawn_app().await;
    let resident = app.resident("钱孝").await;
    assert_error(
        app.get_as(&resident.token, "/api/v1/me/companions/999/paper-code.png")
            .await,
        StatusCode::NOT_FOUND,
        "companion_not_found",
    )
    .await;
}

#[tokio::test]
async fn venue_staff_scan_a_paper_code_at_the_door() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let code = grandmas_paper_code(&app).await;
    let page = body_of(paper_scan(&app, &venue, &venue.manager, &code).await, 201).await;
    assert_eq!(page["people"][0]["name"], "钱**");
    assert_eq!(page["verdict"], "pass");
}

#[tokio::test]
async fn a_forged_paper_code_is_refused() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    assert_error(
        paper_scan(
            &app,
            &venue,
            &venue.manager,
            "VCP1:AAAAAAAAAAAAAAAAAAAAAAAA",
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_paper_code",
    )
    .await;
}

#[tokio::test]
async fn a_paper_code_expires_after_fourteen_days() {
    // Sessions that outlive the code.
    let app = spawn_app_with(&[("RESIDENT_SESSION_HOURS", "720")]).await;
    let venue = app.approved_venue().await;
    let code = grandmas_paper_code(&app).await;
    app.state.clock.advance(chrono::Duration::days(15));
    assert_error(
        paper_scan(&app, &venue, &venue.manager, &code).await,
        StatusCode::GONE,
        "paper_code_expired",
    )
    .await;
}

#[tokio::test]
async fn strangers_cannot_scan_at_a_venue() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let code = grandmas_paper_code(&app).await;
    let stranger = app.resident("路人").await;
    assert_error(
        paper_scan(&app, &venue, &stranger.token, &code).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_reprint_revokes_the_earlier_code() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("钱孝").await;
    let first = app
        .print_paper_code(&resident.token, "/api/v1/me/paper-code.png")
        .await;
    let second = app
        .print_paper_code(&resident.token, "/api/v1/me/paper-code.png")
        .await;
    assert_ne!(first, second);
    assert_error(
        paper_scan(&app, &venue, &venue.manager, &first).await,
        StatusCode::GONE,
        "paper_code_revoked",
    )
    .await;
    body_of(paper_scan(&app, &venue, &venue.manager, &second).await, 201).await;
}

#[tokio::test]
async fn removing_a_companion_revokes_their_code() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("钱孝").await;
    let (grandma, code) = app
        .companion_with_paper_code(&resident.token, "钱奶奶", 1)
        .await;
    body_of(
        app.delete_as(
            &resident.token,
            &format!("/api/v1/me/companions/{}", grandma["id"]),
        )
        .await,
        204,
    )
    .await;
    assert_error(
        paper_scan(&app, &venue, &venue.manager, &code).await,
        StatusCode::GONE,
        "paper_code_revoked",
    )
    .await;
}

#[tokio::test]
async fn a_paper_scan_shows_in_the_printers_itinerary_under_their_name_for_her() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let grandson = app.resident("孙孝").await;
    let (_, code) = app
        .companion_with_paper_code(&grandson.token, "孙奶奶", 1)
        .await;
    body_of(paper_scan(&app, &venue, &venue.manager, &code).await, 201).await;
    let itinerary = app.read(&grandson.token, "/api/v1/me/check-ins").await;
    assert_eq!(itinerary["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        itinerary["items"][0]["person"],
        json!({"role": "companion", "name": "孙**"})
    );
    // The desk's own itinerary shows nothing of her.
    let desk = app.read(&venue.manager, "/api/v1/me/check-ins").await;
    assert_eq!(desk["items"], json!([]));
}
