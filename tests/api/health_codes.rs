//! Health-code colours, set by health officials one by one or in bulk, with their history.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{adult, assert_error, body_of, field_code, spawn_app, TestApp, LINWU};

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
    let person = venuecode::db::persons::find_by_id_number(
        &mut conn,
        &app.cipher(),
        &venuecode::domain::IdNumber::parse(&adult(1)).unwrap(),
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
