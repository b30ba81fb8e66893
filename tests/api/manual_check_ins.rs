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

// ---- paper sheets ------------------------------------------------------------------------------

async fn send_sheet(app: &TestApp, venue: &Venue, rows: Value) -> reqwest::Response {
    app.post_as(
        &venue.manager,
        &format!("/api/v1/venues/{}/manual-check-ins/sheets", venue.id),
        &json!({"entrance_id": venue.entrance_id, "rows": rows}),
    )
    .await
}

fn minutes_ago(minutes: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(minutes)).to_rfc3339()
}

/// How many check-ins the venue has in the last day, as an official of its region lists them.
async fn visitors_of(app: &TestApp, venue: &Venue) -> usize {
    let official = app.official(LINWU).await;
    let now = chrono::Utc::now();
    let enc = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339().replace('+', "%2B");
    let list = app
        .read(
            &official,
            &format!(
                "/api/v1/venues/{}/visitors?from={}&to={}",
                venue.id,
                enc(now - chrono::Duration::hours(30)),
                enc(now + chrono::Duration::hours(1))
            ),
        )
        .await;
    list["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_paper_sheet_is_recorded_with_its_own_times_once() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let rows = json!([
        {"name": "钱孝", "id_number": adult(1), "scanned_at": minutes_ago(150), "temperature": 36.5},
        {"name": "John Smith", "id_type": "passport", "id_number": "E12345678", "scanned_at": minutes_ago(120)},
        {"name": "王大爷", "phone": "13912345678", "scanned_at": minutes_ago(90), "temperature": 37.6}
    ]);
    let pages = body_of(send_sheet(&app, &venue, rows.clone()).await, 201).await;
    let pages = pages["items"].as_array().unwrap().clone();
    assert_eq!(pages.len(), 3);
    for (page, row) in pages.iter().zip(rows.as_array().unwrap()) {
        assert_eq!(page["offline"], true);
        let shown =
            chrono::DateTime::parse_from_rfc3339(page["scanned_at"].as_str().unwrap()).unwrap();
        let written =
            chrono::DateTime::parse_from_rfc3339(row["scanned_at"].as_str().unwrap()).unwrap();
        assert!(
            (shown - written).num_seconds().abs() <= 1,
            "{shown} {written}"
        );
    }
    assert_eq!(pages[1]["people"][0]["id_type"], "passport");
    assert_eq!(pages[2]["people"][0]["id_number"], Value::Null);
    assert_eq!(pages[2]["verdict"], "deny", "a fever turns the person away");
    assert_eq!(visitors_of(&app, &venue).await, 3);

    // The same sheet sent again (the answer was lost) records nothing twice.
    let again = body_of(send_sheet(&app, &venue, rows).await, 201).await;
    let ids = |pages: &[Value]| -> Vec<i64> {
        pages
            .iter()
            .map(|p| p["check_in_id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids(again["items"].as_array().unwrap()), ids(&pages));
    assert_eq!(visitors_of(&app, &venue).await, 3);
}

#[tokio::test]
async fn a_sheet_with_a_bad_row_records_nothing() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let refused = |rows: Value| {
        let (app, venue) = (&app, &venue);
        async move {
            assert_error(
                send_sheet(app, venue, rows).await,
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            )
            .await
        }
    };
    let in_the_future = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let mut rows = json!([
        {"name": "钱孝", "id_number": adult(1), "scanned_at": minutes_ago(30)},
        {"name": "钱二", "id_number": adult(2), "scanned_at": minutes_ago(60 * 30)},
        {"name": "钱三", "id_number": adult(3), "scanned_at": in_the_future}
    ]);
    let mut unreadable = rows.clone();
    unreadable
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "钱四", "id_number": "123", "scanned_at": "yesterday"}));
    let body = refused(unreadable).await;
    let field = |body: &Value, name: &str| crate::helpers::field_code(body, name).clone();
    assert_eq!(field(&body, "rows[3].id_number"), "id_number_length");
    assert_eq!(field(&body, "rows[3].scanned_at"), "time_invalid");
    // The times are checked once every row reads well.
    let body = refused(rows.take()).await;
    assert_eq!(field(&body, "rows[1].scanned_at"), "scanned_at_too_old");
    assert_eq!(field(&body, "rows[2].scanned_at"), "scanned_at_future");
    assert_eq!(visitors_of(&app, &venue).await, 0);
    assert_error(
        send_sheet(&app, &venue, json!([])).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn a_sheet_past_the_hourly_limit_is_refused_whole() {
    let app = spawn_app_with(&[("DOOR_CHECKIN_HOURLY_LIMIT", "2")]).await;
    let venue = app.approved_venue().await;
    let row = |n: u32| json!({"name": "钱孝", "id_number": adult(n), "scanned_at": minutes_ago(10 * i64::from(n))});
    let refused = send_sheet(&app, &venue, json!([row(1), row(2), row(3)])).await;
    assert!(refused.headers().contains_key("retry-after"));
    assert_error(refused, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    assert_eq!(
        visitors_of(&app, &venue).await,
        0,
        "nothing of a refused sheet is kept"
    );
    body_of(send_sheet(&app, &venue, json!([row(1), row(2)])).await, 201).await;
    assert_eq!(visitors_of(&app, &venue).await, 2);
}
