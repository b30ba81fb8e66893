//! Failures the framework would otherwise answer in its own way all use the error envelope.

use reqwest::StatusCode;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn an_unknown_route_is_404_in_the_envelope() {
    let app = spawn_app().await;
    for path in ["/api/v1/nothing-here", "/", "/api/v2/regions"] {
        assert_error(app.get(path).await, StatusCode::NOT_FOUND, "not_found").await;
    }
}

#[tokio::test]
async fn a_wrong_method_is_405_in_the_envelope() {
    let app = spawn_app().await;
    let response = app
        .client
        .delete(format!("{}/api/v1/regions", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "GET");
    let venue = app
        .client
        .patch(format!("{}/api/v1/venues", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(venue.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(venue.headers()["allow"], "POST, GET");
    assert_error(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    let response = app
        .post_json("/api/v1/venue-categories", &serde_json::json!({}))
        .await;
    assert_error(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
}

#[tokio::test]
async fn a_query_string_error_names_the_parameter() {
    let app = spawn_app().await;
    let body = assert_error(
        app.get("/api/v1/regions?parent=4310251").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    assert!(body["error"]["details"]["parent"]["message"].is_string());
}

#[tokio::test]
async fn body_errors_answer_in_the_envelope() {
    let app = spawn_app().await;
    let url = format!("{}/api/v1/staff-sessions", app.address);
    let send = |content_type: &'static str, body: String| {
        app.client
            .post(url.clone())
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    assert_error(
        send("application/json", r#"{"username": "a", "#.into())
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    assert_error(
        send("text/plain", r#"{"username": "a", "password": "b"}"#.into())
            .await
            .unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let body = assert_error(
        send("application/json", r#"{"username": "a"}"#.into())
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["error"]["details"]["password"]["code"], "required");
    assert_error(
        send(
            "application/json",
            format!(r#"{{"username": "{}"}}"#, "a".repeat(100_000)),
        )
        .await
        .unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
}
