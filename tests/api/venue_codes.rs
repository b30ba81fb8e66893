//! What a venue code's printed link shows when opened outside the mini-program.

use crate::helpers::{body_of, spawn_app, tampered};

fn token_of(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_link_opens_a_page_naming_the_venue() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let page = app.get(&format!("/v/{}", token_of(&venue.code_url))).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("临武县舜峰镇好又多超市") && html.contains("微信"));
}

#[tokio::test]
async fn a_changed_token_is_refused() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let changed = tampered(&token_of(&venue.code_url), 2);
    assert_eq!(app.get(&format!("/v/{changed}")).await.status(), 400);
}

#[tokio::test]
async fn a_rotated_codes_link_is_gone() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    app.rotate_code(&venue).await;
    let old = app.get(&format!("/v/{}", token_of(&venue.code_url))).await;
    assert_eq!(old.status(), 410);
}

#[tokio::test]
async fn a_closed_entrances_link_is_gone() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
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
    let page = app.get(&format!("/V/{}", token_of(&venue.code_url))).await;
    assert_eq!(page.status(), 410);
}
