//! The check-in writer's statements on PostgreSQL, each with a fixed text whatever the batch's
//! size (arrays bound with `unnest`), so that each is prepared once per connection and costs one
//! round trip per batch: the possible repeats of all the entries, and the rows of all of them.

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{
    Array, BigInt, Bool, Integer, Nullable, SmallInt, Text, Timestamp, Untyped,
};

use super::check_in_row::CheckInRow;
use super::DbError;
use crate::domain::CheckInSource;

/// The column a window of [`NearQuery`] is about.
pub trait WindowKey: QueryId + 'static {
    const COLUMN: &'static str;
}

/// Windows of a person's check-ins (the writer's repeats).
#[derive(QueryId)]
pub struct ByPerson;
impl WindowKey for ByPerson {
    const COLUMN: &'static str = "person_id";
}

/// Windows of a venue's check-ins (a trace's overlaps).
#[derive(QueryId)]
pub struct ByVenue;
impl WindowKey for ByVenue {
    const COLUMN: &'static str = "venue_id";
}

/// Check-ins of each key with an entry time within its own window (the bounds included).
#[derive(QueryId)]
struct NearQuery<K> {
    keys: Vec<i64>,
    from: Vec<NaiveDateTime>,
    to: Vec<NaiveDateTime>,
    key: std::marker::PhantomData<K>,
}

impl<K: WindowKey> QueryFragment<Pg> for NearQuery<K> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // A nested loop by construction (`OFFSET 0` keeps the planner from flattening it into a
        // join that reads everyone's rows): one index range per window.
        out.push_sql("SELECT c.* FROM unnest(");
        out.push_bind_param::<Array<BigInt>, _>(&self.keys)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.from)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.to)?;
        out.push_sql(
            ") AS w (key, from_at, to_at) CROSS JOIN LATERAL (SELECT * FROM check_ins WHERE ",
        );
        out.push_sql(K::COLUMN);
        out.push_sql(" = w.key AND scanned_at >= w.from_at AND scanned_at <= w.to_at OFFSET 0) c");
        Ok(())
    }
}

impl<K: WindowKey> Query for NearQuery<K> {
    type SqlType = Untyped;
}

impl<K: WindowKey> RunQueryDsl<PgConnection> for NearQuery<K> {}

/// Check-ins in `windows` (key, from, to), in one statement.
pub fn near<K: WindowKey>(
    conn: &mut PgConnection,
    windows: &[(i64, NaiveDateTime, NaiveDateTime)],
) -> Result<Vec<CheckInRow>, DbError> {
    Ok(NearQuery::<K> {
        keys: windows.iter().map(|w| w.0).collect(),
        from: windows.iter().map(|w| w.1).collect(),
        to: windows.iter().map(|w| w.2).collect(),
        key: std::marker::PhantomData,
    }
    .load(conn)?)
}

/// Rows whose ids and groups are set, as columns.
#[derive(QueryId, Default)]
struct InsertRows {
    id: Vec<i64>,
    venue_id: Vec<i64>,
    entrance_id: Vec<i64>,
    person_id: Vec<i64>,
    account_id: Vec<Option<i64>>,
    group_id: Vec<Option<i64>>,
    role: Vec<&'static str>,
    source: Vec<&'static str>,
    health_color: Vec<&'static str>,
    verdict: Vec<&'static str>,
    scanned_at: Vec<NaiveDateTime>,
    recorded_at: Vec<NaiveDateTime>,
    ends_at: Vec<NaiveDateTime>,
    offline: Vec<bool>,
    located: Vec<bool>,
    distance_m: Vec<Option<i32>>,
    typed_name_sealed: Vec<Option<String>>,
    typed_phone_sealed: Vec<Option<String>>,
    paper_code_id: Vec<Option<i64>>,
    temperature_dc: Vec<Option<i16>>,
}

impl QueryFragment<Pg> for InsertRows {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO check_ins (id, venue_id, entrance_id, person_id, account_id, group_id, \
             role, source, health_color, verdict, scanned_at, recorded_at, ends_at, offline, \
             located, distance_m, typed_name_sealed, typed_phone_sealed, paper_code_id, \
             temperature_dc) \
             SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<BigInt>, _>(&self.id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.venue_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.entrance_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.person_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<BigInt>>, _>(&self.account_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<BigInt>>, _>(&self.group_id)?;
        for texts in [&self.role, &self.source, &self.health_color, &self.verdict] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Text>, _>(texts)?;
        }
        for times in [&self.scanned_at, &self.recorded_at, &self.ends_at] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Timestamp>, _>(times)?;
        }
        for flags in [&self.offline, &self.located] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Bool>, _>(flags)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Integer>>, _>(&self.distance_m)?;
        for texts in [&self.typed_name_sealed, &self.typed_phone_sealed] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Nullable<Text>>, _>(texts)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<BigInt>>, _>(&self.paper_code_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<SmallInt>>, _>(&self.temperature_dc)?;
        out.push_sql(")");
        Ok(())
    }
}

impl RunQueryDsl<PgConnection> for InsertRows {}

/// Writes rows whose ids and groups are set, all in one statement.
pub fn insert(conn: &mut PgConnection, rows: &[CheckInRow]) -> Result<(), DbError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut columns = InsertRows::default();
    for row in rows {
        columns.id.push(row.id);
        columns.venue_id.push(row.venue_id);
        columns.entrance_id.push(row.entrance_id);
        columns.person_id.push(row.person_id);
        columns.account_id.push(row.account_id);
        columns.group_id.push(row.group_id);
        columns.role.push(row.role.as_str());
        columns.source.push(row.source.as_str());
        columns.health_color.push(row.health_color.as_str());
        columns.verdict.push(row.verdict.as_str());
        columns.scanned_at.push(row.scanned_at);
        columns.recorded_at.push(row.recorded_at);
        columns.ends_at.push(row.ends_at);
        columns.offline.push(row.offline);
        columns.located.push(row.located);
        columns.distance_m.push(row.distance_m);
        columns
            .typed_name_sealed
            .push(row.typed_name_sealed.clone());
        columns
            .typed_phone_sealed
            .push(row.typed_phone_sealed.clone());
        columns.paper_code_id.push(row.paper_code_id);
        columns.temperature_dc.push(row.temperature_dc);
    }
    columns.execute(conn)?;
    Ok(())
}

/// `n` ids from the table's sequence.
#[derive(QueryId)]
struct NextIds {
    n: i64,
}

impl QueryFragment<Pg> for NextIds {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT nextval('check_ins_ids') FROM generate_series(1, ");
        out.push_bind_param::<BigInt, _>(&self.n)?;
        out.push_sql(")");
        Ok(())
    }
}

impl Query for NextIds {
    type SqlType = BigInt;
}

impl RunQueryDsl<PgConnection> for NextIds {}

pub fn next_ids(conn: &mut PgConnection, n: usize) -> Result<Vec<i64>, DbError> {
    Ok(NextIds { n: n as i64 }.load(conn)?)
}

/// How many entries each account recorded since `since`, by source, each group of sources
/// (scans; door check-ins) counted up to its cap: the hourly limit only asks whether a count
/// reached the limit, so an account far past it costs no more to count than one at it. One index
/// range per account and group.
#[derive(QueryId)]
struct EntriesSince {
    account_ids: Vec<i64>,
    since: NaiveDateTime,
    scanned_since: NaiveDateTime,
    scan_cap: i64,
    door_cap: i64,
}

impl QueryFragment<Pg> for EntriesSince {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT a.account_id, c.source, COUNT(*) FROM unnest(");
        out.push_bind_param::<Array<BigInt>, _>(&self.account_ids)?;
        out.push_sql(") AS a (account_id) CROSS JOIN LATERAL (");
        for (sources, cap) in [("= 'scan'", &self.scan_cap), ("<> 'scan'", &self.door_cap)] {
            if sources.starts_with('<') {
                out.push_sql(" UNION ALL ");
            }
            out.push_sql("(SELECT source FROM check_ins WHERE account_id = a.account_id AND role = 'self' AND source ");
            out.push_sql(sources);
            out.push_sql(" AND recorded_at >= ");
            out.push_bind_param::<Timestamp, _>(&self.since)?;
            out.push_sql(" AND scanned_at >= ");
            out.push_bind_param::<Timestamp, _>(&self.scanned_since)?;
            out.push_sql(" LIMIT ");
            out.push_bind_param::<BigInt, _>(cap)?;
            out.push_sql(")");
        }
        out.push_sql(") c GROUP BY a.account_id, c.source");
        Ok(())
    }
}

impl Query for EntriesSince {
    type SqlType = (BigInt, Text, BigInt);
}

impl RunQueryDsl<PgConnection> for EntriesSince {}

/// How many entries (own rows) each account recorded since `since`, by source; scans counted up
/// to `caps.0`, door check-ins (manual and paper together) up to `caps.1`.
pub fn entries_since(
    conn: &mut PgConnection,
    account_ids: &[i64],
    since: NaiveDateTime,
    scanned_since: NaiveDateTime,
    caps: (u32, u32),
) -> Result<Vec<(i64, CheckInSource, i64)>, DbError> {
    Ok(EntriesSince {
        account_ids: account_ids.to_vec(),
        since,
        scanned_since,
        scan_cap: i64::from(caps.0),
        door_cap: i64::from(caps.1),
    }
    .load::<(i64, CheckInSource, i64)>(conn)?)
}

/// Locks the accounts, in the order given, until the end of the transaction.
#[derive(QueryId)]
struct LockAccounts {
    account_ids: Vec<i64>,
}

impl QueryFragment<Pg> for LockAccounts {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT pg_advisory_xact_lock(a) FROM unnest(");
        out.push_bind_param::<Array<BigInt>, _>(&self.account_ids)?;
        out.push_sql(") WITH ORDINALITY AS t (a, n) ORDER BY n");
        Ok(())
    }
}

impl RunQueryDsl<PgConnection> for LockAccounts {}

/// Locks the accounts (sorted by the caller, so that two batches cannot deadlock) until the end
/// of the transaction: an advisory lock per account, held in memory only, where a row lock would
/// write to the accounts' pages.
pub fn lock_accounts(conn: &mut PgConnection, account_ids: &[i64]) -> Result<(), DbError> {
    LockAccounts {
        account_ids: account_ids.to_vec(),
    }
    .execute(conn)?;
    Ok(())
}
