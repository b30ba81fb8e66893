//! The person's rights over what an account holds (个人信息保护法 arts. 44–47): a complete copy
//! of it ([`export`]) and cancelling the account (注销, [`cancel`]). A copy needs a fresh platform
//! login; both are audited.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use super::accounts::{identity_of, AccountError};
use super::audit;
use super::cache_sync::changed;
use super::scan::{HealthOnPage, TestOnPage, VaccinationOnPage};
use crate::auth::Account;
use crate::cache::CacheKey;
use crate::db::audit::AuditEntry;
use crate::db::{
    accounts, check_ins, companions, notifications, paper_codes, persons, retention, venues,
    DbConnection, DbError,
};
use crate::domain::{CheckInRole, Delivery, IdType, NotificationKind, Platform};
use crate::platforms::PlatformProfile;
use crate::state::AppState;

/// How old a session may be for a copy of one's data: a fresh platform login, so that a token
/// taken from a phone hours ago cannot carry everything away.
pub const FRESH_LOGIN: Duration = Duration::minutes(10);

#[derive(Debug, thiserror::Error)]
pub enum PersonalDataError {
    /// The session began longer than [`FRESH_LOGIN`] ago.
    #[error("the session is older than a fresh login")]
    LoginTooOld,
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Everything held about an account, in full: it is its holder's own.
#[derive(Debug, Serialize)]
pub struct PersonalData {
    pub generated_at: String,
    pub account: AccountData,
    pub profile: Option<PlatformProfile>,
    /// In full.
    pub phone: Option<String>,
    pub consent: ConsentData,
    /// Each grant and withdrawal, oldest first.
    pub consent_history: Vec<ConsentChange>,
    pub identity: Option<IdentityData>,
    /// The colour, latest nucleic-acid result and vaccination on record for the account's own
    /// person, as the door shows them to the person.
    pub health: Option<HealthOnPage>,
    pub companions: Vec<CompanionData>,
    /// The check-ins this account made (for itself, its companions, or with a paper code it
    /// printed) within the retention period, newest first; with a verified identity, every
    /// check-in of its person too.
    pub check_ins: Vec<CheckInData>,
    /// The notifications sent to the account, and how each went out as a platform message.
    pub notifications: Vec<NotificationData>,
    pub paper_codes: Vec<PaperCodeData>,
    /// The venues the account manages or works at.
    pub venues: Vec<VenueData>,
}

#[derive(Debug, Serialize)]
pub struct AccountData {
    pub id: i64,
    pub platform: Platform,
    /// The platform's identifier of the user (WeChat's openid, Alipay's user id).
    pub platform_subject: String,
    /// WeChat's unionid, when the platform gave one.
    pub platform_user_id: Option<String>,
    pub created_at: String,
    pub last_login_at: String,
}

#[derive(Debug, Serialize)]
pub struct ConsentData {
    pub profile_at: Option<String>,
    pub phone_at: Option<String>,
    pub identity_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ConsentChange {
    /// `profile`, `phone` or `identity`.
    pub element: String,
    /// `grant` or `withdraw`.
    pub action: &'static str,
    pub at: String,
}

#[derive(Debug, Serialize)]
pub struct IdentityData {
    /// The name this account declared (the verified one once verified).
    pub name: String,
    /// The name on the person's record, when it differs (a name a face check verified, or the
    /// first declaration of the person).
    pub name_on_record: Option<String>,
    pub id_type: Option<IdType>,
    pub id_number: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub verified: bool,
    pub verified_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CompanionData {
    pub id: i64,
    /// The name this account typed.
    pub name: String,
    pub id_type: Option<IdType>,
    pub id_number: Option<String>,
    /// The birth date this account typed beside a document without one.
    pub birth_date: Option<NaiveDate>,
    pub relation: String,
    /// `active` or `awaiting_acceptance`.
    pub status: &'static str,
    pub added_at: String,
}

#[derive(Debug, Serialize)]
pub struct CheckInData {
    pub check_in_id: i64,
    pub role: CheckInRole,
    /// The person, in full: the account's own name, or the one it typed for its companion.
    pub name: String,
    pub venue: String,
    pub entrance: String,
    pub address: String,
    pub scanned_at: String,
    pub left_at: Option<String>,
    /// The colour the door saw, and its verdict.
    pub health_color: crate::domain::HealthColor,
    pub verdict: crate::domain::Verdict,
}

#[derive(Debug, Serialize)]
pub struct NotificationData {
    pub id: i64,
    pub kind: NotificationKind,
    pub message: String,
    pub created_at: String,
    /// How it went out as a platform message (`inbox_only`, `sent`, …).
    pub delivery: Delivery,
    pub delivered_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PaperCodeData {
    pub id: i64,
    /// `self`, or the name the account typed for its companion.
    pub printed_for: String,
    pub issued_on: NaiveDate,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct VenueData {
    pub id: i64,
    pub name: String,
    /// `manager` or `staff`.
    pub role: &'static str,
}

/// A resident's act on their own data, filed under no region.
fn by_resident(account_id: i64, action: &'static str, count: i64) -> AuditEntry<'static> {
    AuditEntry {
        actor: format!("account:{account_id}"),
        role: "resident",
        action,
        subject: format!("account:{account_id}"),
        count,
        region: String::new(),
    }
}

/// A complete copy of what is held about the account. Needs a session of a platform login less
/// than [`FRESH_LOGIN`] ago; audited.
pub async fn export(
    state: &Arc<AppState>,
    account: &Account,
) -> Result<PersonalData, PersonalDataError> {
    if state.clock.now().timestamp() - account.logged_in_at > FRESH_LOGIN.num_seconds() {
        return Err(PersonalDataError::LoginTooOld);
    }
    let account_id = account.id;
    state
        .write(move |state, conn| {
            let data = collect(state, conn, account_id)?;
            audit::record(state, conn, &[by_resident(account_id, "me.data.export", 1)])?;
            Ok(data)
        })
        .await
}

fn collect(
    state: &AppState,
    conn: &mut DbConnection,
    account_id: i64,
) -> Result<PersonalData, PersonalDataError> {
    let clock = &state.clock;
    let show = |t: chrono::NaiveDateTime| clock.show(t);
    let row = accounts::find(conn, account_id)?.ok_or(AccountError::Gone)?;
    let me = identity_of(state, conn, &row)?;
    let identity = match (&me, row.person_id) {
        (Some(me), Some(person_id)) => {
            // The person's own name is the holder's only once a face check proved they are
            // the person; a declaration alone shows nothing but what it declared.
            let on_record = match row.is_verified() {
                true => persons::open(conn, &state.cipher, person_id)?
                    .map(|p| p.name.as_ref().to_owned())
                    .filter(|name| name != me.name.as_ref()),
                false => None,
            };
            Some(IdentityData {
                name: me.name.as_ref().to_owned(),
                name_on_record: on_record,
                id_type: me.id_type(),
                id_number: me.id_number(),
                birth_date: me.birth_date,
                verified: row.is_verified(),
                verified_at: row.identity_verified_at.map(show),
            })
        }
        _ => None,
    };
    let health = match &me {
        Some(me) => {
            let unknown = state.settings.scan.unknown_color;
            crate::db::health_codes::health_of(conn, &[me.id], unknown)?
                .remove(&me.id)
                .map(|known| HealthOnPage {
                    color: known.color.color,
                    updated_at: known.color.updated_at.map(show),
                    test: known.test.map(|t| TestOnPage {
                        result: t.result,
                        sampled_at: show(t.sampled_at),
                    }),
                    vaccination: known.vaccination.map(|v| VaccinationOnPage {
                        doses: v.doses,
                        last_dose_on: v.last_dose_on.map(|d| d.to_string()),
                    }),
                })
        }
        None => None,
    };
    // The companions' names by person, for the paper codes printed for them too.
    let mut typed_names: HashMap<i64, String> = HashMap::new();
    let companions = companions::list(conn, account_id)?
        .iter()
        .map(|held| {
            let opened = held.open(&state.cipher)?;
            typed_names.insert(held.row.person_id, opened.name.as_ref().to_owned());
            Ok(CompanionData {
                id: held.row.id,
                name: opened.name.as_ref().to_owned(),
                id_type: opened.id_type(),
                id_number: opened.id_number(),
                birth_date: held.row.birth_date,
                relation: held.row.relation.clone(),
                status: super::companions::status(held.accepted()),
                added_at: show(held.row.created_at),
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    let verified_person = me.as_ref().filter(|_| row.is_verified()).map(|p| p.id);
    let mut check_ins = Vec::new();
    for item in check_ins::itinerary(conn, account_id, verified_person, state.retained().since)? {
        let (role, name) = super::check_ins::named(state, conn, me.as_ref(), &item)?;
        let name = name.map(|n| n.as_ref().to_owned()).unwrap_or_default();
        check_ins.push(CheckInData {
            check_in_id: item.check_in_id,
            role,
            name,
            venue: item.venue_name,
            entrance: item.entrance_name,
            address: item.address,
            scanned_at: show(item.scanned_at),
            left_at: item.left_at.map(show),
            health_color: item.health_color,
            verdict: item.verdict,
        });
    }
    let deliveries = notifications::deliveries_of(conn, account_id)?;
    let notifications = notifications::for_account(conn, account_id, None)?
        .into_iter()
        .map(|n| {
            let (delivery, delivered_at) = deliveries
                .iter()
                .find(|(id, ..)| *id == n.id)
                .map(|(_, d, at)| (*d, *at))
                .unwrap_or((Delivery::InboxOnly, None));
            NotificationData {
                id: n.id,
                kind: n.kind,
                message: n.window_message.or(n.message).unwrap_or_default(),
                created_at: show(n.created_at),
                delivery,
                delivered_at: delivered_at.map(show),
            }
        })
        .collect();
    let paper_codes = paper_codes::printed_by(conn, account_id)?
        .into_iter()
        .map(|code| {
            let printed_for = if me.as_ref().is_some_and(|me| me.id == code.person_id) {
                "self".to_owned()
            } else {
                // A companion removed since is named no more.
                typed_names
                    .get(&code.person_id)
                    .cloned()
                    .unwrap_or_default()
            };
            PaperCodeData {
                id: code.id,
                printed_for,
                issued_on: code.issued_on,
                revoked_at: code.revoked_at.map(show),
            }
        })
        .collect();
    let (managed, staffed) = venues::of_account(conn, account_id)?;
    let venues = managed
        .into_iter()
        .map(|(id, name)| VenueData {
            id,
            name,
            role: "manager",
        })
        .chain(staffed.into_iter().map(|(id, name)| VenueData {
            id,
            name,
            role: "staff",
        }))
        .collect();
    let consent_history = accounts::consent_history(conn, account_id)?
        .into_iter()
        .map(|event| ConsentChange {
            element: event.element,
            action: if event.granted { "grant" } else { "withdraw" },
            at: show(event.at),
        })
        .collect();
    Ok(PersonalData {
        generated_at: clock.show_utc(clock.now()),
        account: AccountData {
            id: row.id,
            platform: row.platform,
            platform_subject: row.subject.clone(),
            platform_user_id: row.platform_user_id.clone(),
            created_at: show(row.created_at),
            last_login_at: show(row.last_login_at),
        },
        profile: row.profile(&state.cipher)?,
        phone: row
            .phone(&state.cipher)?
            .map(|phone| phone.as_ref().to_owned()),
        consent: ConsentData {
            profile_at: row.consent_profile_at.map(show),
            phone_at: row.consent_phone_at.map(show),
            identity_at: row.consent_identity_at.map(show),
        },
        consent_history,
        identity,
        health,
        companions,
        check_ins,
        notifications,
        paper_codes,
        venues,
    })
}

/// Cancels the account (注销), all in one transaction: consent withdrawn and recorded nowhere
/// any more; profile, phone, platform identifiers and the identity binding erased; the companions
/// it added removed and every paper code it printed revoked; its notifications gone; its
/// check-ins kept without it (the person, no account) until the retention period deletes them;
/// its person erased at once when nothing else holds them. Its sessions end on every node as the
/// change reaches them; a later platform login makes a new, empty account.
pub async fn cancel(state: &Arc<AppState>, account: &Account) -> Result<(), PersonalDataError> {
    let account_id = account.id;
    state
        .write(move |state, conn| {
            let row = accounts::find(conn, account_id)?.ok_or(AccountError::Gone)?;
            let now = state.clock.now_naive();
            // Everyone the account named: itself and the companions it typed in.
            let mut named: Vec<i64> = companions::list(conn, account_id)?
                .iter()
                .map(|held| held.row.person_id)
                .collect();
            named.extend(row.person_id);
            super::accounts::withdraw_all(state, conn, account_id)?;
            accounts::detach(conn, account_id)?;
            accounts::cancel(conn, account_id, now)?;
            crate::db::idempotency::delete_of(conn, &format!("account:{account_id}"))?;
            let alone = retention::left_with_nothing(conn, state.retained().since, Some(&named))?;
            retention::erase_people(conn, &alone)?;
            audit::record(state, conn, &[by_resident(account_id, "me.cancel", 1)])?;
            changed(state, conn, &[CacheKey::Account(account_id)])?;
            Ok::<_, PersonalDataError>(())
        })
        .await?;
    tracing::info!(account_id, "account cancelled by its holder");
    Ok(())
}
