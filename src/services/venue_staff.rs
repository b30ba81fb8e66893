//! Venue staff: the manager invites with a one-time code, a staff member redeems it from their
//! own mini-program account, the manager can remove them. Venue staff register people by hand and
//! see counts; they never see another person's data unmasked.

use std::sync::Arc;

use chrono::Duration;
use rand::Rng;
use serde::Serialize;

use super::accounts::{consented, AccountError};
use super::authorize::{self, VenueRole};
use super::cache_sync::changed;
use super::venues::VenueError;
use crate::auth::Account;
use crate::cache::CacheKey;
use crate::crypto::Field;
use crate::db::{accounts, persons, venue_staff, venues, DbError};
use crate::state::AppState;

/// Without 0/O, 1/I: read aloud or typed from a screen without mistakes.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
pub const CODE_LEN: usize = 8;

/// Whether `code` (upper case) could be an invitation code: `CODE_LEN` characters of the alphabet.
pub fn is_invitation_code(code: &str) -> bool {
    code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b))
}
/// An invitation is good for a day.
const INVITATION_HOURS: i64 = 24;

#[derive(Debug, thiserror::Error)]
pub enum VenueStaffError {
    #[error(transparent)]
    Venue(#[from] VenueError),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error("the invitation code is unknown, used or expired")]
    InvitationInvalid,
    #[error("the account is not staff of this venue")]
    NotStaff,
    #[error(transparent)]
    Db(#[from] DbError),
}

#[derive(Debug, Serialize)]
pub struct Invitation {
    pub code: String,
    pub expires_at: String,
}

#[derive(Debug, Serialize)]
pub struct Redeemed {
    pub venue_id: i64,
    pub venue_name: String,
}

#[derive(Debug, Serialize)]
pub struct StaffMember {
    pub account_id: i64,
    /// Masked.
    pub name: Option<String>,
    /// Masked.
    pub phone: Option<String>,
    pub since: String,
}

#[derive(Debug, Serialize)]
pub struct MyVenue {
    pub id: i64,
    pub name: String,
    pub role: &'static str,
}

pub async fn invite(
    state: &Arc<AppState>,
    account: &Account,
    venue_id: i64,
) -> Result<Invitation, VenueStaffError> {
    let code: String = {
        let mut rng = rand::thread_rng();
        (0..CODE_LEN)
            .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
            .collect()
    };
    let account_id = account.id;
    let issued = code.clone();
    let expires_at = state
        .write(move |state, conn| {
            authorize::venue(conn, venue_id, account_id, VenueRole::Manager)?;
            let now = state.clock.now_naive();
            let expires_at = now + Duration::hours(INVITATION_HOURS);
            venue_staff::create_invitation(
                conn,
                &state.cipher,
                venue_id,
                &issued,
                now,
                expires_at,
            )?;
            Ok::<_, VenueStaffError>(expires_at)
        })
        .await?;
    Ok(Invitation {
        code,
        expires_at: state.clock.show(expires_at),
    })
}

/// Makes the caller staff of the invitation's venue. Staff register other people's data, so they
/// must have consented (and be identified) themselves.
pub async fn redeem(
    state: &Arc<AppState>,
    account: &Account,
    code: String,
) -> Result<Redeemed, VenueStaffError> {
    let account_id = account.id;
    state
        .write(move |state, conn| {
            consented(conn, account_id)?;
            let now = state.clock.now_naive();
            let venue_id = venue_staff::redeem(conn, &state.cipher, &code, account_id, now)?
                .ok_or(VenueStaffError::InvitationInvalid)?;
            let venue = venues::find(conn, venue_id)?.ok_or(VenueError::NotFound)?;
            Ok(Redeemed {
                venue_id,
                venue_name: venue.name,
            })
        })
        .await
}

pub async fn list(
    state: &Arc<AppState>,
    account: &Account,
    venue_id: i64,
) -> Result<Vec<StaffMember>, VenueStaffError> {
    let account_id = account.id;
    state
        .read(move |state, conn| {
            authorize::venue(conn, venue_id, account_id, VenueRole::Manager)?;
            let mut members = Vec::new();
            for member in venue_staff::list(conn, venue_id)? {
                let account = accounts::find(conn, member.account_id)?;
                let person = match account.as_ref().and_then(|a| a.person_id) {
                    Some(id) => persons::open(conn, &state.cipher, id)?,
                    None => None,
                };
                let phone = match &account {
                    Some(account) => account.phone(&state.cipher)?,
                    None => None,
                };
                members.push(StaffMember {
                    account_id: member.account_id,
                    name: person.map(|p| p.name.masked()),
                    phone: phone.map(|p| p.masked()),
                    since: state.clock.show(member.created_at),
                });
            }
            Ok(members)
        })
        .await
}

pub async fn remove(
    state: &Arc<AppState>,
    account: &Account,
    venue_id: i64,
    staff_account_id: i64,
) -> Result<(), VenueStaffError> {
    let account_id = account.id;
    state
        .write(move |_, conn| {
            authorize::venue(conn, venue_id, account_id, VenueRole::Manager)?;
            if venue_staff::remove(conn, venue_id, staff_account_id)? {
                Ok(())
            } else {
                Err(VenueStaffError::NotStaff)
            }
        })
        .await
}

/// The venues the caller manages or works at, for the mini-program's venue menu. Venues a
/// registrar registered for the manager whose mobile the account proved are claimed first.
pub async fn my_venues(
    state: &Arc<AppState>,
    account: &Account,
) -> Result<Vec<MyVenue>, VenueStaffError> {
    let account_id = account.id;
    // A read first: only an account with venues to claim takes a write.
    let (phone_hashes, to_claim) = state
        .read(move |state, conn| {
            let phone = match accounts::find(conn, account_id)? {
                Some(row) => row.phone(&state.cipher)?,
                None => None,
            };
            // Under every configured key: the venue may not be resealed yet.
            let phone_hashes = phone
                .map(|phone| state.cipher.lookup_hashes(Field::Phone, phone.as_ref()))
                .unwrap_or_default();
            let to_claim = !phone_hashes.is_empty() && venues::has_unclaimed(conn, &phone_hashes)?;
            Ok::<_, DbError>((phone_hashes, to_claim))
        })
        .await?;
    if to_claim {
        state
            .write(move |state, conn| {
                let now = state.clock.now_naive();
                let claimed = venues::claim_by_phone(conn, account_id, &phone_hashes, now)?;
                let keys: Vec<CacheKey> = claimed.iter().map(|id| CacheKey::Venue(*id)).collect();
                changed(state, conn, &keys)?;
                tracing::info!(
                    venues = claimed.len(),
                    "registered venues claimed by their manager"
                );
                Ok::<_, DbError>(())
            })
            .await?;
    }
    let (managed, staffed) = state
        .read(move |_, conn| venues::of_account(conn, account_id))
        .await?;
    let as_venue = |role: &'static str| move |(id, name): (i64, String)| MyVenue { id, name, role };
    Ok(managed
        .into_iter()
        .map(as_venue("manager"))
        .chain(staffed.into_iter().map(as_venue("staff")))
        .collect())
}
