//! Identity (DESIGN §7): one ID number, one owner; a face check proves an identity and takes it
//! over from an account that only declared it; a verified binding only an official releases;
//! nothing typed renames a person. The face checks run against the fakes of WeChat 人脸核身 and
//! Alipay 身份认证, played through as a user would.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::fake_alipay;
use crate::fake_wechat;
use crate::helpers::{adult, assert_error, body_of, spawn_app, TestApp, LINWU};
use crate::helpers::{alipay_login, app_with_platforms, wechat_login};

/// The victim: a Linwu resident.
const NAME: &str = "欧阳娜娜";

fn identity(name: &str, id_number: &str) -> Value {
    json!({"identity": {"name": name, "id_number": id_number}})
}

async fn declare(app: &TestApp, token: &str, name: &str, id_number: &str) -> reqwest::Response {
    app.put_as(token, "/api/v1/me/consent", &identity(name, id_number))
        .await
}

/// Opens a face check; the platform's id for the mini-program and ours.
async fn start_check(app: &TestApp, token: &str, claim: Value) -> (String, String) {
    let started = body_of(
        app.post_as(token, "/api/v1/me/identity/verification", &claim)
            .await,
        200,
    )
    .await;
    let platform_id = started["verify_id"]
        .as_str()
        .or(started["certify_id"].as_str())
        .expect("what the mini-program needs")
        .to_owned();
    (
        platform_id,
        started["verification_id"].as_str().unwrap().to_owned(),
    )
}

async fn check_result(app: &TestApp, token: &str, verification_id: &str) -> reqwest::Response {
    app.post_as(
        token,
        &format!("/api/v1/me/identity/verification/{verification_id}/result"),
        &json!({}),
    )
    .await
}

#[tokio::test]
async fn an_id_number_another_account_holds_is_refused_on_either_platform() {
    let p = app_with_platforms().await;
    let id_number = adult(1);
    let victim = wechat_login(&p.app, fake_wechat::GOOD_CODE).await;
    body_of(declare(&p.app, &victim, NAME, &id_number).await, 200).await;
    let attacker = alipay_login(&p.app, fake_alipay::GOOD_CODE).await;
    let refused = assert_error(
        declare(&p.app, &attacker, "冒名者", &id_number).await,
        StatusCode::CONFLICT,
        "identity_already_bound",
    )
    .await;
    assert_eq!(refused["error"]["details"]["verification_required"], true);
    // The attacker holds nothing; the victim keeps their name.
    assert!(p.app.read(&attacker, "/api/v1/me").await["identity"].is_null());
    assert_eq!(
        p.app.read(&victim, "/api/v1/me").await["identity"]["name"],
        "欧阳**"
    );
}

#[tokio::test]
async fn a_verified_claim_through_alipay_takes_over_a_declared_binding() {
    let p = app_with_platforms().await;
    let app = &p.app;
    let id_number = adult(1);
    // Someone declares the victim's ID number first, under a made-up name, and prints its code.
    let squatter = wechat_login(app, fake_wechat::GOOD_CODE).await;
    body_of(
        app.put_as(
            &squatter,
            "/api/v1/me/consent",
            &json!({
                "profile": {"nickname": "路人"},
                "phone": {"wechat_code": fake_wechat::PHONE_CODE},
                "identity": {"name": "冒名者", "id_number": id_number}
            }),
        )
        .await,
        200,
    )
    .await;
    let paper_code = app
        .print_paper_code(&squatter, "/api/v1/me/paper-code.png")
        .await;

    // The real person, on Alipay, must verify.
    let owner = alipay_login(app, fake_alipay::GOOD_CODE).await;
    assert_error(
        declare(app, &owner, NAME, &id_number).await,
        StatusCode::CONFLICT,
        "identity_already_bound",
    )
    .await;
    let (certify_id, verification) =
        start_check(app, &owner, json!({"name": NAME, "id_number": id_number})).await;
    p.alipay_faces.perform(&certify_id, NAME, &id_number);
    let me = body_of(check_result(app, &owner, &verification).await, 200).await;
    assert_eq!(
        me["identity"],
        json!({"name": "欧阳**", "id_type": "resident_id", "id_number": "4310**********".to_owned() + &id_number[14..], "verified": true})
    );

    // The squatter lost the identity, was told, and its paper code no longer works.
    assert!(app.read(&squatter, "/api/v1/me").await["identity"].is_null());
    let told = app.read(&squatter, "/api/v1/me/notifications").await;
    assert_eq!(told["items"][0]["kind"], "identity_released");
    assert!(told["items"][0]["message"]
        .as_str()
        .unwrap()
        .contains("人脸核验"));
    let venue = app.approved_venue().await;
    assert_error(
        app.post_as(
            &venue.manager,
            &format!("/api/v1/venues/{}/paper-scans", venue.id),
            &json!({"entrance_id": venue.entrance_id, "code": paper_code}),
        )
        .await,
        StatusCode::GONE,
        "paper_code_revoked",
    )
    .await;

    // The person's record now carries the verified name, not the one typed first.
    let official = app.official(LINWU).await;
    app.set_color(&official, &id_number, "随便填", "yellow")
        .await;
    let code = app
        .read(&official, &format!("/api/v1/health-codes/{id_number}"))
        .await;
    assert_eq!(code["name"], NAME);
}

#[tokio::test]
async fn a_face_check_with_someone_elses_face_fails() {
    let p = app_with_platforms().await;
    let app = &p.app;
    let id_number = adult(1);
    let owner = alipay_login(app, fake_alipay::GOOD_CODE).await;
    body_of(declare(app, &owner, NAME, &id_number).await, 200).await;

    let attacker = wechat_login(app, fake_wechat::GOOD_CODE).await;
    let (verify_id, verification) = start_check(
        app,
        &attacker,
        json!({"name": NAME, "id_number": id_number}),
    )
    .await;
    p.wechat_faces.perform(&verify_id, "王攻击", &adult(2));
    assert_error(
        check_result(app, &attacker, &verification).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "verification_failed",
    )
    .await;
    // A failed check stays failed.
    assert_error(
        check_result(app, &attacker, &verification).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "verification_failed",
    )
    .await;
    assert!(app.read(&attacker, "/api/v1/me").await["identity"].is_null());
    assert_eq!(
        app.read(&owner, "/api/v1/me").await["identity"]["name"],
        "欧阳**"
    );
}

#[tokio::test]
async fn a_wechat_face_check_the_user_did_verifies_the_declared_identity() {
    let p = app_with_platforms().await;
    let app = &p.app;
    let id_number = adult(1);
    let owner = wechat_login(app, fake_wechat::GOOD_CODE).await;
    body_of(declare(app, &owner, NAME, &id_number).await, 200).await;
    let (verify_id, verification) = start_check(app, &owner, json!({})).await;
    // Asked before the user finished: not verified, and the check is spent.
    let (early_id, early) = start_check(app, &owner, json!({})).await;
    assert_ne!(early_id, verify_id);
    assert_error(
        check_result(app, &owner, &early).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "verification_failed",
    )
    .await;
    p.wechat_faces.perform(&verify_id, NAME, &id_number);
    let me = body_of(check_result(app, &owner, &verification).await, 200).await;
    assert_eq!(me["identity"]["verified"], true);
    // Someone else's check id is not theirs to read.
    let other = wechat_login(app, fake_wechat::SECOND_CODE).await;
    assert_error(
        check_result(app, &other, &verification).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_verified_binding_is_released_only_by_an_official_of_the_persons_region() {
    let app = spawn_app().await;
    let owner = app.resident("欧阳娜娜").await;
    app.verify_identity(&owner.token, json!({})).await;
    let claimant = app.account().await;
    let claim = json!({"name": NAME, "id_number": owner.id_number});
    let refused = assert_error(
        app.put_as(
            &claimant,
            "/api/v1/me/consent",
            &json!({"identity": claim.clone()}),
        )
        .await,
        StatusCode::CONFLICT,
        "identity_already_bound",
    )
    .await;
    assert_eq!(refused["error"]["details"]["verification_required"], false);
    // Even a verified claim does not take a verified binding.
    let started = body_of(
        app.post_as(&claimant, "/api/v1/me/identity/verification", &claim)
            .await,
        200,
    )
    .await;
    assert_error(
        check_result(
            &app,
            &claimant,
            started["verification_id"].as_str().unwrap(),
        )
        .await,
        StatusCode::CONFLICT,
        "identity_already_bound",
    )
    .await;

    let path = format!("/api/v1/identity-bindings/{}", owner.id_number);
    let elsewhere = app.official("3701").await;
    assert_error(
        app.delete_as(&elsewhere, &path).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        app.delete_as(&owner.token, &path).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let official = app.official(LINWU).await;
    body_of(app.delete_as(&official, &path).await, 204).await;
    assert!(app.read(&owner.token, "/api/v1/me").await["identity"].is_null());
    let told = app.read(&owner.token, "/api/v1/me/notifications").await;
    assert_eq!(told["items"][0]["kind"], "identity_released");
    let me = app.verify_identity(&claimant, claim).await;
    assert_eq!(me["identity"]["verified"], true);

    let auditor = app.auditor(LINWU).await;
    let log = app
        .read(&auditor, "/api/v1/audit-log?action=identity.release")
        .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn names_typed_by_others_never_rename_a_person() {
    let app = spawn_app().await;
    let official = app.official(LINWU).await;
    // A manual check-in and two guardians' companions, each with a name of their own.
    let resident = app.resident("王真名").await;
    let venue = app.approved_venue().await;
    body_of(
        app.post_as(
            &venue.manager,
            &format!("/api/v1/venues/{}/manual-check-ins", venue.id),
            &json!({"entrance_id": venue.entrance_id, "name": "李假名", "id_number": resident.id_number, "phone": "13900001111"}),
        )
        .await,
        201,
    )
    .await;
    let child = crate::helpers::child(1);
    let first = app.resident("张监护").await;
    app.add_companion(&first.token, "张小明", &child, "子女")
        .await;
    let second = app.resident("赵路人").await;
    app.add_companion(&second.token, "赵小红", &child, "子女")
        .await;

    for (id_number, name) in [(&resident.id_number, "王真名"), (&child, "张小明")] {
        app.set_color(&official, id_number, "不是这个", "green")
            .await;
        let code = app
            .read(&official, &format!("/api/v1/health-codes/{id_number}"))
            .await;
        assert_eq!(code["name"], name);
    }
    // Each guardian sees the name they typed.
    let mine = app.read(&second.token, "/api/v1/me/companions").await;
    assert_eq!(mine["items"][0]["name"], "赵**");
    // Nor did the phone typed at the door become theirs.
    let me = app.read(&resident.token, "/api/v1/me").await;
    assert!(!me["phone"].as_str().unwrap().ends_with("1111"), "{me}");
}

#[tokio::test]
async fn names_with_invisible_or_bidi_characters_are_refused() {
    let app = spawn_app().await;
    let account = app.account().await;
    for name in ["张\u{202E}三", "李\u{200B}四", "王\u{2066}五"] {
        let refused = assert_error(
            declare(&app, &account, name, &adult(1)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(refused["error"]["details"]["identity.name"].is_object());
    }
    let guardian = app.resident("张监护").await;
    assert_error(
        app.post_as(
            &guardian.token,
            "/api/v1/me/companions",
            &json!({"name": "张\u{202E}小", "id_number": crate::helpers::child(1), "relation": "子女"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn an_account_opens_at_most_five_face_checks_a_day() {
    let app = spawn_app().await;
    let account = app.dev_login("wechat", "checker").await;
    for n in 0..5 {
        start_check(&app, &account, json!({"name": NAME, "id_number": adult(n)})).await;
    }
    let refused = app
        .post_as(
            &account,
            "/api/v1/me/identity/verification",
            &json!({"name": NAME, "id_number": adult(9)}),
        )
        .await;
    assert!(refused.headers().contains_key("retry-after"));
    assert_error(refused, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    app.state.clock.advance(chrono::Duration::hours(25));
    let account = app.dev_login("wechat", "checker").await;
    start_check(&app, &account, json!({"name": NAME, "id_number": adult(9)})).await;
}
