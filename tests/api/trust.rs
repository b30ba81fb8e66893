//! The newer surfaces tried as an attacker would: sessions that end, a login form that only our
//! own page can post, windows inside the retention period, companions who have an account of
//! their own, colour notices, answers across regions that say nothing, and what the door shows
//! to whom.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    adult, assert_error, body_of, elder, field_code, spawn_app, spawn_app_with, TestApp, LINWU,
    STAFF_PASSWORD,
};
use crate::helpers::{console_get, console_session, login_page};

// ---- sessions that end ------------------------------------------------------------------------

#[tokio::test]
async fn logging_out_of_the_console_ends_the_session_for_pages_and_the_api() {
    let app = spawn_app().await;
    let (cookie, csrf) = console_session(&app, "linwu-review-out", "reviewer", LINWU).await;
    let token = cookie.trim_start_matches("vc_console=").to_owned();
    assert_eq!(
        console_get(&app, &cookie, "/console/reviews")
            .await
            .status(),
        200
    );
    body_of(app.get_as(&token, "/api/v1/staff/me").await, 200).await;

    let out = app
        .client
        .post(format!("{}/console/logout", app.address))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);

    // The same cookie, replayed: the login page, and the token opens nothing in the API.
    let page = console_get(&app, &cookie, "/console/reviews").await;
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/console/login");
    assert_error(
        app.get_as(&token, "/api/v1/staff/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

async fn api_login(app: &TestApp, username: &str) -> String {
    app.staff_session(username).await
}

#[tokio::test]
async fn each_login_is_a_session_of_its_own_and_logging_out_ends_only_that_one() {
    let app = spawn_app().await;
    let first = app
        .new_staff("health_official")
        .named("linwu-health-twice")
        .login()
        .await;
    let second = api_login(&app, "linwu-health-twice").await;
    let third = api_login(&app, "linwu-health-twice").await;
    assert_ne!(second, third, "two logins in one second share a token");
    assert_ne!(first, second);

    let out = app
        .delete_as(&second, "/api/v1/staff-sessions/current")
        .await;
    assert_eq!(out.status(), 204);
    assert_error(
        app.get_as(&second, "/api/v1/staff/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    // Logging out again with the ended token is refused like any dead token.
    assert_error(
        app.delete_as(&second, "/api/v1/staff-sessions/current")
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    body_of(app.get_as(&first, "/api/v1/staff/me").await, 200).await;
    body_of(app.get_as(&third, "/api/v1/staff/me").await, 200).await;

    // A resident's token is no staff session to end.
    let resident = app.account().await;
    assert_error(
        app.delete_as(&resident, "/api/v1/staff-sessions/current")
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn a_logout_on_one_node_ends_the_session_on_another_within_a_second() {
    let app = spawn_app().await;
    let token = app
        .new_staff("reviewer")
        .named("linwu-review-nodes")
        .login()
        .await;
    let node = app.second_node().await;
    let me_on_node = || {
        app.client
            .get(format!("{}/api/v1/staff/me", node.address))
            .bearer_auth(&token)
            .send()
    };
    // The other node has read the session and keeps it for up to a second.
    assert_eq!(me_on_node().await.unwrap().status(), 200);
    assert_eq!(
        app.delete_as(&token, "/api/v1/staff-sessions/current")
            .await
            .status(),
        204
    );
    node.state.clock.advance(Duration::milliseconds(1001));
    assert_eq!(me_on_node().await.unwrap().status(), 401);
}

// ---- the login form ---------------------------------------------------------------------------

async fn post_login(
    app: &TestApp,
    cookie: Option<&str>,
    site: &str,
    token: &str,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}/console/login", app.address))
        .header("sec-fetch-site", site)
        .form(&[
            ("username", "linwu-review-csrf"),
            ("password", STAFF_PASSWORD),
            ("login_csrf", token),
        ]);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

fn sets_a_session(response: &reqwest::Response) -> bool {
    response.headers().get_all("set-cookie").iter().any(|c| {
        c.to_str().unwrap().starts_with("vc_console=") && !c.to_str().unwrap().contains("Max-Age=0")
    })
}

#[tokio::test]
async fn a_login_posted_by_another_site_signs_no_one_in() {
    let app = spawn_app().await;
    app.new_staff("reviewer")
        .named("linwu-review-csrf")
        .login()
        .await;

    // A page elsewhere posts the form as it is: no login cookie, no token.
    let forged = app
        .client
        .post(format!("{}/console/login", app.address))
        .form(&[
            ("username", "linwu-review-csrf"),
            ("password", STAFF_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(!sets_a_session(&forged));

    // A token copied from another browser's page, without that browser's cookie.
    let (cookie, token) = login_page(&app).await;
    let copied = post_login(&app, None, "cross-site", &token).await;
    assert_eq!(copied.status(), 403);
    assert!(!sets_a_session(&copied));
    // Even with the cookie (a browser sends none cross-site; the header says where it came from).
    let cross = post_login(&app, Some(&cookie), "cross-site", &token).await;
    assert_eq!(cross.status(), 403);
    assert!(!sets_a_session(&cross));
    // A token that is not the cookie's.
    let (other_cookie, _) = login_page(&app).await;
    let mixed = post_login(&app, Some(&other_cookie), "same-origin", &token).await;
    assert_eq!(mixed.status(), 403);

    // The page itself signs in.
    let own = post_login(&app, Some(&cookie), "same-origin", &token).await;
    assert_eq!(own.status(), 303);
    assert!(sets_a_session(&own));
}

// ---- windows inside the retention period ------------------------------------------------------

fn window_query(from: chrono::DateTime<Utc>, to: chrono::DateTime<Utc>) -> String {
    let enc = |t: chrono::DateTime<Utc>| t.to_rfc3339().replace('+', "%2B");
    format!("from={}&to={}", enc(from), enc(to))
}

#[tokio::test]
async fn visitor_lists_and_traces_do_not_reach_past_the_retention_period() {
    let app = spawn_app_with(&[("PURGE_INTERVAL_MINUTES", "0")]).await;
    let venue = app.approved_venue().await;
    let visitor = app.resident("周旧客").await;
    let scanned = Utc::now();
    app.check_in(&visitor.token, &venue.code_url).await;
    // The check-in is older than the retention period; the purge has not run yet.
    app.state
        .clock
        .advance(Duration::days(i64::from(app.settings.retention.days)) + Duration::hours(1));
    let official = app.official(LINWU).await;
    let query = window_query(scanned - Duration::hours(1), scanned + Duration::hours(1));

    for path in [
        format!("/api/v1/venues/{}/visitors?{query}", venue.id),
        format!("/api/v1/venues/{}/visitors.csv?{query}", venue.id),
    ] {
        let refused = assert_error(
            app.get_as(&official, &path).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(field_code(&refused, "from"), "range_outside_retention");
        assert!(!refused.to_string().contains("周"), "{refused}");
    }
    let trace = assert_error(
        app.post_as(
            &official,
            "/api/v1/traces",
            &json!({
                "id_number": visitor.id_number,
                "from": (scanned - Duration::hours(1)).to_rfc3339(),
                "to": (scanned + Duration::hours(1)).to_rfc3339(),
            }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&trace, "from"), "range_outside_retention");
    // Nor does a risky window declared that far back read (and tell) the stays.
    let risky = assert_error(
        app.post_as(
            &official,
            "/api/v1/risk-windows",
            &json!({
                "venue_id": venue.id,
                "from": (scanned - Duration::hours(1)).to_rfc3339(),
                "to": (scanned + Duration::hours(1)).to_rfc3339(),
                "message": "该时段有确诊病例到访",
            }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&risky, "from"), "range_outside_retention");

    // The console's visitor page says so too, and shows no one.
    let (cookie, _) = console_session(&app, "linwu-health-old", "health_official", LINWU).await;
    let local = |t: chrono::DateTime<Utc>| {
        t.with_timezone(&chrono_tz::Asia::Shanghai)
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let page = console_get(
        &app,
        &cookie,
        &format!(
            "/console/venues/{}/visitors?from={}&to={}",
            venue.id,
            local(scanned - Duration::hours(1)),
            local(scanned + Duration::hours(1))
        ),
    )
    .await;
    let html = page.text().await.unwrap();
    assert!(html.contains("数据保存期限"), "{html}");
    assert!(!html.contains("周*") && !html.contains("周旧客"), "{html}");
}

// ---- companions with an account of their own -------------------------------------------------

/// Someone who types another person's document and a birth date.
async fn stranger(app: &TestApp) -> String {
    app.resident("陌生人").await.token
}

fn stored_birth_dates(app: &TestApp) -> Vec<Option<chrono::NaiveDate>> {
    use diesel::prelude::*;
    use venuecode::db::schema::persons;
    let mut conn = app.database().get().unwrap();
    persons::table
        .select(persons::birth_date)
        .load(&mut *conn)
        .unwrap()
}

#[tokio::test]
async fn a_typed_birth_date_never_makes_an_adult_with_an_account_a_child() {
    let app = spawn_app().await;
    let owner = app.dev_login("wechat", "passport-owner").await;
    body_of(
        app.put_as(
            &owner,
            "/api/v1/me/consent",
            &json!({
                "profile": {"nickname": "john"},
                "phone": {"wechat_code": "13912340001"},
                "identity": {"name": "John Smith", "id_type": "passport", "id_number": "E12345678"}
            }),
        )
        .await,
        200,
    )
    .await;
    let stranger = stranger(&app).await;
    let five_years_ago = (Utc::now() - Duration::days(5 * 366))
        .date_naive()
        .to_string();
    let refused = assert_error(
        app.post_as(
            &stranger,
            "/api/v1/me/companions",
            &json!({"name": "Johnny", "id_type": "passport", "id_number": "E12345678",
                    "birth_date": five_years_ago, "relation": "儿子"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "companion_not_eligible",
    )
    .await;
    assert!(refused["error"]["details"].get("birth_date").is_none());
    // Nothing typed reached the person.
    assert!(stored_birth_dates(&app).iter().all(Option::is_none));
}

#[tokio::test]
async fn a_birth_date_typed_for_a_child_stays_with_the_companion_row_that_typed_it() {
    let app = spawn_app().await;
    let mother = app.resident("母亲").await;
    let aunt = app.resident("姨妈").await;
    let add = |token: String, born: &'static str| {
        let app = &app;
        async move {
            app.post_as(
                &token,
                "/api/v1/me/companions",
                &json!({"name": "Lily", "id_type": "passport", "id_number": "E87654321",
                        "birth_date": born, "relation": "女儿"}),
            )
            .await
        }
    };
    let added = body_of(add(mother.token.clone(), "2018-06-01").await, 201).await;
    assert_eq!(added["status"], "active");
    // Another account's typing does not contradict the first: each row keeps its own.
    let again = body_of(add(aunt.token.clone(), "2017-03-03").await, 201).await;
    assert_eq!(again["eligible"], true);
    assert!(stored_birth_dates(&app).iter().all(Option::is_none));
}

#[tokio::test]
async fn a_person_with_an_account_is_a_companion_only_after_accepting_and_can_end_it() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let grandpa_number = elder(7);
    let grandpa = app
        .new_resident()
        .subject("grandpa")
        .named("王爷爷")
        .id_number(&grandpa_number)
        .phone("13912340002")
        .build()
        .await
        .token;
    let stranger = stranger(&app).await;

    // Typing his number makes a request, not a companion.
    let added = app
        .add_companion(&stranger, "王爷爷", &grandpa_number, "爷爷")
        .await;
    assert_eq!(added["status"], "awaiting_acceptance");
    assert_eq!(added["eligible"], false);
    let id = added["id"].as_i64().unwrap();
    let scan = |token: String| {
        let app = &app;
        let code = venue.code_url.clone();
        async move {
            app.new_scan(&token, &code)
                .with_companions(json!([id]))
                .send()
                .await
        }
    };
    assert_error(
        scan(stranger.clone()).await,
        StatusCode::CONFLICT,
        "companion_not_accepted",
    )
    .await;

    // He sees the request, from whom, and accepts it.
    let requests = app.read(&grandpa, "/api/v1/me/companion-requests").await;
    let request = &requests["items"][0];
    assert_eq!(request["status"], "awaiting_acceptance");
    assert_eq!(request["requested_by"], "陌**");
    assert_eq!(request["relation"], "爷爷");
    let notices = app.read(&grandpa, "/api/v1/me/notifications").await;
    assert!(notices.to_string().contains("同行人员请求"), "{notices}");
    // Nobody else answers for him.
    assert_error(
        app.post_as(
            &stranger,
            &format!("/api/v1/me/companion-requests/{id}/accept"),
            &json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "companion_request_not_found",
    )
    .await;
    let accepted = accept(&app, &grandpa, id).await;
    assert_eq!(accepted["status"], "active");
    body_of(scan(stranger.clone()).await, 201).await;

    // He ends it: the other account can no longer check him in.
    assert_eq!(
        app.delete_as(&grandpa, &format!("/api/v1/me/companion-requests/{id}"))
            .await
            .status(),
        204
    );
    assert_error(
        scan(stranger.clone()).await,
        StatusCode::NOT_FOUND,
        "companion_not_found",
    )
    .await;
    let told = app.read(&stranger, "/api/v1/me/notifications").await;
    assert!(told.to_string().contains("已结束"), "{told}");
}

/// `owner` accepts the companion request `id`; the request as it stands then.
async fn accept(app: &TestApp, owner: &str, id: i64) -> Value {
    body_of(
        app.post_as(
            owner,
            &format!("/api/v1/me/companion-requests/{id}/accept"),
            &json!({}),
        )
        .await,
        200,
    )
    .await
}

// ---- colour notices ---------------------------------------------------------------------------

async fn notices_of_kind(app: &TestApp, token: &str, kind: &str) -> Vec<Value> {
    app.read(token, "/api/v1/me/notifications").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == kind)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_colour_change_is_told_to_the_person_and_to_guardians_not_to_strangers() {
    let app = spawn_app().await;
    let official = app.official(LINWU).await;
    // An adult with an account of his own, declared but not verified.
    let adult_number = adult(9);
    let owner = app
        .new_resident()
        .subject("declared-owner")
        .named("李成人")
        .id_number(&adult_number)
        .phone("13912340003")
        .build()
        .await
        .token;
    // An elder with an account of her own whose number a stranger typed (the request waits; she
    // never accepted).
    let stranger = stranger(&app).await;
    let elder_number = elder(10);
    let grandma = app
        .new_resident()
        .subject("own-grandma")
        .named("赵奶奶")
        .id_number(&elder_number)
        .phone("13912340004")
        .build()
        .await
        .token;
    app.add_companion(&stranger, "赵奶奶", &elder_number, "奶奶")
        .await;
    // A guardian of an elder without an account.
    let guardian = app.resident("孙子").await;
    let cared_for = elder(11);
    app.add_companion(&guardian.token, "钱奶奶", &cared_for, "奶奶")
        .await;

    app.set_color(&official, &adult_number, "李成人", "yellow")
        .await;
    app.set_color(&official, &elder_number, "赵奶奶", "yellow")
        .await;
    app.set_color(&official, &cared_for, "钱奶奶", "yellow")
        .await;

    assert_eq!(notices_of_kind(&app, &owner, "health_code").await.len(), 1);
    assert_eq!(
        notices_of_kind(&app, &grandma, "health_code").await.len(),
        1
    );
    assert_eq!(
        notices_of_kind(&app, &guardian.token, "health_code")
            .await
            .len(),
        1
    );
    assert!(notices_of_kind(&app, &stranger, "health_code")
        .await
        .is_empty());
}

// ---- answers across regions -------------------------------------------------------------------

#[tokio::test]
async fn an_official_of_another_region_cannot_tell_a_known_number_from_an_unknown_one() {
    let app = spawn_app().await;
    let linwu = app.official(LINWU).await;
    // A passport holder on record in Linwu.
    let known = "E55550001";
    body_of(
        app.put_as(
            &linwu,
            &format!("/api/v1/health-codes/{known}?id_type=passport"),
            &json!({"color": "yellow", "reason_code": "close_contact", "name": "Known Person"}),
        )
        .await,
        200,
    )
    .await;
    let unknown = "E55550002";
    let jinan = app.official("370102").await;
    let answer = |number: &'static str| {
        let app = &app;
        let jinan = jinan.clone();
        async move {
            let response = app
                .put_as(
                    &jinan,
                    &format!("/api/v1/health-codes/{number}?id_type=passport"),
                    &json!({"color": "red", "reason_code": "close_contact"}),
                )
                .await;
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap()["error"]["code"].clone(),
            )
        }
    };
    let known_answer = answer(known).await;
    assert_eq!(known_answer.0, StatusCode::NOT_FOUND);
    assert_eq!(known_answer, answer(unknown).await);
    let read = |number: &'static str| {
        let app = &app;
        let jinan = jinan.clone();
        async move {
            app.get_as(
                &jinan,
                &format!("/api/v1/health-codes/{number}?id_type=passport"),
            )
            .await
            .status()
        }
    };
    assert_eq!(read(known).await, StatusCode::NOT_FOUND);
    assert_eq!(read(unknown).await, StatusCode::NOT_FOUND);
    let import = |number: &'static str| {
        let app = &app;
        let jinan = jinan.clone();
        async move {
            let response = app
                .post_as(
                    &jinan,
                    "/api/v1/test-results/import",
                    &json!({"results": [{"id_type": "passport", "id_number": number, "vaccine_doses": 3}]}),
                )
                .await;
            let status = response.status();
            let body = response.json::<Value>().await.unwrap();
            (
                status,
                body["error"]["code"].clone(),
                body["error"]["details"].clone(),
            )
        }
    };
    let known_import = import(known).await;
    assert_eq!(known_import.0, StatusCode::NOT_FOUND);
    assert_eq!(known_import, import(unknown).await);
}

// ---- what the door shows to whom --------------------------------------------------------------

#[tokio::test]
async fn health_details_at_the_door_reach_only_the_person_and_their_guardian() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let official = app.official(LINWU).await;
    let grandpa_number = elder(20);
    let grandpa = app
        .new_resident()
        .subject("door-grandpa")
        .named("王爷爷")
        .id_number(&grandpa_number)
        .phone("13912340005")
        .build()
        .await
        .token;
    let cared_for = elder(21);
    let sampled = (Utc::now() - Duration::hours(2)).to_rfc3339();
    body_of(
        app.post_as(
            &official,
            "/api/v1/test-results/import",
            &json!({"results": [
                {"id_number": grandpa_number, "result": "negative", "sampled_at": sampled, "vaccine_doses": 3},
                {"id_number": cared_for, "name": "钱奶奶", "result": "negative", "sampled_at": sampled, "vaccine_doses": 2},
            ]}),
        )
        .await,
        200,
    )
    .await;

    // His own page shows his details.
    let own = app.check_in(&grandpa, &venue.code_url).await;
    assert_eq!(own["people"][0]["health"]["test"]["result"], "negative");
    assert_eq!(own["people"][0]["health"]["vaccination"]["doses"], 3);

    // Someone he accepted sees his colour and verdict, not his details; a guardian sees the
    // details of the elder she looks after.
    let family = app.resident("家人").await;
    let request = app
        .add_companion(&family.token, "王爷爷", &grandpa_number, "爷爷")
        .await;
    let id = request["id"].as_i64().unwrap();
    accept(&app, &grandpa, id).await;
    let grandma = app
        .add_companion(&family.token, "钱奶奶", &cared_for, "奶奶")
        .await;
    let page = body_of(
        app.scan(
            &family.token,
            json!({"code": venue.code_url, "companion_ids": [id, grandma["id"]]}),
        )
        .await,
        201,
    )
    .await;
    let him = &page["people"][1];
    assert_eq!(him["health"]["color"], "green");
    assert_eq!(him["verdict"], "pass");
    assert!(him["health"]["test"].is_null(), "{page}");
    assert!(him["health"]["vaccination"].is_null(), "{page}");
    assert_eq!(page["people"][2]["health"]["vaccination"]["doses"], 2);

    // Venue staff typing his number at the desk see the verdict only.
    let desk = app.venue_staff(&venue).await;
    let registered = body_of(
        app.post_as(
            &desk.token,
            &format!("/api/v1/venues/{}/manual-check-ins", venue.id),
            &json!({"entrance_id": venue.entrance_id, "name": "王爷爷", "id_number": grandpa_number}),
        )
        .await,
        201,
    )
    .await;
    let at_desk = &registered["people"][0];
    assert_eq!(at_desk["verdict"], "pass");
    assert!(at_desk["health"]["test"].is_null(), "{registered}");
    assert!(at_desk["health"]["vaccination"].is_null(), "{registered}");
}

// ---- sysadmins --------------------------------------------------------------------------------

#[tokio::test]
async fn a_sysadmin_cannot_disable_or_demote_a_peer_nor_make_one() {
    let app = spawn_app().await;
    let (cookie, csrf) = console_session(&app, "linwu-admin-a", "sysadmin", LINWU).await;
    app.new_staff("sysadmin")
        .named("linwu-admin-b")
        .login()
        .await;
    // The accounts page offers no change of a peer.
    let page = console_get(&app, &cookie, "/console/staff")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("同级管理员"), "{page}");
    assert!(
        !page.contains("/console/staff/linwu-admin-b/access"),
        "{page}"
    );
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let app = &app;
        let cookie = cookie.clone();
        async move {
            app.client
                .post(format!("{}{path}", app.address))
                .header("cookie", cookie)
                .form(&form)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let disable = post(
        "/console/staff/linwu-admin-b/access".into(),
        vec![("csrf", csrf.clone()), ("disabled", "true".into())],
    )
    .await;
    assert!(
        disable.contains("本地区没有可管理的账号 linwu-admin-b"),
        "{disable}"
    );
    let demote = post(
        "/console/staff/linwu-admin-b/role".into(),
        vec![
            ("csrf", csrf.clone()),
            ("role", "auditor".into()),
            ("region", LINWU.into()),
        ],
    )
    .await;
    assert!(
        demote.contains("本地区没有可管理的账号 linwu-admin-b"),
        "{demote}"
    );
    // The peer still works.
    let peer = api_login(&app, "linwu-admin-b").await;
    let me = app.read(&peer, "/api/v1/staff/me").await;
    assert_eq!(me["role"], "sysadmin");

    // Nor can one make a peer: a sysadmin of the same region.
    let made = post(
        "/console/staff".into(),
        vec![
            ("csrf", csrf.clone()),
            ("username", "linwu-admin-c".into()),
            ("role", "sysadmin".into()),
            ("region", LINWU.into()),
            ("password", STAFF_PASSWORD.into()),
        ],
    )
    .await;
    assert!(made.contains("只能管理本地区的账号"), "{made}");
    assert_error(
        app.post_json(
            "/api/v1/staff-sessions",
            &json!({"username": "linwu-admin-c", "password": STAFF_PASSWORD}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn a_companion_who_gets_an_account_of_their_own_is_asked_and_a_request_never_answered_stays_closed(
) {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let grandson = app.resident("孙子").await;
    let number = elder(30);
    let grandma = app
        .add_companion(&grandson.token, "刘奶奶", &number, "奶奶")
        .await;
    assert_eq!(grandma["status"], "active");
    let id = grandma["id"].as_i64().unwrap();
    let scan_with_her = || {
        let app = &app;
        let token = grandson.token.clone();
        let code = venue.code_url.clone();
        async move {
            app.new_scan(&token, &code)
                .with_companions(json!([id]))
                .send()
                .await
        }
    };
    body_of(scan_with_her().await, 201).await;

    // She gets a phone and declares her identity: her grandson now needs her word.
    let her = app
        .new_resident()
        .subject("grandma-phone")
        .named("刘奶奶")
        .id_number(&number)
        .phone("13912340006")
        .build()
        .await
        .token;
    assert_error(
        scan_with_her().await,
        StatusCode::CONFLICT,
        "companion_not_accepted",
    )
    .await;
    let requests = app.read(&her, "/api/v1/me/companion-requests").await;
    assert_eq!(requests["items"][0]["status"], "awaiting_acceptance");

    // A stranger's request that she never answered stays closed after she withdraws her consent.
    let stranger = stranger(&app).await;
    let asked = app
        .add_companion(&stranger, "刘奶奶", &number, "奶奶")
        .await;
    assert_eq!(
        app.delete_as(&her, "/api/v1/me/consent").await.status(),
        204
    );
    assert_error(
        app.scan(
            &stranger,
            json!({"code": venue.code_url, "companion_ids": [asked["id"]]}),
        )
        .await,
        StatusCode::CONFLICT,
        "companion_not_accepted",
    )
    .await;
}

// ---- past the list ------------------------------------------------------------------------------

#[tokio::test]
async fn a_stay_typed_at_a_desk_gives_another_regions_officials_no_power_over_a_person() {
    let app = spawn_app().await;
    let linwu = app.official(LINWU).await;
    let number = elder(50);
    app.set_color(&linwu, &number, "王奶奶", "red").await;
    let jinan_venue = app.jinan_hospital().await;
    // A manager in Jinan types her number at the desk.
    body_of(
        app.post_as(
            &jinan_venue.manager,
            &format!("/api/v1/venues/{}/manual-check-ins", jinan_venue.id),
            &json!({"entrance_id": jinan_venue.entrance_id, "name": "随便写", "id_number": number}),
        )
        .await,
        201,
    )
    .await;
    let jinan = app.official("370102").await;
    let path = format!("/api/v1/health-codes/{number}");
    assert_error(
        app.get_as(&jinan, &path).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let set = app
        .put_as(
            &jinan,
            &path,
            &json!({"color": "green", "reason_code": "close_contact"}),
        )
        .await;
    assert_eq!(set.status(), 404);
    assert_eq!(
        app.delete_as(&jinan, &format!("/api/v1/identity-bindings/{number}"))
            .await
            .status(),
        404
    );
    // Her home county still holds her red code.
    assert_eq!(app.read(&linwu, &path).await["color"], "red");
}

#[tokio::test]
async fn a_paper_code_printed_for_a_companion_stops_when_her_identity_changes_hands() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let grandson = app.resident("孙辈").await;
    let (grandma, code) = app
        .companion_with_paper_code(&grandson.token, "李奶奶", 60)
        .await;
    // She declares her identity with a phone of her own.
    app.new_resident()
        .subject("paper-grandma")
        .named("李奶奶")
        .id_number(elder(60))
        .phone("13912340007")
        .build()
        .await;
    let desk = app.venue_staff(&venue).await;
    let scanned = app
        .post_as(
            &desk.token,
            &format!("/api/v1/venues/{}/paper-scans", venue.id),
            &json!({"entrance_id": venue.entrance_id, "code": code}),
        )
        .await;
    assert_eq!(scanned.status(), 410, "{}", scanned.text().await.unwrap());
    let reprint = app
        .get_as(
            &grandson.token,
            &format!("/api/v1/me/companions/{}/paper-code.png", grandma["id"]),
        )
        .await;
    // She prints her own code now.
    assert_error(reprint, StatusCode::FORBIDDEN, "companion_has_account").await;
}

#[tokio::test]
async fn windows_that_end_past_tomorrow_are_refused() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let official = app.official(LINWU).await;
    let now = Utc::now();
    let query = window_query(now - Duration::hours(1), now + Duration::days(3));
    let refused = assert_error(
        app.get_as(
            &official,
            &format!("/api/v1/venues/{}/visitors?{query}", venue.id),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&refused, "to"), "range_in_future");
}
