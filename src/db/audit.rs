//! The append-only audit log. Every entry carries the keyed hash of the one before it, so a
//! changed or removed entry breaks the chain where it happened. Appends run inside the caller's
//! transaction, so an action and its audit entry are written together or not at all.

use chrono::{NaiveDateTime, Timelike};
use diesel::prelude::*;

use super::schema::{audit_head, audit_log};
use super::{DbConnection, DbError};
use crate::crypto::{Field, PiiCipher};
use crate::domain::ChainReport;

/// One thing that happened.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    /// `staff:12`, `account:5`, `system`.
    pub actor: String,
    /// The actor's role (`reviewer`, `health_official`, `resident`, `system`).
    pub role: &'a str,
    /// `venue.approve`, `health_code.set`, `trace.create`, …
    pub action: &'a str,
    /// What it was about (`venue:17`, `person:3`); stored only as a keyed hash.
    pub subject: String,
    /// How many records it touched.
    pub count: i64,
    /// The region of the staff member who acted (empty for anyone else).
    pub region: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: i64,
    pub seq: i64,
    pub at: NaiveDateTime,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub subject_hash: String,
    pub count: i64,
    pub prev_hash: String,
    pub hash: String,
    pub region_code: String,
    /// The personal-data key the entry's hashes are checked under.
    pub key_id: String,
    /// Set when the entry was moved to `key_id` after it was written: that key's hash of the
    /// entry and of `hash`, which stays as it was so that the chain does not change.
    pub rekeyed_hash: Option<String>,
}

/// The fields an entry's hash covers.
pub struct ChainLink<'a> {
    pub seq: i64,
    pub at: NaiveDateTime,
    pub actor: &'a str,
    pub role: &'a str,
    pub action: &'a str,
    pub subject_hash: &'a str,
    pub count: i64,
    pub prev_hash: &'a str,
    pub region: &'a str,
}

impl ChainLink<'_> {
    /// The hashed text. The region is a later field: entries without one hash as they always did.
    pub fn content(&self) -> String {
        let mut content = format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.seq,
            self.at.format("%Y-%m-%dT%H:%M:%S%.6f"),
            self.actor,
            self.role,
            self.action,
            self.subject_hash,
            self.count,
            self.prev_hash
        );
        if !self.region.is_empty() {
            content.push('\n');
            content.push_str(self.region);
        }
        content
    }
}

impl AuditRow {
    /// Whether the entry is what was written, checked under its key; `None` when that key is no
    /// longer configured.
    pub fn is_intact(&self, cipher: &PiiCipher) -> Option<bool> {
        let content = self.link().content();
        Some(match &self.rekeyed_hash {
            None => cipher.audit_chain_hash(&self.key_id, &content)? == self.hash,
            Some(rekeyed) => {
                cipher.audit_chain_hash(&self.key_id, &rekeyed_content(&content, &self.hash))?
                    == *rekeyed
            }
        })
    }

    pub fn link(&self) -> ChainLink<'_> {
        ChainLink {
            seq: self.seq,
            at: self.at,
            actor: &self.actor,
            role: &self.role,
            action: &self.action,
            subject_hash: &self.subject_hash,
            count: self.count,
            prev_hash: &self.prev_hash,
            region: &self.region_code,
        }
    }
}

/// What the hash of an entry moved to another key covers: its content and the hash it is chained
/// by.
fn rekeyed_content(content: &str, hash: &str) -> String {
    format!("rekeyed\n{content}\n{hash}")
}

/// How many entries are not under `key_id`.
pub fn count_not_under(conn: &mut DbConnection, key_id: &str) -> Result<i64, DbError> {
    Ok(audit_log::table
        .filter(audit_log::key_id.ne(key_id))
        .count()
        .get_result(conn)?)
}

/// Entries not under `key_id`, oldest first, after `after_seq`.
pub fn not_under(
    conn: &mut DbConnection,
    key_id: &str,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<AuditRow>, DbError> {
    Ok(audit_log::table
        .filter(audit_log::key_id.ne(key_id))
        .filter(audit_log::seq.gt(after_seq))
        .order(audit_log::seq.asc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)?)
}

/// Moves an entry to the current key, once it was checked under its own (the caller checks):
/// its chain and its subject's pseudonym stay as they are. `false` when it changed meanwhile.
pub fn rekey(conn: &mut DbConnection, cipher: &PiiCipher, row: &AuditRow) -> Result<bool, DbError> {
    let current = cipher.current_id();
    let rekeyed = cipher
        .audit_chain_hash(current, &rekeyed_content(&row.link().content(), &row.hash))
        .expect("the current key is configured");
    let updated = diesel::update(
        audit_log::table
            .filter(audit_log::id.eq(row.id))
            .filter(audit_log::key_id.eq(&row.key_id))
            .filter(audit_log::hash.eq(&row.hash)),
    )
    .set((
        audit_log::key_id.eq(current),
        audit_log::rekeyed_hash.eq(rekeyed),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Appends one entry. Call inside the transaction of the action it records.
pub fn append(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    entry: &AuditEntry<'_>,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    append_many(conn, cipher, std::slice::from_ref(entry), now)
}

/// Entries for one subject, newest first (for tests and the audit reader).
pub fn for_subject(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    subject: &str,
) -> Result<Vec<AuditRow>, DbError> {
    Ok(audit_log::table
        .filter(audit_log::subject_hash.eq_any(cipher.lookup_hashes(Field::AuditSubject, subject)))
        .order(audit_log::seq.desc())
        .select(AuditRow::as_select())
        .load(conn)?)
}

/// Appends several entries at once (a bulk import), chained in order. Call inside the
/// transaction of the action.
pub fn append_many(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    entries: &[AuditEntry<'_>],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    if entries.is_empty() {
        return Ok(());
    }
    // Updating the head first takes its row lock (PostgreSQL) or the write lock (SQLite), so
    // concurrent appends queue here instead of forking the chain.
    diesel::update(audit_head::table.find(1))
        .set(audit_head::seq.eq(audit_head::seq + entries.len() as i64))
        .execute(conn)?;
    let (last_seq, mut prev_hash): (i64, String) = audit_head::table
        .find(1)
        .select((audit_head::seq, audit_head::hash))
        .first(conn)?;
    let first_seq = last_seq - entries.len() as i64 + 1;
    // Stored to the microsecond by both backends, so hash what will be read back.
    let at = now
        .with_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now);
    let mut rows = Vec::with_capacity(entries.len());
    for (offset, entry) in entries.iter().enumerate() {
        let seq = first_seq + offset as i64;
        let subject_hash = cipher.lookup_hash(Field::AuditSubject, &entry.subject);
        let hash = cipher
            .audit_chain_hash(
                cipher.current_id(),
                &ChainLink {
                    seq,
                    at,
                    actor: &entry.actor,
                    role: entry.role,
                    action: entry.action,
                    subject_hash: &subject_hash,
                    count: entry.count,
                    prev_hash: &prev_hash,
                    region: &entry.region,
                }
                .content(),
            )
            .expect("the current key is configured");
        rows.push((
            audit_log::seq.eq(seq),
            audit_log::at.eq(at),
            audit_log::actor.eq(entry.actor.clone()),
            audit_log::role.eq(entry.role.to_owned()),
            audit_log::action.eq(entry.action.to_owned()),
            audit_log::subject_hash.eq(subject_hash),
            audit_log::count.eq(entry.count),
            audit_log::prev_hash.eq(prev_hash.clone()),
            audit_log::hash.eq(hash.clone()),
            audit_log::region_code.eq(entry.region.clone()),
            audit_log::key_id.eq(cipher.current_id().to_owned()),
        ));
        prev_hash = hash;
    }
    for batch in rows.chunks(500) {
        crate::per_backend!(conn, |c| diesel::insert_into(audit_log::table)
            .values(batch)
            .execute(c))?;
    }
    diesel::update(audit_head::table.find(1))
        .set(audit_head::hash.eq(&prev_hash))
        .execute(conn)?;
    Ok(())
}

/// Walks the whole chain, oldest first. The oldest entry kept is the anchor: entries older than
/// the audit retention period are deleted on purpose.
pub fn verify(conn: &mut DbConnection, cipher: &PiiCipher) -> Result<ChainReport, DbError> {
    let (head_seq, head_hash): (i64, String) = audit_head::table
        .find(1)
        .select((audit_head::seq, audit_head::hash))
        .first(conn)?;
    let mut previous: Option<(i64, String)> = None;
    let mut entries = 0usize;
    let mut after = i64::MIN;
    loop {
        let page: Vec<AuditRow> = audit_log::table
            .filter(audit_log::seq.gt(after))
            .order(audit_log::seq.asc())
            .limit(10_000)
            .select(AuditRow::as_select())
            .load(conn)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for row in &page {
            match row.is_intact(cipher) {
                Some(true) => {}
                Some(false) => {
                    return Ok(ChainReport::Changed {
                        seq: row.seq,
                        id: row.id,
                    })
                }
                None => {
                    return Ok(ChainReport::KeyMissing {
                        seq: row.seq,
                        id: row.id,
                        key_id: row.key_id.clone(),
                    })
                }
            }
            if let Some((prev_seq, prev_hash)) = &previous {
                if row.seq != prev_seq + 1 || &row.prev_hash != prev_hash {
                    return Ok(ChainReport::Broken {
                        seq: row.seq,
                        id: row.id,
                    });
                }
            }
            previous = Some((row.seq, row.hash.clone()));
            entries += 1;
        }
    }
    match previous {
        Some((last_seq, last_hash)) if last_seq != head_seq || last_hash != head_hash => {
            Ok(ChainReport::Truncated { last_seq, head_seq })
        }
        None if head_seq != 0 && head_hash != "genesis" => Ok(ChainReport::Truncated {
            last_seq: 0,
            head_seq,
        }),
        _ => Ok(ChainReport::Intact { entries }),
    }
}

/// The head of the chain: the last sequence number written and its hash.
pub fn head(conn: &mut DbConnection) -> Result<(i64, String), DbError> {
    Ok(audit_head::table
        .find(1)
        .select((audit_head::seq, audit_head::hash))
        .first(conn)?)
}

/// The hash of entry `seq`, when it is still there.
pub fn hash_at(conn: &mut DbConnection, seq: i64) -> Result<Option<String>, DbError> {
    Ok(audit_log::table
        .filter(audit_log::seq.eq(seq))
        .select(audit_log::hash)
        .first(conn)
        .optional()?)
}

/// The oldest entry still kept.
pub fn oldest_seq(conn: &mut DbConnection) -> Result<Option<i64>, DbError> {
    Ok(audit_log::table
        .select(diesel::dsl::min(audit_log::seq))
        .first(conn)?)
}

/// Entries of `region` (a prefix) for auditors, newest first, optionally filtered.
pub fn list(
    conn: &mut DbConnection,
    region: &str,
    action: Option<&str>,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditRow>, DbError> {
    let mut query = audit_log::table
        .filter(audit_log::region_code.like(format!("{region}%")))
        .order(audit_log::seq.desc())
        .limit(limit)
        .select(AuditRow::as_select())
        .into_boxed();
    if let Some(action) = action {
        query = query.filter(audit_log::action.eq(action.to_owned()));
    }
    if let Some(before) = before_seq {
        query = query.filter(audit_log::seq.lt(before));
    }
    Ok(query.load(conn)?)
}
