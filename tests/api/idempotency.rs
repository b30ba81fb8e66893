//! `Idempotency-Key`: a request sent again with the same key (its answer lost in a weak signal)
//! is answered the same and recorded once, on any node; the same key with another request is
//! refused; keys belong to their caller and are kept a day.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{adult, assert_error, body_of, spawn_app, TestApp, LINWU_TOWNSHIP};
use venuecode::db::schema::{check_ins, idempotency_keys, venues};

async fn post_keyed(app: &TestApp, token: &str, path: &str, key: &str, body: &Value) -> Response {
    app.client
        .post(format!("{}{path}", app.address))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("request sent")
}

/// A scan of `code` with `key`.
async fn scan_keyed(app: &TestApp, token: &str, key: &str, code: &Value) -> Response {
    post_keyed(
        app,
        token,
        "/api/v1/check-ins",
        key,
        &json!({ "code": code }),
    )
    .await
}

fn replayed(response: &Response) -> bool {
    response
        .headers()
        .get("idempotency-replayed")
        .is_some_and(|v| v == "true")
}

fn venues_count(app: &TestApp) -> i64 {
    let mut conn = app.database().get().unwrap();
    venues::table.count().get_result(&mut *conn).unwrap()
}

fn check_ins_count(app: &TestApp) -> i64 {
    let mut conn = app.database().get().unwrap();
    check_ins::table.count().get_result(&mut *conn).unwrap()
}

#[tokio::test]
async fn a_scan_sent_again_with_its_key_is_answered_the_same_and_recorded_once() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("吴敏").await;
    let body = json!({"code": venue.code_url});
    let first = post_keyed(&app, &resident.token, "/api/v1/check-ins", "scan-1", &body).await;
    assert!(!replayed(&first));
    let first = body_of(first, 201).await;

    // The answer was lost; the mini-program sends the scan again, here to another node.
    let other = app.second_node().await;
    let again = app
        .client
        .post(format!("{}/api/v1/check-ins", other.address))
        .bearer_auth(&resident.token)
        .header("Idempotency-Key", "scan-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(replayed(&again), "a repeat says it is one");
    assert_eq!(body_of(again, 201).await, first, "the first answer, again");
    assert_eq!(check_ins_count(&app), 1);

    // A new key is a new scan (here a repeat within the window, which records nothing either).
    let itinerary = app.read(&resident.token, "/api/v1/me/check-ins").await;
    assert_eq!(itinerary["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_same_key_with_another_request_is_refused_and_keys_are_the_callers_own() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let north = app.entrance(&venue, "北门").await;
    let resident = app.resident("吴敏").await;
    body_of(
        scan_keyed(&app, &resident.token, "k", &json!(venue.code_url)).await,
        201,
    )
    .await;
    assert_error(
        scan_keyed(&app, &resident.token, "k", &json!(north["code_url"])).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(
        check_ins_count(&app),
        1,
        "the refused request recorded nothing"
    );

    // Another resident's equal key is theirs: their scan is recorded and answered for them.
    let other = app.resident("郑强").await;
    let theirs = scan_keyed(&app, &other.token, "k", &json!(venue.code_url)).await;
    assert!(!replayed(&theirs));
    let page = body_of(theirs, 201).await;
    assert_eq!(page["people"][0]["name"], "郑*");
    assert_eq!(check_ins_count(&app), 2);

    // Keys that are not 1-255 visible characters are refused before anything happens.
    for key in ["", "has space", &"x".repeat(256), "中文"] {
        let response = app
            .client
            .post(format!("{}/api/v1/check-ins", app.address))
            .bearer_auth(&other.token)
            .header("Idempotency-Key", key.as_bytes())
            .json(&json!({"code": venue.code_url}))
            .send()
            .await
            .unwrap();
        assert_error(response, StatusCode::BAD_REQUEST, "idempotency_key_invalid").await;
    }
}

#[tokio::test]
async fn only_a_success_is_kept_so_a_refused_request_can_be_fixed_under_its_key() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("吴敏").await;
    // A refusal recorded nothing: its key is let go, so the same key with the request fixed runs.
    let bad = json!({"code": "https://elsewhere.example/v/abc"});
    let first = post_keyed(&app, &resident.token, "/api/v1/check-ins", "fixable", &bad).await;
    assert!(first.status().is_client_error(), "{}", first.status());
    let again = post_keyed(&app, &resident.token, "/api/v1/check-ins", "fixable", &bad).await;
    assert!(again.status().is_client_error());
    assert!(!replayed(&again), "a refusal is answered afresh");
    let fixed = scan_keyed(&app, &resident.token, "fixable", &json!(venue.code_url)).await;
    assert!(!replayed(&fixed));
    body_of(fixed, 201).await;
    // Without a token nothing is kept: the handler answers 401, and a logged-in request with
    // the same key later runs.
    let anonymous = app
        .client
        .post(format!("{}/api/v1/check-ins", app.address))
        .header("Idempotency-Key", "late")
        .json(&json!({"code": venue.code_url}))
        .send()
        .await
        .unwrap();
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let other = app.resident("郑强").await;
    let late = scan_keyed(&app, &other.token, "late", &json!(venue.code_url)).await;
    assert!(!replayed(&late));
    body_of(late, 201).await;
    // A body past the route's limit is refused by the route, unread and not kept.
    let huge = json!({"code": "x".repeat(70 * 1024)});
    let response = post_keyed(&app, &other.token, "/api/v1/check-ins", "huge", &huge).await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    let mut conn = app.database().get().unwrap();
    let held: i64 = idempotency_keys::table
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(held, 2, "the two scans that were recorded, no more");
}

#[tokio::test]
async fn a_hand_registration_a_paper_scan_and_an_import_sent_again_record_once() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let path = format!("/api/v1/venues/{}/manual-check-ins", venue.id);
    let person = json!({"entrance_id": venue.entrance_id, "name": "钱孝", "id_number": adult(1)});
    let first = body_of(
        post_keyed(&app, &venue.manager, &path, "hand-1", &person).await,
        201,
    )
    .await;
    let again = post_keyed(&app, &venue.manager, &path, "hand-1", &person).await;
    assert!(replayed(&again));
    assert_eq!(body_of(again, 201).await, first);
    assert_eq!(check_ins_count(&app), 1);

    // A paper code scanned at the door, its answer lost.
    let resident = app.resident("吴敏").await;
    let code = app
        .print_paper_code(&resident.token, "/api/v1/me/paper-code.png")
        .await;
    let path = format!("/api/v1/venues/{}/paper-scans", venue.id);
    let scan = json!({"entrance_id": venue.entrance_id, "code": code});
    let first = body_of(
        post_keyed(&app, &venue.manager, &path, "paper-1", &scan).await,
        201,
    )
    .await;
    let again = post_keyed(&app, &venue.manager, &path, "paper-1", &scan).await;
    assert!(replayed(&again));
    assert_eq!(body_of(again, 201).await, first);
    assert_eq!(check_ins_count(&app), 2);

    // A registrar's import: the venues are registered once.
    let registrar = app
        .new_staff("registrar")
        .in_region(LINWU_TOWNSHIP)
        .named("keyed-registrar")
        .login()
        .await;
    let mut application = TestApp::application(LINWU_TOWNSHIP, "临武县舜峰镇重发便民店");
    application["manager"]["phone"] = json!("13900002222");
    let import = json!({"venues": [application]});
    let venues_before = venues_count(&app);
    let first = body_of(
        post_keyed(
            &app,
            &registrar,
            "/api/v1/venues/import",
            "import-1",
            &import,
        )
        .await,
        201,
    )
    .await;
    let again = post_keyed(
        &app,
        &registrar,
        "/api/v1/venues/import",
        "import-1",
        &import,
    )
    .await;
    assert!(replayed(&again));
    assert_eq!(body_of(again, 201).await, first);
    assert_eq!(
        venues_count(&app),
        venues_before + 1,
        "one venue registered"
    );
}

#[tokio::test]
async fn a_key_left_by_a_stopped_node_is_taken_over_and_kept_answers_go_after_a_day() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("吴敏").await;
    let body = json!({"code": venue.code_url});
    body_of(
        post_keyed(&app, &resident.token, "/api/v1/check-ins", "held", &body).await,
        201,
    )
    .await;
    let mut conn = app.database().get().unwrap();
    // As if the answer had never been written: the key is held by a request still running.
    diesel::update(idempotency_keys::table)
        .set((
            idempotency_keys::status.eq(None::<i32>),
            idempotency_keys::answer_sealed.eq(None::<String>),
        ))
        .execute(&mut *conn)
        .unwrap();
    let response = post_keyed(&app, &resident.token, "/api/v1/check-ins", "held", &body).await;
    assert_error(response, StatusCode::CONFLICT, "idempotency_key_in_flight").await;
    // A minute later its node is taken to have stopped: the repeat runs (the scan's repeat
    // window keeps it to one check-in) and its answer is kept.
    let a_minute_ago = (Utc::now() - Duration::seconds(61)).naive_utc();
    diesel::update(idempotency_keys::table)
        .set(idempotency_keys::started_at.eq(a_minute_ago))
        .execute(&mut *conn)
        .unwrap();
    let taken = post_keyed(&app, &resident.token, "/api/v1/check-ins", "held", &body).await;
    assert!(!replayed(&taken));
    body_of(taken, 201).await;
    assert_eq!(check_ins_count(&app), 1);
    let sealed: Option<String> = idempotency_keys::table
        .select(idempotency_keys::answer_sealed)
        .first(&mut *conn)
        .unwrap();
    let sealed = sealed.expect("the answer is kept");
    assert!(!sealed.contains("吴"), "kept answers are sealed");

    // A day later the purge deletes it.
    let a_day_ago = (Utc::now() - Duration::hours(25)).naive_utc();
    diesel::update(idempotency_keys::table)
        .set(idempotency_keys::started_at.eq(a_day_ago))
        .execute(&mut *conn)
        .unwrap();
    let output = app.command().arg("purge").output().unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("idempotency_keys: 1 deleted"), "{report}");
    let left: i64 = idempotency_keys::table
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_cancelled_account_leaves_no_kept_answer() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("吴敏").await;
    body_of(
        scan_keyed(&app, &resident.token, "mine", &json!(venue.code_url)).await,
        201,
    )
    .await;
    body_of(app.delete_as(&resident.token, "/api/v1/me").await, 204).await;
    let mut conn = app.database().get().unwrap();
    let left: i64 = idempotency_keys::table
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(left, 0);
}
