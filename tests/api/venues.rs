//! Venue applications: apply, look up one's own, read, edit until approved.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, body_of, field_code, id_number, spawn_app, TestApp, LINWU_TOWNSHIP,
};

const NAME: &str = "临武县舜峰镇好又多超市";

#[tokio::test]
async fn an_application_is_stored_pending_with_the_manager_masked() {
    let app = spawn_app().await;
    let (_, venue) = app.applied_venue(LINWU_TOWNSHIP, NAME).await;
    assert_eq!(venue["status"], "pending");
    assert_eq!(venue["region"]["name"], "湖南省郴州市临武县舜峰镇");
    assert_eq!(venue["category"]["name"], "生活购物场所");
    assert_eq!(venue["subtype"]["name"], "超市");
    assert_eq!(venue["manager"]["name"], "王**");
    assert_eq!(venue["manager"]["phone"], "139****1234");
    assert_eq!(venue["entrances"].as_array().unwrap().len(), 2);
    assert!(
        venue["entrances"][0]["code_url"].is_null(),
        "no code before approval"
    );
}

#[tokio::test]
async fn the_location_header_names_the_new_venue() {
    let app = spawn_app().await;
    let manager = app.account().await;
    let response = app
        .post_as(
            &manager,
            "/api/v1/venues",
            &TestApp::application(LINWU_TOWNSHIP, NAME),
        )
        .await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let venue = body_of(response, 201).await;
    assert_eq!(location, format!("/api/v1/venues/{}", venue["id"]));
}

#[tokio::test]
async fn a_manager_finds_their_applications_by_phone_or_id_number() {
    let app = spawn_app().await;
    let (manager, venue) = app.applied_venue(LINWU_TOWNSHIP, NAME).await;
    for query in [
        "phone=13907351234".to_owned(),
        format!("id_number={}", id_number("43102519800315001")),
    ] {
        let list = app.read(&manager, &format!("/api/v1/venues?{query}")).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{query}");
        assert_eq!(list["items"][0]["id"], venue["id"]);
    }
    let none = app.read(&manager, "/api/v1/venues?phone=13800000000").await;
    assert_eq!(none["items"], json!([]));
}

#[tokio::test]
async fn another_accounts_applications_stay_hidden() {
    let app = spawn_app().await;
    let (_, venue) = app.applied_venue(LINWU_TOWNSHIP, NAME).await;
    let stranger = app.account().await;
    let list = app
        .read(&stranger, "/api/v1/venues?phone=13907351234")
        .await;
    assert_eq!(list["items"], json!([]));
    assert_error(
        app.get_as(&stranger, &format!("/api/v1/venues/{}", venue["id"]))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_lookup_takes_one_filter_at_a_time() {
    let app = spawn_app().await;
    let manager = app.account().await;
    assert_error(
        app.get_as(&manager, "/api/v1/venues?phone=13907351234&id_number=x")
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
}

#[tokio::test]
async fn a_pending_application_can_be_edited() {
    let app = spawn_app().await;
    let (manager, venue) = app.applied_venue(LINWU_TOWNSHIP, NAME).await;
    let edited = body_of(
        app.patch_as(
            &manager,
            &format!("/api/v1/venues/{}", venue["id"]),
            &json!({"name": "临武县好又多超市舜峰店", "address": "解放路90号"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(edited["name"], "临武县好又多超市舜峰店");
    assert_eq!(edited["address"], "解放路90号");
}

#[tokio::test]
async fn an_edit_must_change_something() {
    let app = spawn_app().await;
    let (manager, venue) = app.applied_venue(LINWU_TOWNSHIP, NAME).await;
    let body = assert_error(
        app.patch_as(
            &manager,
            &format!("/api/v1/venues/{}", venue["id"]),
            &json!({}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&body, "body"), "required");
}

#[tokio::test]
async fn an_edit_of_the_kind_is_checked_as_it_will_be() {
    let app = spawn_app().await;
    let (manager, venue) = app.applied_venue(LINWU_TOWNSHIP, NAME).await;
    let body = assert_error(
        app.patch_as(
            &manager,
            &format!("/api/v1/venues/{}", venue["id"]),
            &json!({"subtype": "bus"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&body, "subtype"), "subtype_unknown");
}

#[tokio::test]
async fn basic_information_is_locked_once_approved() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    assert_error(
        app.patch_as(
            &venue.manager,
            &format!("/api/v1/venues/{}", venue.id),
            &json!({"name": "别的名字"}),
        )
        .await,
        StatusCode::CONFLICT,
        "venue_locked",
    )
    .await;
}

type Breakage = Box<dyn Fn(&mut Value)>;

#[tokio::test]
async fn each_invalid_field_is_named_and_nothing_is_stored() {
    let app = spawn_app().await;
    let manager = app.account().await;
    let cases: Vec<(&str, Breakage)> = vec![
        (
            "manager.id_number",
            Box::new(|v| v["manager"]["id_number"] = json!("431025198003150010")),
        ),
        (
            "manager.phone",
            Box::new(|v| v["manager"]["phone"] = json!("1390735123")),
        ),
        ("subtype", Box::new(|v| v["subtype"] = json!("spaceport"))),
        ("category", Box::new(|v| v["category"] = json!("nightlife"))),
        (
            "region_code",
            Box::new(|v| v["region_code"] = json!("431025999")),
        ),
        (
            "region_code",
            Box::new(|v| v["region_code"] = json!("431025")),
        ),
        (
            "location",
            Box::new(|v| v["location"] = json!({"lat": 51.5, "lng": -0.12})),
        ),
        (
            "entrances[1].name",
            Box::new(|v| v["entrances"][1]["name"] = json!("东门")),
        ),
        ("name", Box::new(|v| v["name"] = json!(""))),
        ("name", Box::new(|v| v["name"] = json!("超".repeat(300)))),
        ("entrances", Box::new(|v| v["entrances"] = json!([]))),
        (
            "plate_number",
            Box::new(|v| v["plate_number"] = json!("湘L12345")),
        ),
        (
            "manager.name",
            Box::new(|v| v["manager"]["name"] = json!("   ")),
        ),
    ];
    for (field, break_it) in &cases {
        let mut body = TestApp::application(LINWU_TOWNSHIP, NAME);
        break_it(&mut body);
        let error = assert_error(
            app.post_as(&manager, "/api/v1/venues", &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(
            error["error"]["details"].get(*field).is_some(),
            "{field}: {error}"
        );
    }
    let list = app.read(&manager, "/api/v1/venues").await;
    assert_eq!(list["items"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn several_bad_fields_are_named_at_once() {
    let app = spawn_app().await;
    let manager = app.account().await;
    let mut body = TestApp::application(LINWU_TOWNSHIP, "");
    body["manager"]["phone"] = json!("123");
    body["location"] = json!({"lat": 0, "lng": 0});
    let error = assert_error(
        app.post_as(&manager, "/api/v1/venues", &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    for field in ["name", "manager.phone", "location"] {
        assert!(
            error["error"]["details"].get(field).is_some(),
            "{field}: {error}"
        );
    }
}

fn bus_application() -> Value {
    let mut body = TestApp::application(LINWU_TOWNSHIP, "临武县公共交通有限公司");
    body["category"] = json!("medical_transport");
    body["subtype"] = json!("bus");
    body["entrances"] = json!([{"name": "前门"}]);
    body
}

#[tokio::test]
async fn public_transport_names_its_line_or_plate() {
    let app = spawn_app().await;
    let manager = app.account().await;
    let error = assert_error(
        app.post_as(&manager, "/api/v1/venues", &bus_application())
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&error, "transport_line"), "transport_required");
}

#[tokio::test]
async fn a_plate_is_stored_without_separators() {
    let app = spawn_app().await;
    let manager = app.account().await;
    let mut body = bus_application();
    body["transport_line"] = json!("K1路");
    body["plate_number"] = json!("湘L·12345");
    let venue = app.apply(&manager, body).await;
    assert_eq!(venue["plate_number"], "湘L12345");
    assert_eq!(venue["subtype"]["transport"], "vehicle");
}

#[tokio::test]
async fn a_non_numeric_id_is_not_found() {
    let app = spawn_app().await;
    let manager = app.account().await;
    assert_error(
        app.get_as(&manager, "/api/v1/venues/abc").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}
