use reqwest::StatusCode;

use crate::helpers::{assert_error, spawn_app, spawn_app_with};

#[tokio::test]
async fn healthz_answers_ok_with_a_request_id() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 32);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn a_plain_caller_request_id_is_kept_and_a_hostile_one_replaced() {
    let app = spawn_app().await;
    let kept = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-request-id", "mini-program-42-abc")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "mini-program-42-abc");
    let replaced = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-request-id", "evil\"}{injected")
        .send()
        .await
        .unwrap();
    assert_ne!(replaced.headers()["x-request-id"], "evil\"}{injected");
}

#[tokio::test]
async fn readyz_reports_the_backend() {
    let app = spawn_app().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let expected = if app.database.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(body["database"], expected);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    app.get("/api/v1/regions?parent=431025").await;
    app.get("/api/v1/regions?parent=431025").await;
    app.get("/no/such/path/12345").await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = response.text().await.unwrap();
    assert!(
        text.contains(
            r#"venuecode_http_requests_total{method="GET",route="/api/v1/regions",status="200"} 2"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"venuecode_http_requests_total{method="GET",route="unmatched",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(!text.contains("12345"), "raw paths never become labels");
    assert!(text.contains("venuecode_http_request_duration_seconds_bucket"));
    assert!(text.contains(r#"venuecode_db_pool_connections{state="idle"}"#));
    assert!(text.contains("venuecode_db_pool_max_connections 4"));
}

#[tokio::test]
async fn the_openapi_file_is_served() {
    let app = spawn_app().await;
    let response = app.get("/api-spec/openapi.yaml").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/yaml"));
    let text = response.text().await.unwrap();
    assert!(text.starts_with("openapi: 3.1"));
}

#[tokio::test]
async fn metrics_need_the_scrapers_token_when_one_is_set() {
    let token = "scrape-token-0123456789";
    let app = spawn_app_with(&[("METRICS_TOKEN", token)]).await;
    assert_error(
        app.get("/metrics").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        app.get_as("wrong-token-0123456789", "/metrics").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let response = app.get_as(token, "/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("venuecode_http_requests_total"));
}
