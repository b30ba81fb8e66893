//! Venue staff: accounts the manager appoints through one-time invitation codes.

use chrono::{Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{venue_staff, venue_staff_invitations, venues};
use super::{DbConnection, DbError};
use crate::pii::{Field, PiiCipher};

pub const INVITATION_HOURS: i64 = 24;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = venue_staff)]
pub struct VenueStaffRow {
    pub id: i64,
    pub venue_id: i64,
    pub account_id: i64,
    pub created_at: NaiveDateTime,
}

pub fn create_invitation(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    venue_id: i64,
    code: &str,
) -> Result<NaiveDateTime, DbError> {
    let now = Utc::now().naive_utc();
    let expires_at = now + Duration::hours(INVITATION_HOURS);
    diesel::insert_into(venue_staff_invitations::table)
        .values((
            venue_staff_invitations::venue_id.eq(venue_id),
            venue_staff_invitations::code_hash.eq(cipher.lookup_hash(Field::OneTimeCode, code)),
            venue_staff_invitations::expires_at.eq(expires_at),
            venue_staff_invitations::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(expires_at)
}

/// Redeems a code for `account_id`; returns the venue, or `None` when the code is unknown,
/// used or expired.
pub fn redeem(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    code: &str,
    account_id: i64,
) -> Result<Option<i64>, DbError> {
    let now = Utc::now().naive_utc();
    let hash = cipher.lookup_hash(Field::OneTimeCode, code);
    super::write_transaction(conn, |conn| {
        // Claiming the code first makes a code redeemable exactly once, even when two accounts
        // race for it.
        let claimed = diesel::update(
            venue_staff_invitations::table
                .filter(venue_staff_invitations::code_hash.eq(&hash))
                .filter(venue_staff_invitations::redeemed_at.is_null())
                .filter(venue_staff_invitations::expires_at.gt(now)),
        )
        .set((
            venue_staff_invitations::redeemed_by.eq(account_id),
            venue_staff_invitations::redeemed_at.eq(now),
        ))
        .execute(conn)?;
        if claimed == 0 {
            return Ok(None);
        }
        let venue_id: i64 = venue_staff_invitations::table
            .filter(venue_staff_invitations::code_hash.eq(&hash))
            .select(venue_staff_invitations::venue_id)
            .first(conn)?;
        let manager: i64 = venues::table
            .find(venue_id)
            .select(venues::manager_account_id)
            .first(conn)?;
        let already = venue_staff::table
            .filter(venue_staff::venue_id.eq(venue_id))
            .filter(venue_staff::account_id.eq(account_id))
            .count()
            .get_result::<i64>(conn)?;
        if manager != account_id && already == 0 {
            diesel::insert_into(venue_staff::table)
                .values((
                    venue_staff::venue_id.eq(venue_id),
                    venue_staff::account_id.eq(account_id),
                    venue_staff::created_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(Some(venue_id))
    })
}

pub fn list(conn: &mut DbConnection, venue_id: i64) -> Result<Vec<VenueStaffRow>, DbError> {
    Ok(venue_staff::table
        .filter(venue_staff::venue_id.eq(venue_id))
        .order(venue_staff::id.asc())
        .select(VenueStaffRow::as_select())
        .load(conn)?)
}

/// Removes a staff member; `false` when they were not staff of this venue.
pub fn remove(conn: &mut DbConnection, venue_id: i64, account_id: i64) -> Result<bool, DbError> {
    let removed = diesel::delete(
        venue_staff::table
            .filter(venue_staff::venue_id.eq(venue_id))
            .filter(venue_staff::account_id.eq(account_id)),
    )
    .execute(conn)?;
    Ok(removed > 0)
}

/// The venues an account manages or works at: (venue id, name, is manager).
pub fn venues_of(
    conn: &mut DbConnection,
    account_id: i64,
) -> Result<Vec<(i64, String, bool)>, DbError> {
    let managed: Vec<(i64, String)> = venues::table
        .filter(venues::manager_account_id.eq(account_id))
        .order(venues::id.asc())
        .select((venues::id, venues::name))
        .load(conn)?;
    let staffed: Vec<(i64, String)> = venue_staff::table
        .inner_join(venues::table)
        .filter(venue_staff::account_id.eq(account_id))
        .order(venues::id.asc())
        .select((venues::id, venues::name))
        .load(conn)?;
    Ok(managed
        .into_iter()
        .map(|(id, name)| (id, name, true))
        .chain(staffed.into_iter().map(|(id, name)| (id, name, false)))
        .collect())
}
