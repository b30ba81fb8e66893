//! Venue staff: invited by the manager with a one-time code, redeemed by their own account.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, body_of, spawn_app, TestApp};

async fn redeem(app: &TestApp, token: &str, code: &str) -> reqwest::Response {
    app.post_as(
        token,
        "/api/v1/venue-staff-invitations/redeem",
        &json!({"code": code}),
    )
    .await
}

#[tokio::test]
async fn an_invitation_is_an_eight_character_code() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    assert_eq!(app.staff_invitation(&venue).await.len(), 8);
}

#[tokio::test]
async fn a_code_outside_the_alphabet_is_a_field_error() {
    let app = spawn_app().await;
    let helper = app.resident("赵敏").await;
    // 0, 1, I and O are never part of a code: they read as one another.
    for code in ["ABCD0EFG", "ABCDEFG", " abcdefgI ", "场所码场所码场所"] {
        let body = body_of(redeem(&app, &helper.token, code).await, 422).await;
        assert_eq!(
            body["error"]["details"]["code"]["code"], "code_invalid",
            "{code}"
        );
    }
    assert_error(
        redeem(&app, &helper.token, " abcdefgh ").await,
        StatusCode::NOT_FOUND,
        "invitation_invalid",
    )
    .await;
}

#[tokio::test]
async fn venue_staff_must_have_consented_themselves() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let code = app.staff_invitation(&venue).await;
    let anonymous = app.account().await;
    assert_error(
        redeem(&app, &anonymous, &code).await,
        StatusCode::FORBIDDEN,
        "consent_required",
    )
    .await;
}

#[tokio::test]
async fn a_code_is_redeemed_once_in_any_case() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let code = app.staff_invitation(&venue).await;
    let helper = app.resident("赵敏").await;
    let redeemed = body_of(redeem(&app, &helper.token, &code.to_lowercase()).await, 200).await;
    assert_eq!(redeemed["venue_id"], venue.id);
    let other = app.resident("钱多").await;
    assert_error(
        redeem(&app, &other.token, &code).await,
        StatusCode::NOT_FOUND,
        "invitation_invalid",
    )
    .await;
}

#[tokio::test]
async fn venue_staff_see_the_venue_and_download_codes() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let helper = app.venue_staff(&venue).await;
    body_of(
        app.get_as(&helper.token, &format!("/api/v1/venues/{}", venue.id))
            .await,
        200,
    )
    .await;
    let png = app
        .get_as(
            &helper.token,
            &format!(
                "/api/v1/venues/{}/entrances/{}/code.png",
                venue.id, venue.entrance_id
            ),
        )
        .await;
    assert_eq!(png.status(), 200);
}

#[tokio::test]
async fn venue_staff_cannot_manage_the_venue() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let helper = app.venue_staff(&venue).await;
    assert_error(
        app.post_as(
            &helper.token,
            &format!("/api/v1/venues/{}/staff-invitations", venue.id),
            &json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn my_venues_lists_where_one_works() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let helper = app.venue_staff(&venue).await;
    let mine = app.read(&helper.token, "/api/v1/me/venues").await;
    assert_eq!(
        mine["items"],
        json!([{"id": venue.id, "name": venue.json["name"], "role": "staff"}])
    );
    let managed = app.read(&venue.manager, "/api/v1/me/venues").await;
    assert_eq!(managed["items"][0]["role"], "manager");
}

#[tokio::test]
async fn the_manager_sees_venue_staff_masked() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    app.venue_staff(&venue).await;
    let staff = app
        .read(
            &venue.manager,
            &format!("/api/v1/venues/{}/staff", venue.id),
        )
        .await;
    assert_eq!(staff["items"][0]["name"], "赵*");
    let phone = staff["items"][0]["phone"].as_str().unwrap();
    assert!(phone.starts_with("138****"), "{phone}");
}

#[tokio::test]
async fn removed_venue_staff_lose_the_venue() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let helper = app.venue_staff(&venue).await;
    let staff: Value = app
        .read(
            &venue.manager,
            &format!("/api/v1/venues/{}/staff", venue.id),
        )
        .await;
    let account_id = &staff["items"][0]["account_id"];
    body_of(
        app.delete_as(
            &venue.manager,
            &format!("/api/v1/venues/{}/staff/{account_id}", venue.id),
        )
        .await,
        204,
    )
    .await;
    assert_error(
        app.get_as(&helper.token, &format!("/api/v1/venues/{}", venue.id))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}
