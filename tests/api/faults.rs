//! Database faults fail fast and heal by themselves. PostgreSQL is reached through a TCP proxy
//! that the test cuts (every session ended, new ones refused, as a stopped server does) and
//! restores; SQLite's disk is "full" by a file size limit set on the real binary while it runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use venuecode::config::DatabaseUrl;

use crate::helpers::spawn_app;

/// What a database outage may make a request wait, at most.
const ANSWER_WITHIN: Duration = Duration::from_secs(1);

/// A TCP proxy in front of PostgreSQL that can be cut.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    sessions: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let sessions: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (flag, list) = (up.clone(), sessions.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if !flag.load(Ordering::SeqCst) {
                    drop(client); // refused: closed at once
                    continue;
                }
                let upstream = upstream.clone();
                list.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        Self { port, up, sessions }
    }

    /// Ends every session and refuses new ones.
    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for session in self.sessions.lock().unwrap().drain(..) {
            session.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// `host:port` of a PostgreSQL URL, and the URL with them replaced by the proxy's.
fn through_proxy(url: &str, port: u16) -> (String, String) {
    let rest = url.split_once("://").unwrap().1;
    let authority = rest.split(['/', '?']).next().unwrap();
    let host_port = authority.rsplit('@').next().unwrap();
    let upstream = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    let proxied = url.replacen(host_port, &format!("127.0.0.1:{port}"), 1);
    (upstream, proxied)
}

/// Sends `request`, measures how long the answer took; `None` when none came.
async fn timed(request: reqwest::RequestBuilder) -> (Option<(u16, Value)>, Duration) {
    let started = Instant::now();
    let answer = match request.timeout(Duration::from_secs(10)).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            Some((status, response.json().await.unwrap_or(Value::Null)))
        }
        Err(_) => None,
    };
    (answer, started.elapsed())
}

#[tokio::test]
async fn postgres_down_answers_503_within_a_second_and_service_resumes_when_it_is_back() {
    let app = spawn_app().await;
    let DatabaseUrl::Postgres(url) = app.settings.database.url.clone() else {
        return; // PostgreSQL only: the SQLite file cannot go away.
    };
    let venue = app.approved_venue().await;
    let resident = app.resident("断线者").await;
    let proxy = Proxy::start(through_proxy(&url, 0).0).await;
    let mut settings = app.settings.clone();
    settings.database.url = DatabaseUrl::Postgres(through_proxy(&url, proxy.port).1);
    let node = app.node_with(settings).await;
    let client = reqwest::Client::new();
    let scan = |k: i64| {
        // Each scan at another time within the offline window (however many the loop sends).
        let when = chrono::Utc::now() - chrono::Duration::seconds(300 + (150 * k) % (23 * 3600));
        client
            .post(format!("{}/api/v1/check-ins", node.address))
            .bearer_auth(&resident.token)
            .json(&json!({"code": venue.code_url, "scanned_at": when.to_rfc3339()}))
    };
    let (answer, _) = timed(scan(0)).await;
    assert_eq!(answer.unwrap().0, 201, "scans work before the outage");

    proxy.cut();
    let outage = Instant::now();
    let mut k = 1;
    let mut statuses = Vec::new();
    while outage.elapsed() < Duration::from_secs(3) {
        for request in [
            scan(k),
            client
                .get(format!("{}/api/v1/me/check-ins", node.address))
                .bearer_auth(&resident.token),
            client.get(format!("{}/readyz", node.address)),
        ] {
            let (answer, took) = timed(request).await;
            let (status, body) = answer.expect("every request is answered");
            assert!(
                took <= ANSWER_WITHIN,
                "answered after {took:?}: {status} {body}"
            );
            assert_eq!(status, 503, "{body}");
            assert_eq!(body["error"]["code"], "database_unavailable", "{body}");
            statuses.push(status);
        }
        k += 1;
    }
    assert!(statuses.len() >= 9);
    let text = client
        .get(format!("{}/metrics", node.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("venuecode_db_circuit_opened_total 1"),
        "{text}"
    );

    proxy.restore();
    let back = Instant::now();
    loop {
        let (answer, _) = timed(scan(k)).await;
        k += 1;
        if answer.is_some_and(|(status, _)| status == 201) {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(2),
            "scans did not resume within 2 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (ready, _) = timed(client.get(format!("{}/readyz", node.address))).await;
    assert_eq!(ready.unwrap().0, 200);
}

#[tokio::test]
async fn connections_the_server_ended_are_dropped_not_handed_out_again() {
    let app = spawn_app().await;
    if !app.database.is_postgres() {
        return;
    }
    let resident = app.resident("重连者").await;
    let itinerary = || app.get_as(&resident.token, "/api/v1/me/check-ins");
    assert_eq!(itinerary().await.status(), 200);
    terminate_sessions(&app);
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(itinerary().await.status().as_u16());
    }
    // A connection that was in use when its session ended fails its request once (503, never
    // 500) and is gone; no other request meets it.
    let failed = statuses.iter().take_while(|s| **s == 503).count();
    assert!(
        failed <= 4,
        "more 503s than pooled connections: {statuses:?}"
    );
    assert!(
        statuses[failed..].iter().all(|s| *s == 200),
        "a dead connection was used again: {statuses:?}"
    );

    // A pool left idle for a while pings before it hands a connection out: a restart during a
    // quiet spell costs no request.
    assert_eq!(itinerary().await.status(), 200);
    terminate_sessions(&app);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..5 {
        assert_eq!(itinerary().await.status(), 200);
    }
}

/// Ends every session of the app's database, as a server restart or a failover does.
fn terminate_sessions(app: &crate::helpers::TestApp) {
    use diesel::RunQueryDsl;
    let mut conn = app.database().get().unwrap();
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut *conn)
    .unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn sqlite_on_a_full_disk_answers_503_and_is_not_ready_then_recovers() {
    use std::os::unix::process::CommandExt;
    let app = spawn_app().await;
    if app.database.is_postgres() {
        return;
    }
    let venue = app.approved_venue().await;
    let resident = app.resident("满盘者").await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = app.command();
    command
        .arg("serve")
        .env("APP_PORT", port.to_string())
        .env("PUBLIC_BASE_URL", &app.settings.server.public_base_url)
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // A write past the file size limit then fails with EFBIG (as one on a full disk fails with
    // ENOSPC) instead of the signal ending the process.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut server = command.spawn().expect("the server starts");
    let pid = server.id() as libc::pid_t;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status().is_success() {
                ready = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(ready, "the server did not get ready");
    let scan = |k: i64| {
        // Each scan at another time within the offline window (however many the loop sends).
        let when = chrono::Utc::now() - chrono::Duration::seconds(300 + (150 * k) % (23 * 3600));
        client
            .post(format!("{base}/api/v1/check-ins"))
            .bearer_auth(&resident.token)
            .json(&json!({"code": venue.code_url, "scanned_at": when.to_rfc3339()}))
    };
    assert_eq!(timed(scan(0)).await.0.unwrap().0, 201);

    let limit = |bytes: libc::rlim_t| {
        let limit = libc::rlimit {
            rlim_cur: bytes,
            rlim_max: libc::RLIM_INFINITY,
        };
        let done = unsafe { libc::prlimit(pid, libc::RLIMIT_FSIZE, &limit, std::ptr::null_mut()) };
        assert_eq!(done, 0, "prlimit: {}", std::io::Error::last_os_error());
    };
    // No file of the server's may grow past 4 KiB now: the log cannot take another page.
    limit(4096);
    for k in 1..6 {
        let (answer, took) = timed(scan(k)).await;
        let (status, body) = answer.expect("answered");
        assert!(took <= ANSWER_WITHIN, "{took:?}");
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"]["code"], "database_unavailable", "{body}");
    }
    let (ready, took) = timed(client.get(format!("{base}/readyz"))).await;
    let (status, body) = ready.unwrap();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "database_unavailable");
    assert!(took <= ANSWER_WITHIN);
    // Reading still works.
    let (mine, _) = timed(
        client
            .get(format!("{base}/api/v1/me/check-ins"))
            .bearer_auth(&resident.token),
    )
    .await;
    assert_eq!(mine.unwrap().0, 200);

    // Space again: it recovers by itself.
    limit(libc::RLIM_INFINITY);
    assert_eq!(timed(scan(10)).await.0.unwrap().0, 201);
    assert_eq!(
        timed(client.get(format!("{base}/readyz")))
            .await
            .0
            .unwrap()
            .0,
        200
    );
    server.kill().unwrap();
    server.wait().unwrap();
}
