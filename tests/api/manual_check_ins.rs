//! Manual check-ins: venue staff register a person without a phone by hand.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    adult, assert_error, body_of, spawn_app, spawn_app_with, TestApp, Venue, LINWU, LINWU_TOWNSHIP,
};

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

#[tokio::test]
async fn a_manager_who_never_consented_cannot_register_people() {
    let app = spawn_app().await;
    let manager = app.account().await;
    let applied = app
        .apply(
            &manager,
            TestApp::application(LINWU_TOWNSHIP, "临武县舜峰镇小卖部"),
        )
        .await;
    let venue = app.approve(applied["id"].as_i64().unwrap()).await;
    let refused = assert_error(
        app.post_as(
            &manager,
            &format!("/api/v1/venues/{}/manual-check-ins", venue["id"]),
            &json!({"entrance_id": venue["entrances"][0]["id"], "name": "钱孝", "id_number": adult(1)}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "consent_required",
    )
    .await;
    assert!(refused["error"]["details"]["missing"].is_array());
}

#[tokio::test]
async fn registrations_at_the_door_have_their_own_hourly_limit() {
    let app = spawn_app_with(&[("DOOR_CHECKIN_HOURLY_LIMIT", "3")]).await;
    let venue = app.approved_venue().await;
    for n in 1..=3 {
        body_of(
            register(
                &app,
                &venue,
                &venue.manager,
                json!({"entrance_id": venue.entrance_id, "name": "钱孝", "id_number": adult(n)}),
            )
            .await,
            201,
        )
        .await;
    }
    let refused = register(
        &app,
        &venue,
        &venue.manager,
        json!({"entrance_id": venue.entrance_id, "name": "钱孝", "id_number": adult(4)}),
    )
    .await;
    assert!(refused.headers().contains_key("retry-after"));
    assert_error(refused, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    // Their own scans are counted apart.
    let code = app.approved_venue().await.code_url;
    app.check_in(&venue.manager, &code).await;
}

#[tokio::test]
async fn the_phone_typed_at_the_door_stays_with_the_check_in() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("钱孝").await;
    let elder = crate::helpers::elder(5);
    for (name, id_number, phone) in [
        ("钱改名", resident.id_number.as_str(), "13911112222"),
        ("钱老人", elder.as_str(), "13933334444"),
    ] {
        body_of(
            register(
                &app,
                &venue,
                &venue.manager,
                json!({"entrance_id": venue.entrance_id, "name": name, "id_number": id_number, "phone": phone}),
            )
            .await,
            201,
        )
        .await;
    }
    let case = app.resident("甲病例").await;
    app.check_in(&case.token, &venue.code_url).await;
    let official = app.official(LINWU).await;
    let traced = body_of(
        app.post_as(
            &official,
            "/api/v1/traces",
            &json!({
                "id_number": case.id_number,
                "from": (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
                "to": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()
            }),
        )
        .await,
        201,
    )
    .await;
    let contacts: Vec<(&str, &str)> = traced["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap(),
                c["phone"].as_str().unwrap_or(""),
            )
        })
        .collect();
    // The resident keeps their own name and phone; the elder without an account is reached at
    // the number typed for them.
    let (_, phone) = contacts
        .iter()
        .find(|(name, _)| *name == "钱孝")
        .expect("the resident, under their own name");
    assert!(phone.starts_with("138"), "{contacts:?}");
    assert!(
        contacts.contains(&("钱老人", "13933334444")),
        "{contacts:?}"
    );
}

#[tokio::test]
async fn a_temperature_is_kept_and_a_fever_turns_the_person_away() {
    let app = spawn_app_with(&[("FEVER_FROM_C", "37.3")]).await;
    let venue = app.approved_venue().await;
    let page = body_of(
        register(
            &app,
            &venue,
            &venue.manager,
            json!({"entrance_id": venue.entrance_id, "name": "钱孝", "id_number": adult(1), "temperature": 36.54}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(page["people"][0]["temperature"], 36.5);
    assert_eq!(page["verdict"], "pass");

    let fever = body_of(
        register(
            &app,
            &venue,
            &venue.manager,
            json!({"entrance_id": venue.entrance_id, "name": "钱发", "id_number": adult(2), "temperature": 37.3}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(fever["verdict"], "deny");
    assert_eq!(fever["people"][0]["health"]["color"], "green");
    assert!(
        fever["notice"].as_str().unwrap().starts_with("体温37.3℃"),
        "{fever}"
    );
    {
        use diesel::prelude::*;
        use venuecode::db::schema::check_ins;
        let mut conn = app.database().get().unwrap();
        let stored: Vec<(Option<i16>, String)> = check_ins::table
            .order(check_ins::id)
            .select((check_ins::temperature_dc, check_ins::verdict))
            .load(&mut *conn)
            .unwrap();
        assert_eq!(
            stored,
            vec![(Some(365), "pass".into()), (Some(373), "deny".into())]
        );
    }

    let refused = assert_error(
        register(
            &app,
            &venue,
            &venue.manager,
            json!({"entrance_id": venue.entrance_id, "name": "钱错", "id_number": adult(3), "temperature": 63}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        crate::helpers::field_code(&refused, "temperature"),
        "temperature_invalid"
    );
}
