//! Street offices and communities register many venues at once; their posters in one download.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, body_of, id_number, spawn_app, spawn_app_with, TestApp, LINWU, LINWU_TOWNSHIP,
};

/// A venue of the township with three entrances, its manager reachable at `phone`.
fn venue(n: usize, phone: &str) -> Value {
    let mut venue = TestApp::application(LINWU_TOWNSHIP, &format!("临武县舜峰镇第{n}便民店"));
    venue["manager"]["phone"] = json!(phone);
    venue["entrances"] = json!([{"name": "东门"}, {"name": "西门"}, {"name": "北门"}]);
    venue
}

async fn registrar(app: &TestApp) -> String {
    app.new_staff("registrar")
        .in_region(LINWU_TOWNSHIP)
        .named("linwu-street")
        .login()
        .await
}

#[tokio::test]
async fn a_registrar_registers_venues_that_work_at_once_and_their_manager_claims_them() {
    let app = spawn_app().await;
    let registrar = registrar(&app).await;
    let venues: Vec<Value> = (1..=3).map(|n| venue(n, "13900001111")).collect();
    let registered = body_of(
        app.post_as(
            &registrar,
            "/api/v1/venues/import",
            &json!({"venues": venues}),
        )
        .await,
        201,
    )
    .await;
    let items = registered["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["entrances"].as_array().unwrap().len(), 3);
    let code = items[0]["entrances"][0]["code_url"].as_str().unwrap();

    // Approved at once: a resident checks in.
    let resident = app.resident("周平").await;
    app.check_in(&resident.token, code).await;

    // Every entrance's code and poster in one archive, for the registrar.
    let venue_id = items[0]["id"].as_i64().unwrap();
    let zip = app
        .get_as(
            &registrar,
            &format!("/api/v1/venues/{venue_id}/posters.zip"),
        )
        .await;
    assert_eq!(zip.status(), 200);
    assert_eq!(zip.headers()["content-type"], "application/zip");
    let bytes = zip.bytes().await.unwrap();
    let names = zip_names(&bytes);
    assert_eq!(names.len(), 6, "{names:?}");
    assert!(names.iter().any(|n| n.ends_with(".png")) && names.iter().any(|n| n.ends_with(".svg")));

    // The manager logs in with the mobile the registrar typed and finds the venues theirs.
    let manager = app
        .new_resident()
        .subject("shopkeeper")
        .named("王建国")
        .id_number(id_number("43102519800315001"))
        .phone("13900001111")
        .build()
        .await
        .token;
    let mine = app.read(&manager, "/api/v1/me/venues").await;
    let managed: Vec<&Value> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["role"] == "manager")
        .collect();
    assert_eq!(managed.len(), 3, "{mine}");
    let png = app
        .get_as(
            &manager,
            &format!(
                "/api/v1/venues/{venue_id}/entrances/{}/code.png",
                items[0]["entrances"][0]["id"]
            ),
        )
        .await;
    assert_eq!(png.status(), 200);
    let zip = app
        .get_as(&manager, &format!("/api/v1/venues/{venue_id}/posters.zip"))
        .await;
    assert_eq!(zip.status(), 200);
    // Someone else with another mobile claims nothing.
    let other = app.resident("路人").await;
    let theirs = app.read(&other.token, "/api/v1/me/venues").await;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0, "{theirs}");

    let auditor = app.auditor(LINWU).await;
    let log = app
        .read(&auditor, "/api/v1/audit-log?action=venue.register")
        .await;
    assert_eq!(log["items"][0]["count"], 3, "{log}");
}

/// The file names in a zip archive (its central directory).
fn zip_names(bytes: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut at = 0;
    while let Some(offset) = bytes[at..].windows(4).position(|w| w == b"PK\x01\x02") {
        let start = at + offset;
        let len = u16::from_le_bytes([bytes[start + 28], bytes[start + 29]]) as usize;
        names.push(String::from_utf8_lossy(&bytes[start + 46..start + 46 + len]).into_owned());
        at = start + 46 + len;
    }
    names
}

#[tokio::test]
async fn a_sheet_is_registered_all_or_nothing_with_every_bad_row_named() {
    let app = spawn_app().await;
    let registrar = registrar(&app).await;
    let header = "name,category,subtype,region_code,address,lat,lng,manager_name,manager_phone,manager_id_number,entrances\n";
    let manager_id = id_number("43102519800315001");
    let good = |n: u32| {
        format!("临武县舜峰镇第{n}粮油店,daily_shopping,supermarket,{LINWU_TOWNSHIP},解放路{n}号,25.2797,112.5634,王建国,13900002222,{manager_id},东门|西门\n")
    };
    let bad_phone = format!("临武县舜峰镇坏店,daily_shopping,supermarket,{LINWU_TOWNSHIP},解放路9号,25.2797,112.5634,王建国,123,{manager_id},东门\n");
    let sheet = format!("\u{feff}{header}{}{bad_phone}{}", good(1), good(2));
    let answer = app
        .client
        .post(format!("{}/api/v1/venues/import", app.address))
        .bearer_auth(&registrar)
        .header("content-type", "text/csv; charset=utf-8")
        .body(sheet)
        .send()
        .await
        .unwrap();
    let error = assert_error(
        answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let details = &error["error"]["details"];
    assert!(details["venues[1].manager.phone"].is_object(), "{error}");
    assert_eq!(details.as_object().unwrap().len(), 1, "{error}");
    // Nothing was stored.
    let reviewer = app.reviewer(LINWU).await;
    let approved = app.read(&reviewer, "/api/v1/reviews?status=approved").await;
    assert_eq!(approved["items"].as_array().unwrap().len(), 0);

    let sheet = format!("{header}{}{}", good(1), good(2));
    let answer = app
        .client
        .post(format!("{}/api/v1/venues/import", app.address))
        .bearer_auth(&registrar)
        .header("content-type", "text/csv")
        .body(sheet)
        .send()
        .await
        .unwrap();
    let registered = body_of(answer, 201).await;
    assert_eq!(registered["items"].as_array().unwrap().len(), 2);
    assert_eq!(registered["items"][1]["entrances"][1]["name"], "西门");
    let approved = app.read(&reviewer, "/api/v1/reviews?status=approved").await;
    assert_eq!(approved["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn registrars_register_only_inside_their_region_and_only_they_register() {
    let app = spawn_app().await;
    let registrar = registrar(&app).await;
    // Another township of the county lies outside a township's registrar.
    let mut elsewhere = venue(1, "13900001111");
    elsewhere["region_code"] = json!("431025101");
    let answer = app
        .post_as(
            &registrar,
            "/api/v1/venues/import",
            &json!({"venues": [venue(2, "13900001111"), elsewhere]}),
        )
        .await;
    let error = assert_error(
        answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        error["error"]["details"]["venues[1].region_code"]["code"], "region_outside",
        "{error}"
    );

    for token in [
        app.reviewer(LINWU).await,
        app.official(LINWU).await,
        app.account().await,
    ] {
        let answer = app
            .post_as(
                &token,
                "/api/v1/venues/import",
                &json!({"venues": [venue(3, "13900001111")]}),
            )
            .await;
        assert_eq!(answer.status(), 403);
    }
    let empty = app
        .post_as(&registrar, "/api/v1/venues/import", &json!({"venues": []}))
        .await;
    assert_error(empty, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    // Posters: a health official may not; a reviewer of another region finds nothing.
    let registered = body_of(
        app.post_as(
            &registrar,
            "/api/v1/venues/import",
            &json!({"venues": [venue(4, "13900001111")]}),
        )
        .await,
        201,
    )
    .await;
    let path = format!(
        "/api/v1/venues/{}/posters.zip",
        registered["items"][0]["id"]
    );
    let official = app.official(LINWU).await;
    assert_eq!(app.get_as(&official, &path).await.status(), 403);
    let jinan = app.reviewer("370102").await;
    assert_eq!(app.get_as(&jinan, &path).await.status(), 404);
    let reviewer = app.reviewer(LINWU).await;
    assert_eq!(app.get_as(&reviewer, &path).await.status(), 200);
}

#[tokio::test]
async fn a_credit_code_is_kept_when_its_check_character_is_right() {
    let app = spawn_app().await;
    let manager = app.account().await;
    let mut application = TestApp::application(LINWU_TOWNSHIP, "临武县舜峰镇信用超市");
    application["credit_code"] = json!("91440300708461136X");
    let answer = app.post_as(&manager, "/api/v1/venues", &application).await;
    let error = assert_error(
        answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        error["error"]["details"]["credit_code"]["code"],
        "credit_code_invalid"
    );
    application["credit_code"] = json!("91440300708461136t");
    let applied = app.apply(&manager, application).await;
    assert_eq!(applied["credit_code"], "91440300708461136T");

    let registrar = registrar(&app).await;
    let mut bad = venue(9, "13900001111");
    bad["credit_code"] = json!("91440300708461137T");
    let answer = app
        .post_as(
            &registrar,
            "/api/v1/venues/import",
            &json!({"venues": [venue(8, "13900001111"), bad]}),
        )
        .await;
    let error = assert_error(
        answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(
        error["error"]["details"]["venues[1].credit_code"].is_object(),
        "{error}"
    );
}

#[tokio::test]
async fn a_venue_is_handed_over_to_the_manager_who_proves_the_new_mobile() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let new_manager = json!({"manager": {"name": "李新", "phone": "13900005555", "id_number": id_number("43102519900101002")}});
    let path = format!("/api/v1/venues/{}/handover", venue.id);

    let bad = app
        .post_as(&venue.manager, &path, &json!({"manager": {"name": "李新", "phone": "555", "id_number": id_number("43102519900101002")}}))
        .await;
    let error = assert_error(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(
        error["error"]["details"]["manager.phone"].is_object(),
        "{error}"
    );

    let handed = body_of(app.post_as(&venue.manager, &path, &new_manager).await, 200).await;
    assert_eq!(handed["manager"]["name"], "李*");
    // The old manager has lost it.
    let code = format!(
        "/api/v1/venues/{}/entrances/{}/code.png",
        venue.id, venue.entrance_id
    );
    assert_eq!(app.get_as(&venue.manager, &code).await.status(), 404);
    let again = app.post_as(&venue.manager, &path, &new_manager).await;
    assert_eq!(again.status(), 404);
    // The new one logs in with that mobile and has it.
    let li = app
        .new_resident()
        .subject("li")
        .named("李新")
        .id_number(id_number("43102519900101002"))
        .phone("13900005555")
        .build()
        .await
        .token;
    let mine = app.read(&li, "/api/v1/me/venues").await;
    assert_eq!(mine["items"][0]["id"], venue.id, "{mine}");
    assert_eq!(app.get_as(&li, &code).await.status(), 200);

    // A registrar of the region may hand it on; a health official may not; another region's
    // reviewer finds nothing.
    let official = app.official(LINWU).await;
    assert_eq!(
        app.post_as(&official, &path, &new_manager).await.status(),
        403
    );
    let jinan = app.reviewer("370102").await;
    assert_eq!(app.post_as(&jinan, &path, &new_manager).await.status(), 404);
    let registrar = registrar(&app).await;
    body_of(app.post_as(&registrar, &path, &new_manager).await, 200).await;
    let auditor = app.auditor(LINWU).await;
    let log = app
        .read(&auditor, "/api/v1/audit-log?action=venue.handover")
        .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 2, "{log}");

    let (manager, pending) = app
        .applied_venue(LINWU_TOWNSHIP, "临武县舜峰镇待审超市")
        .await;
    let answer = app
        .post_as(
            &manager,
            &format!("/api/v1/venues/{}/handover", pending["id"]),
            &new_manager,
        )
        .await;
    assert_error(answer, StatusCode::CONFLICT, "venue_not_active").await;
}

#[tokio::test]
async fn while_the_largest_import_is_written_scans_are_never_refused_and_its_venues_appear_at_once()
{
    // One resident scans throughout: no hourly limit in the way.
    let app = spawn_app_with(&[("CHECKIN_HOURLY_LIMIT", "100000")]).await;
    let registrar = registrar(&app).await;
    let first = body_of(
        app.post_as(
            &registrar,
            "/api/v1/venues/import",
            &json!({"venues": [venue(0, "13900002222")]}),
        )
        .await,
        201,
    )
    .await;
    let code = first["items"][0]["entrances"][0]["code_url"]
        .as_str()
        .unwrap()
        .to_owned();
    // Ids are handed out in order: the next venue written is the import's first.
    let next_id = first["items"][0]["id"].as_i64().unwrap() + 1;
    let mut residents = Vec::new();
    for n in 0..8 {
        residents.push(app.resident(&format!("居民{n}")).await.token);
    }

    // The largest import the API takes: 5,000 venues of 50 entrances.
    let entrances: Vec<Value> = (1..=50)
        .map(|n| json!({"name": format!("门{n}")}))
        .collect();
    let venues: Vec<Value> = (1..=5_000)
        .map(|n| {
            let mut venue = venue(n, "13900003333");
            venue["entrances"] = json!(entrances);
            venue
        })
        .collect();
    let import = tokio::spawn(
        app.client
            .post(format!("{}/api/v1/venues/import", app.address))
            .bearer_auth(&registrar)
            .json(&json!({"venues": venues}))
            .timeout(std::time::Duration::from_secs(600))
            .send(),
    );

    // One request at a time: fresh scans (each a new row: offline, a minute apart per person),
    // and a look at the
    // import's first venue, which no one sees until the whole import is written.
    let began = std::time::Instant::now();
    let mut scans: i64 = 0;
    let mut unseen = 0;
    while !import.is_finished() {
        assert!(
            began.elapsed() < std::time::Duration::from_secs(600),
            "the import never finished"
        );
        let back = 60 + 61 * (scans / residents.len() as i64);
        let scanned_at = (chrono::Utc::now() - chrono::Duration::seconds(back))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let resident = &residents[scans as usize % residents.len()];
        let scan = app.new_scan(resident, &code).at(&scanned_at).send().await;
        let status = scan.status();
        assert_eq!(
            status,
            201,
            "scan {scans} during the import: {}",
            scan.text().await.unwrap_or_default()
        );
        scans += 1;
        let posters = app
            .get_as(&registrar, &format!("/api/v1/venues/{next_id}/posters.zip"))
            .await;
        if !import.is_finished() && posters.status() == StatusCode::NOT_FOUND {
            unseen += 1;
        }
    }
    let registered = body_of(import.await.unwrap().unwrap(), 201).await;
    let items = registered["items"].as_array().unwrap();
    assert_eq!(items.len(), 5_000);
    assert_eq!(items[0]["id"], next_id);
    assert_eq!(items[4_999]["entrances"].as_array().unwrap().len(), 50);
    assert!(
        scans > 20 && unseen > 0,
        "{scans} scans, {unseen} looks during the import"
    );
    // Once written, every venue is there at once.
    let posters = app
        .get_as(&registrar, &format!("/api/v1/venues/{next_id}/posters.zip"))
        .await;
    assert_eq!(posters.status(), 200);
}

/// How many venues and entrances of this name pattern are stored (seen or not).
fn stored(app: &TestApp, name_like: &str) -> (i64, i64) {
    use diesel::prelude::*;
    use venuecode::db::schema::{entrances, venues};
    let mut conn = app.database().get().unwrap();
    let ids: Vec<i64> = venuecode::per_backend!(&mut *conn, |c| venues::table
        .filter(venues::name.like(name_like))
        .select(venues::id)
        .load(c))
    .unwrap();
    let doors: i64 = venuecode::per_backend!(&mut *conn, |c| entrances::table
        .filter(entrances::venue_id.eq_any(&ids))
        .count()
        .get_result(c))
    .unwrap();
    (ids.len() as i64, doors)
}

#[tokio::test]
async fn an_import_that_fails_half_way_leaves_nothing_behind() {
    use diesel::RunQueryDsl;
    let app = spawn_app().await;
    let registrar = registrar(&app).await;
    // The database refuses one entrance of the last venue: its part fails after two parts of
    // the import were written.
    let mut conn = app.database().get().unwrap();
    let refuse = if app.database.is_postgres() {
        vec![
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN \
             IF NEW.name = '坏门' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ \
             LANGUAGE plpgsql"
                .to_owned(),
            "CREATE TRIGGER refuse BEFORE INSERT ON entrances FOR EACH ROW EXECUTE FUNCTION refuse()"
                .to_owned(),
        ]
    } else {
        vec![
            "CREATE TRIGGER refuse BEFORE INSERT ON entrances WHEN NEW.name = '坏门' \
              BEGIN SELECT RAISE(ABORT, 'refused'); END"
                .to_owned(),
        ]
    };
    for statement in refuse {
        venuecode::per_backend!(&mut *conn, |c| diesel::sql_query(&statement).execute(c)).unwrap();
    }
    let entrances: Vec<Value> = (1..=50)
        .map(|n| json!({"name": format!("门{n}")}))
        .collect();
    let mut venues: Vec<Value> = (1..=100)
        .map(|n| {
            let mut venue = venue(n, "13900004444");
            venue["entrances"] = json!(entrances);
            venue
        })
        .collect();
    venues[99]["entrances"][49] = json!({"name": "坏门"});
    let failed = app
        .post_as(
            &registrar,
            "/api/v1/venues/import",
            &json!({"venues": venues}),
        )
        .await;
    assert_eq!(failed.status(), 500);
    assert_eq!(stored(&app, "临武县舜峰镇第%便民店"), (0, 0));
}

#[tokio::test]
async fn an_import_left_half_way_is_seen_by_no_one_and_purged_after_a_day() {
    use diesel::prelude::*;
    use venuecode::db::schema::venues;
    let app = spawn_app().await;
    let registrar = registrar(&app).await;
    let registered = body_of(
        app.post_as(
            &registrar,
            "/api/v1/venues/import",
            &json!({"venues": [venue(1, "13900005555"), venue(2, "13900005555")]}),
        )
        .await,
        201,
    )
    .await;
    let (kept, left) = (
        registered["items"][0]["id"].as_i64().unwrap(),
        registered["items"][1]["id"].as_i64().unwrap(),
    );
    // As if its node had stopped before the last step: the second venue's import never finished.
    let mut conn = app.database().get().unwrap();
    venuecode::per_backend!(&mut *conn, |c| diesel::update(venues::table.find(left))
        .set(venues::unfinished_import.eq(Some(42_i64)))
        .execute(c))
    .unwrap();
    let posters = |id: i64| format!("/api/v1/venues/{id}/posters.zip");
    assert_eq!(app.get_as(&registrar, &posters(left)).await.status(), 404);
    assert_eq!(app.get_as(&registrar, &posters(kept)).await.status(), 200);

    // Within the day it may still finish; after it, the purge deletes it, and only it.
    let days = app.settings.retention.days;
    venuecode::services::retention::purge(&app.state, days)
        .await
        .unwrap();
    assert_eq!(stored(&app, "临武县舜峰镇第%便民店"), (2, 6));
    app.state.clock.advance(chrono::Duration::hours(25));
    let purged = venuecode::services::retention::purge(&app.state, days)
        .await
        .unwrap();
    assert!(purged.counts.contains(&("venues_of_unfinished_imports", 1)));
    assert_eq!(stored(&app, "临武县舜峰镇第%便民店"), (1, 3));
}
