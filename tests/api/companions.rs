//! Companions (同行人员): children and elderly people checked in with a resident.

use chrono::Datelike;
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
async fn the_age_limits_are_settings_and_the_refusal_names_them() {
    let app = crate::helpers::spawn_app_with(&[
        ("COMPANION_ELDER_FROM", "30"),
        ("COMPANION_CHILD_UNDER", "14"),
    ])
    .await;
    let resident = app.resident("何护").await;
    app.add_companion(&resident.token, "何成", &adult(900), "哥哥")
        .await;
    // A 16-year-old is no child under this rule, and the answer says which ages are.
    let teen =
        crate::helpers::id_number(&format!("431025{}0101001", chrono::Utc::now().year() - 16));
    let refused = assert_error(
        app.post_as(
            &resident.token,
            "/api/v1/me/companions",
            &json!({"name": "何小", "id_number": teen, "relation": "弟弟"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "companion_not_eligible",
    )
    .await;
    assert_eq!(
        refused["error"]["message"],
        "同行人员须为未满14周岁或30周岁及以上人员"
    );
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

#[tokio::test]
async fn adding_someone_as_a_companion_reveals_none_of_their_history() {
    let app = spawn_app().await;
    // An elderly resident with an account of their own goes out alone.
    let grandma = app
        .new_resident()
        .subject("grandma")
        .named("孙奶奶")
        .id_number(elder(2))
        .phone("13700001111")
        .build()
        .await
        .token;
    let venue = app.approved_venue().await;
    app.check_in(&grandma, &venue.code_url).await;

    let stranger = app.resident("陌生人").await;
    let added = app
        .add_companion(&stranger.token, "随便叫", &elder(2), "朋友")
        .await;
    assert_eq!(added["name"], "随**");
    // The stranger sees nothing of where she went, and cannot print her paper code.
    let itinerary = app.read(&stranger.token, "/api/v1/me/check-ins").await;
    assert_eq!(itinerary["items"], json!([]));
    assert_error(
        app.get_as(
            &stranger.token,
            &format!("/api/v1/me/companions/{}/paper-code.png", added["id"]),
        )
        .await,
        StatusCode::FORBIDDEN,
        "companion_has_account",
    )
    .await;
    // She is told someone added her, and her own name stays hers.
    let told = app.read(&grandma, "/api/v1/me/notifications").await;
    assert_eq!(told["items"][0]["kind"], "added_as_companion");
    assert_eq!(
        app.read(&grandma, "/api/v1/me").await["identity"]["name"],
        "孙**"
    );
    // A risky window at the venue tells her, not the stranger.
    let official = app.official(crate::helpers::LINWU).await;
    body_of(
        app.post_as(
            &official,
            "/api/v1/risk-windows",
            &json!({
                "venue_id": venue.id,
                "from": (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
                "to": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
                "message": "该时段有确诊病例到访"
            }),
        )
        .await,
        201,
    )
    .await;
    let stranger_told = app.read(&stranger.token, "/api/v1/me/notifications").await;
    assert_eq!(stranger_told["items"], json!([]));
    let told = app.read(&grandma, "/api/v1/me/notifications").await;
    assert_eq!(told["items"][0]["kind"], "risk_window");
}

#[tokio::test]
async fn a_companion_checked_in_by_the_account_is_in_its_itinerary_under_its_name() {
    let app = spawn_app().await;
    let guardian = app.resident("何护").await;
    let kid = app
        .add_companion(&guardian.token, "何小宝", &child(3), "子女")
        .await;
    let venue = app.approved_venue().await;
    app.check_in_at(
        &guardian.token,
        &venue.code_url,
        None,
        &[kid["id"].as_i64().unwrap()],
    )
    .await;
    let itinerary = app.read(&guardian.token, "/api/v1/me/check-ins").await;
    let people: Vec<(&str, &str)> = itinerary["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["person"]["role"].as_str().unwrap(),
                i["person"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(people.contains(&("companion", "何**")), "{people:?}");
    assert!(people.contains(&("self", "何*")), "{people:?}");
}

#[tokio::test]
async fn another_accounts_companion_cannot_be_removed() {
    let app = spawn_app().await;
    let owner = app.resident("何护").await;
    let companion = app
        .add_companion(&owner.token, "何小", &child(1), "子女")
        .await;
    let other = app.resident("路人").await;
    assert_error(
        app.delete_as(
            &other.token,
            &format!("/api/v1/me/companions/{}", companion["id"]),
        )
        .await,
        StatusCode::NOT_FOUND,
        "companion_not_found",
    )
    .await;
    let still = app.read(&owner.token, "/api/v1/me/companions").await;
    assert_eq!(still["items"].as_array().unwrap().len(), 1);
}
