use std::collections::HashMap;

use diesel::{Connection, RunQueryDsl};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use venuecode::config::Settings;
use venuecode::startup::Application;

/// Fixed secrets so tests never touch a developer's data folder.
pub const TEST_JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef0123456789abcdef";
pub const TEST_PII_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

static TRACING: std::sync::Once = std::sync::Once::new();

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
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
pub fn test_settings(
    data_dir: &std::path::Path,
    database_url: &str,
    overrides: &[(&str, &str)],
) -> Settings {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("APP_ENV".into(), "development".into()),
        ("APP_PORT".into(), "0".into()),
        ("DATA_DIR".into(), data_dir.to_string_lossy().into_owned()),
        ("DATABASE_URL".into(), database_url.to_owned()),
        ("DATABASE_POOL_SIZE".into(), "4".into()),
        ("JWT_SECRET".into(), TEST_JWT_SECRET.into()),
        ("PII_KEY".into(), TEST_PII_KEY.into()),
    ]);
    for (key, value) in overrides {
        vars.insert((*key).to_owned(), (*value).to_owned());
    }
    Settings::load(|key| vars.get(key).cloned()).expect("test settings are valid")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    TRACING.call_once(|| {
        if std::env::var("TEST_LOG").is_ok() {
            venuecode::telemetry::init(venuecode::config::LogFormat::Pretty);
        }
    });
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (database, url) = TestDatabase::create(data_dir.path());
    let settings = test_settings(data_dir.path(), &url, overrides);
    let app = Application::build(settings)
        .await
        .expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
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
        self.client
            .post(format!("{}{path}", self.address))
            .json(body)
            .send()
            .await
            .expect("request sent")
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
