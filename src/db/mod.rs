//! Storage: one connection type over SQLite (the embedded default) and PostgreSQL, an r2d2 pool,
//! embedded migrations per backend, and one module per table group.
//!
//! Diesel is blocking, so handlers reach the database only through [`Database::run`], which runs
//! the closure (pool checkout included) on the blocking thread pool, never on an async worker.

pub mod accounts;
pub mod alerts;
pub mod audit;
pub mod backup;
pub mod changes;
mod check_in_batch;
pub mod check_in_row;
pub mod check_in_writer;
pub mod check_ins;
mod check_ins_pg;
pub mod circuit;
pub mod companions;
pub mod entrances;
pub mod follow_ups;
pub mod health_code_imports;
pub mod health_codes;
pub mod idempotency;
pub mod identity_verifications;
pub mod notifications;
pub mod paper_codes;
pub mod partitions;
pub mod persons;
pub mod regions;
pub mod replica;
pub mod reseal;
pub mod retention;
pub mod risk_windows;
pub mod schema;
pub mod staff;
pub mod test_results;
pub mod traces;
mod types;
pub mod venue_staff;
pub mod venues;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseUrl;
use circuit::Circuit;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Runs `$body` with `$conn` bound to the concrete backend connection. The body is compiled once
/// per backend, so backend-only features (RETURNING, upserts) type-check against each of them.
#[macro_export]
macro_rules! per_backend {
    ($connection:expr, |$conn:ident| $body:expr) => {
        match $connection {
            $crate::db::DbConnection::Postgresql($conn) => $body,
            $crate::db::DbConnection::Sqlite($conn) => $body,
        }
    };
}

/// A connection checked out of the pool; it goes back when dropped (unless it broke).
pub struct PooledConnection(r2d2::PooledConnection<ConnectionManager>);

impl std::ops::Deref for PooledConnection {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.0.conn
    }
}

impl std::ops::DerefMut for PooledConnection {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.0.conn
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database cannot be reached or cannot write: the server is down or refuses
    /// connections, a connection broke, the disk is full, the file is read-only. Clients may
    /// retry; the node is not ready meanwhile.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database is fine but every connection is busy (the pool stayed exhausted, or SQLite
    /// stayed locked past its busy timeout): the node has more work than it can take.
    #[error("database busy: {0}")]
    Busy(String),
    #[error(transparent)]
    Query(diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("{0}")]
    Other(String),
}

impl DbError {
    /// A unique constraint refused the write: another request got there first.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// SQLite's messages for a write the disk or file refused (`SQLITE_FULL`, `SQLITE_READONLY`,
/// `SQLITE_IOERR`, `SQLITE_CANTOPEN`): the data is intact, but nothing can be written until an
/// operator acts.
const SQLITE_CANNOT_WRITE: &[&str] = &[
    "database or disk is full",
    "attempt to write a readonly database",
    "disk I/O error",
    "unable to open database file",
];

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &e {
            // SQLite reports a write lock held past busy_timeout as an unknown database error.
            Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if info.message().contains("database is locked") =>
            {
                DbError::Busy(info.message().to_owned())
            }
            Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if SQLITE_CANNOT_WRITE
                    .iter()
                    .any(|m| info.message().contains(m)) =>
            {
                DbError::Unavailable(info.message().to_owned())
            }
            // PostgreSQL: the connection broke, or could not send ("no connection to the
            // server"), or the server is in read-only mode (a standby, a full disk).
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection
                | DatabaseErrorKind::UnableToSendCommand
                | DatabaseErrorKind::ReadOnlyTransaction,
                info,
            ) => DbError::Unavailable(info.message().to_owned()),
            _ => DbError::Query(e),
        }
    }
}

/// Opens connections for the pool, choosing the backend from the URL and preparing each
/// SQLite connection (WAL, foreign keys, busy timeout).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    /// Counts connections found broken. A pooled connection checked before the latest break is
    /// pinged once when next handed out (the others may have died with it: a restarted server
    /// ends every session); otherwise none is pinged.
    breaks: Arc<AtomicU64>,
}

/// A pooled connection, with what the pool knows of its health.
pub struct PoolConnection {
    conn: DbConnection,
    /// `breaks` when it was last known good.
    checked: u64,
    /// When it last answered: one idle for longer is pinged before it is handed out (a server
    /// restarted meanwhile ended it).
    answered: std::time::Instant,
    /// It failed while in use: dropped when returned, never handed out again.
    broken: bool,
}

/// A pooled connection idle this long is pinged before it is handed out.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);
/// Seconds libpq waits for a PostgreSQL server to accept a connection, unless the URL says.
const PG_CONNECT_TIMEOUT_SECS: u32 = 2;
/// How long an SQLite statement waits for another connection's write lock.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 1000;

impl ConnectionManager {
    fn open(&self) -> Result<DbConnection, ConnectionError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let url = if url.contains("connect_timeout=") {
                    url.clone()
                } else {
                    let joint = if url.contains('?') { '&' } else { '?' };
                    format!("{url}{joint}connect_timeout={PG_CONNECT_TIMEOUT_SECS}")
                };
                diesel::PgConnection::establish(&url)
                    .map(DbConnection::Postgresql)
                    .map_err(ConnectionError::Establish)
            }
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_string_lossy();
                let mut conn = diesel::SqliteConnection::establish(&path)
                    .map_err(ConnectionError::Establish)?;
                // WAL with NORMAL sync: a commit survives the process being killed (the WAL is
                // written before the commit returns), not a power cut. 16 MiB of page cache and
                // 256 MiB of the file mapped per connection.
                conn.batch_execute(&format!(
                    "PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};
                     PRAGMA cache_size = -16384;
                     PRAGMA mmap_size = 268435456;"
                ))
                .map_err(ConnectionError::Prepare)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("cannot connect: {0}")]
    Establish(diesel::ConnectionError),
    #[error("cannot prepare the connection: {0}")]
    Prepare(diesel::result::Error),
    #[error("connection broken: {0}")]
    Broken(diesel::result::Error),
}

impl ManageConnection for ConnectionManager {
    type Connection = PoolConnection;
    type Error = ConnectionError;

    fn connect(&self) -> Result<PoolConnection, ConnectionError> {
        Ok(PoolConnection {
            conn: self.open()?,
            checked: self.breaks.load(Ordering::Acquire),
            answered: std::time::Instant::now(),
            broken: false,
        })
    }

    /// Pings only a connection that was idle when another one broke, or idle for a while: a
    /// busy pool hands out its connections without a round trip.
    fn is_valid(&self, conn: &mut PoolConnection) -> Result<(), ConnectionError> {
        let breaks = self.breaks.load(Ordering::Acquire);
        if conn.checked == breaks && conn.answered.elapsed() < PING_WHEN_IDLE_FOR {
            return Ok(());
        }
        conn.conn.ping().map_err(ConnectionError::Broken)?;
        conn.checked = breaks;
        conn.answered = std::time::Instant::now();
        Ok(())
    }

    fn has_broken(&self, conn: &mut PoolConnection) -> bool {
        std::thread::panicking() || conn.broken || conn.conn.is_broken()
    }
}

/// Connection attempts that fail are the circuit's business (logged once when it opens), not a
/// line each.
#[derive(Debug)]
struct QuietErrors;

impl r2d2::HandleError<ConnectionError> for QuietErrors {
    fn handle_error(&self, error: ConnectionError) {
        tracing::debug!(%error, "database connection attempt failed");
    }
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// Key of the PostgreSQL advisory lock that serialises migrations when several nodes start.
const MIGRATION_LOCK_KEY: i64 = 0x7665_6e75_6563_6f64; // "venuecod"

/// How long a request waits for a pooled connection unless told otherwise.
pub const DEFAULT_CHECKOUT_TIMEOUT: Duration = Duration::from_millis(500);

/// The pool and what is known about the backend behind it.
#[derive(Clone)]
pub struct Database {
    pool: r2d2::Pool<ConnectionManager>,
    manager: ConnectionManager,
    backend: &'static str,
    circuit: Arc<Circuit>,
}

impl Database {
    /// Builds the pool and opens one connection to prove the database is reachable.
    pub fn connect(url: &DatabaseUrl, pool_size: u32) -> Result<Self, DbError> {
        Self::connect_with(url, pool_size, DEFAULT_CHECKOUT_TIMEOUT)
    }

    /// As [`Database::connect`], waiting at most `checkout_timeout` for a pooled connection.
    pub fn connect_with(
        url: &DatabaseUrl,
        pool_size: u32,
        checkout_timeout: Duration,
    ) -> Result<Self, DbError> {
        if let DatabaseUrl::Sqlite(path) = url {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    DbError::Unavailable(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
        let manager = ConnectionManager {
            url: url.clone(),
            breaks: Arc::default(),
        };
        // The first connection is opened here, so that a database that is not there stops the
        // start with its own error rather than a pool timeout.
        drop(
            manager
                .open()
                .map_err(|e| DbError::Unavailable(e.to_string()))?,
        );
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(1))
            .connection_timeout(checkout_timeout)
            .test_on_check_out(true)
            .error_handler(Box::new(QuietErrors))
            .build_unchecked(manager.clone());
        Ok(Self {
            pool,
            manager,
            backend: url.backend_name(),
            circuit: Arc::default(),
        })
    }

    /// A pool that opens no connection until one is asked for, waiting at most half a second for
    /// one (a standby that may be down: see `replica`).
    pub fn lazy(url: &DatabaseUrl, pool_size: u32) -> Self {
        let manager = ConnectionManager {
            url: url.clone(),
            breaks: Arc::default(),
        };
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_millis(500))
            .test_on_check_out(true)
            .error_handler(Box::new(QuietErrors))
            .build_unchecked(manager.clone());
        Self {
            pool,
            manager,
            backend: url.backend_name(),
            circuit: Arc::default(),
        }
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// The circuit in front of the database, for `/metrics` and for the check-in writer.
    pub fn circuit(&self) -> &Circuit {
        &self.circuit
    }

    /// A connection of its own, outside the pool, for a thread that holds one for its lifetime.
    /// Refused at once while the circuit is open.
    pub fn connect_one(&self) -> Result<DbConnection, DbError> {
        self.circuit.admit().map_err(|_| circuit_open())?;
        match self.manager.open() {
            Ok(conn) => Ok(conn),
            Err(e) => {
                self.circuit.failed(&e.to_string());
                Err(DbError::Unavailable(e.to_string()))
            }
        }
    }

    /// A connection for blocking code (the CLI, start-up, background threads). Handlers use
    /// [`Database::run`].
    pub fn get(&self) -> Result<PooledConnection, DbError> {
        self.circuit.admit().map_err(|_| circuit_open())?;
        self.pool
            .get()
            .map(PooledConnection)
            .map_err(|e| self.checkout_failed(e))
    }

    /// A checkout that timed out: with every connection busy the node is overloaded; with
    /// connections missing, the database would not give more.
    fn checkout_failed(&self, error: r2d2::PoolError) -> DbError {
        let state = self.pool.state();
        if state.connections >= self.pool.max_size() && state.idle_connections == 0 {
            DbError::Busy(error.to_string())
        } else {
            self.circuit.failed(&error.to_string());
            DbError::Unavailable(error.to_string())
        }
    }

    /// Runs `work` with a pooled connection on the blocking thread pool. When `work` fails on a
    /// connection that no longer answers, that connection is dropped from the pool (its idle
    /// siblings are checked before their next use) and the circuit hears of it.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let database = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = database.get()?;
            let result = work(&mut conn);
            database.after(&mut conn.0, result.is_ok());
            result
        })
        .await
        .map_err(|e| E::from(DbError::Other(format!("database task failed: {e}"))))?
    }

    /// What a finished piece of work says about its pooled connection.
    fn after(&self, conn: &mut PoolConnection, succeeded: bool) {
        if self.observe(&mut conn.conn, succeeded) {
            conn.answered = std::time::Instant::now();
        } else {
            conn.broken = true;
            self.manager.breaks.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Tells the circuit how work on `conn` went; after a failure, whether the connection still
    /// answers. Returns whether `conn` may be used again.
    pub fn observe(&self, conn: &mut DbConnection, succeeded: bool) -> bool {
        if succeeded {
            self.circuit.succeeded();
            return true;
        }
        match conn.ping() {
            Ok(()) => {
                self.circuit.succeeded();
                true
            }
            Err(e) => {
                self.circuit.failed(&e.to_string());
                false
            }
        }
    }

    /// Connections open and idle, for `/metrics`.
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        (
            state.connections,
            state.idle_connections,
            self.pool.max_size(),
        )
    }

    /// Applies every pending migration of this backend; returns the versions applied.
    pub fn migrate(&self) -> Result<Vec<String>, DbError> {
        let mut conn = self.get()?;
        run_migrations(&mut conn)
    }
}

fn circuit_open() -> DbError {
    DbError::Unavailable("the database circuit is open".into())
}

/// Applies every pending migration of the connection's backend; returns the versions applied.
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    let applied = match conn {
        DbConnection::Sqlite(conn) => conn
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(|e| DbError::Migration(e.to_string()))?,
        DbConnection::Postgresql(conn) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(conn)?;
            let result = conn
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|versions| versions.iter().map(ToString::to_string).collect())
                .map_err(|e| DbError::Migration(e.to_string()));
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .execute(conn)?;
            result?
        }
    };
    Ok(applied)
}

/// Runs `work` in a transaction that writes. On SQLite it begins `IMMEDIATE`, taking the write
/// lock up front: a deferred transaction that reads first and writes later fails at once with
/// "database is locked" when another writer got in between, instead of waiting its turn. Inside
/// an open transaction it becomes a savepoint, as `Connection::transaction` does.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<DbError>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConnection::Sqlite(sqlite) = conn else {
        return transaction(conn, work);
    };
    let depth = <AnsiTransactionManager as TransactionManager<diesel::SqliteConnection>>::transaction_manager_status_mut(sqlite)
        .transaction_depth()
        .map_err(DbError::from)?;
    if depth.is_some() {
        return transaction(conn, work);
    }
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
        .map_err(DbError::from)?;
    let result = work(conn);
    let DbConnection::Sqlite(sqlite) = conn else {
        unreachable!("the backend does not change inside a transaction");
    };
    match result {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(sqlite).map_err(DbError::from)?;
            Ok(value)
        }
        Err(error) => {
            AnsiTransactionManager::rollback_transaction(sqlite).map_err(DbError::from)?;
            Err(error)
        }
    }
}

/// `Connection::transaction` for errors that come from a layer above the database.
fn transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<DbError>,
{
    /// Carries the caller's error through diesel's transaction, which needs a diesel error type.
    enum Failed<E> {
        Work(E),
        Db(diesel::result::Error),
    }
    impl<E> From<diesel::result::Error> for Failed<E> {
        fn from(e: diesel::result::Error) -> Self {
            Failed::Db(e)
        }
    }
    conn.transaction(|conn| work(conn).map_err(Failed::Work))
        .map_err(|failed| match failed {
            Failed::Work(e) => e,
            Failed::Db(e) => E::from(DbError::from(e)),
        })
}

/// Opens a sealed name kept with a row (`what` names the row in the error).
pub fn open_name(
    cipher: &crate::crypto::PiiCipher,
    sealed: &str,
    what: std::fmt::Arguments<'_>,
) -> Result<crate::domain::PersonName, DbError> {
    let name = cipher
        .open(crate::crypto::Field::Name, sealed)
        .map_err(|e| DbError::Other(format!("{what}: {e}")))?;
    crate::domain::PersonName::parse(&name)
        .map_err(|e| DbError::Other(format!("{what}: stored name: {e}")))
}

/// Answers whether the database responds, for `/readyz`.
pub fn ping(conn: &mut DbConnection) -> Result<(), DbError> {
    conn.ping().map_err(DbError::from)
}

/// Answers whether the database takes a write, for `/readyz`: rewrites the one `readiness` row
/// and commits (a full disk, a read-only file or a read-only server refuses it).
pub fn probe_write(conn: &mut DbConnection, now: chrono::NaiveDateTime) -> Result<(), DbError> {
    write_transaction(conn, |conn| {
        per_backend!(conn, |c| diesel::sql_query(
            "INSERT INTO readiness (id, checked_at) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at"
        )
        .bind::<diesel::sql_types::Timestamp, _>(now)
        .execute(c))?;
        Ok(())
    })
}

#[cfg(test)]
mod upgrade_tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Text};
    use diesel_migrations::MigrationHarness;

    use super::SQLITE_MIGRATIONS;

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    #[derive(QueryableByName)]
    struct Role {
        #[diesel(sql_type = Text)]
        role: String,
    }

    fn count(conn: &mut SqliteConnection, sql: &str) -> i64 {
        diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
    }

    /// The field-operations migrations rebuild `staff_accounts`, `venues` and `notifications` on
    /// SQLite: a database that already holds rows referring to them keeps every row and every
    /// reference.
    #[test]
    fn rebuilding_tables_keeps_a_populated_sqlite_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upgrade.sqlite3");
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        conn.batch_execute("PRAGMA foreign_keys = ON").unwrap();
        loop {
            let pending = conn.pending_migrations(SQLITE_MIGRATIONS).unwrap();
            let next = pending.first().expect("the field operations are pending");
            if next
                .name()
                .version()
                .to_string()
                .replace('-', "")
                .starts_with("20261125")
            {
                break;
            }
            conn.run_migration(next).unwrap();
        }
        conn.batch_execute(
            "INSERT INTO accounts (id, platform, subject, created_at, last_login_at)
                 VALUES (1, 'wechat', 'o-1', '2026-11-20 08:00:00', '2026-11-20 08:00:00');
             INSERT INTO staff_accounts (id, username, password_hash, role, region_code, created_at)
                 VALUES (1, 'county-review', 'x', 'reviewer', '431025', '2026-11-20 08:00:00');
             INSERT INTO venues (id, manager_account_id, manager_name_sealed, manager_id_number_sealed,
                 manager_id_number_hash, manager_phone_sealed, manager_phone_hash, name, category,
                 subtype, region_code, address, lat, lng, status, reviewed_by, reviewed_at,
                 created_at, updated_at)
                 VALUES (1, 1, 'n', 'i', 'ih', 'p', 'ph', '便民超市', 'daily_shopping',
                 'supermarket', '431025100', '解放路88号', 25.28, 112.56, 'approved', 1,
                 '2026-11-20 09:00:00', '2026-11-20 08:00:00', '2026-11-20 09:00:00');
             INSERT INTO entrances (id, venue_id, name, description, code_version, created_at, updated_at)
                 VALUES (1, 1, '东门', '', 1, '2026-11-20 08:00:00', '2026-11-20 08:00:00');
             INSERT INTO notifications (account_id, kind, message, created_at)
                 VALUES (1, 'added_as_companion', '已添加', '2026-11-20 10:00:00');",
        )
        .unwrap();
        conn.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();

        assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM venues WHERE manager_account_id = 1 AND reviewed_by = 1 AND suspended_at IS NULL"), 1);
        assert_eq!(
            count(
                &mut conn,
                "SELECT count(*) AS n FROM entrances WHERE venue_id = 1"
            ),
            1
        );
        assert_eq!(
            count(&mut conn, "SELECT count(*) AS n FROM notifications"),
            1
        );
        let role = diesel::sql_query("SELECT role FROM staff_accounts WHERE id = 1")
            .get_result::<Role>(&mut conn)
            .unwrap();
        assert_eq!(role.role, "reviewer");
        // The new role and a venue without a manager account are accepted; references hold.
        conn.batch_execute(
            "INSERT INTO staff_accounts (username, password_hash, role, region_code, created_at)
                 VALUES ('street', 'x', 'registrar', '431025100', '2026-11-21 08:00:00');
             UPDATE venues SET manager_account_id = NULL WHERE id = 1;",
        )
        .unwrap();
        assert_eq!(
            count(
                &mut conn,
                "SELECT count(*) AS n FROM pragma_foreign_key_check"
            ),
            0
        );
        assert_eq!(
            count(
                &mut conn,
                "SELECT count(*) AS n FROM pragma_foreign_keys WHERE foreign_keys = 1"
            ),
            1
        );
    }
}
