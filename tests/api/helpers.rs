use std::collections::HashMap;

use diesel::{Connection, RunQueryDsl};
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use venuecode::config::Settings;
use venuecode::startup::Application;

/// Fixed secrets so tests never touch a developer's data folder.
pub const TEST_JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef0123456789abcdef";
pub const TEST_PII_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
pub const TEST_VENUE_CODE_KEY: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
pub const TEST_PASS_SIGNING_KEY: &str = "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=";

static TRACING: std::sync::Once = std::sync::Once::new();

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub settings: Settings,
    /// The running server's state: its clock can be moved, staff accounts created.
    pub state: std::sync::Arc<venuecode::state::AppState>,
    pub database: TestDatabase,
    /// Holds the data folder (and the SQLite file) until the test ends.
    _data_dir: tempfile::TempDir,
}

/// The database of one test; a PostgreSQL database is dropped when the test ends.
pub enum TestDatabase {
    Sqlite,
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A fresh, empty database and the `DATABASE_URL` that reaches it.
    pub fn create(data_dir: &std::path::Path) -> (Self, String) {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => {
                let name = format!("venuecode_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = diesel::PgConnection::establish(&admin_url)
                    .expect("TEST_DATABASE_URL must reach a PostgreSQL server");
                diesel::sql_query(format!(r#"CREATE DATABASE "{name}""#))
                    .execute(&mut conn)
                    .expect("create the test database");
                let url = database_url_with_name(&admin_url, &name);
                (TestDatabase::Postgres { admin_url, name }, url)
            }
            None => {
                let path = data_dir.join("venuecode.db");
                (TestDatabase::Sqlite, path.to_string_lossy().into_owned())
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDatabase::Postgres { .. })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { admin_url, name } = self {
            if let Ok(mut conn) = diesel::PgConnection::establish(admin_url) {
                let _ =
                    diesel::sql_query(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
                        .execute(&mut conn);
            }
        }
    }
}

/// Replaces the database name in a PostgreSQL URL, keeping any query string.
fn database_url_with_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let prefix = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{prefix}/{name}?{query}"),
        None => format!("{prefix}/{name}"),
    }
}

/// Settings for a test: development mode, port 0, the given database, fixed secrets.
pub fn test_settings<V: AsRef<str>>(
    data_dir: &std::path::Path,
    database_url: &str,
    overrides: &[(&str, V)],
) -> Settings {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("APP_ENV".into(), "development".into()),
        ("APP_PORT".into(), "0".into()),
        ("DATA_DIR".into(), data_dir.to_string_lossy().into_owned()),
        ("DATABASE_URL".into(), database_url.to_owned()),
        ("DATABASE_POOL_SIZE".into(), "4".into()),
        ("JWT_SECRET".into(), TEST_JWT_SECRET.into()),
        ("PII_KEY".into(), TEST_PII_KEY.into()),
        ("VENUE_CODE_KEY".into(), TEST_VENUE_CODE_KEY.into()),
        ("PASS_SIGNING_KEY".into(), TEST_PASS_SIGNING_KEY.into()),
    ]);
    for (key, value) in overrides {
        vars.insert((*key).to_owned(), value.as_ref().to_owned());
    }
    Settings::load(|key| vars.get(key).cloned()).expect("test settings are valid")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with::<&str>(&[]).await
}

pub async fn spawn_app_with<V: AsRef<str>>(overrides: &[(&str, V)]) -> TestApp {
    TRACING.call_once(|| {
        if std::env::var("TEST_LOG").is_ok() {
            venuecode::telemetry::init(venuecode::config::LogFormat::Pretty);
        }
    });
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (database, url) = TestDatabase::create(data_dir.path());
    let settings = test_settings(data_dir.path(), &url, overrides);
    let app = Application::build(settings.clone())
        .await
        .expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        state,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        settings,
        database,
        _data_dir: data_dir,
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.call(Method::POST, path, None, Some(body)).await
    }

    /// Any request, with a bearer token and a JSON body when given.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request sent")
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Response {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn put_as(&self, token: &str, path: &str, body: &Value) -> Response {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> Response {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch_as(&self, token: &str, path: &str, body: &Value) -> Response {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete_as(&self, token: &str, path: &str) -> Response {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Logs in through the development provider and returns the session token.
    pub async fn dev_login(&self, platform: &str, subject: &str) -> String {
        let response = self
            .post_json(
                "/api/v1/sessions/dev",
                &serde_json::json!({"platform": platform, "subject": subject}),
            )
            .await;
        assert_eq!(response.status(), 200, "development login");
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// A development resident who has consented to all three elements.
    pub async fn consented_resident(
        &self,
        subject: &str,
        name: &str,
        id_number: &str,
        phone: &str,
    ) -> String {
        let token = self.dev_login("wechat", subject).await;
        let response = self
            .put_as(
                &token,
                "/api/v1/me/consent",
                &serde_json::json!({
                    "profile": {"nickname": subject},
                    "phone": {"wechat_code": phone},
                    "identity": {"name": name, "id_number": id_number}
                }),
            )
            .await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        token
    }

    /// A blocking connection to the test's database, for checks the API does not expose.
    pub fn database(&self) -> venuecode::db::Database {
        venuecode::db::Database::connect(&self.settings.database.url, 1).expect("database")
    }

    pub fn cipher(&self) -> venuecode::crypto::PiiCipher {
        venuecode::crypto::PiiCipher::new(self.settings.keys.pii_key.expose())
    }

    /// Creates a staff account the way an operator does, and logs it in.
    pub async fn staff_login(&self, username: &str, role: &str, region: &str) -> String {
        let password = "correct horse battery staple";
        let role = venuecode::domain::StaffRole::parse(role).unwrap();
        venuecode::services::staff::create_account(&self.state, username, role, region, password)
            .await
            .expect("staff account created");
        let response = self
            .post_json(
                "/api/v1/staff-sessions",
                &serde_json::json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(response.status(), 200, "staff login");
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }
}

/// Asserts the status and the error envelope's code; returns the envelope.
pub async fn assert_error(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status, "status of {}", response.url());
    assert!(
        response.headers().contains_key("x-request-id"),
        "every response carries a request id"
    );
    let body: Value = response.json().await.expect("the error body is JSON");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(body["error"]["details"].is_object(), "{body}");
    body
}

#[test]
fn database_names_are_replaced_in_urls() {
    assert_eq!(
        database_url_with_name("postgres://u:p@h:5432/postgres", "x"),
        "postgres://u:p@h:5432/x"
    );
    assert_eq!(
        database_url_with_name("postgres://u@h/db?sslmode=disable", "x"),
        "postgres://u@h/x?sslmode=disable"
    );
    assert_eq!(
        database_url_with_name("postgres://h", "x"),
        "postgres://h/x"
    );
}

/// An ID number with the right check character for the first 17 digits given.
pub fn id_number(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    format!("{first17}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

/// Decodes a PNG QR code to its text.
pub fn decode_qr(png: &[u8]) -> String {
    let image = image::load_from_memory(png).expect("a PNG").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        image.width() as usize,
        image.height() as usize,
        |x, y| image.get_pixel(x as u32, y as u32).0[0],
    );
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "exactly one QR code in the image");
    grids[0].decode().expect("the code decodes").1
}
