//! The WeChat client against a local fake WeChat.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use venuecode::clock::Clock;
use venuecode::config::Secret;
use venuecode::config::WechatSettings;
use venuecode::platforms::wechat::WechatClient;
use venuecode::platforms::PlatformError;
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
        },
        clock,
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
