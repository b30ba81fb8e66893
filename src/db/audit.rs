//! The append-only audit log. Every entry carries the keyed hash of the one before it, so a
//! changed or removed entry breaks the chain where it happened. Appends run inside the caller's
//! transaction, so an action and its audit entry are written together or not at all.

use chrono::{NaiveDateTime, Timelike, Utc};
use diesel::prelude::*;

use super::schema::{audit_head, audit_log};
use super::{DbConnection, DbError};
use crate::pii::{Field, PiiCipher};

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
}

impl ChainLink<'_> {
    pub fn content(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.seq,
            self.at.format("%Y-%m-%dT%H:%M:%S%.6f"),
            self.actor,
            self.role,
            self.action,
            self.subject_hash,
            self.count,
            self.prev_hash
        )
    }
}

impl AuditRow {
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
        }
    }
}

/// Appends one entry. Call inside the transaction of the action it records.
pub fn append(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    entry: &AuditEntry<'_>,
) -> Result<(), DbError> {
    // Updating the head first takes its row lock (PostgreSQL) or the write lock (SQLite), so
    // concurrent appends queue here instead of forking the chain.
    diesel::update(audit_head::table.find(1))
        .set(audit_head::seq.eq(audit_head::seq + 1))
        .execute(conn)?;
    let (seq, prev_hash): (i64, String) = audit_head::table
        .find(1)
        .select((audit_head::seq, audit_head::hash))
        .first(conn)?;
    let now = Utc::now().naive_utc();
    // Stored to the microsecond by both backends, so hash what will be read back.
    let at = now
        .with_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now);
    let subject_hash = cipher.lookup_hash(Field::AuditSubject, &entry.subject);
    let hash = cipher.audit_chain_hash(
        &ChainLink {
            seq,
            at,
            actor: &entry.actor,
            role: entry.role,
            action: entry.action,
            subject_hash: &subject_hash,
            count: entry.count,
            prev_hash: &prev_hash,
        }
        .content(),
    );
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::seq.eq(seq),
            audit_log::at.eq(at),
            audit_log::actor.eq(&entry.actor),
            audit_log::role.eq(entry.role),
            audit_log::action.eq(entry.action),
            audit_log::subject_hash.eq(&subject_hash),
            audit_log::count.eq(entry.count),
            audit_log::prev_hash.eq(&prev_hash),
            audit_log::hash.eq(&hash),
        ))
        .execute(conn)?;
    diesel::update(audit_head::table.find(1))
        .set(audit_head::hash.eq(&hash))
        .execute(conn)?;
    Ok(())
}

/// Entries for one subject, newest first (for tests and the audit reader).
pub fn for_subject(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    subject: &str,
) -> Result<Vec<AuditRow>, DbError> {
    Ok(audit_log::table
        .filter(audit_log::subject_hash.eq(cipher.lookup_hash(Field::AuditSubject, subject)))
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
) -> Result<(), DbError> {
    if entries.is_empty() {
        return Ok(());
    }
    diesel::update(audit_head::table.find(1))
        .set(audit_head::seq.eq(audit_head::seq + entries.len() as i64))
        .execute(conn)?;
    let (last_seq, mut prev_hash): (i64, String) = audit_head::table
        .find(1)
        .select((audit_head::seq, audit_head::hash))
        .first(conn)?;
    let first_seq = last_seq - entries.len() as i64 + 1;
    let now = Utc::now().naive_utc();
    let at = now
        .with_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now);
    let mut rows = Vec::with_capacity(entries.len());
    for (offset, entry) in entries.iter().enumerate() {
        let seq = first_seq + offset as i64;
        let subject_hash = cipher.lookup_hash(Field::AuditSubject, &entry.subject);
        let hash = cipher.audit_chain_hash(
            &ChainLink {
                seq,
                at,
                actor: &entry.actor,
                role: entry.role,
                action: entry.action,
                subject_hash: &subject_hash,
                count: entry.count,
                prev_hash: &prev_hash,
            }
            .content(),
        );
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
