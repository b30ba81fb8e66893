//! Tracing a case: contacts by overlapping stays, the CSV export, colour changes for contacts.

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    adult, assert_error, body_of, elder, id_number, scenario, spawn_app, trace, Scenario, LINWU,
};

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

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn contacts_are_those_whose_stay_overlapped_the_cases() {
    let s = scenario().await;
    let one = trace(&s, 1).await;
    assert_eq!(one["case"]["name"], "甲病例");
    assert_eq!(one["stays"].as_array().unwrap().len(), 2);
    assert_eq!(
        names_at(&one, 1),
        sorted(&[
            "柯监护",
            "乙老人",
            "辛仍在",
            r#"=HYPERLINK("http://x","y")"#,
            "@SUM(1)"
        ]),
        "B (and K who brought B), H and the two registered by hand; not C, D, E nor G"
    );
    assert!(names_at(&one, 2).is_empty());
}

#[tokio::test]
async fn a_contact_carries_the_overlap_and_full_identity() {
    let s = scenario().await;
    let one = trace(&s, 1).await;
    let b = one["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "乙老人")
        .unwrap();
    // B's overlap with A is 1:30 to 2:00 after T0, shown to the second.
    let minutes_after_t0 = |field: &str| {
        let t = DateTime::parse_from_rfc3339(b[field].as_str().unwrap()).unwrap();
        ((t.with_timezone(&Utc) - s.t0).num_milliseconds() as f64 / 60_000.0).round()
    };
    assert_eq!(minutes_after_t0("overlap_from"), 90.0);
    assert_eq!(minutes_after_t0("overlap_to"), 120.0);
    assert_eq!(b["venue"], "临武县人民医院");
    assert_eq!(b["id_number"], elder(8), "officials see the full ID number");
}

#[tokio::test]
async fn depth_two_adds_the_contacts_of_contacts_as_their_own_level() {
    let s = scenario().await;
    let two = trace(&s, 2).await;
    assert_eq!(names_at(&two, 2), sorted(&["戊二级", "丙晚到", "庚已离开"]));
    assert_eq!(
        two["levels"],
        json!([{"level": 1, "people": 5}, {"level": 2, "people": 3}])
    );
}

#[tokio::test]
async fn a_trace_is_stored_and_read_back() {
    let s = scenario().await;
    let made = trace(&s, 2).await;
    let again = s
        .app
        .read(&s.official, &format!("/api/v1/traces/{}", made["trace_id"]))
        .await;
    assert_eq!(again["contacts"], made["contacts"]);
}

#[tokio::test]
async fn another_region_cannot_read_a_trace() {
    let s = scenario().await;
    let made = trace(&s, 1).await;
    let elsewhere = s.app.official("3701").await;
    assert_error(
        s.app
            .get_as(&elsewhere, &format!("/api/v1/traces/{}", made["trace_id"]))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn the_csv_export_cannot_run_formulas() {
    let s = scenario().await;
    let made = trace(&s, 1).await;
    let response = s
        .app
        .get_as(
            &s.official,
            &format!("/api/v1/traces/{}/export.csv", made["trace_id"]),
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
    assert!(!text.contains("甲病例"), "the case is not among contacts");
}

async fn colour_change(s: &Scenario, trace_id: &Value) -> reqwest::Response {
    s.app
        .post_as(
            &s.official,
            &format!("/api/v1/traces/{trace_id}/color-changes"),
            &json!({"color": "yellow", "reason_code": "close_contact", "level": 1}),
        )
        .await
}

#[tokio::test]
async fn a_large_colour_change_waits_for_a_second_official() {
    let s = scenario().await;
    let made = trace(&s, 1).await;
    // Five people at level 1, more than the threshold of 3 here: pending.
    let change = body_of(colour_change(&s, &made["trace_id"]).await, 202).await;
    assert_eq!(change["status"], "pending");
    assert_eq!(change["person_count"], 5);
    let h = s
        .app
        .read(&s.official, &format!("/api/v1/health-codes/{}", adult(7)))
        .await;
    assert_eq!(h["color"], "green", "nothing changes before confirmation");
}

#[tokio::test]
async fn the_requesting_official_cannot_confirm_their_own_change() {
    let s = scenario().await;
    let made = trace(&s, 1).await;
    let change = body_of(colour_change(&s, &made["trace_id"]).await, 202).await;
    let confirm = format!(
        "/api/v1/traces/{}/color-changes/{}/confirm",
        made["trace_id"], change["id"]
    );
    assert_error(
        s.app.post_as(&s.official, &confirm, &json!({})).await,
        StatusCode::FORBIDDEN,
        "second_official_required",
    )
    .await;
    let elsewhere = s.app.official("3701").await;
    assert_error(
        s.app.post_as(&elsewhere, &confirm, &json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_second_official_of_the_region_applies_the_change_once() {
    let s = scenario().await;
    let made = trace(&s, 1).await;
    let change = body_of(colour_change(&s, &made["trace_id"]).await, 202).await;
    let confirm = format!(
        "/api/v1/traces/{}/color-changes/{}/confirm",
        made["trace_id"], change["id"]
    );
    let second = s.app.official(LINWU).await;
    let confirmed = body_of(s.app.post_as(&second, &confirm, &json!({})).await, 200).await;
    assert_eq!(confirmed["status"], "applied");
    let h = s
        .app
        .read(&s.official, &format!("/api/v1/health-codes/{}", adult(7)))
        .await;
    assert_eq!(h["color"], "yellow");
    assert_eq!(h["history"][0]["reason_code"], "close_contact");
    assert_error(
        s.app.post_as(&second, &confirm, &json!({})).await,
        StatusCode::CONFLICT,
        "change_not_pending",
    )
    .await;
}

#[tokio::test]
async fn a_change_within_the_threshold_applies_at_once() {
    let s = scenario().await;
    let made = trace(&s, 2).await;
    let change = body_of(
        s.app
            .post_as(
                &s.official,
                &format!("/api/v1/traces/{}/color-changes", made["trace_id"]),
                &json!({"color": "yellow", "reason_code": "secondary_contact", "level": 2}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(change["status"], "applied");
    assert_eq!(change["person_count"], 3);
}

#[tokio::test]
async fn trace_requests_are_validated() {
    let app = spawn_app().await;
    let official = app.official(LINWU).await;
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
}

#[tokio::test]
async fn a_trace_spans_at_most_the_retention_period() {
    let app = spawn_app().await;
    let official = app.official(LINWU).await;
    let now = Utc::now();
    assert_error(
        app.post_as(&official, "/api/v1/traces", &json!({
            "id_number": "11010519491231002X", "from": (now - Duration::days(40)).to_rfc3339(), "to": now.to_rfc3339()
        }))
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_case_is_not_found() {
    let app = spawn_app().await;
    let official = app.official(LINWU).await;
    let now = Utc::now();
    assert_error(
        app.post_as(&official, "/api/v1/traces", &json!({
            "id_number": "11010519491231002X", "from": (now - Duration::days(1)).to_rfc3339(), "to": now.to_rfc3339()
        }))
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn only_health_officials_trace() {
    let app = spawn_app().await;
    let reviewer = app.reviewer(LINWU).await;
    assert_error(
        app.get_as(&reviewer, "/api/v1/traces/1").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn a_case_outside_the_officials_region_cannot_be_traced() {
    let s = scenario().await;
    let jinan = s.app.official("370102").await;
    assert_error(
        s.app
            .post_as(
                &jinan,
                "/api/v1/traces",
                &json!({
                    "id_number": s.case_id_number,
                    "from": (s.t0 - Duration::hours(1)).to_rfc3339(),
                    "to": Utc::now().to_rfc3339()
                }),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn contacts_at_another_regions_venues_are_counted_and_referred_there() {
    let app = spawn_app().await;
    let shop = app.approved_venue().await;
    let station = app.jinan_hospital().await;
    let case = app.resident("甲病例").await;
    let local = app.resident("林接触").await;
    let jinan_contact = app
        .new_resident()
        .subject("traveller")
        .named("济南接触")
        .id_number(id_number("37010219850101001"))
        .phone("13900003333")
        .build()
        .await
        .token;
    let t0 = Utc::now() - Duration::hours(10);
    app.check_in_at(&case.token, &shop.code_url, Some(t0), &[])
        .await;
    app.check_in_at(&local.token, &shop.code_url, Some(t0), &[])
        .await;
    let later = Some(t0 + Duration::hours(3));
    app.check_in_at(&case.token, &station.code_url, later, &[])
        .await;
    app.check_in_at(&jinan_contact, &station.code_url, later, &[])
        .await;

    let linwu = app.official(LINWU).await;
    let traced = body_of(
        app.post_as(
            &linwu,
            "/api/v1/traces",
            &json!({
                "id_number": case.id_number,
                "from": (t0 - Duration::hours(1)).to_rfc3339(),
                "to": Utc::now().to_rfc3339()
            }),
        )
        .await,
        201,
    )
    .await;
    let names: Vec<&str> = traced["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["林接触"]);
    assert_eq!(
        traced["elsewhere"],
        json!([{"region_code": "370102001", "region": "山东省济南市历下区解放路街道", "people": 1, "venues": 1}])
    );
    assert!(!traced.to_string().contains("37010219850101001"));

    // Jinan's officials find the referral among their alerts, with the contact in full.
    let jinan = app.official("370102").await;
    let alerts = app.read(&jinan, "/api/v1/alerts").await;
    let referral = &alerts["items"][0];
    assert_eq!(referral["kind"], "referral");
    assert_eq!(referral["venue"]["id"], station.id);
    assert_eq!(referral["referral"]["from_region_code"], LINWU);
    assert_eq!(referral["referral"]["contacts"][0]["name"], "济南接触");
    assert_eq!(referral["referral"]["contacts"][0]["phone"], "13900003333");
    // Linwu's officials do not see it, and their colour change reaches only their contacts.
    assert_eq!(app.read(&linwu, "/api/v1/alerts").await["items"], json!([]));
    let change = body_of(
        app.post_as(
            &linwu,
            &format!("/api/v1/traces/{}/color-changes", traced["trace_id"]),
            &json!({"color": "yellow", "reason_code": "close_contact"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(change["person_count"], 1);
}
