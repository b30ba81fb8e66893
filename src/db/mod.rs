//! Storage: one connection type over SQLite (the embedded default) and PostgreSQL, an r2d2 pool,
//! embedded migrations per backend, and one module per table group.
//!
//! Diesel is blocking, so handlers reach the database only through [`Database::run`], which runs
//! the closure (pool checkout included) on the blocking thread pool, never on an async worker.

pub mod accounts;
pub mod alerts;
pub mod audit;
pub mod changes;
pub mod check_in_writer;
pub mod check_ins;
mod check_ins_pg;
pub mod companions;
pub mod health_code_imports;
pub mod health_codes;
pub mod identity_verifications;
pub mod notifications;
pub mod paper_codes;
pub mod partitions;
pub mod persons;
pub mod regions;
pub mod retention;
pub mod risk_windows;
pub mod schema;
pub mod staff;
pub mod traces;
mod types;
pub mod venue_staff;
pub mod venues;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseUrl;

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

pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection could be had: the server is down, the pool is exhausted, or SQLite stayed
    /// locked past its busy timeout. Clients may retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
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

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &e {
            // SQLite reports a write lock held past busy_timeout as an unknown database error.
            Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if info.message().contains("database is locked") =>
            {
                DbError::Unavailable(info.message().to_owned())
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                DbError::Unavailable(info.message().to_owned())
            }
            _ => DbError::Query(e),
        }
    }
}

impl From<r2d2::PoolError> for DbError {
    fn from(e: r2d2::PoolError) -> Self {
        DbError::Unavailable(e.to_string())
    }
}

/// Opens connections for the pool, choosing the backend from the URL and preparing each
/// SQLite connection (WAL, foreign keys, busy timeout).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => diesel::PgConnection::establish(url)
                .map(DbConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_string_lossy();
                let mut conn = diesel::SqliteConnection::establish(&path)
                    .map_err(r2d2::Error::ConnectionError)?;
                // WAL with NORMAL sync: a commit survives the process being killed (the WAL is
                // written before the commit returns), not a power cut. 16 MiB of page cache and
                // 256 MiB of the file mapped per connection.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA busy_timeout = 5000;
                     PRAGMA cache_size = -16384;
                     PRAGMA mmap_size = 268435456;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// Key of the PostgreSQL advisory lock that serialises migrations when several nodes start.
const MIGRATION_LOCK_KEY: i64 = 0x7665_6e75_6563_6f64; // "venuecod"

/// The pool and what is known about the backend behind it.
#[derive(Clone)]
pub struct Database {
    pool: r2d2::Pool<ConnectionManager>,
    url: DatabaseUrl,
    backend: &'static str,
}

impl Database {
    /// Builds the pool and opens one connection to prove the database is reachable.
    pub fn connect(url: &DatabaseUrl, pool_size: u32) -> Result<Self, DbError> {
        if let DatabaseUrl::Sqlite(path) = url {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    DbError::Unavailable(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(5))
            .test_on_check_out(false)
            .build(ConnectionManager { url: url.clone() })
            .map_err(|e| DbError::Unavailable(e.to_string()))?;
        Ok(Self {
            pool,
            url: url.clone(),
            backend: url.backend_name(),
        })
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// A connection of its own, outside the pool, for a thread that holds one for its lifetime.
    pub fn connect_one(&self) -> Result<DbConnection, DbError> {
        ConnectionManager {
            url: self.url.clone(),
        }
        .connect()
        .map_err(|e| DbError::Unavailable(e.to_string()))
    }

    /// A connection for blocking code (the CLI, start-up). Handlers use [`Database::run`].
    pub fn get(&self) -> Result<PooledConnection, DbError> {
        Ok(self.pool.get()?)
    }

    /// Runs `work` with a pooled connection on the blocking thread pool.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(DbError::from)?;
            work(&mut conn)
        })
        .await
        .map_err(|e| E::from(DbError::Other(format!("database task failed: {e}"))))?
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

/// Answers whether the database responds, for `/readyz`.
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

pub fn ping(conn: &mut DbConnection) -> Result<(), DbError> {
    conn.ping().map_err(DbError::from)
}
