//! Colour imports above the two-person threshold, kept sealed until a second official of the
//! region confirms them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::health_code_imports;
use super::{DbConnection, DbError};
use crate::domain::{ChangeStatus, RegionCode};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = health_code_imports)]
pub struct ImportRow {
    pub id: i64,
    pub requested_by: i64,
    pub region_code: String,
    pub row_count: i64,
    /// The resolved changes, as sealed JSON.
    pub changes_sealed: String,
    pub status: ChangeStatus,
    pub requested_at: NaiveDateTime,
    pub confirmed_by: Option<i64>,
    pub applied_at: Option<NaiveDateTime>,
}

pub fn insert(
    conn: &mut DbConnection,
    requested_by: i64,
    region: &RegionCode,
    row_count: i64,
    changes_sealed: &str,
    now: NaiveDateTime,
) -> Result<ImportRow, DbError> {
    let id: i64 = crate::per_backend!(conn, |c| diesel::insert_into(health_code_imports::table)
        .values((
            health_code_imports::requested_by.eq(requested_by),
            health_code_imports::region_code.eq(region.as_ref()),
            health_code_imports::row_count.eq(row_count),
            health_code_imports::changes_sealed.eq(changes_sealed),
            health_code_imports::status.eq(ChangeStatus::Pending),
            health_code_imports::requested_at.eq(now),
        ))
        .returning(health_code_imports::id)
        .get_result(c))?;
    find(conn, id)?.ok_or_else(|| DbError::Other("a new import vanished".into()))
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<ImportRow>, DbError> {
    Ok(health_code_imports::table
        .find(id)
        .select(ImportRow::as_select())
        .first(conn)
        .optional()?)
}

/// Pending imports of regions inside `scope`, oldest first.
pub fn pending_in(conn: &mut DbConnection, scope: &RegionCode) -> Result<Vec<ImportRow>, DbError> {
    Ok(health_code_imports::table
        .filter(health_code_imports::status.eq(ChangeStatus::Pending))
        .filter(health_code_imports::region_code.like(format!("{scope}%")))
        .order(health_code_imports::id.asc())
        .select(ImportRow::as_select())
        .load(conn)?)
}

/// Marks a pending import applied; `false` when it was no longer pending.
pub fn mark_applied(
    conn: &mut DbConnection,
    id: i64,
    confirmed_by: i64,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let changed = diesel::update(
        health_code_imports::table
            .filter(health_code_imports::id.eq(id))
            .filter(health_code_imports::status.eq(ChangeStatus::Pending)),
    )
    .set((
        health_code_imports::status.eq(ChangeStatus::Applied),
        health_code_imports::confirmed_by.eq(confirmed_by),
        health_code_imports::applied_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed > 0)
}
