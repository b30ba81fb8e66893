//! Entrances of venues: one door, one code (its version bumps when the code is replaced), and
//! which key its poster was last downloaded under.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{entrances, venues};
use super::{DbConnection, DbError};
use crate::domain::EntranceName;
use crate::domain::PageRequest;

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
    /// The venue-code key its poster was last downloaded under by its venue; `None` before any.
    pub code_key_id: Option<String>,
}

impl EntranceRow {
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
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

pub fn insert_entrance(
    conn: &mut DbConnection,
    venue_id: i64,
    name: &EntranceName,
    description: &str,
    now: NaiveDateTime,
) -> Result<i64, DbError> {
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

/// The entrances of a new venue, in one statement.
pub fn insert_entrances(
    conn: &mut DbConnection,
    venue_id: i64,
    entrances: &[crate::domain::NewEntrance],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let rows: Vec<_> = entrances
        .iter()
        .map(|entrance| {
            (
                entrances::venue_id.eq(venue_id),
                entrances::name.eq(entrance.name.as_ref()),
                entrances::description.eq(entrance.description.as_str()),
                entrances::code_version.eq(1),
                entrances::created_at.eq(now),
                entrances::updated_at.eq(now),
            )
        })
        .collect();
    if !rows.is_empty() {
        crate::per_backend!(conn, |c| diesel::insert_into(entrances::table)
            .values(&rows)
            .execute(c))?;
    }
    Ok(())
}

/// Whether an open entrance of the venue other than `except` has this name.
pub fn entrance_name_taken(
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

/// Changes an entrance's name and/or description.
pub fn update_entrance(
    conn: &mut DbConnection,
    entrance_id: i64,
    name: Option<&EntranceName>,
    description: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    #[derive(AsChangeset)]
    #[diesel(table_name = entrances)]
    struct Changes<'a> {
        name: Option<&'a str>,
        description: Option<&'a str>,
        updated_at: NaiveDateTime,
    }
    diesel::update(entrances::table.find(entrance_id))
        .set(&Changes {
            name: name.map(AsRef::as_ref),
            description,
            updated_at: now,
        })
        .execute(conn)?;
    Ok(())
}

/// Closes an entrance: its code stops working. Check-ins made through it stay.
pub fn close_entrance(
    conn: &mut DbConnection,
    entrance_id: i64,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(
        entrances::table
            .find(entrance_id)
            .filter(entrances::closed_at.is_null()),
    )
    .set((entrances::closed_at.eq(now), entrances::updated_at.eq(now)))
    .execute(conn)?;
    Ok(())
}

/// Sets a new code version; the old one is revoked.
pub fn set_code_version(
    conn: &mut DbConnection,
    entrance_id: i64,
    version: i32,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(entrances::table.find(entrance_id))
        .set((
            entrances::code_version.eq(version),
            entrances::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records that these entrances' posters were downloaded under the venue-code key `key_id`.
pub fn mark_printed(
    conn: &mut DbConnection,
    entrance_ids: &[i64],
    key_id: &str,
) -> Result<(), DbError> {
    diesel::update(
        entrances::table
            .filter(entrances::id.eq_any(entrance_ids))
            .filter(
                entrances::code_key_id
                    .ne(key_id)
                    .or(entrances::code_key_id.is_null()),
            ),
    )
    .set(entrances::code_key_id.eq(key_id))
    .execute(conn)?;
    Ok(())
}

/// An open entrance of an approved venue whose poster was last downloaded under another key than
/// `current`, with its venue.
#[derive(Debug, Clone, Queryable)]
pub struct OutdatedPoster {
    pub venue_id: i64,
    pub venue_name: String,
    pub region_code: String,
    pub entrance_id: i64,
    pub entrance_name: String,
    pub key_id: String,
}

/// The open entrances of approved venues in `region` (a code prefix) whose posters carry another
/// key than `current`, by entrance, the page's rows.
pub fn outdated_posters(
    conn: &mut DbConnection,
    region: &str,
    current: &str,
    page: PageRequest,
) -> Result<Vec<OutdatedPoster>, DbError> {
    Ok(entrances::table
        .inner_join(venues::table)
        .filter(venues::region_code.like(format!("{region}%")))
        .filter(venues::status.eq(crate::domain::VenueStatus::Approved))
        .filter(venues::unfinished_import.is_null())
        .filter(entrances::closed_at.is_null())
        .filter(entrances::code_key_id.ne(current))
        .filter(entrances::code_key_id.is_not_null())
        .filter(entrances::id.gt(page.after.unwrap_or(0)))
        .order(entrances::id.asc())
        .limit(page.rows())
        .select((
            venues::id,
            venues::name,
            venues::region_code,
            entrances::id,
            entrances::name,
            entrances::code_key_id.assume_not_null(),
        ))
        .load(conn)?)
}
