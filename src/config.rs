//! Settings from the environment (read through dotenvy in `main`). Development gets a safe local
//! default for every secret so that `cargo run` just works; production refuses to start while a
//! secret is missing or still a development value, and names each one.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono_tz::Tz;
use rand::RngCore;

use crate::domain::{CompanionRule, HealthColor, Taxonomy};
use crate::platforms::alipay::AlipayConfig;
use crate::platforms::wechat::WechatConfig;

/// A value that must never appear in logs or debug output.
#[derive(Clone)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

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
    pub host: String,
    pub port: u16,
    pub database_url: DatabaseUrl,
    pub database_pool_size: u32,
    /// Base of the URLs printed in venue codes, e.g. `https://code.example.gov.cn`.
    pub public_base_url: String,
    pub jwt_secret: Secret<String>,
    /// AES-256 key for personal data at rest.
    pub pii_key: Secret<[u8; 32]>,
    /// HMAC key that signs the tokens in venue QR codes. Changing it voids every printed poster.
    pub venue_code_key: Secret<[u8; 32]>,
    /// Ed25519 seed that signs pass tokens; its public key is published as a JWKS.
    pub pass_signing_key: Secret<[u8; 32]>,
    pub scan: ScanPolicy,
    pub timezone: Tz,
    pub retention_days: u32,
    /// Days the audit log is kept.
    pub audit_retention_days: u32,
    /// Minutes between runs of the background purge; 0 turns it off.
    pub purge_interval_minutes: u32,
    /// A colour change for more contacts than this waits for a second official.
    pub trace_confirm_threshold: u32,
    pub taxonomy: Arc<Taxonomy>,
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    /// WeChat mini-program credentials; `None` when `WECHAT_APPID` is unset.
    pub wechat: Option<WechatConfig>,
    /// Alipay mini-program credentials; `None` when `ALIPAY_APPID` is unset.
    pub alipay: Option<AlipayConfig>,
    /// Lifetime of a resident's session token.
    pub resident_session_hours: u32,
    /// Lifetime of a staff session token.
    pub staff_session_hours: u32,
}

/// The rules of a scan that a deployment may tune.
#[derive(Debug, Clone)]
pub struct ScanPolicy {
    /// A located scan farther than this from the venue's map point is refused (vehicles exempt).
    pub max_distance_m: u32,
    /// How far back an offline scan's own time may lie.
    pub offline_window_hours: u32,
    /// Check-ins one account may make in an hour.
    pub hourly_limit: u32,
    /// The colour of a person with none on record.
    pub unknown_color: HealthColor,
    pub companions: CompanionRule,
    /// Lifetime of the pass token shown at the door.
    pub pass_ttl_seconds: u32,
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

/// Built-in taxonomies, shipped in `reference-data/taxonomy/`.
const BUILTIN_TAXONOMIES: &[(&str, &str)] = &[
    (
        "hunan",
        include_str!("../reference-data/taxonomy/hunan.json"),
    ),
    (
        "shanxi",
        include_str!("../reference-data/taxonomy/shanxi.json"),
    ),
];

/// Fragments that mark a value copied from `.env.example` rather than generated.
const PLACEHOLDER_MARKERS: &[&str] = &["change-me", "changeme", "replace-me", "example"];
const DEV_SECRETS_FILE: &str = "dev-secrets.json";

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`; empty values count as unset.
    pub fn load(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut problems = Vec::new();

        let env = match get("APP_ENV").as_deref() {
            None | Some("development") => AppEnv::Development,
            Some("production") => AppEnv::Production,
            Some(other) => {
                problems.push(format!(
                    "APP_ENV must be `development` or `production`, not `{other}`"
                ));
                AppEnv::Development
            }
        };
        let production = env == AppEnv::Production;

        let data_dir = PathBuf::from(get("DATA_DIR").unwrap_or_else(|| "data".into()));
        let host = get("APP_HOST").unwrap_or_else(|| "127.0.0.1".into());
        let port = parse_or(&get, "APP_PORT", 8080u16, &mut problems);
        let database_url = match get("DATABASE_URL") {
            Some(url) => DatabaseUrl::parse(&url).unwrap_or_else(|reason| {
                problems.push(format!("DATABASE_URL is not usable: {reason}"));
                DatabaseUrl::Sqlite(data_dir.join("venuecode.db"))
            }),
            None => DatabaseUrl::Sqlite(data_dir.join("venuecode.db")),
        };
        let database_pool_size = parse_or(&get, "DATABASE_POOL_SIZE", 10u32, &mut problems);
        if database_pool_size == 0 {
            problems.push("DATABASE_POOL_SIZE must be at least 1".into());
        }
        let retention_days = parse_or(&get, "RETENTION_DAYS", 28u32, &mut problems);
        let audit_retention_days =
            parse_or(&get, "AUDIT_RETENTION_DAYS", 180u32, &mut problems).max(1);
        let purge_interval_minutes = parse_or(&get, "PURGE_INTERVAL_MINUTES", 60u32, &mut problems);
        let trace_confirm_threshold =
            parse_or(&get, "TRACE_CONFIRM_THRESHOLD", 50u32, &mut problems);
        if retention_days == 0 {
            problems.push("RETENTION_DAYS must be at least 1".into());
        }

        let public_base_url = match get("PUBLIC_BASE_URL") {
            Some(url) => {
                let url = url.trim_end_matches('/').to_owned();
                let scheme_ok =
                    url.starts_with("https://") || (!production && url.starts_with("http://"));
                if !scheme_ok {
                    problems.push(if production {
                        "PUBLIC_BASE_URL must be an https:// URL in production".into()
                    } else {
                        "PUBLIC_BASE_URL must start with http:// or https://".into()
                    });
                }
                url
            }
            None if production => {
                problems.push(
                    "PUBLIC_BASE_URL is missing (required when APP_ENV=production): the address printed in venue codes"
                        .into(),
                );
                String::new()
            }
            None => format!("http://{host}:{port}"),
        };

        let timezone = match get("TIMEZONE") {
            Some(name) => name.parse::<Tz>().unwrap_or_else(|_| {
                problems.push(format!("TIMEZONE `{name}` is not an IANA time zone name"));
                chrono_tz::Asia::Shanghai
            }),
            None => chrono_tz::Asia::Shanghai,
        };

        let taxonomy = match load_taxonomy(get("VENUE_TAXONOMY").as_deref().unwrap_or("hunan")) {
            Ok(t) => Arc::new(t),
            Err(reason) => {
                problems.push(format!("VENUE_TAXONOMY: {reason}"));
                Arc::new(load_taxonomy("hunan").expect("the built-in taxonomy is valid"))
            }
        };

        let log_format = match get("LOG_FORMAT").as_deref() {
            None if production => LogFormat::Json,
            None => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => {
                problems.push(format!(
                    "LOG_FORMAT must be `json` or `pretty`, not `{other}`"
                ));
                LogFormat::Pretty
            }
        };

        // Secrets: explicit values win; development falls back to values generated once and kept
        // in the data folder; production accepts only explicit, non-development values.
        let dev_secrets = if production {
            DevSecrets::read(&data_dir)
        } else {
            match DevSecrets::read_or_create(&data_dir) {
                Ok(secrets) => Some(secrets),
                Err(e) => {
                    problems.push(format!(
                        "cannot keep development secrets in {}: {e}",
                        data_dir.join(DEV_SECRETS_FILE).display()
                    ));
                    None
                }
            }
        };

        let jwt_secret = secret(
            &get,
            "JWT_SECRET",
            production,
            dev_secrets.as_ref().and_then(|d| d.get("jwt_secret")),
            |value| {
                if value.len() < 32 {
                    Err("must be at least 32 characters".into())
                } else {
                    Ok(value.to_owned())
                }
            },
            &mut problems,
        );
        let pii_key = secret(
            &get,
            "PII_KEY",
            production,
            dev_secrets.as_ref().and_then(|d| d.get("pii_key")),
            decode_key,
            &mut problems,
        );
        let pass_signing_key = secret(
            &get,
            "PASS_SIGNING_KEY",
            production,
            dev_secrets.as_ref().and_then(|d| d.get("pass_signing_key")),
            decode_signing_key,
            &mut problems,
        );
        let scan = ScanPolicy {
            max_distance_m: parse_or(&get, "MAX_SCAN_DISTANCE_M", 1000u32, &mut problems),
            offline_window_hours: parse_or(&get, "OFFLINE_WINDOW_HOURS", 24u32, &mut problems),
            hourly_limit: parse_or(&get, "CHECKIN_HOURLY_LIMIT", 30u32, &mut problems).max(1),
            unknown_color: match get("UNKNOWN_HEALTH_COLOR") {
                None => HealthColor::Green,
                Some(value) => HealthColor::parse(&value).unwrap_or_else(|_| {
                    problems.push(format!(
                        "UNKNOWN_HEALTH_COLOR must be green, yellow or red, not `{value}`"
                    ));
                    HealthColor::Green
                }),
            },
            companions: CompanionRule {
                child_under: parse_or(&get, "COMPANION_CHILD_UNDER", 18u32, &mut problems),
                elder_from: parse_or(&get, "COMPANION_ELDER_FROM", 60u32, &mut problems),
            },
            pass_ttl_seconds: parse_or(&get, "PASS_TTL_SECONDS", 180u32, &mut problems).max(10),
        };
        let venue_code_key = secret(
            &get,
            "VENUE_CODE_KEY",
            production,
            dev_secrets.as_ref().and_then(|d| d.get("venue_code_key")),
            decode_key,
            &mut problems,
        );

        let platform_timeout = std::time::Duration::from_millis(u64::from(parse_or(
            &get,
            "PLATFORM_TIMEOUT_MS",
            5000u32,
            &mut problems,
        )));
        let wechat = get("WECHAT_APPID").and_then(|appid| {
            let secret = require_with(&get, "WECHAT_SECRET", "WECHAT_APPID", &mut problems)?;
            Some(WechatConfig {
                appid,
                secret: Secret(secret),
                api_base: get("WECHAT_API_BASE")
                    .unwrap_or_else(|| "https://api.weixin.qq.com".into()),
                timeout: platform_timeout,
            })
        });
        let alipay = get("ALIPAY_APPID").and_then(|app_id| {
            let private_key =
                require_with(&get, "ALIPAY_PRIVATE_KEY", "ALIPAY_APPID", &mut problems);
            let public_key = require_with(&get, "ALIPAY_PUBLIC_KEY", "ALIPAY_APPID", &mut problems);
            Some(AlipayConfig {
                app_id,
                private_key: Secret(private_key?),
                alipay_public_key: public_key?,
                aes_key: get("ALIPAY_AES_KEY").map(Secret),
                gateway: get("ALIPAY_GATEWAY")
                    .unwrap_or_else(|| "https://openapi.alipay.com/gateway.do".into()),
                timeout: platform_timeout,
            })
        });
        let resident_session_hours =
            parse_or(&get, "RESIDENT_SESSION_HOURS", 24u32, &mut problems).max(1);
        let staff_session_hours = parse_or(&get, "STAFF_SESSION_HOURS", 8u32, &mut problems).max(1);

        if !problems.is_empty() {
            return Err(ConfigError { problems });
        }
        Ok(Settings {
            env,
            host,
            port,
            database_url,
            database_pool_size,
            public_base_url,
            jwt_secret: Secret(jwt_secret.expect("present when there are no problems")),
            pii_key: Secret(pii_key.expect("present when there are no problems")),
            venue_code_key: Secret(venue_code_key.expect("present when there are no problems")),
            pass_signing_key: Secret(pass_signing_key.expect("present when there are no problems")),
            scan,
            timezone,
            retention_days,
            audit_retention_days,
            purge_interval_minutes,
            trace_confirm_threshold,
            taxonomy,
            data_dir,
            log_format,
            wechat,
            alipay,
            resident_session_hours,
            staff_session_hours,
        })
    }

    pub fn is_development(&self) -> bool {
        self.env == AppEnv::Development
    }
}

fn parse_or<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
    problems: &mut Vec<String>,
) -> T {
    match get(name) {
        None => default,
        Some(value) => value.parse().unwrap_or_else(|_| {
            problems.push(format!("{name} `{value}` is not a valid number"));
            default
        }),
    }
}

/// A setting that becomes required once `because` is set.
fn require_with(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    because: &str,
    problems: &mut Vec<String>,
) -> Option<String> {
    let value = get(name);
    if value.is_none() {
        problems.push(format!(
            "{name} is missing (required because {because} is set)"
        ));
    }
    value
}

/// Reads one secret, applying the development fallback or the production checks.
fn secret<T>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    production: bool,
    dev_value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, String>,
    problems: &mut Vec<String>,
) -> Option<T> {
    let is_placeholder = |value: &str| {
        let lower = value.to_ascii_lowercase();
        PLACEHOLDER_MARKERS.iter().any(|m| lower.contains(m))
    };
    let value = match get(name) {
        // A copied .env.example must not stop `cargo run`: development ignores placeholders.
        Some(value) if !production && is_placeholder(&value) => dev_value?.to_owned(),
        Some(value) => value,
        None if production => {
            problems.push(format!(
                "{name} is missing (required when APP_ENV=production)"
            ));
            return None;
        }
        None => dev_value?.to_owned(),
    };
    if production {
        if is_placeholder(&value) {
            problems.push(format!(
                "{name} is still the placeholder from .env.example; generate a real secret"
            ));
            return None;
        }
        if dev_value == Some(value.as_str()) {
            problems.push(format!(
                "{name} is the development secret from the data folder; production needs its own"
            ));
            return None;
        }
    }
    match parse(&value) {
        Ok(parsed) => Some(parsed),
        Err(reason) => {
            problems.push(format!("{name} {reason}"));
            None
        }
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

/// Looks a taxonomy up by built-in name (`hunan`, `shanxi`) or reads it from a file path.
pub fn load_taxonomy(source: &str) -> Result<Taxonomy, String> {
    if let Some((_, text)) = BUILTIN_TAXONOMIES.iter().find(|(name, _)| *name == source) {
        return Taxonomy::from_json(text).map_err(|e| format!("built-in `{source}`: {e}"));
    }
    let text = std::fs::read_to_string(source).map_err(|e| {
        format!(
            "`{source}` is neither a built-in taxonomy (hunan, shanxi) nor a readable file: {e}"
        )
    })?;
    Taxonomy::from_json(&text).map_err(|e| format!("`{source}`: {e}"))
}

/// Secrets generated for development, kept in `{DATA_DIR}/dev-secrets.json` (mode 0600) so that
/// sessions, encrypted data and printed codes survive a restart. Each is random bytes in base64.
struct DevSecrets(BTreeMap<String, String>);

/// Every development secret and its length in random bytes.
const DEV_SECRETS: &[(&str, usize)] = &[
    ("jwt_secret", 48),
    ("pii_key", 32),
    ("venue_code_key", 32),
    ("pass_signing_key", 32),
];

impl DevSecrets {
    fn read(data_dir: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(data_dir.join(DEV_SECRETS_FILE)).ok()?;
        serde_json::from_str(&text).ok().map(Self)
    }

    /// Reads the file, generating whatever is missing (a newer version may need more secrets).
    fn read_or_create(data_dir: &Path) -> std::io::Result<Self> {
        let mut secrets = Self::read(data_dir).unwrap_or(Self(BTreeMap::new()));
        let missing: Vec<_> = DEV_SECRETS
            .iter()
            .filter(|(name, _)| !secrets.0.contains_key(*name))
            .collect();
        if missing.is_empty() {
            return Ok(secrets);
        }
        let mut rng = rand::thread_rng();
        for (name, length) in missing {
            let mut bytes = vec![0u8; *length];
            rng.fill_bytes(&mut bytes);
            secrets.0.insert((*name).to_owned(), BASE64.encode(bytes));
        }
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join(DEV_SECRETS_FILE);
        let _ = std::fs::remove_file(&path);
        write_private(&path, serde_json::to_string_pretty(&secrets.0)?.as_bytes())?;
        Ok(secrets)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::load(|k| map.get(k).cloned())
    }

    fn temp_dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    const KEY: &str = "q83vEi6yT9P0kG1X7rJ2sZbM4cN5aH8uWd3Lf6Ye0Vo=";
    const JWT: &str = "c0a8f3e1b2d4469f8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c";

    #[test]
    fn development_generates_and_keeps_its_secrets() {
        let dir = temp_dir();
        let data = dir.path().to_str().unwrap();
        let first = load(&[("DATA_DIR", data)]).unwrap();
        let second = load(&[("DATA_DIR", data)]).unwrap();
        assert_eq!(first.jwt_secret.expose(), second.jwt_secret.expose());
        assert_eq!(first.pii_key.expose(), second.pii_key.expose());
        assert_eq!(first.port, 8080);
        assert_eq!(first.host, "127.0.0.1");
        assert_eq!(
            first.database_url,
            DatabaseUrl::Sqlite(dir.path().join("venuecode.db"))
        );
        assert_eq!(first.taxonomy.id, "hunan");
        assert_eq!(first.retention_days, 28);
    }

    #[test]
    fn production_names_every_missing_secret() {
        let dir = temp_dir();
        let err = load(&[
            ("APP_ENV", "production"),
            ("DATA_DIR", dir.path().to_str().unwrap()),
        ])
        .unwrap_err();
        let text = err.to_string();
        for name in [
            "JWT_SECRET",
            "PII_KEY",
            "VENUE_CODE_KEY",
            "PASS_SIGNING_KEY",
            "PUBLIC_BASE_URL",
        ] {
            assert!(text.contains(name), "{name} not named in: {text}");
        }
        // Production never writes development secrets.
        assert!(!dir.path().join(DEV_SECRETS_FILE).exists());
    }

    #[test]
    fn production_refuses_placeholders_and_development_secrets() {
        let dir = temp_dir();
        let data = dir.path().to_str().unwrap();
        let dev = load(&[("DATA_DIR", data)]).unwrap();
        let dev_key = BASE64.encode(dev.pii_key.expose());
        let err = load(&[
            ("APP_ENV", "production"),
            ("DATA_DIR", data),
            (
                "JWT_SECRET",
                "change-me-to-a-long-random-string-of-64-chars",
            ),
            ("PII_KEY", &dev_key),
            ("VENUE_CODE_KEY", KEY),
            ("PASS_SIGNING_KEY", KEY),
            ("PUBLIC_BASE_URL", "https://code.example.gov.cn"),
        ])
        .unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
        assert!(err.problems[0].contains("JWT_SECRET"));
        assert!(err.problems[1].contains("PII_KEY"));
    }

    #[test]
    fn production_starts_with_real_secrets() {
        let dir = temp_dir();
        let settings = load(&[
            ("APP_ENV", "production"),
            ("DATA_DIR", dir.path().to_str().unwrap()),
            ("JWT_SECRET", JWT),
            ("PII_KEY", KEY),
            ("VENUE_CODE_KEY", KEY),
            ("PASS_SIGNING_KEY", "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n"),
            ("PUBLIC_BASE_URL", "https://code.gov.cn/"),
            ("DATABASE_URL", "postgres://app:s3cret@db:5432/venuecode"),
        ])
        .unwrap();
        assert_eq!(settings.public_base_url, "https://code.gov.cn");
        assert_eq!(settings.log_format, LogFormat::Json);
        assert_eq!(
            format!("{:?}", settings.database_url),
            "postgres://app:***@db:5432/venuecode"
        );
        assert!(!format!("{settings:?}").contains(JWT));
    }

    #[test]
    fn development_ignores_the_placeholders_of_env_example() {
        let dir = temp_dir();
        let settings = load(&[
            ("DATA_DIR", dir.path().to_str().unwrap()),
            ("JWT_SECRET", "change-me-openssl-rand-base64-48"),
            ("PII_KEY", "change-me-openssl-rand-base64-32"),
        ])
        .unwrap();
        assert!(!settings.jwt_secret.expose().contains("change-me"));
    }

    #[test]
    fn bad_values_are_reported_together() {
        let dir = temp_dir();
        let err = load(&[
            ("DATA_DIR", dir.path().to_str().unwrap()),
            ("APP_PORT", "eighty"),
            ("PII_KEY", "dG9vIHNob3J0"),
            ("TIMEZONE", "Mars/Olympus"),
            ("VENUE_TAXONOMY", "/nonexistent/taxonomy.json"),
        ])
        .unwrap_err();
        assert_eq!(err.problems.len(), 4, "{err}");
    }

    #[test]
    fn a_platform_is_configured_whole_or_not_at_all() {
        let dir = temp_dir();
        let data = dir.path().to_str().unwrap();
        let none = load(&[("DATA_DIR", data)]).unwrap();
        assert!(none.wechat.is_none() && none.alipay.is_none());
        let err = load(&[
            ("DATA_DIR", data),
            ("WECHAT_APPID", "wx123"),
            ("ALIPAY_APPID", "2021"),
        ])
        .unwrap_err();
        let text = err.to_string();
        for name in ["WECHAT_SECRET", "ALIPAY_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY"] {
            assert!(text.contains(name), "{name}: {text}");
        }
        let wechat = load(&[
            ("DATA_DIR", data),
            ("WECHAT_APPID", "wx123"),
            ("WECHAT_SECRET", "s"),
        ])
        .unwrap()
        .wechat
        .unwrap();
        assert_eq!(wechat.api_base, "https://api.weixin.qq.com");
        assert_eq!(wechat.timeout, std::time::Duration::from_secs(5));
    }

    #[test]
    fn database_urls() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db").unwrap(),
            DatabaseUrl::Sqlite("data/x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("/tmp/x.db").unwrap(),
            DatabaseUrl::Sqlite("/tmp/x.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgresql://localhost/v").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!(DatabaseUrl::parse("mysql://localhost/v").is_err());
    }

    #[test]
    fn both_shipped_taxonomies_load() {
        let hunan = load_taxonomy("hunan").unwrap();
        assert_eq!(hunan.categories.len(), 10);
        let shanxi = load_taxonomy("shanxi").unwrap();
        let count: usize = shanxi.categories.iter().map(|c| c.subtypes.len()).sum();
        assert_eq!(count, 39);
    }
}
