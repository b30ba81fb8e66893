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

const NEW_PII_KEY: [u8; 32] = [44; 32];

/// `PII_KEYS` for the command line: `keys` in order, each `id:base64`.
fn pii_keys_env(keys: &[(&str, [u8; 32])]) -> String {
    use base64::Engine;
    keys.iter()
        .map(|(id, key)| {
            format!(
                "{id}:{}",
                base64::engine::general_purpose::STANDARD.encode(key)
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The binary with `PII_KEYS` set to `keys`.
fn with_pii_keys(
    app: &crate::helpers::TestApp,
    keys: &[(&str, [u8; 32])],
) -> std::process::Command {
    let mut command = app.command();
    command
        .env_remove("PII_KEY")
        .env("PII_KEYS", pii_keys_env(keys));
    command
}

#[derive(diesel::QueryableByName)]
struct Stored {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

/// Every value of a sealed column, read straight from the database.
fn stored(app: &crate::helpers::TestApp, table: &str, column: &str) -> Vec<String> {
    use diesel::RunQueryDsl;
    let mut conn = app.database().get().unwrap();
    diesel::sql_query(format!(
        "SELECT {column} AS value FROM {table} WHERE {column} IS NOT NULL"
    ))
    .load::<Stored>(&mut *conn)
    .unwrap()
    .into_iter()
    .map(|row| row.value)
    .collect()
}

/// A new consented resident, made through `node` (so under its keys).
async fn resident_on(app: &crate::helpers::TestApp, node: &crate::helpers::Node, n: u32) -> String {
    let login: Value = app
        .client
        .post(format!("{}/api/v1/sessions/dev", node.address))
        .json(&serde_json::json!({"platform": "wechat", "subject": format!("during-{n}")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let consent = app
        .client
        .put(format!("{}/api/v1/me/consent", node.address))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "profile": {"nickname": format!("during-{n}")},
            "phone": {"wechat_code": format!("139{:08}", 500 + n)},
            "identity": {"name": "扫码人", "id_number": crate::helpers::adult(500 + n)}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), 200);
    token
}

#[tokio::test]
async fn personal_data_is_resealed_under_a_new_key_while_scans_go_on() {
    use venuecode::crypto::{Field, PiiCipher};
    use venuecode::db::reseal::SEALED;

    let app = spawn_app().await;
    let old_key = decoded(crate::helpers::TEST_PII_KEY);
    // Made under the key of before: a venue's manager, residents with their identity verified,
    // a companion, check-ins, a colour set with a note, audit entries.
    let venue = app.approved_venue().await;
    let resident = app.resident("轮换甲").await;
    app.verify_identity(&resident.token, serde_json::json!({}))
        .await;
    let companion = app
        .add_companion(
            &resident.token,
            "轮换奶奶",
            &crate::helpers::elder(7),
            "奶奶",
        )
        .await;
    app.check_in_at(
        &resident.token,
        &venue.code_url,
        None,
        &[companion["id"].as_i64().unwrap()],
    )
    .await;
    let official = app.official(crate::helpers::LINWU).await;
    app.set_color(&official, &crate::helpers::adult(901), "轮换乙", "yellow")
        .await;
    // More people than a batch holds, so that the reseal's cursor walks past ten ids.
    for n in 0..12 {
        app.resident(&format!("早先{n}")).await;
    }
    let under_old: usize = SEALED
        .iter()
        .map(|c| stored(&app, c.table, c.column).len())
        .sum();
    assert!(under_old >= 10, "{under_old} sealed values made");

    // First every node reads under the new key too, the old one still current: what a node
    // writes now is found by a node of either phase.
    let behind = [("default", old_key), ("2026b", NEW_PII_KEY)];
    let mut reading = app.settings.clone();
    reading.keys.pii_keys =
        KeyRing::new(behind.iter().map(|(id, k)| (id.to_string(), *k)).collect());
    let reader = app.node_with(reading).await;
    let early = resident_on(&app, &reader, 1000).await;
    assert_eq!(reader.scan(&early, &venue.code_url).await.status(), 201);
    // Nothing is under another key than the current (still the old) one yet.
    let status = with_pii_keys(&app, &behind)
        .args(["keys", "status"])
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(0), "{status:?}");

    // Then every node gets the new key first, the old one still listed.
    let both = [("2026b", NEW_PII_KEY), ("default", old_key)];
    let mut rotated = app.settings.clone();
    rotated.keys.pii_keys = KeyRing::new(both.iter().map(|(id, k)| (id.to_string(), *k)).collect());
    let node = app.node_with(rotated.clone()).await;
    let status = with_pii_keys(&app, &both)
        .args(["keys", "status"])
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(4), "{status:?}");

    // The reseal runs in small batches while people go on scanning on the node.
    let mut reseal = with_pii_keys(&app, &both)
        .args(["keys", "reseal", "--batch", "1", "--pause-ms", "5"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut scans_during = 0;
    loop {
        let scanner = resident_on(&app, &node, scans_during).await;
        let page = node.scan(&scanner, &venue.code_url).await;
        assert_eq!(page.status(), 201);
        let again = node.scan(&resident.token, &venue.code_url).await;
        assert_eq!(again.status(), 201);
        scans_during += 1;
        if reseal.try_wait().unwrap().is_some() {
            break;
        }
    }
    let output = reseal.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(scans_during >= 1);
    let status = with_pii_keys(&app, &both)
        .args(["keys", "status"])
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(0), "{status:?}");

    // A restart without the old key: everything still reads.
    let mut removed = rotated;
    removed.keys.pii_keys = KeyRing::new(vec![("2026b".into(), NEW_PII_KEY)]);
    let last = app.node_with(removed).await;
    let me: Value = last
        .get_as(&resident.token, "/api/v1/me")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["identity"]["verified"], true, "{me}");
    let data = last.get_as(&resident.token, "/api/v1/me/data").await;
    assert_eq!(data.status(), 200);
    let data: Value = data.json().await.unwrap();
    assert_eq!(data["identity"]["name"], "轮换甲", "{data}");
    let companions: Value = last
        .get_as(&resident.token, "/api/v1/me/companions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        companions["items"][0]["id"], companion["id"],
        "{companions}"
    );
    let managed = last
        .get_as(&venue.manager, &format!("/api/v1/venues/{}", venue.id))
        .await;
    assert_eq!(managed.status(), 200);
    // Lookups find the people made under the old key: the same person, not a new one.
    let colour: Value = last
        .get_as(
            &official,
            &format!("/api/v1/health-codes/{}", crate::helpers::adult(901)),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(colour["color"], "yellow", "{colour}");
    assert_eq!(
        last.scan(&resident.token, &venue.code_url).await.status(),
        201
    );
    let early_me: Value = last
        .get_as(&early, "/api/v1/me")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(early_me["identity"]["name"], "扫**", "{early_me}");
    let verify = with_pii_keys(&app, &[("2026b", NEW_PII_KEY)])
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");

    // Nothing in the database is under the old key any more.
    let prefix = "v2:2026b:";
    for column in SEALED {
        for value in stored(&app, column.table, column.column) {
            assert!(
                value.starts_with(prefix),
                "{}.{} still holds {value}",
                column.table,
                column.column
            );
        }
    }
    let (old, new) = (
        PiiCipher::new(&old_key),
        PiiCipher::with_keys(&[("2026b", &NEW_PII_KEY)]),
    );
    let hashes = stored(&app, "persons", "id_number_hash");
    assert!(hashes.contains(&new.lookup_hash(Field::IdNumber, &resident.id_number)));
    assert!(!hashes.contains(&old.lookup_hash(Field::IdNumber, &resident.id_number)));
    let audit_keys = stored(&app, "audit_log", "key_id");
    assert!(!audit_keys.is_empty());
    assert!(audit_keys.iter().all(|id| id == "2026b"), "{audit_keys:?}");
    // An entry moved to the new key is still guarded: changing it breaks the chain.
    {
        use diesel::RunQueryDsl;
        let mut conn = app.database().get().unwrap();
        diesel::sql_query("UPDATE audit_log SET count = count + 1 WHERE seq = 1")
            .execute(&mut *conn)
            .unwrap();
    }
    let verify = with_pii_keys(&app, &[("2026b", NEW_PII_KEY)])
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(3), "{verify:?}");
    // And a reseal refuses to vouch for it under yet another key: it verifies the chain first.
    let third = [("2027a", [45; 32]), ("2026b", NEW_PII_KEY)];
    let refused = with_pii_keys(&app, &third)
        .args(["keys", "reseal"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(3), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("audit entry seq 1"),
        "{refused:?}"
    );
    let unchanged = stored(&app, "persons", "id_number_sealed");
    assert!(
        unchanged.iter().all(|value| value.starts_with(prefix)),
        "nothing was resealed: {unchanged:?}"
    );
}
