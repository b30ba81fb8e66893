//! Everything a use case may need, built once at start-up and shared by all workers: settings,
//! storage, keys, platform clients, caches and the clock.

use std::sync::Arc;

use crate::auth::Sessions;
use crate::cache::Caches;
use crate::config::Settings;
use crate::crypto::{PaperCodeSigner, PassSigner, PiiCipher, VenueCodeSigner};
use crate::db::check_in_writer::CheckInWriter;
use crate::db::replica::Replica;
use crate::db::{Database, DbConnection, DbError};
use crate::domain::Taxonomy;
use crate::platforms::messages::MessageSenders;
use crate::platforms::IdentityProviders;

pub use crate::clock::Clock;

pub struct AppState {
    pub settings: Settings,
    pub clock: Clock,
    pub db: Database,
    pub cipher: PiiCipher,
    pub sessions: Sessions,
    pub providers: IdentityProviders,
    /// The platforms' message senders (the same clients as `providers`).
    pub senders: MessageSenders,
    pub taxonomy: Arc<Taxonomy>,
    pub venue_codes: VenueCodeSigner,
    pub paper_codes: PaperCodeSigner,
    pub passes: PassSigner,
    pub caches: Caches,
    /// The one writer of check-ins (group commit).
    pub check_ins: CheckInWriter,
    /// A hot standby for reads that may be a little behind (`DATABASE_READ_URL`).
    pub replica: Option<Arc<Replica>>,
    /// On SQLite, the pool's writes take turns here, first come first served, before they ask for
    /// the file's one write lock: waiting on SQLite's own busy handler (sleeps that grow to 100 ms,
    /// no order) a writer among a few busy ones could miss the lock for its whole busy timeout and
    /// answer 503 while the server was healthy (eight clients seeding accounts met it within
    /// seconds). `None` on PostgreSQL, where writers do not share one lock.
    write_turns: Option<Arc<tokio::sync::Mutex<()>>>,
}

/// The longest a pool write waits for its turn on SQLite before answering 503 `overloaded`: an
/// import writing for seconds makes the writes behind it wait, never hang.
const WRITE_TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The venue-code keys as the signers take them: (id, key), the current first.
fn code_keys(ring: &crate::config::KeyRing<[u8; 32]>) -> Vec<(String, [u8; 32])> {
    ring.all().map(|(id, key)| (id.to_owned(), *key)).collect()
}

impl AppState {
    pub fn new(
        settings: Settings,
        clock: Clock,
        db: Database,
        (providers, senders): (IdentityProviders, MessageSenders),
    ) -> Self {
        let keys = &settings.keys;
        Self {
            cipher: PiiCipher::from_ring(&keys.pii_keys),
            sessions: Sessions::with_keys(
                keys.jwt_secrets
                    .all()
                    .map(|(id, secret)| (id.to_owned(), secret.clone()))
                    .collect(),
                settings.sessions.resident_hours,
                settings.sessions.staff_hours,
            ),
            taxonomy: Arc::clone(&settings.taxonomy),
            venue_codes: VenueCodeSigner::with_keys(code_keys(&keys.venue_code_keys)),
            paper_codes: PaperCodeSigner::with_keys(code_keys(&keys.venue_code_keys)),
            passes: PassSigner::with_keys(
                &keys
                    .pass_signing_keys
                    .all()
                    .map(|(_, seed)| *seed)
                    .collect::<Vec<_>>(),
                settings.scan.pass_ttl_seconds,
            ),
            caches: Caches::default(),
            check_ins: CheckInWriter::start(db.clone()),
            replica: settings.database.read_url.as_ref().map(|url| {
                Arc::new(Replica::new(
                    url,
                    settings.database.pool_size,
                    settings.database.read_max_lag_ms,
                ))
            }),
            write_turns: (db.backend() == "sqlite").then(Arc::default),
            providers,
            senders,
            clock,
            db,
            settings,
        }
    }

    /// What the retention period keeps readable now: every window read of the records starts
    /// inside it.
    pub fn retained(&self) -> crate::domain::Retained {
        crate::domain::Retained::at(self.clock.now_naive(), self.settings.retention.days)
    }

    /// Runs blocking database `work` with a pooled connection on the blocking thread pool.
    pub async fn read<T, E, F>(self: &Arc<Self>, work: F) -> Result<T, E>
    where
        F: FnOnce(&AppState, &mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let state = Arc::clone(self);
        self.db.run(move |conn| work(&state, conn)).await
    }

    /// As [`AppState::read`], for a read that may be a few seconds behind (visitor lists,
    /// dashboards, the itinerary, exports, audit reading): on the standby while it is fresh
    /// enough (`READ_MAX_LAG_MS`), else on the primary. Never for the scan nor a write.
    pub async fn read_behind<T, E, F>(self: &Arc<Self>, work: F) -> Result<T, E>
    where
        F: FnOnce(&AppState, &mut DbConnection) -> Result<T, E> + Clone + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let Some(replica) = self.replica.clone() else {
            return self.read(work).await;
        };
        let state = Arc::clone(self);
        let on_standby = work.clone();
        let tried = tokio::task::spawn_blocking(move || {
            replica.try_run(move |conn| on_standby(&state, conn))
        })
        .await
        .map_err(|e| E::from(DbError::Other(format!("database task failed: {e}"))))?;
        match tried {
            Ok(Ok(answer)) => Ok(answer),
            // Lagging, unreachable or not measured yet; or the standby could not answer (a query
            // cancelled by replay, a standby restarting, a row it has not replayed yet): the
            // primary answers, as if the standby were not there.
            Ok(Err(_)) | Err(_) => self.read(work).await,
        }
    }

    /// The same inside one write transaction: all of `work` happens, or none of it.
    pub async fn write<T, E, F>(self: &Arc<Self>, work: F) -> Result<T, E>
    where
        F: FnOnce(&AppState, &mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let turn = match &self.write_turns {
            Some(turns) => {
                let waited = tokio::time::timeout(WRITE_TURN_WAIT, Arc::clone(turns).lock_owned());
                match waited.await {
                    Ok(turn) => Some(turn),
                    Err(_) => {
                        return Err(E::from(DbError::Busy("no turn to write in time".into())))
                    }
                }
            }
            None => None,
        };
        let state = Arc::clone(self);
        self.db
            .run(move |conn| {
                // Held until the work ends, also when the request that asked for it went away.
                let _turn = turn;
                crate::db::write_transaction(conn, |conn| work(&state, conn))
            })
            .await
    }

    /// A small write that goes with the scans (a request's `Idempotency-Key`), on the check-in
    /// writer's thread, all of a batch's in one transaction: on SQLite it never waits for the
    /// lock that thread holds (on the pool it cost scans five sixths of their rate), on
    /// PostgreSQL a batch of them shares one commit (one at a time, each its own commit, cost
    /// keyed scans 72 % of their rate).
    pub async fn write_beside_check_ins<T, F>(self: &Arc<Self>, work: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        self.check_ins.write_beside(work).await
    }
}
