//! A venue's visitors in a window: everyone present, for health officials of its region.

use chrono::{Duration, Utc};
use reqwest::StatusCode;

use crate::helpers::scenario;
use crate::helpers::{assert_error, body_of, LINWU};

fn window_query(from: chrono::DateTime<Utc>, to: chrono::DateTime<Utc>) -> String {
    let enc = |t: chrono::DateTime<Utc>| t.to_rfc3339().replace('+', "%2B");
    format!("from={}&to={}", enc(from), enc(to))
}

#[tokio::test]
async fn an_official_lists_everyone_at_a_venue_in_a_window() {
    let s = scenario().await;
    let app = &s.app;
    // The case A was at the hospital from T0 for two hours; K and companion B came at T0+1:30;
    // C at T0+2:30.
    let query = window_query(s.t0 + Duration::minutes(100), s.t0 + Duration::minutes(110));
    let list = body_of(
        app.get_as(
            &s.official,
            &format!("/api/v1/venues/{}/visitors?{query}", s.hospital),
        )
        .await,
        200,
    )
    .await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["甲病例", "柯监护", "乙老人"], "{list}");
    assert_eq!(list["people"], 3);
    assert_eq!(list["items"][0]["id_number"], s.case_id_number);
    assert_eq!(list["items"][0]["source"], "scan");

    // The CSV has the same people, and cells that cannot run as formulas.
    let csv = app
        .get_as(
            &s.official,
            &format!("/api/v1/venues/{}/visitors.csv?{query}", s.hospital),
        )
        .await;
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with('\u{feff}'));
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.contains("柯监护") && csv.contains("乙老人"));

    // Every reading is audited.
    let auditor = app.auditor(LINWU).await;
    let log = app
        .read(&auditor, "/api/v1/audit-log?action=venue.visitors")
        .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 2, "{log}");
}

#[tokio::test]
async fn the_list_comes_a_page_at_a_time_in_the_same_order() {
    let s = scenario().await;
    let app = &s.app;
    let query = window_query(s.t0 + Duration::minutes(100), s.t0 + Duration::minutes(110));
    let path = format!("/api/v1/venues/{}/visitors?{query}", s.hospital);
    let whole = app.read(&s.official, &path).await;
    assert!(whole["next_cursor"].is_null());
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let url = match &cursor {
            Some(cursor) => format!("{path}&limit=1&cursor={cursor}"),
            None => format!("{path}&limit=1"),
        };
        let page = app.read(&s.official, &url).await;
        // Each page counts the people of the whole window.
        assert_eq!(page["people"], 3);
        paged.extend(page["items"].as_array().unwrap().iter().cloned());
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(&paged, whole["items"].as_array().unwrap());

    // A cursor that names no stay of this venue, or a page size out of range, is refused.
    for (query, field, code) in [
        ("&cursor=999999999", "cursor", "cursor_invalid"),
        ("&cursor=x", "cursor", "cursor_invalid"),
        ("&limit=501", "limit", "limit_out_of_range"),
    ] {
        let body = assert_error(
            app.get_as(&s.official, &format!("{path}{query}")).await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        )
        .await;
        assert_eq!(body["error"]["details"][field]["code"], code, "{query}");
    }
}

#[tokio::test]
async fn hand_registered_names_are_exported_formula_safe() {
    let s = scenario().await;
    let app = &s.app;
    let restaurant = s.restaurant;
    let query = window_query(
        Utc::now() - Duration::hours(1),
        Utc::now() + Duration::minutes(1),
    );
    let csv = app
        .get_as(
            &s.official,
            &format!("/api/v1/venues/{restaurant}/visitors.csv?{query}"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains(r#""'=HYPERLINK(""http://x"",""y"")""#),
        "{csv}"
    );
    assert!(csv.contains(r#""'@SUM(1)""#), "{csv}");
    assert!(csv.contains("人工登记"), "{csv}");
}

#[tokio::test]
async fn visitors_are_for_officials_of_the_venues_region_and_a_sound_window() {
    let s = scenario().await;
    let app = &s.app;
    let path = |query: &str| format!("/api/v1/venues/{}/visitors?{query}", s.hospital);
    let query = window_query(s.t0, s.t0 + Duration::hours(1));

    let reviewer = app.reviewer(LINWU).await;
    let answer = app.get_as(&reviewer, &path(&query)).await;
    assert_error(answer, StatusCode::FORBIDDEN, "forbidden").await;
    let answer = app.get_as(&s.k_token, &path(&query)).await;
    assert_eq!(answer.status(), 403);

    let jinan = app.official("370102").await;
    let answer = app.get_as(&jinan, &path(&query)).await;
    assert_error(answer, StatusCode::NOT_FOUND, "not_found").await;
    let answer = app
        .get_as(
            &s.official,
            &format!("/api/v1/venues/999999/visitors?{query}"),
        )
        .await;
    assert_error(answer, StatusCode::NOT_FOUND, "not_found").await;

    let backwards = window_query(s.t0 + Duration::hours(1), s.t0);
    let body = assert_error(
        app.get_as(&s.official, &path(&backwards)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        body["error"]["details"]["to"]["code"], "range_invalid",
        "{body}"
    );
    let too_long = window_query(s.t0 - Duration::days(60), s.t0);
    let body = assert_error(
        app.get_as(&s.official, &path(&too_long)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        body["error"]["details"]["from"]["code"], "range_too_long",
        "{body}"
    );
    let missing = app.get_as(&s.official, &path("")).await;
    assert_eq!(missing.status(), 422);
}
