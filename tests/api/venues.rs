//! The life of a venue: application, records, edits, county review, entrances, codes, staff.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, decode_qr, id_number, spawn_app, TestApp};

pub fn application(region_code: &str, name: &str) -> Value {
    json!({
        "manager": {"name": "王建国", "phone": "13907351234", "id_number": id_number("43102519800315001")},
        "name": name,
        "category": "daily_shopping",
        "subtype": "supermarket",
        "region_code": region_code,
        "address": "解放路88号",
        "location": {"lat": 25.2797, "lng": 112.5634},
        "entrances": [
            {"name": "东门", "description": "解放路一侧"},
            {"name": "西门"}
        ]
    })
}

/// A manager who applied, and the application.
pub async fn applied(app: &TestApp, subject: &str, region: &str, name: &str) -> (String, Value) {
    let manager = app.dev_login("wechat", subject).await;
    let response = app
        .post_as(&manager, "/api/v1/venues", &application(region, name))
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    (manager, response.json().await.unwrap())
}

/// An approved venue: applied in Linwu and approved by Linwu's reviewer.
pub async fn approved_venue(app: &TestApp, subject: &str) -> (String, Value) {
    let (manager, venue) = applied(app, subject, "431025100", "临武县舜峰镇好又多超市").await;
    let reviewer = app
        .staff_login(&format!("review-{subject}"), "reviewer", "431025")
        .await;
    let response = app
        .post_as(
            &reviewer,
            &format!("/api/v1/reviews/{}", venue["id"]),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    (manager, response.json().await.unwrap())
}

async fn bytes(response: reqwest::Response) -> Vec<u8> {
    response.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn the_whole_life_of_a_venue() {
    let app = spawn_app().await;
    // Apply.
    let (manager, venue) = applied(&app, "manager-1", "431025100", "临武县舜峰镇好又多超市").await;
    let id = venue["id"].as_i64().unwrap();
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

    // Records by phone and by ID number; never another account's.
    for query in [
        "phone=13907351234".to_owned(),
        format!("id_number={}", id_number("43102519800315001")),
    ] {
        let list: Value = app
            .get_as(&manager, &format!("/api/v1/venues?{query}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{query}");
        assert_eq!(list["items"][0]["id"], id);
    }
    let list: Value = app
        .get_as(&manager, "/api/v1/venues?phone=13800000000")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]));
    let stranger = app.dev_login("wechat", "stranger").await;
    let list: Value = app
        .get_as(&stranger, "/api/v1/venues?phone=13907351234")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["items"],
        json!([]),
        "another account's applications stay hidden"
    );
    assert_error(
        app.get_as(&stranger, &format!("/api/v1/venues/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Edit while pending.
    let response = app
        .patch_as(
            &manager,
            &format!("/api/v1/venues/{id}"),
            &json!({"name": "临武县好又多超市舜峰店", "address": "解放路90号"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let edited: Value = response.json().await.unwrap();
    assert_eq!(edited["name"], "临武县好又多超市舜峰店");

    // The county's reviewer approves; the decision is audited.
    let reviewer = app.staff_login("linwu-review", "reviewer", "431025").await;
    let pending: Value = app
        .get_as(&reviewer, "/api/v1/reviews?status=pending")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending["items"][0]["id"], id);
    let response = app
        .post_as(
            &reviewer,
            &format!("/api/v1/reviews/{id}"),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let approved: Value = response.json().await.unwrap();
    assert_eq!(approved["status"], "approved");
    assert!(approved["reviewed_at"].is_string());
    assert_error(
        app.post_as(
            &reviewer,
            &format!("/api/v1/reviews/{id}"),
            &json!({"decision": "approve"}),
        )
        .await,
        StatusCode::CONFLICT,
        "venue_not_pending",
    )
    .await;
    let audit = venuecode::db::audit::for_subject(
        &mut app.database().get().unwrap(),
        &app.cipher(),
        &format!("venue:{id}"),
    )
    .unwrap();
    assert_eq!(audit.len(), 1, "one decision, one audit entry");
    assert_eq!(audit[0].action, "venue.approve");
    assert_eq!(audit[0].role, "reviewer");
    assert!(audit[0].actor.starts_with("staff:"));

    // Basic information is locked now.
    assert_error(
        app.patch_as(
            &manager,
            &format!("/api/v1/venues/{id}"),
            &json!({"name": "别的名字"}),
        )
        .await,
        StatusCode::CONFLICT,
        "venue_locked",
    )
    .await;

    // Entrances can still be added and renamed.
    let response = app
        .post_as(
            &manager,
            &format!("/api/v1/venues/{id}/entrances"),
            &json!({"name": "北门", "description": "停车场"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let north: Value = response.json().await.unwrap();
    let north_id = north["id"].as_i64().unwrap();
    assert!(north["code_url"].is_string());
    assert_error(
        app.post_as(
            &manager,
            &format!("/api/v1/venues/{id}/entrances"),
            &json!({"name": "东门"}),
        )
        .await,
        StatusCode::CONFLICT,
        "entrance_name_taken",
    )
    .await;
    assert_error(
        app.patch_as(
            &manager,
            &format!("/api/v1/venues/{id}/entrances/{north_id}"),
            &json!({"name": "西门"}),
        )
        .await,
        StatusCode::CONFLICT,
        "entrance_name_taken",
    )
    .await;
    let response = app
        .patch_as(
            &manager,
            &format!("/api/v1/venues/{id}/entrances/{north_id}"),
            &json!({"name": "北门（停车场）"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let renamed: Value = response.json().await.unwrap();
    assert_eq!(renamed["name"], "北门（停车场）");

    // Download the PNG and the SVG poster.
    let png_path = format!("/api/v1/venues/{id}/entrances/{north_id}/code.png");
    let response = app.get_as(&manager, &png_path).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    let url = decode_qr(&bytes(response).await);
    assert_eq!(
        url,
        renamed["code_url"].as_str().unwrap(),
        "the PNG holds exactly the entrance's URL"
    );
    assert!(url.starts_with("HTTP://127.0.0.1:"), "{url}");

    let response = app
        .get_as(
            &manager,
            &format!("/api/v1/venues/{id}/entrances/{north_id}/code.svg"),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("image/svg+xml"));
    let svg = response.text().await.unwrap();
    for text in [
        "临武县好又多超市舜峰店",
        "北门（停车场）",
        "生活购物场所",
        "请使用微信或支付宝",
        "210mm",
    ] {
        assert!(svg.contains(text), "{text} missing from the poster");
    }

    // The printed link opens a page naming the venue.
    let token = url.rsplit('/').next().unwrap().to_owned();
    let page = app.get(&format!("/v/{token}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("临武县好又多超市舜峰店") && html.contains("微信"));

    // A token with one character changed is refused.
    let mut changed: Vec<char> = token.chars().collect();
    let last = changed.len() - 2;
    changed[last] = if changed[last] == 'A' { 'B' } else { 'A' };
    let changed: String = changed.into_iter().collect();
    assert_eq!(app.get(&format!("/v/{changed}")).await.status(), 400);

    // Rotate: a new code, the old one revoked.
    let response = app
        .post_as(
            &manager,
            &format!("/api/v1/venues/{id}/entrances/{north_id}/code/rotate"),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let rotated: Value = response.json().await.unwrap();
    assert_eq!(rotated["code_version"], 2);
    assert_ne!(rotated["code_url"], renamed["code_url"]);
    assert_eq!(
        app.get(&format!("/v/{token}")).await.status(),
        410,
        "the old version is revoked"
    );
    let new_url = decode_qr(&bytes(app.get_as(&manager, &png_path).await).await);
    assert_eq!(new_url, rotated["code_url"].as_str().unwrap());

    // Closing an entrance voids its code.
    let response = app
        .delete_as(
            &manager,
            &format!("/api/v1/venues/{id}/entrances/{north_id}"),
        )
        .await;
    assert_eq!(response.status(), 204);
    let new_token = new_url.rsplit('/').next().unwrap();
    assert_eq!(app.get(&format!("/v/{new_token}")).await.status(), 410);
    assert_error(
        app.get_as(&manager, &png_path).await,
        StatusCode::CONFLICT,
        "entrance_closed",
    )
    .await;
}

#[tokio::test]
async fn codes_are_not_issued_before_approval() {
    let app = spawn_app().await;
    let (manager, venue) = applied(&app, "manager-2", "431025100", "临武县金江镇便民药店").await;
    let (id, entrance) = (&venue["id"], &venue["entrances"][0]["id"]);
    for path in [
        format!("/api/v1/venues/{id}/entrances/{entrance}/code.png"),
        format!("/api/v1/venues/{id}/entrances/{entrance}/code.svg"),
    ] {
        assert_error(
            app.get_as(&manager, &path).await,
            StatusCode::CONFLICT,
            "venue_not_active",
        )
        .await;
    }
    assert_error(
        app.post_as(
            &manager,
            &format!("/api/v1/venues/{id}/entrances/{entrance}/code/rotate"),
            &json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "venue_not_active",
    )
    .await;
}

#[tokio::test]
async fn review_is_local_to_the_reviewers_county() {
    let app = spawn_app().await;
    let (_, linwu) = applied(&app, "linwu-manager", "431025100", "临武县舜峰镇好又多超市").await;
    let (_, lixia) = applied(&app, "jinan-manager", "370102001", "济南市历下区泉城超市").await;
    let reviewer = app.staff_login("linwu-review", "reviewer", "431025").await;
    let pending: Value = app
        .get_as(&reviewer, "/api/v1/reviews?status=pending")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&Value> = pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["id"])
        .collect();
    assert_eq!(ids, vec![&linwu["id"]], "Linwu's reviewer sees only Linwu");
    assert_error(
        app.post_as(
            &reviewer,
            &format!("/api/v1/reviews/{}", lixia["id"]),
            &json!({"decision": "approve"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Jinan's reviewer sees Lixia only.
    let jinan = app.staff_login("jinan-review", "reviewer", "3701").await;
    let pending: Value = app
        .get_as(&jinan, "/api/v1/reviews")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&Value> = pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["id"])
        .collect();
    assert_eq!(ids, vec![&lixia["id"]]);
    // Only reviewers review.
    let official = app
        .staff_login("linwu-health", "health_official", "431025")
        .await;
    assert_error(
        app.get_as(&official, "/api/v1/reviews").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let resident = app.dev_login("wechat", "someone").await;
    assert_error(
        app.get_as(&resident, "/api/v1/reviews").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn a_rejection_carries_a_reason_and_an_edit_sends_it_back_to_review() {
    let app = spawn_app().await;
    let (manager, venue) = applied(&app, "manager-3", "431025101", "临武县金江镇小吃店").await;
    let id = venue["id"].as_i64().unwrap();
    let reviewer = app.staff_login("linwu-review", "reviewer", "431025").await;
    let body = assert_error(
        app.post_as(
            &reviewer,
            &format!("/api/v1/reviews/{id}"),
            &json!({"decision": "reject"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["error"]["details"]["reason"]["code"], "required");
    let response = app
        .post_as(
            &reviewer,
            &format!("/api/v1/reviews/{id}"),
            &json!({"decision": "reject", "reason": "场所名称应为营业执照上的全称"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let seen: Value = app
        .get_as(&manager, &format!("/api/v1/venues/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["status"], "rejected");
    assert_eq!(seen["rejection_reason"], "场所名称应为营业执照上的全称");
    let response = app
        .patch_as(
            &manager,
            &format!("/api/v1/venues/{id}"),
            &json!({"name": "临武县金江镇老李小吃店"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let edited: Value = response.json().await.unwrap();
    assert_eq!(edited["status"], "pending");
    assert!(edited["rejection_reason"].is_null());
}

#[tokio::test]
async fn each_invalid_field_is_named_and_nothing_is_stored() {
    let app = spawn_app().await;
    let manager = app.dev_login("wechat", "careless").await;
    type Breakage = Box<dyn Fn(&mut Value)>;
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
        let mut body = application("431025100", "临武县舜峰镇好又多超市");
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
    // Several at once are all named.
    let mut body = application("431025100", "");
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
    let list: Value = app
        .get_as(&manager, "/api/v1/venues")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn public_transport_takes_a_line_or_a_plate() {
    let app = spawn_app().await;
    let manager = app.dev_login("wechat", "bus-company").await;
    let mut body = application("431025100", "临武县公共交通有限公司");
    body["category"] = json!("medical_transport");
    body["subtype"] = json!("bus");
    body["entrances"] = json!([{"name": "前门"}]);
    let error = assert_error(
        app.post_as(&manager, "/api/v1/venues", &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        error["error"]["details"]["transport_line"]["code"],
        "transport_required"
    );
    body["transport_line"] = json!("K1路");
    body["plate_number"] = json!("湘L·12345");
    let response = app.post_as(&manager, "/api/v1/venues", &body).await;
    assert_eq!(response.status(), 201);
    let venue: Value = response.json().await.unwrap();
    assert_eq!(venue["plate_number"], "湘L12345");
    assert_eq!(venue["subtype"]["transport"], "vehicle");
}

#[tokio::test]
async fn staff_are_invited_with_a_one_time_code_and_can_be_removed() {
    let app = spawn_app().await;
    let (manager, venue) = approved_venue(&app, "manager-4").await;
    let id = venue["id"].as_i64().unwrap();
    let response = app
        .post_as(
            &manager,
            &format!("/api/v1/venues/{id}/staff-invitations"),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let invitation: Value = response.json().await.unwrap();
    let code = invitation["code"].as_str().unwrap();
    assert_eq!(code.len(), 8);

    // Staff must be identified themselves.
    let anonymous = app.dev_login("wechat", "anonymous-helper").await;
    assert_error(
        app.post_as(
            &anonymous,
            "/api/v1/venue-staff-invitations/redeem",
            &json!({"code": code}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "consent_required",
    )
    .await;
    let helper = app
        .consented_resident(
            "helper",
            "赵敏",
            &id_number("43102519900101002"),
            "13712345678",
        )
        .await;
    let response = app
        .post_as(
            &helper,
            "/api/v1/venue-staff-invitations/redeem",
            &json!({"code": code.to_lowercase()}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let redeemed: Value = response.json().await.unwrap();
    assert_eq!(redeemed["venue_id"], id);
    // Once only.
    let other = app
        .consented_resident(
            "other",
            "钱多",
            &id_number("43102519900101003"),
            "13712345679",
        )
        .await;
    assert_error(
        app.post_as(
            &other,
            "/api/v1/venue-staff-invitations/redeem",
            &json!({"code": code}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "invitation_invalid",
    )
    .await;

    // Staff see the venue and can download codes, but cannot manage it.
    assert_eq!(
        app.get_as(&helper, &format!("/api/v1/venues/{id}"))
            .await
            .status(),
        200
    );
    let entrance = &venue["entrances"][0]["id"];
    assert_eq!(
        app.get_as(
            &helper,
            &format!("/api/v1/venues/{id}/entrances/{entrance}/code.png")
        )
        .await
        .status(),
        200
    );
    assert_error(
        app.post_as(
            &helper,
            &format!("/api/v1/venues/{id}/staff-invitations"),
            &json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let mine: Value = app
        .get_as(&helper, "/api/v1/me/venues")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        mine["items"],
        json!([{"id": id, "name": venue["name"], "role": "staff"}])
    );

    // The manager sees them masked and removes them.
    let staff: Value = app
        .get_as(&manager, &format!("/api/v1/venues/{id}/staff"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(staff["items"][0]["name"], "赵*");
    assert_eq!(staff["items"][0]["phone"], "137****5678");
    let account_id = &staff["items"][0]["account_id"];
    assert_eq!(
        app.delete_as(&manager, &format!("/api/v1/venues/{id}/staff/{account_id}"))
            .await
            .status(),
        204
    );
    assert_error(
        app.get_as(&helper, &format!("/api/v1/venues/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_non_numeric_id_is_not_found() {
    let app = spawn_app().await;
    let manager = app.dev_login("wechat", "m").await;
    assert_error(
        app.get_as(&manager, "/api/v1/venues/abc").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}
