//! Keys with ids: a rotation of the session, venue-code and pass keys while posters hang and
//! people are logged in. What was signed under the earlier key keeps working until that key is
//! removed, and not after.

use serde_json::Value;
use venuecode::config::KeyRing;

use crate::helpers::{
    decode_qr, spawn_app, TEST_JWT_SECRET, TEST_PASS_SIGNING_KEY, TEST_VENUE_CODE_KEY,
};

const NEW_CODE_KEY: [u8; 32] = [42; 32];
const NEW_PASS_SEED: [u8; 32] = [43; 32];
const NEW_JWT: &str = "a new session secret of the deployment, long enough";

fn decoded(key: &str) -> [u8; 32] {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(key)
        .unwrap()
        .try_into()
        .unwrap()
}

#[tokio::test]
async fn posters_passes_and_sessions_of_an_earlier_key_work_until_it_is_removed() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let resident = app.resident("轮换人").await;
    // The manager prints the poster that will hang through the rotation.
    let printed = app
        .get_as(
            &venue.manager,
            &format!(
                "/api/v1/venues/{}/entrances/{}/code.png",
                venue.id, venue.entrance_id
            ),
        )
        .await;
    assert_eq!(decode_qr(&printed.bytes().await.unwrap()), venue.code_url);

    // The new keys go first; the earlier ones stay listed.
    let mut rotated = app.settings.clone();
    rotated.keys.venue_code_keys = KeyRing::new(vec![
        ("2026b".into(), NEW_CODE_KEY),
        ("default".into(), decoded(TEST_VENUE_CODE_KEY)),
    ]);
    rotated.keys.pass_signing_keys = KeyRing::new(vec![
        ("2026b".into(), NEW_PASS_SEED),
        ("default".into(), decoded(TEST_PASS_SIGNING_KEY)),
    ]);
    rotated.keys.jwt_secrets = KeyRing::new(vec![
        ("2026b".into(), NEW_JWT.into()),
        ("default".into(), TEST_JWT_SECRET.into()),
    ]);
    let node = app.node_with(rotated.clone()).await;
    let reviewer = app.reviewer(crate::helpers::LINWU).await;
    let outdated_on_node = || {
        app.client
            .get(format!("{}/api/v1/venues/outdated-posters", node.address))
            .bearer_auth(&reviewer)
            .send()
    };
    // Every poster carries the key of before until it is downloaded again.
    let listed: Value = outdated_on_node().await.unwrap().json().await.unwrap();
    assert_eq!(
        listed["items"][0]["entrance_id"], venue.entrance_id,
        "{listed}"
    );
    assert_eq!(listed["items"][0]["key_id"], "default");
    // The poster printed before, and the session of before, still scan.
    let page = node.scan(&resident.token, &venue.code_url).await;
    assert_eq!(page.status(), 201);
    let page: Value = page.json().await.unwrap();
    let jwks: Value = app
        .client
        .get(format!("{}/.well-known/jwks.json", node.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    // The pass just made is signed with the new key, whose id the JWKS lists first.
    let header: Value = {
        use base64::Engine;
        let head = page["pass"]["token"]
            .as_str()
            .unwrap()
            .split('.')
            .next()
            .unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(head)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(header["kid"], jwks["keys"][0]["kid"]);
    // A poster downloaded now is signed with the new key.
    let png = app
        .client
        .get(format!(
            "{}/api/v1/venues/{}/entrances/{}/code.png",
            node.address, venue.id, venue.entrance_id
        ))
        .bearer_auth(&venue.manager)
        .send()
        .await
        .unwrap();
    assert_eq!(png.status(), 200);
    let reprinted = decode_qr(&png.bytes().await.unwrap());
    assert_ne!(reprinted, venue.code_url);
    let listed: Value = outdated_on_node().await.unwrap().json().await.unwrap();
    let still: Vec<i64> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["entrance_id"].as_i64().unwrap())
        .collect();
    assert!(!still.contains(&venue.entrance_id), "{listed}");

    // The earlier keys removed: the old poster and the old session stop; the new ones work.
    let mut removed = rotated;
    removed.keys.venue_code_keys = KeyRing::new(vec![("2026b".into(), NEW_CODE_KEY)]);
    removed.keys.pass_signing_keys = KeyRing::new(vec![("2026b".into(), NEW_PASS_SEED)]);
    removed.keys.jwt_secrets = KeyRing::new(vec![("2026b".into(), NEW_JWT.into())]);
    let last = app.node_with(removed).await;
    assert_eq!(last.scan(&resident.token, &reprinted).await.status(), 401);
    let fresh = app
        .client
        .post(format!("{}/api/v1/sessions/dev", last.address))
        .json(&serde_json::json!({"platform": "wechat", "subject": "after-rotation"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let old_poster = last.scan(&fresh, &venue.code_url).await;
    assert_eq!(old_poster.status(), 400);
    let body: Value = old_poster.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_venue_code");
}
