//! The division picker: provinces down to townships.

use serde_json::Value;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn the_top_level_lists_the_31_provinces() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/regions").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body["parent"].is_null());
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 31);
    assert_eq!(items[0]["code"], "11");
    assert_eq!(items[0]["name"], "北京市");
    assert_eq!(items[0]["level"], "province");
    assert_eq!(items[0]["has_children"], true);
}

#[tokio::test]
async fn linwu_county_lists_its_townships() {
    let app = spawn_app().await;
    let body: Value = app
        .get("/api/v1/regions?parent=431025")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["parent"]["name"], "临武县");
    assert_eq!(body["parent"]["level"], "county");
    let items = body["items"].as_array().unwrap();
    let names: Vec<&str> = items.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"舜峰镇"), "{names:?}");
    assert!(names.contains(&"西山瑶族乡"), "{names:?}");
    assert!(items.iter().all(|i| i["level"] == "township"
        && i["code"].as_str().unwrap().starts_with("431025")
        && i["has_children"] == false));
}

#[tokio::test]
async fn each_level_leads_to_the_next() {
    let app = spawn_app().await;
    for (parent, child) in [
        ("43", "4310"),
        ("4310", "431025"),
        ("37", "3701"),
        ("3701", "370102"),
    ] {
        let body: Value = app
            .get(&format!("/api/v1/regions?parent={parent}"))
            .await
            .json()
            .await
            .unwrap();
        let codes: Vec<&str> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&child), "{parent} → {codes:?}");
    }
    // Townships are the last shipped level.
    let body: Value = app
        .get("/api/v1/regions?parent=431025100")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["parent"]["name"], "舜峰镇");
    assert_eq!(body["items"], serde_json::json!([]));
}

#[tokio::test]
async fn bad_and_unknown_parents_are_told_apart() {
    let app = spawn_app().await;
    let body = assert_error(
        app.get("/api/v1/regions?parent=43a").await,
        reqwest::StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    assert_eq!(
        body["error"]["details"]["parent"]["code"],
        "region_code_invalid"
    );
    assert_error(
        app.get("/api/v1/regions?parent=991025").await,
        reqwest::StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}
