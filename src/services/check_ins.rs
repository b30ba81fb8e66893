//! After the scan: ending a stay early (checkout) and the itinerary of the last days — the seeds'
//! travel card below the health code.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Duration;
use serde::Serialize;

use crate::auth::Account;
use crate::db::{accounts, check_ins, companions, persons, regions, DbError};
use crate::domain::{CheckInRole, CheckInSource};
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum CheckInError {
    #[error("no such check-in of this account")]
    NotFound,
    #[error("the account does not exist")]
    AccountGone,
    #[error(transparent)]
    Db(#[from] DbError),
}

#[derive(Debug, Serialize)]
pub struct Checkout {
    pub check_in_id: i64,
    pub left_at: Option<String>,
    /// Every row whose stay ended: the entry's companions too.
    pub check_in_ids: Vec<i64>,
}

#[derive(Debug, Serialize)]
pub struct ItineraryPerson {
    pub role: CheckInRole,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct ItineraryItem {
    pub check_in_id: i64,
    pub person: ItineraryPerson,
    pub venue: String,
    pub entrance: String,
    pub region: String,
    pub address: String,
    pub scanned_at: String,
    pub left_at: Option<String>,
}

/// Ends the stays of an entry the account scanned: the row itself and, for the entry's first row,
/// everyone checked in with it. Stays already over are left as they are.
pub async fn checkout(
    state: &Arc<AppState>,
    account: &Account,
    check_in_id: i64,
) -> Result<Checkout, CheckInError> {
    let account_id = account.id;
    state
        .write(move |state, conn| {
            let row = check_ins::find(conn, check_in_id)?
                .filter(|r| r.account_id == Some(account_id) && r.source == CheckInSource::Scan)
                .ok_or(CheckInError::NotFound)?;
            let targets = if row.group_id == Some(row.id) {
                check_ins::group(conn, row.id)?
                    .iter()
                    .map(|r| r.id)
                    .collect()
            } else {
                vec![row.id]
            };
            let rows = check_ins::end_stays(conn, &targets, state.clock.now_naive())?;
            let own = rows
                .iter()
                .find(|r| r.id == check_in_id)
                .ok_or(CheckInError::NotFound)?;
            Ok(Checkout {
                check_in_id,
                left_at: own.left_at.map(|t| state.clock.show(t)),
                check_in_ids: rows.iter().map(|r| r.id).collect(),
            })
        })
        .await
}

/// The places the caller and their companions went in the last `days`, newest first.
pub async fn itinerary(
    state: &Arc<AppState>,
    account: &Account,
    days: u32,
) -> Result<Vec<ItineraryItem>, CheckInError> {
    let account_id = account.id;
    state
        .read(move |state, conn| {
            let account = accounts::find(conn, account_id)?.ok_or(CheckInError::AccountGone)?;
            let mut people: HashMap<i64, ItineraryPerson> = HashMap::new();
            if let Some(person) = match account.person_id {
                Some(id) => persons::open(conn, &state.cipher, id)?,
                None => None,
            } {
                people.insert(
                    person.id,
                    ItineraryPerson {
                        role: CheckInRole::Own,
                        name: person.name.masked(),
                    },
                );
            }
            for (_, row) in companions::list(conn, account_id)? {
                let person = row.open(&state.cipher)?;
                people.entry(row.id).or_insert(ItineraryPerson {
                    role: CheckInRole::Companion,
                    name: person.name.masked(),
                });
            }
            let ids: Vec<i64> = people.keys().copied().collect();
            let since = state.clock.now_naive() - Duration::days(i64::from(days));
            let mut region_names: HashMap<String, String> = HashMap::new();
            let mut items = Vec::new();
            for row in check_ins::itinerary(conn, &ids, since)? {
                if !region_names.contains_key(&row.region_code) {
                    let name = regions::full_name_of(conn, &row.region_code)?;
                    region_names.insert(row.region_code.clone(), name);
                }
                let person = &people[&row.person_id];
                items.push(ItineraryItem {
                    check_in_id: row.check_in_id,
                    person: ItineraryPerson {
                        role: person.role,
                        name: person.name.clone(),
                    },
                    venue: row.venue_name,
                    entrance: row.entrance_name,
                    region: region_names[&row.region_code].clone(),
                    address: row.address,
                    scanned_at: state.clock.show(row.scanned_at),
                    left_at: row.left_at.map(|t| state.clock.show(t)),
                });
            }
            Ok(items)
        })
        .await
}
