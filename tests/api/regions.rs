//! The division picker: provinces down to townships, and villages where they are loaded.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, body_of, spawn_app, spawn_app_with, TestApp};

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

#[tokio::test]
async fn villages_are_loaded_after_start_up_and_chosen_from_the_list() {
    let app = spawn_app_with(&[("VILLAGE_PROVINCES", "43")]).await;
    // Loaded in the background: the township lists its villages once they are in.
    let mut villages = Vec::new();
    for _ in 0..600 {
        let body: Value = app
            .get("/api/v1/regions?parent=431025100")
            .await
            .json()
            .await
            .unwrap();
        villages = body["items"].as_array().unwrap().clone();
        if !villages.is_empty() {
            assert_eq!(body["parent"]["has_children"], true);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        !villages.is_empty(),
        "the villages of Hunan were not loaded"
    );
    assert!(villages.iter().all(|v| v["level"] == "village"
        && v["code"].as_str().unwrap().starts_with("431025100")
        && v["has_children"] == false));
    let county: Value = app
        .get("/api/v1/regions?parent=431025")
        .await
        .json()
        .await
        .unwrap();
    assert!(county["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["has_children"] == true));

    // An application names a village from the list; its region reads down to the village.
    let village = &villages[0];
    let manager = app.account().await;
    let mut application = TestApp::application("431025100", "临武县舜峰镇村口小卖部");
    application["region_code"] = village["code"].clone();
    let venue = app.apply(&manager, application.clone()).await;
    assert_eq!(venue["region"]["code"], village["code"]);
    let full = venue["region"]["name"].as_str().unwrap();
    assert!(
        full.starts_with("湖南省郴州市临武县舜峰镇")
            && full.ends_with(village["name"].as_str().unwrap()),
        "{full}"
    );
    // A village code that is not on the list is refused where the villages are loaded …
    application["region_code"] = json!("431025100999");
    let refused = assert_error(
        app.post_as(&manager, "/api/v1/venues", &application).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        refused["error"]["details"]["region_code"]["code"],
        "region_unknown"
    );
    // … and checked against its township where they are not (Shandong is not loaded here).
    application["region_code"] = json!("370102001999");
    body_of(
        app.post_as(&manager, "/api/v1/venues", &application).await,
        201,
    )
    .await;
    // A second load finds every province current and writes nothing.
    assert_eq!(
        venuecode::services::regions::load_villages(&app.state)
            .await
            .unwrap(),
        0
    );
}
