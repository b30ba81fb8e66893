//! PostgreSQL backups restore (`deploy/backup.sh`): a cluster of its own archives every WAL
//! segment, a base backup is taken while the server writes, and a restore to a point in time holds
//! exactly the check-ins committed before it. Runs with the formation tests (`FORMATION_TESTS=1`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::{Connection, QueryableByName, RunQueryDsl};

use crate::helpers::spawn_app_with;

const PGBIN: &str = "/usr/lib/postgresql/15/bin";

fn root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// Runs `program` of PostgreSQL (as `postgres` when this is root); its standard output.
fn as_postgres(program: &str, args: &[&str]) -> String {
    let mut command = if root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", program]);
        c
    } else {
        Command::new(program)
    };
    let out = command.args(args).output().expect("runs");
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn script(args: &[&str]) -> String {
    let out = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/backup.sh"))
        .args(args)
        .output()
        .expect("bash runs deploy/backup.sh");
    assert!(
        out.status.success(),
        "backup.sh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A PostgreSQL server of this test's own; stopped when dropped.
struct Cluster {
    data: PathBuf,
    port: u16,
}

impl Cluster {
    fn start(data: &Path) -> Self {
        let port = free_port();
        let socket = data.parent().unwrap().to_string_lossy().into_owned();
        let log = format!("{}.log", data.to_string_lossy());
        let started = std::panic::catch_unwind(|| {
            as_postgres(
                &format!("{PGBIN}/pg_ctl"),
                &[
                    "-D",
                    &data.to_string_lossy(),
                    "-l",
                    &log,
                    "-w",
                    "-o",
                    &format!("-p {port} -k {socket} -c listen_addresses=127.0.0.1"),
                    "start",
                ],
            )
        });
        if started.is_err() {
            panic!("{}", std::fs::read_to_string(&log).unwrap_or_default());
        }
        Self {
            data: data.to_owned(),
            port,
        }
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(if root() { "runuser" } else { "env" })
            .args(if root() {
                vec!["-u", "postgres", "--"]
            } else {
                vec![]
            })
            .arg(format!("{PGBIN}/pg_ctl"))
            .args([
                "-D",
                &self.data.to_string_lossy(),
                "-m",
                "immediate",
                "stop",
            ])
            .output();
    }
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn number(url: &str, sql: &str) -> i64 {
    let mut conn = diesel::PgConnection::establish(url).unwrap();
    diesel::sql_query(sql)
        .get_result::<Number>(&mut conn)
        .unwrap()
        .n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_to_a_point_in_time_holds_exactly_the_check_ins_before_it() {
    if std::env::var("FORMATION_TESTS").as_deref() != Ok("1") {
        eprintln!("FORMATION_TESTS is not 1: the backup restore test is skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    if root() {
        Command::new("chown")
            .args(["postgres:", &dir.path().to_string_lossy()])
            .status()
            .unwrap();
    }
    let archive = dir.path().join("archive");
    let data = dir.path().join("data");
    as_postgres(
        &format!("{PGBIN}/initdb"),
        &[
            "-D",
            &data.to_string_lossy(),
            "-U",
            "postgres",
            "--auth=trust",
        ],
    );
    let settings = script(&["settings", &archive.to_string_lossy()]);
    let conf = data.join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str(&settings);
    std::fs::write(&conf, text).unwrap();
    let cluster = Cluster::start(&data);
    {
        let mut admin = diesel::PgConnection::establish(&cluster.url("postgres")).unwrap();
        diesel::sql_query("CREATE DATABASE venuecode")
            .execute(&mut admin)
            .unwrap();
    }
    let url = cluster.url("venuecode");
    let app = spawn_app_with(&[("DATABASE_URL", url.as_str())]).await;
    let venue = app.approved_venue().await;
    let scan = |n: usize| {
        let app = &app;
        let code = venue.code_url.clone();
        async move {
            let mut ids = Vec::new();
            for _ in 0..n {
                let token = app.new_resident().build().await.token;
                ids.push(
                    app.check_in(&token, &code).await["check_in_id"]
                        .as_i64()
                        .unwrap(),
                );
            }
            ids
        }
    };

    let before_base = scan(3).await;
    let base = script(&["base", &cluster.url("postgres"), &archive.to_string_lossy()]);
    assert!(Path::new(&base).join("PG_VERSION").exists());
    let after_base = scan(3).await;
    // The point in time: a whole second after those committed, and a second before the next.
    let target = (Utc::now() + chrono::Duration::seconds(1)).format("%Y-%m-%dT%H:%M:%SZ");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let too_late = scan(3).await;
    let archived = number(&url, "SELECT archived_count AS n FROM pg_stat_archiver");
    number(&url, "SELECT 1::bigint AS n FROM pg_switch_wal()");
    let until = Instant::now() + Duration::from_secs(30);
    while number(&url, "SELECT archived_count AS n FROM pg_stat_archiver") <= archived {
        assert!(Instant::now() < until, "the WAL segment was never archived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let restored_data = dir.path().join("restored");
    script(&[
        "restore",
        &archive.to_string_lossy(),
        &target.to_string(),
        &restored_data.to_string_lossy(),
    ]);
    let restored = Cluster::start(&restored_data);
    let restored_url = restored.url("venuecode");
    let until = Instant::now() + Duration::from_secs(60);
    while number(
        &restored_url,
        "SELECT (CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END)::bigint AS n",
    ) == 1
    {
        assert!(Instant::now() < until, "the restore never finished");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let count = |ids: &[i64]| {
        let ids = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        number(
            &restored_url,
            &format!("SELECT COUNT(*) AS n FROM check_ins WHERE id IN ({ids})"),
        )
    };
    assert_eq!(count(&before_base), 3, "in the base backup");
    assert_eq!(count(&after_base), 3, "replayed from the archive");
    assert_eq!(count(&too_late), 0, "committed after the point in time");
    drop(restored);
    drop(cluster);
}
