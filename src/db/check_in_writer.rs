//! The one writer of check-ins (group commit). Every scan, manual check-in and paper scan of
//! this node hands its rows here and waits; a dedicated thread takes all the entries waiting, and
//! in one transaction locks their accounts (PostgreSQL), reads their recent entries and their
//! possible repeats in one query each, has the scan's rules decide each entry (new, repeat, over
//! its hourly limit: `domain/scan.rs`), writes the new rows in one multi-row insert with the
//! alerts and follow-ups the rules ask for, and commits. Only then is each entry answered: an
//! acknowledged check-in is durable. If the transaction fails, the entries are written again one
//! by one, so that one bad entry fails alone. What a batch writes is `check_in_batch.rs`; the
//! small writes that go with scans (`write_beside`) run on the same threads between batches.

use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

use super::check_in_batch::{write, Hourly};
use super::check_ins::CheckInRow;
use super::{Database, DbConnection, DbError};
use crate::domain::scan::HourlyLimit;

/// Entries waiting beyond this many make the next ones wait for room.
const QUEUE: usize = 20_000;
/// Rows written in one transaction at most.
const MAX_BATCH_ROWS: usize = 2_000;

/// One entry to record: its rows (ids and group are the writer's), the person whose entry it is
/// first.
#[derive(Debug, Clone)]
pub struct Entry {
    pub account_id: i64,
    pub limit: HourlyLimit,
    pub rows: Vec<CheckInRow>,
    /// The region of the venue, for the alert a red person raises.
    pub region_code: String,
}

#[derive(Debug)]
pub enum Recorded {
    New(Vec<CheckInRow>),
    /// The same people entered here moments before: that entry's rows.
    Repeat(Vec<CheckInRow>),
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the account reached its hourly limit")]
    LimitReached,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// One entry, or several that are recorded together or not at all (a paper sheet's rows).
struct Job {
    entries: Vec<Entry>,
    reply: oneshot::Sender<Result<Vec<Recorded>, WriteError>>,
}

impl Job {
    fn rows(&self) -> usize {
        self.entries.iter().map(|e| e.rows.len()).sum()
    }
}

/// A small write of another kind that goes with the scans (a request's `Idempotency-Key`), run by
/// this thread so that on SQLite it never waits for the lock the writer holds, nor the writer for
/// it. All of a batch's are written in one transaction, each in a savepoint of its own (one that
/// fails fails alone); each is answered through its own channel once that transaction ended.
type Beside = Box<dyn FnOnce(&mut DbConnection) -> Deliver + Send>;
/// Answers a small write, given how its transaction ended.
type Deliver = Box<dyn FnOnce(Result<(), &DbError>) + Send>;

enum Work {
    Entries(Job),
    Beside(Beside),
}

impl Work {
    fn rows(&self) -> usize {
        match self {
            Work::Entries(job) => job.rows(),
            Work::Beside(_) => 0,
        }
    }
}

#[derive(Clone)]
pub struct CheckInWriter {
    jobs: mpsc::Sender<Work>,
}

impl CheckInWriter {
    /// Starts the writer's threads; they stop when the last handle is dropped. SQLite has one
    /// (it writes one transaction at a time anyway); PostgreSQL has a few, so that one batch is
    /// written while the next is being gathered and the one before commits.
    pub fn start(db: Database) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        let writers = if db.backend() == "postgres" { 2 } else { 1 };
        if db.backend() == "sqlite" {
            let (db, writer) = (db.clone(), jobs.downgrade());
            std::thread::Builder::new()
                .name("checkpoint".into())
                .spawn(move || checkpoint_now_and_then(db, writer))
                .expect("the checkpoint thread starts");
        }
        for n in 0..writers {
            let (db, queue) = (db.clone(), Arc::clone(&queue));
            std::thread::Builder::new()
                .name(format!("check-in-writer-{n}"))
                .spawn(move || run(&db, &queue))
                .expect("the writer's thread starts");
        }
        Self { jobs }
    }

    /// Records an entry; answers once it is committed.
    pub async fn record(&self, entry: Entry) -> Result<Recorded, WriteError> {
        let mut recorded = self.record_together(vec![entry]).await?;
        Ok(recorded.remove(0))
    }

    /// Records entries in one transaction: all of them, or none (the hourly limit refuses them
    /// together: `LimitReached`). Each is its own entry (its own group, its own repeat); one
    /// that repeats another of them, or one written before, answers that one's rows.
    pub async fn record_together(&self, entries: Vec<Entry>) -> Result<Vec<Recorded>, WriteError> {
        let stopped = || DbError::Unavailable("the check-in writer stopped".into());
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Work::Entries(Job { entries, reply }))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Runs a small write on this writer's thread, in a transaction of its own between batches.
    pub async fn write_beside<T, F>(&self, work: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        let stopped = || DbError::Unavailable("the check-in writer stopped".into());
        let (reply, answer) = oneshot::channel();
        let beside: Beside = Box::new(move |conn| {
            use diesel::Connection;
            let result = conn.transaction(work);
            Box::new(move |ended: Result<(), &DbError>| {
                let _ = reply.send(match ended {
                    Ok(()) => result,
                    Err(e) => Err(DbError::Unavailable(e.to_string())),
                });
            })
        });
        self.jobs
            .send(Work::Beside(beside))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The entries waiting, or `None` when every handle is gone.
fn next_batch(queue: &Mutex<mpsc::Receiver<Work>>) -> Option<Vec<Work>> {
    let mut queue = queue.lock().expect("queue lock");
    let first = queue.blocking_recv()?;
    let mut rows = first.rows();
    let mut batch = vec![first];
    while rows < MAX_BATCH_ROWS {
        let Ok(job) = queue.try_recv() else { break };
        rows += job.rows();
        batch.push(job);
    }
    Some(batch)
}

/// The writer's own connection, held for as long as it works. On SQLite it checks no foreign
/// keys (every row's venue, entrance, person and account were just read; on PostgreSQL the table
/// has none for the same reason) and leaves most of the checkpoint work to
/// [`checkpoint_now_and_then`], so that a commit seldom waits for it. That thread can never catch
/// up with a writer that never stops, and a log that is never wholly copied is never started
/// again: it grew by 140 MB a second under load. So past `WAL_RESTART_PAGES` the writer finishes
/// the checkpoint itself after a commit (copying only what the thread has not), and its next
/// write starts the log from the beginning. On PostgreSQL its statements are planned once (planning a statement
/// over a table of many days anew for every batch cost more than running it; the days a range
/// touches are picked when it runs) and never scan a table whole: each reads index ranges, and a
/// plan made when the day's table was empty must not turn into a scan of all of it later.
/// The size of the SQLite write-ahead log, in 4 KiB pages, past which the writer completes a
/// checkpoint so that the log starts again (32 MiB: recovery after a crash reads it whole).
const WAL_RESTART_PAGES: u32 = 8192;

fn writer_connection(db: &Database) -> Result<DbConnection, DbError> {
    use diesel::connection::SimpleConnection;
    let mut conn = db.connect_one()?;
    match &mut conn {
        DbConnection::Sqlite(c) => c.batch_execute(&format!(
            "PRAGMA foreign_keys = OFF; PRAGMA wal_autocheckpoint = {WAL_RESTART_PAGES};"
        ))?,
        DbConnection::Postgresql(c) => {
            c.batch_execute("SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off;")?
        }
    }
    Ok(conn)
}

/// SQLite: copies the write-ahead log into the database ten times a second, from a connection of
/// its own (a passive checkpoint: it waits for no one, and no one waits for it).
fn checkpoint_now_and_then(db: Database, writer: mpsc::WeakSender<Work>) {
    let failures = crate::telemetry::OncePer::new(std::time::Duration::from_secs(10));
    // Until the writer is gone.
    while writer.upgrade().is_some() {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let done = db.get().and_then(|mut conn| {
            use diesel::connection::SimpleConnection;
            Ok(conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE);")?)
        });
        if let Err(e) = done {
            if let Some(skipped) = failures.due() {
                tracing::warn!(error = %e, failed_since_last_line = skipped, "write-ahead log not checkpointed");
            }
        }
    }
}

fn run(db: &Database, queue: &Mutex<mpsc::Receiver<Work>>) {
    let failures = crate::telemetry::OncePer::new(std::time::Duration::from_secs(10));
    let mut hourly = Hourly::default();
    let mut conn: Option<DbConnection> = None;
    while let Some(work) = next_batch(queue) {
        let mut batch = Vec::with_capacity(work.len());
        let mut besides = Vec::new();
        for work in work {
            match work {
                Work::Entries(job) => batch.push(job),
                Work::Beside(beside) => besides.push(beside),
            }
        }
        if !besides.is_empty() {
            write_besides(db, &mut conn, besides);
        }
        // Entries recorded together are written in a transaction of their own.
        let (together, batch): (Vec<Job>, Vec<Job>) =
            batch.into_iter().partition(|job| job.entries.len() > 1);
        for job in together {
            let entries: Vec<&Entry> = job.entries.iter().collect();
            let result = write_with(db, &mut conn, &mut hourly, &entries, true)
                .map_err(WriteError::from)
                .and_then(|results| results.into_iter().collect());
            if let Err(WriteError::Db(e)) = &result {
                if let Some(skipped) = failures.due() {
                    tracing::warn!(error = %e, entries = entries.len(), failed_since_last_line = skipped, "check-ins recorded together not written");
                }
            }
            let _ = job.reply.send(result);
        }
        if batch.is_empty() {
            continue;
        }
        let entries: Vec<&Entry> = batch.iter().map(|job| &job.entries[0]).collect();
        match write_with(db, &mut conn, &mut hourly, &entries, false) {
            Ok(results) => {
                for (job, result) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(result.map(|recorded| vec![recorded]));
                }
            }
            // The database cannot be reached or cannot write: every entry fails alike.
            Err(DbError::Unavailable(reason)) => {
                if let Some(skipped) = failures.due() {
                    tracing::warn!(%reason, entries = batch.len(), failed_since_last_line = skipped, "check-ins not written: the database is unavailable");
                }
                for job in batch {
                    let _ = job
                        .reply
                        .send(Err(WriteError::Db(DbError::Unavailable(reason.clone()))));
                }
            }
            Err(e) if batch.len() > 1 => {
                if let Some(skipped) = failures.due() {
                    tracing::warn!(error = %e, entries = batch.len(), failed_since_last_line = skipped, "a batch of check-ins failed; writing them one by one");
                }
                for job in batch {
                    let result = write_with(db, &mut conn, &mut hourly, &[&job.entries[0]], false)
                        .map_err(WriteError::from)
                        .and_then(|mut results| results.remove(0))
                        .map(|recorded| vec![recorded]);
                    let _ = job.reply.send(result);
                }
            }
            Err(e) => {
                // A batch of one: the entry's own error.
                if let Some(job) = batch.into_iter().next() {
                    let _ = job.reply.send(Err(WriteError::Db(e)));
                }
            }
        }
    }
}

/// Small writes in one transaction. Unanswered (their channels dropped) when no connection can be
/// had: the database is unavailable.
fn write_besides(db: &Database, conn: &mut Option<DbConnection>, besides: Vec<Beside>) {
    let connection = match conn {
        Some(connection) => connection,
        None => match writer_connection(db) {
            Ok(connection) => conn.insert(connection),
            Err(_) => return,
        },
    };
    let mut delivers = Vec::with_capacity(besides.len());
    let ended = super::write_transaction(connection, |c| {
        delivers.extend(besides.into_iter().map(|beside| beside(c)));
        Ok::<_, DbError>(())
    });
    if !db.observe(connection, ended.is_ok()) {
        *conn = None;
    }
    for deliver in delivers {
        deliver(ended.as_ref().map(|_| ()));
    }
}

/// Writes a batch on the writer's connection; a connection that broke is dropped, and the next
/// batch takes a new one (refused at once while the database's circuit is open). `together`:
/// the entries are written all or none.
fn write_with(
    db: &Database,
    conn: &mut Option<DbConnection>,
    hourly: &mut Hourly,
    entries: &[&Entry],
    together: bool,
) -> Result<Vec<Result<Recorded, WriteError>>, DbError> {
    let connection = match conn {
        Some(connection) => connection,
        None => conn.insert(writer_connection(db)?),
    };
    let outcome = super::write_transaction(connection, |c| write(c, hourly, entries, together));
    let usable = db.observe(connection, outcome.is_ok());
    match outcome {
        Ok((results, written)) => {
            hourly.record(&written);
            Ok(results)
        }
        Err(e) => {
            if !usable || matches!(e, DbError::Unavailable(_)) {
                *conn = None;
            }
            Err(e)
        }
    }
}
