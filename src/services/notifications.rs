//! A resident's inbox: the risky-venue notifications of their account.

use std::sync::Arc;

use serde::Serialize;

use crate::auth::Account;
use crate::db::{notifications, persons, DbError};
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct NotificationView {
    pub id: i64,
    /// Whose stay overlapped: the caller or a companion, masked.
    pub person: String,
    pub venue: String,
    pub address: String,
    pub message: String,
    pub window_from: String,
    pub window_to: String,
    pub stay_from: String,
    pub stay_to: String,
    pub created_at: String,
}

/// The account's notifications, newest first; never another account's.
pub async fn list_mine(
    state: &Arc<AppState>,
    account: &Account,
) -> Result<Vec<NotificationView>, DbError> {
    let account_id = account.id;
    state
        .read(move |state, conn| {
            let clock = &state.clock;
            notifications::for_account(conn, account_id)?
                .into_iter()
                .map(|row| {
                    let person = persons::open(conn, &state.cipher, row.person_id)?
                        .map(|p| p.name.masked())
                        .unwrap_or_default();
                    Ok(NotificationView {
                        id: row.id,
                        person,
                        venue: row.venue_name,
                        address: row.venue_address,
                        message: row.message,
                        window_from: clock.show(row.window_from),
                        window_to: clock.show(row.window_to),
                        stay_from: clock.show(row.stay_from),
                        stay_to: clock.show(row.stay_to),
                        created_at: clock.show(row.created_at),
                    })
                })
                .collect()
        })
        .await
}
