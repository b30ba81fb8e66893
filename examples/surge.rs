//! Load in phases, for `bench/resilience.sh`: each phase keeps N connections busy with fresh
//! scans (the pairs `bench/seed_scans.py` wrote) for S seconds, and records every answer by kind
//! with its latency as the client saw it, so that shed requests (503 `overloaded`) and admitted
//! ones (201) are measured apart. A client that honours `Retry-After` waits that long after a 503
//! before its next request, as the mini-program does; `--naive` retries at once.
//!
//! Prints one line per second (epoch ms, and per kind the count and the slowest answer) and a
//! summary per phase.
//!
//! Usage: surge BASE PAIRS [--naive] PHASE...   with PHASE = name:connections:seconds[:pause_ms]
//! (`pause_ms` between one connection's requests: a probe that measures without adding load).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::Rng;

/// How an answer is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Admitted,
    Shed,
    DatabaseUnavailable,
    ServerError,
    Other,
    NoAnswer,
}

const KINDS: [Kind; 6] = [
    Kind::Admitted,
    Kind::Shed,
    Kind::DatabaseUnavailable,
    Kind::ServerError,
    Kind::Other,
    Kind::NoAnswer,
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Admitted => "201",
            Kind::Shed => "503_overloaded",
            Kind::DatabaseUnavailable => "503_database_unavailable",
            Kind::ServerError => "500",
            Kind::Other => "other",
            Kind::NoAnswer => "no_answer",
        }
    }
}

/// Latencies in microseconds, by second since the phase began and by kind.
type Record = BTreeMap<(u64, Kind), Vec<u32>>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    anyhow::ensure!(
        args.len() >= 3,
        "usage: surge BASE PAIRS [--naive] name:connections:seconds ..."
    );
    let (base, pairs_file) = (args[0].clone(), &args[1]);
    let naive = args.iter().any(|a| a == "--naive");
    let pairs: Arc<Vec<(String, String)>> = Arc::new(
        std::fs::read_to_string(pairs_file)?
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(t, c)| (t.to_owned(), c.to_owned()))
            .collect(),
    );
    let mut baseline_p99 = None;
    for phase in args[2..].iter().filter(|a| !a.starts_with("--")) {
        let mut parts = phase.split(':');
        let name = parts.next().unwrap_or("phase").to_owned();
        let connections: usize = parts.next().unwrap_or("32").parse()?;
        let seconds: u64 = parts.next().unwrap_or("10").parse()?;
        let pause = Duration::from_millis(parts.next().unwrap_or("0").parse()?);
        let record = run_phase(&base, &pairs, connections, seconds, naive, pause).await;
        let p99 = summarise(&name, connections, seconds, &record, baseline_p99);
        if baseline_p99.is_none() {
            baseline_p99 = p99;
        }
    }
    Ok(())
}

async fn run_phase(
    base: &str,
    pairs: &Arc<Vec<(String, String)>>,
    connections: usize,
    seconds: u64,
    naive: bool,
    pause: Duration,
) -> Record {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let record: Arc<Mutex<Record>> = Arc::default();
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let url = format!("{base}/api/v1/check-ins");
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, pairs, record, url) = (
            client.clone(),
            Arc::clone(pairs),
            Arc::clone(&record),
            url.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut mine: Record = BTreeMap::new();
            while Instant::now() < until {
                let (token, code, ago) = {
                    let mut rng = rand::thread_rng();
                    let (token, code) = &pairs[rng.gen_range(0..pairs.len())];
                    (token.clone(), code.clone(), rng.gen_range(60..23 * 3600))
                };
                let when = chrono::Utc::now() - chrono::Duration::seconds(ago);
                let body = format!(
                    r#"{{"code":"{code}","location":{{"lat":25.28,"lng":112.563}},"scanned_at":"{}"}}"#,
                    when.format("%Y-%m-%dT%H:%M:%SZ")
                );
                let sent = Instant::now();
                let answer = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                let (kind, retry_after) = match answer {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let retry_after = response
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.parse::<u64>().ok());
                        let text = response.text().await.unwrap_or_default();
                        let kind = match status {
                            201 => Kind::Admitted,
                            503 if text.contains("\"overloaded\"") => Kind::Shed,
                            503 if text.contains("\"database_unavailable\"") => {
                                Kind::DatabaseUnavailable
                            }
                            500..=599 => Kind::ServerError,
                            _ => Kind::Other,
                        };
                        (kind, retry_after)
                    }
                    Err(_) => (Kind::NoAnswer, None),
                };
                let took = sent.elapsed();
                let second = sent.duration_since(started).as_secs();
                mine.entry((second, kind))
                    .or_default()
                    .push(took.as_micros().min(u128::from(u32::MAX)) as u32);
                if kind == Kind::NoAnswer {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                } else if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                } else if let (false, Some(seconds)) = (naive, retry_after) {
                    tokio::time::sleep(Duration::from_secs(seconds)).await;
                }
            }
            let mut all = record.lock().unwrap();
            for (key, mut values) in mine {
                all.entry(key).or_default().append(&mut values);
            }
        }));
    }
    let epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        - started.elapsed().as_millis();
    for task in tasks {
        let _ = task.await;
    }
    let record = Arc::try_unwrap(record)
        .map(|m| m.into_inner().unwrap())
        .unwrap_or_default();
    // One line per second: when it began (epoch ms) and per kind the count and slowest answer.
    for second in 0..=seconds {
        let mut line = format!(
            "second {second} epoch_ms {}",
            epoch + u128::from(second) * 1000
        );
        for kind in KINDS {
            if let Some(values) = record.get(&(second, kind)) {
                let max = values.iter().max().copied().unwrap_or(0);
                line += &format!(
                    " {}={} (max {:.1} ms)",
                    kind.name(),
                    values.len(),
                    f64::from(max) / 1e3
                );
            }
        }
        println!("{line}");
    }
    record
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[at]) / 1e3
}

/// Prints the phase's summary; returns the p99 of admitted scans (ms).
fn summarise(
    name: &str,
    connections: usize,
    seconds: u64,
    record: &Record,
    baseline_p99: Option<f64>,
) -> Option<f64> {
    let mut by_kind: BTreeMap<Kind, Vec<u32>> = BTreeMap::new();
    for ((_, kind), values) in record {
        by_kind.entry(*kind).or_default().extend(values);
    }
    for values in by_kind.values_mut() {
        values.sort_unstable();
    }
    let admitted = by_kind.remove(&Kind::Admitted).unwrap_or_default();
    let shed = by_kind.remove(&Kind::Shed).unwrap_or_default();
    println!(
        "phase {name}: {connections} connections, {seconds} s: goodput {:.0}/s (201: {}), \
         admitted p50 {:.2} ms p99 {:.2} ms max {:.2} ms; shed {} ({:.0}/s) p50 {:.2} ms p99 {:.2} ms max {:.2} ms",
        admitted.len() as f64 / seconds as f64,
        admitted.len(),
        percentile(&admitted, 0.5),
        percentile(&admitted, 0.99),
        percentile(&admitted, 1.0),
        shed.len(),
        shed.len() as f64 / seconds as f64,
        percentile(&shed, 0.5),
        percentile(&shed, 0.99),
        percentile(&shed, 1.0),
    );
    for (kind, values) in &by_kind {
        println!(
            "phase {name}: {} {} (max {:.1} ms)",
            kind.name(),
            values.len(),
            percentile(values, 1.0)
        );
    }
    // How soon latency settles: each second's p99, and the p99 of the first two seconds against
    // that of the rest of the phase (the same load, once any backlog is gone).
    let per_second: Vec<f64> = (0..seconds)
        .map(|s| {
            let mut values = record
                .get(&(s, Kind::Admitted))
                .cloned()
                .unwrap_or_default();
            values.sort_unstable();
            percentile(&values, 0.99)
        })
        .collect();
    let span = |from: u64, to: u64| {
        let mut values: Vec<u32> = (from..to)
            .filter_map(|s| record.get(&(s, Kind::Admitted)))
            .flatten()
            .copied()
            .collect();
        values.sort_unstable();
        percentile(&values, 0.99)
    };
    println!(
        "phase {name}: p99 by second {:?} ms; first 2 s p99 {:.2} ms, rest p99 {:.2} ms; baseline p99 {}",
        per_second
            .iter()
            .map(|p| (p * 10.0).round() / 10.0)
            .collect::<Vec<_>>(),
        span(0, 2),
        span(2, seconds),
        baseline_p99.map_or("-".to_owned(), |p| format!("{p:.2} ms")),
    );
    (!admitted.is_empty()).then(|| percentile(&admitted, 0.99))
}
