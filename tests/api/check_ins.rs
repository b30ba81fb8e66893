//! The scan and everything around it: companions, verdicts, alerts, passes, hand registration,
//! paper codes, health codes.

use base64::Engine;
use ed25519_dalek::Verifier;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, id_number, spawn_app, spawn_app_with, TestApp};
use crate::venues::{applied, approved_venue};

pub const ADULT: &str = "43102519850612003"; // + check character
pub const CHILD: &str = "43102520180301004";
pub const ELDER: &str = "43102519480101005";
pub const RED_ADULT: &str = "43102519900101006";

/// A consented resident of the given 17-digit ID body.
pub async fn resident(app: &TestApp, subject: &str, name: &str, body17: &str) -> String {
    app.consented_resident(subject, name, &id_number(body17), "13812345678")
        .await
}

/// An approved venue and the code URL of its first entrance.
pub async fn venue_with_code(app: &TestApp, subject: &str) -> (String, Value, String) {
    let (manager, venue) = approved_venue(app, subject).await;
    let url = venue["entrances"][0]["code_url"]
        .as_str()
        .unwrap()
        .to_owned();
    (manager, venue, url)
}

pub async fn set_color(app: &TestApp, official: &str, body17: &str, name: &str, color: &str) {
    let response = app
        .put_as(
            official,
            &format!("/api/v1/health-codes/{}", id_number(body17)),
            &json!({"color": color, "reason_code": "close_contact", "name": name, "note": "流调排查"}),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

async fn add_companion(
    app: &TestApp,
    token: &str,
    name: &str,
    body17: &str,
    relation: &str,
) -> Value {
    let response = app
        .post_as(
            token,
            "/api/v1/me/companions",
            &json!({"name": name, "id_number": id_number(body17), "relation": relation}),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn scan(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.post_as(token, "/api/v1/check-ins", &body).await
}

#[tokio::test]
async fn a_family_scan_with_a_yellow_companion_is_denied_as_a_group() {
    let app = spawn_app().await;
    let (_, _, url) = venue_with_code(&app, "shop").await;
    let official = app
        .staff_login("linwu-health", "health_official", "431025")
        .await;
    let parent = resident(&app, "parent", "刘德明", ADULT).await;
    let child = add_companion(&app, &parent, "刘小宝", CHILD, "儿子").await;
    let grandma = add_companion(&app, &parent, "欧阳秀兰", ELDER, "母亲").await;
    assert_eq!(grandma["name"], "欧阳**");
    assert_eq!(grandma["eligible"], true);
    set_color(&app, &official, ELDER, "欧阳秀兰", "yellow").await;

    let response = scan(
        &app,
        &parent,
        json!({
            "code": url, "companion_ids": [child["id"], grandma["id"]],
            "location": {"lat": 25.2800, "lng": 112.5630}
        }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["verdict"], "deny", "the worst verdict is on top");
    assert_eq!(page["venue"]["name"], "临武县舜峰镇好又多超市");
    assert_eq!(page["venue"]["entrance"], "东门");
    assert!(page["venue"]["address"]
        .as_str()
        .unwrap()
        .starts_with("湖南省郴州市临武县舜峰镇"));
    assert_eq!(page["venue"]["category"], "生活购物场所 · 超市");
    let people = page["people"].as_array().unwrap();
    assert_eq!(people.len(), 3, "one row per person");
    assert_eq!(people[0]["role"], "self");
    assert_eq!(people[0]["name"], "刘**");
    assert_eq!(
        people[0]["id_number"],
        format!("4310**********{}", &id_number(ADULT)[14..])
    );
    assert_eq!(people[0]["health"]["color"], "green");
    assert!(
        people[0]["health"]["updated_at"].is_null(),
        "no colour on record"
    );
    assert_eq!(people[0]["verdict"], "pass");
    assert_eq!(people[1]["name"], "刘**");
    assert_eq!(people[1]["role"], "companion");
    assert_eq!(people[2]["name"], "欧阳**");
    assert_eq!(people[2]["health"]["color"], "yellow");
    assert!(people[2]["health"]["updated_at"]
        .as_str()
        .unwrap()
        .ends_with("+08:00"));
    assert_eq!(people[2]["verdict"], "deny");
    let ids: std::collections::HashSet<_> = people
        .iter()
        .map(|p| p["check_in_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "each person has their own row");
    assert!(page["notice"]
        .as_str()
        .unwrap()
        .contains("禁止进入公共场所"));
    assert!(page["pass"]["token"].is_string());
    let body = page.to_string();
    for secret in ["刘德明", "刘小宝", "欧阳秀兰", &id_number(ADULT)] {
        assert!(!body.contains(secret), "{secret} shown unmasked");
    }
}

#[tokio::test]
async fn a_red_resident_is_held_and_the_regions_officials_alerted() {
    let app = spawn_app().await;
    let (_, venue, url) = venue_with_code(&app, "bank").await;
    let official = app
        .staff_login("linwu-health", "health_official", "431025")
        .await;
    let elsewhere = app
        .staff_login("jinan-health", "health_official", "3701")
        .await;
    let token = resident(&app, "red", "孙红", RED_ADULT).await;
    set_color(&app, &official, RED_ADULT, "孙红", "red").await;
    let page: Value = scan(&app, &token, json!({"code": url}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["verdict"], "isolate");
    assert!(page["notice"].as_str().unwrap().contains("临时隔离"));

    let alerts: Value = app
        .get_as(&official, "/api/v1/alerts?status=open")
        .await
        .json()
        .await
        .unwrap();
    let items = alerts["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["venue"]["id"], venue["id"]);
    assert_eq!(
        items[0]["person"]["name"], "孙红",
        "officials see the person in full"
    );
    assert_eq!(items[0]["person"]["id_number"], id_number(RED_ADULT));
    assert_eq!(items[0]["check_in_id"], page["check_in_id"]);
    let other: Value = app
        .get_as(&elsewhere, "/api/v1/alerts?status=open")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other["items"], json!([]), "another region sees nothing");

    let alert_id = items[0]["id"].as_i64().unwrap();
    assert_error(
        app.post_as(
            &elsewhere,
            &format!("/api/v1/alerts/{alert_id}/close"),
            &json!({"note": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let closed: Value = app
        .post_as(
            &official,
            &format!("/api/v1/alerts/{alert_id}/close"),
            &json!({"note": "已转运至集中隔离点"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(closed["status"], "closed");
    let open: Value = app
        .get_as(&official, "/api/v1/alerts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(open["items"], json!([]));
}

#[tokio::test]
async fn what_stops_a_scan() {
    let app = spawn_app().await;
    let (manager, venue, url) = venue_with_code(&app, "hospital").await;
    // No consent: 403 naming what is missing.
    let bare = app.dev_login("wechat", "no-consent").await;
    let body = assert_error(
        scan(&app, &bare, json!({"code": url})).await,
        StatusCode::FORBIDDEN,
        "consent_required",
    )
    .await;
    assert_eq!(
        body["error"]["details"]["missing"],
        json!(["profile", "phone", "identity"])
    );

    let token = resident(&app, "visitor", "周平", ADULT).await;
    // Forged or foreign codes: 400.
    let mut forged: Vec<char> = url.chars().collect();
    let i = forged.len() - 3;
    forged[i] = if forged[i] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    for code in [forged.as_str(), "https://weixin.qq.com/r/abc", "hello"] {
        assert_error(
            scan(&app, &token, json!({"code": code})).await,
            StatusCode::BAD_REQUEST,
            "invalid_venue_code",
        )
        .await;
    }
    // Too far from the venue: 422.
    let body = assert_error(
        scan(
            &app,
            &token,
            json!({"code": url, "location": {"lat": 28.2282, "lng": 112.9388}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "too_far_from_venue",
    )
    .await;
    assert!(body["error"]["details"]["distance_m"].as_i64().unwrap() > 300_000);
    // A rotated code: 410.
    let entrance = &venue["entrances"][0]["id"];
    let rotated = app
        .post_as(
            &manager,
            &format!(
                "/api/v1/venues/{}/entrances/{entrance}/code/rotate",
                venue["id"]
            ),
            &json!({}),
        )
        .await;
    assert_eq!(rotated.status(), 200);
    assert_error(
        scan(&app, &token, json!({"code": url})).await,
        StatusCode::GONE,
        "venue_code_revoked",
    )
    .await;
    let new_url = rotated.json::<Value>().await.unwrap()["code_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        scan(&app, &token, json!({"code": new_url})).await.status(),
        201
    );
    // A venue not yet approved: 409. Its code cannot be downloaded, so build it as the server would.
    let (_, pending) = applied(&app, "pending-manager", "431025100", "临武县舜峰镇新开超市").await;
    let signer =
        venuecode::crypto::VenueCodeSigner::new(*app.settings.keys.venue_code_key.expose());
    let pending_url = signer.url(
        &app.settings.server.public_base_url,
        venuecode::crypto::VenueCodeRef {
            entrance_id: pending["entrances"][0]["id"].as_i64().unwrap(),
            version: 1,
        },
    );
    assert_error(
        scan(&app, &token, json!({"code": pending_url})).await,
        StatusCode::CONFLICT,
        "venue_not_active",
    )
    .await;
    // No token at all.
    assert_error(
        app.post_json("/api/v1/check-ins", &json!({"code": new_url}))
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn the_pass_verifies_online_and_offline_and_a_changed_one_does_not() {
    let app = spawn_app().await;
    let (_, _, url) = venue_with_code(&app, "cinema").await;
    let token = resident(&app, "viewer", "吴迪", ADULT).await;
    let page: Value = scan(&app, &token, json!({"code": url}))
        .await
        .json()
        .await
        .unwrap();
    let pass = page["pass"]["token"].as_str().unwrap();

    let verified: Value = app
        .get(&format!("/api/v1/passes/verify?token={pass}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verified["valid"], true);
    assert_eq!(verified["check_in_id"], page["check_in_id"]);
    assert_eq!(verified["venue"]["name"], page["venue"]["name"]);
    assert_eq!(verified["people"][0]["name"], "吴*");

    let mut changed = pass.as_bytes().to_vec();
    let i = pass.find('.').unwrap() + 7;
    changed[i] = if changed[i] == b'A' { b'B' } else { b'A' };
    let changed = String::from_utf8(changed).unwrap();
    let refused: Value = app
        .get(&format!("/api/v1/passes/verify?token={changed}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(refused["valid"], false);
    assert_eq!(refused["reason"], "invalid");

    // Offline: only the published key, no call to the server.
    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["crv"].as_str(),
            key["alg"].as_str()
        ),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let public: [u8; 32] = b64
        .decode(key["x"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let verifying = ed25519_dalek::VerifyingKey::from_bytes(&public).unwrap();
    let verify_offline = |token: &str| {
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let signature =
            ed25519_dalek::Signature::from_slice(&b64.decode(signature).unwrap()).unwrap();
        verifying.verify(signed.as_bytes(), &signature).is_ok()
    };
    assert!(verify_offline(pass));
    assert!(!verify_offline(&changed));
    let (header, _) = pass.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(&b64.decode(header).unwrap()).unwrap();
    assert_eq!(header["kid"], key["kid"]);
}

#[tokio::test]
async fn a_pass_expires() {
    let app = spawn_app_with(&[("PASS_TTL_SECONDS", "10")]).await;
    let (_, _, url) = venue_with_code(&app, "expiring").await;
    let token = resident(&app, "quick", "郑快", ADULT).await;
    let page: Value = scan(&app, &token, json!({"code": url}))
        .await
        .json()
        .await
        .unwrap();
    let pass = page["pass"]["token"].as_str().unwrap().to_owned();
    app.state.clock.advance(chrono::Duration::seconds(11));
    let verified: Value = app
        .get(&format!("/api/v1/passes/verify?token={pass}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verified["valid"], false);
    assert_eq!(verified["reason"], "expired");
}

#[tokio::test]
async fn repeats_offline_scans_checkout_and_the_itinerary() {
    let app = spawn_app_with(&[("CHECKIN_HOURLY_LIMIT", "3")]).await;
    let (_, _, url) = venue_with_code(&app, "market").await;
    let token = resident(&app, "shopper", "冯买", ADULT).await;
    let first: Value = scan(&app, &token, json!({"code": url}))
        .await
        .json()
        .await
        .unwrap();
    let again: Value = scan(&app, &token, json!({"code": url}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        again["check_in_id"], first["check_in_id"],
        "within a minute: the same check-in"
    );

    // Offline: an earlier client time is kept and marked; a future one is refused.
    let earlier = (chrono::Utc::now() - chrono::Duration::hours(3)).to_rfc3339();
    let response = scan(&app, &token, json!({"code": url, "scanned_at": earlier})).await;
    assert_eq!(response.status(), 201);
    let offline: Value = response.json().await.unwrap();
    assert_eq!(offline["offline"], true);
    assert_ne!(offline["check_in_id"], first["check_in_id"]);
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let body = assert_error(
        scan(&app, &token, json!({"code": url, "scanned_at": future})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        body["error"]["details"]["scanned_at"]["code"],
        "scanned_at_future"
    );
    let ancient = (chrono::Utc::now() - chrono::Duration::hours(30)).to_rfc3339();
    assert_error(
        scan(&app, &token, json!({"code": url, "scanned_at": ancient})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    // Checkout ends the stay; only the account's own check-ins.
    let id = first["check_in_id"].as_i64().unwrap();
    let other = resident(&app, "someone-else", "陈他", "43102519850612011").await;
    assert_error(
        app.post_as(
            &other,
            &format!("/api/v1/check-ins/{id}/checkout"),
            &json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let out: Value = app
        .post_as(
            &token,
            &format!("/api/v1/check-ins/{id}/checkout"),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(out["left_at"].is_string());

    // The itinerary, newest first.
    let itinerary: Value = app
        .get_as(&token, "/api/v1/me/check-ins?days=14")
        .await
        .json()
        .await
        .unwrap();
    let items = itinerary["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["check_in_id"], first["check_in_id"]);
    assert!(items[0]["left_at"].is_string());
    assert_eq!(items[0]["venue"], "临武县舜峰镇好又多超市");
    assert_eq!(items[0]["region"], "湖南省郴州市临武县舜峰镇");
    assert_eq!(items[1]["check_in_id"], offline["check_in_id"]);
    assert_error(
        app.get_as(&token, "/api/v1/me/check-ins?days=99").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;

    // The hourly limit (3 here): two scans so far, one more passes, then 429.
    let (_, _, second_url) = venue_with_code(&app, "market-2").await;
    assert_eq!(
        scan(&app, &token, json!({"code": second_url}))
            .await
            .status(),
        201
    );
    let (_, _, third_url) = venue_with_code(&app, "market-3").await;
    let response = scan(&app, &token, json!({"code": third_url})).await;
    assert!(response.headers().contains_key("retry-after"));
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
}

#[tokio::test]
async fn companion_rules() {
    let app = spawn_app().await;
    let (_, _, url) = venue_with_code(&app, "park").await;
    let token = resident(&app, "guardian", "何护", ADULT).await;
    // Adults are not companions.
    assert_error(
        app.post_as(&token, "/api/v1/me/companions", &json!({"name": "何成", "id_number": id_number("43102519900505007"), "relation": "弟弟"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "companion_not_eligible",
    )
    .await;
    // At most five.
    for (i, body) in [
        "43102520150101",
        "43102520150102",
        "43102520150103",
        "43102520150104",
        "43102520150105",
    ]
    .iter()
    .enumerate()
    {
        add_companion(
            &app,
            &token,
            &format!("何{i}"),
            &format!("{body}001"),
            "子女",
        )
        .await;
    }
    assert_error(
        app.post_as(&token, "/api/v1/me/companions", &json!({"name": "何六", "id_number": id_number("43102520150106001"), "relation": "子女"})).await,
        StatusCode::CONFLICT,
        "too_many_companions",
    )
    .await;
    // One person is the companion of at most three accounts.
    let shared = "43102519400101008";
    for subject in ["a1", "a2", "a3"] {
        let t = resident(
            &app,
            subject,
            "某人",
            &format!("431025198501010{}", &subject[1..])
                .chars()
                .chain("9".chars())
                .collect::<String>()[..17],
        )
        .await;
        add_companion(&app, &t, "共老", shared, "祖父").await;
    }
    let fourth = resident(&app, "a4", "某人", "43102519850101049").await;
    assert_error(
        app.post_as(
            &fourth,
            "/api/v1/me/companions",
            &json!({"name": "共老", "id_number": id_number(shared), "relation": "祖父"}),
        )
        .await,
        StatusCode::CONFLICT,
        "companion_account_limit",
    )
    .await;
    // Another account's companion cannot be used: 404.
    let list: Value = app
        .get_as(&token, "/api/v1/me/companions")
        .await
        .json()
        .await
        .unwrap();
    let theirs = list["items"][0]["id"].clone();
    assert_error(
        scan(
            &app,
            &fourth,
            json!({"code": url, "companion_ids": [theirs]}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "companion_not_found",
    )
    .await;
    // Removing.
    assert_eq!(
        app.delete_as(&token, &format!("/api/v1/me/companions/{theirs}"))
            .await
            .status(),
        204
    );
    assert_error(
        app.delete_as(&token, &format!("/api/v1/me/companions/{theirs}"))
            .await,
        StatusCode::NOT_FOUND,
        "companion_not_found",
    )
    .await;
}

#[tokio::test]
async fn hand_registration_and_paper_codes_reach_counts_and_records() {
    let app = spawn_app().await;
    let (manager, venue, _) = venue_with_code(&app, "clinic").await;
    let venue_id = venue["id"].as_i64().unwrap();
    let entrance_id = venue["entrances"][0]["id"].as_i64().unwrap();

    // A resident whose grandmother has no phone prints her a paper code.
    let token = resident(&app, "grandson", "钱孝", ADULT).await;
    let grandma = add_companion(&app, &token, "钱奶奶", ELDER, "奶奶").await;
    let png = app
        .get_as(
            &token,
            &format!("/api/v1/me/companions/{}/paper-code.png", grandma["id"]),
        )
        .await;
    assert_eq!(png.status(), 200);
    assert!(png.headers().contains_key("x-valid-until"));
    let paper = crate::helpers::decode_qr(&png.bytes().await.unwrap());
    assert!(paper.starts_with("VCP1:"), "{paper}");

    // Staff scan it at the door.
    let response = app
        .post_as(
            &manager,
            &format!("/api/v1/venues/{venue_id}/paper-scans"),
            &json!({"entrance_id": entrance_id, "code": paper}),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["people"][0]["name"], "钱**");
    assert_error(
        app.post_as(
            &manager,
            &format!("/api/v1/venues/{venue_id}/paper-scans"),
            &json!({"entrance_id": entrance_id, "code": "VCP1:AAAAAAAAAAAAAAAAAAAAAAAA"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_paper_code",
    )
    .await;

    // And register the resident himself by hand, as if his phone were flat.
    let response = app
        .post_as(&manager, &format!("/api/v1/venues/{venue_id}/manual-check-ins"), &json!({
            "entrance_id": entrance_id, "name": "钱孝", "id_number": id_number(ADULT), "phone": "13912340000"
        }))
        .await;
    assert_eq!(response.status(), 201);
    let manual: Value = response.json().await.unwrap();
    assert_eq!(manual["people"][0]["name"], "钱*");
    assert_eq!(manual["verdict"], "pass");
    let body = assert_error(
        app.post_as(
            &manager,
            &format!("/api/v1/venues/{venue_id}/manual-check-ins"),
            &json!({
                "entrance_id": entrance_id, "name": "", "id_number": "110105194912310021"
            }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(
        body["error"]["details"]["name"].is_object()
            && body["error"]["details"]["id_number"].is_object()
    );
    // Strangers cannot register at this venue.
    let stranger = resident(&app, "stranger", "路人", "43102519850612020").await;
    assert_error(
        app.post_as(
            &stranger,
            &format!("/api/v1/venues/{venue_id}/manual-check-ins"),
            &json!({"entrance_id": entrance_id, "name": "x", "id_number": id_number(ADULT)}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Both appear in the venue's counts, without names.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d")
        .to_string();
    let stats: Value = app
        .get_as(
            &manager,
            &format!("/api/v1/venues/{venue_id}/stats?date={today}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["total"], 2);
    let green: u64 = stats["hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["green"].as_u64().unwrap())
        .sum();
    assert_eq!(green, 2);
    assert!(!stats.to_string().contains("钱"));
    assert_error(
        app.get_as(&stranger, &format!("/api/v1/venues/{venue_id}/stats"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // And in the resident's records: his own hand registration and his grandmother's paper scan.
    let itinerary: Value = app
        .get_as(&token, "/api/v1/me/check-ins")
        .await
        .json()
        .await
        .unwrap();
    let roles: Vec<&str> = itinerary["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["person"]["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, vec!["self", "companion"]);
}

#[tokio::test]
async fn health_codes_are_set_with_reasons_imported_all_or_nothing_and_audited() {
    let app = spawn_app().await;
    let official = app
        .staff_login("linwu-health", "health_official", "431025")
        .await;
    let reviewer = app.staff_login("linwu-review", "reviewer", "431025").await;
    let target = id_number("43102519700101001");
    assert_error(
        app.put_as(
            &reviewer,
            &format!("/api/v1/health-codes/{target}"),
            &json!({"color": "red", "reason_code": "confirmed_case"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // An unknown person needs a name.
    let body = assert_error(
        app.put_as(
            &official,
            &format!("/api/v1/health-codes/{target}"),
            &json!({"color": "red", "reason_code": "confirmed_case"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["error"]["details"]["name"]["code"], "name_required");
    let body = assert_error(
        app.put_as(
            &official,
            &format!("/api/v1/health-codes/{target}"),
            &json!({"color": "blue", "reason_code": "because", "name": "林一"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(
        body["error"]["details"]["color"].is_object()
            && body["error"]["details"]["reason_code"].is_object()
    );
    let set: Value = app
        .put_as(
            &official,
            &format!("/api/v1/health-codes/{target}"),
            &json!({"color": "red", "reason_code": "confirmed_case", "name": "林一"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(set["color"], "red");
    let set: Value = app
        .put_as(
            &official,
            &format!("/api/v1/health-codes/{target}"),
            &json!({"color": "green", "reason_code": "isolation_completed", "note": "解除隔离"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(set["color"], "green");
    assert_eq!(set["history"].as_array().unwrap().len(), 2);
    assert_eq!(set["history"][0]["reason_code"], "isolation_completed");
    assert_eq!(set["history"][0]["note"], "解除隔离");
    assert_eq!(set["history"][1]["color"], "red");

    // Import: one bad row stops the whole batch and is named.
    let rows: Vec<Value> = (0..50)
        .map(|i| json!({"id_number": id_number(&format!("430102199001{:02}{:03}", 1 + i % 28, i)), "name": format!("导入{i}"), "color": "yellow", "reason_code": "risk_area_visit"}))
        .collect();
    let mut broken = rows.clone();
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
    let first = rows[0]["id_number"].as_str().unwrap();
    assert_error(
        app.get_as(&official, &format!("/api/v1/health-codes/{first}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let imported: Value = app
        .post_as(
            &official,
            "/api/v1/health-codes/import",
            &json!({"changes": rows}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(imported["applied"], 50);
    let one: Value = app
        .get_as(&official, &format!("/api/v1/health-codes/{first}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["color"], "yellow");
    assert_eq!(one["name"], "导入0");

    // Every change is in the audit log.
    let mut conn = app.database().get().unwrap();
    let cipher = app.cipher();
    let person = venuecode::db::persons::find_by_id_number(
        &mut conn,
        &cipher,
        &venuecode::domain::IdNumber::parse(&target).unwrap(),
    )
    .unwrap()
    .unwrap();
    let entries =
        venuecode::db::audit::for_subject(&mut conn, &cipher, &format!("person:{}", person.id))
            .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["health_code.set", "health_code.set"]);
}

#[tokio::test]
async fn concurrent_scans_all_land() {
    let app = spawn_app().await;
    let (_, _, url) = venue_with_code(&app, "busy-door").await;
    let mut tokens = Vec::new();
    for i in 0..12 {
        tokens.push(
            resident(
                &app,
                &format!("crowd-{i}"),
                "排队者",
                &format!("431025199001{:02}{:03}", 1 + i, 100 + i),
            )
            .await,
        );
    }
    // Everyone scans at once, twice over with different offline times: each must be recorded.
    let scans = tokens.iter().flat_map(|token| {
        [1, 2].map(|hours| {
            let when = (chrono::Utc::now() - chrono::Duration::hours(hours)).to_rfc3339();
            scan(&app, token, json!({"code": url, "scanned_at": when}))
        })
    });
    let statuses: Vec<u16> = futures_util::future::join_all(scans)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
}
