//! The binary as an operator uses it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;

use serde_json::json;

use crate::helpers::{spawn_app_with, TestDatabase, TEST_JWT_SECRET, TEST_PII_KEY};

const SETTINGS: &[&str] = &[
    "APP_ENV",
    "APP_HOST",
    "APP_PORT",
    "DATABASE_URL",
    "DATABASE_POOL_SIZE",
    "DATABASE_CHECKOUT_TIMEOUT_MS",
    "MAX_IN_FLIGHT",
    "MAX_QUEUED",
    "QUEUE_TIMEOUT_MS",
    "SLOW_REQUEST_MS",
    "PUBLIC_BASE_URL",
    "VENUE_CODE_HOSTS",
    "METRICS_TOKEN",
    "JWT_SECRET",
    "PII_KEY",
    "VENUE_CODE_KEY",
    "PASS_SIGNING_KEY",
    "PASS_TTL_SECONDS",
    "MAX_SCAN_DISTANCE_M",
    "OFFLINE_WINDOW_HOURS",
    "CHECKIN_HOURLY_LIMIT",
    "DOOR_CHECKIN_HOURLY_LIMIT",
    "UNKNOWN_HEALTH_COLOR",
    "COMPANION_CHILD_UNDER",
    "COMPANION_ELDER_FROM",
    "CACHE_SYNC_MS",
    "TIMEZONE",
    "RETENTION_DAYS",
    "AUDIT_RETENTION_DAYS",
    "PURGE_INTERVAL_MINUTES",
    "AUDIT_ANCHOR_MINUTES",
    "TRACE_CONFIRM_THRESHOLD",
    "VENUE_TAXONOMY",
    "DATA_DIR",
    "LOG_FORMAT",
    "RUST_LOG",
];

/// The binary with none of our settings inherited, run in `dir` (which has no `.env`).
fn venuecode(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_venuecode"));
    for name in SETTINGS {
        command.env_remove(name);
    }
    command.current_dir(dir);
    command
}

#[test]
fn production_without_secrets_exits_naming_each_one() {
    let dir = tempfile::tempdir().unwrap();
    let output = venuecode(dir.path())
        .env("APP_ENV", "production")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for name in [
        "JWT_SECRET",
        "PII_KEY",
        "VENUE_CODE_KEY",
        "PASS_SIGNING_KEY",
        "PUBLIC_BASE_URL",
    ] {
        assert!(stderr.contains(name), "{name} not named in: {stderr}");
    }
    assert!(!dir.path().join("data").exists(), "nothing is created");
}

#[test]
fn production_refuses_the_placeholders_of_env_example() {
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.env.example"))
        .expect(".env.example exists");
    let value_of = |name: &str| {
        example
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} is in .env.example"))
            .to_owned()
    };
    let output = venuecode(dir.path())
        .env("APP_ENV", "production")
        .env("PUBLIC_BASE_URL", "https://code.example.gov.cn")
        .env("JWT_SECRET", value_of("JWT_SECRET"))
        .env("PII_KEY", value_of("PII_KEY"))
        .env("VENUE_CODE_KEY", value_of("VENUE_CODE_KEY"))
        .env("PASS_SIGNING_KEY", value_of("PASS_SIGNING_KEY"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("JWT_SECRET") && stderr.contains("PII_KEY"),
        "{stderr}"
    );
}

#[test]
fn env_example_lists_every_setting() {
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.env.example")).unwrap();
    for name in SETTINGS {
        assert!(
            example.lines().any(|l| l.starts_with(&format!("{name}="))),
            "{name} is missing from .env.example"
        );
    }
}

#[test]
fn help_explains_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let output = venuecode(dir.path()).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    for command in ["serve", "migrate", "staff"] {
        assert!(text.contains(command), "{text}");
    }
    let output = venuecode(dir.path())
        .args(["staff", "create", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    for word in [
        "--username",
        "--role",
        "--region",
        "standard input",
        "health_official",
    ] {
        assert!(text.contains(word), "{word} missing from: {text}");
    }
}

/// A database for the binary: the test's PostgreSQL database, or an SQLite file in `dir`.
fn database_for(dir: &std::path::Path) -> (TestDatabase, String) {
    TestDatabase::create(dir)
}

#[test]
fn staff_accounts_are_created_with_the_password_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let (_database, url) = database_for(dir.path());
    let run = |args: &[&str], password: &str| {
        let mut child = venuecode(dir.path())
            .env("DATABASE_URL", &url)
            .env("JWT_SECRET", TEST_JWT_SECRET)
            .env("PII_KEY", TEST_PII_KEY)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let create = [
        "staff",
        "create",
        "--username",
        "linwu-review",
        "--role",
        "reviewer",
        "--region",
        "431025",
    ];
    let output = run(&create, "a long and secret pass");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("linwu-review"));

    // The password is stored only as an argon2id hash.
    let settings = crate::helpers::test_settings::<&str>(dir.path(), &url, &[]);
    let database = venuecode::db::Database::connect(&settings.database.url, 1).unwrap();
    let mut conn = database.get().unwrap();
    let account = venuecode::db::staff::find_by_username(&mut conn, "linwu-review")
        .unwrap()
        .expect("the account exists");
    assert_eq!(account.role.as_str(), "reviewer");
    assert_eq!(account.region_code, "431025");
    assert!(account.password_hash.starts_with("$argon2id$"));
    assert!(venuecode::auth::password::verify(
        &account.password_hash,
        "a long and secret pass"
    ));

    let again = run(&create, "another long password");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("taken"));

    let weak = run(
        &[
            "staff",
            "create",
            "--username",
            "weak",
            "--role",
            "auditor",
            "--region",
            "43",
        ],
        "short",
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("12"));

    let nowhere = run(
        &[
            "staff",
            "create",
            "--username",
            "nowhere",
            "--role",
            "health_official",
            "--region",
            "991025",
        ],
        "a long and secret pass",
    );
    assert!(!nowhere.status.success());
    assert!(String::from_utf8_lossy(&nowhere.stderr).contains("991025"));

    let count: i64 = venuecode::db::schema::staff_accounts::table
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(count, 1, "failed attempts store nothing");
}

#[test]
fn migrate_applies_everything_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let (_database, url) = database_for(dir.path());
    for _ in 0..2 {
        let output = venuecode(dir.path())
            .env("DATABASE_URL", &url)
            .env("JWT_SECRET", TEST_JWT_SECRET)
            .env("PII_KEY", TEST_PII_KEY)
            .arg("migrate")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// `venuecode` run in `dir` with no settings but a free port and JSON logs; its log lines after
/// start-up, and the address it says it listens on.
fn serve_with_no_settings(
    dir: &std::path::Path,
) -> (
    std::process::Child,
    std::io::Lines<BufReader<std::process::ChildStdout>>,
    String,
) {
    let mut child = venuecode(dir)
        .env("APP_PORT", "0")
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) {
            if event["fields"]["message"] == "venuecode is listening" {
                let address = event["fields"]["address"].as_str().unwrap().to_owned();
                return (child, lines, address);
            }
        }
        if started.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server never said where it listens");
}

/// What a new developer does: run the binary with no settings in a fresh checkout.
#[test]
fn with_no_settings_it_serves_from_an_sqlite_file_in_data() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _, address) = serve_with_no_settings(dir.path());
    let get = |path: &str| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            reqwest::get(format!("http://{address}{path}"))
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        })
    };
    assert_eq!(get("/healthz")["status"], "ok");
    assert_eq!(
        get("/api/v1/venue-categories")["categories"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
    let _ = child.kill();
    let _ = child.wait();
    assert!(dir.path().join("data/venuecode.db").exists());
    assert!(dir.path().join("data/dev-secrets.json").exists());
}

/// The log at the default level: nothing per successful request, and nothing at error level for
/// bytes a client sent that do not parse.
#[test]
fn a_client_cannot_make_the_server_log_errors_and_successes_are_not_logged() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, lines, address) = serve_with_no_settings(dir.path());
    for raw in [
        &b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\0b\r\n\r\n"[..],
        b"GE\0T / HTTP/1.1\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nContent-Length: many\r\n\r\n",
        b"GET /api/v1/venue-categories HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ] {
        let mut socket = std::net::TcpStream::connect(&address).unwrap();
        socket.write_all(raw).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut answer = [0u8; 12];
        let _ = std::io::Read::read(&mut socket, &mut answer);
        assert!(answer.starts_with(b"HTTP/1.1"), "{raw:?} answered");
    }
    std::thread::sleep(Duration::from_millis(300));
    let _ = child.kill();
    let _ = child.wait();
    let after: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(after.iter().all(|l| !l.contains("\"ERROR\"")), "{after:#?}");
    assert!(
        after.iter().all(|l| !l.contains("\"request\"")),
        "a line per request: {after:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_is_a_consistent_copy_made_while_scans_go_on() {
    let app = spawn_app_with(&[("CHECKIN_HOURLY_LIMIT", "100000")]).await;
    if app.database.is_postgres() {
        // PostgreSQL is backed up by WAL archiving and base backups (tests/api/formation.rs).
        let out = app
            .command()
            .args(["backup", "--to", "/nonexistent/copy.db"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("pg_basebackup"));
        return;
    }
    let venue = app.approved_venue().await;
    let mut residents = Vec::new();
    for _ in 0..4 {
        residents.push(app.new_resident().build().await.token);
    }
    let before = {
        let mut ids = Vec::new();
        for token in &residents {
            ids.push(
                app.check_in(token, &venue.code_url).await["check_in_id"]
                    .as_i64()
                    .unwrap(),
            );
        }
        ids
    };
    // Scans go on, each at its own minute of the last day, while the copy is made.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let scanning = {
        let (stop, address, code) = (stop.clone(), app.address.clone(), venue.code_url.clone());
        let tokens = residents.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut answers = Vec::new();
            let mut n: i64 = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let when = chrono::Utc::now() - chrono::Duration::minutes(2 + n);
                let status = client
                    .post(format!("{address}/api/v1/check-ins"))
                    .bearer_auth(&tokens[n as usize % tokens.len()])
                    .json(&json!({"code": code, "scanned_at": when.to_rfc3339()}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                answers.push(status);
            }
            answers
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let copy = app.settings.server.data_dir.join("copy.db");
    let mut command = app.command();
    command.args(["backup", "--to"]).arg(&copy);
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let answers = scanning.await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !answers.is_empty() && answers.iter().all(|s| *s == 201),
        "{answers:?}"
    );

    // The copy opens, is sound, and holds every check-in acknowledged before it began.
    #[derive(QueryableByName)]
    struct Text {
        #[diesel(sql_type = diesel::sql_types::Text)]
        text: String,
    }
    let mut conn = diesel::SqliteConnection::establish(&copy.to_string_lossy()).unwrap();
    let check: Vec<String> =
        diesel::sql_query("SELECT integrity_check AS text FROM pragma_integrity_check")
            .load::<Text>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|r| r.text)
            .collect();
    assert_eq!(check, ["ok"]);
    let ids = before
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let found = diesel::sql_query(format!(
        "SELECT CAST(COUNT(*) AS TEXT) AS text FROM check_ins WHERE id IN ({ids})"
    ))
    .get_result::<Text>(&mut conn)
    .unwrap();
    assert_eq!(found.text, before.len().to_string());
    // Copying again onto the same file is refused.
    let again = app
        .command()
        .args(["backup", "--to"])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(!again.status.success());
}
