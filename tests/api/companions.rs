//! Companions (同行人员): children and elderly people checked in with a resident.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{adult, assert_error, body_of, child, elder, spawn_app};

#[tokio::test]
async fn a_companion_is_shown_masked_with_their_age() {
    let app = spawn_app().await;
    let resident = app.resident("何护").await;
    let grandma = app
        .add_companion(&resident.token, "欧阳秀兰", &elder(1), "母亲")
        .await;
    assert_eq!(grandma["name"], "欧阳**");
    assert_eq!(grandma["eligible"], true);
    assert!(grandma["age"].as_u64().unwrap() >= 60);
    assert!(grandma["id_number"].as_str().unwrap().contains("****"));
}

#[tokio::test]
async fn adults_are_not_companions() {
    let app = spawn_app().await;
    let resident = app.resident("何护").await;
    assert_error(
        app.post_as(
            &resident.token,
            "/api/v1/me/companions",
            &json!({"name": "何成", "id_number": adult(900), "relation": "弟弟"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "companion_not_eligible",
    )
    .await;
}

#[tokio::test]
async fn the_age_limits_are_settings() {
    let app = crate::helpers::spawn_app_with(&[("COMPANION_ELDER_FROM", "30")]).await;
    let resident = app.resident("何护").await;
    app.add_companion(&resident.token, "何成", &adult(900), "哥哥")
        .await;
}

#[tokio::test]
async fn an_account_has_at_most_five() {
    let app = spawn_app().await;
    let resident = app.resident("何护").await;
    for n in 0..5 {
        app.add_companion(&resident.token, &format!("何{n}"), &child(n), "子女")
            .await;
    }
    assert_error(
        app.post_as(
            &resident.token,
            "/api/v1/me/companions",
            &json!({"name": "何六", "id_number": child(5), "relation": "子女"}),
        )
        .await,
        StatusCode::CONFLICT,
        "too_many_companions",
    )
    .await;
}

#[tokio::test]
async fn strangers_adding_an_elder_do_not_lock_out_the_real_guardian() {
    let app = spawn_app().await;
    for _ in 0..3 {
        let stranger = app.resident("某人").await;
        app.add_companion(&stranger.token, "共老", &elder(1), "祖父")
            .await;
    }
    let guardian = app.resident("共孙").await;
    app.add_companion(&guardian.token, "共老", &elder(1), "祖父")
        .await;
}

#[tokio::test]
async fn the_same_person_is_added_once() {
    let app = spawn_app().await;
    let resident = app.resident("何护").await;
    app.add_companion(&resident.token, "何小", &child(1), "子女")
        .await;
    assert_error(
        app.post_as(
            &resident.token,
            "/api/v1/me/companions",
            &json!({"name": "何小", "id_number": child(1), "relation": "子女"}),
        )
        .await,
        StatusCode::CONFLICT,
        "companion_exists",
    )
    .await;
}

#[tokio::test]
async fn the_list_shows_the_accounts_own_companions() {
    let app = spawn_app().await;
    let resident = app.resident("何护").await;
    app.add_companion(&resident.token, "何小", &child(1), "子女")
        .await;
    let other = app.resident("别人").await;
    let mine = app.read(&resident.token, "/api/v1/me/companions").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let theirs = app.read(&other.token, "/api/v1/me/companions").await;
    assert_eq!(theirs["items"], json!([]));
}

#[tokio::test]
async fn a_companion_is_removed_once() {
    let app = spawn_app().await;
    let resident = app.resident("何护").await;
    let companion = app
        .add_companion(&resident.token, "何小", &child(1), "子女")
        .await;
    let path = format!("/api/v1/me/companions/{}", companion["id"]);
    body_of(app.delete_as(&resident.token, &path).await, 204).await;
    assert_error(
        app.delete_as(&resident.token, &path).await,
        StatusCode::NOT_FOUND,
        "companion_not_found",
    )
    .await;
}

#[tokio::test]
async fn a_companion_needs_the_accounts_own_consent() {
    let app = spawn_app().await;
    let bare = app.account().await;
    assert_error(
        app.post_as(
            &bare,
            "/api/v1/me/companions",
            &json!({"name": "何小", "id_number": child(1), "relation": "子女"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "consent_required",
    )
    .await;
}
