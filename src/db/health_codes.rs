//! Health-code colours: the current colour of each person, the history of changes, and the audit
//! entry of every change.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{health_code_changes, health_codes};
use super::test_results;
use super::{DbConnection, DbError};
use crate::crypto::{Field, PiiCipher};
use crate::domain::{CurrentColor, HealthColor, HealthReason, PersonHealth};

/// [`PersonHealth`] of `person_ids`; people without a colour get `default`.
pub fn health_of(
    conn: &mut DbConnection,
    person_ids: &[i64],
    default: HealthColor,
) -> Result<HashMap<i64, PersonHealth>, DbError> {
    let colors = current(conn, person_ids, default)?;
    let tests = test_results::latest(conn, person_ids)?;
    let vaccinations = test_results::vaccinations_of(conn, person_ids)?;
    Ok(colors
        .into_iter()
        .map(|(id, color)| {
            (
                id,
                PersonHealth {
                    color,
                    test: tests.get(&id).copied(),
                    vaccination: vaccinations.get(&id).copied(),
                },
            )
        })
        .collect())
}

/// The current colours of `person_ids`; people without a record get `default`.
pub fn current(
    conn: &mut DbConnection,
    person_ids: &[i64],
    default: HealthColor,
) -> Result<HashMap<i64, CurrentColor>, DbError> {
    let rows: Vec<(i64, HealthColor, NaiveDateTime)> = health_codes::table
        .filter(health_codes::person_id.eq_any(person_ids))
        .select((
            health_codes::person_id,
            health_codes::color,
            health_codes::updated_at,
        ))
        .load(conn)?;
    let mut colors: HashMap<i64, CurrentColor> = person_ids
        .iter()
        .map(|id| {
            (
                *id,
                CurrentColor {
                    color: default,
                    updated_at: None,
                },
            )
        })
        .collect();
    for (person_id, color, updated_at) in rows {
        colors.insert(
            person_id,
            CurrentColor {
                color,
                updated_at: Some(updated_at),
            },
        );
    }
    Ok(colors)
}

/// One colour change by an official.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ColorChange {
    pub person_id: i64,
    pub color: HealthColor,
    pub reason: HealthReason,
    pub note: Option<String>,
}

/// Applies changes with their history rows. Call inside a transaction.
pub fn apply(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    staff_id: i64,
    changes: &[ColorChange],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    for change in changes {
        crate::per_backend!(conn, |c| diesel::insert_into(health_codes::table)
            .values((
                health_codes::person_id.eq(change.person_id),
                health_codes::color.eq(change.color),
                health_codes::reason_code.eq(change.reason),
                health_codes::updated_at.eq(now),
                health_codes::updated_by.eq(staff_id),
            ))
            .on_conflict(health_codes::person_id)
            .do_update()
            .set((
                health_codes::color.eq(change.color),
                health_codes::reason_code.eq(change.reason),
                health_codes::updated_at.eq(now),
                health_codes::updated_by.eq(staff_id),
            ))
            .execute(c))?;
    }
    let history: Vec<_> = changes
        .iter()
        .map(|change| {
            (
                health_code_changes::person_id.eq(change.person_id),
                health_code_changes::color.eq(change.color),
                health_code_changes::reason_code.eq(change.reason),
                health_code_changes::note_sealed
                    .eq(change.note.as_deref().map(|n| cipher.seal(Field::Note, n))),
                health_code_changes::changed_by.eq(Some(staff_id)),
                health_code_changes::changed_at.eq(now),
            )
        })
        .collect();
    for batch in history.chunks(500) {
        crate::per_backend!(conn, |c| diesel::insert_into(health_code_changes::table)
            .values(batch)
            .execute(c))?;
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub color: HealthColor,
    pub reason_code: HealthReason,
    pub note: Option<String>,
    pub changed_by: Option<i64>,
    pub changed_at: NaiveDateTime,
}

/// A person's colour changes, newest first.
pub fn history(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    person_id: i64,
) -> Result<Vec<HistoryEntry>, DbError> {
    type Row = (
        HealthColor,
        HealthReason,
        Option<String>,
        Option<i64>,
        NaiveDateTime,
    );
    let rows: Vec<Row> = health_code_changes::table
        .filter(health_code_changes::person_id.eq(person_id))
        .order(health_code_changes::id.desc())
        .select((
            health_code_changes::color,
            health_code_changes::reason_code,
            health_code_changes::note_sealed,
            health_code_changes::changed_by,
            health_code_changes::changed_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(color, reason_code, note, changed_by, changed_at)| {
            Ok(HistoryEntry {
                color,
                reason_code,
                note: note
                    .map(|sealed| cipher.open(Field::Note, &sealed))
                    .transpose()
                    .map_err(|e| DbError::Other(e.to_string()))?,
                changed_by,
                changed_at,
            })
        })
        .collect()
}
