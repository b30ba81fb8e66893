//! Venues, their entrances (one door, one code), their staff, and review decisions.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::audit::{self, AuditEntry};
use super::schema::{entrances, venue_staff, venues};
use super::{regions, DbConnection, DbError};
use crate::domain::{
    Address, EntranceName, IdNumber, MapPoint, MobileNumber, PersonName, RegionCode, VenueName,
    VenueStatus,
};
use crate::pii::{Field, PiiCipher};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = venues)]
pub struct VenueRow {
    pub id: i64,
    pub manager_account_id: i64,
    pub manager_name_sealed: String,
    pub manager_id_number_sealed: String,
    pub manager_id_number_hash: String,
    pub manager_phone_sealed: String,
    pub manager_phone_hash: String,
    pub name: String,
    pub category: String,
    pub subtype: String,
    pub region_code: String,
    pub address: String,
    pub lat: f64,
    pub lng: f64,
    pub transport_line: Option<String>,
    pub plate_number: Option<String>,
    pub status: String,
    pub rejection_reason: Option<String>,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl VenueRow {
    pub fn status(&self) -> VenueStatus {
        VenueStatus::parse(&self.status).unwrap_or(VenueStatus::Pending)
    }

    /// The manager's name, ID number and mobile, opened.
    pub fn manager(&self, cipher: &PiiCipher) -> Result<Manager, DbError> {
        let open = |field, sealed: &str| {
            cipher
                .open(field, sealed)
                .map_err(|e| DbError::Other(format!("venue {}: {e}", self.id)))
        };
        let broken =
            |what: &str| DbError::Other(format!("venue {}: stored {what} is invalid", self.id));
        Ok(Manager {
            name: PersonName::parse(&open(Field::Name, &self.manager_name_sealed)?)
                .map_err(|_| broken("name"))?,
            id_number: IdNumber::parse(&open(Field::IdNumber, &self.manager_id_number_sealed)?)
                .map_err(|_| broken("ID number"))?,
            phone: MobileNumber::parse(&open(Field::Phone, &self.manager_phone_sealed)?)
                .map_err(|_| broken("phone"))?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Manager {
    pub name: PersonName,
    pub id_number: IdNumber,
    pub phone: MobileNumber,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = entrances)]
pub struct EntranceRow {
    pub id: i64,
    pub venue_id: i64,
    pub name: String,
    pub description: String,
    pub code_version: i32,
    pub closed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl EntranceRow {
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

/// A new entrance as applied for.
#[derive(Debug, Clone)]
pub struct NewEntrance {
    pub name: EntranceName,
    pub description: String,
}

/// An application, every field already validated.
#[derive(Debug, Clone)]
pub struct VenueApplication {
    pub manager: Manager,
    pub name: VenueName,
    pub category: String,
    pub subtype: String,
    pub region: RegionCode,
    pub address: Address,
    pub location: MapPoint,
    pub transport_line: Option<String>,
    pub plate_number: Option<String>,
    pub entrances: Vec<NewEntrance>,
}

/// Changes to the basic information; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct VenueChanges {
    pub manager: Option<Manager>,
    pub name: Option<VenueName>,
    pub category_subtype: Option<(String, String)>,
    pub region: Option<RegionCode>,
    pub address: Option<Address>,
    pub location: Option<MapPoint>,
    /// `Some(None)` clears the field.
    pub transport_line: Option<Option<String>>,
    pub plate_number: Option<Option<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum VenueError {
    #[error("no such venue or entrance")]
    NotFound,
    #[error("the venue is approved; its basic information is locked")]
    Locked,
    #[error("an open entrance of this venue already has this name")]
    EntranceNameTaken(String),
    #[error("the region code is not a known township or village")]
    UnknownRegion,
    #[error("the venue has no working codes until it is approved")]
    NotActive,
    #[error("the entrance is closed")]
    EntranceClosed,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for VenueError {
    fn from(e: diesel::result::Error) -> Self {
        VenueError::Db(e.into())
    }
}

/// How an account relates to a venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VenueAccess {
    Manager,
    Staff,
    None,
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<VenueRow>, DbError> {
    Ok(venues::table
        .find(id)
        .select(VenueRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn entrances_of(conn: &mut DbConnection, venue_id: i64) -> Result<Vec<EntranceRow>, DbError> {
    Ok(entrances::table
        .filter(entrances::venue_id.eq(venue_id))
        .order(entrances::id.asc())
        .select(EntranceRow::as_select())
        .load(conn)?)
}

pub fn find_entrance(
    conn: &mut DbConnection,
    venue_id: i64,
    entrance_id: i64,
) -> Result<Option<EntranceRow>, DbError> {
    Ok(entrances::table
        .find(entrance_id)
        .filter(entrances::venue_id.eq(venue_id))
        .select(EntranceRow::as_select())
        .first(conn)
        .optional()?)
}

/// An entrance and its venue, by entrance id alone (what a scanned code names).
pub fn entrance_with_venue(
    conn: &mut DbConnection,
    entrance_id: i64,
) -> Result<Option<(EntranceRow, VenueRow)>, DbError> {
    Ok(entrances::table
        .inner_join(venues::table)
        .filter(entrances::id.eq(entrance_id))
        .select((EntranceRow::as_select(), VenueRow::as_select()))
        .first(conn)
        .optional()?)
}

pub fn access(
    conn: &mut DbConnection,
    venue: &VenueRow,
    account_id: i64,
) -> Result<VenueAccess, DbError> {
    if venue.manager_account_id == account_id {
        return Ok(VenueAccess::Manager);
    }
    let staff = venue_staff::table
        .filter(venue_staff::venue_id.eq(venue.id))
        .filter(venue_staff::account_id.eq(account_id))
        .count()
        .get_result::<i64>(conn)?;
    Ok(if staff > 0 {
        VenueAccess::Staff
    } else {
        VenueAccess::None
    })
}

fn check_region(conn: &mut DbConnection, region: &RegionCode) -> Result<(), VenueError> {
    if regions::is_known(conn, region)? {
        Ok(())
    } else {
        Err(VenueError::UnknownRegion)
    }
}

/// Stores an application with its entrances, pending review.
pub fn create(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    manager_account_id: i64,
    application: &VenueApplication,
) -> Result<i64, VenueError> {
    let now = Utc::now().naive_utc();
    super::write_transaction(conn, |conn| {
        check_region(conn, &application.region)?;
        let manager = &application.manager;
        let id: i64 = crate::per_backend!(conn, |c| diesel::insert_into(venues::table)
            .values((
                venues::manager_account_id.eq(manager_account_id),
                venues::manager_name_sealed.eq(cipher.seal(Field::Name, manager.name.as_ref())),
                venues::manager_id_number_sealed
                    .eq(cipher.seal(Field::IdNumber, manager.id_number.as_ref())),
                venues::manager_id_number_hash
                    .eq(cipher.lookup_hash(Field::IdNumber, manager.id_number.as_ref())),
                venues::manager_phone_sealed.eq(cipher.seal(Field::Phone, manager.phone.as_ref())),
                venues::manager_phone_hash
                    .eq(cipher.lookup_hash(Field::Phone, manager.phone.as_ref())),
                venues::name.eq(application.name.as_ref()),
                venues::category.eq(&application.category),
                venues::subtype.eq(&application.subtype),
                venues::region_code.eq(application.region.as_ref()),
                venues::address.eq(application.address.as_ref()),
                venues::lat.eq(application.location.lat()),
                venues::lng.eq(application.location.lng()),
                venues::transport_line.eq(&application.transport_line),
                venues::plate_number.eq(&application.plate_number),
                venues::status.eq(VenueStatus::Pending.as_str()),
                venues::created_at.eq(now),
                venues::updated_at.eq(now),
            ))
            .returning(venues::id)
            .get_result(c))?;
        for entrance in &application.entrances {
            insert_entrance(conn, id, &entrance.name, &entrance.description, now)?;
        }
        Ok(id)
    })
}

fn insert_entrance(
    conn: &mut DbConnection,
    venue_id: i64,
    name: &EntranceName,
    description: &str,
    now: NaiveDateTime,
) -> Result<i64, VenueError> {
    Ok(crate::per_backend!(conn, |c| diesel::insert_into(
        entrances::table
    )
    .values((
        entrances::venue_id.eq(venue_id),
        entrances::name.eq(name.as_ref()),
        entrances::description.eq(description),
        entrances::code_version.eq(1),
        entrances::created_at.eq(now),
        entrances::updated_at.eq(now),
    ))
    .returning(entrances::id)
    .get_result(c))?)
}

/// How a manager looks up their own applications.
pub enum ManagerFilter {
    All,
    Phone(MobileNumber),
    IdNumber(IdNumber),
}

/// The applications of one account, newest first; never another account's.
pub fn list_for_manager(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    account_id: i64,
    filter: &ManagerFilter,
) -> Result<Vec<VenueRow>, DbError> {
    let mut query = venues::table
        .filter(venues::manager_account_id.eq(account_id))
        .order(venues::id.desc())
        .select(VenueRow::as_select())
        .into_boxed();
    match filter {
        ManagerFilter::All => {}
        ManagerFilter::Phone(phone) => {
            query = query.filter(
                venues::manager_phone_hash.eq(cipher.lookup_hash(Field::Phone, phone.as_ref())),
            )
        }
        ManagerFilter::IdNumber(id_number) => {
            query = query.filter(
                venues::manager_id_number_hash
                    .eq(cipher.lookup_hash(Field::IdNumber, id_number.as_ref())),
            )
        }
    }
    Ok(query.load(conn)?)
}

/// Changes basic information while pending or rejected; a rejected application goes back to
/// pending, to be reviewed again.
pub fn update_basic(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    venue_id: i64,
    changes: &VenueChanges,
) -> Result<(), VenueError> {
    super::write_transaction(conn, |conn| {
        let venue = find(conn, venue_id)?.ok_or(VenueError::NotFound)?;
        if !venue.status().is_editable() {
            return Err(VenueError::Locked);
        }
        if let Some(region) = &changes.region {
            check_region(conn, region)?;
        }
        let now = Utc::now().naive_utc();
        let target = venues::table.find(venue_id);
        diesel::update(target)
            .set((
                venues::status.eq(VenueStatus::Pending.as_str()),
                venues::rejection_reason.eq(None::<String>),
                venues::updated_at.eq(now),
            ))
            .execute(conn)?;
        if let Some(manager) = &changes.manager {
            diesel::update(target)
                .set((
                    venues::manager_name_sealed.eq(cipher.seal(Field::Name, manager.name.as_ref())),
                    venues::manager_id_number_sealed
                        .eq(cipher.seal(Field::IdNumber, manager.id_number.as_ref())),
                    venues::manager_id_number_hash
                        .eq(cipher.lookup_hash(Field::IdNumber, manager.id_number.as_ref())),
                    venues::manager_phone_sealed
                        .eq(cipher.seal(Field::Phone, manager.phone.as_ref())),
                    venues::manager_phone_hash
                        .eq(cipher.lookup_hash(Field::Phone, manager.phone.as_ref())),
                ))
                .execute(conn)?;
        }
        if let Some(name) = &changes.name {
            diesel::update(target)
                .set(venues::name.eq(name.as_ref()))
                .execute(conn)?;
        }
        if let Some((category, subtype)) = &changes.category_subtype {
            diesel::update(target)
                .set((venues::category.eq(category), venues::subtype.eq(subtype)))
                .execute(conn)?;
        }
        if let Some(region) = &changes.region {
            diesel::update(target)
                .set(venues::region_code.eq(region.as_ref()))
                .execute(conn)?;
        }
        if let Some(address) = &changes.address {
            diesel::update(target)
                .set(venues::address.eq(address.as_ref()))
                .execute(conn)?;
        }
        if let Some(location) = &changes.location {
            diesel::update(target)
                .set((
                    venues::lat.eq(location.lat()),
                    venues::lng.eq(location.lng()),
                ))
                .execute(conn)?;
        }
        if let Some(line) = &changes.transport_line {
            diesel::update(target)
                .set(venues::transport_line.eq(line))
                .execute(conn)?;
        }
        if let Some(plate) = &changes.plate_number {
            diesel::update(target)
                .set(venues::plate_number.eq(plate))
                .execute(conn)?;
        }
        Ok(())
    })
}

fn name_taken(
    conn: &mut DbConnection,
    venue_id: i64,
    name: &EntranceName,
    except: Option<i64>,
) -> Result<bool, DbError> {
    let mut query = entrances::table
        .filter(entrances::venue_id.eq(venue_id))
        .filter(entrances::name.eq(name.as_ref()))
        .filter(entrances::closed_at.is_null())
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(entrances::id.ne(id));
    }
    Ok(query.count().get_result::<i64>(conn)? > 0)
}

/// Entrances can be added at any time, approved or not.
pub fn add_entrance(
    conn: &mut DbConnection,
    venue_id: i64,
    entrance: &NewEntrance,
) -> Result<i64, VenueError> {
    super::write_transaction(conn, |conn| {
        find(conn, venue_id)?.ok_or(VenueError::NotFound)?;
        if name_taken(conn, venue_id, &entrance.name, None)? {
            return Err(VenueError::EntranceNameTaken(
                entrance.name.as_ref().to_owned(),
            ));
        }
        insert_entrance(
            conn,
            venue_id,
            &entrance.name,
            &entrance.description,
            Utc::now().naive_utc(),
        )
    })
}

/// Renames an open entrance (and optionally its description), at any time.
pub fn rename_entrance(
    conn: &mut DbConnection,
    venue_id: i64,
    entrance_id: i64,
    name: Option<&EntranceName>,
    description: Option<&str>,
) -> Result<(), VenueError> {
    super::write_transaction(conn, |conn| {
        let entrance = find_entrance(conn, venue_id, entrance_id)?.ok_or(VenueError::NotFound)?;
        if !entrance.is_open() {
            return Err(VenueError::EntranceClosed);
        }
        let now = Utc::now().naive_utc();
        if let Some(name) = name {
            if name_taken(conn, venue_id, name, Some(entrance_id))? {
                return Err(VenueError::EntranceNameTaken(name.as_ref().to_owned()));
            }
            diesel::update(entrances::table.find(entrance_id))
                .set((
                    entrances::name.eq(name.as_ref()),
                    entrances::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        if let Some(description) = description {
            diesel::update(entrances::table.find(entrance_id))
                .set((
                    entrances::description.eq(description),
                    entrances::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Closes an entrance: its code stops working. Check-ins made through it stay.
pub fn close_entrance(
    conn: &mut DbConnection,
    venue_id: i64,
    entrance_id: i64,
) -> Result<(), VenueError> {
    let entrance = find_entrance(conn, venue_id, entrance_id)?.ok_or(VenueError::NotFound)?;
    if entrance.is_open() {
        let now = Utc::now().naive_utc();
        diesel::update(entrances::table.find(entrance_id))
            .set((entrances::closed_at.eq(now), entrances::updated_at.eq(now)))
            .execute(conn)?;
    }
    Ok(())
}

/// Issues a new code version for an entrance of an approved venue; the old one is revoked.
pub fn rotate_code(
    conn: &mut DbConnection,
    venue_id: i64,
    entrance_id: i64,
) -> Result<i32, VenueError> {
    super::write_transaction(conn, |conn| {
        let venue = find(conn, venue_id)?.ok_or(VenueError::NotFound)?;
        if venue.status() != VenueStatus::Approved {
            return Err(VenueError::NotActive);
        }
        let entrance = find_entrance(conn, venue_id, entrance_id)?.ok_or(VenueError::NotFound)?;
        if !entrance.is_open() {
            return Err(VenueError::EntranceClosed);
        }
        let version = entrance.code_version + 1;
        diesel::update(entrances::table.find(entrance_id))
            .set((
                entrances::code_version.eq(version),
                entrances::updated_at.eq(Utc::now().naive_utc()),
            ))
            .execute(conn)?;
        Ok(version)
    })
}

/// Applications whose region lies inside `scope`, oldest first, optionally of one status.
pub fn in_region(
    conn: &mut DbConnection,
    scope: &RegionCode,
    status: Option<VenueStatus>,
) -> Result<Vec<VenueRow>, DbError> {
    let mut query = venues::table
        .filter(venues::region_code.like(format!("{scope}%")))
        .order(venues::id.asc())
        .select(VenueRow::as_select())
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(venues::status.eq(status.as_str()));
    }
    Ok(query.load(conn)?)
}

#[derive(Debug, Clone)]
pub enum Decision {
    Approve,
    Reject { reason: String },
}

/// Records a reviewer's decision and its audit entry together.
pub fn decide(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    venue_id: i64,
    reviewer_id: i64,
    decision: &Decision,
) -> Result<(), VenueError> {
    super::write_transaction(conn, |conn| {
        let now = Utc::now().naive_utc();
        let (status, reason, action) = match decision {
            Decision::Approve => (VenueStatus::Approved, None, "venue.approve"),
            Decision::Reject { reason } => {
                (VenueStatus::Rejected, Some(reason.as_str()), "venue.reject")
            }
        };
        diesel::update(venues::table.find(venue_id))
            .set((
                venues::status.eq(status.as_str()),
                venues::rejection_reason.eq(reason),
                venues::reviewed_by.eq(reviewer_id),
                venues::reviewed_at.eq(now),
                venues::updated_at.eq(now),
            ))
            .execute(conn)?;
        audit::append(
            conn,
            cipher,
            &AuditEntry::by_staff(
                reviewer_id,
                "reviewer",
                action,
                format!("venue:{venue_id}"),
                1,
            ),
        )?;
        Ok(())
    })
}
