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

/// How many provinces' villages are in, as the loader records them.
fn provinces_loaded(app: &TestApp) -> i64 {
    use diesel::{QueryableByName, RunQueryDsl};
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.database().get().unwrap();
    venuecode::per_backend!(&mut *conn, |c| diesel::sql_query(
        "SELECT COUNT(*) AS n FROM reference_data WHERE name LIKE 'villages:%'"
    )
    .get_result::<Count>(c))
    .unwrap()
    .n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_villages_load_a_client_is_never_refused_and_the_command_line_writes() {
    // The largest provinces, loaded in the background from the start.
    let app = spawn_app_with(&[("VILLAGE_PROVINCES", "41,43,44,51")]).await;
    let began = std::time::Instant::now();
    let mut requests = 0;
    let mut staff = 0;
    while provinces_loaded(&app) < 4 {
        assert!(
            began.elapsed() < std::time::Duration::from_secs(240),
            "the villages never finished loading"
        );
        // One request at a time, each a write: never 503 while the server is healthy.
        let login = app
            .post_json(
                "/api/v1/sessions/dev",
                &json!({"platform": "wechat", "subject": format!("steady-{requests}")}),
            )
            .await;
        let status = login.status();
        assert_eq!(
            status,
            200,
            "request {requests} during the load: {}",
            login.text().await.unwrap_or_default()
        );
        requests += 1;
        if requests % 25 == 0 {
            // And the command line never meets a locked database.
            let mut create = app.command();
            create.args([
                "staff",
                "create",
                "--username",
                &format!("loader-{staff}"),
                "--role",
                "reviewer",
                "--region",
                "431025",
            ]);
            create.stdin(std::process::Stdio::piped());
            create.stdout(std::process::Stdio::piped());
            create.stderr(std::process::Stdio::piped());
            let mut child = create.spawn().unwrap();
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(b"correct horse battery staple\n")
                .unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "staff create during the load: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            staff += 1;
        }
    }
    // Enough requests beside the load to have met it (how many depends on the machine: 95 to
    // several hundred have been seen).
    assert!(
        staff > 0 && requests >= 50,
        "{requests} requests, {staff} accounts made during the load"
    );
}
