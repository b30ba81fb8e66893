//! The one writer of check-ins (group commit). Every scan, manual check-in and paper scan of
//! this node hands its rows here and waits; a dedicated thread takes all the entries waiting, and
//! in one transaction locks their accounts (PostgreSQL), reads their recent entries and their
//! possible repeats in one query each, has the scan's rules decide each entry (new, repeat, over
//! its hourly limit: `domain/scan.rs`), writes the new rows in one multi-row insert with the
//! alerts and follow-ups the rules ask for, and commits. Only then is each entry answered: an
//! acknowledged check-in is durable. If the transaction fails, the entries are written again one
//! by one, so that one bad entry fails alone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;
use tokio::sync::{mpsc, oneshot};

use super::check_ins::{self, CheckInRow};
use super::follow_ups::{self, NewFollowUp};
use super::{alerts, Database, DbConnection, DbError};
use crate::domain::scan::{self, Decision, HourlyLimit, Pending, REPEAT_WINDOW};
use crate::domain::{CheckInSource, FollowUpCause};

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

/// Per account, its entries (source, when recorded) of the last hour, for the hourly limit. On
/// SQLite this writer is the only one (one node), so they are read from the database the first
/// time an account is seen and kept here; PostgreSQL (several nodes) counts them in each batch's
/// transaction with the accounts' rows locked.
#[derive(Default)]
struct Hourly {
    kept: HashMap<i64, Vec<(CheckInSource, NaiveDateTime)>>,
}

/// Accounts kept at most before the record starts afresh.
const MAX_KEPT_ACCOUNTS: usize = 500_000;

impl Hourly {
    /// After a commit: the entries it recorded count from now on.
    fn record(&mut self, written: &[(i64, CheckInSource, NaiveDateTime)]) {
        for (account, source, at) in written {
            if let Some(entries) = self.kept.get_mut(account) {
                entries.push((*source, *at));
            }
        }
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

/// What an account recorded in the hour before each entry, as the limit counts it.
enum Past<'a> {
    /// PostgreSQL: per account and source, counted in this transaction.
    Counted(Vec<(i64, CheckInSource, i64)>),
    /// SQLite: kept by this writer.
    Kept(&'a HashMap<i64, Vec<(CheckInSource, NaiveDateTime)>>),
}

impl Past<'_> {
    fn count(&self, account_id: i64, limit: &HourlyLimit) -> i64 {
        match self {
            Past::Counted(counts) => counts
                .iter()
                .filter(|(account, source, _)| {
                    *account == account_id && limit.sources.contains(source)
                })
                .map(|(_, _, count)| count)
                .sum(),
            Past::Kept(kept) => kept.get(&account_id).map_or(0, |entries| {
                entries
                    .iter()
                    .filter(|(source, at)| *at >= limit.since && limit.sources.contains(source))
                    .count() as i64
            }),
        }
    }
}

/// The past the limit counts against: read for the batch (PostgreSQL), or kept and completed with
/// the accounts seen for the first time (SQLite).
fn past<'a>(
    conn: &mut DbConnection,
    hourly: &'a mut Hourly,
    entries: &[&Entry],
    account_ids: &[i64],
) -> Result<Past<'a>, DbError> {
    let since = entries
        .iter()
        .map(|e| e.limit.since)
        .max()
        .expect("a batch");
    let scanned_since = entries
        .iter()
        .map(|e| e.limit.scanned_since)
        .min()
        .expect("a batch");
    if let DbConnection::Postgresql(c) = conn {
        super::check_ins_pg::lock_accounts(c, account_ids)?;
        return Ok(Past::Counted(super::check_ins_pg::entries_since(
            c,
            account_ids,
            since,
            scanned_since,
            scan::count_caps(entries.iter().map(|e| &e.limit)),
        )?));
    }
    if hourly.kept.len() > MAX_KEPT_ACCOUNTS {
        hourly.kept.clear();
    }
    let oldest = entries
        .iter()
        .map(|e| e.limit.since)
        .min()
        .expect("a batch");
    for account_id in account_ids {
        match hourly.kept.get_mut(account_id) {
            Some(entries) => entries.retain(|(_, at)| *at >= oldest),
            None => {
                let entries =
                    check_ins::entries_of_account_since(conn, *account_id, oldest, scanned_since)?;
                hourly.kept.insert(*account_id, entries);
            }
        }
    }
    Ok(Past::Kept(&hourly.kept))
}

/// The results of a batch, and the entries it wrote (account, source, when) for the hourly record.
type Written = (
    Vec<Result<Recorded, WriteError>>,
    Vec<(i64, CheckInSource, NaiveDateTime)>,
);

fn write(
    conn: &mut DbConnection,
    hourly: &mut Hourly,
    entries: &[&Entry],
    together: bool,
) -> Result<Written, DbError> {
    let mut account_ids: Vec<i64> = entries.iter().map(|e| e.account_id).collect();
    account_ids.sort_unstable();
    account_ids.dedup();
    let past = past(conn, hourly, entries, &account_ids)?;
    let nearby = possible_repeats(conn, entries)?;

    // What the rules decide from: each entry, with the group it may repeat and its account's hour.
    let mut groups: HashMap<i64, Vec<CheckInRow>> = HashMap::new();
    let mut pending = Vec::with_capacity(entries.len());
    for entry in entries {
        let earlier = match latest_near(&nearby, entry) {
            Some(row) => {
                let group = row.group_id.unwrap_or(row.id);
                if let std::collections::hash_map::Entry::Vacant(slot) = groups.entry(group) {
                    slot.insert(check_ins::group_of(conn, row)?);
                }
                Some((group, people_of(&groups[&group])))
            }
            None => None,
        };
        let first = &entry.rows[0];
        pending.push(Pending {
            account_id: entry.account_id,
            source: first.source,
            entrance_id: first.entrance_id,
            scanned_at: first.scanned_at,
            people: people_of(&entry.rows),
            limit: entry.limit,
            earlier,
            past: past.count(entry.account_id, &entry.limit),
        });
    }
    let decisions = scan::decide(&pending);
    if together && decisions.contains(&Decision::LimitReached) {
        // Entries recorded together fail together: nothing is written.
        let refused = entries
            .iter()
            .map(|_| Err(WriteError::LimitReached))
            .collect();
        return Ok((refused, Vec::new()));
    }

    // The new entries' rows, numbered; each entry is a group named by its first row.
    let new_rows: usize = entries
        .iter()
        .zip(&decisions)
        .filter(|(_, d)| **d == Decision::New)
        .map(|(e, _)| e.rows.len())
        .sum();
    let mut ids = check_ins::next_ids(conn, new_rows)?.into_iter().peekable();
    let mut numbered: Vec<Option<Vec<CheckInRow>>> = Vec::with_capacity(entries.len());
    for (entry, decision) in entries.iter().zip(&decisions) {
        numbered.push((*decision == Decision::New).then(|| {
            let group = *ids.peek().expect("an id per row");
            let mut rows = entry.rows.clone();
            for row in &mut rows {
                row.id = ids.next().expect("an id per row");
                row.group_id = Some(group);
            }
            rows
        }));
    }
    let written: Vec<CheckInRow> = numbered.iter().flatten().flatten().cloned().collect();
    check_ins::insert_rows(conn, &written)?;
    let mut follow_up = Vec::new();
    for (entry, rows) in entries.iter().zip(&numbered) {
        for row in rows.iter().flatten() {
            if scan::raises_alert(row.health_color) {
                alerts::raise_red_scan(
                    conn,
                    row.venue_id,
                    &entry.region_code,
                    row.id,
                    row.person_id,
                    row.recorded_at,
                )?;
            }
            if scan::followed_up(row.health_color) {
                follow_up.push(NewFollowUp {
                    person_id: row.person_id,
                    region_code: entry.region_code.clone(),
                    color: row.health_color,
                    cause: FollowUpCause::Scan,
                    venue_id: Some(row.venue_id),
                    check_in_id: Some(row.id),
                });
            }
        }
    }
    if let Some(first) = written.first() {
        follow_ups::open(conn, &follow_up, first.recorded_at)?;
    }

    let written_entries = entries
        .iter()
        .zip(&numbered)
        .filter_map(|(entry, rows)| {
            let first = &rows.as_ref()?[0];
            Some((entry.account_id, first.source, first.recorded_at))
        })
        .collect();
    let results = decisions
        .iter()
        .zip(&numbered)
        .map(|(decision, rows)| match (decision, rows) {
            (Decision::New, Some(rows)) => Ok(Recorded::New(rows.clone())),
            (Decision::RepeatOfGroup(group), _) => Ok(Recorded::Repeat(groups[group].clone())),
            (Decision::RepeatInBatch(index), _) => Ok(Recorded::Repeat(
                numbered[*index]
                    .clone()
                    .expect("a repeat in the batch is of a new entry"),
            )),
            (Decision::LimitReached, _) => Err(WriteError::LimitReached),
            (Decision::New, None) => unreachable!("a new entry's rows are numbered"),
        })
        .collect();
    Ok((results, written_entries))
}

/// The people of an entry, the one whose entry it is first.
fn people_of(rows: &[CheckInRow]) -> Vec<i64> {
    rows.iter().map(|row| row.person_id).collect()
}

/// The check-ins already written that may be repeated by an entry: those of its first person within
/// its repeat window. PostgreSQL reads them all in one statement; SQLite reads entries close in
/// time together (at the peak, the whole batch in one query), offline scans from other times of
/// the day each apart.
fn possible_repeats(
    conn: &mut DbConnection,
    entries: &[&Entry],
) -> Result<Vec<CheckInRow>, DbError> {
    let mut windows: Vec<(NaiveDateTime, NaiveDateTime, i64)> = entries
        .iter()
        .map(|e| {
            let first = &e.rows[0];
            (
                first.scanned_at - REPEAT_WINDOW,
                first.scanned_at + REPEAT_WINDOW,
                first.person_id,
            )
        })
        .collect();
    if let DbConnection::Postgresql(c) = conn {
        let windows: Vec<_> = windows.iter().map(|(f, t, p)| (*p, *f, *t)).collect();
        return super::check_ins_pg::near::<super::check_ins_pg::ByPerson>(c, &windows);
    }
    windows.sort_unstable_by_key(|w| w.0);
    let mut nearby = Vec::new();
    let mut start = 0;
    while start < windows.len() {
        let (from, mut to, _) = windows[start];
        let mut end = start + 1;
        while end < windows.len() && windows[end].0 <= to {
            to = to.max(windows[end].1);
            end += 1;
        }
        let mut people: Vec<i64> = windows[start..end].iter().map(|w| w.2).collect();
        people.sort_unstable();
        people.dedup();
        nearby.extend(match people[..] {
            [person] => check_ins::of_person_between(conn, person, from, to)?,
            _ => check_ins::of_people_between(conn, &people, from, to)?,
        });
        start = end;
    }
    Ok(nearby)
}

/// The latest check-in already written of the entry's first person that the entry may repeat.
fn latest_near<'a>(nearby: &'a [CheckInRow], entry: &Entry) -> Option<&'a CheckInRow> {
    let first = &entry.rows[0];
    nearby
        .iter()
        .filter(|r| {
            r.person_id == first.person_id
                && scan::repeats_near(
                    (r.entrance_id, r.scanned_at),
                    (first.entrance_id, first.scanned_at),
                )
        })
        .max_by_key(|r| r.id)
}
