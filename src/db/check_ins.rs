//! Check-ins: one row per person per entry, grouped when a resident checks in companions with
//! them. A stay runs from `scanned_at` to `ends_at` (checkout, or the subtype's default stay).

use chrono::NaiveDateTime;
use diesel::prelude::*;

pub use super::check_in_row::CheckInRow;
use super::schema::{check_ins, entrances, paper_codes, venues};
use super::{DbConnection, DbError};
use crate::domain::{CheckInRole, CheckInSource, HealthColor, Verdict};

/// `n` new check-in ids, in increasing order. Call inside the writer's transaction: on SQLite it
/// holds the write lock, so no one else takes ids meanwhile (they follow the largest id, read
/// with a statement prepared once); on PostgreSQL the ids come from the table's sequence.
pub fn next_ids(conn: &mut DbConnection, n: usize) -> Result<Vec<i64>, DbError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    match conn {
        DbConnection::Postgresql(c) => super::check_ins_pg::next_ids(c, n),
        DbConnection::Sqlite(c) => {
            let last: Option<i64> = check_ins::table
                .select(diesel::dsl::max(check_ins::id))
                .first(c)?;
            let last = last.unwrap_or(0);
            Ok((1..=n as i64).map(|k| last + k).collect())
        }
    }
}

/// Writes rows whose ids and groups are set: on PostgreSQL in one statement of arrays; on SQLite
/// in statements of fixed sizes (128, 32, 8, 2 and 1 rows). Either way each statement is prepared
/// once and kept, where one of any size would be parsed anew for every batch.
pub fn insert_rows(conn: &mut DbConnection, rows: &[CheckInRow]) -> Result<(), DbError> {
    if let DbConnection::Postgresql(c) = conn {
        return super::check_ins_pg::insert(c, rows);
    }
    macro_rules! insert_chunks {
        ($rows:expr, $($n:literal),+) => {{
            let mut rest: &[CheckInRow] = $rows;
            $(
                while rest.len() >= $n {
                    let (chunk, after) = rest.split_at($n);
                    let values: [_; $n] = std::array::from_fn(|i| values(&chunk[i]));
                    crate::per_backend!(conn, |c| diesel::insert_into(check_ins::table)
                        .values(values)
                        .execute(c))?;
                    rest = after;
                }
            )+
        }};
    }
    insert_chunks!(rows, 128, 32, 8, 2, 1);
    Ok(())
}

/// The columns of a row, as an insert writes them.
#[allow(clippy::type_complexity)]
fn values(
    row: &CheckInRow,
) -> (
    (
        diesel::dsl::Eq<check_ins::id, i64>,
        diesel::dsl::Eq<check_ins::venue_id, i64>,
        diesel::dsl::Eq<check_ins::entrance_id, i64>,
        diesel::dsl::Eq<check_ins::person_id, i64>,
        diesel::dsl::Eq<check_ins::account_id, Option<i64>>,
        diesel::dsl::Eq<check_ins::group_id, Option<i64>>,
        diesel::dsl::Eq<check_ins::role, CheckInRole>,
        diesel::dsl::Eq<check_ins::source, CheckInSource>,
        diesel::dsl::Eq<check_ins::health_color, HealthColor>,
        diesel::dsl::Eq<check_ins::verdict, Verdict>,
    ),
    (
        diesel::dsl::Eq<check_ins::scanned_at, NaiveDateTime>,
        diesel::dsl::Eq<check_ins::recorded_at, NaiveDateTime>,
        diesel::dsl::Eq<check_ins::ends_at, NaiveDateTime>,
        diesel::dsl::Eq<check_ins::offline, bool>,
        diesel::dsl::Eq<check_ins::located, bool>,
        diesel::dsl::Eq<check_ins::distance_m, Option<i32>>,
        diesel::dsl::Eq<check_ins::typed_name_sealed, Option<String>>,
        diesel::dsl::Eq<check_ins::typed_phone_sealed, Option<String>>,
        diesel::dsl::Eq<check_ins::paper_code_id, Option<i64>>,
        diesel::dsl::Eq<check_ins::temperature_dc, Option<i16>>,
    ),
) {
    (
        (
            check_ins::id.eq(row.id),
            check_ins::venue_id.eq(row.venue_id),
            check_ins::entrance_id.eq(row.entrance_id),
            check_ins::person_id.eq(row.person_id),
            check_ins::account_id.eq(row.account_id),
            check_ins::group_id.eq(row.group_id),
            check_ins::role.eq(row.role),
            check_ins::source.eq(row.source),
            check_ins::health_color.eq(row.health_color),
            check_ins::verdict.eq(row.verdict),
        ),
        (
            check_ins::scanned_at.eq(row.scanned_at),
            check_ins::recorded_at.eq(row.recorded_at),
            check_ins::ends_at.eq(row.ends_at),
            check_ins::offline.eq(row.offline),
            check_ins::located.eq(row.located),
            check_ins::distance_m.eq(row.distance_m),
            check_ins::typed_name_sealed.eq(row.typed_name_sealed.clone()),
            check_ins::typed_phone_sealed.eq(row.typed_phone_sealed.clone()),
            check_ins::paper_code_id.eq(row.paper_code_id),
            check_ins::temperature_dc.eq(row.temperature_dc),
        ),
    )
}

/// Check-ins of one person with an entry time in `[from, to]`: one statement, prepared once.
pub fn of_person_between(
    conn: &mut DbConnection,
    person_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<CheckInRow>, DbError> {
    Ok(check_ins::table
        .filter(check_ins::person_id.eq(person_id))
        .filter(check_ins::scanned_at.ge(from))
        .filter(check_ins::scanned_at.le(to))
        .select(CheckInRow::as_select())
        .load(conn)?)
}

/// Check-ins of these people with an entry time in `[from, to]`.
pub fn of_people_between(
    conn: &mut DbConnection,
    person_ids: &[i64],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<CheckInRow>, DbError> {
    Ok(check_ins::table
        .filter(check_ins::person_id.eq_any(person_ids))
        .filter(check_ins::scanned_at.ge(from))
        .filter(check_ins::scanned_at.le(to))
        .select(CheckInRow::as_select())
        .load(conn)?)
}

/// The entries (own rows) one account recorded since `since`: source and when; one statement,
/// prepared once. `scanned_since` bounds the entry time of such rows (offline scans lie back).
pub fn entries_of_account_since(
    conn: &mut DbConnection,
    account_id: i64,
    since: NaiveDateTime,
    scanned_since: NaiveDateTime,
) -> Result<Vec<(CheckInSource, NaiveDateTime)>, DbError> {
    Ok(check_ins::table
        .filter(check_ins::account_id.eq(account_id))
        .filter(check_ins::role.eq(CheckInRole::Own))
        .filter(check_ins::recorded_at.ge(since))
        .filter(check_ins::scanned_at.ge(scanned_since))
        .select((check_ins::source, check_ins::recorded_at))
        .load(conn)?)
}

/// The rows of the entry `row` belongs to, in the order they were recorded. They share its venue
/// and entry time, so the venue's index finds them (the table keeps no index of groups: it would
/// cost every insert).
pub fn group_of(conn: &mut DbConnection, row: &CheckInRow) -> Result<Vec<CheckInRow>, DbError> {
    Ok(check_ins::table
        .filter(check_ins::venue_id.eq(row.venue_id))
        .filter(check_ins::scanned_at.eq(row.scanned_at))
        .filter(check_ins::group_id.eq(row.group_id.unwrap_or(row.id)))
        .order(check_ins::id.asc())
        .select(CheckInRow::as_select())
        .load(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<CheckInRow>, DbError> {
    Ok(check_ins::table
        .find(id)
        .select(CheckInRow::as_select())
        .first(conn)
        .optional()?)
}

/// Ends at `now` the stays among `ids` that are still running; returns the rows afterwards.
pub fn end_stays(
    conn: &mut DbConnection,
    ids: &[i64],
    now: NaiveDateTime,
) -> Result<Vec<CheckInRow>, DbError> {
    diesel::update(
        check_ins::table
            .filter(check_ins::id.eq_any(ids))
            .filter(check_ins::left_at.is_null())
            .filter(check_ins::ends_at.gt(now)),
    )
    .set((check_ins::left_at.eq(now), check_ins::ends_at.eq(now)))
    .execute(conn)?;
    Ok(check_ins::table
        .filter(check_ins::id.eq_any(ids))
        .order(check_ins::id.asc())
        .select(CheckInRow::as_select())
        .load(conn)?)
}

/// One line of an itinerary.
#[derive(Debug, Clone, Queryable)]
pub struct ItineraryRow {
    pub check_in_id: i64,
    pub person_id: i64,
    pub role: CheckInRole,
    pub scanned_at: NaiveDateTime,
    pub left_at: Option<NaiveDateTime>,
    pub ends_at: NaiveDateTime,
    pub venue_name: String,
    pub entrance_name: String,
    pub region_code: String,
    pub address: String,
    pub typed_name_sealed: Option<String>,
    /// The colour and verdict the door gave at the time.
    pub health_color: crate::domain::HealthColor,
    pub verdict: crate::domain::Verdict,
}

/// The check-ins an account recorded since `since` — scanned for itself and its companions, or
/// from a paper code it printed — and, when `own_person` is given, every check-in of that person;
/// newest first. Two reads that each follow an index (one `OR` over them reads the whole table on
/// SQLite): the account's scans by account and time (a row is recorded when or after it was
/// scanned), and by person and time the check-ins of its own person and of the people its paper
/// codes were printed for.
pub fn itinerary(
    conn: &mut DbConnection,
    account_id: i64,
    own_person: Option<i64>,
    since: NaiveDateTime,
) -> Result<Vec<ItineraryRow>, DbError> {
    let printed: Vec<(i64, i64)> = paper_codes::table
        .filter(paper_codes::account_id.eq(account_id))
        .select((paper_codes::id, paper_codes::person_id))
        .load(conn)?;
    let codes: Vec<i64> = printed.iter().map(|(code, _)| *code).collect();
    let mut people: Vec<i64> = printed.iter().map(|(_, person)| *person).collect();
    people.extend(own_person);
    people.sort_unstable();
    people.dedup();

    let lines = || {
        check_ins::table
            .inner_join(venues::table)
            .inner_join(entrances::table)
            .filter(check_ins::scanned_at.ge(since))
            .select((
                check_ins::id,
                check_ins::person_id,
                check_ins::role,
                check_ins::scanned_at,
                check_ins::left_at,
                check_ins::ends_at,
                venues::name,
                entrances::name,
                venues::region_code,
                venues::address,
                check_ins::typed_name_sealed,
                check_ins::health_color,
                check_ins::verdict,
            ))
            .into_boxed()
    };
    let mut rows: Vec<ItineraryRow> = lines()
        .filter(check_ins::account_id.eq(account_id))
        .filter(check_ins::source.eq(CheckInSource::Scan))
        .filter(check_ins::recorded_at.ge(since))
        .load(conn)?;
    if !people.is_empty() {
        let own = check_ins::person_id.nullable().eq(own_person);
        let printed = check_ins::paper_code_id.eq_any(codes);
        rows.extend(
            lines()
                .filter(check_ins::person_id.eq_any(people))
                .filter(own.or(printed))
                .load::<ItineraryRow>(conn)?,
        );
    }
    rows.sort_unstable_by_key(|row| std::cmp::Reverse((row.scanned_at, row.check_in_id)));
    rows.dedup_by_key(|row| row.check_in_id);
    Ok(rows)
}

/// Entry times and colours at a venue in `[from, to)`: the raw material of its counts.
pub fn times_and_colors(
    conn: &mut DbConnection,
    venue_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<(NaiveDateTime, HealthColor)>, DbError> {
    Ok(check_ins::table
        .filter(check_ins::venue_id.eq(venue_id))
        .filter(check_ins::scanned_at.ge(from))
        .filter(check_ins::scanned_at.lt(to))
        .select((check_ins::scanned_at, check_ins::health_color))
        .load(conn)?)
}

/// One stay at a venue: whose, who recorded it (and who printed its paper code), and when.
#[derive(Debug, Clone, Queryable)]
pub struct StayRow {
    pub person_id: i64,
    pub account_id: Option<i64>,
    pub source: CheckInSource,
    pub printed_by: Option<i64>,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

/// Stays at a venue that overlap `[from, to)`. No stay lasts longer than `longest`.
pub fn stays_overlapping(
    conn: &mut DbConnection,
    venue_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
    longest: chrono::Duration,
) -> Result<Vec<StayRow>, DbError> {
    Ok(check_ins::table
        .left_join(paper_codes::table.on(check_ins::paper_code_id.eq(paper_codes::id.nullable())))
        .filter(check_ins::venue_id.eq(venue_id))
        .filter(check_ins::scanned_at.lt(to))
        .filter(check_ins::ends_at.gt(from))
        .filter(check_ins::scanned_at.ge(from - longest))
        .select((
            check_ins::person_id,
            check_ins::account_id,
            check_ins::source,
            paper_codes::account_id.nullable(),
            check_ins::scanned_at,
            check_ins::ends_at,
        ))
        .load(conn)?)
}

/// Check-ins at venues of `scope` in `[from, to)`, counted by venue, colour and whether the scan
/// was located: (venue id, colour, located, count).
pub fn region_counts(
    conn: &mut DbConnection,
    scope: &crate::domain::RegionCode,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<(i64, HealthColor, bool, i64)>, DbError> {
    Ok(check_ins::table
        .inner_join(venues::table.on(venues::id.eq(check_ins::venue_id)))
        .filter(venues::region_code.like(format!("{scope}%")))
        .filter(check_ins::scanned_at.ge(from))
        .filter(check_ins::scanned_at.lt(to))
        .group_by((
            check_ins::venue_id,
            check_ins::health_color,
            check_ins::located,
        ))
        .select((
            check_ins::venue_id,
            check_ins::health_color,
            check_ins::located,
            diesel::dsl::count_star(),
        ))
        .load(conn)?)
}

/// Every check-in at a venue whose stay overlaps `[from, to)`, oldest first: all of them, or a
/// page's rows (`rows` of them past the cursor).
pub fn at_venue_overlapping(
    conn: &mut DbConnection,
    venue_id: i64,
    stays: &Overlapping,
    page: Option<(i64, Option<VisitorCursor>)>,
) -> Result<Vec<CheckInRow>, DbError> {
    let mut query = check_ins::table
        .filter(overlapping_at(
            venue_id,
            stays.from,
            stays.to,
            stays.earliest,
        ))
        .order((check_ins::scanned_at.asc(), check_ins::id.asc()))
        .select(CheckInRow::as_select())
        .into_boxed();
    if let Some((rows, after)) = page {
        query = query.limit(rows);
        if let Some(after) = after {
            query = query.filter(
                check_ins::scanned_at
                    .gt(after.scanned_at)
                    .or(check_ins::scanned_at
                        .eq(after.scanned_at)
                        .and(check_ins::id.gt(after.id))),
            );
        }
    }
    Ok(query.load(conn)?)
}

/// The stays that overlap `from`–`to` and began at `earliest` or later (the longest stay before
/// `from`, and never before the retention period).
#[derive(Debug, Clone, Copy)]
pub struct Overlapping {
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub earliest: NaiveDateTime,
}

/// The check-ins at the venue whose stay overlaps `from`–`to` and began at `earliest` or later.
#[diesel::dsl::auto_type]
fn overlapping_at(
    venue_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
    earliest: NaiveDateTime,
) -> _ {
    check_ins::venue_id
        .eq(venue_id)
        .and(check_ins::scanned_at.lt(to))
        .and(check_ins::ends_at.gt(from))
        .and(check_ins::scanned_at.ge(earliest))
}

/// Where a page of a venue's visitors ends: its last stay.
#[derive(Debug, Clone, Copy)]
pub struct VisitorCursor {
    pub scanned_at: NaiveDateTime,
    pub id: i64,
}

/// The cursor of check-in `id` at the venue, when it is still there.
pub fn visitor_cursor(
    conn: &mut DbConnection,
    venue_id: i64,
    id: i64,
) -> Result<Option<VisitorCursor>, DbError> {
    Ok(check_ins::table
        .filter(check_ins::id.eq(id))
        .filter(check_ins::venue_id.eq(venue_id))
        .select(check_ins::scanned_at)
        .first::<NaiveDateTime>(conn)
        .optional()?
        .map(|scanned_at| VisitorCursor { scanned_at, id }))
}

/// How many people the stays of [`at_venue_overlapping`] were.
pub fn people_overlapping(
    conn: &mut DbConnection,
    venue_id: i64,
    stays: &Overlapping,
) -> Result<i64, DbError> {
    Ok(check_ins::table
        .filter(overlapping_at(
            venue_id,
            stays.from,
            stays.to,
            stays.earliest,
        ))
        .select(diesel::dsl::count(check_ins::person_id).aggregate_distinct())
        .first(conn)?)
}
