//! The scan: `POST /api/v1/check-ins` and the door page, checkout, and the itinerary.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, body_of, child, elder, field_code, spawn_app, spawn_app_with, tampered, LINWU,
    LINWU_TOWNSHIP,
};

#[tokio::test]
async fn the_door_page_shows_the_venue_and_the_person_masked() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("刘德明").await;
    let page = app.check_in(&resident.token, &venue.code_url).await;
    assert_eq!(page["verdict"], "pass");
    assert_eq!(page["venue"]["name"], "临武县舜峰镇好又多超市");
    assert_eq!(page["venue"]["entrance"], "东门");
    assert_eq!(page["venue"]["category"], "生活购物场所 · 超市");
    assert!(page["venue"]["address"]
        .as_str()
        .unwrap()
        .starts_with("湖南省郴州市临武县舜峰镇"));
    let me = &page["people"][0];
    assert_eq!(me["role"], "self");
    assert_eq!(me["name"], "刘**");
    assert_eq!(
        me["id_number"],
        format!("4310**********{}", &resident.id_number[14..])
    );
    assert_eq!(me["health"]["color"], "green");
    assert!(me["health"]["updated_at"].is_null(), "no colour on record");
    assert!(page["notice"].as_str().unwrap().contains("请通行"));
    assert!(page["pass"]["token"].is_string());
    let body = page.to_string();
    assert!(!body.contains("刘德明") && !body.contains(&resident.id_number));
}

#[tokio::test]
async fn the_door_page_names_the_region_once_when_the_address_repeats_it() {
    let app = spawn_app().await;
    let venue = app
        .new_venue()
        .named("临武县舜峰镇人民餐馆")
        .with("address", json!("湖南省郴州市临武县舜峰镇人民路1号"))
        .approved()
        .await;
    let page = app
        .check_in(&app.resident("刘德明").await.token, &venue.code_url)
        .await;
    assert_eq!(
        page["venue"]["address"],
        "湖南省郴州市临武县舜峰镇人民路1号"
    );
}

#[tokio::test]
async fn a_yellow_companion_denies_the_group_each_with_their_own_row() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let official = app.official(LINWU).await;
    let parent = app.resident("刘德明").await;
    let son = app
        .add_companion(&parent.token, "刘小宝", &child(1), "儿子")
        .await;
    let grandma = app
        .add_companion(&parent.token, "欧阳秀兰", &elder(1), "母亲")
        .await;
    app.set_color(&official, &elder(1), "欧阳秀兰", "yellow")
        .await;
    let page = body_of(
        app.scan(
            &parent.token,
            json!({"code": venue.code_url, "companion_ids": [son["id"], grandma["id"]]}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(page["verdict"], "deny", "the worst verdict is on top");
    let people = page["people"].as_array().unwrap();
    let roles: Vec<&Value> = people.iter().map(|p| &p["role"]).collect();
    assert_eq!(roles, ["self", "companion", "companion"]);
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
}

#[tokio::test]
async fn a_red_resident_is_held() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let official = app.official(LINWU).await;
    let resident = app.resident("孙红").await;
    app.set_color(&official, &resident.id_number, "孙红", "red")
        .await;
    let page = app.check_in(&resident.token, &venue.code_url).await;
    assert_eq!(page["verdict"], "isolate");
    assert!(page["notice"].as_str().unwrap().contains("临时隔离"));
}

#[tokio::test]
async fn a_scan_without_consent_names_what_is_missing() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let bare = app.account().await;
    let body = assert_error(
        app.new_scan(&bare, &venue.code_url).send().await,
        StatusCode::FORBIDDEN,
        "consent_required",
    )
    .await;
    assert_eq!(
        body["error"]["details"]["missing"],
        json!(["profile", "phone", "identity"])
    );
}

#[tokio::test]
async fn forged_and_foreign_codes_are_refused() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("周平").await;
    let forged = tampered(&venue.code_url, 3);
    for code in [forged.as_str(), "https://weixin.qq.com/r/abc", "hello"] {
        assert_error(
            app.new_scan(&resident.token, code).send().await,
            StatusCode::BAD_REQUEST,
            "invalid_venue_code",
        )
        .await;
    }
}

#[tokio::test]
async fn a_scan_far_from_the_venue_is_refused() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("周平").await;
    let body = assert_error(
        app.new_scan(&resident.token, &venue.code_url)
            .located(28.2282, 112.9388)
            .send()
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "too_far_from_venue",
    )
    .await;
    assert!(body["error"]["details"]["distance_m"].as_i64().unwrap() > 300_000);
}

#[tokio::test]
async fn with_the_location_required_a_scan_without_one_is_refused_except_on_a_vehicle() {
    let app = spawn_app_with(&[("REQUIRE_SCAN_LOCATION", "true")]).await;
    let venue = app.approved_venue().await;
    let resident = app.resident("周平").await;
    assert_error(
        app.new_scan(&resident.token, &venue.code_url).send().await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "location_required",
    )
    .await;
    // Located at the venue: accepted.
    app.new_scan(&resident.token, &venue.code_url)
        .located(25.2800, 112.5630)
        .admitted()
        .await;
    // On a bus the location says nothing of the door: not asked for.
    let bus = app
        .new_venue()
        .named("临武县公交K1路")
        .of_kind("medical_transport", "bus")
        .with("transport_line", json!("K1路"))
        .with("plate_number", json!("湘L·12345"))
        .approved()
        .await;
    app.check_in(&app.resident("乘客").await.token, &bus.code_url)
        .await;
}

#[tokio::test]
async fn a_scan_at_the_venue_records_its_distance() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("周平").await;
    app.new_scan(&resident.token, &venue.code_url)
        .located(25.2800, 112.5630)
        .admitted()
        .await;
}

#[tokio::test]
async fn a_rotated_code_is_revoked_and_the_new_one_works() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("周平").await;
    let rotated = app.rotate_code(&venue).await;
    assert_error(
        app.new_scan(&resident.token, &venue.code_url).send().await,
        StatusCode::GONE,
        "venue_code_revoked",
    )
    .await;
    app.check_in(&resident.token, rotated["code_url"].as_str().unwrap())
        .await;
}

#[tokio::test]
async fn a_code_of_a_venue_not_yet_approved_does_not_work() {
    let app = spawn_app().await;
    let resident = app.resident("周平").await;
    let (_, pending) = app
        .applied_venue(LINWU_TOWNSHIP, "临武县舜峰镇新开超市")
        .await;
    // Its code cannot be downloaded, so build it as the server would.
    let signer =
        venuecode::crypto::VenueCodeSigner::new(*app.settings.keys.venue_code_keys.current().1);
    let url = signer.url(
        &app.settings.server.public_base_url,
        venuecode::crypto::VenueCodeRef {
            entrance_id: pending["entrances"][0]["id"].as_i64().unwrap(),
            version: 1,
        },
    );
    assert_error(
        app.new_scan(&resident.token, &url).send().await,
        StatusCode::CONFLICT,
        "venue_not_active",
    )
    .await;
}

#[tokio::test]
async fn a_scan_needs_a_session() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    assert_error(
        app.post_json("/api/v1/check-ins", &json!({"code": venue.code_url}))
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn a_repeat_within_a_minute_is_the_same_check_in() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("冯买").await;
    let first = app.check_in(&resident.token, &venue.code_url).await;
    let again = app.check_in(&resident.token, &venue.code_url).await;
    assert_eq!(again["check_in_id"], first["check_in_id"]);
}

#[tokio::test]
async fn an_offline_scan_keeps_its_own_time_and_is_marked() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("冯买").await;
    let earlier = Utc::now() - Duration::hours(3);
    let page = app
        .check_in_at(&resident.token, &venue.code_url, Some(earlier), &[])
        .await;
    assert_eq!(page["offline"], true);
    let scanned_at =
        chrono::DateTime::parse_from_rfc3339(page["scanned_at"].as_str().unwrap()).unwrap();
    assert!(
        (scanned_at.with_timezone(&Utc) - earlier)
            .num_seconds()
            .abs()
            <= 1
    );
}

#[tokio::test]
async fn an_offline_scan_in_the_future_or_too_old_is_refused() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("冯买").await;
    for (hours, code) in [(1, "scanned_at_future"), (-30, "scanned_at_too_old")] {
        let when = (Utc::now() + Duration::hours(hours)).to_rfc3339();
        let body = assert_error(
            app.new_scan(&resident.token, &venue.code_url)
                .at(&when)
                .send()
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(field_code(&body, "scanned_at"), code);
    }
}

#[tokio::test]
async fn companions_must_be_distinct_and_at_most_five() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("冯买").await;
    for ids in [json!([1, 1]), json!([1, 2, 3, 4, 5, 6])] {
        let body = assert_error(
            app.new_scan(&resident.token, &venue.code_url)
                .with_companions(json!(ids))
                .send()
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(field_code(&body, "companion_ids"), "companion_ids_invalid");
    }
}

#[tokio::test]
async fn another_accounts_companion_cannot_be_checked_in() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let guardian = app.resident("何护").await;
    let theirs = app
        .add_companion(&guardian.token, "何小", &child(1), "子女")
        .await;
    let stranger = app.resident("陌生").await;
    assert_error(
        app.scan(
            &stranger.token,
            json!({"code": venue.code_url, "companion_ids": [theirs["id"]]}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "companion_not_found",
    )
    .await;
}

#[tokio::test]
async fn the_hourly_limit_answers_429_with_retry_after() {
    let app = spawn_app_with(&[("CHECKIN_HOURLY_LIMIT", "2")]).await;
    let resident = app.resident("冯买").await;
    for _ in 0..2 {
        let venue = app.approved_venue().await;
        app.check_in(&resident.token, &venue.code_url).await;
    }
    let venue = app.approved_venue().await;
    let response = app.new_scan(&resident.token, &venue.code_url).send().await;
    assert!(response.headers().contains_key("retry-after"));
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
}

#[tokio::test]
async fn the_hourly_limit_counts_the_last_hour_only() {
    let app = spawn_app_with(&[("CHECKIN_HOURLY_LIMIT", "1")]).await;
    let resident = app.resident("冯买").await;
    let first = app.approved_venue().await;
    app.check_in(&resident.token, &first.code_url).await;
    app.state.clock.advance(Duration::minutes(61));
    let second = app.approved_venue().await;
    app.check_in(&resident.token, &second.code_url).await;
}

#[tokio::test]
async fn checkout_ends_the_stay() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("冯买").await;
    let page = app.check_in(&resident.token, &venue.code_url).await;
    let out = body_of(
        app.post_as(
            &resident.token,
            &format!("/api/v1/check-ins/{}/checkout", page["check_in_id"]),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    assert!(out["left_at"].is_string());
}

#[tokio::test]
async fn checkout_of_the_first_row_ends_the_companions_stays_too() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let parent = app.resident("冯买").await;
    let son = app
        .add_companion(&parent.token, "冯小", &child(1), "儿子")
        .await;
    let page = app
        .check_in_at(
            &parent.token,
            &venue.code_url,
            None,
            &[son["id"].as_i64().unwrap()],
        )
        .await;
    let out = body_of(
        app.post_as(
            &parent.token,
            &format!("/api/v1/check-ins/{}/checkout", page["check_in_id"]),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(out["check_in_ids"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn another_accounts_check_in_cannot_be_checked_out() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("冯买").await;
    let page = app.check_in(&resident.token, &venue.code_url).await;
    let other = app.resident("陈他").await;
    assert_error(
        app.post_as(
            &other.token,
            &format!("/api/v1/check-ins/{}/checkout", page["check_in_id"]),
            &json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn the_itinerary_lists_places_newest_first_with_their_region() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("冯买").await;
    let earlier = app
        .check_in_at(
            &resident.token,
            &venue.code_url,
            Some(Utc::now() - Duration::hours(3)),
            &[],
        )
        .await;
    let now = app.check_in(&resident.token, &venue.code_url).await;
    let itinerary = app
        .read(&resident.token, "/api/v1/me/check-ins?days=14")
        .await;
    let items = itinerary["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["check_in_id"], now["check_in_id"]);
    assert_eq!(items[1]["check_in_id"], earlier["check_in_id"]);
    assert_eq!(items[0]["venue"], "临武县舜峰镇好又多超市");
    assert_eq!(items[0]["region"], "湖南省郴州市临武县舜峰镇");
    assert_eq!(items[0]["person"]["role"], "self");
}

#[tokio::test]
async fn the_itinerary_reaches_back_at_most_the_retention_period() {
    let app = spawn_app().await;
    let resident = app.resident("冯买").await;
    assert_error(
        app.get_as(&resident.token, "/api/v1/me/check-ins?days=99")
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
}

#[tokio::test]
async fn concurrent_scans_all_land() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let mut tokens = Vec::new();
    for _ in 0..12 {
        tokens.push(app.resident("排队者").await.token);
    }
    // Everyone scans at once, twice over with different offline times: each must be recorded.
    let scans = tokens.iter().flat_map(|token| {
        [1, 2].map(|hours| {
            let when = (Utc::now() - Duration::hours(hours)).to_rfc3339();
            app.new_scan(token, &venue.code_url).at(&when).send()
        })
    });
    let statuses: Vec<u16> = futures_util::future::join_all(scans)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
}

#[tokio::test]
async fn a_genuine_token_under_another_host_is_refused() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("周平").await;
    let token = venue.code_url.rsplit('/').next().unwrap();
    for code in [
        format!("https://vcode-gov.cn.example.net/V/{token}"),
        format!("https://127.0.0.1.example.net/V/{token}"),
        format!("http://127.0.0.1@example.net/V/{token}"),
    ] {
        assert_error(
            app.new_scan(&resident.token, &code).send().await,
            StatusCode::BAD_REQUEST,
            "invalid_venue_code",
        )
        .await;
    }
    // The bare token and our own URL work.
    app.check_in(&resident.token, token).await;
}

#[tokio::test]
async fn parallel_scans_cannot_pass_the_hourly_limit() {
    let app = spawn_app_with(&[("CHECKIN_HOURLY_LIMIT", "5")]).await;
    let venue = app.approved_venue().await;
    // Twelve entrances, so that no scan is a repeat of another.
    let mut codes = Vec::new();
    for n in 0..12 {
        let entrance = app.entrance(&venue, &format!("{n}号门")).await;
        codes.push(entrance["code_url"].as_str().unwrap().to_owned());
    }
    let resident = app.resident("冯买").await;
    let scans = codes
        .iter()
        .map(|code| app.new_scan(&resident.token, code).send());
    let statuses: Vec<u16> = futures_util::future::join_all(scans)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let accepted = statuses.iter().filter(|s| **s == 201).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((accepted, limited), (5, 7), "{statuses:?}");
}

#[tokio::test]
async fn a_repeat_after_a_colour_change_shows_the_current_colour() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let official = app.official(LINWU).await;
    let resident = app.resident("孙红").await;
    let first = app.check_in(&resident.token, &venue.code_url).await;
    assert_eq!(first["verdict"], "pass");
    app.set_color(&official, &resident.id_number, "孙红", "yellow")
        .await;
    let again = app.check_in(&resident.token, &venue.code_url).await;
    assert_eq!(again["check_in_id"], first["check_in_id"], "still a repeat");
    assert_eq!(again["people"][0]["health"]["color"], "yellow");
    assert_eq!(again["verdict"], "deny");
    let token = again["pass"]["token"].as_str().unwrap();
    let signed: Value = app
        .get(&format!("/api/v1/passes/verify?token={token}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(signed["verdict"], "deny", "the signed record says deny too");
    assert_eq!(signed["people"][0]["color"], "yellow");
}

#[tokio::test]
async fn a_scan_the_database_refuses_fails_alone_in_its_batch() {
    use diesel::RunQueryDsl;
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let refused = app.entrance(&venue, "北门").await;
    // The database itself refuses every row at the north gate.
    let entrance = refused["id"].as_i64().unwrap();
    let mut conn = app.database().get().unwrap();
    let statements = if app.database.is_postgres() {
        vec![
            format!(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN \
                 IF NEW.entrance_id = {entrance} THEN RAISE EXCEPTION 'refused'; END IF; \
                 RETURN NEW; END $$ LANGUAGE plpgsql"
            ),
            "CREATE TRIGGER refuse BEFORE INSERT ON check_ins FOR EACH ROW EXECUTE FUNCTION refuse()"
                .to_owned(),
        ]
    } else {
        vec![format!(
            "CREATE TRIGGER refuse BEFORE INSERT ON check_ins WHEN NEW.entrance_id = {entrance} \
             BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )]
    };
    for statement in statements {
        diesel::sql_query(statement).execute(&mut *conn).unwrap();
    }
    let mut tokens = Vec::new();
    for _ in 0..10 {
        tokens.push(app.resident("排队者").await.token);
    }
    // All at once, so that the refused scan shares a batch with others.
    let north = refused["code_url"].as_str().unwrap();
    let scans = tokens.iter().enumerate().map(|(n, token)| {
        let code = if n == 5 { north } else { &venue.code_url };
        app.new_scan(token, code).send()
    });
    let statuses: Vec<u16> = futures_util::future::join_all(scans)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    let expected: Vec<u16> = (0..10).map(|n| if n == 5 { 500 } else { 201 }).collect();
    assert_eq!(statuses, expected);
}
