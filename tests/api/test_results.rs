//! Nucleic-acid results and vaccination status: imported by health officials, shown at the door,
//! and required by a venue that asks for a recent negative result.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, body_of, field_code, spawn_app, TestApp, Venue, LINWU};

async fn import(app: &TestApp, official: &str, results: Value) -> Value {
    body_of(
        app.post_as(
            official,
            "/api/v1/test-results/import",
            &json!({ "results": results }),
        )
        .await,
        200,
    )
    .await
}

async fn require(app: &TestApp, token: &str, venue: &Venue, hours: Value) -> reqwest::Response {
    app.put_as(
        token,
        &format!("/api/v1/venues/{}/test-requirement", venue.id),
        &json!({ "hours": hours }),
    )
    .await
}

fn hours_ago(hours: i64) -> String {
    (Utc::now() - Duration::hours(hours)).to_rfc3339()
}

#[tokio::test]
async fn the_door_shows_the_latest_result_and_the_vaccination() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let official = app.official(LINWU).await;
    let resident = app.resident("刘德明").await;
    let before = app.check_in(&resident.token, &venue.code_url).await;
    assert!(before["people"][0]["health"]["test"].is_null());

    let done = import(
        &app,
        &official,
        json!([
            {"id_number": resident.id_number, "result": "positive", "sampled_at": hours_ago(60)},
            {"id_number": resident.id_number, "result": "阴性", "sampled_at": hours_ago(10),
             "vaccine_doses": 3, "last_dose_on": "2022-01-15"}
        ]),
    )
    .await;
    assert_eq!(done["rows"], 2);
    app.state.clock.advance(Duration::minutes(2)); // past the repeat window
    let page = app.check_in(&resident.token, &venue.code_url).await;
    let health = &page["people"][0]["health"];
    assert_eq!(
        health["test"]["result"], "negative",
        "the latest by sampling time"
    );
    assert_eq!(
        health["vaccination"],
        json!({"doses": 3, "last_dose_on": "2022-01-15"})
    );
    assert_eq!(page["verdict"], "pass");
}

#[tokio::test]
async fn a_venue_that_requires_a_recent_negative_result_turns_away_those_without_one() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let official = app.official(LINWU).await;
    body_of(require(&app, &venue.manager, &venue, json!(48)).await, 200).await;

    // No result on record: denied, with the venue's own notice, and recorded so.
    let untested = app.resident("未检测").await;
    let page = app.check_in(&untested.token, &venue.code_url).await;
    assert_eq!(page["verdict"], "deny");
    assert_eq!(page["people"][0]["verdict"], "deny");
    assert_eq!(page["people"][0]["health"]["color"], "green");
    assert_eq!(page["notice"], "请出示48小时内核酸阴性证明");

    // A negative within 48 hours passes; one older, or a positive one, does not.
    let fresh = app.resident("新检测").await;
    let stale = app.resident("旧检测").await;
    let positive = app.resident("阳性者").await;
    import(
        &app,
        &official,
        json!([
            {"id_number": fresh.id_number, "result": "negative", "sampled_at": hours_ago(47)},
            {"id_number": stale.id_number, "result": "negative", "sampled_at": hours_ago(49)},
            {"id_number": positive.id_number, "result": "positive", "sampled_at": hours_ago(2)}
        ]),
    )
    .await;
    assert_eq!(
        app.check_in(&fresh.token, &venue.code_url).await["verdict"],
        "pass"
    );
    assert_eq!(
        app.check_in(&stale.token, &venue.code_url).await["verdict"],
        "deny"
    );
    assert_eq!(
        app.check_in(&positive.token, &venue.code_url).await["verdict"],
        "deny"
    );

    // A yellow code is turned away for its colour, and told so.
    let yellow = app.resident("黄码人").await;
    app.set_color(&official, &yellow.id_number, "黄码人", "yellow")
        .await;
    let page = app.check_in(&yellow.token, &venue.code_url).await;
    assert!(
        page["notice"].as_str().unwrap().starts_with("黄码"),
        "{page}"
    );

    // Lifted: the untested pass again.
    let lifted = body_of(require(&app, &official, &venue, Value::Null).await, 200).await;
    assert!(lifted["test_required_hours"].is_null());
    app.state.clock.advance(Duration::minutes(2));
    assert_eq!(
        app.check_in(&untested.token, &venue.code_url).await["verdict"],
        "pass"
    );
}

#[tokio::test]
async fn only_the_manager_and_officials_of_the_region_set_the_requirement() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let set = body_of(
        require(&app, &app.official(LINWU).await, &venue, json!(72)).await,
        200,
    )
    .await;
    assert_eq!(set["test_required_hours"], 72);
    let elsewhere = app.official("3701").await;
    assert_error(
        require(&app, &elsewhere, &venue, json!(24)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        require(&app, &app.reviewer(LINWU).await, &venue, json!(24)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let stranger = app.resident("路人").await;
    assert_error(
        require(&app, &stranger.token, &venue, json!(24)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let refused = assert_error(
        require(&app, &venue.manager, &venue, json!(0)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&refused, "hours"), "hours_invalid");
}

#[tokio::test]
async fn an_import_is_checked_row_by_row_and_bound_to_the_region() {
    let app = spawn_app().await;
    let official = app.official(LINWU).await;
    let resident = app.resident("刘德明").await;
    let refused = assert_error(
        app.post_as(
            &official,
            "/api/v1/test-results/import",
            &json!({"results": [
                {"id_number": resident.id_number, "result": "negative"},
                {"id_number": resident.id_number, "vaccine_doses": 12},
                {"id_number": resident.id_number, "result": "negative", "sampled_at": (Utc::now() + Duration::hours(3)).to_rfc3339()},
                {"id_number": "123"}
            ]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        field_code(&refused, "results[0].sampled_at"),
        "sampled_at_required"
    );
    assert_eq!(
        field_code(&refused, "results[1].vaccine_doses"),
        "vaccine_doses_invalid"
    );
    assert_eq!(
        field_code(&refused, "results[2].sampled_at"),
        "sampled_at_future"
    );
    assert_eq!(
        field_code(&refused, "results[3].id_number"),
        "id_number_length"
    );

    // Someone of another province, never seen here: not this official's to record.
    let outsider = crate::helpers::id_number("37010219900101001");
    let outside = assert_error(
        app.post_as(
            &official,
            "/api/v1/test-results/import",
            &json!({"results": [{"id_number": outsider, "name": "外地人", "result": "negative", "sampled_at": hours_ago(1)}]}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "outside_region",
    )
    .await;
    assert_eq!(
        outside["error"]["details"]["fields"],
        json!(["results[0].id_number"])
    );

    // A lab's sheet, in local time.
    let sheet = format!(
        "id_number,name,result,sampled_at,vaccine_doses,last_dose_on\n{},,阴性,{},2,2021-12-01\n",
        resident.id_number,
        (Utc::now() - Duration::hours(5))
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .format("%Y-%m-%d %H:%M")
    );
    let response = app
        .client
        .post(format!("{}/api/v1/test-results/import", app.address))
        .bearer_auth(&official)
        .header("content-type", "text/csv")
        .body(sheet)
        .send()
        .await
        .unwrap();
    assert_eq!(body_of(response, 200).await["rows"], 1);
    // Residents cannot import.
    assert_error(
        app.post_as(
            &resident.token,
            "/api/v1/test-results/import",
            &json!({"results": [{"id_number": resident.id_number, "vaccine_doses": 1}]}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn results_older_than_the_retention_period_are_purged() {
    let app = spawn_app().await;
    let official = app.official(LINWU).await;
    let resident = app.resident("刘德明").await;
    import(
        &app,
        &official,
        json!([
            {"id_number": resident.id_number, "result": "negative", "sampled_at": hours_ago(40 * 24)},
            {"id_number": resident.id_number, "result": "negative", "sampled_at": hours_ago(24)}
        ]),
    )
    .await;
    let output = app.command().arg("purge").output().unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("test_results: 1 deleted"), "{report}");
}
