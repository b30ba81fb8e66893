//! The Alipay client against a local fake gateway that checks our signatures and signs its own.

use std::time::Duration;

use serde_json::json;
use venuecode::clock::Clock;
use venuecode::domain::NotificationKind;
use venuecode::domain::Secret;
use venuecode::platforms::alipay::AlipayClient;
use venuecode::platforms::messages::{MessageSender, MessageTemplates, OutgoingMessage, SendError};
use venuecode::platforms::AlipaySettings;
use venuecode::platforms::PlatformError;
use wiremock::MockServer;

use crate::fake_alipay::{self as fake};

fn config(server: &MockServer, private_key: String) -> AlipaySettings {
    AlipaySettings {
        app_id: fake::APP_ID.into(),
        private_key: Secret::new(private_key),
        alipay_public_key: fake::alipay_public_pem(),
        aes_key: Some(Secret::new(fake::AES_KEY.into())),
        gateway: fake::gateway(server),
        timeout: Duration::from_millis(1500),
        templates: templates(),
    }
}

/// The fake's templates under Alipay's keys `keyword1…3`.
fn templates() -> MessageTemplates {
    let settings = fake::template_settings();
    MessageTemplates::read(
        |name| {
            settings
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.clone())
        },
        "ALIPAY",
        |_| ["keyword1", "keyword2", "keyword3"],
    )
    .unwrap()
}

fn client(server: &MockServer) -> AlipayClient {
    AlipayClient::new(
        config(server, fake::app_private_pkcs8()),
        Clock::new(chrono_tz::Asia::Shanghai),
    )
    .unwrap()
}

#[tokio::test]
async fn oauth_token_with_a_pkcs8_and_a_pkcs1_key() {
    let server = fake::start().await;
    for key in [fake::app_private_pkcs8(), fake::app_private_pkcs1()] {
        let c =
            AlipayClient::new(config(&server, key), Clock::new(chrono_tz::Asia::Shanghai)).unwrap();
        let token = c.oauth_token(fake::GOOD_CODE).await.unwrap();
        assert_eq!(token.open_id.as_deref(), Some(fake::GOOD_OPEN_ID));
        assert_eq!(token.user_id.as_deref(), Some(fake::GOOD_USER_ID));
        assert_eq!(token.access_token, "authusrB-good");
        assert_eq!(
            token.expires_in_secs, 1_296_000,
            "a string expires_in is read"
        );
    }
}

#[tokio::test]
async fn a_bare_base64_key_as_alipays_tool_prints_it_works() {
    let server = fake::start().await;
    let bare: String = fake::app_private_pkcs8()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let c =
        AlipayClient::new(config(&server, bare), Clock::new(chrono_tz::Asia::Shanghai)).unwrap();
    assert!(c.oauth_token(fake::GOOD_CODE).await.is_ok());
}

#[tokio::test]
async fn a_request_signed_with_another_key_is_refused_by_the_gateway() {
    let server = fake::start().await;
    let c = AlipayClient::new(
        config(&server, fake::stranger_private_pkcs8()),
        Clock::new(chrono_tz::Asia::Shanghai),
    )
    .unwrap();
    assert!(matches!(
        c.oauth_token(fake::GOOD_CODE).await.unwrap_err(),
        PlatformError::Unavailable(_)
    ));
}

#[tokio::test]
async fn an_invalid_code_is_refused() {
    let server = fake::start().await;
    assert!(matches!(
        client(&server)
            .oauth_token(fake::INVALID_CODE)
            .await
            .unwrap_err(),
        PlatformError::CodeInvalid(_)
    ));
}

#[tokio::test]
async fn an_error_without_sign_is_still_an_error() {
    let server = fake::start().await;
    for code in [fake::UNSIGNED_ERROR_CODE, fake::EMPTY_SIGN_ERROR_CODE] {
        let err = client(&server).oauth_token(code).await.unwrap_err();
        assert!(
            matches!(err, PlatformError::CodeInvalid(_)),
            "{code}: {err:?}"
        );
    }
}

#[tokio::test]
async fn a_tampered_node_is_refused() {
    let server = fake::start().await;
    let err = client(&server)
        .oauth_token(fake::TAMPERED_CODE)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PlatformError::Unavailable(ref m) if m.contains("signature")),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_unsigned_success_is_refused() {
    let server = fake::start().await;
    assert!(matches!(
        client(&server)
            .oauth_token(fake::UNSIGNED_SUCCESS_CODE)
            .await
            .unwrap_err(),
        PlatformError::Unavailable(_)
    ));
}

#[tokio::test]
async fn a_busy_gateway_is_unavailable() {
    let server = fake::start().await;
    assert!(matches!(
        client(&server)
            .oauth_token(fake::BUSY_CODE)
            .await
            .unwrap_err(),
        PlatformError::Unavailable(_)
    ));
}

#[tokio::test]
async fn the_profile_verifies_even_with_escaped_slashes() {
    let server = fake::start().await;
    let profile = client(&server).user_info("authusrB-good").await.unwrap();
    assert_eq!(profile.nickname.as_deref(), Some("小李"));
    assert_eq!(profile.gender.as_deref(), Some("female"));
    assert_eq!(
        profile.avatar_url.as_deref(),
        Some("https://tfs.alipayobjects.com/images/partner/T1.png")
    );
    assert!(matches!(
        client(&server)
            .user_info("expired-token")
            .await
            .unwrap_err(),
        PlatformError::CodeInvalid(_)
    ));
}

#[test]
fn a_phone_answer_is_verified_then_decrypted() {
    let server_less = AlipayClient::new(
        AlipaySettings {
            gateway: "http://127.0.0.1:9/gateway.do".into(),
            ..config_without_server()
        },
        Clock::new(chrono_tz::Asia::Shanghai),
    )
    .unwrap();
    assert_eq!(
        server_less
            .decrypt_phone(&fake::phone_success("13812345678"))
            .unwrap(),
        "13812345678"
    );
    // A signature that does not match the ciphertext.
    let mut answer: serde_json::Value =
        serde_json::from_str(&fake::phone_success("13812345678")).unwrap();
    answer["sign"] = json!(fake::alipay_sign("\"something else\""));
    assert!(matches!(
        server_less.decrypt_phone(&answer.to_string()).unwrap_err(),
        PlatformError::CodeInvalid(_)
    ));
    // No signature at all.
    answer.as_object_mut().unwrap().remove("sign");
    assert!(server_less.decrypt_phone(&answer.to_string()).is_err());
    // Alipay's own refusal inside the ciphertext.
    let refused = fake::phone_response(&json!({
        "code": "40003", "msg": "Insufficient Conditions",
        "subCode": "isv.invalid-auth-relations", "subMsg": "无效的授权关系"
    }));
    assert!(matches!(
        server_less.decrypt_phone(&refused).unwrap_err(),
        PlatformError::CodeInvalid(_)
    ));
    assert!(server_less.decrypt_phone("not json").is_err());
}

fn config_without_server() -> AlipaySettings {
    AlipaySettings {
        app_id: fake::APP_ID.into(),
        private_key: Secret::new(fake::app_private_pkcs8()),
        alipay_public_key: fake::alipay_public_pem(),
        aes_key: Some(Secret::new(fake::AES_KEY.into())),
        gateway: String::new(),
        timeout: Duration::from_secs(1),
        templates: MessageTemplates::default(),
    }
}

#[test]
fn broken_keys_are_named_at_start_up() {
    let err = AlipayClient::new(
        AlipaySettings {
            private_key: Secret::new(
                "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----".into(),
            ),
            ..config_without_server()
        },
        Clock::new(chrono_tz::Asia::Shanghai),
    )
    .err()
    .unwrap();
    assert!(err.contains("ALIPAY_PRIVATE_KEY"), "{err}");
    let err = AlipayClient::new(
        AlipaySettings {
            alipay_public_key: "not a key".into(),
            ..config_without_server()
        },
        Clock::new(chrono_tz::Asia::Shanghai),
    )
    .err()
    .unwrap();
    assert!(err.contains("ALIPAY_PUBLIC_KEY"), "{err}");
}

#[tokio::test]
async fn a_template_message_goes_to_the_open_id_or_the_user_id() {
    let (server, messages) = fake::start_with_messages().await;
    let c = client(&server);
    let values = vec![
        "临武县人民医院".to_owned(),
        "2026-11-21 10:30".to_owned(),
        "您到访的场所出现风险，请查看提醒".to_owned(),
    ];
    let message = OutgoingMessage {
        kind: NotificationKind::RiskWindow,
        values: &values,
        page: "pages/notifications/index",
    };
    c.send(fake::GOOD_OPEN_ID, &message).await.unwrap();
    c.send(fake::GOOD_USER_ID, &message).await.unwrap();
    let taken = messages.taken();
    assert_eq!(taken.len(), 2);
    assert_eq!(taken[0].recipient, fake::GOOD_OPEN_ID);
    assert_eq!(taken[1].recipient, fake::GOOD_USER_ID);
    assert_eq!(
        taken[0].template,
        crate::fake_messages::RISK_WINDOW_TEMPLATE
    );
    assert_eq!(taken[0].values["keyword1"], "临武县人民医院");
    assert_eq!(taken[0].values["keyword2"], "2026-11-21 10:30");
    assert_eq!(taken[0].values["keyword3"], values[2]);

    messages.unsubscribe(fake::GOOD_OPEN_ID);
    assert_eq!(
        c.send(fake::GOOD_OPEN_ID, &message).await.unwrap_err(),
        SendError::NotSubscribed
    );
    messages.busy_for(1);
    assert!(matches!(
        c.send(fake::GOOD_USER_ID, &message).await.unwrap_err(),
        SendError::Unavailable(_)
    ));
    // A request the gateway finds wrong is refused for good.
    let unknown = OutgoingMessage {
        kind: NotificationKind::HealthCode,
        values: &values,
        page: "",
    };
    assert!(matches!(
        c.send(fake::GOOD_USER_ID, &unknown).await.unwrap_err(),
        SendError::Refused(_)
    ));
}
