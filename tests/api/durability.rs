//! Acknowledged means stored: the real binary, killed with SIGKILL while scans pour in, keeps
//! every check-in it answered 201 for (`bench/kill.sh` does the same many times over under wrk).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::helpers::spawn_app;

/// Acknowledgements to wait for before the kill.
const ACKED_BEFORE_KILL: usize = 300;

#[tokio::test]
async fn every_acknowledged_scan_survives_a_kill() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let mut tokens = Vec::new();
    for _ in 0..16 {
        tokens.push(app.resident("排队者").await.token);
    }

    // A second server on the same database, as its own process, so that it can be killed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = app
        .command()
        .arg("serve")
        .env("APP_PORT", port.to_string())
        .env("PUBLIC_BASE_URL", &app.settings.server.public_base_url)
        .env("CHECKIN_HOURLY_LIMIT", "1000000")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the server starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            ready = r.status().is_success();
            if ready {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(ready, "the server did not get ready");

    // Each resident scans again and again, each time at another offline time (a new check-in),
    // until the server is gone.
    let acked = Arc::new(Mutex::new(Vec::<i64>::new()));
    let enough = Arc::new(Notify::new());
    let gone = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for (n, token) in tokens.into_iter().enumerate() {
        let (client, base, code) = (client.clone(), base.clone(), venue.code_url.clone());
        let (acked, enough, gone) = (acked.clone(), enough.clone(), gone.clone());
        load.push(tokio::spawn(async move {
            for k in 0i64.. {
                let when = Utc::now() - Duration::minutes(2 + (k * 16 + n as i64) * 2 % 1380);
                let sent = client
                    .post(format!("{base}/api/v1/check-ins"))
                    .bearer_auth(&token)
                    .json(&json!({"code": code, "scanned_at": when.to_rfc3339()}))
                    .send()
                    .await;
                let Ok(response) = sent else { break };
                if response.status().as_u16() != 201 {
                    // Only a dying server may answer otherwise.
                    let status = response.status();
                    let body = response.text().await.unwrap_or_default();
                    assert!(gone.load(Ordering::SeqCst), "{status} {body}");
                    break;
                }
                let Ok(page) = response.json::<Value>().await else {
                    break;
                };
                let mut acked = acked.lock().unwrap();
                acked.push(page["check_in_id"].as_i64().unwrap());
                if acked.len() == ACKED_BEFORE_KILL {
                    enough.notify_one();
                }
            }
        }));
    }
    // Every task ends only once the server is gone, or by failing the test.
    let all_done = futures_util::future::join_all(load);
    tokio::pin!(all_done);
    let ended = tokio::select! {
        _ = enough.notified() => None,
        ended = &mut all_done => Some(ended),
    };
    if let Some(ended) = ended {
        let _ = server.kill();
        for task in ended {
            task.unwrap();
        }
        panic!("the load ended before {ACKED_BEFORE_KILL} acknowledgements");
    }
    gone.store(true, Ordering::SeqCst);
    server.kill().expect("SIGKILL");
    server.wait().unwrap();
    for task in all_done.await {
        task.unwrap();
    }

    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= ACKED_BEFORE_KILL);
    use venuecode::db::schema::check_ins;
    let mut conn = app.database().get().unwrap();
    let stored: i64 = check_ins::table
        .filter(check_ins::id.eq_any(&acked))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(stored as usize, acked.len(), "acknowledged check-ins lost");
}
