//! Risky venue windows: health officials declare a time at a venue of their region risky. A
//! notification goes to the account that scanned each overlapping stay in (the resident, or the
//! guardian of a companion) and to the verified account of each person; never to venue staff who
//! registered someone at the door.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::{audit, delivery};
use crate::auth::Staff;
use crate::db::notifications::{self, NewRiskNotification};
use crate::db::risk_windows::{self, NewRiskWindow};
use crate::db::traces::LONGEST_STAY;
use crate::db::{accounts, check_ins, venues, DbError};
use crate::domain::{CheckInSource, FieldCode, FieldError, FieldErrors, Retained};
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum RiskWindowError {
    #[error("no such venue in this region")]
    VenueNotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A risky window, validated at the edge (`to` after `from`, a message of 1 to 500 characters).
#[derive(Debug, Clone)]
pub struct NewWindow {
    pub venue_id: i64,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub message: String,
}

/// The longest message a window may carry.
pub const MAX_MESSAGE_CHARS: usize = 500;

impl NewWindow {
    /// Checks a window whose times were read already (`None` for one that was not readable):
    /// `to` after `from` inside the retention period (the stays it reads and tells of are no
    /// older), a message of 1 to 500 characters. Bad fields are added to `errors`.
    pub fn check(
        errors: &mut FieldErrors,
        venue_id: i64,
        from: Option<NaiveDateTime>,
        to: Option<NaiveDateTime>,
        message: &str,
        retained: Retained,
    ) -> Option<Self> {
        let window = retained.check(errors, from, to, "风险");
        let message = message.trim().to_owned();
        if message.is_empty() || message.chars().count() > MAX_MESSAGE_CHARS {
            errors.add(
                "message",
                FieldError::new(
                    FieldCode::MessageInvalid,
                    format!("提示内容须为1至{MAX_MESSAGE_CHARS}字"),
                ),
            );
        }
        window.map(|(from, to)| NewWindow {
            venue_id,
            from,
            to,
            message,
        })
    }
}

/// A declared window as the region's list shows it.
#[derive(Debug)]
pub struct DeclaredWindow {
    pub id: i64,
    pub venue_id: i64,
    pub venue: String,
    pub from: String,
    pub to: String,
    pub message: String,
    pub created_at: String,
}

/// The newest windows declared at venues of the official's region.
pub async fn recent(
    state: &Arc<AppState>,
    official: &Staff,
    limit: i64,
) -> Result<Vec<DeclaredWindow>, DbError> {
    let scope = official.region.clone();
    state
        .read(move |state, conn| {
            Ok(risk_windows::recent_in(conn, &scope, limit)?
                .into_iter()
                .map(|w| DeclaredWindow {
                    id: w.id,
                    venue_id: w.venue_id,
                    venue: w.venue,
                    from: state.clock.show(w.from),
                    to: state.clock.show(w.to),
                    message: w.message,
                    created_at: state.clock.show(w.created_at),
                })
                .collect())
        })
        .await
}

#[derive(Debug, Serialize)]
pub struct RiskWindowView {
    pub id: i64,
    pub venue_id: i64,
    pub from: String,
    pub to: String,
    /// Distinct people whose stay overlapped.
    pub people: usize,
    /// Notifications written (the accounts that scanned the stays in, and verified owners).
    pub notified: usize,
}

pub async fn create(
    state: &Arc<AppState>,
    official: &Staff,
    window: NewWindow,
) -> Result<RiskWindowView, RiskWindowError> {
    let official = official.clone();
    state
        .write(move |state, conn| {
            let venue = venues::find(conn, window.venue_id)?
                .filter(|v| official.covers(&v.region_code))
                .ok_or(RiskWindowError::VenueNotFound)?;
            let now = state.clock.now_naive();
            let window_id = risk_windows::insert(
                conn,
                &NewRiskWindow {
                    venue_id: venue.id,
                    from: window.from,
                    to: window.to,
                    message: &window.message,
                    created_by: official.id,
                    created_at: now,
                },
            )?;
            let since = state.retained().since;
            let mut stays =
                check_ins::stays_overlapping(conn, venue.id, window.from, window.to, LONGEST_STAY)?;
            // Stays that began before the retention period wait for the purge: never read.
            stays.retain(|stay| stay.from >= since);
            let person_ids: Vec<i64> = stays.iter().map(|s| s.person_id).collect();
            let owners = accounts::owners(conn, &person_ids, true)?;
            // One notification per account and person: the person's verified account, and the
            // account that scanned the stay in or printed its paper code.
            let mut by_recipient = BTreeMap::new();
            for stay in &stays {
                // Venue staff who registered someone at the door are not told; the account
                // that printed a paper code is, like one that scanned.
                let scanner = match stay.source {
                    CheckInSource::Scan => stay.account_id,
                    CheckInSource::Paper => stay.printed_by,
                    CheckInSource::Manual => None,
                };
                let recipients = owners
                    .iter()
                    .filter(|(p, _)| *p == stay.person_id)
                    .map(|(_, a)| *a)
                    .chain(scanner);
                for account_id in recipients {
                    by_recipient
                        .entry((account_id, stay.person_id))
                        .or_insert((stay.from, stay.to));
                }
            }
            let rows: Vec<NewRiskNotification> = by_recipient
                .into_iter()
                .map(
                    |((account_id, person_id), (stay_from, stay_to))| NewRiskNotification {
                        account_id,
                        person_id,
                        stay_from,
                        stay_to,
                        outgoing: Some(delivery::risk_window_values(
                            &state.clock,
                            &venue.name,
                            stay_from,
                        )),
                    },
                )
                .collect();
            notifications::insert_risk_windows(conn, window_id, &rows, now)?;
            let mut people = person_ids;
            people.sort_unstable();
            people.dedup();
            let entry = audit::by_staff(
                &official,
                "risk_window.create",
                format!("venue:{}", venue.id),
                people.len() as i64,
            );
            audit::record(state, conn, &[entry])?;
            Ok(RiskWindowView {
                id: window_id,
                venue_id: venue.id,
                from: state.clock.show(window.from),
                to: state.clock.show(window.to),
                people: people.len(),
                notified: rows.len(),
            })
        })
        .await
}
