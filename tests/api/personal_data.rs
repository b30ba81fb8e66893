//! The person's rights: a complete copy of what the account holds, and cancelling the account
//! (注销), proven by reading the database afterwards.

use chrono::Duration;
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, body_of, elder, spawn_app, TestApp, LINWU};
use venuecode::db::schema::{
    accounts, check_ins, companions, consent_events, notifications, paper_codes, persons,
};

/// A resident (subject `subject`) who consented, added an elder companion, printed her paper
/// code and checked in with her; the account id and token.
async fn busy_resident(app: &TestApp, subject: &str, number: &str) -> (i64, String, Value) {
    let token = app
        .new_resident()
        .subject(subject)
        .named("陈大伟")
        .id_number(number)
        .phone("13912345601")
        .build()
        .await
        .token;
    let venue = app.approved_venue().await;
    let (grandma, _) = app.companion_with_paper_code(&token, "陈奶奶", 41).await;
    body_of(
        app.scan(
            &token,
            json!({"code": venue.code_url, "companion_ids": [grandma["id"]]}),
        )
        .await,
        201,
    )
    .await;
    let id = app.read(&token, "/api/v1/me").await["id"].as_i64().unwrap();
    (id, token, grandma)
}

#[tokio::test]
async fn a_resident_copies_everything_held_about_their_account() {
    let app = spawn_app().await;
    let number = crate::helpers::adult(40);
    let (id, token, _) = busy_resident(&app, "copy-me", &number).await;
    let official = app.official(LINWU).await;
    app.set_color(&official, &number, "陈大伟", "yellow").await;

    let response = app.get_as(&token, "/api/v1/me/data").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let data: Value = response.json().await.unwrap();
    assert_eq!(data["account"]["id"], id);
    assert_eq!(data["account"]["platform_subject"], "dev:copy-me");
    assert_eq!(data["phone"], "13912345601");
    assert_eq!(data["identity"]["name"], "陈大伟");
    assert_eq!(data["identity"]["id_number"], number);
    assert_eq!(data["identity"]["verified"], false);
    assert_eq!(data["health"]["color"], "yellow");
    assert_eq!(data["companions"][0]["name"], "陈奶奶");
    assert_eq!(data["companions"][0]["id_number"], elder(41));
    assert_eq!(data["check_ins"].as_array().unwrap().len(), 2, "{data}");
    let names: Vec<&str> = data["check_ins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"陈大伟") && names.contains(&"陈奶奶"),
        "{data}"
    );
    assert_eq!(data["check_ins"][0]["verdict"], "pass");
    assert_eq!(data["paper_codes"][0]["printed_for"], "陈奶奶");
    let kinds: Vec<&str> = data["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"health_code"), "{data}");
    assert!(data["notifications"][0]["delivery"].is_string());
    let history: Vec<(&str, &str)> = data["consent_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["element"].as_str().unwrap(),
                c["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            ("profile", "grant"),
            ("phone", "grant"),
            ("identity", "grant")
        ]
    );
    // Reading it is recorded.
    let audit = app.audit_of(&format!("account:{id}"));
    assert!(audit.iter().any(|e| e.action == "me.data.export"));
}

#[tokio::test]
async fn a_copy_needs_a_login_of_the_last_ten_minutes() {
    let app = spawn_app().await;
    let resident = app.resident("刘慢").await;
    app.state.clock.advance(Duration::minutes(11));
    assert_error(
        app.get_as(&resident.token, "/api/v1/me/data").await,
        StatusCode::UNAUTHORIZED,
        "login_too_old",
    )
    .await;
    // The session itself still works; a new login gets the copy.
    body_of(app.get_as(&resident.token, "/api/v1/me").await, 200).await;
}

#[tokio::test]
async fn the_consent_history_keeps_each_grant_and_withdrawal() {
    let app = spawn_app().await;
    let resident = app.resident("钱历史").await;
    assert_eq!(
        app.delete_as(&resident.token, "/api/v1/me/consent")
            .await
            .status(),
        204
    );
    let data = app.read(&resident.token, "/api/v1/me/data").await;
    let actions: Vec<&str> = data["consent_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["grant", "grant", "grant", "withdraw", "withdraw", "withdraw"]
    );
    assert!(data["identity"].is_null() && data["phone"].is_null());
}

#[tokio::test]
async fn cancelling_an_account_erases_it_and_keeps_its_check_ins_without_it() {
    let app = spawn_app().await;
    let number = crate::helpers::adult(42);
    let (id, token, _) = busy_resident(&app, "cancel-me", &number).await;
    let node = app.second_node().await;

    assert_eq!(app.delete_as(&token, "/api/v1/me").await.status(), 204);

    // Its sessions end, here and on another node.
    assert_error(
        app.get_as(&token, "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    node.sync().await;
    let elsewhere = app
        .client
        .get(format!("{}/api/v1/me", node.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 401);

    // What the database holds of it afterwards.
    let mut conn = app.database().get().unwrap();
    #[allow(clippy::type_complexity)]
    let row: (
        String,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<chrono::NaiveDateTime>,
    ) = accounts::table
        .find(id)
        .select((
            accounts::subject,
            accounts::platform_user_id,
            accounts::person_id,
            accounts::profile_sealed,
            accounts::phone_sealed,
            accounts::phone_hash,
            accounts::declared_name_sealed,
            accounts::consent_identity_at,
        ))
        .first(&mut *conn)
        .unwrap();
    assert_eq!(row.0, format!("cancelled:{id}"));
    assert!(
        row.1.is_none() && row.2.is_none() && row.3.is_none(),
        "{row:?}"
    );
    assert!(row.4.is_none() && row.5.is_none() && row.6.is_none() && row.7.is_none());
    // Its companions, notifications and consent history are gone.
    let left: [i64; 3] = [
        companions::table
            .filter(companions::account_id.eq(id))
            .count()
            .get_result(&mut *conn)
            .unwrap(),
        notifications::table
            .filter(notifications::account_id.eq(id))
            .count()
            .get_result(&mut *conn)
            .unwrap(),
        consent_events::table
            .filter(consent_events::account_id.eq(id))
            .count()
            .get_result(&mut *conn)
            .unwrap(),
    ];
    assert_eq!(left, [0, 0, 0]);
    let live_codes: i64 = paper_codes::table
        .filter(paper_codes::account_id.eq(id))
        .filter(paper_codes::revoked_at.is_null())
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(live_codes, 0);
    // The two check-ins stay, pseudonymous: the people, no account, no name it typed.
    let kept: Vec<(Option<i64>, Option<String>)> = check_ins::table
        .select((check_ins::account_id, check_ins::typed_name_sealed))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(kept, [(None, None), (None, None)]);
    drop(conn);

    // The platform login later makes a new, empty account.
    let again = app.dev_login("wechat", "cancel-me").await;
    let me = app.read(&again, "/api/v1/me").await;
    assert_ne!(me["id"], id);
    assert_eq!(
        me["consent"],
        json!({"profile": false, "phone": false, "identity": false})
    );
}

#[tokio::test]
async fn a_person_nothing_else_holds_is_erased_with_the_account() {
    let app = spawn_app().await;
    let token = app
        .new_resident()
        .subject("never-scanned")
        .named("赵一次")
        .id_number(crate::helpers::adult(43))
        .phone("13912345602")
        .build()
        .await
        .token;
    let person_count = |app: &TestApp| -> i64 {
        let mut conn = app.database().get().unwrap();
        persons::table.count().get_result(&mut *conn).unwrap()
    };
    // A companion it typed in and never checked in goes with it.
    app.add_companion(&token, "赵奶奶", &elder(44), "奶奶")
        .await;
    assert_eq!(person_count(&app), 2);
    assert_eq!(app.delete_as(&token, "/api/v1/me").await.status(), 204);
    assert_eq!(person_count(&app), 0);
}
