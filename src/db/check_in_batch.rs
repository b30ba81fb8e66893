//! What one batch of the check-in writer (`check_in_writer.rs`) writes, in its transaction:
//! the accounts locked (PostgreSQL), their recent entries and possible repeats read in one query
//! each, the scan's rules deciding each entry (new, repeat, over its hourly limit:
//! `domain/scan.rs`), the new rows in one multi-row insert with the alerts and follow-ups the rules
//! ask for.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::check_in_writer::{Entry, Recorded, WriteError};
use super::check_ins::{self, CheckInRow};
use super::follow_ups::{self, NewFollowUp};
use super::{alerts, DbConnection, DbError};
use crate::domain::scan::{self, Decision, HourlyLimit, Pending, REPEAT_WINDOW};
use crate::domain::{CheckInSource, FollowUpCause};

/// Per account, its entries (source, when recorded) of the last hour, for the hourly limit. On
/// SQLite this writer is the only one (one node), so they are read from the database the first
/// time an account is seen and kept here; PostgreSQL (several nodes) counts them in each batch's
/// transaction with the accounts' rows locked.
#[derive(Default)]
pub(super) struct Hourly {
    kept: HashMap<i64, Vec<(CheckInSource, NaiveDateTime)>>,
}

/// Accounts kept at most before the record starts afresh.
const MAX_KEPT_ACCOUNTS: usize = 500_000;

impl Hourly {
    /// After a commit: the entries it recorded count from now on.
    pub(super) fn record(&mut self, written: &[(i64, CheckInSource, NaiveDateTime)]) {
        for (account, source, at) in written {
            if let Some(entries) = self.kept.get_mut(account) {
                entries.push((*source, *at));
            }
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

pub(super) fn write(
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
