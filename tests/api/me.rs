//! The resident's own account and the three-element consent of the seeds.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::fake_alipay;
use crate::fake_wechat;
use crate::helpers::{alipay_login, app_with_platforms, wechat_login};
use crate::helpers::{assert_error, body_of, field_code, spawn_app};

fn full_consent(identity_name: &str, id_number: &str) -> Value {
    json!({
        "profile": {"nickname": "李阿姨", "avatar_url": "https://thirdwx.qlogo.cn/a.png", "gender": "female"},
        "phone": {"wechat_code": fake_wechat::PHONE_CODE},
        "identity": {"name": identity_name, "id_number": id_number}
    })
}

#[tokio::test]
async fn a_new_account_has_consented_to_nothing() {
    let p = app_with_platforms().await;
    let token = wechat_login(&p.app, fake_wechat::GOOD_CODE).await;
    let me = p.app.read(&token, "/api/v1/me").await;
    assert_eq!(
        me["consent"],
        json!({"profile": false, "phone": false, "identity": false})
    );
    assert!(me["identity"].is_null() && me["phone"].is_null());
}

#[tokio::test]
async fn consent_through_wechat_shows_the_identity_masked() {
    let p = app_with_platforms().await;
    let token = wechat_login(&p.app, fake_wechat::GOOD_CODE).await;
    let me = body_of(
        p.app
            .put_as(
                &token,
                "/api/v1/me/consent",
                &full_consent("李秀英", "11010519491231002x"),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(
        me["consent"],
        json!({"profile": true, "phone": true, "identity": true})
    );
    assert_eq!(
        me["identity"],
        json!({"name": "李**", "id_type": "resident_id", "id_number": "1101**********002X", "verified": false})
    );
    assert_eq!(me["phone"], "138****5678");
    assert_eq!(me["profile"]["nickname"], "李阿姨");
}

#[tokio::test]
async fn consent_through_alipay_verifies_the_encrypted_phone_and_fetches_the_profile() {
    let p = app_with_platforms().await;
    let token = alipay_login(&p.app, fake_alipay::GOOD_CODE).await;
    let me = body_of(
        p.app
            .put_as(
                &token,
                "/api/v1/me/consent",
                &json!({
                    "profile": {},
                    "phone": {"alipay_response": fake_alipay::phone_success("15912345678")},
                    "identity": {"name": "欧阳娜娜", "id_number": "440524188001010014"}
                }),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(
        me["identity"],
        json!({"name": "欧阳**", "id_type": "resident_id", "id_number": "4405**********0014", "verified": false})
    );
    assert_eq!(me["phone"], "159****5678");
    // The profile came from alipay.user.info.share, not from the client.
    assert_eq!(me["profile"]["nickname"], "小李");
    assert_eq!(me["profile"]["city"], "郴州市");
}

#[tokio::test]
async fn a_refused_phone_code_stores_nothing() {
    let p = app_with_platforms().await;
    let token = wechat_login(&p.app, fake_wechat::GOOD_CODE).await;
    let response = p
        .app
        .put_as(
            &token,
            "/api/v1/me/consent",
            &json!({
                "phone": {"wechat_code": fake_wechat::PHONE_CODE_OTHER_APP},
                "identity": {"name": "李秀英", "id_number": "11010519491231002X"}
            }),
        )
        .await;
    assert_error(response, StatusCode::UNAUTHORIZED, "platform_code_invalid").await;
    let me = p.app.read(&token, "/api/v1/me").await;
    assert_eq!(me["consent"]["identity"], false, "all or nothing");
}

#[tokio::test]
async fn a_foreign_phone_number_is_a_field_error() {
    let p = app_with_platforms().await;
    let token = wechat_login(&p.app, fake_wechat::GOOD_CODE).await;
    let body = assert_error(
        p.app
            .put_as(
                &token,
                "/api/v1/me/consent",
                &json!({"phone": {"wechat_code": fake_wechat::PHONE_CODE_FOREIGN}}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&body, "phone"), "mobile_unsupported");
}

#[tokio::test]
async fn a_phone_proof_of_the_other_platform_is_refused() {
    let p = app_with_platforms().await;
    let token = wechat_login(&p.app, fake_wechat::GOOD_CODE).await;
    let body = assert_error(
        p.app
            .put_as(
                &token,
                "/api/v1/me/consent",
                &json!({"phone": {"alipay_response": fake_alipay::phone_success("13812345678")}}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_code(&body, "phone"), "phone_proof_platform");
}

#[tokio::test]
async fn consent_fields_are_checked_before_any_platform_call() {
    let p = app_with_platforms().await;
    let token = wechat_login(&p.app, fake_wechat::GOOD_CODE).await;
    let calls_before = p.wechat.received_requests().await.unwrap().len();
    let body = assert_error(
        p.app
            .put_as(
                &token,
                "/api/v1/me/consent",
                &json!({
                    "phone": {"wechat_code": fake_wechat::PHONE_CODE},
                    "identity": {"name": "", "id_number": "110105194912310021"}
                }),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        field_code(&body, "identity.id_number"),
        "id_number_check_character"
    );
    assert_eq!(field_code(&body, "identity.name"), "required");
    assert_eq!(
        p.wechat.received_requests().await.unwrap().len(),
        calls_before
    );
}

#[tokio::test]
async fn an_empty_or_ambiguous_consent_is_refused() {
    let app = spawn_app().await;
    let token = app.account().await;
    for body in [
        json!({}),
        json!({"phone": {"wechat_code": "a", "alipay_response": "b"}}),
    ] {
        assert_error(
            app.put_as(&token, "/api/v1/me/consent", &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
}

#[tokio::test]
async fn one_id_number_binds_one_account_per_platform() {
    let p = app_with_platforms().await;
    let identity = json!({"identity": {"name": "王五", "id_number": "11010519491231002X"}});
    let first = wechat_login(&p.app, fake_wechat::GOOD_CODE).await;
    let second = wechat_login(&p.app, fake_wechat::SECOND_CODE).await;
    body_of(
        p.app.put_as(&first, "/api/v1/me/consent", &identity).await,
        200,
    )
    .await;
    assert_error(
        p.app.put_as(&second, "/api/v1/me/consent", &identity).await,
        StatusCode::CONFLICT,
        "identity_already_bound",
    )
    .await;
}

#[tokio::test]
async fn an_identity_cannot_be_switched_without_withdrawing() {
    let app = spawn_app().await;
    let resident = app.resident("王五").await;
    assert_error(
        app.put_as(
            &resident.token,
            "/api/v1/me/consent",
            &json!({"identity": {"name": "赵六", "id_number": "440524188001010014"}}),
        )
        .await,
        StatusCode::CONFLICT,
        "identity_mismatch",
    )
    .await;
}

#[tokio::test]
async fn after_withdrawal_another_account_may_bind_the_identity() {
    let p = app_with_platforms().await;
    let identity = json!({"identity": {"name": "王五", "id_number": "11010519491231002X"}});
    let first = wechat_login(&p.app, fake_wechat::GOOD_CODE).await;
    let second = wechat_login(&p.app, fake_wechat::SECOND_CODE).await;
    body_of(
        p.app.put_as(&first, "/api/v1/me/consent", &identity).await,
        200,
    )
    .await;
    body_of(p.app.delete_as(&first, "/api/v1/me/consent").await, 204).await;
    body_of(
        p.app.put_as(&second, "/api/v1/me/consent", &identity).await,
        200,
    )
    .await;
}

#[tokio::test]
async fn withdrawing_consent_removes_phone_profile_and_identity() {
    let app = spawn_app().await;
    let resident = app.resident("张三").await;
    body_of(
        app.delete_as(&resident.token, "/api/v1/me/consent").await,
        204,
    )
    .await;
    let me = app.read(&resident.token, "/api/v1/me").await;
    assert_eq!(
        me["consent"],
        json!({"profile": false, "phone": false, "identity": false})
    );
    assert!(me["identity"].is_null() && me["phone"].is_null() && me["profile"].is_null());
}

#[tokio::test]
async fn resident_routes_need_a_token() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/me").await;
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert_error(
        app.get_as("not.a.token", "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn a_tampered_token_is_refused() {
    let app = spawn_app().await;
    let token = app.dev_login("alipay", "someone").await;
    let tampered = crate::helpers::tampered(&token, 3);
    assert_error(
        app.get_as(&tampered, "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn an_expired_session_is_refused() {
    let app = spawn_app().await;
    let token = app.account().await;
    app.state.clock.advance(chrono::Duration::hours(25));
    assert_error(
        app.get_as(&token, "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn a_staff_token_is_refused_on_resident_routes() {
    let app = spawn_app().await;
    let staff = app.auditor("43").await;
    assert_error(
        app.get_as(&staff, "/api/v1/me").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn an_alipay_phone_answer_is_accepted_for_one_account_only() {
    let p = app_with_platforms().await;
    let answer = fake_alipay::phone_success("15912345678");
    let first = alipay_login(&p.app, fake_alipay::GOOD_CODE).await;
    let offer = json!({"phone": {"alipay_response": answer}});
    body_of(
        p.app.put_as(&first, "/api/v1/me/consent", &offer).await,
        200,
    )
    .await;
    // The same answer again from the same account is harmless; from another, refused.
    body_of(
        p.app.put_as(&first, "/api/v1/me/consent", &offer).await,
        200,
    )
    .await;
    let second = alipay_login(&p.app, fake_alipay::OLD_APP_CODE).await;
    assert_error(
        p.app.put_as(&second, "/api/v1/me/consent", &offer).await,
        StatusCode::UNAUTHORIZED,
        "platform_code_invalid",
    )
    .await;
    assert!(p.app.read(&second, "/api/v1/me").await["phone"].is_null());
}
