//! Venue applications by their managers: apply, look up their own, read, and edit until approved.
//! Also the venue as its manager, venue staff or a reviewer sees it.

use std::sync::Arc;

use serde::Serialize;

use super::audit;
use super::authorize::{self, VenueRole};
use super::cache_sync::changed;
pub use super::venue_error::VenueError;
use crate::auth::{Account, Caller, Staff};
use crate::cache::CacheKey;
use crate::crypto::VenueCodeRef;
use crate::db::entrances::{self, EntranceRow};
use crate::db::venues::{self, Registrant, VenueRow};
use crate::db::{regions, DbConnection, DbError};
use crate::domain::{
    FieldCode, FieldError, FieldErrors, IdType, Manager, ManagerFilter, RegionCode, StaffRole,
    TransportKind, VenueApplication, VenueChanges, VenueEdit, VenueStatus,
};
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct CodeName {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct SubtypeView {
    pub code: String,
    pub name: String,
    pub default_stay_minutes: Option<u32>,
    pub transport: Option<TransportKind>,
}

#[derive(Debug, Serialize)]
pub struct RegionView {
    pub code: String,
    /// Province to township, e.g. `湖南省郴州市临武县舜峰镇`.
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct MaskedManager {
    pub name: String,
    pub phone: String,
    pub id_type: IdType,
    pub id_number: String,
}

#[derive(Debug, Serialize)]
pub struct EntranceView {
    pub id: i64,
    pub name: String,
    /// Null when none was given.
    pub description: Option<String>,
    pub open: bool,
    pub code_version: i32,
    /// What the QR code holds; only while the venue is approved and the entrance open.
    pub code_url: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LocationView {
    pub lat: f64,
    pub lng: f64,
}

/// A venue as its manager, its venue staff or a reviewer sees it, personal data masked.
#[derive(Debug, Serialize)]
pub struct VenueView {
    pub id: i64,
    pub status: VenueStatus,
    /// Set while the venue's codes are suspended by a reviewer or registrar.
    pub suspension: Option<SuspensionView>,
    pub name: String,
    pub category: CodeName,
    pub subtype: SubtypeView,
    pub region: RegionView,
    pub address: String,
    pub location: LocationView,
    pub transport_line: Option<String>,
    pub plate_number: Option<String>,
    /// 统一社会信用代码, when given.
    pub credit_code: Option<String>,
    /// A negative nucleic-acid result sampled within this many hours is required at the door.
    pub test_required_hours: Option<i32>,
    pub manager: MaskedManager,
    pub entrances: Vec<EntranceView>,
    pub rejection_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub reviewed_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SuspensionView {
    pub since: String,
    pub reason: String,
}

/// The URL in an entrance's QR code.
pub fn code_url(state: &AppState, entrance: &EntranceRow) -> String {
    state.venue_codes.url(
        &state.settings.server.public_base_url,
        VenueCodeRef {
            entrance_id: entrance.id,
            version: entrance.code_version,
        },
    )
}

pub fn entrance_view(state: &AppState, venue: &VenueRow, entrance: EntranceRow) -> EntranceView {
    let code_url = (venue.status == VenueStatus::Approved && entrance.is_open())
        .then(|| code_url(state, &entrance));
    EntranceView {
        id: entrance.id,
        open: entrance.is_open(),
        name: entrance.name,
        description: (!entrance.description.is_empty()).then_some(entrance.description),
        code_version: entrance.code_version,
        code_url,
    }
}

pub fn view(
    state: &AppState,
    conn: &mut DbConnection,
    venue: VenueRow,
) -> Result<VenueView, DbError> {
    let manager = venue.manager(&state.cipher)?;
    let entrances = entrances::entrances_of(conn, venue.id)?;
    let region_name = regions::full_name_of(conn, &venue.region_code)?;
    let (category_name, subtype_name) = state.taxonomy.label(&venue.category, &venue.subtype);
    let subtype = state.taxonomy.subtype(&venue.category, &venue.subtype);
    let clock = &state.clock;
    Ok(VenueView {
        id: venue.id,
        status: venue.status,
        suspension: venue.suspended_at.map(|since| SuspensionView {
            since: clock.show(since),
            reason: venue.suspension_reason.clone().unwrap_or_default(),
        }),
        category: CodeName {
            code: venue.category.clone(),
            name: category_name,
        },
        subtype: SubtypeView {
            code: venue.subtype.clone(),
            name: subtype_name,
            default_stay_minutes: subtype.map(|s| s.default_stay_minutes),
            transport: subtype.and_then(|s| s.transport),
        },
        region: RegionView {
            code: venue.region_code.clone(),
            name: region_name,
        },
        location: LocationView {
            lat: venue.lat,
            lng: venue.lng,
        },
        manager: MaskedManager {
            name: manager.name.masked(),
            phone: manager.phone.masked(),
            id_type: manager.document.kind(),
            id_number: manager.document.masked(),
        },
        entrances: entrances
            .into_iter()
            .map(|e| entrance_view(state, &venue, e))
            .collect(),
        created_at: clock.show(venue.created_at),
        updated_at: clock.show(venue.updated_at),
        reviewed_at: venue.reviewed_at.map(|t| clock.show(t)),
        name: venue.name,
        address: venue.address,
        transport_line: venue.transport_line,
        plate_number: venue.plate_number,
        credit_code: venue.credit_code,
        test_required_hours: venue.test_required_hours,
        rejection_reason: venue.rejection_reason,
    })
}

/// How many venues a search answers at most.
pub const SEARCH_LIMIT: i64 = 100;

/// Venues of the staff member's region whose name contains `text`, newest first.
pub async fn search_in_region(
    state: &Arc<AppState>,
    staff: &Staff,
    text: String,
    status: Option<VenueStatus>,
) -> Result<Vec<VenueView>, VenueError> {
    let scope = staff.region.clone();
    state
        .read(move |state, conn| {
            venues::search_in(conn, &scope, text.trim(), status, SEARCH_LIMIT)?
                .into_iter()
                .map(|venue| Ok(view(state, conn, venue)?))
                .collect()
        })
        .await
}

/// A venue of the staff member's region; any other answers as unknown.
pub async fn get_in_region(
    state: &Arc<AppState>,
    staff: &Staff,
    venue_id: i64,
) -> Result<VenueView, VenueError> {
    let staff = staff.clone();
    state
        .read(move |state, conn| {
            let venue = venues::find(conn, venue_id)?
                .filter(|v| staff.covers(&v.region_code))
                .ok_or(VenueError::NotFound)?;
            Ok(view(state, conn, venue)?)
        })
        .await
}

/// Hands an approved venue over to another manager: by its manager (from the mini-program) or by
/// a reviewer or registrar of its region. The new manager's name, ID number and mobile replace
/// the old; the venue has no manager account until the one who proves that mobile opens
/// `GET /me/venues`. The old manager loses the venue at once; its staff stay. Audited.
pub async fn hand_over(
    state: &Arc<AppState>,
    caller: &Caller,
    venue_id: i64,
    manager: Manager,
) -> Result<VenueView, VenueError> {
    let caller = caller.clone();
    state
        .write(move |state, conn| {
            let venue = authorize::venue_for(conn, &caller, venue_id, VenueRole::Manager)?;
            let entry = match &caller {
                Caller::Account(account) => {
                    audit::by_account(account.id, "venue.handover", venue_id, &venue.region_code)
                }
                Caller::Staff(staff) => {
                    audit::by_staff(staff, "venue.handover", format!("venue:{venue_id}"), 1)
                }
            };
            if venue.status != VenueStatus::Approved {
                return Err(VenueError::NotActive);
            }
            let now = state.clock.now_naive();
            venues::hand_over(conn, &state.cipher, venue_id, &manager, now)?;
            audit::record(state, conn, &[entry])?;
            changed(state, conn, &[CacheKey::Venue(venue_id)])?;
            reload(state, conn, venue_id)
        })
        .await
}

/// Sets or lifts the venue's requirement of a negative nucleic-acid result sampled within
/// `hours`: by its manager, or by a health official of its region. Every node's door applies it
/// within a second.
pub async fn set_test_requirement(
    state: &Arc<AppState>,
    caller: &Caller,
    venue_id: i64,
    hours: Option<u32>,
) -> Result<VenueView, VenueError> {
    let caller = caller.clone();
    state
        .write(move |state, conn| {
            let (venue, entry) = match &caller {
                Caller::Account(account) => {
                    let venue = authorize::venue(conn, venue_id, account.id, VenueRole::Manager)?;
                    let entry = audit::by_account(
                        account.id,
                        "venue.test_requirement",
                        venue_id,
                        &venue.region_code,
                    );
                    (venue, entry)
                }
                Caller::Staff(staff) if staff.role == StaffRole::HealthOfficial => {
                    let venue = venues::find(conn, venue_id)?
                        .filter(|v| staff.covers(&v.region_code))
                        .ok_or(VenueError::NotFound)?;
                    let entry = audit::by_staff(
                        staff,
                        "venue.test_requirement",
                        format!("venue:{venue_id}"),
                        1,
                    );
                    (venue, entry)
                }
                Caller::Staff(_) => return Err(VenueError::ForStaffOfVenues),
            };
            venues::set_test_required_hours(conn, venue.id, hours, state.clock.now_naive())?;
            audit::record(state, conn, &[entry])?;
            changed(state, conn, &[CacheKey::Venue(venue_id)])?;
            reload(state, conn, venue_id)
        })
        .await
}

/// The longest reason a suspension or a resumption may carry.
pub const MAX_REASON_CHARS: usize = 200;

/// Suspends an approved venue of the staff member's region (a reviewer or a registrar) with a
/// reason: its codes answer `venue_suspended` on every node within a second. `suspend: false`
/// resumes it.
pub async fn set_suspended(
    state: &Arc<AppState>,
    staff: &Staff,
    venue_id: i64,
    suspend: bool,
    reason: String,
) -> Result<VenueView, VenueError> {
    let staff = staff.clone();
    state
        .write(move |state, conn| {
            let venue = venues::find(conn, venue_id)?
                .filter(|v| staff.covers(&v.region_code))
                .ok_or(VenueError::NotFound)?;
            if venue.status != VenueStatus::Approved {
                return Err(VenueError::NotActive);
            }
            let now = state.clock.now_naive();
            let action = match (suspend, venue.suspended_at.is_some()) {
                (true, true) => return Err(VenueError::Suspended),
                (false, false) => return Err(VenueError::NotSuspended),
                (true, false) => {
                    venues::set_suspension(conn, venue_id, Some((now, &reason)), now)?;
                    "venue.suspend"
                }
                (false, true) => {
                    venues::set_suspension(conn, venue_id, None, now)?;
                    "venue.resume"
                }
            };
            let entry = audit::by_staff(&staff, action, format!("venue:{venue_id}"), 1);
            audit::record(state, conn, &[entry])?;
            changed(state, conn, &[CacheKey::Venue(venue_id)])?;
            // The reason of a resumption is kept in the log; a suspension's stays on the venue.
            tracing::info!(venue_id, action, %reason, "venue suspension changed");
            reload(state, conn, venue_id)
        })
        .await
}

/// The venue's view, read again after a change.
pub fn reload(
    state: &AppState,
    conn: &mut DbConnection,
    venue_id: i64,
) -> Result<VenueView, VenueError> {
    let venue = venues::find(conn, venue_id)?.ok_or(VenueError::NotFound)?;
    Ok(view(state, conn, venue)?)
}

fn check_region(conn: &mut DbConnection, region: &RegionCode) -> Result<(), VenueError> {
    if regions::is_known(conn, region)? {
        Ok(())
    } else {
        Err(FieldErrors::one(
            "region_code",
            FieldError::new(
                FieldCode::RegionUnknown,
                "所选乡镇（街道）或村（社区）不存在",
            ),
        )
        .into())
    }
}

/// Stores an application with its entrances, pending review by the county.
pub async fn apply(
    state: &Arc<AppState>,
    account: &Account,
    application: VenueApplication,
) -> Result<VenueView, VenueError> {
    let account_id = account.id;
    state
        .write(move |state, conn| {
            check_region(conn, &application.region)?;
            let now = state.clock.now_naive();
            let by = Registrant::Manager { account_id };
            let id = venues::insert(conn, &state.cipher, by, &application, now)?;
            reload(state, conn, id)
        })
        .await
}

/// The caller's own applications, newest first, optionally by the manager's phone or ID number.
pub async fn list_mine(
    state: &Arc<AppState>,
    account: &Account,
    filter: ManagerFilter,
) -> Result<Vec<VenueView>, VenueError> {
    let account_id = account.id;
    state
        .read(move |state, conn| {
            venues::list_for_manager(conn, &state.cipher, account_id, &filter)?
                .into_iter()
                .map(|venue| Ok(view(state, conn, venue)?))
                .collect()
        })
        .await
}

pub async fn get(
    state: &Arc<AppState>,
    account: &Account,
    venue_id: i64,
) -> Result<VenueView, VenueError> {
    let account_id = account.id;
    state
        .read(move |state, conn| {
            let venue = authorize::venue(conn, venue_id, account_id, VenueRole::VenueStaff)?;
            Ok(view(state, conn, venue)?)
        })
        .await
}

/// Changes the basic information while pending or rejected; a rejected application goes back
/// to review.
pub async fn update(
    state: &Arc<AppState>,
    account: &Account,
    venue_id: i64,
    edit: VenueEdit,
) -> Result<VenueView, VenueError> {
    let account_id = account.id;
    let view = state
        .write(move |state, conn| {
            let venue = authorize::venue(conn, venue_id, account_id, VenueRole::Manager)?;
            if !venue.status.is_editable() {
                return Err(VenueError::Locked);
            }
            let changes = resolve(state, &venue, edit)?;
            if let Some(region) = &changes.region {
                check_region(conn, region)?;
            }
            venues::update_basic(
                conn,
                &state.cipher,
                venue_id,
                &changes,
                state.clock.now_naive(),
            )?;
            changed(state, conn, &[CacheKey::Venue(venue_id)])?;
            reload(state, conn, venue_id)
        })
        .await?;
    Ok(view)
}

/// The edit merged with the venue as it is: the kind is checked whole, as it will be after.
fn resolve(
    state: &AppState,
    venue: &VenueRow,
    edit: VenueEdit,
) -> Result<VenueChanges, VenueError> {
    let mut errors = FieldErrors::default();
    let kind = if edit.touches_kind() {
        let category = edit.category.as_deref().unwrap_or(&venue.category);
        let subtype = edit.subtype.as_deref().unwrap_or(&venue.subtype);
        let line = match &edit.transport_line {
            Some(value) => value.as_deref(),
            None => venue.transport_line.as_deref(),
        };
        let plate = match &edit.plate_number {
            Some(value) => value.as_deref(),
            None => venue.plate_number.as_deref(),
        };
        state
            .taxonomy
            .kind(&mut errors, category, subtype, line, plate)
    } else {
        None
    };
    errors.finish()?;
    Ok(VenueChanges {
        manager: edit.manager,
        name: edit.name,
        kind,
        region: edit.region,
        address: edit.address,
        location: edit.location,
    })
}
