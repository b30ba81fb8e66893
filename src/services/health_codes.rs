//! Health officials set health-code colours, one at a time or in bulk, with a reason code. Each
//! person keeps a history; every change and every read of a person's data is audited.

use std::sync::Arc;

use serde::Serialize;

use super::audit;
use crate::auth::Staff;
use crate::db::health_codes::{self, ColorChange};
use crate::db::{persons, DbConnection, DbError};
use crate::domain::{FieldError, FieldErrors, HealthColor, HealthReason, IdNumber, PersonName};
use crate::state::AppState;

/// The most changes one import may carry.
pub const MAX_IMPORT_ROWS: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum HealthCodeError {
    #[error("no record of this person")]
    NotFound,
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// One colour change, validated at the edge, before its person is resolved.
#[derive(Debug, Clone)]
pub struct NewColor {
    pub id_number: IdNumber,
    /// Needed only when the ID number is not yet known to the system.
    pub name: Option<PersonName>,
    pub color: HealthColor,
    pub reason: HealthReason,
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct HistoryItem {
    pub color: HealthColor,
    pub reason_code: HealthReason,
    pub note: Option<String>,
    pub changed_by: Option<i64>,
    pub changed_at: String,
}

/// A person's colour as officials see it: in full, with its history.
#[derive(Debug, Serialize)]
pub struct HealthCodeView {
    pub id_number: String,
    pub name: String,
    pub color: HealthColor,
    pub reason_code: Option<HealthReason>,
    pub updated_at: Option<String>,
    pub history: Vec<HistoryItem>,
}

/// Resolves each change to a person (created when new, which needs a name); `field_of` names the
/// field of a row that lacks one.
fn resolve(
    state: &AppState,
    conn: &mut DbConnection,
    changes: &[NewColor],
    field_of: impl Fn(usize) -> String,
) -> Result<Vec<ColorChange>, HealthCodeError> {
    let mut resolved = Vec::with_capacity(changes.len());
    let mut errors = FieldErrors::default();
    let now = state.clock.now_naive();
    for (index, change) in changes.iter().enumerate() {
        let person = match (
            &change.name,
            persons::find_by_id_number(conn, &state.cipher, &change.id_number)?,
        ) {
            (Some(name), _) => Some(persons::upsert(
                conn,
                &state.cipher,
                &change.id_number,
                name,
                now,
            )?),
            (None, Some(existing)) => Some(existing),
            (None, None) => {
                errors.add(
                    field_of(index),
                    FieldError::new("name_required", "该身份证号尚无记录，请同时提供姓名"),
                );
                None
            }
        };
        if let Some(person) = person {
            resolved.push(ColorChange {
                person_id: person.id,
                color: change.color,
                reason: change.reason,
                note: change.note.clone(),
            });
        }
    }
    errors.finish()?;
    Ok(resolved)
}

/// Applies resolved changes with their history and one audit entry each.
pub fn apply(
    state: &AppState,
    conn: &mut DbConnection,
    official: &Staff,
    changes: &[ColorChange],
) -> Result<(), DbError> {
    health_codes::apply(
        conn,
        &state.cipher,
        official.id,
        changes,
        state.clock.now_naive(),
    )?;
    let entries: Vec<_> = changes
        .iter()
        .map(|c| {
            audit::by_staff(
                official,
                "health_code.set",
                format!("person:{}", c.person_id),
                1,
            )
        })
        .collect();
    audit::record(state, conn, &entries)
}

fn view(
    state: &AppState,
    conn: &mut DbConnection,
    person_id: i64,
) -> Result<HealthCodeView, HealthCodeError> {
    let person = persons::open(conn, &state.cipher, person_id)?.ok_or(HealthCodeError::NotFound)?;
    let current =
        health_codes::current(conn, &[person_id], state.settings.scan.unknown_color)?[&person_id];
    let history = health_codes::history(conn, &state.cipher, person_id)?;
    Ok(HealthCodeView {
        id_number: person.id_number.as_ref().to_owned(),
        name: person.name.as_ref().to_owned(),
        color: current.color,
        reason_code: history.first().map(|h| h.reason_code),
        updated_at: current.updated_at.map(|t| state.clock.show(t)),
        history: history
            .into_iter()
            .map(|h| HistoryItem {
                color: h.color,
                reason_code: h.reason_code,
                note: h.note,
                changed_by: h.changed_by,
                changed_at: state.clock.show(h.changed_at),
            })
            .collect(),
    })
}

pub async fn set(
    state: &Arc<AppState>,
    official: &Staff,
    change: NewColor,
) -> Result<HealthCodeView, HealthCodeError> {
    let official = official.clone();
    state
        .write(move |state, conn| {
            let resolved = resolve(state, conn, std::slice::from_ref(&change), |_| {
                "name".into()
            })?;
            apply(state, conn, &official, &resolved)?;
            view(state, conn, resolved[0].person_id)
        })
        .await
}

/// A person's colour and history; reading a person's data is an official access, audited.
pub async fn get(
    state: &Arc<AppState>,
    official: &Staff,
    id_number: IdNumber,
) -> Result<HealthCodeView, HealthCodeError> {
    let official = official.clone();
    state
        .write(move |state, conn| {
            let person = persons::find_by_id_number(conn, &state.cipher, &id_number)?
                .ok_or(HealthCodeError::NotFound)?;
            audit::record(
                state,
                conn,
                &[audit::by_staff(
                    &official,
                    "health_code.read",
                    format!("person:{}", person.id),
                    1,
                )],
            )?;
            view(state, conn, person.id)
        })
        .await
}

/// Up to 10,000 changes, all or nothing; a bad row's fields are named (`changes[3].name`).
pub async fn import(
    state: &Arc<AppState>,
    official: &Staff,
    changes: Vec<NewColor>,
) -> Result<usize, HealthCodeError> {
    let official = official.clone();
    let applied = state
        .write(move |state, conn| {
            let resolved = resolve(state, conn, &changes, |i| format!("changes[{i}].name"))?;
            apply(state, conn, &official, &resolved)?;
            Ok::<_, HealthCodeError>(resolved.len())
        })
        .await?;
    tracing::info!(applied, "health codes imported");
    Ok(applied)
}
