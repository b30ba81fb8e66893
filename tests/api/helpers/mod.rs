//! Fixtures of the API suite: the running server on a fresh database, one helper per request,
//! builders for who and what a test needs (`world`: `app.new_resident()`, `app.new_venue()`,
//! `app.new_staff(role)`, `app.new_scan(token, code)`; `app.resident(name)` and the like are their
//! common cases), and the steps several feature files share (platform logins, the console's form
//! login, the trace scenario). Feature files import from here, never from each other.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use diesel::{Connection, RunQueryDsl};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use venuecode::config::{DatabaseUrl, Settings};
use venuecode::startup::Application;
use venuecode::state::AppState;

mod console;
mod contract;
mod platforms;
mod scenario;
mod world;

pub use console::{console_get, console_login, console_session, login_page};
pub use platforms::{alipay_login, app_with_platforms, login, wechat_login};
pub use scenario::{scenario, trace, Scenario};

/// Fixed secrets so tests never touch a developer's data folder.
pub const TEST_JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef0123456789abcdef";
pub const TEST_PII_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
pub const TEST_VENUE_CODE_KEY: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
pub const TEST_PASS_SIGNING_KEY: &str = "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=";
pub const STAFF_PASSWORD: &str = "correct horse battery staple";
/// The township of the venues the builders make (Linwu county, Hunan).
pub const LINWU_TOWNSHIP: &str = "431025100";
pub const LINWU: &str = "431025";

static TRACING: std::sync::Once = std::sync::Once::new();

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub settings: Settings,
    /// The running server's state: its clock can be moved, staff accounts created.
    pub state: Arc<AppState>,
    pub database: TestDatabase,
    /// Numbers the people and accounts the builders make, so each is new (from 1000, above the
    /// fixed numbers tests give their own people).
    next: AtomicU32,
    /// Holds the data folder (and the SQLite file) until the test ends.
    _data_dir: tempfile::TempDir,
}

/// A consented resident made by a builder.
#[derive(Debug, Clone)]
pub struct Resident {
    pub token: String,
    pub id_number: String,
}

/// An approved venue made by a builder: its manager, ids and the first entrance's code.
#[derive(Debug, Clone)]
pub struct Venue {
    pub manager: String,
    pub id: i64,
    pub entrance_id: i64,
    pub code_url: String,
    pub json: Value,
}

// ---- identity numbers ------------------------------------------------------------------------

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

/// The `n`-th distinct Linwu ID number of someone born in `year`.
fn born_in(year: u32, n: u32) -> String {
    id_number(&format!(
        "431025{year}{:02}{:02}{:03}",
        1 + n / 28 % 12,
        1 + n % 28,
        n / 336 % 1000
    ))
}

/// A distinct adult (born 1985).
pub fn adult(n: u32) -> String {
    born_in(1985, n)
}

/// A distinct child (born 2018).
pub fn child(n: u32) -> String {
    born_in(2018, n)
}

/// A distinct elderly person (born 1948).
pub fn elder(n: u32) -> String {
    born_in(1948, n)
}

// ---- the database of one test ----------------------------------------------------------------

/// The database of one test; a PostgreSQL database is dropped when the test ends.
pub enum TestDatabase {
    Sqlite,
    Postgres { admin_url: String, name: String },
}

/// What the template databases are built from: the migrations and the shipped divisions. A
/// change to either makes a new template.
fn template_key() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut hasher = Sha256::new();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for backend in ["sqlite", "postgres"] {
            for entry in std::fs::read_dir(root.join("migrations").join(backend)).unwrap() {
                for file in std::fs::read_dir(entry.unwrap().path()).unwrap() {
                    files.push(file.unwrap().path());
                }
            }
        }
        files.sort();
        for file in files {
            hasher.update(file.to_string_lossy().as_bytes());
            hasher.update(std::fs::read(&file).unwrap());
        }
        hasher.update(venuecode::reference::divisions::checksum());
        hex(&hasher.finalize()[..8])
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Migrates and loads reference data over one connection, closed when done (a template must
/// have no connection when it is copied).
fn prepare_template(mut conn: venuecode::db::DbConnection) {
    venuecode::db::run_migrations(&mut conn).unwrap();
    venuecode::db::regions::ensure_loaded(&mut conn, chrono::Utc::now().naive_utc()).unwrap();
}

/// An SQLite file with every migration applied and the divisions loaded, shared by the tests
/// of this machine and copied for each (loading the divisions is most of a new database's cost).
fn sqlite_template() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("venuecode-test-{}.db", template_key()));
        if !path.exists() {
            let partial = path.with_extension(format!("{}.partial", std::process::id()));
            prepare_template(venuecode::db::DbConnection::Sqlite(
                diesel::SqliteConnection::establish(&partial.to_string_lossy()).unwrap(),
            ));
            std::fs::rename(&partial, &path).unwrap();
        }
        path
    })
    .clone()
}

/// The same for PostgreSQL: a template database new test databases are created from.
fn postgres_template(admin_url: &str) -> String {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let name = format!("venuecode_template_{}", template_key());
        let mut conn = diesel::PgConnection::establish(admin_url).unwrap();
        // One process builds it; the others wait on the lock and find it built.
        diesel::sql_query("SELECT pg_advisory_lock(7065626)")
            .execute(&mut conn)
            .unwrap();
        let exists = diesel::sql_query(format!(
            "SELECT 1 AS one FROM pg_database WHERE datname = '{name}'"
        ))
        .execute(&mut conn)
        .unwrap()
            > 0;
        if !exists {
            let building = format!("{name}_building");
            diesel::sql_query(format!(r#"DROP DATABASE IF EXISTS "{building}""#))
                .execute(&mut conn)
                .unwrap();
            diesel::sql_query(format!(r#"CREATE DATABASE "{building}""#))
                .execute(&mut conn)
                .unwrap();
            prepare_template(venuecode::db::DbConnection::Postgresql(
                diesel::PgConnection::establish(&database_url_with_name(admin_url, &building))
                    .unwrap(),
            ));
            diesel::sql_query(format!(r#"ALTER DATABASE "{building}" RENAME TO "{name}""#))
                .execute(&mut conn)
                .unwrap();
        }
        diesel::sql_query("SELECT pg_advisory_unlock(7065626)")
            .execute(&mut conn)
            .unwrap();
        name
    })
    .clone()
}

impl TestDatabase {
    /// A fresh database (copied from the template) and the `DATABASE_URL` that reaches it.
    pub fn create(data_dir: &Path) -> (Self, String) {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => {
                let template = postgres_template(&admin_url);
                let name = format!("venuecode_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = diesel::PgConnection::establish(&admin_url)
                    .expect("TEST_DATABASE_URL must reach a PostgreSQL server");
                diesel::sql_query(format!(r#"CREATE DATABASE "{name}" TEMPLATE "{template}""#))
                    .execute(&mut conn)
                    .expect("create the test database");
                let url = database_url_with_name(&admin_url, &name);
                (TestDatabase::Postgres { admin_url, name }, url)
            }
            None => {
                let path = data_dir.join("venuecode.db");
                std::fs::copy(sqlite_template(), &path).expect("copy the template database");
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
pub fn database_url_with_name(url: &str, name: &str) -> String {
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

// ---- the server ------------------------------------------------------------------------------

/// Settings for a test: development mode, port 0, the given database, fixed secrets.
pub fn test_settings<V: AsRef<str>>(
    data_dir: &Path,
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
        // Villages are loaded by the tests that need them (tests/api/regions.rs).
        ("VILLAGE_PROVINCES".into(), "none".into()),
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
        next: AtomicU32::new(1000),
        _data_dir: data_dir,
    }
}

/// A second server on the same database, as another node behind the load balancer would be.
pub struct Node {
    pub address: String,
    pub state: Arc<AppState>,
    client: reqwest::Client,
}

impl TestApp {
    /// Starts another node on this test's database, with the same settings.
    pub async fn second_node(&self) -> Node {
        self.node_with(self.settings.clone()).await
    }

    /// Starts another node with `settings` (another route to the database, say).
    pub async fn node_with(&self, settings: Settings) -> Node {
        let app = Application::build(settings)
            .await
            .expect("the second node builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state();
        tokio::spawn(app.run_until_stopped());
        Node {
            address,
            state,
            client: self.client.clone(),
        }
    }
}

impl Node {
    /// `GET path` as `token` on this node.
    pub async fn get_as(&self, token: &str, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    /// `POST /api/v1/check-ins` on this node.
    pub async fn scan(&self, token: &str, code: &str) -> Response {
        self.client
            .post(format!("{}/api/v1/check-ins", self.address))
            .bearer_auth(token)
            .json(&json!({ "code": code }))
            .send()
            .await
            .expect("request sent")
    }

    /// Reads the change feed now, as the node does every `CACHE_SYNC_MS`.
    pub async fn sync(&self) {
        venuecode::services::cache_sync::sync(&self.state)
            .await
            .expect("the change feed is read");
    }
}

/// The body of a response that must have `status`.
pub async fn body_of(response: Response, status: u16) -> Value {
    let url = response.url().clone();
    let actual = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(actual, status, "{url}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::String(text))
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

/// The code of the field error named `field` in a 422.
pub fn field_code<'a>(body: &'a Value, field: &str) -> &'a Value {
    &body["error"]["details"][field]["code"]
}

impl TestApp {
    /// A number never handed out before in this test.
    pub fn next(&self) -> u32 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    // ---- requests ----------------------------------------------------------------------------

    pub async fn get(&self, path: &str) -> Response {
        self.call(Method::GET, path, None, None).await
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
        let method_of_call = method.clone();
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request sent");
        contract::checked(&method_of_call, path, response).await
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

    /// A GET that must answer 200; its JSON body.
    pub async fn read(&self, token: &str, path: &str) -> Value {
        body_of(self.get_as(token, path).await, 200).await
    }

    // ---- people ------------------------------------------------------------------------------

    /// Logs in through the development provider and returns the session token.
    pub async fn dev_login(&self, platform: &str, subject: &str) -> String {
        let session = body_of(
            self.post_json(
                "/api/v1/sessions/dev",
                &json!({"platform": platform, "subject": subject}),
            )
            .await,
            200,
        )
        .await;
        session["token"].as_str().unwrap().to_owned()
    }

    /// A new mini-program account that has not consented to anything.
    pub async fn account(&self) -> String {
        self.new_resident().without_consent().build().await.token
    }

    /// A new consented adult resident called `name`.
    pub async fn resident(&self, name: &str) -> Resident {
        self.new_resident().named(name).build().await
    }

    /// A face check of `token`'s account for `claim` (`{}`: its declared identity), answered by
    /// the development provider, which verifies every check; the account's `/me` afterwards.
    pub async fn verify_identity(&self, token: &str, claim: Value) -> Value {
        let started = body_of(
            self.post_as(token, "/api/v1/me/identity/verification", &claim)
                .await,
            200,
        )
        .await;
        let id = started["verification_id"].as_str().unwrap();
        body_of(
            self.post_as(
                token,
                &format!("/api/v1/me/identity/verification/{id}/result"),
                &json!({}),
            )
            .await,
            200,
        )
        .await
    }

    /// Creates a staff account the way an operator does, and logs it in.
    pub async fn staff_login(&self, username: &str, role: &str, region: &str) -> String {
        let role = venuecode::domain::StaffRole::parse(role).unwrap();
        venuecode::services::staff::create_account(
            &self.state,
            &venuecode::services::staff::Operator::CommandLine,
            username,
            role,
            region,
            STAFF_PASSWORD,
        )
        .await
        .expect("staff account created");
        self.staff_session(username).await
    }

    /// A new session of an existing staff account, through the API; its token.
    pub async fn staff_session(&self, username: &str) -> String {
        let session = body_of(
            self.post_json(
                "/api/v1/staff-sessions",
                &json!({"username": username, "password": STAFF_PASSWORD}),
            )
            .await,
            200,
        )
        .await;
        session["token"].as_str().unwrap().to_owned()
    }

    async fn staff_of(&self, role: &str, region: &str) -> String {
        self.new_staff(role).in_region(region).login().await
    }

    pub async fn official(&self, region: &str) -> String {
        self.staff_of("health_official", region).await
    }

    pub async fn reviewer(&self, region: &str) -> String {
        self.staff_of("reviewer", region).await
    }

    pub async fn auditor(&self, region: &str) -> String {
        self.staff_of("auditor", region).await
    }

    // ---- venues ------------------------------------------------------------------------------

    /// A manager's application for a supermarket in `region`, as sent.
    pub fn application(region: &str, name: &str) -> Value {
        json!({
            "manager": {"name": "王建国", "phone": "13907351234", "id_number": id_number("43102519800315001")},
            "name": name,
            "category": "daily_shopping",
            "subtype": "supermarket",
            "region_code": region,
            "address": "解放路88号",
            "location": {"lat": 25.2797, "lng": 112.5634},
            "entrances": [
                {"name": "东门", "description": "解放路一侧"},
                {"name": "西门"}
            ]
        })
    }

    /// A new manager's application, stored: the manager's token and the venue.
    pub async fn applied_venue(&self, region: &str, name: &str) -> (String, Value) {
        let manager = self.account().await;
        self.new_venue()
            .in_township(region)
            .named(name)
            .managed_by(&manager)
            .applied()
            .await
    }

    /// Sends an application that must be accepted.
    pub async fn apply(&self, manager: &str, application: Value) -> Value {
        body_of(
            self.post_as(manager, "/api/v1/venues", &application).await,
            201,
        )
        .await
    }

    /// Approves a venue as a new reviewer of Linwu county.
    pub async fn approve(&self, venue_id: i64) -> Value {
        self.approve_in(LINWU, venue_id).await
    }

    /// Approves a venue as a new reviewer of `county`.
    pub async fn approve_in(&self, county: &str, venue_id: i64) -> Value {
        let reviewer = self.reviewer(county).await;
        body_of(
            self.post_as(
                &reviewer,
                &format!("/api/v1/reviews/{venue_id}"),
                &json!({"decision": "approve"}),
            )
            .await,
            200,
        )
        .await
    }

    /// An approved supermarket in Linwu.
    pub async fn approved_venue(&self) -> Venue {
        self.approved_venue_of("daily_shopping", "supermarket", "临武县舜峰镇好又多超市")
            .await
    }

    /// An approved venue of the given kind in Linwu, its manager a consented resident (who may
    /// therefore also register people at the door).
    pub async fn approved_venue_of(&self, category: &str, subtype: &str, name: &str) -> Venue {
        self.approved_venue_in(LINWU_TOWNSHIP, category, subtype, name)
            .await
    }

    /// An approved hospital in Jinan (370102), a region far from Linwu's officials.
    pub async fn jinan_hospital(&self) -> Venue {
        self.approved_venue_in(
            "370102001",
            "medical_transport",
            "hospital",
            "济南市历下区某医院",
        )
        .await
    }

    /// An approved venue of the given kind in the township `township`.
    pub async fn approved_venue_in(
        &self,
        township: &str,
        category: &str,
        subtype: &str,
        name: &str,
    ) -> Venue {
        self.new_venue()
            .in_township(township)
            .of_kind(category, subtype)
            .named(name)
            .approved()
            .await
    }

    /// Adds an entrance to an approved venue; the new entrance with its code.
    pub async fn entrance(&self, venue: &Venue, name: &str) -> Value {
        body_of(
            self.post_as(
                &venue.manager,
                &format!("/api/v1/venues/{}/entrances", venue.id),
                &json!({ "name": name }),
            )
            .await,
            201,
        )
        .await
    }

    /// Rotates the code of the venue's first entrance; the entrance with its new code.
    pub async fn rotate_code(&self, venue: &Venue) -> Value {
        body_of(
            self.post_as(
                &venue.manager,
                &format!(
                    "/api/v1/venues/{}/entrances/{}/code/rotate",
                    venue.id, venue.entrance_id
                ),
                &json!({}),
            )
            .await,
            200,
        )
        .await
    }

    /// A new staff invitation of `venue`, made by its manager: its code.
    pub async fn staff_invitation(&self, venue: &Venue) -> String {
        let invitation = body_of(
            self.post_as(
                &venue.manager,
                &format!("/api/v1/venues/{}/staff-invitations", venue.id),
                &json!({}),
            )
            .await,
            201,
        )
        .await;
        invitation["code"].as_str().unwrap().to_owned()
    }

    /// A consented resident who is venue staff of `venue`.
    pub async fn venue_staff(&self, venue: &Venue) -> Resident {
        let code = self.staff_invitation(venue).await;
        let helper = self.resident("赵敏").await;
        body_of(
            self.post_as(
                &helper.token,
                "/api/v1/venue-staff-invitations/redeem",
                &json!({ "code": code }),
            )
            .await,
            200,
        )
        .await;
        helper
    }

    // ---- the scan and around it --------------------------------------------------------------

    /// `POST /api/v1/check-ins` with `body`.
    pub async fn scan(&self, token: &str, body: Value) -> Response {
        self.post_as(token, "/api/v1/check-ins", &body).await
    }

    /// A scan of `code` that must be accepted; the door page.
    pub async fn check_in(&self, token: &str, code: &str) -> Value {
        self.new_scan(token, code).admitted().await
    }

    /// A scan at a time of the client's, with companions; the door page.
    pub async fn check_in_at(
        &self,
        token: &str,
        code: &str,
        at: Option<chrono::DateTime<chrono::Utc>>,
        companions: &[i64],
    ) -> Value {
        let mut body = json!({"code": code, "companion_ids": companions});
        if let Some(at) = at {
            body["scanned_at"] = json!(at.to_rfc3339());
        }
        body_of(self.scan(token, body).await, 201).await
    }

    /// Adds a companion that must be accepted.
    pub async fn add_companion(
        &self,
        token: &str,
        name: &str,
        id_number: &str,
        relation: &str,
    ) -> Value {
        body_of(
            self.post_as(
                token,
                "/api/v1/me/companions",
                &json!({"name": name, "id_number": id_number, "relation": relation}),
            )
            .await,
            201,
        )
        .await
    }

    /// Prints a paper code as `token` at `path` (`/api/v1/me/paper-code.png` or a companion's);
    /// the code's text.
    pub async fn print_paper_code(&self, token: &str, path: &str) -> String {
        let png = self.get_as(token, path).await;
        assert_eq!(png.status(), 200, "{path}");
        decode_qr(&png.bytes().await.unwrap())
    }

    /// Adds an elderly companion to `token`'s account and prints her paper code; the companion
    /// and the code's text.
    pub async fn companion_with_paper_code(
        &self,
        token: &str,
        name: &str,
        n: u32,
    ) -> (Value, String) {
        let companion = self.add_companion(token, name, &elder(n), "奶奶").await;
        let path = format!("/api/v1/me/companions/{}/paper-code.png", companion["id"]);
        let code = self.print_paper_code(token, &path).await;
        (companion, code)
    }

    /// Sets a person's colour as `official`, naming them (so an unknown person is created).
    pub async fn set_color(&self, official: &str, id_number: &str, name: &str, color: &str) {
        body_of(
            self.put_as(
                official,
                &format!("/api/v1/health-codes/{id_number}"),
                &json!({"color": color, "reason_code": "close_contact", "name": name, "note": "流调排查"}),
            )
            .await,
            200,
        )
        .await;
    }

    // ---- below the API -----------------------------------------------------------------------

    /// A blocking connection to the test's database, for checks the API does not expose.
    pub fn database(&self) -> venuecode::db::Database {
        venuecode::db::Database::connect(&self.settings.database.url, 1).expect("database")
    }

    pub fn cipher(&self) -> venuecode::crypto::PiiCipher {
        venuecode::crypto::PiiCipher::from_ring(&self.settings.keys.pii_keys)
    }

    /// The audit entries about `subject` (`venue:3`), newest first.
    pub fn audit_of(&self, subject: &str) -> Vec<venuecode::db::audit::AuditRow> {
        let mut conn = self.database().get().unwrap();
        venuecode::db::audit::for_subject(&mut conn, &self.cipher(), subject).unwrap()
    }

    /// The binary, configured for this test's database and secrets.
    pub fn command(&self) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_venuecode"));
        let url = match &self.settings.database.url {
            DatabaseUrl::Sqlite(path) => path.to_string_lossy().into_owned(),
            DatabaseUrl::Postgres(url) => url.clone(),
        };
        command
            .env("DATABASE_URL", url)
            .env("DATA_DIR", self.settings.server.data_dir.clone())
            .env("JWT_SECRET", TEST_JWT_SECRET)
            .env("PII_KEY", TEST_PII_KEY)
            .env("VENUE_CODE_KEY", TEST_VENUE_CODE_KEY)
            .env("PASS_SIGNING_KEY", TEST_PASS_SIGNING_KEY)
            .env("APP_ENV", "development")
            .env_remove("RETENTION_DAYS");
        command
    }
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

/// `text` with one character near `from_end` changed (a forged token).
pub fn tampered(text: &str, from_end: usize) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let i = chars.len() - from_end;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}
