//! Health-code colours, set by health officials one by one or in bulk, with their history.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    adult, assert_error, body_of, field_code, id_number, spawn_app, spawn_app_with, TestApp, LINWU,
};

async fn put(app: &TestApp, official: &str, id_number: &str, body: Value) -> reqwest::Response {
    app.put_as(
        official,
        &format!("/api/v1/health-codes/{id_number}"),
        &body,
    )
    .await
}

fn rows(count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| json!({"id_number": adult(100 + i as u32), "name": format!("导入{i}"), "color": "yellow", "reason_code": "risk_area_visit"}))
        .collect()
}

#[tokio::test]
async fn only_health_officials_set_colours() {
    let app = spawn_app().await;
    let reviewer = app.reviewer(LINWU).await;
    assert_error(
        put(
            &app,
            &reviewer,
            &adult(1),
            json!({"color": "red", "reason_code": "confirmed_case"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn a_person_new_to_the_system_needs_a_name() {
    let app = spawn_app().await;
    let official = app.official(LINWU).await;
    let body = assert_error(
        put(
            &app,
            &official,
            &adult(1),
            json!({"color": "red", "reason_code": "confirmed_case"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&body, "name"), "name_required");
}

#[tokio::test]
async fn colour_and_reason_are_checked() {
    let app = spawn_app().await;
    let official = app.official(LINWU).await;
    let body = assert_error(
        put(
            &app,
            &official,
            &adult(1),
            json!({"color": "blue", "reason_code": "because", "name": "林一"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&body, "color"), "health_color_invalid");
    assert_eq!(field_code(&body, "reason_code"), "reason_code_invalid");
}

#[tokio::test]
async fn each_change_is_kept_in_the_history_newest_first() {
    let app = spawn_app().await;
    let official = app.official(LINWU).await;
    body_of(
        put(
            &app,
            &official,
            &adult(1),
            json!({"color": "red", "reason_code": "confirmed_case", "name": "林一"}),
        )
        .await,
        200,
    )
    .await;
    let set = body_of(
        put(
            &app,
            &official,
            &adult(1),
            json!({"color": "green", "reason_code": "isolation_completed", "note": "解除隔离"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(set["color"], "green");
    assert_eq!(set["history"].as_array().unwrap().len(), 2);
    assert_eq!(set["history"][0]["reason_code"], "isolation_completed");
    assert_eq!(set["history"][0]["note"], "解除隔离");
    assert_eq!(set["history"][1]["color"], "red");
}

#[tokio::test]
async fn every_change_and_read_is_audited() {
    let app = spawn_app().await;
    let official = app.official(LINWU).await;
    app.set_color(&official, &adult(1), "林一", "red").await;
    app.set_color(&official, &adult(1), "林一", "green").await;
    app.read(&official, &format!("/api/v1/health-codes/{}", adult(1)))
        .await;
    let mut conn = app.database().get().unwrap();
    let person = venuecode::db::persons::find_by_document(
        &mut conn,
        &app.cipher(),
        &venuecode::domain::IdNumber::parse(&adult(1))
            .unwrap()
            .into(),
    )
    .unwrap()
    .unwrap();
    let actions: Vec<String> = app
        .audit_of(&format!("person:{}", person.id))
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        ["health_code.read", "health_code.set", "health_code.set"]
    );
}

#[tokio::test]
async fn an_unknown_person_is_not_found() {
    let app = spawn_app().await;
    let official = app.official(LINWU).await;
    assert_error(
        app.get_as(&official, &format!("/api/v1/health-codes/{}", adult(1)))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn an_import_applies_every_row() {
    let app = spawn_app().await;
    let official = app.official(LINWU).await;
    let imported = body_of(
        app.post_as(
            &official,
            "/api/v1/health-codes/import",
            &json!({"changes": rows(50)}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(imported["status"], "applied");
    assert_eq!(imported["rows"], 50);
    let one = app
        .read(&official, &format!("/api/v1/health-codes/{}", adult(100)))
        .await;
    assert_eq!(one["color"], "yellow");
    assert_eq!(one["name"], "导入0");
}

#[tokio::test]
async fn one_bad_row_stops_the_whole_import_and_every_bad_row_is_named() {
    let app = spawn_app().await;
    let official = app.official(LINWU).await;
    let mut broken = rows(50);
    broken[7]["color"] = json!("purple");
    broken[31]["id_number"] = json!("430102199001010000");
    let body = assert_error(
        app.post_as(
            &official,
            "/api/v1/health-codes/import",
            &json!({"changes": broken}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(
        body["error"]["details"]["changes[7].color"].is_object(),
        "{body}"
    );
    assert!(
        body["error"]["details"]["changes[31].id_number"].is_object(),
        "{body}"
    );
    assert_error(
        app.get_as(&official, &format!("/api/v1/health-codes/{}", adult(100)))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn an_empty_import_is_refused() {
    let app = spawn_app().await;
    let official = app.official(LINWU).await;
    let body = assert_error(
        app.post_as(
            &official,
            "/api/v1/health-codes/import",
            &json!({"changes": []}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&body, "changes"), "changes_count");
}

/// A Jinan (370102) ID number.
fn jinan(n: u32) -> String {
    id_number(&format!("37010219850101{n:03}"))
}

#[tokio::test]
async fn an_official_of_another_region_cannot_read_set_or_import_a_residents_colour() {
    let app = spawn_app().await;
    let resident = app.resident("林居民").await;
    let linwu = app.official(LINWU).await;
    app.set_color(&linwu, &resident.id_number, "林居民", "yellow")
        .await;
    let jinan_official = app.official("370102").await;
    let path = format!("/api/v1/health-codes/{}", resident.id_number);
    assert_error(
        app.get_as(&jinan_official, &path).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        put(
            &app,
            &jinan_official,
            &resident.id_number,
            json!({"color": "red", "reason_code": "confirmed_case", "name": "随便"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let refused = assert_error(
        app.post_as(
            &jinan_official,
            "/api/v1/health-codes/import",
            &json!({"changes": [
                {"id_number": jinan(1), "name": "济南一", "color": "red", "reason_code": "confirmed_case"},
                {"id_number": resident.id_number, "color": "red", "reason_code": "confirmed_case"}
            ]}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "outside_region",
    )
    .await;
    assert_eq!(
        refused["error"]["details"]["fields"],
        json!(["changes[1].id_number"])
    );
    // Nothing changed, not even the row of the official's own region.
    assert_eq!(app.read(&linwu, &path).await["color"], "yellow");
    assert_error(
        app.get_as(
            &jinan_official,
            &format!("/api/v1/health-codes/{}", jinan(1)),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn someone_who_stayed_at_a_venue_of_the_region_is_within_it() {
    let app = spawn_app().await;
    let visitor = app
        .new_resident()
        .subject("visitor")
        .named("济南客")
        .id_number(jinan(2))
        .phone("13900002222")
        .build()
        .await
        .token;
    let linwu = app.official(LINWU).await;
    let path = format!("/api/v1/health-codes/{}", jinan(2));
    assert_error(
        app.get_as(&linwu, &path).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let venue = app.approved_venue().await;
    app.check_in(&visitor, &venue.code_url).await;
    assert_eq!(app.read(&linwu, &path).await["name"], "济南客");
}

#[tokio::test]
async fn a_new_person_is_named_only_with_an_id_number_of_the_region() {
    let app = spawn_app().await;
    let linwu = app.official(LINWU).await;
    assert_error(
        put(
            &app,
            &linwu,
            &jinan(3),
            json!({"color": "red", "reason_code": "confirmed_case", "name": "外地人"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    body_of(
        put(
            &app,
            &linwu,
            &adult(3),
            json!({"color": "red", "reason_code": "confirmed_case", "name": "本地人"}),
        )
        .await,
        200,
    )
    .await;
}

#[tokio::test]
async fn a_large_import_waits_for_a_second_official_of_the_region() {
    let app = spawn_app_with(&[("TRACE_CONFIRM_THRESHOLD", "3")]).await;
    let first = app.official(LINWU).await;
    let pending = body_of(
        app.post_as(
            &first,
            "/api/v1/health-codes/import",
            &json!({"changes": rows(5)}),
        )
        .await,
        202,
    )
    .await;
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["rows"], 5);
    let one = format!("/api/v1/health-codes/{}", adult(100));
    assert_eq!(
        app.read(&first, &one).await["color"],
        "green",
        "not applied yet"
    );
    let listed = app.read(&first, "/api/v1/health-codes/imports").await;
    assert_eq!(listed["items"][0]["id"], pending["id"]);

    let confirm = format!("/api/v1/health-codes/imports/{}/confirm", pending["id"]);
    assert_error(
        app.post_as(&first, &confirm, &json!({})).await,
        StatusCode::FORBIDDEN,
        "second_official_required",
    )
    .await;
    let elsewhere = app.official("3701").await;
    assert_error(
        app.post_as(&elsewhere, &confirm, &json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let second = app.official(LINWU).await;
    let applied = body_of(app.post_as(&second, &confirm, &json!({})).await, 200).await;
    assert_eq!(applied["status"], "applied");
    assert_eq!(app.read(&first, &one).await["color"], "yellow");
    assert_error(
        app.post_as(&second, &confirm, &json!({})).await,
        StatusCode::CONFLICT,
        "change_not_pending",
    )
    .await;
    assert_eq!(
        app.read(&first, "/api/v1/health-codes/imports").await["items"],
        json!([])
    );
}
