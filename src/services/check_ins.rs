//! After the scan: ending a stay early (checkout) and the itinerary of the last days — the seeds'
//! travel card below the health code.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Duration;
use serde::Serialize;

use super::accounts::identity_of;
use crate::auth::Account;
use crate::db::{accounts, check_ins, open_name, persons, regions, DbError};
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
                check_ins::group_of(conn, &row)?
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

/// The places the account recorded in the last `days` — its own scans and the companions it
/// checked in — newest first. A verified identity adds every check-in of its person (a manual
/// check-in at a door, a companion check-in by family). Each line carries the name the
/// account knows the person by: its own, or the one it typed for its companion.
pub async fn itinerary(
    state: &Arc<AppState>,
    account: &Account,
    days: u32,
) -> Result<Vec<ItineraryItem>, CheckInError> {
    let account_id = account.id;
    state
        .read_behind(move |state, conn| {
            let account = accounts::find(conn, account_id)?.ok_or(CheckInError::AccountGone)?;
            let own = identity_of(state, conn, &account)?;
            let verified_person = own.as_ref().filter(|_| account.is_verified()).map(|p| p.id);
            let since = state.clock.now_naive() - Duration::days(i64::from(days));
            let mut region_names: HashMap<String, String> = HashMap::new();
            let mut items = Vec::new();
            for row in check_ins::itinerary(conn, account_id, verified_person, since)? {
                if !region_names.contains_key(&row.region_code) {
                    let name = regions::full_name_of(conn, &row.region_code)?;
                    region_names.insert(row.region_code.clone(), name);
                }
                let (role, name) = named(state, conn, own.as_ref(), &row)?;
                let person = ItineraryPerson {
                    role,
                    name: name.map(|n| n.masked()).unwrap_or_default(),
                };
                items.push(ItineraryItem {
                    check_in_id: row.check_in_id,
                    person,
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

/// Who a check-in the account recorded is, under the name the account knows them by: its own
/// person, or anyone else it recorded (a companion it checked in or printed a paper code for)
/// under the name it typed. `None` for a person gone from a row of the first release, which
/// kept no typed name.
pub(crate) fn named(
    state: &AppState,
    conn: &mut crate::db::DbConnection,
    own: Option<&crate::db::persons::Person>,
    row: &check_ins::ItineraryRow,
) -> Result<(CheckInRole, Option<crate::domain::PersonName>), DbError> {
    Ok(match (own, &row.typed_name_sealed) {
        (Some(me), _) if me.id == row.person_id => (CheckInRole::Own, Some(me.name.clone())),
        (_, Some(sealed)) => (
            CheckInRole::Companion,
            Some(open_name(
                &state.cipher,
                sealed,
                format_args!("check-in {}", row.check_in_id),
            )?),
        ),
        (_, None) => (
            CheckInRole::Companion,
            persons::open(conn, &state.cipher, row.person_id)?.map(|p| p.name),
        ),
    })
}
