//! Tracing a case, exporting it safely, acting on it, risky venue windows, the audit chain and
//! retention.

use std::process::Command;

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::check_ins::set_color;
use crate::helpers::{
    assert_error, id_number, spawn_app_with, TestApp, TEST_JWT_SECRET, TEST_PASS_SIGNING_KEY,
    TEST_PII_KEY, TEST_VENUE_CODE_KEY,
};
use crate::venues::application;

/// An approved venue of the given subtype; returns its id and first entrance's code URL.
async fn venue(
    app: &TestApp,
    reviewer: &str,
    subject: &str,
    name: &str,
    category: &str,
    subtype: &str,
) -> (i64, String) {
    let manager = app.dev_login("wechat", subject).await;
    let mut body = application("431025100", name);
    body["category"] = json!(category);
    body["subtype"] = json!(subtype);
    let venue: Value = app
        .post_as(&manager, "/api/v1/venues", &body)
        .await
        .json()
        .await
        .unwrap();
    let approved: Value = app
        .post_as(
            reviewer,
            &format!("/api/v1/reviews/{}", venue["id"]),
            &json!({"decision": "approve"}),
        )
        .await
        .json()
        .await
        .unwrap();
    (
        approved["id"].as_i64().unwrap(),
        approved["entrances"][0]["code_url"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

async fn scan_at(
    app: &TestApp,
    token: &str,
    code: &str,
    at: Option<chrono::DateTime<Utc>>,
    companions: &[i64],
) -> Value {
    let mut body = json!({"code": code, "companion_ids": companions});
    if let Some(at) = at {
        body["scanned_at"] = json!(at.to_rfc3339());
    }
    let response = app.post_as(token, "/api/v1/check-ins", &body).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

fn names_at(trace: &Value, level: u64) -> Vec<String> {
    let mut names: Vec<String> = trace["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["level"] == level)
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

struct Scenario {
    app: TestApp,
    official: String,
    a_id: String,
    k_token: String,
    c_token: String,
    hospital: i64,
    t0: chrono::DateTime<Utc>,
}

/// A (the case) at the hospital V from T0 for its default two hours; K with companion B at V
/// from T0+1:30; C at V from T0+2:30; D at another venue at T0+1:00; K and B at a shop at
/// T0+4:00 where E arrives at T0+4:20. Then, in real time at a restaurant: G and H arrived 30
/// minutes ago, G has checked out, and A arrives now; two people with hostile names are registered
/// there by hand.
async fn scenario() -> Scenario {
    let app = spawn_app_with(&[("TRACE_CONFIRM_THRESHOLD", "3")]).await;
    let reviewer = app.staff_login("linwu-review", "reviewer", "431025").await;
    let official = app
        .staff_login("linwu-health", "health_official", "431025")
        .await;
    let (hospital, v) = venue(
        &app,
        &reviewer,
        "m-hospital",
        "临武县人民医院",
        "medical_transport",
        "hospital",
    )
    .await;
    let (_, w) = venue(
        &app,
        &reviewer,
        "m-bank",
        "临武县农村商业银行",
        "daily_shopping",
        "bank",
    )
    .await;
    let (_, shop) = venue(
        &app,
        &reviewer,
        "m-shop",
        "临武县舜峰镇便利店",
        "daily_shopping",
        "supermarket",
    )
    .await;
    let (restaurant_id, restaurant) = venue(
        &app,
        &reviewer,
        "m-food",
        "临武县舜峰镇东江鱼馆",
        "lodging_dining",
        "restaurant",
    )
    .await;

    let a_id = id_number("43102519800101001");
    let a = app
        .consented_resident("case-a", "甲病例", &a_id, "13800000001")
        .await;
    let k = app
        .consented_resident(
            "guardian-k",
            "柯监护",
            &id_number("43102519800101002"),
            "13800000002",
        )
        .await;
    let c = app
        .consented_resident(
            "later-c",
            "丙晚到",
            &id_number("43102519800101003"),
            "13800000003",
        )
        .await;
    let d = app
        .consented_resident(
            "elsewhere-d",
            "丁别处",
            &id_number("43102519800101004"),
            "13800000004",
        )
        .await;
    let e = app
        .consented_resident(
            "second-e",
            "戊二级",
            &id_number("43102519800101005"),
            "13800000005",
        )
        .await;
    let g = app
        .consented_resident(
            "left-g",
            "庚已离开",
            &id_number("43102519800101006"),
            "13800000006",
        )
        .await;
    let h = app
        .consented_resident(
            "stayed-h",
            "辛仍在",
            &id_number("43102519800101007"),
            "13800000007",
        )
        .await;
    let b: Value = app
        .post_as(&k, "/api/v1/me/companions", &json!({"name": "乙老人", "id_number": id_number("43102519450101008"), "relation": "父亲"}))
        .await
        .json()
        .await
        .unwrap();
    let b_id = b["id"].as_i64().unwrap();

    let t0 = Utc::now() - Duration::hours(20);
    let minutes = |m: i64| Some(t0 + Duration::minutes(m));
    scan_at(&app, &a, &v, minutes(0), &[]).await;
    scan_at(&app, &k, &v, minutes(90), &[b_id]).await;
    scan_at(&app, &c, &v, minutes(150), &[]).await;
    scan_at(&app, &d, &w, minutes(60), &[]).await;
    scan_at(&app, &k, &shop, minutes(240), &[b_id]).await;
    scan_at(&app, &e, &shop, minutes(260), &[]).await;

    let half_hour_ago = Some(Utc::now() - Duration::minutes(30));
    let g_scan = scan_at(&app, &g, &restaurant, half_hour_ago, &[]).await;
    scan_at(&app, &h, &restaurant, half_hour_ago, &[]).await;
    let out = app
        .post_as(
            &g,
            &format!("/api/v1/check-ins/{}/checkout", g_scan["check_in_id"]),
            &json!({}),
        )
        .await;
    assert_eq!(out.status(), 200);
    scan_at(&app, &a, &restaurant, None, &[]).await;

    // Registered by hand after A arrived, under names a spreadsheet would run.
    let manager = app.dev_login("wechat", "m-food").await;
    let entrance = app
        .get_as(&manager, &format!("/api/v1/venues/{restaurant_id}"))
        .await
        .json::<Value>()
        .await
        .unwrap()["entrances"][0]["id"]
        .clone();
    for (name, body) in [
        (r#"=HYPERLINK("http://x","y")"#, "43102519800101009"),
        ("@SUM(1)", "43102519800101010"),
    ] {
        let response = app
            .post_as(
                &manager,
                &format!("/api/v1/venues/{restaurant_id}/manual-check-ins"),
                &json!({"entrance_id": entrance, "name": name, "id_number": id_number(body)}),
            )
            .await;
        assert_eq!(response.status(), 201);
    }
    Scenario {
        app,
        official,
        a_id,
        k_token: k,
        c_token: c,
        hospital,
        t0,
    }
}

async fn trace(s: &Scenario, depth: u8) -> Value {
    let response = s
        .app
        .post_as(
            &s.official,
            "/api/v1/traces",
            &json!({
                "id_number": s.a_id,
                "from": (s.t0 - Duration::hours(1)).to_rfc3339(),
                "to": (Utc::now() + Duration::hours(1)).to_rfc3339(),
                "depth": depth
            }),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

#[tokio::test]
async fn contacts_are_found_by_overlapping_stays() {
    let s = scenario().await;
    let one = trace(&s, 1).await;
    assert_eq!(one["case"]["name"], "甲病例");
    assert_eq!(one["stays"].as_array().unwrap().len(), 2);
    let mut level_one = names_at(&one, 1);
    level_one.sort();
    let mut expected: Vec<String> = [
        "柯监护",
        "乙老人",
        "辛仍在",
        r#"=HYPERLINK("http://x","y")"#,
        "@SUM(1)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    expected.sort();
    assert_eq!(
        level_one, expected,
        "B (and K who brought B), H and the two registered by hand"
    );
    // B's overlap with A is 1:30 to 2:00 after T0.
    let b = one["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "乙老人")
        .unwrap();
    let overlap_from =
        chrono::DateTime::parse_from_rfc3339(b["overlap_from"].as_str().unwrap()).unwrap();
    let overlap_to =
        chrono::DateTime::parse_from_rfc3339(b["overlap_to"].as_str().unwrap()).unwrap();
    // Times are shown to the second.
    let minutes_after_t0 = |t: chrono::DateTime<chrono::FixedOffset>| {
        ((t.with_timezone(&Utc) - s.t0).num_milliseconds() as f64 / 60_000.0).round()
    };
    assert_eq!(minutes_after_t0(overlap_from), 90.0);
    assert_eq!(minutes_after_t0(overlap_to), 120.0);
    assert_eq!(b["venue"], "临武县人民医院");
    assert_eq!(
        b["id_number"],
        id_number("43102519450101008"),
        "officials see the full ID number"
    );
    for absent in ["丙晚到", "丁别处", "戊二级", "庚已离开"] {
        assert!(
            !level_one.iter().any(|n| n == absent),
            "{absent} is not a contact of A"
        );
    }
    assert!(names_at(&one, 2).is_empty());

    // Depth 2 adds the contacts of contacts, as their own level.
    let two = trace(&s, 2).await;
    assert_eq!(names_at(&two, 1), names_at(&one, 1));
    let level_two = names_at(&two, 2);
    assert!(
        level_two.contains(&"戊二级".to_owned()),
        "E met B at the shop: {level_two:?}"
    );
    assert!(
        level_two.contains(&"丙晚到".to_owned()),
        "C met B at the hospital: {level_two:?}"
    );
    assert!(!level_two.contains(&"丁别处".to_owned()));
    // G left before A arrived, but was there with H: a contact of a contact.
    assert!(level_two.contains(&"庚已离开".to_owned()), "{level_two:?}");
    assert_eq!(
        two["levels"],
        json!([{"level": 1, "people": 5}, {"level": 2, "people": 3}])
    );

    // Read back.
    let id = two["trace_id"].as_i64().unwrap();
    let again: Value = s
        .app
        .get_as(&s.official, &format!("/api/v1/traces/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["contacts"], two["contacts"]);
}

#[tokio::test]
async fn the_csv_export_cannot_run_formulas() {
    let s = scenario().await;
    let trace = trace(&s, 1).await;
    let response = s
        .app
        .get_as(
            &s.official,
            &format!("/api/v1/traces/{}/export.csv", trace["trace_id"]),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 byte-order mark");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(text.starts_with("\"层级\",\"姓名\""));
    assert!(
        text.contains(r#""'=HYPERLINK(""http://x"",""y"")""#),
        "{text}"
    );
    assert!(text.contains(r#""'@SUM(1)""#), "{text}");
    for line in text.lines().skip(1) {
        for cell in line.split("\",\"") {
            let cell = cell.trim_start_matches('"');
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "a cell starts like a formula: {cell}"
            );
        }
    }
    assert!(
        !text.contains("甲病例"),
        "the case is not listed among contacts"
    );
}

#[tokio::test]
async fn a_risky_window_notifies_those_who_overlapped_and_their_guardians() {
    let s = scenario().await;
    let response = s
        .app
        .post_as(
            &s.official,
            "/api/v1/risk-windows",
            &json!({
                "venue_id": s.hospital,
                "from": s.t0.to_rfc3339(),
                "to": (s.t0 + Duration::hours(2)).to_rfc3339(),
                "message": "该时段医院有确诊病例到访，请立即报告社区并做核酸检测"
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let window: Value = response.json().await.unwrap();
    assert_eq!(window["people"], 3, "A, K and B");
    // K is told about himself and about B, whom he checked in.
    let notices: Value = s
        .app
        .get_as(&s.k_token, "/api/v1/me/notifications")
        .await
        .json()
        .await
        .unwrap();
    let people: Vec<&str> = notices["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["person"].as_str().unwrap())
        .collect();
    assert!(people.contains(&"乙**"), "{people:?}");
    assert!(people.contains(&"柯**"), "{people:?}");
    assert!(notices["items"][0]["message"]
        .as_str()
        .unwrap()
        .contains("核酸"));
    // C came after the window: nothing.
    let none: Value = s
        .app
        .get_as(&s.c_token, "/api/v1/me/notifications")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["items"], json!([]));
}

#[tokio::test]
async fn large_colour_changes_wait_for_a_second_official() {
    let s = scenario().await;
    let trace = trace(&s, 1).await;
    let id = trace["trace_id"].as_i64().unwrap();
    // Five people at level 1, more than the threshold of 3 here: pending.
    let response = s
        .app
        .post_as(
            &s.official,
            &format!("/api/v1/traces/{id}/color-changes"),
            &json!({"color": "yellow", "reason_code": "close_contact", "level": 1}),
        )
        .await;
    assert_eq!(response.status(), 202);
    let change: Value = response.json().await.unwrap();
    assert_eq!(change["status"], "pending");
    assert_eq!(change["person_count"], 5);
    let h: Value = s
        .app
        .get_as(
            &s.official,
            &format!("/api/v1/health-codes/{}", id_number("43102519800101007")),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(h["color"], "green", "nothing changes before confirmation");
    let confirm = format!("/api/v1/traces/{id}/color-changes/{}/confirm", change["id"]);
    assert_error(
        s.app.post_as(&s.official, &confirm, &json!({})).await,
        StatusCode::FORBIDDEN,
        "second_official_required",
    )
    .await;
    let elsewhere = s
        .app
        .staff_login("jinan-health", "health_official", "3701")
        .await;
    assert_error(
        s.app.post_as(&elsewhere, &confirm, &json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let second = s
        .app
        .staff_login("linwu-health-2", "health_official", "431025")
        .await;
    let confirmed: Value = s
        .app
        .post_as(&second, &confirm, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(confirmed["status"], "applied");
    let h: Value = s
        .app
        .get_as(
            &s.official,
            &format!("/api/v1/health-codes/{}", id_number("43102519800101007")),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(h["color"], "yellow");
    assert_eq!(h["history"][0]["reason_code"], "close_contact");
    assert_error(
        s.app.post_as(&second, &confirm, &json!({})).await,
        StatusCode::CONFLICT,
        "change_not_pending",
    )
    .await;
    // A small one applies at once.
    set_color(&s.app, &s.official, "43102519800101007", "辛仍在", "green").await;
}

#[tokio::test]
async fn trace_requests_are_validated() {
    let app = spawn_app_with::<&str>(&[]).await;
    let official = app
        .staff_login("linwu-health", "health_official", "431025")
        .await;
    let now = Utc::now();
    let body = assert_error(
        app.post_as(&official, "/api/v1/traces", &json!({
            "id_number": "110105194912310021", "from": now.to_rfc3339(), "to": (now - Duration::hours(1)).to_rfc3339(), "depth": 3
        }))
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    for field in ["id_number", "to", "depth"] {
        assert!(
            body["error"]["details"][field].is_object(),
            "{field}: {body}"
        );
    }
    assert_error(
        app.post_as(&official, "/api/v1/traces", &json!({
            "id_number": "11010519491231002X", "from": (now - Duration::days(40)).to_rfc3339(), "to": now.to_rfc3339()
        }))
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_error(
        app.post_as(&official, "/api/v1/traces", &json!({
            "id_number": "11010519491231002X", "from": (now - Duration::days(1)).to_rfc3339(), "to": now.to_rfc3339()
        }))
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let reviewer = app.staff_login("linwu-review", "reviewer", "431025").await;
    assert_error(
        app.get_as(&reviewer, "/api/v1/traces/1").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

fn venuecode(app: &TestApp) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_venuecode"));
    let url = match &app.settings.database.url {
        venuecode::config::DatabaseUrl::Sqlite(path) => path.to_string_lossy().into_owned(),
        venuecode::config::DatabaseUrl::Postgres(url) => url.clone(),
    };
    command
        .env("DATABASE_URL", url)
        .env("DATA_DIR", app.settings.server.data_dir.clone())
        .env("JWT_SECRET", TEST_JWT_SECRET)
        .env("PII_KEY", TEST_PII_KEY)
        .env("VENUE_CODE_KEY", TEST_VENUE_CODE_KEY)
        .env("PASS_SIGNING_KEY", TEST_PASS_SIGNING_KEY)
        .env("APP_ENV", "development")
        .env_remove("RETENTION_DAYS");
    command
}

#[tokio::test]
async fn a_changed_audit_entry_is_named_by_audit_verify() {
    let s = scenario().await;
    trace(&s, 1).await;
    let app = &s.app;
    let auditor = app.staff_login("auditor", "auditor", "43").await;
    let log: Value = app
        .get_as(&auditor, "/api/v1/audit-log?limit=500")
        .await
        .json()
        .await
        .unwrap();
    let items = log["items"].as_array().unwrap();
    assert!(
        items.len() >= 5,
        "reviews, colours and the trace are audited"
    );
    assert!(items.iter().any(|i| i["action"] == "trace.create"));
    assert_error(
        app.get_as(&s.official, "/api/v1/audit-log").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let ok = venuecode(app).args(["audit", "verify"]).output().unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("intact"));

    // Someone with database access lowers the count of the third entry.
    let mut conn = app.database().get().unwrap();
    use diesel::prelude::*;
    use venuecode::db::schema::audit_log;
    diesel::update(audit_log::table.filter(audit_log::seq.eq(3)))
        .set(audit_log::count.eq(0))
        .execute(&mut conn)
        .unwrap();
    let broken = venuecode(app).args(["audit", "verify"]).output().unwrap();
    assert_eq!(broken.status.code(), Some(3));
    let message = String::from_utf8_lossy(&broken.stderr);
    assert!(message.contains("seq 3"), "{message}");

    // Removing an entry is caught too.
    diesel::delete(audit_log::table.filter(audit_log::seq.eq(3)))
        .execute(&mut conn)
        .unwrap();
    let removed = venuecode(app).args(["audit", "verify"]).output().unwrap();
    assert_eq!(removed.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&removed.stderr).contains("seq 4"));
}

#[tokio::test]
async fn purge_deletes_what_is_older_than_the_retention_period() {
    let s = scenario().await;
    let app = &s.app;
    let mut conn = app.database().get().unwrap();
    use diesel::prelude::*;
    use venuecode::db::schema::{alerts, check_ins};
    let total: i64 = check_ins::table.count().get_result(&mut conn).unwrap();
    // Age three check-ins (A's at the hospital among them) past the period.
    let old: Vec<i64> = check_ins::table
        .order(check_ins::id.asc())
        .limit(3)
        .select(check_ins::id)
        .load(&mut conn)
        .unwrap();
    let long_ago = (Utc::now() - Duration::days(40)).naive_utc();
    diesel::update(check_ins::table.filter(check_ins::id.eq_any(&old)))
        .set((
            check_ins::scanned_at.eq(long_ago),
            check_ins::ends_at.eq(long_ago + Duration::hours(2)),
        ))
        .execute(&mut conn)
        .unwrap();
    let output = venuecode(app).arg("purge").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("check_ins: 3 deleted"), "{report}");
    let left: i64 = check_ins::table.count().get_result(&mut conn).unwrap();
    assert_eq!(left, total - 3, "recent check-ins stay");
    let remaining: i64 = check_ins::table
        .filter(check_ins::id.eq_any(&old))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(remaining, 0);
    let _: i64 = alerts::table.count().get_result(&mut conn).unwrap();
    // Nothing more to do the second time.
    let again = venuecode(app).arg("purge").output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("check_ins: 0 deleted"));
}
