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
use venuecode::db::schema::{accounts, entrances, persons, venues};
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

    // Each person keeps to six venues near home (a window of the venue list), at any time of a
    // day. Written by the database itself, a million rows a statement (`fill_day`), with the
    // table's indexes dropped meanwhile and built again after: row-at-a-time through the library,
    // ten million took six minutes.
    let window_start = (now - Duration::days(DAYS))
        .date()
        .and_hms_opt(0, 0, 0)
        .expect("midnight");
    venuecode::db::partitions::ensure_range(&mut conn, window_start.date(), now.date())?;
    let contiguous = |ids: &[i64]| ids.last().map(|l| l - ids[0] + 1) == Some(ids.len() as i64);
    anyhow::ensure!(
        contiguous(&venue_ids) && contiguous(&entrance_ids) && contiguous(&person_ids),
        "the fill needs the venues, entrances and people numbered without gaps (an empty database)"
    );
    let started = Instant::now();
    let indexes = drop_indexes(&mut conn)?;
    let per_day = total.div_ceil(DAYS as usize);
    let mut written = 0usize;
    for day in 0..DAYS {
        let mut left = per_day.min(total - written);
        while left > 0 {
            let n = left.min(1_000_000);
            let fill = Fill {
                first_venue: venue_ids[0],
                first_entrance: entrance_ids[0],
                first_person: person_ids[0],
                venues: venue_ids.len() as i64,
                people: person_ids.len() as i64,
                day: window_start + Duration::days(day),
                rows: n,
            };
            fill.run(&mut conn)?;
            left -= n;
            written += n;
        }
    }
    let rows_at = started.elapsed().as_secs_f64();
    restore_indexes(&mut conn, &indexes)?;
    println!(
        "{backend}: {total} check-ins over {DAYS} days in {:.1} s (rows {rows_at:.1} s, indexes {:.1} s)",
        started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64() - rows_at,
    );
    let case_person = rng.gen_range(0..person_ids.len()) + 1;

    // A person's itinerary over the 14 days (the case's own check-ins; no account scanned them).
    let mut timings = Vec::new();
    let mut stops = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let rows = venuecode::db::check_ins::itinerary(
            &mut conn,
            0,
            Some(person_ids[case_person - 1]),
            window_start,
        )?;
        timings.push(started.elapsed().as_secs_f64() * 1000.0);
        stops = rows.len();
    }
    timings.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    println!(
        "{backend}: itinerary of one person over {DAYS} days: {stops} check-ins, median {:.1} ms (runs: {})",
        timings[1],
        timings.iter().map(|t| format!("{t:.1}")).collect::<Vec<_>>().join(", ")
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

/// One statement of check-ins on one day, by people chosen at random, each at one of the six
/// venues from its home onwards, with that venue's usual stay.
struct Fill {
    first_venue: i64,
    first_entrance: i64,
    first_person: i64,
    venues: i64,
    people: i64,
    day: chrono::NaiveDateTime,
    rows: usize,
}

impl Fill {
    fn run(&self, conn: &mut DbConnection) -> anyhow::Result<()> {
        let Fill {
            first_venue: v0,
            first_entrance: e0,
            first_person: p0,
            venues: v,
            people: p,
            rows: n,
            ..
        } = *self;
        let day = self.day.format("%Y-%m-%d %H:%M:%S");
        let stays: Vec<String> = KINDS.iter().map(|k| k.2.to_string()).collect();
        let columns = "venue_id, entrance_id, person_id, role, source, health_color, verdict, \
                       scanned_at, recorded_at, ends_at, offline, located";
        match conn {
            DbConnection::Postgresql(c) => {
                diesel::sql_query(format!(
                    "INSERT INTO check_ins ({columns}) \
                     SELECT {v0} + v, {e0} + v, {p0} + p, 'self', 'scan', 'green', 'pass', at, at, \
                            at + (ARRAY[{stays}])[v % {kinds} + 1] * interval '1 minute', false, false \
                     FROM (SELECT p, v, timestamp '{day}' + floor(random() * 86400) * interval '1 second' AS at \
                           FROM (SELECT p, (p * {v} / {p} + floor(random() * 6)::bigint) % {v} AS v \
                                 FROM (SELECT floor(random() * {p})::bigint AS p FROM generate_series(1, {n})) a) b) c",
                    stays = stays.join(","),
                    kinds = KINDS.len(),
                ))
                .execute(c)?;
            }
            DbConnection::Sqlite(c) => {
                let cases: String = stays
                    .iter()
                    .enumerate()
                    .map(|(k, stay)| format!(" WHEN {k} THEN {stay}"))
                    .collect();
                diesel::sql_query(format!(
                    "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}), \
                     a AS (SELECT abs(random()) % {p} AS p FROM s), \
                     b AS (SELECT p, (p * {v} / {p} + abs(random()) % 6) % {v} AS v, abs(random()) % 86400 AS sec FROM a) \
                     INSERT INTO check_ins ({columns}) \
                     SELECT {v0} + v, {e0} + v, {p0} + p, 'self', 'scan', 'green', 'pass', \
                            datetime('{day}', '+' || sec || ' seconds'), datetime('{day}', '+' || sec || ' seconds'), \
                            datetime('{day}', '+' || (sec + 60 * (CASE v % {kinds}{cases} END)) || ' seconds'), 0, 0 \
                     FROM b",
                    kinds = KINDS.len(),
                ))
                .execute(c)?;
            }
        }
        Ok(())
    }
}

/// The check-ins table's indexes (and on PostgreSQL its primary key), dropped: the statements
/// that make them again.
fn drop_indexes(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    #[derive(QueryableByName)]
    struct Made {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        sql: String,
    }
    match conn {
        DbConnection::Postgresql(c) => {
            let made: Vec<Made> = diesel::sql_query(
                "SELECT conname AS name, 'ALTER TABLE check_ins ADD CONSTRAINT ' || conname || ' ' \
                        || pg_get_constraintdef(oid) AS sql \
                 FROM pg_constraint WHERE conrelid = 'check_ins'::regclass AND contype = 'p'",
            )
            .load(c)?;
            let indexes: Vec<Made> = diesel::sql_query(
                "SELECT indexname AS name, indexdef AS sql FROM pg_indexes \
                 WHERE tablename = 'check_ins' AND indexname NOT IN \
                 (SELECT conname FROM pg_constraint WHERE conrelid = 'check_ins'::regclass)",
            )
            .load(c)?;
            for key in &made {
                diesel::sql_query(format!(
                    "ALTER TABLE check_ins DROP CONSTRAINT {}",
                    key.name
                ))
                .execute(c)?;
            }
            for index in &indexes {
                diesel::sql_query(format!("DROP INDEX {}", index.name)).execute(c)?;
            }
            // `pg_indexes` shows a partitioned table's index as made `ON ONLY` the table (that
            // form makes no index of its partitions).
            Ok(made
                .into_iter()
                .chain(indexes)
                .map(|m| m.sql.replace(" ON ONLY ", " ON "))
                .collect())
        }
        DbConnection::Sqlite(c) => {
            let indexes: Vec<Made> = diesel::sql_query(
                "SELECT name, sql FROM sqlite_master \
                 WHERE type = 'index' AND tbl_name = 'check_ins' AND sql IS NOT NULL",
            )
            .load(c)?;
            for index in &indexes {
                diesel::sql_query(format!("DROP INDEX {}", index.name)).execute(c)?;
            }
            Ok(indexes.into_iter().map(|m| m.sql).collect())
        }
    }
}

/// Makes the indexes again, then has the database gather its statistics.
fn restore_indexes(conn: &mut DbConnection, made: &[String]) -> anyhow::Result<()> {
    use diesel::connection::SimpleConnection;
    if let DbConnection::Postgresql(c) = conn {
        c.batch_execute(
            "SET maintenance_work_mem = '1GB'; SET max_parallel_maintenance_workers = 2;",
        )?;
    }
    venuecode::per_backend!(&mut *conn, |c| c
        .batch_execute(&format!("{}; ANALYZE;", made.join("; "))))?;
    Ok(())
}

/// A fresh folder for development secrets and the SQLite file, removed at exit by the OS temp
/// cleaner; the path is printed so it can be inspected.
fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("venuecode-trace-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
