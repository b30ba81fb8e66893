//! A resident's inbox: risky windows that a stay the account recorded (or of its verified person)
//! overlapped, an identity released by someone's verified claim, being added as a companion.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::accounts::identity_of;
use crate::auth::Account;
use crate::db::{accounts, companions, notifications, DbError};
use crate::domain::NotificationKind;
use crate::domain::PageRequest;
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct NotificationView {
    pub id: i64,
    pub kind: NotificationKind,
    /// The Chinese text to show: the officials' message for a risky window.
    pub message: String,
    /// For a risky window: whose stay overlapped (the caller or a companion, masked) and when.
    pub person: Option<String>,
    pub venue: Option<String>,
    pub address: Option<String>,
    pub window_from: Option<String>,
    pub window_to: Option<String>,
    pub stay_from: Option<String>,
    pub stay_to: Option<String>,
    pub created_at: String,
}

/// The account's notifications, newest first; never another account's.
pub async fn list_mine(
    state: &Arc<AppState>,
    account: &Account,
    page: PageRequest,
) -> Result<(Vec<NotificationView>, Option<String>), DbError> {
    let account_id = account.id;
    state
        .read(move |state, conn| {
            // The names this account knows people by: its own, and those it gave its companions.
            let mut names: HashMap<i64, String> = HashMap::new();
            for held in companions::list(conn, account_id)? {
                let opened = held.open(&state.cipher)?;
                names.insert(opened.id, opened.name.masked());
            }
            if let Some(account) = accounts::find(conn, account_id)? {
                if let Some(me) = identity_of(state, conn, &account)? {
                    names.insert(me.id, me.name.masked());
                }
            }
            let clock = &state.clock;
            let show = |t: Option<chrono::NaiveDateTime>| t.map(|t| clock.show(t));
            let (rows, next) = page.cut(
                notifications::for_account(conn, account_id, Some(page))?,
                |row| row.id,
            );
            let views = rows
                .into_iter()
                .map(|row| NotificationView {
                    id: row.id,
                    kind: row.kind,
                    message: row.window_message.or(row.message).unwrap_or_default(),
                    person: row
                        .person_id
                        .map(|id| names.get(&id).cloned().unwrap_or_default()),
                    venue: row.venue_name,
                    address: row.venue_address,
                    window_from: show(row.window_from),
                    window_to: show(row.window_to),
                    stay_from: show(row.stay_from),
                    stay_to: show(row.stay_to),
                    created_at: clock.show(row.created_at),
                })
                .collect();
            Ok((views, next))
        })
        .await
}
