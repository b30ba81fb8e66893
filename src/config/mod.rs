//! Settings from the environment (read through dotenvy in `main`), in sections. Development gets a
//! safe local default for every secret so that `cargo run` just works; production refuses to start
//! while a secret is missing or still a development value, and names each one. `env.rs` reads
//! them; `dev_secrets.rs` keeps the generated development secrets.

pub mod dev_secrets;
mod env;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono_tz::Tz;

use crate::domain::{Secret, Taxonomy};
use crate::platforms::{AlipaySettings, WechatSettings};

pub use crate::domain::scan::ScanPolicy;

pub use dev_secrets::FILE_NAME as DEV_SECRETS_FILE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Where the data lives: an SQLite file (the embedded default) or a PostgreSQL server.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(value.to_owned()));
        }
        let path = value
            .strip_prefix("sqlite://")
            .or_else(|| value.strip_prefix("sqlite:"))
            .unwrap_or(value);
        if path.is_empty() {
            return Err("an empty path".into());
        }
        if path.contains("://") {
            return Err("only sqlite paths and postgres:// URLs are supported".into());
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgres",
        }
    }
}

/// Shows the URL without its password.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            DatabaseUrl::Postgres(url) => {
                let shown = match (url.find("://"), url.rfind('@')) {
                    (Some(scheme_end), Some(at)) if at > scheme_end => {
                        let credentials = &url[scheme_end + 3..at];
                        let user = credentials.split(':').next().unwrap_or("");
                        format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
                    }
                    _ => url.clone(),
                };
                f.write_str(&shown)
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub env: AppEnv,
    pub server: ServerSettings,
    /// Minutes between writes of the audit chain's head to the log (its anchor outside the
    /// database); 0 turns them off.
    pub audit_anchor_minutes: u32,
    /// Milliseconds between reads of `cache_changes`: how soon a change on another node reaches
    /// this one's caches.
    pub cache_sync_ms: u32,
    pub database: DatabaseSettings,
    pub keys: Keys,
    pub sessions: SessionSettings,
    pub scan: ScanPolicy,
    pub retention: RetentionSettings,
    /// A colour change for more contacts than this waits for a second official.
    pub trace_confirm_threshold: u32,
    /// The zone in which times are shown and days begin.
    pub timezone: Tz,
    pub taxonomy: Arc<Taxonomy>,
    /// WeChat mini-program credentials; `None` when `WECHAT_APPID` is unset.
    pub wechat: Option<WechatSettings>,
    /// Alipay mini-program credentials; `None` when `ALIPAY_APPID` is unset.
    pub alipay: Option<AlipaySettings>,
    pub delivery: DeliverySettings,
    /// The provinces (two-digit codes) whose villages are loaded after start-up; `None`: all
    /// (`VILLAGE_PROVINCES`).
    pub village_provinces: Option<Vec<String>>,
    /// Development secrets generated at this load, for the start-up message.
    pub generated_secrets: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Base of the URLs printed in venue codes, e.g. `https://code.example.gov.cn`.
    pub public_base_url: String,
    /// The `host[:port]`s whose venue-code URLs a scan accepts: `PUBLIC_BASE_URL`'s and those of
    /// `VENUE_CODE_HOSTS` (earlier addresses whose posters still hang).
    pub venue_code_hosts: Vec<String>,
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    /// Bearer token a scraper presents at `/metrics`; without one, `/metrics` answers only
    /// loopback clients in development and no one in production.
    pub metrics_token: Option<Secret<String>>,
    pub admission: AdmissionSettings,
    /// Threads that serve HTTP (`HTTP_WORKERS`); by default one per core.
    pub http_workers: usize,
    /// A request that takes longer is logged (once, at warn).
    pub slow_request: std::time::Duration,
}

/// How many requests the node serves at once, and how long others may wait for a place.
#[derive(Debug, Clone)]
pub struct AdmissionSettings {
    pub max_in_flight: usize,
    pub max_queued: usize,
    pub queue_timeout: std::time::Duration,
    /// Connections the node holds open at once (`MAX_CONNECTIONS`); more wait unread in the
    /// kernel's accept queue. None: no limit of its own.
    pub max_connections: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: DatabaseUrl,
    pub pool_size: u32,
    /// How long a request waits for a pooled connection before it is answered 503.
    pub checkout_timeout: std::time::Duration,
    /// A hot standby (`DATABASE_READ_URL`) for reads that may be a little behind: visitor lists,
    /// dashboards, the itinerary, exports, audit reading; never the scan nor a write.
    pub read_url: Option<DatabaseUrl>,
    /// The standby is read only while its replay lag is under this (`READ_MAX_LAG_MS`).
    pub read_max_lag_ms: u64,
}

/// Every secret key of the deployment.
#[derive(Debug, Clone)]
pub struct Keys {
    /// HMAC keys of session tokens (`JWT_SECRETS`, or `JWT_SECRET` alone).
    pub jwt_secrets: KeyRing<String>,
    /// AES-256 keys for personal data at rest (`PII_KEYS`, or `PII_KEY` alone): values are sealed
    /// under the first, and opened under any still listed.
    pub pii_keys: KeyRing<[u8; 32]>,
    /// HMAC keys that sign the tokens in venue QR codes and paper codes (`VENUE_CODE_KEYS`, or
    /// `VENUE_CODE_KEY` alone): codes signed under any of them scan until it is removed.
    pub venue_code_keys: KeyRing<[u8; 32]>,
    /// Ed25519 seeds that sign pass tokens (`PASS_SIGNING_KEYS`, or `PASS_SIGNING_KEY` alone);
    /// every public key is published as a JWKS.
    pub pass_signing_keys: KeyRing<[u8; 32]>,
}

/// The id a key given alone (`JWT_SECRET`, …) goes by.
pub const SINGLE_KEY_ID: &str = "default";

/// Keys with ids, the first the current one: new signatures are made with it, and those of any
/// key still listed are accepted, so a key is rotated by putting a new one first and removed once
/// nothing made under it is needed.
#[derive(Debug, Clone)]
pub struct KeyRing<T> {
    keys: Vec<(String, Secret<T>)>,
}

impl<T> KeyRing<T> {
    /// At least one key, ids distinct (checked when the settings are read).
    pub fn new(keys: Vec<(String, T)>) -> Self {
        assert!(!keys.is_empty(), "a key ring holds at least one key");
        Self {
            keys: keys
                .into_iter()
                .map(|(id, key)| (id, Secret::new(key)))
                .collect(),
        }
    }

    /// One key, under [`SINGLE_KEY_ID`].
    pub fn single(key: T) -> Self {
        Self::new(vec![(SINGLE_KEY_ID.to_owned(), key)])
    }

    /// The key new signatures are made with, and its id.
    pub fn current(&self) -> (&str, &T) {
        let (id, key) = &self.keys[0];
        (id, key.expose())
    }

    /// Every key, the current first.
    pub fn all(&self) -> impl Iterator<Item = (&str, &T)> {
        self.keys
            .iter()
            .map(|(id, key)| (id.as_str(), key.expose()))
    }
}

#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// Lifetime of a resident's session token.
    pub resident_hours: u32,
    /// Lifetime of a staff session token.
    pub staff_hours: u32,
}

#[derive(Debug, Clone)]
pub struct RetentionSettings {
    /// Days after which check-ins and everything derived from them are deleted.
    pub days: u32,
    /// Days the audit log is kept.
    pub audit_days: u32,
    /// Minutes between runs of the background purge; 0 turns it off.
    pub purge_interval_minutes: u32,
}

/// How notifications leave as platform messages.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// The mini-program page a message opens (`MESSAGE_PAGE`).
    pub page: String,
    /// Seconds between the sender's rounds (`DELIVERY_POLL_SECONDS`); 0: this node sends none.
    pub poll_seconds: u32,
    /// Messages sent at once (`DELIVERY_CONCURRENCY`).
    pub concurrency: usize,
}

/// Every problem found in the configuration, reported together.
#[derive(Debug)]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the configuration cannot be used:")?;
        for problem in &self.problems {
            writeln!(f, "  - {problem}")?;
        }
        write!(f, "see .env.example and the README for every setting")
    }
}

impl std::error::Error for ConfigError {}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`; empty values count as unset.
    pub fn load(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        env::load(lookup)
    }

    pub fn is_development(&self) -> bool {
        self.env == AppEnv::Development
    }
}

/// `PII_KEY` and `VENUE_CODE_KEY` are 32 random bytes in standard base64 (`openssl rand -base64 32`).
fn decode_key(value: &str) -> Result<[u8; 32], String> {
    let bytes = BASE64
        .decode(value)
        .map_err(|_| "must be standard base64 (openssl rand -base64 32)".to_string())?;
    bytes
        .try_into()
        .map_err(|_| "must decode to exactly 32 bytes (openssl rand -base64 32)".to_string())
}

/// `PASS_SIGNING_KEY`: an Ed25519 private key as PKCS#8 PEM
/// (`openssl genpkey -algorithm ed25519`), or its 32-byte seed in base64.
fn decode_signing_key(value: &str) -> Result<[u8; 32], String> {
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    if value.contains("-----BEGIN") {
        return ed25519_dalek::SigningKey::from_pkcs8_pem(value)
            .map(|key| key.to_bytes())
            .map_err(|_| "is not an Ed25519 PKCS#8 PEM private key".to_string());
    }
    decode_key(value)
}
