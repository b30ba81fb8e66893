//! The server on a real pg_auto_failover formation (`deploy/formation.sh`: a monitor, a primary and a
//! synchronous standby on loopback), under fresh-scan load while the primary's host is lost and
//! while a planned switchover runs: every acknowledged check-in is on the new primary, no answer is a
//! 500 or takes over a second, and writes come back within the goals of DESIGN §12.
//!
//! They need Debian's `postgresql-15-auto-failover` and `pg-auto-failover-cli` and take a minute or
//! two, so they run when `FORMATION_TESTS=1` (as `.ci/run` does, once); otherwise they say so and
//! pass.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use serde_json::json;
use tokio::sync::Mutex as AsyncMutex;

use crate::helpers::{database_url_with_name, spawn_app_with, TestApp};

/// One formation for the whole run, its tests one at a time.
static FORMATION: AsyncMutex<Option<String>> = AsyncMutex::const_new(None);

fn script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/formation.sh")
}

fn formation(verb: &str) -> String {
    let output = Command::new("bash")
        .arg(script())
        .arg(verb)
        .env("FORMATION_DIR", formation_dir())
        .env("FORMATION_PORT", formation_port())
        .output()
        .expect("bash runs deploy/formation.sh");
    assert!(
        output.status.success(),
        "formation.sh {verb}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Where the formation lives: `FORMATION_DIR`, or a folder of the temporary directory.
fn formation_dir() -> String {
    std::env::var("FORMATION_DIR").unwrap_or_else(|_| {
        std::env::temp_dir()
            .join("venuecode-test-formation")
            .to_string_lossy()
            .into_owned()
    })
}

/// The monitor's port (`FORMATION_PORT`, 6300 unless set); the nodes take the next two.
fn formation_port() -> String {
    std::env::var("FORMATION_PORT").unwrap_or_else(|_| "6300".into())
}

/// Whether these tests run here.
fn wanted() -> bool {
    if std::env::var("FORMATION_TESTS").as_deref() == Ok("1") {
        return true;
    }
    eprintln!("FORMATION_TESTS is not 1: the formation tests are skipped");
    false
}

/// The formation's multi-host URL with a database of this test's own, the formation brought up
/// first if needed, with both nodes in place.
async fn database(held: &mut Option<String>) -> String {
    let url = match held {
        Some(url) => {
            formation("wait");
            url.clone()
        }
        None => {
            let url = tokio::task::spawn_blocking(|| formation("up"))
                .await
                .unwrap()
                .lines()
                .last()
                .unwrap()
                .to_owned();
            *held = Some(url.clone());
            url
        }
    };
    let name = format!("venuecode_failover_{}", uuid::Uuid::new_v4().simple());
    let mut admin = diesel::PgConnection::establish(&database_url_with_name(&url, "postgres"))
        .expect("the formation's primary");
    diesel::sql_query(format!(r#"CREATE DATABASE "{name}""#))
        .execute(&mut admin)
        .unwrap();
    let url = database_url_with_name(&url, &name);
    // A commit waits for the standby to have it, not to have replayed it; libpq tries the hosts in
    // order and gives up at a host that says "no such database": wait until the standby knows it.
    let until = Instant::now() + Duration::from_secs(20);
    while diesel::PgConnection::establish(&url).is_err() {
        assert!(Instant::now() < until, "{name} never reached the standby");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    url
}

/// One answer to a scan: when it was sent (since the load began), how long it took, its status,
/// and the check-in of a 201.
struct Answer {
    sent: Duration,
    took: Duration,
    status: u16,
    check_in_id: Option<i64>,
}

/// Fresh scans (each at its own offline time, so each records new rows) from `workers` tasks
/// until `stop` is set.
async fn load(
    app: &TestApp,
    tokens: Vec<String>,
    code: String,
    workers: usize,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Vec<Answer> {
    let answers = Arc::new(Mutex::new(Vec::new()));
    let began = Instant::now();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let tokens = Arc::new(tokens);
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let (client, tokens, code, stop, answers) = (
            client.clone(),
            Arc::clone(&tokens),
            code.clone(),
            Arc::clone(&stop),
            Arc::clone(&answers),
        );
        let url = format!("{}/api/v1/check-ins", app.address);
        tasks.push(tokio::spawn(async move {
            let mut n = worker;
            // Stopped by the event's thread; and in any case after three minutes, so that an
            // event that failed (and panicked) cannot leave the load running for ever.
            while !stop.load(std::sync::atomic::Ordering::Relaxed)
                && began.elapsed() < Duration::from_secs(180)
            {
                n += workers;
                let token = &tokens[n % tokens.len()];
                // Each person at distinct minutes of the last 23 hours: a new check-in each time
                // (a repeat within a minute would answer an earlier one).
                let minute = (n / tokens.len()) % (23 * 60 - 2);
                let when = Utc::now() - chrono::Duration::seconds(120 + 60 * minute as i64);
                let sent = began.elapsed();
                let start = Instant::now();
                let response = client
                    .post(&url)
                    .bearer_auth(token)
                    .json(&json!({
                        "code": code,
                        "scanned_at": when.to_rfc3339(),
                        "location": {"lat": 25.2800, "lng": 112.5630},
                    }))
                    .send()
                    .await;
                let (status, check_in_id) = match response {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let body: serde_json::Value = response.json().await.unwrap_or_default();
                        (status, body["check_in_id"].as_i64())
                    }
                    Err(_) => (0, None),
                };
                let took = start.elapsed();
                answers.lock().unwrap().push(Answer {
                    sent,
                    took,
                    status,
                    check_in_id,
                });
                if status == 503 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    Arc::try_unwrap(answers).ok().unwrap().into_inner().unwrap()
}

/// What a run under an event showed.
#[derive(Debug)]
struct Outcome {
    acknowledged: usize,
    lost: usize,
    errors: usize,
    slowest: Duration,
    /// The longest time between two 201s.
    without_a_201: Duration,
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Recovery {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    standby: bool,
}

/// Whether the formation's URL reaches a node that takes writes.
fn takes_writes(url: &str) -> bool {
    diesel::PgConnection::establish(url)
        .ok()
        .and_then(|mut conn| {
            diesel::sql_query("SELECT pg_is_in_recovery() AS standby")
                .get_result::<Recovery>(&mut conn)
                .ok()
        })
        .is_some_and(|r| !r.standby)
}

/// Runs the load, does `event` after `after`, keeps loading until writes have been back for a
/// few seconds (at most `limit`), and checks every acknowledged check-in on the primary now.
async fn ride_through(event: &str, after: Duration, limit: Duration) -> Outcome {
    let mut held = FORMATION.lock().await;
    let url = database(&mut held).await;
    let app = spawn_app_with(&[
        ("DATABASE_URL", url.as_str()),
        ("DATABASE_POOL_SIZE", "8"),
        ("CHECKIN_HOURLY_LIMIT", "1000000"),
    ])
    .await;
    let venue = app.approved_venue().await;
    let mut tokens = Vec::new();
    for _ in 0..20 {
        tokens.push(app.new_resident().build().await.token);
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let events = {
        let url = url.clone();
        let event = event.to_owned();
        let stop = Arc::clone(&stop);
        tokio::task::spawn_blocking(move || {
            std::thread::sleep(after);
            let at = Instant::now();
            formation(&event);
            // Wait until the formation takes writes again, then a few seconds more of load.
            while at.elapsed() < limit && !takes_writes(&url) {
                std::thread::sleep(Duration::from_millis(200));
            }
            std::thread::sleep(Duration::from_secs(4));
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        })
    };
    let answers = load(&app, tokens, venue.code_url.clone(), 16, stop).await;
    events.await.unwrap();

    let acked: Vec<i64> = answers.iter().filter_map(|a| a.check_in_id).collect();
    let mut conn = diesel::PgConnection::establish(&url).expect("the new primary");
    let ids = acked
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let found = diesel::sql_query(format!(
        "SELECT COUNT(DISTINCT id) AS n FROM check_ins WHERE id IN ({ids})"
    ))
    .get_result::<Found>(&mut conn)
    .unwrap()
    .n as usize;
    let mut distinct = acked.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let mut times: Vec<Duration> = answers
        .iter()
        .filter(|a| a.status == 201)
        .map(|a| a.sent + a.took)
        .collect();
    times.sort_unstable();
    // Until the load stopped: writes that never came back count as one long gap.
    times.push(
        answers
            .iter()
            .map(|a| a.sent + a.took)
            .max()
            .unwrap_or_default(),
    );
    let outcome = Outcome {
        acknowledged: distinct.len(),
        lost: distinct.len() - found,
        errors: answers
            .iter()
            .filter(|a| a.status != 201 && a.status != 503)
            .count(),
        slowest: answers.iter().map(|a| a.took).max().unwrap_or_default(),
        without_a_201: times
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or_default(),
    };
    eprintln!("{event}: {outcome:?}");
    for a in answers
        .iter()
        .filter(|a| a.status != 201 && a.status != 503)
    {
        eprintln!("  {} after {:?}", a.status, a.sent);
    }
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_primarys_host_is_lost_under_load_and_nothing_acknowledged_is() {
    if !wanted() {
        return;
    }
    let outcome = ride_through("failover", Duration::from_secs(3), Duration::from_secs(40)).await;
    // The lost node comes back as the standby, for the next test.
    formation("rejoin");
    assert!(outcome.acknowledged > 100, "{outcome:?}");
    assert_eq!(outcome.lost, 0, "{outcome:?}");
    assert_eq!(
        outcome.errors, 0,
        "no 500, no answer but 201 or 503: {outcome:?}"
    );
    assert!(outcome.slowest <= Duration::from_secs(1), "{outcome:?}");
    assert!(
        outcome.without_a_201 <= Duration::from_secs(15),
        "{outcome:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_planned_switchover_loses_nothing_and_stops_writes_for_at_most_three_seconds() {
    if !wanted() {
        return;
    }
    let outcome = ride_through(
        "switchover",
        Duration::from_secs(3),
        Duration::from_secs(20),
    )
    .await;
    assert!(outcome.acknowledged > 100, "{outcome:?}");
    assert_eq!(outcome.lost, 0, "{outcome:?}");
    assert_eq!(outcome.errors, 0, "{outcome:?}");
    assert!(outcome.slowest <= Duration::from_secs(1), "{outcome:?}");
    assert!(
        outcome.without_a_201 <= Duration::from_secs(3),
        "{outcome:?}"
    );
}

/// Runs `sql` on the formation's standby (as its superuser).
fn on_standby(url: &str, sql: &str) {
    let mut conn = diesel::PgConnection::establish(url).expect("the standby");
    diesel::sql_query(sql).execute(&mut conn).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn visitor_lists_are_read_on_the_standby_until_it_lags_then_on_the_primary() {
    if !wanted() {
        return;
    }
    let mut held = FORMATION.lock().await;
    let url = database(&mut held).await;
    let standby = database_url_with_name(&formation("read-url"), url_database(&url));
    let app = spawn_app_with(&[
        ("DATABASE_URL", url.as_str()),
        ("DATABASE_READ_URL", standby.as_str()),
        ("READ_MAX_LAG_MS", "1000"),
    ])
    .await;
    let replica = app.state.replica.clone().expect("a standby for reads");
    let official = app.official(crate::helpers::LINWU).await;
    let venue = app.approved_venue().await;
    let enc = |t: chrono::DateTime<Utc>| t.to_rfc3339().replace('+', "%2B");
    let list = |at: chrono::DateTime<Utc>| {
        format!(
            "/api/v1/venues/{}/visitors?from={}&to={}",
            venue.id,
            enc(at - chrono::Duration::hours(1)),
            enc(at + chrono::Duration::minutes(1))
        )
    };
    let people = |list: serde_json::Value| list["people"].as_u64().unwrap();

    app.check_in(&app.resident("先到").await.token, &venue.code_url)
        .await;
    // Measured, and caught up: the list comes from the standby.
    let until = Instant::now() + Duration::from_secs(10);
    let mut seen = 0;
    while Instant::now() < until {
        let (before, _) = replica.reads();
        seen = people(app.read(&official, &list(Utc::now())).await);
        if replica.reads().0 > before && seen == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(seen, 1);
    let (on_standby_before, on_primary_before) = replica.reads();
    assert!(on_standby_before > 0, "the standby served the list");

    // The standby stops replaying: what is written now is not there.
    on_standby(&standby, "SELECT pg_wal_replay_pause()");
    app.check_in(&app.resident("后到").await.token, &venue.code_url)
        .await;
    let until = Instant::now() + Duration::from_secs(10);
    while replica.lag() <= 1000 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let lag = replica.lag();
    let seen = people(app.read(&official, &list(Utc::now())).await);
    on_standby(&standby, "SELECT pg_wal_replay_resume()");
    assert!(lag > 1000, "the standby lags: {lag} ms");
    assert_eq!(seen, 2, "the primary answered, with the newest check-in");
    let (on_standby_after, on_primary_after) = replica.reads();
    assert_eq!(on_standby_after, on_standby_before);
    assert!(on_primary_after > on_primary_before);
}

/// The database name of a URL.
fn url_database(url: &str) -> &str {
    let path = url.split('?').next().unwrap();
    &path[path.rfind('/').unwrap() + 1..]
}
