//! PostgreSQL keeps `check_ins` in one partition per (UTC) day of `scanned_at`: days ahead are created
//! before they come, and retention drops whole days instead of deleting their rows. SQLite keeps
//! one table; both functions do nothing there.

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::{DbConnection, DbError};

/// Days created ahead of today.
const DAYS_AHEAD: i64 = 3;

#[derive(QueryableByName)]
struct Partition {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

fn name_of(day: NaiveDate) -> String {
    format!("check_ins_{}", day.format("%Y%m%d"))
}

/// The day partitions there are, by day.
fn days(conn: &mut diesel::PgConnection) -> Result<Vec<(NaiveDate, String)>, DbError> {
    let partitions: Vec<Partition> = diesel::sql_query(
        "SELECT c.relname::text AS name FROM pg_inherits i \
         JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent \
         WHERE p.relname = 'check_ins'",
    )
    .load(conn)?;
    Ok(partitions
        .into_iter()
        .filter_map(|p| {
            let day =
                NaiveDate::parse_from_str(p.name.strip_prefix("check_ins_")?, "%Y%m%d").ok()?;
            Some((day, p.name))
        })
        .collect())
}

/// Creates the partitions of `today` and the days ahead that are missing.
pub fn ensure_days(conn: &mut DbConnection, today: NaiveDate) -> Result<(), DbError> {
    ensure_range(conn, today, today + Duration::days(DAYS_AHEAD))
}

/// Creates the partitions of the days from `first` to `last` that are missing (also days past,
/// for data loaded in bulk: a day's rows in the default partition would keep its own partition
/// from being made).
pub fn ensure_range(
    conn: &mut DbConnection,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<(), DbError> {
    let DbConnection::Postgresql(pg) = conn else {
        return Ok(());
    };
    let existing = days(pg)?;
    let mut day = first;
    while day <= last {
        let next = day + Duration::days(1);
        if !existing.iter().any(|(d, _)| *d == day) {
            diesel::sql_query(format!(
                "CREATE TABLE IF NOT EXISTS {} PARTITION OF check_ins FOR VALUES FROM ('{day}') TO ('{next}')",
                name_of(day)
            ))
            .execute(pg)?;
        }
        day = next;
    }
    Ok(())
}

/// Drops the partitions of days wholly before `cutoff`; the rows they held.
pub fn drop_days_before(conn: &mut DbConnection, cutoff: NaiveDate) -> Result<usize, DbError> {
    let DbConnection::Postgresql(pg) = conn else {
        return Ok(0);
    };
    let mut dropped = 0;
    for (day, name) in days(pg)? {
        if day + Duration::days(1) > cutoff {
            continue;
        }
        let count: Count =
            diesel::sql_query(format!("SELECT COUNT(*) AS rows FROM {name}")).get_result(pg)?;
        diesel::sql_query(format!("DROP TABLE {name}")).execute(pg)?;
        dropped += count.rows as usize;
    }
    Ok(dropped)
}
