//! Identity documents beside the resident ID: passports, the Hong Kong/Macao and Taiwan permits
//! and the foreign permanent-resident ID, wherever a number is taken; and people registered by
//! hand with a name and a mobile number when they have no document with them.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, body_of, field_code, id_number, spawn_app, TestApp, Venue, LINWU,
};

const PASSPORT: &str = "E12345678";

/// A foreign permanent-resident number (18 characters starting with 9) born on `birth`
/// (`YYYYMMDD`); its check character is computed as the resident ID's.
fn permanent_resident(birth: &str) -> String {
    id_number(&format!("943840{birth}001"))
}

async fn register(app: &TestApp, venue: &Venue, body: Value) -> reqwest::Response {
    app.post_as(
        &venue.manager,
        &format!("/api/v1/venues/{}/manual-check-ins", venue.id),
        &body,
    )
    .await
}

#[tokio::test]
async fn a_passport_holder_consents_and_sees_the_document_masked() {
    let app = spawn_app().await;
    let token = app.dev_login("wechat", "traveller").await;
    let me = body_of(
        app.put_as(
            &token,
            "/api/v1/me/consent",
            &json!({"identity": {"name": "John Smith", "id_type": "passport", "id_number": "e12345678"}}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        me["identity"],
        json!({"name": "J*********", "id_type": "passport", "id_number": "E1*****78", "verified": false})
    );
    // The same number as a resident ID is another identity, and no resident ID at all.
    let body = assert_error(
        app.put_as(
            &token,
            "/api/v1/me/consent",
            &json!({"identity": {"name": "John Smith", "id_number": PASSPORT}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(field_code(&body, "identity.id_number").is_string());
}

#[tokio::test]
async fn each_kind_is_checked_with_its_own_format() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    for (id_type, number) in [
        ("passport", "E12"),
        ("hk_macao_permit", "C12345678"),
        ("taiwan_permit", "1234567"),
        ("foreign_permanent_resident", "431025198003150018"),
    ] {
        let body = assert_error(
            register(
                &app,
                &venue,
                json!({"entrance_id": venue.entrance_id, "name": "陈大文", "id_type": id_type, "id_number": number}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(
            field_code(&body, "id_number"),
            "id_number_invalid",
            "{id_type}"
        );
    }
    let mut wrong_check = permanent_resident("19900315");
    let last = if wrong_check.ends_with('0') { "1" } else { "0" };
    wrong_check.replace_range(17.., last);
    let body = assert_error(
        register(
            &app,
            &venue,
            json!({"entrance_id": venue.entrance_id, "name": "Anna", "id_type": "foreign_permanent_resident", "id_number": wrong_check}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&body, "id_number"), "id_number_check_character");
    // A kind is one of the names exactly: another name, a padded one or a blank one is refused.
    for kind in ["visa", " passport", "passport\n", ""] {
        let body = assert_error(
            register(
                &app,
                &venue,
                json!({"entrance_id": venue.entrance_id, "name": "Anna", "id_type": kind, "id_number": PASSPORT}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(field_code(&body, "id_type"), "id_type_invalid", "{kind:?}");
    }
}

#[tokio::test]
async fn holders_of_each_document_are_registered_by_hand() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    for (id_type, number, masked) in [
        (
            "hk_macao_permit",
            "H12345678".to_owned(),
            "H1*****78".to_owned(),
        ),
        (
            "taiwan_permit",
            "12345678".to_owned(),
            "12****78".to_owned(),
        ),
        (
            "foreign_permanent_resident",
            permanent_resident("19900315"),
            format!("9438**********{}", &permanent_resident("19900315")[14..]),
        ),
    ] {
        let page = body_of(
            register(
                &app,
                &venue,
                json!({"entrance_id": venue.entrance_id, "name": "陈大文", "id_type": id_type, "id_number": number}),
            )
            .await,
            201,
        )
        .await;
        assert_eq!(page["people"][0]["id_type"], id_type);
        assert_eq!(page["people"][0]["id_number"], masked);
        assert_eq!(page["verdict"], "pass");
    }
}

#[tokio::test]
async fn without_a_document_a_name_and_mobile_number_register_a_person() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let body = json!({"entrance_id": venue.entrance_id, "name": "王大爷", "phone": "13912345678", "temperature": 36.4});
    let page = body_of(register(&app, &venue, body.clone()).await, 201).await;
    assert_eq!(page["people"][0]["name"], "王**");
    assert_eq!(page["people"][0]["id_type"], Value::Null);
    assert_eq!(page["people"][0]["id_number"], Value::Null);
    assert_eq!(page["people"][0]["temperature"], 36.4);
    assert_eq!(page["verdict"], "pass");
    // The same mobile number later is the same person: the repeat rule answers the first stay.
    let again = body_of(register(&app, &venue, body).await, 201).await;
    assert_eq!(again["check_in_id"], page["check_in_id"]);

    // The venue's visitor list shows the person's phone for officials to call.
    let official = app.official(LINWU).await;
    let now = Utc::now();
    let visitors = app
        .read(
            &official,
            &format!(
                "/api/v1/venues/{}/visitors?from={}&to={}",
                venue.id,
                urlencoding(&(now - Duration::hours(1)).to_rfc3339()),
                urlencoding(&(now + Duration::hours(1)).to_rfc3339())
            ),
        )
        .await;
    let visitor = &visitors["items"][0];
    assert_eq!(visitor["name"], "王大爷");
    assert_eq!(visitor["phone"], "13912345678");
    assert_eq!(visitor["id_type"], Value::Null);

    // Neither a document nor a phone: the number is asked for.
    let body = assert_error(
        register(
            &app,
            &venue,
            json!({"entrance_id": venue.entrance_id, "name": "王大爷"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&body, "id_number"), "id_number_required");
    // A document kind without its number is not a mobile registration.
    let body = assert_error(
        register(
            &app,
            &venue,
            json!({"entrance_id": venue.entrance_id, "name": "王大爷", "id_type": "passport", "phone": "13912345678"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&body, "id_number"), "id_number_required");
}

fn urlencoding(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn a_companion_whose_document_carries_no_birth_date_needs_one() {
    let app = spawn_app().await;
    let resident = app.resident("林爸爸").await;
    let add = |body: Value| {
        let app = &app;
        let token = resident.token.clone();
        async move { app.post_as(&token, "/api/v1/me/companions", &body).await }
    };
    let body = assert_error(
        add(json!({"name": "Lily", "id_type": "passport", "id_number": "E87654321", "relation": "女儿"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&body, "birth_date"), "birth_date_required");
    let body = assert_error(
        add(json!({"name": "Lily", "id_type": "passport", "id_number": "E87654321", "birth_date": "2015/06/01", "relation": "女儿"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&body, "birth_date"), "birth_date_invalid");
    let companion = body_of(
        add(json!({"name": "Lily", "id_type": "passport", "id_number": "E87654321", "birth_date": "2015-06-01", "relation": "女儿"})).await,
        201,
    )
    .await;
    assert_eq!(companion["id_type"], "passport");
    assert_eq!(companion["id_number"], "E8*****21");
    assert_eq!(companion["eligible"], true);
    assert!(companion["age"].as_u64().unwrap() >= 11);

    // An adult's passport is no companion's.
    assert_error(
        add(json!({"name": "Tom", "id_type": "passport", "id_number": "E11112222", "birth_date": "1990-01-01", "relation": "朋友"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "companion_not_eligible",
    )
    .await;
    // A permanent-resident card carries its birth date; a contradicting one is refused.
    let elder_card = permanent_resident("19500101");
    let body = assert_error(
        add(json!({"name": "Maria", "id_type": "foreign_permanent_resident", "id_number": elder_card, "birth_date": "1951-01-01", "relation": "母亲"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&body, "birth_date"), "birth_date_mismatch");
    body_of(
        add(json!({"name": "Maria", "id_type": "foreign_permanent_resident", "id_number": elder_card, "relation": "母亲"})).await,
        201,
    )
    .await;

    // Scanning with the passport child: both at the door.
    let venue = app.approved_venue().await;
    let page = app
        .check_in_at(
            &resident.token,
            &venue.code_url,
            None,
            &[companion["id"].as_i64().unwrap()],
        )
        .await;
    assert_eq!(page["people"][1]["id_type"], "passport");
    assert_eq!(page["people"][1]["role"], "companion");
}

#[tokio::test]
async fn officials_set_and_read_colours_of_passport_holders_of_their_region() {
    let app = spawn_app().await;
    let official = app.official(LINWU).await;
    let path = format!("/api/v1/health-codes/{PASSPORT}?id_type=passport");
    let view = body_of(
        app.put_as(
            &official,
            &path,
            &json!({"color": "yellow", "reason_code": "close_contact", "name": "John Smith"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(view["id_type"], "passport");
    assert_eq!(view["id_number"], PASSPORT);
    assert_eq!(app.read(&official, &path).await["color"], "yellow");
    // Without its kind the number is read as a resident ID, which it is not.
    assert_error(
        app.get_as(&official, &format!("/api/v1/health-codes/{PASSPORT}"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // Another region's official does not reach a traveller named here who never stayed there.
    let elsewhere = app.official("110105").await;
    assert_error(
        app.get_as(&elsewhere, &path).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Results and vaccinations are imported by document too.
    body_of(
        app.post_as(
            &official,
            "/api/v1/test-results/import",
            &json!({"results": [{"id_type": "passport", "id_number": PASSPORT, "vaccine_doses": 3}]}),
        )
        .await,
        200,
    )
    .await;
}

#[tokio::test]
async fn a_traveller_registered_by_hand_is_traced_by_document() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    body_of(
        register(
            &app,
            &venue,
            json!({"entrance_id": venue.entrance_id, "name": "John Smith", "id_type": "passport", "id_number": PASSPORT}),
        )
        .await,
        201,
    )
    .await;
    let resident = app.resident("林一").await;
    app.check_in(&resident.token, &venue.code_url).await;
    let official = app.official(LINWU).await;
    let now = Utc::now();
    let trace = body_of(
        app.post_as(
            &official,
            "/api/v1/traces",
            &json!({
                "id_type": "passport",
                "id_number": PASSPORT,
                "from": (now - Duration::hours(1)).to_rfc3339(),
                "to": (now + Duration::hours(1)).to_rfc3339()
            }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(trace["case"]["id_type"], "passport");
    assert_eq!(trace["case"]["id_number"], PASSPORT);
    let contact = &trace["contacts"][0];
    assert_eq!(contact["id_type"], "resident_id");
    assert_eq!(contact["id_number"], resident.id_number);
}

#[tokio::test]
async fn face_checks_take_resident_ids_only() {
    let app = spawn_app().await;
    let token = app.dev_login("wechat", "visitor").await;
    let body = assert_error(
        app.post_as(
            &token,
            "/api/v1/me/identity/verification",
            &json!({"name": "John Smith", "id_type": "passport", "id_number": PASSPORT}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&body, "id_type"), "id_type_unsupported");
    // A resident ID still starts one.
    let resident = app.resident("林二").await;
    let me = app.verify_identity(&resident.token, json!({})).await;
    assert_eq!(me["identity"]["verified"], true);
}

#[tokio::test]
async fn a_manager_applies_with_a_permit_and_finds_the_applications_by_it() {
    let app = spawn_app().await;
    let manager = app.account().await;
    let mut application = TestApp::application(crate::helpers::LINWU_TOWNSHIP, "临武县港式茶餐厅");
    application["manager"]["id_type"] = json!("hk_macao_permit");
    application["manager"]["id_number"] = json!("H87654321");
    let venue = app.apply(&manager, application.clone()).await;
    assert_eq!(venue["manager"]["id_type"], "hk_macao_permit");
    assert_eq!(venue["manager"]["id_number"], "H8*****21");
    let found = app
        .read(
            &manager,
            "/api/v1/venues?id_type=hk_macao_permit&id_number=H87654321",
        )
        .await;
    assert_eq!(found["items"][0]["id"], venue["id"]);
    // The same number read as another kind is another document.
    let none = app
        .read(
            &manager,
            "/api/v1/venues?id_type=passport&id_number=H87654321",
        )
        .await;
    assert_eq!(none["items"], json!([]));
    application["manager"]["id_type"] = json!("taiwan_permit");
    let body = assert_error(
        app.post_as(&manager, "/api/v1/venues", &application).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&body, "manager.id_number"), "id_number_invalid");
}
