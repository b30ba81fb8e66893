//! Notifications that also leave as platform messages: queued with the use case that writes
//! them, sent by the delivery worker (a round run here by hand, or the worker itself), retried
//! with a growing wait, never retried for a user who has not subscribed; the inbox unchanged.

use std::sync::Arc;

use chrono::Duration;
use diesel::prelude::*;
use serde_json::json;
use venuecode::db::schema::notifications;
use venuecode::services::delivery::{self, Round};

use crate::fake_alipay;
use crate::fake_messages::{
    Messages, HEALTH_CODE_TEMPLATE, REVIEW_RESULT_TEMPLATE, RISK_WINDOW_TEMPLATE,
};
use crate::fake_wechat;
use crate::helpers::{adult, body_of, elder, spawn_app_with, TestApp, LINWU, LINWU_TOWNSHIP};
use crate::helpers::{alipay_login, wechat_login};

struct Platforms {
    app: TestApp,
    wechat: Arc<Messages>,
    alipay: Arc<Messages>,
    _servers: (wiremock::MockServer, wiremock::MockServer),
}

/// An app with both platforms faked and their templates set; `poll` seconds between the
/// worker's rounds (0: rounds are run by the test).
async fn platforms(poll: &str) -> Platforms {
    let wechat_server = fake_wechat::start().await;
    let wechat = fake_wechat::mount_messages(&wechat_server, fake_wechat::TOKEN).await;
    let (alipay_server, alipay) = fake_alipay::start_with_messages().await;
    let mut settings = fake_wechat::settings(&wechat_server);
    settings.extend(fake_wechat::template_settings());
    settings.extend(fake_alipay::settings(&alipay_server));
    settings.extend(fake_alipay::template_settings());
    settings.push(("DELIVERY_POLL_SECONDS", poll.to_owned()));
    Platforms {
        app: spawn_app_with(&settings).await,
        wechat,
        alipay,
        _servers: (wechat_server, alipay_server),
    }
}

async fn round(app: &TestApp) -> Round {
    delivery::send_due(&app.state, &|_, _| {}).await.unwrap()
}

/// (delivery, attempts, error) of every notification of the account, oldest first.
fn deliveries(app: &TestApp) -> Vec<(String, i32, Option<String>)> {
    let mut conn = app.database().get().unwrap();
    notifications::table
        .order(notifications::id)
        .select((
            notifications::delivery,
            notifications::delivery_attempts,
            notifications::delivery_error,
        ))
        .load(&mut *conn)
        .unwrap()
}

/// A venue applied for by `manager` and approved: the review result is queued for them.
async fn approved_for(app: &TestApp, manager: &str, name: &str) -> i64 {
    let venue = app
        .apply(manager, TestApp::application(LINWU_TOWNSHIP, name))
        .await;
    let id = venue["id"].as_i64().unwrap();
    app.approve(id).await;
    id
}

#[tokio::test]
async fn a_review_result_reaches_a_wechat_manager_once() {
    let p = platforms("0").await;
    let manager = wechat_login(&p.app, fake_wechat::GOOD_CODE).await;
    let name = "临武县舜峰镇解放路八十八号大型连锁超市东门店";
    approved_for(&p.app, &manager, name).await;

    let done = round(&p.app).await;
    assert_eq!(
        done,
        Round {
            sent: 1,
            ..Round::default()
        }
    );
    let taken = p.wechat.taken();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].recipient, fake_wechat::GOOD_OPENID);
    assert_eq!(taken[0].template, REVIEW_RESULT_TEMPLATE);
    assert_eq!(taken[0].page, "pages/notifications/index");
    assert_eq!(taken[0].values["phrase2"], "已通过");
    assert_eq!(
        taken[0].values["thing1"].chars().count(),
        20,
        "cut to the field"
    );
    assert_eq!(deliveries(&p.app), vec![("sent".into(), 1, None)]);

    // Sent once: a later round has nothing to do, and the inbox still holds the notice.
    assert_eq!(round(&p.app).await, Round::default());
    assert_eq!(p.wechat.tries(), 1);
    let inbox = p.app.read(&manager, "/api/v1/me/notifications").await;
    assert_eq!(inbox["items"][0]["kind"], "review_result");
    assert!(inbox["items"][0]["message"]
        .as_str()
        .unwrap()
        .contains("已审核通过"));
}

#[tokio::test]
async fn a_user_who_has_not_subscribed_is_not_asked_again() {
    let p = platforms("0").await;
    p.wechat.unsubscribe(fake_wechat::SECOND_OPENID);
    let manager = wechat_login(&p.app, fake_wechat::SECOND_CODE).await;
    approved_for(&p.app, &manager, "临武超市").await;
    assert_eq!(
        round(&p.app).await,
        Round {
            not_subscribed: 1,
            ..Round::default()
        }
    );
    p.app.state.clock.advance(Duration::hours(3));
    assert_eq!(round(&p.app).await, Round::default());
    assert_eq!(p.wechat.tries(), 1);
    assert_eq!(deliveries(&p.app), vec![("not_subscribed".into(), 1, None)]);
}

#[tokio::test]
async fn a_busy_platform_is_tried_again_after_a_growing_wait() {
    let p = platforms("0").await;
    p.wechat.busy_for(2);
    let manager = wechat_login(&p.app, fake_wechat::GOOD_CODE).await;
    approved_for(&p.app, &manager, "临武超市").await;

    assert_eq!(
        round(&p.app).await,
        Round {
            retried: 1,
            ..Round::default()
        }
    );
    let (state, attempts, error) = deliveries(&p.app).remove(0);
    assert_eq!((state.as_str(), attempts), ("pending", 1));
    assert!(error.unwrap().contains("busy"));
    // Not due again at once, nor before its 30 seconds are up.
    assert_eq!(round(&p.app).await, Round::default());
    p.app.state.clock.advance(Duration::seconds(20));
    assert_eq!(round(&p.app).await, Round::default());
    p.app.state.clock.advance(Duration::seconds(11));
    assert_eq!(
        round(&p.app).await,
        Round {
            retried: 1,
            ..Round::default()
        }
    );
    // The second wait is twice as long.
    p.app.state.clock.advance(Duration::seconds(45));
    assert_eq!(round(&p.app).await, Round::default());
    p.app.state.clock.advance(Duration::seconds(16));
    assert_eq!(
        round(&p.app).await,
        Round {
            sent: 1,
            ..Round::default()
        }
    );
    assert_eq!(deliveries(&p.app), vec![("sent".into(), 3, None)]);
    assert_eq!(p.wechat.taken().len(), 1);
}

#[tokio::test]
async fn a_message_that_keeps_failing_is_given_up() {
    let p = platforms("0").await;
    p.wechat.busy_for(100);
    let manager = wechat_login(&p.app, fake_wechat::GOOD_CODE).await;
    approved_for(&p.app, &manager, "临武超市").await;
    for _ in 0..delivery::MAX_ATTEMPTS {
        round(&p.app).await;
        p.app.state.clock.advance(Duration::hours(1));
    }
    let (state, attempts, _) = deliveries(&p.app).remove(0);
    assert_eq!(
        (state.as_str(), attempts),
        ("failed", delivery::MAX_ATTEMPTS)
    );
    assert_eq!(round(&p.app).await, Round::default());
    assert_eq!(p.wechat.tries(), delivery::MAX_ATTEMPTS as usize);
}

#[tokio::test]
async fn an_alipay_manager_gets_a_template_message() {
    let p = platforms("0").await;
    let manager = alipay_login(&p.app, fake_alipay::GOOD_CODE).await;
    p.alipay.unsubscribe("nobody");
    approved_for(&p.app, &manager, "临武超市").await;
    assert_eq!(
        round(&p.app).await,
        Round {
            sent: 1,
            ..Round::default()
        }
    );
    let taken = p.alipay.taken();
    assert_eq!(taken[0].recipient, fake_alipay::GOOD_OPEN_ID);
    assert_eq!(taken[0].template, REVIEW_RESULT_TEMPLATE);
    assert_eq!(taken[0].values["keyword1"], "临武超市");
    assert_eq!(taken[0].values["keyword2"], "已通过");
    assert!(p.wechat.taken().is_empty());
}

#[tokio::test]
async fn a_rejection_carries_its_reason_and_development_accounts_are_skipped() {
    let p = platforms("0").await;
    let wechat_manager = wechat_login(&p.app, fake_wechat::GOOD_CODE).await;
    let venue = p
        .app
        .apply(
            &wechat_manager,
            TestApp::application(LINWU_TOWNSHIP, "临武超市"),
        )
        .await;
    let reviewer = p.app.reviewer(LINWU).await;
    body_of(
        p.app
            .post_as(
                &reviewer,
                &format!("/api/v1/reviews/{}", venue["id"]),
                &json!({"decision": "reject", "reason": "营业执照照片不清晰"}),
            )
            .await,
        200,
    )
    .await;
    // A development account's notice stays in its inbox only.
    let (_, dev_venue) = p.app.applied_venue(LINWU_TOWNSHIP, "另一超市").await;
    p.app.approve(dev_venue["id"].as_i64().unwrap()).await;

    let done = round(&p.app).await;
    assert_eq!(
        done,
        Round {
            sent: 1,
            skipped: 1,
            ..Round::default()
        }
    );
    let taken = p.wechat.taken();
    assert_eq!(taken[0].values["phrase2"], "未通过");
    assert_eq!(taken[0].values["thing3"], "营业执照照片不清晰");
    let states: Vec<_> = deliveries(&p.app).into_iter().map(|d| (d.0, d.2)).collect();
    assert_eq!(
        states,
        vec![
            ("sent".into(), None),
            ("skipped".into(), Some("development account".into()))
        ]
    );
}

#[tokio::test]
async fn a_risk_window_and_a_colour_change_reach_a_wechat_resident() {
    let p = platforms("0").await;
    let token = wechat_login(&p.app, fake_wechat::GOOD_CODE).await;
    body_of(
        p.app
            .put_as(
                &token,
                "/api/v1/me/consent",
                &json!({
                    "profile": {"nickname": "微信用户"},
                    "phone": {"wechat_code": fake_wechat::PHONE_CODE},
                    "identity": {"name": "张三", "id_number": adult(1)}
                }),
            )
            .await,
        200,
    )
    .await;
    let grandmother = elder(1);
    let companion = p
        .app
        .add_companion(&token, "李秀英", &grandmother, "祖母")
        .await;
    let venue = p.app.approved_venue().await;
    round(&p.app).await; // the venue's own review result, to a development manager
    let scanned_at = chrono::Utc::now() - Duration::minutes(30);
    p.app
        .check_in_at(
            &token,
            &venue.code_url,
            Some(scanned_at),
            &[companion["id"].as_i64().unwrap()],
        )
        .await;

    let official = p.app.official(LINWU).await;
    body_of(
        p.app
            .post_as(
                &official,
                "/api/v1/risk-windows",
                &json!({
                    "venue_id": venue.id,
                    "from": (scanned_at - Duration::minutes(10)).to_rfc3339(),
                    "to": (scanned_at + Duration::minutes(10)).to_rfc3339(),
                    "message": "该时段有确诊病例到访"
                }),
            )
            .await,
        201,
    )
    .await;
    p.app
        .set_color(&official, &grandmother, "李秀英", "yellow")
        .await;

    let done = round(&p.app).await;
    // The resident's own stay and the grandmother's: two risky-window messages; one colour change.
    assert_eq!(
        done,
        Round {
            sent: 3,
            ..Round::default()
        }
    );
    let taken = p.wechat.taken();
    let risky: Vec<_> = taken
        .iter()
        .filter(|t| t.template == RISK_WINDOW_TEMPLATE)
        .collect();
    assert_eq!(risky.len(), 2);
    assert!(risky
        .iter()
        .all(|t| t.recipient == fake_wechat::GOOD_OPENID));
    assert_eq!(
        risky[0].values["thing1"],
        venue.json["name"].as_str().unwrap()
    );
    let local = scanned_at.with_timezone(&chrono_tz::Asia::Shanghai);
    assert_eq!(
        risky[0].values["time2"],
        local.format("%Y-%m-%d %H:%M").to_string()
    );
    let colour = taken
        .iter()
        .find(|t| t.template == HEALTH_CODE_TEMPLATE)
        .unwrap();
    assert_eq!(colour.values["phrase1"], "黄码");
    assert!(colour.values["thing3"].contains("同行人员"));
    assert!(
        taken.iter().all(|t| t
            .values
            .values()
            .all(|v| !v.contains("李") && !v.contains("张"))),
        "no name leaves for the platform"
    );

    let inbox = p.app.read(&token, "/api/v1/me/notifications").await;
    let colour_notice = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "health_code")
        .unwrap();
    assert_eq!(colour_notice["person"], "李**");
    assert!(colour_notice["message"].as_str().unwrap().contains("黄码"));
}

#[tokio::test]
async fn the_worker_sends_in_the_background() {
    let p = platforms("1").await;
    let manager = wechat_login(&p.app, fake_wechat::GOOD_CODE).await;
    approved_for(&p.app, &manager, "临武超市").await;
    // The platform takes the message, then the worker records it sent: wait for both.
    for _ in 0..100 {
        if !p.wechat.taken().is_empty() && deliveries(&p.app).first().is_some_and(|d| d.0 == "sent")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(p.wechat.taken().len(), 1);
    assert_eq!(deliveries(&p.app)[0].0, "sent");
}
