//! Venue staff: accounts the manager appoints through one-time invitation codes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{venue_staff, venue_staff_invitations, venues};
use super::{DbConnection, DbError};
use crate::crypto::{Field, PiiCipher};

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
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::insert_into(venue_staff_invitations::table)
        .values((
            venue_staff_invitations::venue_id.eq(venue_id),
            venue_staff_invitations::code_hash.eq(cipher.lookup_hash(Field::OneTimeCode, code)),
            venue_staff_invitations::expires_at.eq(expires_at),
            venue_staff_invitations::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Redeems a code for `account_id` (call inside a transaction); returns the venue, or `None` when the code is unknown,
/// used or expired.
pub fn redeem(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    code: &str,
    account_id: i64,
    now: NaiveDateTime,
) -> Result<Option<i64>, DbError> {
    // Under every configured key: invitations are not resealed (only their hash is kept).
    let hashes = cipher.lookup_hashes(Field::OneTimeCode, code);
    // Claiming the code first makes a code redeemable exactly once, even when two accounts
    // race for it.
    let claimed = diesel::update(
        venue_staff_invitations::table
            .filter(venue_staff_invitations::code_hash.eq_any(&hashes))
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
        .filter(venue_staff_invitations::code_hash.eq_any(&hashes))
        .filter(venue_staff_invitations::redeemed_by.eq(account_id))
        .filter(venue_staff_invitations::redeemed_at.eq(now))
        .select(venue_staff_invitations::venue_id)
        .first(conn)?;
    let manager: Option<i64> = venues::table
        .find(venue_id)
        .select(venues::manager_account_id)
        .first(conn)?;
    let already = venue_staff::table
        .filter(venue_staff::venue_id.eq(venue_id))
        .filter(venue_staff::account_id.eq(account_id))
        .count()
        .get_result::<i64>(conn)?;
    if manager != Some(account_id) && already == 0 {
        diesel::insert_into(venue_staff::table)
            .values((
                venue_staff::venue_id.eq(venue_id),
                venue_staff::account_id.eq(account_id),
                venue_staff::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(Some(venue_id))
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
