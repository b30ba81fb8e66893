//! A hot standby for reads that may be a few seconds behind (`DATABASE_READ_URL`): visitor lists,
//! dashboards, the itinerary, exports and audit reading. Its replay lag is measured every half
//! second; while it is under `READ_MAX_LAG_MS` those reads go to the standby, otherwise (lagging,
//! unreachable, not measured yet) to the primary. The scan and every write never come here.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::{QueryableByName, RunQueryDsl};

use super::{Database, DatabaseUrl, DbConnection, DbError};

/// How often the standby's lag is measured.
pub const LAG_EVERY: Duration = Duration::from_millis(500);

pub struct Replica {
    db: Database,
    max_lag_ms: i64,
    /// The replay lag last measured; `UNKNOWN` when it could not be.
    lag_ms: AtomicI64,
    /// When it was measured (ms since `born`): a measurement older than two periods (a standby
    /// that hangs) counts as unknown.
    measured_ms: AtomicI64,
    born: Instant,
    reads_replica: AtomicU64,
    reads_primary: AtomicU64,
}

const UNKNOWN: i64 = -1;

#[derive(QueryableByName)]
struct Lag {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    lag_ms: Option<i64>,
}

/// The standby's replay lag: none while it has replayed all it received, else how long ago the
/// last transaction it replayed was committed. `None` when it is no standby, replayed nothing yet,
/// or is not streaming from a primary now (having replayed all it received then says nothing of
/// what it missed). The database user needs `pg_read_all_stats` (or `pg_monitor`) to see that.
fn lag_ms(conn: &mut DbConnection) -> Result<Option<i64>, DbError> {
    let DbConnection::Postgresql(conn) = conn else {
        return Ok(None);
    };
    let lag = diesel::sql_query(
        "SELECT CASE \
           WHEN NOT pg_is_in_recovery() THEN NULL \
           WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') \
             THEN NULL \
           WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 \
           ELSE (EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint \
         END AS lag_ms",
    )
    .get_result::<Lag>(conn)?;
    Ok(lag.lag_ms)
}

/// Whether a standby `lag` behind may serve a read that tolerates `max`.
pub fn fresh_enough(lag: i64, max: i64) -> bool {
    (0..=max).contains(&lag)
}

impl Replica {
    /// The standby's pool; no connection is opened yet (a standby that is down does not stop the
    /// start: reads go to the primary until it answers).
    pub fn new(url: &DatabaseUrl, pool_size: u32, max_lag_ms: u64) -> Self {
        Self {
            db: Database::lazy(url, pool_size),
            max_lag_ms: i64::try_from(max_lag_ms).unwrap_or(i64::MAX),
            lag_ms: AtomicI64::new(UNKNOWN),
            measured_ms: AtomicI64::new(0),
            born: Instant::now(),
            reads_replica: AtomicU64::new(0),
            reads_primary: AtomicU64::new(0),
        }
    }

    /// Measures the lag now (blocking).
    pub fn measure(&self) {
        let lag = self
            .db
            .get()
            .and_then(|mut conn| lag_ms(&mut conn))
            .ok()
            .flatten();
        self.lag_ms.store(lag.unwrap_or(UNKNOWN), Ordering::Relaxed);
        self.measured_ms.store(self.age_ms(), Ordering::Relaxed);
    }

    fn age_ms(&self) -> i64 {
        i64::try_from(self.born.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    /// The lag last measured, in milliseconds; `-1` when unknown or not measured lately.
    pub fn lag(&self) -> i64 {
        let stale = self.age_ms() - self.measured_ms.load(Ordering::Relaxed)
            > 2 * LAG_EVERY.as_millis() as i64 + 1000;
        if stale {
            UNKNOWN
        } else {
            self.lag_ms.load(Ordering::Relaxed)
        }
    }

    /// (reads served by the standby, reads sent to the primary instead).
    pub fn reads(&self) -> (u64, u64) {
        (
            self.reads_replica.load(Ordering::Relaxed),
            self.reads_primary.load(Ordering::Relaxed),
        )
    }

    /// Runs `work` on the standby when it is fresh enough and a connection is at hand (blocking);
    /// otherwise gives `work` back for the primary.
    pub fn try_run<T, F>(&self, work: F) -> Result<T, F>
    where
        F: FnOnce(&mut DbConnection) -> T,
    {
        if fresh_enough(self.lag(), self.max_lag_ms) {
            if let Ok(mut conn) = self.db.get() {
                self.reads_replica.fetch_add(1, Ordering::Relaxed);
                return Ok(work(&mut conn));
            }
            self.lag_ms.store(UNKNOWN, Ordering::Relaxed);
        }
        self.reads_primary.fetch_add(1, Ordering::Relaxed);
        Err(work)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_standby_serves_only_while_its_lag_is_known_and_small() {
        assert!(fresh_enough(0, 2000));
        assert!(fresh_enough(2000, 2000));
        assert!(!fresh_enough(2001, 2000));
        assert!(!fresh_enough(UNKNOWN, 2000));
    }
}
