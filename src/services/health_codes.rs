//! Health officials set health-code colours, one at a time or in bulk, with a reason code. Each
//! person keeps a history; every change and every read of a person's data is audited.
//!
//! Bulk colour changes (preview, import, a second official's confirmation) are in
//! `health_code_imports.rs`, test results and vaccinations in `test_results.rs`; both resolve
//! people through [`resolve`] / [`resolve_people`] here.
//!
//! An official reaches only the people of their region (`authorize::person`): anyone else
//! answers as unknown, and a new person may be named only with a resident ID of the region (or a
//! document that names no home region, see `authorize::new_person_in_region`). An
//! import of more than `TRACE_CONFIRM_THRESHOLD` people waits, sealed, for a second official of the
//! region, like any mass change.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde::Serialize;

use super::cache_sync::changed;
use super::{audit, authorize, delivery};
use crate::auth::Staff;
use crate::cache::CacheKey;
use crate::db::follow_ups::{self, NewFollowUp};
use crate::db::health_codes::{self, ColorChange};
use crate::db::notifications::{self, NewMessage};
use crate::db::persons::PersonKey;
use crate::db::{accounts, companions, persons, DbConnection, DbError};
use crate::domain::{
    optional_text, FieldCode, FieldError, FieldErrors, FollowUpCause, HealthColor, HealthReason,
    IdDocument, IdType, NotificationKind, PersonName,
};
use crate::state::AppState;

/// The most changes one import may carry.
pub const MAX_IMPORT_ROWS: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum HealthCodeError {
    #[error("no record of this person in the official's region")]
    NotFound,
    #[error("rows name people outside the official's region")]
    OutsideRegion { fields: Vec<String> },
    #[error("no such pending import in this region")]
    ImportNotFound,
    #[error("the import must be confirmed by another official")]
    SecondOfficialRequired,
    #[error("the import was already applied")]
    ImportNotPending,
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// One colour change, validated at the edge, before its person is resolved.
#[derive(Debug, Clone)]
pub struct NewColor {
    pub document: IdDocument,
    /// Needed only when the document is not yet known to the system.
    pub name: Option<PersonName>,
    pub color: HealthColor,
    pub reason: HealthReason,
    pub note: Option<String>,
}

/// The longest note a change may carry.
pub const MAX_NOTE_CHARS: usize = 500;

/// A colour change as it was typed (an API body, a console form, a CSV row), before it is checked.
pub struct ColorInput<'a> {
    pub id_type: Option<&'a str>,
    pub id_number: &'a str,
    pub name: Option<&'a str>,
    pub color: &'a str,
    pub reason_code: &'a str,
    pub note: Option<&'a str>,
}

impl NewColor {
    /// Checks a typed change; its fields are named under `prefix` (`changes[3].`), every bad one
    /// added to `errors`.
    pub fn check(errors: &mut FieldErrors, prefix: &str, input: ColorInput<'_>) -> Option<Self> {
        let document = IdDocument::check(errors, prefix, input.id_type, input.id_number);
        let name = match input.name.filter(|n| !n.trim().is_empty()) {
            Some(name) => Some(errors.check(format!("{prefix}name"), PersonName::parse(name))?),
            None => None,
        };
        let color = errors.check(format!("{prefix}color"), HealthColor::parse(input.color));
        let reason = errors.check(
            format!("{prefix}reason_code"),
            HealthReason::parse(input.reason_code),
        );
        let note = optional_text(
            errors,
            &format!("{prefix}note"),
            input.note,
            MAX_NOTE_CHARS,
            FieldError::new(
                FieldCode::NoteInvalid,
                format!("备注最多{MAX_NOTE_CHARS}个字"),
            ),
        );
        Some(NewColor {
            document: document?,
            name,
            color: color?,
            reason: reason?,
            note,
        })
    }
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
    pub id_type: IdType,
    pub id_number: String,
    pub name: String,
    pub color: HealthColor,
    pub reason_code: Option<HealthReason>,
    pub updated_at: Option<String>,
    pub history: Vec<HistoryItem>,
}

/// Resolves each change to a person of the official's region (see [`resolve_people`]).
pub(super) fn resolve(
    state: &AppState,
    conn: &mut DbConnection,
    official: &Staff,
    changes: &[NewColor],
    field_of: impl Fn(usize, &str) -> String,
) -> Result<Vec<ColorChange>, HealthCodeError> {
    let named: Vec<(&IdDocument, Option<&PersonName>)> = changes
        .iter()
        .map(|c| (&c.document, c.name.as_ref()))
        .collect();
    let people = resolve_people(state, conn, official, &named, field_of)?;
    Ok(changes
        .iter()
        .zip(people)
        .map(|(change, person_id)| ColorChange {
            person_id,
            color: change.color,
            reason: change.reason,
            note: change.note.clone(),
        })
        .collect())
}

/// Resolves each (document, name) to a person of the official's region: a known person within
/// it, or a new one (which needs a name) the official may name. A name given for a known
/// person is not used: officials' typing never renames anyone. `field_of` names a row's field.
///
/// A document that names no home region (anything but the resident ID) is answered the same
/// whether or not its holder is on record elsewhere: without a name both are "outside the region
/// or not on record", so no official learns from the answer who is known to another region.
pub(super) fn resolve_people(
    state: &AppState,
    conn: &mut DbConnection,
    official: &Staff,
    rows: &[(&IdDocument, Option<&PersonName>)],
    field_of: impl Fn(usize, &str) -> String,
) -> Result<Vec<i64>, HealthCodeError> {
    let mut resolved = Vec::with_capacity(rows.len());
    let mut errors = FieldErrors::default();
    let mut outside = Vec::new();
    let now = state.clock.now_naive();
    for (index, (document, name)) in rows.iter().enumerate() {
        let person = match persons::find_by_document(conn, &state.cipher, document)? {
            Some(known)
                if authorize::person_in_region(state, conn, official, &known, Some(document))? =>
            {
                Some(known)
            }
            Some(_) => None,
            None if !authorize::new_person_in_region(official, document) => None,
            None => match name {
                Some(name) => Some(persons::find_or_create(
                    conn,
                    &state.cipher,
                    persons::NewPerson {
                        key: &PersonKey::Document((*document).clone()),
                        name,
                        birth_date: None,
                        region: Some(&official.region),
                    },
                    now,
                )?),
                None if document.division().is_none() => None,
                None => {
                    errors.add(
                        field_of(index, "name"),
                        FieldError::new(
                            FieldCode::NameRequired,
                            "该证件号码尚无记录，请同时提供姓名",
                        ),
                    );
                    continue;
                }
            },
        };
        match person {
            Some(person) => resolved.push(person.id),
            None => outside.push(field_of(index, "id_number")),
        }
    }
    if !outside.is_empty() {
        return Err(HealthCodeError::OutsideRegion { fields: outside });
    }
    errors.finish()?;
    Ok(resolved)
}

/// The current colour of a person on record, `None` without one.
pub(super) fn current_color(
    conn: &mut DbConnection,
    state: &AppState,
    person_id: i64,
) -> Result<Option<HealthColor>, DbError> {
    let current = health_codes::current(conn, &[person_id], state.settings.scan.unknown_color)?;
    Ok(current
        .get(&person_id)
        .filter(|c| c.updated_at.is_some())
        .map(|c| c.color))
}

/// Past this many people, a change of colours empties every node's colour cache at once rather
/// than naming each person.
pub(super) const NAMED_COLOR_CHANGES: usize = 1_000;

/// Applies resolved changes with their history and one audit entry each; the scans of every node
/// see them within a second.
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
    audit::record(state, conn, &entries)?;
    // A yellow or red person is followed up by the community of the official's region.
    let follow_up: Vec<NewFollowUp> = changes
        .iter()
        .filter(|c| c.color != HealthColor::Green)
        .map(|c| NewFollowUp {
            person_id: c.person_id,
            region_code: official.region.to_string(),
            color: c.color,
            cause: FollowUpCause::ColorChange,
            venue_id: None,
            check_in_id: None,
        })
        .collect();
    follow_ups::open(conn, &follow_up, state.clock.now_naive())?;
    tell_holders(state, conn, changes)?;
    let keys: Vec<CacheKey> = if changes.len() > NAMED_COLOR_CHANGES {
        vec![CacheKey::AllColors]
    } else {
        changes
            .iter()
            .map(|c| CacheKey::Color(c.person_id))
            .collect()
    };
    changed(state, conn, &keys)
}

/// Tells every account bound to a changed person, and the guardians of a changed person without
/// an account of their own (their companion holders), in
/// its inbox, and queues the platform message.
fn tell_holders(
    state: &AppState,
    conn: &mut DbConnection,
    changes: &[ColorChange],
) -> Result<(), DbError> {
    let now = state.clock.now_naive();
    let color_of: HashMap<i64, HealthColor> =
        changes.iter().map(|c| (c.person_id, c.color)).collect();
    let mut people: Vec<i64> = color_of.keys().copied().collect();
    people.sort_unstable();
    let mut holders = BTreeSet::new();
    let mut owned = std::collections::HashSet::new();
    for chunk in people.chunks(500) {
        for (person, account) in accounts::owners(conn, chunk, false)? {
            holders.insert((account, person, true));
            owned.insert(person);
        }
    }
    // Guardians are told only of the people they look after: those without an account of their
    // own. Someone who merely typed an adult's number learns nothing of their colour.
    for (person, account) in companions::holders_of(conn, &people, true)? {
        if !owned.contains(&person) {
            holders.insert((account, person, false));
        }
    }
    let texts: Vec<(i64, i64, String, Vec<String>)> = holders
        .into_iter()
        .map(|(account, person, own)| {
            let color = color_of[&person];
            let message = if own {
                format!("您的健康码已变更为{}，请在小程序中查看。", color.label())
            } else {
                format!(
                    "您的同行人员的健康码已变更为{}，请在小程序中查看。",
                    color.label()
                )
            };
            let values = delivery::health_code_values(&state.clock, color, now, own);
            (account, person, message, values)
        })
        .collect();
    let messages: Vec<NewMessage<'_>> = texts
        .iter()
        .map(|(account, person, message, values)| NewMessage {
            account_id: *account,
            kind: NotificationKind::HealthCode,
            person_id: Some(*person),
            message,
            outgoing: Some(values),
        })
        .collect();
    notifications::insert_messages(conn, &messages, now)
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
    let document = person.document.ok_or(HealthCodeError::NotFound)?;
    Ok(HealthCodeView {
        id_type: document.kind(),
        id_number: document.number().to_owned(),
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
            let resolved = resolve(
                state,
                conn,
                &official,
                std::slice::from_ref(&change),
                |_, field| field.to_owned(),
            )
            .map_err(|e| match e {
                HealthCodeError::OutsideRegion { .. } => HealthCodeError::NotFound,
                e => e,
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
    document: IdDocument,
) -> Result<HealthCodeView, HealthCodeError> {
    let official = official.clone();
    state
        .write(move |state, conn| {
            let person = authorize::person(state, conn, &official, &document)?
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
