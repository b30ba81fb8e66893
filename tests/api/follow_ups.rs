//! Yellow and red people are followed up by the street office or community of the region.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app, LINWU, LINWU_TOWNSHIP};

#[tokio::test]
async fn yellow_and_red_scans_and_colours_open_one_task_each_closed_with_an_outcome() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let official = app.official(LINWU).await;
    let yellow = app.resident("黄码人").await;
    let green = app.resident("绿码人").await;
    // A colour set by an official of the county: a task for the county.
    app.set_color(&official, &yellow.id_number, "黄码人", "yellow")
        .await;
    // Scans at a venue of the township: a task for the township, once however often.
    app.check_in(&yellow.token, &venue.code_url).await;
    app.check_in(&green.token, &venue.code_url).await;

    let registrar = app
        .new_staff("registrar")
        .in_region(LINWU_TOWNSHIP)
        .named("linwu-street")
        .login()
        .await;
    let tasks = app.read(&registrar, "/api/v1/follow-ups").await;
    let items = tasks["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{tasks}");
    assert_eq!(items[0]["cause"], "scan");
    assert_eq!(items[0]["color"], "yellow");
    assert_eq!(items[0]["person"]["name"], "黄码人");
    assert_eq!(items[0]["person"]["id_number"], yellow.id_number);
    assert_eq!(items[0]["venue_id"], venue.id);

    // The county's official sees both: the scan's and the colour change's.
    let county = app.read(&official, "/api/v1/follow-ups").await;
    let causes: Vec<&str> = county["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["cause"].as_str().unwrap())
        .collect();
    assert_eq!(causes, ["scan", "color_change"], "{county}");

    let id = items[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/follow-ups/{id}/close");
    let closed = app
        .post_as(
            &registrar,
            &path,
            &json!({"outcome": "已电话联系，居家健康监测"}),
        )
        .await;
    assert_eq!(closed.status(), 204);
    let again = app
        .post_as(&registrar, &path, &json!({"outcome": "重复"}))
        .await;
    assert_error(again, StatusCode::CONFLICT, "follow_up_closed").await;
    let open = app.read(&registrar, "/api/v1/follow-ups").await;
    assert_eq!(open["items"].as_array().unwrap().len(), 0);
    let all = app
        .read(&registrar, "/api/v1/follow-ups?status=closed")
        .await;
    assert_eq!(all["items"][0]["outcome"], "已电话联系，居家健康监测");

    // A later scan elsewhere in the township, with no task open, opens a new one.
    let restaurant = app
        .approved_venue_of("lodging_dining", "restaurant", "临武县舜峰镇东江鱼馆")
        .await;
    app.check_in(&yellow.token, &restaurant.code_url).await;
    let reopened = app.read(&registrar, "/api/v1/follow-ups").await;
    assert_eq!(reopened["items"].as_array().unwrap().len(), 1, "{reopened}");

    let auditor = app.auditor(LINWU).await;
    let log = app
        .read(&auditor, "/api/v1/audit-log?action=follow_up.close")
        .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
}

#[tokio::test]
async fn follow_ups_are_for_registrars_and_officials_of_the_region() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let official = app.official(LINWU).await;
    let red = app.resident("红码人").await;
    app.set_color(&official, &red.id_number, "红码人", "red")
        .await;
    app.check_in(&red.token, &venue.code_url).await;
    let tasks = app.read(&official, "/api/v1/follow-ups").await;
    let id = tasks["items"][0]["id"].as_i64().unwrap();

    for token in [
        app.reviewer(LINWU).await,
        app.auditor(LINWU).await,
        red.token.clone(),
    ] {
        assert_eq!(app.get_as(&token, "/api/v1/follow-ups").await.status(), 403);
    }
    let jinan = app.official("370102").await;
    let theirs = app.read(&jinan, "/api/v1/follow-ups?status=all").await;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0);
    let answer = app
        .post_as(
            &jinan,
            &format!("/api/v1/follow-ups/{id}/close"),
            &json!({"outcome": "不是我们的"}),
        )
        .await;
    assert_error(answer, StatusCode::NOT_FOUND, "not_found").await;
    let empty = app
        .post_as(
            &official,
            &format!("/api/v1/follow-ups/{id}/close"),
            &json!({"outcome": " "}),
        )
        .await;
    assert_error(empty, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let bad_status = app
        .get_as(&official, "/api/v1/follow-ups?status=done")
        .await;
    assert_eq!(bad_status.status(), 400);
}
