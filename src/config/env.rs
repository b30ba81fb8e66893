//! Reading the settings from environment variables: every problem is collected, so that one start
//! names all of them.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono_tz::Tz;

use super::dev_secrets::{self, DevSecrets};
use super::{decode_key, decode_signing_key};
use super::{
    AdmissionSettings, AlipaySettings, AppEnv, ConfigError, DatabaseSettings, DatabaseUrl,
    DeliverySettings, KeyRing, Keys, LogFormat, RetentionSettings, ScanPolicy, Secret,
    ServerSettings, SessionSettings, Settings, WechatSettings,
};
use crate::crypto::VenueCodeSigner;
use crate::domain::{CompanionRule, HealthColor, NotificationKind, Temperature};
use crate::platforms::messages::MessageTemplates;
use crate::reference::taxonomy::load_taxonomy;

/// Fragments that mark a value copied from `.env.example` rather than generated.
const PLACEHOLDER_MARKERS: &[&str] = &["change-me", "changeme", "replace-me", "example"];

/// The variables, and every problem found while reading them.
struct Reader<F> {
    lookup: F,
    problems: Vec<String>,
}

impl<F: Fn(&str) -> Option<String>> Reader<F> {
    /// A variable's value; empty counts as unset.
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn problem(&mut self, problem: impl Into<String>) {
        self.problems.push(problem.into());
    }

    /// A number, or `default` when unset.
    fn number<T: FromStr>(&mut self, name: &str, default: T) -> T {
        match self.get(name) {
            None => default,
            Some(value) => value.parse().unwrap_or_else(|_| {
                self.problem(format!("{name} `{value}` is not a valid number"));
                default
            }),
        }
    }

    /// One of `choices` by name, or `default` when unset.
    fn choice<T: Copy>(&mut self, name: &str, default: T, choices: &[(&str, T)]) -> T {
        let Some(value) = self.get(name) else {
            return default;
        };
        match choices.iter().find(|(key, _)| *key == value) {
            Some((_, choice)) => *choice,
            None => {
                let names: Vec<&str> = choices.iter().map(|(key, _)| *key).collect();
                self.problem(format!(
                    "{name} must be one of {}, not `{value}`",
                    names.join(", ")
                ));
                default
            }
        }
    }

    /// A setting that becomes required once `because` is set.
    fn required_with(&mut self, name: &str, because: &str) -> Option<String> {
        let value = self.get(name);
        if value.is_none() {
            self.problem(format!(
                "{name} is missing (required because {because} is set)"
            ));
        }
        value
    }

    /// One secret: an explicit value wins; development falls back to the generated value;
    /// production accepts only explicit values that are neither placeholders nor development's.
    fn secret<T>(
        &mut self,
        name: &str,
        production: bool,
        dev_value: Option<&str>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let value = match self.get(name) {
            // A copied .env.example must not stop `cargo run`: development ignores placeholders.
            Some(value) if !production && is_placeholder(&value) => dev_value?.to_owned(),
            Some(value) => value,
            None if production => {
                self.problem(format!(
                    "{name} is missing (required when APP_ENV=production)"
                ));
                return None;
            }
            None => dev_value?.to_owned(),
        };
        if production && is_placeholder(&value) {
            self.problem(format!(
                "{name} is still the placeholder from .env.example; generate a real secret"
            ));
            return None;
        }
        if production && dev_value == Some(value.as_str()) {
            self.problem(format!(
                "{name} is the development secret from the data folder; production needs its own"
            ));
            return None;
        }
        parse(&value)
            .map_err(|reason| self.problem(format!("{name} {reason}")))
            .ok()
    }
}

/// Whether a secret is still the placeholder of `.env.example`.
fn is_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    PLACEHOLDER_MARKERS.iter().any(|m| lower.contains(m))
}

impl<F: Fn(&str) -> Option<String>> Reader<F> {
    /// Keys with ids from `list` (`id:value,id:value`, the first current; ids of 1 to 16 letters,
    /// digits, `-` or `_`, each once), or, without it, the one key of `single` under
    /// [`SINGLE_KEY_ID`]. Setting both is refused, and so, in production, is a listed value that
    /// is a placeholder or the development secret.
    fn key_ring<T>(
        &mut self,
        single: &str,
        list: &str,
        production: bool,
        dev_value: Option<&str>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<KeyRing<T>> {
        let Some(listed) = self.get(list) else {
            return self
                .secret(single, production, dev_value, parse)
                .map(KeyRing::single);
        };
        if self.get(single).is_some() {
            self.problem(format!("set {list} or {single}, not both"));
            return None;
        }
        let mut keys: Vec<(String, T)> = Vec::new();
        for item in listed.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let Some((id, value)) = item.split_once(':') else {
                self.problem(format!("{list}: each key is written id:value"));
                return None;
            };
            let (id, value) = (id.trim(), value.trim());
            let well_formed = (1..=16).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !well_formed {
                self.problem(format!(
                    "{list}: key id `{id}` must be 1 to 16 letters, digits, '-' or '_'"
                ));
                return None;
            }
            if keys.iter().any(|(seen, _)| seen == id) {
                self.problem(format!("{list} names the key id `{id}` twice"));
                return None;
            }
            if production && (is_placeholder(value) || dev_value == Some(value)) {
                self.problem(format!(
                    "{list}: key `{id}` is a placeholder or the development secret"
                ));
                return None;
            }
            match parse(value) {
                Ok(key) => keys.push((id.to_owned(), key)),
                Err(reason) => {
                    self.problem(format!("{list}: key `{id}` {reason}"));
                    return None;
                }
            }
        }
        if keys.is_empty() {
            self.problem(format!("{list} names no key"));
            return None;
        }
        Some(KeyRing::new(keys))
    }
}

pub(super) fn load(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
    let mut r = Reader {
        lookup,
        problems: Vec::new(),
    };
    let env = r.choice(
        "APP_ENV",
        AppEnv::Development,
        &[
            ("development", AppEnv::Development),
            ("production", AppEnv::Production),
        ],
    );
    let production = env == AppEnv::Production;
    let server = server(&mut r, production);
    let database = database(&mut r, &server);
    let (keys, generated_secrets) = keys(&mut r, production, &server);
    let retention = RetentionSettings {
        days: r.number("RETENTION_DAYS", 28u32),
        audit_days: r.number("AUDIT_RETENTION_DAYS", 180u32).max(1),
        purge_interval_minutes: r.number("PURGE_INTERVAL_MINUTES", 60u32),
    };
    if retention.days == 0 {
        r.problem("RETENTION_DAYS must be at least 1");
    }
    let trace_confirm_threshold = r.number("TRACE_CONFIRM_THRESHOLD", 50u32);
    let timezone = match r.get("TIMEZONE") {
        Some(name) => name.parse::<Tz>().unwrap_or_else(|_| {
            r.problem(format!("TIMEZONE `{name}` is not an IANA time zone name"));
            chrono_tz::Asia::Shanghai
        }),
        None => chrono_tz::Asia::Shanghai,
    };
    let taxonomy_source = r.get("VENUE_TAXONOMY").unwrap_or_else(|| "hunan".into());
    let taxonomy = Arc::new(load_taxonomy(&taxonomy_source).unwrap_or_else(|reason| {
        r.problem(format!("VENUE_TAXONOMY: {reason}"));
        load_taxonomy("hunan").expect("the built-in taxonomy is valid")
    }));
    let scan = scan_policy(&mut r);
    let sessions = SessionSettings {
        resident_hours: r.number("RESIDENT_SESSION_HOURS", 24u32).max(1),
        staff_hours: r.number("STAFF_SESSION_HOURS", 8u32).max(1),
    };
    let (wechat, alipay) = platforms(&mut r);
    let delivery = DeliverySettings {
        page: r
            .get("MESSAGE_PAGE")
            .unwrap_or_else(|| "pages/notifications/index".into()),
        poll_seconds: r.number("DELIVERY_POLL_SECONDS", 5u32),
        concurrency: r.number("DELIVERY_CONCURRENCY", 8usize).clamp(1, 64),
    };
    let village_provinces = village_provinces(&mut r);
    if !r.problems.is_empty() {
        return Err(ConfigError {
            problems: r.problems,
        });
    }
    let audit_anchor_minutes = r.number("AUDIT_ANCHOR_MINUTES", 10u32);
    let cache_sync_ms = r.number("CACHE_SYNC_MS", 200u32).clamp(10, 1000);
    Ok(Settings {
        audit_anchor_minutes,
        cache_sync_ms,
        env,
        server,
        database,
        keys: keys.expect("present when there are no problems"),
        sessions,
        scan,
        retention,
        trace_confirm_threshold,
        timezone,
        taxonomy,
        wechat,
        alipay,
        delivery,
        village_provinces,
        generated_secrets,
    })
}

fn server<F: Fn(&str) -> Option<String>>(r: &mut Reader<F>, production: bool) -> ServerSettings {
    let data_dir = PathBuf::from(r.get("DATA_DIR").unwrap_or_else(|| "data".into()));
    let host = r.get("APP_HOST").unwrap_or_else(|| "127.0.0.1".into());
    let port = r.number("APP_PORT", 8080u16);
    let public_base_url = match r.get("PUBLIC_BASE_URL") {
        Some(url) => {
            let url = url.trim_end_matches('/').to_owned();
            let scheme_ok =
                url.starts_with("https://") || (!production && url.starts_with("http://"));
            if !scheme_ok {
                r.problem(if production {
                    "PUBLIC_BASE_URL must be an https:// URL in production"
                } else {
                    "PUBLIC_BASE_URL must start with http:// or https://"
                });
            }
            url
        }
        None if production => {
            r.problem("PUBLIC_BASE_URL is missing (required when APP_ENV=production): the address printed in venue codes");
            String::new()
        }
        None => format!("http://{host}:{port}"),
    };
    let mut venue_code_hosts: Vec<String> = VenueCodeSigner::host_of(&public_base_url)
        .into_iter()
        .collect();
    for host in r
        .get("VENUE_CODE_HOSTS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        if host.contains(['/', '@', ' ']) {
            r.problem(format!(
                "VENUE_CODE_HOSTS lists `{host}`: give hosts (and ports) only, comma-separated"
            ));
        }
        venue_code_hosts.push(host.to_ascii_lowercase());
    }
    let metrics_token = r.get("METRICS_TOKEN").map(|token| {
        if token.len() < 16 {
            r.problem("METRICS_TOKEN must be at least 16 characters");
        }
        Secret::new(token)
    });
    let log_format = r.choice(
        "LOG_FORMAT",
        if production {
            LogFormat::Json
        } else {
            LogFormat::Pretty
        },
        &[("json", LogFormat::Json), ("pretty", LogFormat::Pretty)],
    );
    let admission = AdmissionSettings {
        max_in_flight: r.number("MAX_IN_FLIGHT", 128usize).max(1),
        max_queued: r.number("MAX_QUEUED", 512usize),
        queue_timeout: Duration::from_millis(r.number("QUEUE_TIMEOUT_MS", 3u64).min(60_000)),
        max_connections: Some(r.number("MAX_CONNECTIONS", 0usize)).filter(|&n| n > 0),
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let http_workers = r.number("HTTP_WORKERS", cores).max(1);
    let slow_request = Duration::from_millis(r.number("SLOW_REQUEST_MS", 1000u64));
    ServerSettings {
        host,
        port,
        public_base_url,
        venue_code_hosts,
        data_dir,
        log_format,
        metrics_token,
        admission,
        http_workers,
        slow_request,
    }
}

fn database<F: Fn(&str) -> Option<String>>(
    r: &mut Reader<F>,
    server: &ServerSettings,
) -> DatabaseSettings {
    let default = || DatabaseUrl::Sqlite(server.data_dir.join("venuecode.db"));
    let url = match r.get("DATABASE_URL") {
        Some(url) => DatabaseUrl::parse(&url).unwrap_or_else(|reason| {
            r.problem(format!("DATABASE_URL is not usable: {reason}"));
            default()
        }),
        None => default(),
    };
    let pool_size = r.number("DATABASE_POOL_SIZE", 10u32);
    if pool_size == 0 {
        r.problem("DATABASE_POOL_SIZE must be at least 1");
    }
    let checkout_timeout_ms = r.number("DATABASE_CHECKOUT_TIMEOUT_MS", 500u64);
    if !(10..=5000).contains(&checkout_timeout_ms) {
        r.problem("DATABASE_CHECKOUT_TIMEOUT_MS must be between 10 and 5000");
    }
    let read_url = r
        .get("DATABASE_READ_URL")
        .and_then(|url| match DatabaseUrl::parse(&url) {
            Ok(url @ DatabaseUrl::Postgres(_)) => Some(url),
            _ => {
                r.problem("DATABASE_READ_URL must be a postgres:// URL of a hot standby");
                None
            }
        });
    DatabaseSettings {
        url,
        pool_size,
        checkout_timeout: Duration::from_millis(checkout_timeout_ms.clamp(10, 5000)),
        read_url,
        read_max_lag_ms: r.number("READ_MAX_LAG_MS", 2000u64),
    }
}

/// The keys, and the development secrets generated while reading them.
fn keys<F: Fn(&str) -> Option<String>>(
    r: &mut Reader<F>,
    production: bool,
    server: &ServerSettings,
) -> (Option<Keys>, Vec<&'static str>) {
    let dev = if production {
        DevSecrets::read(&server.data_dir)
    } else {
        match DevSecrets::read_or_create(&server.data_dir) {
            Ok(secrets) => Some(secrets),
            Err(e) => {
                r.problem(format!(
                    "cannot keep development secrets in {}: {e}",
                    server.data_dir.join(dev_secrets::FILE_NAME).display()
                ));
                None
            }
        }
    };
    let dev_value = |name: &str| dev.as_ref().and_then(|d| d.get(name));
    let jwt_secrets = r.key_ring(
        "JWT_SECRET",
        "JWT_SECRETS",
        production,
        dev_value("jwt_secret"),
        |value| {
            if value.len() < 32 {
                Err("must be at least 32 characters".into())
            } else {
                Ok(value.to_owned())
            }
        },
    );
    let pii_keys = r.key_ring(
        "PII_KEY",
        "PII_KEYS",
        production,
        dev_value("pii_key"),
        decode_key,
    );
    let venue_code_keys = r.key_ring(
        "VENUE_CODE_KEY",
        "VENUE_CODE_KEYS",
        production,
        dev_value("venue_code_key"),
        decode_key,
    );
    let pass_signing_keys = r.key_ring(
        "PASS_SIGNING_KEY",
        "PASS_SIGNING_KEYS",
        production,
        dev_value("pass_signing_key"),
        decode_signing_key,
    );
    let generated = dev
        .as_ref()
        .map(|d| d.generated.clone())
        .unwrap_or_default();
    let keys = (|| {
        Some(Keys {
            jwt_secrets: jwt_secrets?,
            pii_keys: pii_keys?,
            venue_code_keys: venue_code_keys?,
            pass_signing_keys: pass_signing_keys?,
        })
    })();
    (keys, generated)
}

fn scan_policy<F: Fn(&str) -> Option<String>>(r: &mut Reader<F>) -> ScanPolicy {
    ScanPolicy {
        max_distance_m: r.number("MAX_SCAN_DISTANCE_M", 1000u32),
        require_location: r.choice(
            "REQUIRE_SCAN_LOCATION",
            false,
            &[("true", true), ("false", false), ("1", true), ("0", false)],
        ),
        offline_window_hours: r.number("OFFLINE_WINDOW_HOURS", 24u32),
        hourly_limit: r.number("CHECKIN_HOURLY_LIMIT", 30u32).max(1),
        door_hourly_limit: r.number("DOOR_CHECKIN_HOURLY_LIMIT", 120u32).max(1),
        unknown_color: r.choice(
            "UNKNOWN_HEALTH_COLOR",
            HealthColor::Green,
            &[
                ("green", HealthColor::Green),
                ("yellow", HealthColor::Yellow),
                ("red", HealthColor::Red),
            ],
        ),
        fever_from: {
            let celsius = r.number("FEVER_FROM_C", 37.3f64);
            Temperature::parse(celsius).unwrap_or_else(|_| {
                r.problem("FEVER_FROM_C must be a temperature between 34.0 and 43.0");
                Temperature::from_tenths(373)
            })
        },
        companions: CompanionRule {
            child_under: r.number("COMPANION_CHILD_UNDER", 18u32),
            elder_from: r.number("COMPANION_ELDER_FROM", 60u32),
        },
        pass_ttl_seconds: r.number("PASS_TTL_SECONDS", 180u32).max(10),
    }
}

fn platforms<F: Fn(&str) -> Option<String>>(
    r: &mut Reader<F>,
) -> (Option<WechatSettings>, Option<AlipaySettings>) {
    let timeout =
        std::time::Duration::from_millis(u64::from(r.number("PLATFORM_TIMEOUT_MS", 5000u32)));
    let wechat = match r.get("WECHAT_APPID") {
        Some(appid) => r
            .required_with("WECHAT_SECRET", "WECHAT_APPID")
            .map(|secret| WechatSettings {
                appid,
                secret: Secret::new(secret),
                api_base: r
                    .get("WECHAT_API_BASE")
                    .unwrap_or_else(|| "https://api.weixin.qq.com".into()),
                timeout,
                templates: templates(r, "WECHAT", wechat_keys),
            }),
        None => None,
    };
    let alipay = match r.get("ALIPAY_APPID") {
        Some(app_id) => {
            let private_key = r.required_with("ALIPAY_PRIVATE_KEY", "ALIPAY_APPID");
            let public_key = r.required_with("ALIPAY_PUBLIC_KEY", "ALIPAY_APPID");
            private_key
                .zip(public_key)
                .map(|(private_key, public_key)| AlipaySettings {
                    app_id,
                    private_key: Secret::new(private_key),
                    alipay_public_key: public_key,
                    aes_key: r.get("ALIPAY_AES_KEY").map(Secret::new),
                    gateway: r
                        .get("ALIPAY_GATEWAY")
                        .unwrap_or_else(|| "https://openapi.alipay.com/gateway.do".into()),
                    timeout,
                    templates: templates(r, "ALIPAY", |_| ["keyword1", "keyword2", "keyword3"]),
                })
        }
        None => None,
    };
    (wechat, alipay)
}

/// `VILLAGE_PROVINCES`: `all` (the default), `none`, or province codes separated by commas.
fn village_provinces<F: Fn(&str) -> Option<String>>(r: &mut Reader<F>) -> Option<Vec<String>> {
    let value = r.get("VILLAGE_PROVINCES").unwrap_or_else(|| "all".into());
    match value.as_str() {
        "all" => None,
        "none" => Some(Vec::new()),
        list => {
            let codes: Vec<String> = list.split(',').map(|c| c.trim().to_owned()).collect();
            if codes
                .iter()
                .any(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_digit()))
            {
                r.problem(format!(
                    "VILLAGE_PROVINCES must be all, none or two-digit province codes separated by commas (43,44), not `{list}`"
                ));
            }
            Some(codes)
        }
    }
}

/// One platform's message templates; a malformed one is a problem.
fn templates<F: Fn(&str) -> Option<String>>(
    r: &mut Reader<F>,
    prefix: &str,
    default_keys: fn(NotificationKind) -> [&'static str; 3],
) -> MessageTemplates {
    MessageTemplates::read(|name| r.get(name), prefix, default_keys).unwrap_or_else(|problems| {
        r.problems.extend(problems);
        MessageTemplates::default()
    })
}

/// The field keys of the subscribe-message templates this system was written for, in the order
/// of the values (see the README): what the place is, when, and what to do.
fn wechat_keys(kind: NotificationKind) -> [&'static str; 3] {
    match kind {
        NotificationKind::ReviewResult => ["thing1", "phrase2", "thing3"],
        NotificationKind::HealthCode => ["phrase1", "time2", "thing3"],
        _ => ["thing1", "time2", "thing3"],
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD as BASE64;
    use base64::Engine;

    use super::super::{DatabaseUrl, LogFormat, DEV_SECRETS_FILE, SINGLE_KEY_ID};
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        super::load(|k| map.get(k).cloned())
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
        assert_eq!(
            first.keys.jwt_secrets.current().1,
            second.keys.jwt_secrets.current().1
        );
        assert_eq!(
            first.keys.pii_keys.current().1,
            second.keys.pii_keys.current().1
        );
        assert_eq!(first.server.port, 8080);
        assert_eq!(first.server.host, "127.0.0.1");
        assert_eq!(
            first.database.url,
            DatabaseUrl::Sqlite(dir.path().join("venuecode.db"))
        );
        assert_eq!(first.taxonomy.id, "hunan");
        assert_eq!(first.retention.days, 28);
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
        let dev_key = BASE64.encode(dev.keys.pii_keys.current().1);
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
        assert_eq!(settings.server.public_base_url, "https://code.gov.cn");
        assert_eq!(settings.server.log_format, LogFormat::Json);
        assert_eq!(
            format!("{:?}", settings.database.url),
            "postgres://app:***@db:5432/venuecode"
        );
        assert!(!format!("{settings:?}").contains(JWT));
    }

    #[test]
    fn keys_are_read_as_lists_with_ids_the_first_current() {
        let dir = temp_dir();
        const OTHER: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
        let settings = load(&[
            ("DATA_DIR", dir.path().to_str().unwrap()),
            ("VENUE_CODE_KEYS", &format!("b:{OTHER}, a:{KEY}")),
            ("JWT_SECRETS", &format!("2024-b:{JWT},2023-a:{JWT}x")),
        ])
        .unwrap();
        let ids: Vec<&str> = settings
            .keys
            .venue_code_keys
            .all()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids, ["b", "a"]);
        assert_eq!(settings.keys.jwt_secrets.current().0, "2024-b");
        // A key given alone goes by the fixed id.
        assert_eq!(settings.keys.pass_signing_keys.current().0, SINGLE_KEY_ID);
    }

    #[test]
    fn key_lists_with_a_repeated_id_or_beside_a_single_key_are_refused() {
        let dir = temp_dir();
        let twice = load(&[
            ("DATA_DIR", dir.path().to_str().unwrap()),
            ("VENUE_CODE_KEYS", &format!("a:{KEY},a:{KEY}")),
        ])
        .unwrap_err();
        assert!(twice.problems[0].contains("twice"), "{twice}");
        let both = load(&[
            ("DATA_DIR", dir.path().to_str().unwrap()),
            ("JWT_SECRET", JWT),
            ("JWT_SECRETS", &format!("a:{JWT}")),
        ])
        .unwrap_err();
        assert!(both.problems[0].contains("not both"), "{both}");
        let unnamed = load(&[
            ("DATA_DIR", dir.path().to_str().unwrap()),
            ("PASS_SIGNING_KEYS", KEY),
        ])
        .unwrap_err();
        assert!(unnamed.problems[0].contains("id:value"), "{unnamed}");
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
        assert!(!settings.keys.jwt_secrets.current().1.contains("change-me"));
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
}
