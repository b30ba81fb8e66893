//! Trace benchmark: fills a database with a realistic load and times traces of a case.
//!
//!     cargo run --release --example trace_bench -- [check-ins] [venues] [people]
//!
//! Defaults: 1,000,000 check-ins over 14 days in 5,000 venues by 100,000 people, each person
//! keeping to a handful of venues near home. SQLite in a temporary folder unless DATABASE_URL
//! names another database (a PostgreSQL one must be empty; see bench/postgres.sh). Each trace is
//! the health official's use case itself: search, sealed storage and audit entry.

use std::time::Instant;

use chrono::{Duration, Utc};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use venuecode::auth::Staff;
use venuecode::config::Settings;
use venuecode::crypto::{Field, PiiCipher};
use venuecode::db::schema::{accounts, check_ins, entrances, persons, venues};
use venuecode::db::DbConnection;
use venuecode::domain::{IdNumber, RegionCode, StaffRole};
use venuecode::services;
use venuecode::services::traces::TraceQuery;
use venuecode::startup;

/// (subtype, default stay in minutes) of the venues made.
const KINDS: &[(&str, &str, i64)] = &[
    ("daily_shopping", "supermarket", 45),
    ("lodging_dining", "restaurant", 120),
    ("medical_transport", "pharmacy", 15),
    ("daily_shopping", "bank", 30),
    ("entertainment_leisure", "cinema", 150),
    ("medical_transport", "hospital", 120),
];
const DAYS: i64 = 14;
const BATCH: usize = 1_000;

/// A valid resident ID number, different for each `n` below 20,000,000.
fn id_number(n: u64) -> String {
    let birth = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).expect("a date")
        + Duration::days((n % 20_000) as i64);
    let body = format!("431025{}{:03}", birth.format("%Y%m%d"), n / 20_000 % 1_000);
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(weights)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    format!("{body}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let total = args.first().copied().unwrap_or(1_000_000) as usize;
    let venue_count = args.get(1).copied().unwrap_or(5_000) as usize;
    let people = args.get(2).copied().unwrap_or(100_000) as usize;

    let dir = tempfile_dir()?;
    let data_dir = dir.to_string_lossy().into_owned();
    let database_url =
        std::env::var("DATABASE_URL").unwrap_or_else(|_| format!("{data_dir}/trace-bench.db"));
    let settings = Settings::load(|name| match name {
        "DATA_DIR" => Some(data_dir.clone()),
        "DATABASE_URL" => Some(database_url.clone()),
        "DATABASE_POOL_SIZE" => Some("2".into()),
        _ => None,
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let backend = settings.database.url.backend_name();
    let state = startup::offline_state(settings.clone()).await?;
    let mut conn = state.db.get()?;
    let cipher = PiiCipher::from_ring(&settings.keys.pii_keys);
    let mut rng = StdRng::seed_from_u64(2022);

    let started = Instant::now();
    let now = Utc::now().naive_utc();
    let account: i64 =
        venuecode::per_backend!(&mut *conn, |c| diesel::insert_into(accounts::table)
            .values((
                accounts::platform.eq("wechat"),
                accounts::subject.eq("trace-bench-manager"),
                accounts::created_at.eq(now),
                accounts::last_login_at.eq(now),
            ))
            .returning(accounts::id)
            .get_result(c))?;
    let sealed_manager = (
        cipher.seal(Field::Name, "王建国"),
        cipher.seal(Field::IdNumber, &id_number(0)),
        cipher.seal(Field::Phone, "13907351234"),
    );
    let mut venue_ids = Vec::with_capacity(venue_count);
    let mut stays = Vec::with_capacity(venue_count);
    for chunk in (0..venue_count).collect::<Vec<_>>().chunks(BATCH) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|i| {
                let (category, subtype, _) = KINDS[i % KINDS.len()];
                (
                    venues::manager_account_id.eq(account),
                    venues::manager_name_sealed.eq(sealed_manager.0.clone()),
                    venues::manager_id_number_sealed.eq(sealed_manager.1.clone()),
                    venues::manager_id_number_hash.eq("bench"),
                    venues::manager_phone_sealed.eq(sealed_manager.2.clone()),
                    venues::manager_phone_hash.eq("bench"),
                    venues::name.eq(format!("压力测试场所{i}")),
                    venues::category.eq(category),
                    venues::subtype.eq(subtype),
                    venues::region_code.eq("431025100"),
                    venues::address.eq("解放路"),
                    venues::lat.eq(25.28),
                    venues::lng.eq(112.56),
                    venues::status.eq("approved"),
                    venues::created_at.eq(now),
                    venues::updated_at.eq(now),
                )
            })
            .collect();
        let ids: Vec<i64> =
            venuecode::per_backend!(&mut *conn, |c| diesel::insert_into(venues::table)
                .values(&rows)
                .returning(venues::id)
                .get_results(c))?;
        for (id, i) in ids.iter().zip(chunk) {
            venue_ids.push(*id);
            stays.push(KINDS[i % KINDS.len()].2);
        }
    }
    let mut entrance_ids = Vec::with_capacity(venue_count);
    for chunk in venue_ids.chunks(BATCH) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|v| {
                (
                    entrances::venue_id.eq(*v),
                    entrances::name.eq("正门"),
                    entrances::description.eq(""),
                    entrances::code_version.eq(1),
                    entrances::created_at.eq(now),
                    entrances::updated_at.eq(now),
                )
            })
            .collect();
        let ids: Vec<i64> =
            venuecode::per_backend!(&mut *conn, |c| diesel::insert_into(entrances::table)
                .values(&rows)
                .returning(entrances::id)
                .get_results(c))?;
        entrance_ids.extend(ids);
    }
    let mut person_ids = Vec::with_capacity(people);
    for chunk in (0..people).collect::<Vec<_>>().chunks(BATCH) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|i| {
                let id_number = id_number(*i as u64 + 1);
                (
                    persons::id_number_hash.eq(cipher.lookup_hash(Field::IdNumber, &id_number)),
                    persons::id_number_sealed.eq(cipher.seal(Field::IdNumber, &id_number)),
                    persons::name_sealed.eq(cipher.seal(Field::Name, &format!("居民{i}"))),
                    persons::phone_sealed
                        .eq(Some(cipher.seal(Field::Phone, &format!("138{:08}", i)))),
                    persons::created_at.eq(now),
                    persons::updated_at.eq(now),
                )
            })
            .collect();
        let ids: Vec<i64> =
            venuecode::per_backend!(&mut *conn, |c| diesel::insert_into(persons::table)
                .values(&rows)
                .returning(persons::id)
                .get_results(c))?;
        person_ids.extend(ids);
    }
    println!(
        "{backend}: {venue_count} venues and {people} people in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Each person keeps to six venues near home (a window of the venue list).
    let started = Instant::now();
    let window_start = now - Duration::days(DAYS);
    venuecode::db::partitions::ensure_range(&mut conn, window_start.date(), now.date())?;
    let mut written = 0usize;
    let mut case_person = 1usize;
    while written < total {
        let count = BATCH.min(total - written);
        let rows: Vec<_> = (0..count)
            .map(|_| {
                let p = rng.gen_range(0..person_ids.len());
                let home = p * venue_ids.len() / person_ids.len();
                let v = (home + rng.gen_range(0..6)) % venue_ids.len();
                let at = window_start + Duration::seconds(rng.gen_range(0..DAYS * 86_400));
                (
                    check_ins::venue_id.eq(venue_ids[v]),
                    check_ins::entrance_id.eq(entrance_ids[v]),
                    check_ins::person_id.eq(person_ids[p]),
                    check_ins::role.eq("self"),
                    check_ins::source.eq("scan"),
                    check_ins::health_color.eq("green"),
                    check_ins::verdict.eq("pass"),
                    check_ins::scanned_at.eq(at),
                    check_ins::recorded_at.eq(at),
                    check_ins::ends_at.eq(at + Duration::minutes(stays[v])),
                    check_ins::offline.eq(false),
                    check_ins::located.eq(false),
                )
            })
            .collect();
        venuecode::per_backend!(&mut *conn, |c| diesel::insert_into(check_ins::table)
            .values(&rows)
            .execute(c))?;
        written += count;
        if written == total / 2 {
            case_person = rng.gen_range(0..person_ids.len()) + 1;
        }
    }
    if let DbConnection::Postgresql(pg) = &mut *conn {
        diesel::sql_query("ANALYZE").execute(pg)?;
    }
    println!(
        "{backend}: {total} check-ins over {DAYS} days in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // A venue's visitor list for a 4-hour window: its stays in the window and who they were.
    let busiest = venue_ids[0];
    let mut timings = Vec::new();
    let mut visitors = 0;
    for day in 1..=3 {
        let from = now - Duration::days(day) - Duration::hours(4);
        let started = Instant::now();
        let stays = venuecode::db::check_ins::stays_overlapping(
            &mut conn,
            busiest,
            from,
            from + Duration::hours(4),
            Duration::hours(24),
        )?;
        let ids: Vec<i64> = stays.iter().map(|s| s.person_id).collect();
        let people: Vec<(i64, String, String)> = persons::table
            .filter(persons::id.eq_any(&ids))
            .select((persons::id, persons::name_sealed, persons::id_number_sealed))
            .load(&mut *conn)?;
        for (_, name, id_number) in &people {
            cipher.open(Field::Name, name)?;
            cipher.open(Field::IdNumber, id_number)?;
        }
        timings.push(started.elapsed().as_secs_f64() * 1000.0);
        visitors = stays.len();
    }
    timings.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    println!(
        "{backend}: visitor list of one venue for 4 hours: {visitors} stays, median {:.1} ms (runs: {})",
        timings[1],
        timings.iter().map(|t| format!("{t:.1}")).collect::<Vec<_>>().join(", ")
    );

    drop(conn);
    let official = services::staff::create_account(
        &state,
        &services::staff::Operator::CommandLine,
        "trace-bench",
        StaffRole::HealthOfficial,
        "431025",
        "trace bench official password",
    )
    .await?;
    let official = Staff {
        id: official.id,
        role: official.role,
        region: RegionCode::parse("431025").expect("a county code"),
        session: venuecode::auth::new_session_id(),
    };
    for depth in [1u8, 2] {
        let mut timings = Vec::new();
        let mut contacts = 0;
        for _ in 0..3 {
            let query = TraceQuery {
                document: IdNumber::parse(&id_number(case_person as u64))?.into(),
                from: window_start,
                to: now,
                depth,
            };
            let started = Instant::now();
            let trace = services::traces::create(&state, &official, query).await?;
            timings.push(started.elapsed().as_secs_f64() * 1000.0);
            contacts = trace.contacts.len();
        }
        timings.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
        println!(
            "{backend}: trace over {DAYS} days, depth {depth}: {contacts} contact rows, median {:.0} ms (runs: {})",
            timings[1],
            timings.iter().map(|t| format!("{t:.0}")).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(())
}

/// A fresh folder for development secrets and the SQLite file, removed at exit by the OS temp
/// cleaner; the path is printed so it can be inspected.
fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("venuecode-trace-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
