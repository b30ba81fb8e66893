//! Personal data never sits in the database in clear: after real login and consent flows, the
//! SQLite file (with its write-ahead log) or a PostgreSQL dump holds no name, ID number or phone.

use serde_json::json;

use crate::fake_alipay;
use crate::fake_wechat;
use crate::helpers::app_with_platforms;
use crate::helpers::TestDatabase;

const PEOPLE: [(&str, &str); 2] = [
    ("李秀英", "11010519491231002X"),
    ("欧阳娜娜", "440524188001010014"),
];
const PHONES: [&str; 2] = [fake_wechat::PHONE_NUMBER, "15912345678"];
/// Registered by hand at a venue door.
const HAND: (&str, &str, &str) = ("司马登记", "431025195505050021", "13611112222");

#[tokio::test]
async fn no_name_id_number_or_phone_is_stored_in_clear() {
    let platforms = app_with_platforms().await;
    let app = &platforms.app;

    let wechat: serde_json::Value = app
        .post_json(
            "/api/v1/sessions/wechat",
            &json!({"code": fake_wechat::GOOD_CODE}),
        )
        .await
        .json()
        .await
        .unwrap();
    let response = app
        .put_as(
            wechat["token"].as_str().unwrap(),
            "/api/v1/me/consent",
            &json!({
                "profile": {"nickname": "阿姨"},
                "phone": {"wechat_code": fake_wechat::PHONE_CODE},
                "identity": {"name": PEOPLE[0].0, "id_number": PEOPLE[0].1}
            }),
        )
        .await;
    assert_eq!(response.status(), 200);

    let alipay: serde_json::Value = app
        .post_json(
            "/api/v1/sessions/alipay",
            &json!({"auth_code": fake_alipay::GOOD_CODE}),
        )
        .await
        .json()
        .await
        .unwrap();
    let response = app
        .put_as(
            alipay["token"].as_str().unwrap(),
            "/api/v1/me/consent",
            &json!({
                "phone": {"alipay_response": fake_alipay::phone_success(PHONES[1])},
                "identity": {"name": PEOPLE[1].0, "id_number": PEOPLE[1].1}
            }),
        )
        .await;
    assert_eq!(response.status(), 200);

    // A manual check-in with a phone, a colour with a note, a red alert closed with a note.
    let venue = app.approved_venue().await;
    let response = app
        .post_as(&venue.manager, &format!("/api/v1/venues/{}/manual-check-ins", venue.id), &json!({
            "entrance_id": venue.entrance_id, "name": HAND.0, "id_number": HAND.1, "phone": HAND.2
        }))
        .await;
    assert_eq!(response.status(), 201);
    // An official of Beijing's Chaoyang district, where the person's ID number was issued.
    let official = app.official("110105").await;
    let response = app
        .put_as(
            &official,
            &format!("/api/v1/health-codes/{}", PEOPLE[0].1),
            &json!({
                "color": "red", "reason_code": "close_contact", "note": format!("{}的密接", HAND.0)
            }),
        )
        .await;
    assert_eq!(response.status(), 200);

    let stored = stored_bytes(&app.database, &app.settings.database.url).await;
    assert!(stored.len() > 10_000, "the dump has content");
    let contains = |needle: &str| stored.windows(needle.len()).any(|w| w == needle.as_bytes());
    for (name, id_number) in PEOPLE {
        assert!(!contains(name), "name {name} stored in clear");
        assert!(
            !contains(id_number),
            "ID number {id_number} stored in clear"
        );
        assert!(
            !contains(&id_number[..17]),
            "ID number body {id_number} stored in clear"
        );
    }
    for phone in PHONES {
        assert!(!contains(phone), "phone {phone} stored in clear");
    }
    for value in [HAND.0, HAND.1, HAND.2, "13907351234", "王建国"] {
        assert!(!contains(value), "{value} stored in clear");
    }
    // The accounts themselves are there (the check looks at real data).
    assert!(contains(fake_wechat::GOOD_OPENID));
}

/// Everything the database holds, as bytes.
async fn stored_bytes(database: &TestDatabase, url: &venuecode::config::DatabaseUrl) -> Vec<u8> {
    match url {
        venuecode::config::DatabaseUrl::Sqlite(path) => {
            let mut bytes = std::fs::read(path).unwrap();
            for suffix in ["-wal", "-shm"] {
                let mut side = path.clone().into_os_string();
                side.push(suffix);
                if let Ok(more) = std::fs::read(side) {
                    bytes.extend(more);
                }
            }
            bytes
        }
        venuecode::config::DatabaseUrl::Postgres(url) => {
            assert!(database.is_postgres());
            let output = std::process::Command::new(pg_dump())
                .arg("--no-owner")
                .arg(url)
                .output()
                .expect("pg_dump runs");
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            output.stdout
        }
    }
}

fn pg_dump() -> std::path::PathBuf {
    let mut candidates: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin/pg_dump"))
        .filter(|p| p.exists())
        .collect();
    candidates.sort();
    candidates.pop().unwrap_or_else(|| "pg_dump".into())
}
