//! The pass on the door page: verified online, or offline with the published key.

use base64::Engine;
use ed25519_dalek::Verifier;
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with, tampered, TestApp};

/// A pass from a fresh scan.
async fn pass(app: &TestApp) -> (Value, String) {
    let venue = app.approved_venue().await;
    let resident = app.resident("吴迪").await;
    let page = app.check_in(&resident.token, &venue.code_url).await;
    let token = page["pass"]["token"].as_str().unwrap().to_owned();
    (page, token)
}

async fn verify(app: &TestApp, token: &str) -> Value {
    app.get(&format!("/api/v1/passes/verify?token={token}"))
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_pass_verifies_online() {
    let app = spawn_app().await;
    let (page, token) = pass(&app).await;
    let verified = verify(&app, &token).await;
    assert_eq!(verified["valid"], true);
    assert_eq!(verified["check_in_id"], page["check_in_id"]);
    assert_eq!(verified["venue"]["name"], page["venue"]["name"]);
    assert_eq!(verified["people"][0]["name"], "吴*");
}

#[tokio::test]
async fn a_changed_pass_is_invalid() {
    let app = spawn_app().await;
    let (_, token) = pass(&app).await;
    let changed = tampered(&token, token.len() - token.find('.').unwrap() - 7);
    let refused = verify(&app, &changed).await;
    assert_eq!(refused["valid"], false);
    assert_eq!(refused["reason"], "invalid");
}

#[tokio::test]
async fn a_pass_expires() {
    let app = spawn_app_with(&[("PASS_TTL_SECONDS", "10")]).await;
    let (_, token) = pass(&app).await;
    app.state.clock.advance(chrono::Duration::seconds(11));
    let verified = verify(&app, &token).await;
    assert_eq!(verified["valid"], false);
    assert_eq!(verified["reason"], "expired");
}

#[tokio::test]
async fn a_pass_verifies_offline_with_the_published_key() {
    let app = spawn_app().await;
    let (_, token) = pass(&app).await;
    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["crv"].as_str(),
            key["alg"].as_str()
        ),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let public: [u8; 32] = b64
        .decode(key["x"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let verifying = ed25519_dalek::VerifyingKey::from_bytes(&public).unwrap();
    let verify_offline = |token: &str| {
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let signature =
            ed25519_dalek::Signature::from_slice(&b64.decode(signature).unwrap()).unwrap();
        verifying.verify(signed.as_bytes(), &signature).is_ok()
    };
    assert!(verify_offline(&token));
    assert!(!verify_offline(&tampered(
        &token,
        token.len() - token.find('.').unwrap() - 7
    )));
    let (header, _) = token.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(&b64.decode(header).unwrap()).unwrap();
    assert_eq!(header["kid"], key["kid"]);
}
