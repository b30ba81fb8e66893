//! Admission control: beyond the places and the queue, 503 `overloaded` with `Retry-After` before
//! any work; probes always answered; a request whose client went away while it waited is never
//! started. A slow WeChat answer (the fake delays it past `PLATFORM_TIMEOUT_MS`) holds a place.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::fake_wechat;
use crate::helpers::{assert_error, spawn_app_with, TestApp};

/// An app with `places` places and `queue` waiting room, whose WeChat answers slowly.
async fn app_with(places: &str, queue: &str, wait_ms: &str) -> (TestApp, wiremock::MockServer) {
    let wechat = fake_wechat::start().await;
    let mut settings = fake_wechat::settings(&wechat);
    settings.extend([
        ("MAX_IN_FLIGHT", places.to_owned()),
        ("MAX_QUEUED", queue.to_owned()),
        ("QUEUE_TIMEOUT_MS", wait_ms.to_owned()),
    ]);
    (spawn_app_with(&settings).await, wechat)
}

/// Starts a login that holds a place until the platform call times out (1.5 s), and waits until
/// it holds it.
async fn hold_a_place(app: &TestApp) -> tokio::task::JoinHandle<reqwest::Response> {
    let (client, address) = (app.client.clone(), app.address.clone());
    let held = tokio::spawn(async move {
        client
            .post(format!("{address}/api/v1/sessions/wechat"))
            .json(&json!({"code": fake_wechat::SLOW_CODE}))
            .send()
            .await
            .unwrap()
    });
    wait_for_metric(app, "venuecode_requests_in_flight 1").await;
    held
}

async fn metrics(app: &TestApp) -> String {
    app.get("/metrics").await.text().await.unwrap()
}

async fn wait_for_metric(app: &TestApp, line: &str) {
    for _ in 0..200 {
        if metrics(app).await.lines().any(|l| l == line) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("metrics never showed `{line}`:\n{}", metrics(app).await);
}

#[tokio::test]
async fn beyond_the_places_requests_are_shed_at_once_with_retry_after() {
    let (app, _wechat) = app_with("1", "0", "3").await;
    let held = hold_a_place(&app).await;

    let started = std::time::Instant::now();
    let shed = app.get("/api/v1/regions?parent=431025").await;
    let took = started.elapsed();
    assert_eq!(shed.headers()["retry-after"], "1");
    assert_eq!(shed.headers()["cache-control"], "no-store");
    let body = assert_error(shed, StatusCode::SERVICE_UNAVAILABLE, "overloaded").await;
    assert_eq!(body["error"]["message"], "服务繁忙，请稍后再试");
    // Not a timing test of the machine: only that it did not wait for the held place (1.5 s).
    assert!(took < Duration::from_millis(1000), "{took:?}");

    // Liveness, readiness and metrics are answered whatever the load.
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
    assert!(metrics(&app)
        .await
        .contains("venuecode_requests_shed_total{reason=\"queue_full\"} 1"));

    // The place comes free; the next request is served.
    assert_eq!(held.await.unwrap().status(), 503, "the platform timed out");
    let served = app.get("/api/v1/regions?parent=431025").await;
    assert_eq!(served.status(), 200);
    wait_for_metric(&app, "venuecode_requests_in_flight 0").await;
}

#[tokio::test]
async fn a_request_that_waits_too_long_for_a_place_is_shed() {
    let (app, _wechat) = app_with("1", "4", "100").await;
    let held = hold_a_place(&app).await;
    let shed = app.get("/api/v1/regions?parent=431025").await;
    assert_error(shed, StatusCode::SERVICE_UNAVAILABLE, "overloaded").await;
    let text = metrics(&app).await;
    assert!(
        text.contains("venuecode_requests_shed_total{reason=\"queue_timeout\"} 1"),
        "{text}"
    );
    assert!(text.contains("venuecode_requests_queued 0"), "{text}");
    held.await.unwrap();
}

#[tokio::test]
async fn a_request_whose_client_went_away_while_waiting_is_never_started() {
    let (app, _wechat) = app_with("1", "4", "10000").await;
    let held = hold_a_place(&app).await;

    // A venue application sent whole, then the client goes before a place comes free.
    let body = serde_json::to_vec(&json!({"name": "never"})).unwrap();
    let port = app.address.rsplit(':').next().unwrap();
    let mut socket = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    socket
        .write_all(
            format!(
                "POST /api/v1/venues HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    socket.write_all(&body).await.unwrap();
    wait_for_metric(&app, "venuecode_requests_queued 1").await;
    drop(socket);

    wait_for_metric(&app, "venuecode_requests_abandoned_total 1").await;
    wait_for_metric(&app, "venuecode_requests_queued 0").await;
    held.await.unwrap();
    // It was never answered, so it was never counted as a request either.
    let text = metrics(&app).await;
    assert!(
        !text.contains("route=\"/api/v1/venues\""),
        "the abandoned request reached its handler:\n{text}"
    );
}
