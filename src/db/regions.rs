//! The division directory: loaded from the shipped files, read by the region picker and by every
//! check that a region code exists.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{reference_data, regions};
use super::{DbConnection, DbError};
use crate::domain::{RegionCode, RegionLevel};
use crate::reference::divisions::{self, Division};

const DATA_SET: &str = "divisions";
/// One data set per province's villages: `villages:43`.
const VILLAGE_SET_PREFIX: &str = "villages:";
const BATCH: usize = 1_000;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = regions)]
pub struct RegionRow {
    pub code: String,
    pub name: String,
    pub level: i16,
    pub parent_code: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = regions)]
struct NewRegion<'a> {
    code: &'a str,
    name: &'a str,
    level: i16,
    parent_code: Option<&'a str>,
}

/// The direct children of `parent`, or the provinces when `parent` is `None`, ordered by code.
pub fn children(
    conn: &mut DbConnection,
    parent: Option<&RegionCode>,
) -> QueryResult<Vec<RegionRow>> {
    let query = regions::table
        .select(RegionRow::as_select())
        .order(regions::code.asc())
        .into_boxed();
    match parent {
        Some(parent) => query
            .filter(regions::parent_code.eq(parent.as_ref()))
            .load(conn),
        None => query
            .filter(regions::level.eq(RegionLevel::Province.as_i16()))
            .load(conn),
    }
}

pub fn find(conn: &mut DbConnection, code: &RegionCode) -> QueryResult<Option<RegionRow>> {
    regions::table
        .find(code.as_ref())
        .select(RegionRow::as_select())
        .first(conn)
        .optional()
}

/// Whether a division exists. Where the villages of its province are loaded, a village code must
/// be one of them; elsewhere a 12-digit code is known when its first 9 digits are a known
/// township.
pub fn is_known(conn: &mut DbConnection, code: &RegionCode) -> QueryResult<bool> {
    if find(conn, code)?.is_some() {
        return Ok(true);
    }
    if code.level() != RegionLevel::Village {
        return Ok(false);
    }
    let province = &code.as_ref()[..2];
    if villages_loaded(conn, province)?.is_some() {
        return Ok(false);
    }
    Ok(find(conn, &code.parent().expect("a village has a township"))?.is_some())
}

/// The checksum of the village file the province's villages were loaded from, if they were.
pub fn villages_loaded(conn: &mut DbConnection, province: &str) -> QueryResult<Option<String>> {
    reference_data::table
        .find(format!("{VILLAGE_SET_PREFIX}{province}"))
        .select(reference_data::checksum)
        .first(conn)
        .optional()
}

/// Replaces one province's villages with `villages`, `BATCH` rows a transaction, calling `pause`
/// between them, so that no other write (a scan, the command line) waits long behind the load; the
/// province counts as loaded, with the file's `checksum`, only once the last row is in (a load cut
/// short is done again at the next start). Returns the rows written.
pub fn load_villages(
    conn: &mut DbConnection,
    province: &str,
    villages: &[Division],
    checksum: &str,
    now: NaiveDateTime,
    pause: &dyn Fn(),
) -> Result<usize, DbError> {
    let set = format!("{VILLAGE_SET_PREFIX}{province}");
    super::write_transaction::<_, DbError, _>(conn, |conn| {
        diesel::delete(reference_data::table.find(&set)).execute(conn)?;
        diesel::delete(
            regions::table
                .filter(regions::level.eq(RegionLevel::Village.as_i16()))
                .filter(regions::code.like(format!("{province}%"))),
        )
        .execute(conn)?;
        Ok(())
    })?;
    for batch in villages.chunks(BATCH) {
        pause();
        let rows: Vec<NewRegion> = batch.iter().map(new_region).collect();
        super::write_transaction::<_, DbError, _>(conn, |conn| {
            crate::per_backend!(conn, |c| diesel::insert_into(regions::table)
                .values(&rows)
                .execute(c))?;
            Ok(())
        })?;
    }
    super::write_transaction::<_, DbError, _>(conn, |conn| {
        diesel::insert_into(reference_data::table)
            .values((
                reference_data::name.eq(&set),
                reference_data::checksum.eq(checksum),
                reference_data::row_count.eq(villages.len() as i64),
                reference_data::loaded_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    })?;
    Ok(villages.len())
}

/// Key of the PostgreSQL advisory lock held while one node loads villages.
const VILLAGE_LOAD_LOCK_KEY: i64 = 7_065_627;

/// Whether this connection may load villages now: on PostgreSQL no other node is loading them (a
/// session lock, released by [`unlock_village_load`] or with the connection); always on SQLite.
pub fn try_lock_village_load(conn: &mut DbConnection) -> Result<bool, DbError> {
    #[derive(diesel::QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    match conn {
        DbConnection::Postgresql(c) => Ok(diesel::sql_query(format!(
            "SELECT pg_try_advisory_lock({VILLAGE_LOAD_LOCK_KEY}) AS locked"
        ))
        .get_result::<Locked>(c)?
        .locked),
        _ => Ok(true),
    }
}

pub fn unlock_village_load(conn: &mut DbConnection) {
    if let DbConnection::Postgresql(c) = conn {
        let _ = diesel::sql_query(format!(
            "SELECT pg_advisory_unlock({VILLAGE_LOAD_LOCK_KEY})"
        ))
        .execute(c);
    }
}

/// Of these codes, those that have children in the table.
pub fn with_children(
    conn: &mut DbConnection,
    codes: &[String],
) -> QueryResult<std::collections::HashSet<String>> {
    Ok(regions::table
        .filter(regions::parent_code.eq_any(codes))
        .select(regions::parent_code)
        .distinct()
        .load::<Option<String>>(conn)?
        .into_iter()
        .flatten()
        .collect())
}

#[derive(Debug, PartialEq, Eq)]
pub enum LoadOutcome {
    AlreadyCurrent,
    Loaded { rows: usize },
}

/// Makes the table match the shipped files: nothing happens when the loaded checksum is current,
/// otherwise the table is replaced in one transaction.
pub fn ensure_loaded(conn: &mut DbConnection, now: NaiveDateTime) -> Result<LoadOutcome, DbError> {
    let checksum = divisions::checksum();
    let current: Option<String> = reference_data::table
        .find(DATA_SET)
        .select(reference_data::checksum)
        .first(conn)
        .optional()?;
    if current.as_deref() == Some(checksum.as_str()) {
        return Ok(LoadOutcome::AlreadyCurrent);
    }
    let shipped = divisions::shipped().map_err(DbError::Other)?;
    super::write_transaction::<_, DbError, _>(conn, |conn| {
        // The villages go with the rest, to be loaded again after.
        diesel::delete(regions::table).execute(conn)?;
        diesel::delete(
            reference_data::table
                .filter(reference_data::name.like(format!("{VILLAGE_SET_PREFIX}%"))),
        )
        .execute(conn)?;
        for batch in shipped.chunks(BATCH) {
            let rows: Vec<NewRegion> = batch.iter().map(new_region).collect();
            // Multi-row inserts are compiled per backend; the shared backend has no batch form.
            crate::per_backend!(conn, |c| diesel::insert_into(regions::table)
                .values(&rows)
                .execute(c))?;
        }
        diesel::delete(reference_data::table.find(DATA_SET)).execute(conn)?;
        diesel::insert_into(reference_data::table)
            .values((
                reference_data::name.eq(DATA_SET),
                reference_data::checksum.eq(&checksum),
                reference_data::row_count.eq(shipped.len() as i64),
                reference_data::loaded_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    })?;
    Ok(LoadOutcome::Loaded {
        rows: shipped.len(),
    })
}

fn new_region(division: &Division) -> NewRegion<'_> {
    NewRegion {
        code: division.code.as_ref(),
        name: &division.name,
        level: division.level().as_i16(),
        parent_code: parent_prefix(division),
    }
}

/// The parent's code is the prefix of the child's at the parent's level.
fn parent_prefix(division: &Division) -> Option<&str> {
    let level = division.level();
    if level == RegionLevel::Province {
        return None;
    }
    let parent_len = RegionLevel::from_i16(level.as_i16() - 1)?.code_length();
    division.code.as_ref().get(..parent_len)
}

/// The division and its ancestors, province first. For a village whose province's villages are
/// not loaded, the path ends at its township.
pub fn path(conn: &mut DbConnection, code: &RegionCode) -> QueryResult<Vec<RegionRow>> {
    let mut prefixes = Vec::new();
    let mut current = Some(code.clone());
    while let Some(code) = current {
        current = code.parent();
        prefixes.push(code.into_inner());
    }
    regions::table
        .filter(regions::code.eq_any(prefixes))
        .order(regions::level.asc())
        .select(RegionRow::as_select())
        .load(conn)
}

/// The names of a `path`, province first, without the placeholder levels of municipalities
/// (`市辖区`, `县`).
fn names(path: &[RegionRow]) -> impl Iterator<Item = &str> {
    path.iter()
        .filter(|r| r.name != "市辖区" && r.name != "县")
        .map(|r| r.name.as_str())
}

/// The full division name, province first (`湖南省郴州市临武县舜峰镇`), from a `path`.
pub fn full_name(path: &[RegionRow]) -> String {
    names(path).collect()
}

/// The full division name and the street address, the region said once. Managers often type the
/// region into the address too, whole or in part (`临武县舜峰镇人民路1号`,
/// `湖南省临武县舜峰镇人民路1号`): the region's names it begins with, in order, are dropped
/// before the full name is put in front.
pub fn with_region(path: &[RegionRow], address: &str) -> String {
    let mut rest = address.trim_start();
    for name in names(path) {
        if let Some(after) = rest.strip_prefix(name) {
            rest = after.trim_start();
        }
    }
    format!("{}{rest}", full_name(path))
}

/// [`with_region`] for a stored region code.
pub fn full_address_of(
    conn: &mut DbConnection,
    code: &str,
    address: &str,
) -> Result<String, DbError> {
    match RegionCode::parse(code) {
        Ok(code) => Ok(with_region(&path(conn, &code)?, address)),
        Err(_) => Ok(address.to_owned()),
    }
}

/// The full name of a stored region code (`湖南省郴州市临武县舜峰镇`); empty for a code that does
/// not parse.
pub fn full_name_of(conn: &mut DbConnection, code: &str) -> Result<String, DbError> {
    match RegionCode::parse(code) {
        Ok(code) => Ok(full_name(&path(conn, &code)?)),
        Err(_) => Ok(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linwu() -> Vec<RegionRow> {
        [
            ("43", "湖南省", 1),
            ("4310", "郴州市", 2),
            ("431025", "临武县", 3),
            ("431025100", "舜峰镇", 4),
        ]
        .into_iter()
        .map(|(code, name, level)| RegionRow {
            code: code.into(),
            name: name.into(),
            level,
            parent_code: None,
        })
        .collect()
    }

    #[test]
    fn the_region_is_said_once_however_much_of_it_the_address_repeats() {
        let path = linwu();
        for address in [
            "人民路1号",
            "舜峰镇人民路1号",
            "临武县舜峰镇人民路1号",
            "湖南省郴州市临武县舜峰镇人民路1号",
            "湖南省临武县舜峰镇 人民路1号",
        ] {
            assert_eq!(
                with_region(&path, address),
                "湖南省郴州市临武县舜峰镇人民路1号",
                "{address}"
            );
        }
        // A street that merely starts like a later level is not cut.
        assert_eq!(
            with_region(&path[..3], "舜峰路2号"),
            "湖南省郴州市临武县舜峰路2号"
        );
    }
}
