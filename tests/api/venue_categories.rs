//! The venue taxonomy this deployment uses.

use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn hunan_is_the_default_taxonomy_with_10_classes() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/venue-categories").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["id"], "hunan");
    let categories = body["categories"].as_array().unwrap();
    assert_eq!(categories.len(), 10);
    let names: Vec<&str> = categories
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for expected in [
        "就诊交通场所",
        "体育游乐场所",
        "娱乐休闲场所",
        "文化交流场所",
        "生活购物场所",
        "美容美发场所",
        "住宿餐饮场所",
        "教育救助场所",
        "工厂企业场所",
        "党政机关企事业单位",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let transport = &categories[0]["subtypes"];
    let bus = transport
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "bus")
        .expect("public transport vehicles are venues");
    assert_eq!(bus["transport"], "vehicle");
    assert!(bus["default_stay_minutes"].as_u64().unwrap() > 0);
    assert!(transport
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["transport"] == "station"));
}

#[tokio::test]
async fn a_setting_selects_shanxis_39_key_venue_types() {
    let app = spawn_app_with(&[("VENUE_TAXONOMY", "shanxi")]).await;
    let body: Value = app
        .get("/api/v1/venue-categories")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["id"], "shanxi");
    let subtypes: usize = body["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subtypes"].as_array().unwrap().len())
        .sum();
    assert_eq!(subtypes, 39);
}

#[tokio::test]
async fn a_taxonomy_file_can_be_loaded_from_a_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jinan.json");
    std::fs::write(
        &path,
        serde_json::json!({
            "id": "jinan", "name": "济南市场所码六类场所", "source": "test",
            "categories": [{"code": "public_service", "name": "机关单位、政务服务大厅、学校、医院",
                "subtypes": [{"code": "hospital", "name": "医院", "default_stay_minutes": 120}]}]
        })
        .to_string(),
    )
    .unwrap();
    let app = spawn_app_with(&[("VENUE_TAXONOMY", path.to_str().unwrap())]).await;
    let body: Value = app
        .get("/api/v1/venue-categories")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["id"], "jinan");
}
