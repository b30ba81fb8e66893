//! Venues: applications, their manager, review and suspension (their entrances: `entrances.rs`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::entrances::EntranceRow;
use super::schema::{entrances, venue_staff, venues};
use super::{DbConnection, DbError};
use crate::crypto::{Field, PiiCipher};
use crate::domain::{
    IdDocument, IdType, Manager, ManagerFilter, MobileNumber, PageRequest, PersonName, RegionCode,
    VenueApplication, VenueChanges, VenueStatus,
};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = venues)]
pub struct VenueRow {
    pub id: i64,
    /// `None` for a venue a registrar registered, until its manager claims it.
    pub manager_account_id: Option<i64>,
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
    pub status: VenueStatus,
    pub rejection_reason: Option<String>,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub suspended_at: Option<NaiveDateTime>,
    pub suspension_reason: Option<String>,
    pub credit_code: Option<String>,
    /// A negative nucleic-acid result sampled within this many hours is required at the door.
    pub test_required_hours: Option<i32>,
    pub manager_id_type: String,
}

impl VenueRow {
    /// The manager's name, ID number and mobile, opened.
    pub fn manager(&self, cipher: &PiiCipher) -> Result<Manager, DbError> {
        let open = |field, sealed: &str| {
            cipher
                .open(field, sealed)
                .map_err(|e| DbError::Other(format!("venue {}: {e}", self.id)))
        };
        let broken =
            |what: &str| DbError::Other(format!("venue {}: stored {what} is invalid", self.id));
        let number = open(Field::IdNumber, &self.manager_id_number_sealed)?;
        Ok(Manager {
            name: PersonName::parse(&open(Field::Name, &self.manager_name_sealed)?)
                .map_err(|_| broken("name"))?,
            document: IdType::parse(Some(&self.manager_id_type))
                .and_then(|kind| IdDocument::parse(kind, &number))
                .map_err(|_| broken("document"))?,
            phone: MobileNumber::parse(&open(Field::Phone, &self.manager_phone_sealed)?)
                .map_err(|_| broken("phone"))?,
        })
    }
}

/// Every column a change to a venue may touch; `None` leaves it alone.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = venues)]
struct VenueChangeset {
    manager_name_sealed: Option<String>,
    manager_id_number_sealed: Option<String>,
    manager_id_number_hash: Option<String>,
    manager_id_type: Option<String>,
    manager_phone_sealed: Option<String>,
    manager_phone_hash: Option<String>,
    name: Option<String>,
    category: Option<String>,
    subtype: Option<String>,
    region_code: Option<String>,
    address: Option<String>,
    lat: Option<f64>,
    lng: Option<f64>,
    transport_line: Option<Option<String>>,
    plate_number: Option<Option<String>>,
    status: Option<VenueStatus>,
    rejection_reason: Option<Option<String>>,
    reviewed_by: Option<i64>,
    reviewed_at: Option<NaiveDateTime>,
    updated_at: Option<NaiveDateTime>,
    manager_account_id: Option<Option<i64>>,
}

impl VenueChangeset {
    fn manager(&mut self, cipher: &PiiCipher, manager: &Manager) {
        self.manager_name_sealed = Some(cipher.seal(Field::Name, manager.name.as_ref()));
        self.manager_id_number_sealed =
            Some(cipher.seal(Field::IdNumber, manager.document.number()));
        self.manager_id_number_hash =
            Some(cipher.lookup_hash(Field::IdNumber, &manager.document.key()));
        self.manager_id_type = Some(manager.document.kind().as_str().to_owned());
        self.manager_phone_sealed = Some(cipher.seal(Field::Phone, manager.phone.as_ref()));
        self.manager_phone_hash = Some(cipher.lookup_hash(Field::Phone, manager.phone.as_ref()));
    }
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<VenueRow>, DbError> {
    Ok(venues::table
        .find(id)
        .filter(venues::unfinished_import.is_null())
        .select(VenueRow::as_select())
        .first(conn)
        .optional()?)
}

/// Whether the account is one of the venue's staff.
pub fn is_venue_staff(
    conn: &mut DbConnection,
    venue_id: i64,
    account_id: i64,
) -> Result<bool, DbError> {
    let count: i64 = venue_staff::table
        .filter(venue_staff::venue_id.eq(venue_id))
        .filter(venue_staff::account_id.eq(account_id))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

/// Who brings a venue in.
#[derive(Debug, Clone, Copy)]
pub enum Registrant {
    /// Its manager, applying from the mini-program: pending review.
    Manager { account_id: i64 },
    /// A registrar of its region: approved at once, its manager claims it later. Written as part
    /// of `import`, seen by no one until [`finish_import`].
    Registrar { staff_id: i64, import: i64 },
}

/// Stores a venue with its entrances: pending review when its manager applied, approved when a
/// registrar registered it. Call inside a transaction.
pub fn insert(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    by: Registrant,
    application: &VenueApplication,
    now: NaiveDateTime,
) -> Result<i64, DbError> {
    let manager = &application.manager;
    let kind = &application.kind;
    let (manager_account_id, status, reviewed_by, reviewed_at) = match by {
        Registrant::Manager { account_id } => (Some(account_id), VenueStatus::Pending, None, None),
        Registrant::Registrar { staff_id, .. } => {
            (None, VenueStatus::Approved, Some(staff_id), Some(now))
        }
    };
    let unfinished_import = match by {
        Registrant::Manager { .. } => None,
        Registrant::Registrar { import, .. } => Some(import),
    };
    let id: i64 = crate::per_backend!(conn, |c| diesel::insert_into(venues::table)
        .values((
            venues::manager_account_id.eq(manager_account_id),
            venues::manager_name_sealed.eq(cipher.seal(Field::Name, manager.name.as_ref())),
            venues::manager_id_number_sealed
                .eq(cipher.seal(Field::IdNumber, manager.document.number())),
            venues::manager_id_number_hash
                .eq(cipher.lookup_hash(Field::IdNumber, &manager.document.key())),
            venues::manager_id_type.eq(manager.document.kind().as_str()),
            venues::manager_phone_sealed.eq(cipher.seal(Field::Phone, manager.phone.as_ref())),
            venues::manager_phone_hash.eq(cipher.lookup_hash(Field::Phone, manager.phone.as_ref())),
            venues::name.eq(application.name.as_ref()),
            venues::category.eq(&kind.category),
            venues::subtype.eq(&kind.subtype),
            venues::region_code.eq(application.region.as_ref()),
            venues::address.eq(application.address.as_ref()),
            venues::lat.eq(application.location.lat()),
            venues::lng.eq(application.location.lng()),
            venues::transport_line.eq(&kind.transport_line),
            venues::plate_number.eq(&kind.plate_number),
            venues::credit_code.eq(application.credit_code.as_ref().map(AsRef::<str>::as_ref)),
            venues::status.eq(status),
            venues::reviewed_by.eq(reviewed_by),
            venues::reviewed_at.eq(reviewed_at),
            venues::created_at.eq(now),
            venues::updated_at.eq(now),
            venues::unfinished_import.eq(unfinished_import),
        ))
        .returning(venues::id)
        .get_result(c))?;
    super::entrances::insert_entrances(conn, id, &application.entrances, now)?;
    Ok(id)
}

/// Shows the venues of an import, all at once; how many.
pub fn finish_import(conn: &mut DbConnection, import: i64) -> Result<usize, DbError> {
    Ok(
        diesel::update(venues::table.filter(venues::unfinished_import.eq(import)))
            .set(venues::unfinished_import.eq(None::<i64>))
            .execute(conn)?,
    )
}

/// Which unfinished imports to delete.
#[derive(Debug, Clone, Copy)]
pub enum Unfinished {
    /// One that failed.
    Import(i64),
    /// Every one that began before this time (its node stopped half-way).
    StartedBefore(NaiveDateTime),
}

/// Deletes the venues (and their entrances) of imports that will not finish; how many venues.
/// Call outside a transaction: the rows go 40 venues a transaction with `pause()` between (the
/// import's own pace), and on SQLite with foreign keys unchecked on this connection meanwhile —
/// nothing can refer to a venue no one could see, and checking would scan every check-in for each
/// entrance (that column has no index).
pub fn discard_imports(
    conn: &mut DbConnection,
    which: Unfinished,
    pause: &dyn Fn(),
) -> Result<usize, DbError> {
    use diesel::connection::SimpleConnection;
    let unfinished = venues::table
        .filter(venues::unfinished_import.is_not_null())
        .select(venues::id)
        .into_boxed();
    let unfinished = match which {
        Unfinished::Import(import) => unfinished.filter(venues::unfinished_import.eq(import)),
        Unfinished::StartedBefore(at) => unfinished.filter(venues::created_at.lt(at)),
    };
    let ids: Vec<i64> = unfinished.load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    if let DbConnection::Sqlite(c) = conn {
        c.batch_execute("PRAGMA foreign_keys = OFF")?;
    }
    let mut deleted = Ok(());
    for part in ids.chunks(40) {
        deleted = super::write_transaction(conn, |conn| {
            diesel::delete(entrances::table.filter(entrances::venue_id.eq_any(part)))
                .execute(conn)?;
            diesel::delete(venues::table.filter(venues::id.eq_any(part))).execute(conn)?;
            Ok::<_, DbError>(())
        });
        if deleted.is_err() {
            break;
        }
        pause();
    }
    if let DbConnection::Sqlite(c) = conn {
        c.batch_execute("PRAGMA foreign_keys = ON")?;
    }
    deleted.map(|()| ids.len())
}

/// The venues of an import, finished or not, in the order written.
pub fn of_import(conn: &mut DbConnection, import: i64) -> Result<Vec<VenueRow>, DbError> {
    Ok(venues::table
        .filter(venues::unfinished_import.eq(import))
        .order(venues::id.asc())
        .select(VenueRow::as_select())
        .load(conn)?)
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
                venues::manager_phone_hash
                    .eq_any(cipher.lookup_hashes(Field::Phone, phone.as_ref())),
            )
        }
        ManagerFilter::Document(document) => {
            query = query.filter(
                venues::manager_id_number_hash
                    .eq_any(cipher.lookup_hashes(Field::IdNumber, &document.key())),
            )
        }
    }
    Ok(query.load(conn)?)
}

/// Applies changes to the basic information and sends the application back to review.
pub fn update_basic(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    venue_id: i64,
    changes: &VenueChanges,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let mut set = VenueChangeset {
        status: Some(VenueStatus::Pending),
        rejection_reason: Some(None),
        updated_at: Some(now),
        name: changes.name.as_ref().map(|n| n.as_ref().to_owned()),
        region_code: changes.region.as_ref().map(|r| r.as_ref().to_owned()),
        address: changes.address.as_ref().map(|a| a.as_ref().to_owned()),
        lat: changes.location.map(|l| l.lat()),
        lng: changes.location.map(|l| l.lng()),
        ..VenueChangeset::default()
    };
    if let Some(manager) = &changes.manager {
        set.manager(cipher, manager);
    }
    if let Some(kind) = &changes.kind {
        set.category = Some(kind.category.clone());
        set.subtype = Some(kind.subtype.clone());
        set.transport_line = Some(kind.transport_line.clone());
        set.plate_number = Some(kind.plate_number.clone());
    }
    diesel::update(venues::table.find(venue_id))
        .set(&set)
        .execute(conn)?;
    Ok(())
}

/// Gives the venue to another manager: their name, ID number and mobile replace the old, and the
/// venue waits for the account that proves that mobile (`claim_by_phone`); its staff stay.
pub fn hand_over(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    venue_id: i64,
    manager: &Manager,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let mut set = VenueChangeset {
        manager_account_id: Some(None),
        updated_at: Some(now),
        ..VenueChangeset::default()
    };
    set.manager(cipher, manager);
    diesel::update(venues::table.find(venue_id))
        .set(&set)
        .execute(conn)?;
    Ok(())
}

/// Sets (or with `None` lifts) the hours within which a negative result is required.
pub fn set_test_required_hours(
    conn: &mut DbConnection,
    venue_id: i64,
    hours: Option<u32>,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(venues::table.find(venue_id))
        .set((
            venues::test_required_hours.eq(hours.and_then(|h| i32::try_from(h).ok())),
            venues::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a review decision.
pub fn set_decision(
    conn: &mut DbConnection,
    venue_id: i64,
    status: VenueStatus,
    reason: Option<&str>,
    reviewer_id: i64,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(venues::table.find(venue_id))
        .set(&VenueChangeset {
            status: Some(status),
            rejection_reason: Some(reason.map(str::to_owned)),
            reviewed_by: Some(reviewer_id),
            reviewed_at: Some(now),
            updated_at: Some(now),
            ..VenueChangeset::default()
        })
        .execute(conn)?;
    Ok(())
}

/// Applications whose region lies inside `scope`, oldest first, optionally of one status; the
/// page's rows.
pub fn in_region(
    conn: &mut DbConnection,
    scope: &RegionCode,
    status: Option<VenueStatus>,
    page: PageRequest,
) -> Result<Vec<VenueRow>, DbError> {
    let mut query = venues::table
        .filter(venues::region_code.like(format!("{scope}%")))
        .filter(venues::unfinished_import.is_null())
        .order(venues::id.asc())
        .limit(page.rows())
        .select(VenueRow::as_select())
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(venues::status.eq(status));
    }
    if let Some(after) = page.after {
        query = query.filter(venues::id.gt(after));
    }
    Ok(query.load(conn)?)
}

/// Venues of `scope` whose name contains `text` (any, when empty), newest first, at most
/// `limit`, optionally of one status.
pub fn search_in(
    conn: &mut DbConnection,
    scope: &RegionCode,
    text: &str,
    status: Option<VenueStatus>,
    limit: i64,
) -> Result<Vec<VenueRow>, DbError> {
    let escaped: String = text
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let mut query = venues::table
        .filter(venues::region_code.like(format!("{scope}%")))
        .filter(venues::name.like(format!("%{escaped}%")).escape('\\'))
        .filter(venues::unfinished_import.is_null())
        .order(venues::id.desc())
        .limit(limit)
        .select(VenueRow::as_select())
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(venues::status.eq(status));
    }
    Ok(query.load(conn)?)
}

/// Suspends a venue with a reason, or resumes it (`None`).
pub fn set_suspension(
    conn: &mut DbConnection,
    venue_id: i64,
    suspension: Option<(NaiveDateTime, &str)>,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(venues::table.find(venue_id))
        .set((
            venues::suspended_at.eq(suspension.map(|(at, _)| at)),
            venues::suspension_reason.eq(suspension.map(|(_, reason)| reason)),
            venues::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// (venue id, name) pairs.
pub type VenueNames = Vec<(i64, String)>;

/// How many venues of `scope` are in each status.
pub fn count_by_status(
    conn: &mut DbConnection,
    scope: &RegionCode,
) -> Result<Vec<(VenueStatus, i64)>, DbError> {
    Ok(venues::table
        .filter(venues::region_code.like(format!("{scope}%")))
        .filter(venues::unfinished_import.is_null())
        .group_by(venues::status)
        .select((venues::status, diesel::dsl::count_star()))
        .load(conn)?)
}

/// The names of `ids`.
pub fn names(conn: &mut DbConnection, ids: &[i64]) -> Result<VenueNames, DbError> {
    Ok(venues::table
        .filter(venues::id.eq_any(ids))
        .select((venues::id, venues::name))
        .load(conn)?)
}

/// Whether a registrar registered a venue, not yet claimed, for the manager of this phone.
pub fn has_unclaimed(conn: &mut DbConnection, phone_hashes: &[String]) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        venues::table
            .filter(venues::manager_account_id.is_null())
            .filter(venues::manager_phone_hash.eq_any(phone_hashes))
            .filter(venues::unfinished_import.is_null()),
    ))
    .get_result(conn)?)
}

/// Gives the venues a registrar registered for the manager of this phone to the account that
/// proved it (the platform verified the account's phone); the ids claimed.
pub fn claim_by_phone(
    conn: &mut DbConnection,
    account_id: i64,
    phone_hashes: &[String],
    now: NaiveDateTime,
) -> Result<Vec<i64>, DbError> {
    let unclaimed: Vec<i64> = venues::table
        .filter(venues::manager_account_id.is_null())
        .filter(venues::manager_phone_hash.eq_any(phone_hashes))
        .filter(venues::unfinished_import.is_null())
        .select(venues::id)
        .load(conn)?;
    if !unclaimed.is_empty() {
        diesel::update(
            venues::table
                .filter(venues::id.eq_any(&unclaimed))
                .filter(venues::manager_account_id.is_null()),
        )
        .set((
            venues::manager_account_id.eq(account_id),
            venues::updated_at.eq(now),
        ))
        .execute(conn)?;
    }
    Ok(unclaimed)
}

/// The venues an account manages, and those it is staff of.
pub fn of_account(
    conn: &mut DbConnection,
    account_id: i64,
) -> Result<(VenueNames, VenueNames), DbError> {
    let managed = venues::table
        .filter(venues::manager_account_id.eq(account_id))
        .order(venues::id.asc())
        .select((venues::id, venues::name))
        .load(conn)?;
    let staffed = venue_staff::table
        .inner_join(venues::table)
        .filter(venue_staff::account_id.eq(account_id))
        .order(venues::id.asc())
        .select((venues::id, venues::name))
        .load(conn)?;
    Ok((managed, staffed))
}

/// An entrance and its venue, by entrance id alone (what a scanned code names).
pub fn entrance_with_venue(
    conn: &mut DbConnection,
    entrance_id: i64,
) -> Result<Option<(EntranceRow, VenueRow)>, DbError> {
    Ok(entrances::table
        .inner_join(venues::table)
        .filter(entrances::id.eq(entrance_id))
        .filter(venues::unfinished_import.is_null())
        .select((EntranceRow::as_select(), VenueRow::as_select()))
        .first(conn)
        .optional()?)
}
