//! The WeChat client against a local fake WeChat.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use venuecode::clock::Clock;
use venuecode::domain::NotificationKind;
use venuecode::domain::Secret;
use venuecode::platforms::messages::{MessageTemplates, OutgoingMessage, SendError};
use venuecode::platforms::wechat::WechatClient;
use venuecode::platforms::PlatformError;
use venuecode::platforms::WechatSettings;
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fake_wechat::{self as fake, APPID, SECRET};

fn client(server: &MockServer) -> WechatClient {
    client_with_clock(server, Clock::new(chrono_tz::Asia::Shanghai))
}

fn client_with_clock(server: &MockServer, clock: Clock) -> WechatClient {
    WechatClient::new(
        WechatSettings {
            appid: APPID.into(),
            secret: Secret::new(SECRET.into()),
            api_base: server.uri(),
            timeout: Duration::from_millis(1500),
            templates: templates(),
        },
        clock,
    )
    .unwrap()
}

/// The fake's templates under WeChat's default keys.
fn templates() -> MessageTemplates {
    let settings = fake::template_settings();
    MessageTemplates::read(
        |name| {
            settings
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.clone())
        },
        "WECHAT",
        |kind| match kind {
            NotificationKind::ReviewResult => ["thing1", "phrase2", "thing3"],
            NotificationKind::HealthCode => ["phrase1", "time2", "thing3"],
            _ => ["thing1", "time2", "thing3"],
        },
    )
    .unwrap()
}

async fn token_requests(server: &MockServer, force: Option<bool>) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/cgi-bin/stable_token")
        .filter(|r| {
            force.is_none_or(|force| {
                serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["force_refresh"]
                    == force
            })
        })
        .count()
}

#[tokio::test]
async fn code2session_gives_the_openid_and_unionid() {
    let server = fake::start().await;
    let session = client(&server)
        .code_to_session(fake::GOOD_CODE)
        .await
        .unwrap();
    assert_eq!(session.openid, fake::GOOD_OPENID);
    assert_eq!(
        session.unionid.as_deref(),
        Some("ocMvos6NjeKLIBqg5Mr9QjxrP1FA")
    );
    // An explicit `errcode: 0` is success too.
    let session = client(&server)
        .code_to_session(fake::SECOND_CODE)
        .await
        .unwrap();
    assert_eq!(session.openid, fake::SECOND_OPENID);
    assert_eq!(session.unionid, None);
}

#[tokio::test]
async fn each_errcode_maps_to_its_error() {
    let server = fake::start().await;
    let c = client(&server);
    let login = |code: &'static str| {
        let c = &c;
        async move { c.code_to_session(code).await.unwrap_err() }
    };
    assert!(matches!(
        login(fake::USED_CODE).await,
        PlatformError::CodeInvalid(_)
    ));
    assert!(matches!(
        login(fake::INVALID_CODE).await,
        PlatformError::CodeInvalid(_)
    ));
    assert!(matches!(
        login(fake::BUSY_CODE).await,
        PlatformError::Unavailable(_)
    ));
    assert_eq!(login(fake::LIMITED_CODE).await, PlatformError::RateLimited);
    assert_eq!(login(fake::RISKY_CODE).await, PlatformError::UserBlocked);
    assert!(matches!(
        login(fake::MALFORMED_CODE).await,
        PlatformError::Unavailable(_)
    ));
    assert!(matches!(
        login(fake::HTTP500_CODE).await,
        PlatformError::Unavailable(_)
    ));
}

#[tokio::test]
async fn a_slow_answer_times_out_as_unavailable() {
    let server = fake::start().await;
    let started = std::time::Instant::now();
    let err = client(&server)
        .code_to_session(fake::SLOW_CODE)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PlatformError::Unavailable(ref m) if m.contains("in time")),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn the_phone_number_is_read_and_its_watermark_checked() {
    let server = fake::start().await;
    let c = client(&server);
    assert_eq!(
        c.phone_number(fake::PHONE_CODE).await.unwrap(),
        fake::PHONE_NUMBER
    );
    // countryCode as a number.
    assert_eq!(
        c.phone_number(fake::PHONE_CODE_NUMERIC_COUNTRY)
            .await
            .unwrap(),
        "13912345678"
    );
    assert!(matches!(
        c.phone_number(fake::PHONE_CODE_OTHER_APP)
            .await
            .unwrap_err(),
        PlatformError::CodeInvalid(_)
    ));
    assert!(matches!(
        c.phone_number("phone-code-unknown").await.unwrap_err(),
        PlatformError::CodeInvalid(_)
    ));
    // One token served all four calls.
    assert_eq!(token_requests(&server, None).await, 1);
}

#[tokio::test]
async fn the_token_is_refreshed_shortly_before_it_expires() {
    let server = MockServer::start().await;
    fake::mount_token(&server, fake::TOKEN, 1).await;
    fake::mount_phones(&server, fake::TOKEN).await;
    let clock = Clock::new(chrono_tz::Asia::Shanghai);
    let c = client_with_clock(&server, clock.clone());
    c.phone_number(fake::PHONE_CODE).await.unwrap();
    c.phone_number(fake::PHONE_CODE).await.unwrap();
    assert_eq!(token_requests(&server, None).await, 1, "cached while fresh");
    clock.advance(chrono::Duration::milliseconds(1100));
    c.phone_number(fake::PHONE_CODE).await.unwrap();
    assert_eq!(
        token_requests(&server, None).await,
        2,
        "refreshed when stale"
    );
}

#[tokio::test]
async fn concurrent_callers_share_one_refresh() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/cgi-bin/stable_token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": fake::TOKEN, "expires_in": 7200}))
                .set_delay(Duration::from_millis(200)),
        )
        .mount(&server)
        .await;
    fake::mount_phones(&server, fake::TOKEN).await;
    let c = Arc::new(client(&server));
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let c = Arc::clone(&c);
            tokio::spawn(async move { c.phone_number(fake::PHONE_CODE).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), fake::PHONE_NUMBER);
    }
    assert_eq!(token_requests(&server, None).await, 1);
}

#[tokio::test]
async fn a_refused_token_is_refreshed_once_and_the_call_retried_once() {
    for stale_errcode in [40001, 42001, 40014] {
        let server = MockServer::start().await;
        // The normal refresh keeps handing out the stale token; a forced one gives a new token.
        Mock::given(method("POST"))
            .and(path("/cgi-bin/stable_token"))
            .and(body_partial_json(json!({"force_refresh": false})))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"access_token": "STALE", "expires_in": 7200})),
            )
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/cgi-bin/stable_token"))
            .and(body_partial_json(json!({"force_refresh": true})))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"access_token": "FRESH", "expires_in": 7200})),
            )
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/wxa/business/getuserphonenumber"))
            .and(query_param("access_token", "STALE"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(fake::error(stale_errcode, "invalid credential")),
            )
            .mount(&server)
            .await;
        fake::mount_phones(&server, "FRESH").await;

        let c = client(&server);
        assert_eq!(
            c.phone_number(fake::PHONE_CODE).await.unwrap(),
            fake::PHONE_NUMBER
        );
        assert_eq!(
            token_requests(&server, Some(true)).await,
            1,
            "errcode {stale_errcode}"
        );
        // The fresh token is kept for later calls.
        c.phone_number(fake::PHONE_CODE).await.unwrap();
        assert_eq!(
            token_requests(&server, None).await,
            3,
            "errcode {stale_errcode}"
        );
    }
}

#[tokio::test]
async fn a_token_refused_twice_is_not_retried_again() {
    let server = MockServer::start().await;
    fake::mount_token(&server, "ALWAYS-BAD", 7200).await;
    Mock::given(method("POST"))
        .and(path("/wxa/business/getuserphonenumber"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fake::error(40001, "invalid credential")),
        )
        .expect(2)
        .mount(&server)
        .await;
    let err = client(&server)
        .phone_number(fake::PHONE_CODE)
        .await
        .unwrap_err();
    assert!(matches!(err, PlatformError::Unavailable(_)), "{err:?}");
}

fn review_message(values: &[String]) -> OutgoingMessage<'_> {
    OutgoingMessage {
        kind: NotificationKind::ReviewResult,
        values,
        page: "pages/notifications/index",
    }
}

#[tokio::test]
async fn a_subscribe_message_goes_out_with_each_value_cut_to_its_field() {
    let server = fake::start().await;
    let messages = fake::mount_messages(&server, fake::TOKEN).await;
    let c = client(&server);
    let long_name = "湖南省郴州市临武县舜峰镇解放路八十八号大型连锁超市东门店";
    let values = vec![
        long_name.to_owned(),
        "已通过".to_owned(),
        "可下载".to_owned(),
    ];
    c.send_subscribe_message(fake::GOOD_OPENID, &review_message(&values))
        .await
        .unwrap();
    let taken = messages.taken();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].recipient, fake::GOOD_OPENID);
    assert_eq!(
        taken[0].template,
        crate::fake_messages::REVIEW_RESULT_TEMPLATE
    );
    assert_eq!(taken[0].page, "pages/notifications/index");
    let thing = &taken[0].values["thing1"];
    assert_eq!(thing.chars().count(), 20);
    assert!(thing.ends_with('…') && long_name.starts_with(thing.trim_end_matches('…')));
    assert_eq!(taken[0].values["phrase2"], "已通过");
}

#[tokio::test]
async fn a_user_who_has_not_subscribed_and_a_broken_field_are_not_retried() {
    let server = fake::start().await;
    let messages = fake::mount_messages(&server, fake::TOKEN).await;
    messages.unsubscribe(fake::SECOND_OPENID);
    let c = client(&server);
    let values = vec!["超市".to_owned(), "已通过".to_owned(), "可下载".to_owned()];
    assert_eq!(
        c.send_subscribe_message(fake::SECOND_OPENID, &review_message(&values))
            .await
            .unwrap_err(),
        SendError::NotSubscribed
    );
    // A time field that is not a time breaks the template's rules (47003).
    let health = OutgoingMessage {
        kind: NotificationKind::HealthCode,
        values: &["黄码".to_owned(), "昨天".to_owned(), "请查看".to_owned()],
        page: "p",
    };
    assert!(matches!(
        c.send_subscribe_message(fake::GOOD_OPENID, &health).await.unwrap_err(),
        SendError::Refused(why) if why.contains("47003")
    ));
    messages.busy_for(1);
    assert!(matches!(
        c.send_subscribe_message(fake::GOOD_OPENID, &review_message(&values))
            .await
            .unwrap_err(),
        SendError::Unavailable(_)
    ));
    // A kind without a template is not sent at all.
    let none = WechatClient::new(
        WechatSettings {
            appid: APPID.into(),
            secret: Secret::new(SECRET.into()),
            api_base: server.uri(),
            timeout: Duration::from_millis(1500),
            templates: MessageTemplates::default(),
        },
        Clock::new(chrono_tz::Asia::Shanghai),
    )
    .unwrap();
    assert_eq!(
        none.send_subscribe_message(fake::GOOD_OPENID, &review_message(&values))
            .await
            .unwrap_err(),
        SendError::NoTemplate
    );
    assert!(messages.taken().is_empty());
}

#[tokio::test]
async fn a_message_refused_for_its_token_is_sent_again_with_a_fresh_one() {
    let server = MockServer::start().await;
    // The cached token goes stale: the normal refresh hands it out again, a forced one is new.
    Mock::given(method("POST"))
        .and(path("/cgi-bin/stable_token"))
        .and(body_partial_json(json!({"force_refresh": false})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "STALE", "expires_in": 7200})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/cgi-bin/stable_token"))
        .and(body_partial_json(json!({"force_refresh": true})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "FRESH", "expires_in": 7200})),
        )
        .mount(&server)
        .await;
    let messages = fake::mount_messages(&server, "FRESH").await;
    let c = client(&server);
    let values = vec!["超市".to_owned(), "已通过".to_owned(), "可下载".to_owned()];
    c.send_subscribe_message(fake::GOOD_OPENID, &review_message(&values))
        .await
        .unwrap();
    assert_eq!(messages.tries(), 1);
    assert_eq!(messages.taken().len(), 1);
    assert_eq!(token_requests(&server, Some(true)).await, 1);
    // The first token, the normal refresh (the same stale token) and the forced one.
    assert_eq!(token_requests(&server, None).await, 3);
    // The fresh token serves the next message without another refresh.
    c.send_subscribe_message(fake::GOOD_OPENID, &review_message(&values))
        .await
        .unwrap();
    assert_eq!(token_requests(&server, None).await, 3);
}
