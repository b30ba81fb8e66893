//! Personal data moved to the current personal-data key: every sealed column, a bounded batch at
//! a time, with the lookup hash made from the same value rewritten beside it. Each batch is one
//! short transaction and rewrites a value only if it is still the one read, so the server goes on
//! writing (under the current key already) while this runs.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::{DbConnection, DbError};
use crate::crypto::{Field, PiiCipher};
use crate::domain::lookup_text;

/// A lookup hash made from a sealed column's value.
#[derive(Debug)]
pub struct Hashed {
    pub column: &'static str,
    /// The column holding the document's kind, when the hashed text is `kind:number`.
    pub kind_column: Option<&'static str>,
}

/// A column holding sealed values.
#[derive(Debug)]
pub struct Sealed {
    pub table: &'static str,
    pub column: &'static str,
    pub field: Field,
    pub hash: Option<Hashed>,
    /// The table's `id` is text (otherwise a 64-bit integer).
    pub text_id: bool,
    /// A timestamp column the table is partitioned by on PostgreSQL, so that each rewrite looks in
    /// one partition only.
    pub partition_column: Option<&'static str>,
}

const fn sealed(table: &'static str, column: &'static str, field: Field) -> Sealed {
    Sealed {
        table,
        column,
        field,
        hash: None,
        text_id: false,
        partition_column: None,
    }
}

const fn hashed(
    table: &'static str,
    column: &'static str,
    field: Field,
    hash: &'static str,
    kind_column: Option<&'static str>,
) -> Sealed {
    Sealed {
        table,
        column,
        field,
        hash: Some(Hashed {
            column: hash,
            kind_column,
        }),
        text_id: false,
        partition_column: None,
    }
}

/// Every sealed column of the schema. A test checks that none is missing.
pub const SEALED: &[Sealed] = &[
    hashed(
        "persons",
        "id_number_sealed",
        Field::IdNumber,
        "id_number_hash",
        Some("id_type"),
    ),
    sealed("persons", "name_sealed", Field::Name),
    hashed("persons", "phone_sealed", Field::Phone, "phone_hash", None),
    sealed("accounts", "profile_sealed", Field::Profile),
    hashed("accounts", "phone_sealed", Field::Phone, "phone_hash", None),
    sealed("accounts", "platform_token_sealed", Field::PlatformToken),
    sealed("accounts", "declared_name_sealed", Field::Name),
    Sealed {
        text_id: true,
        ..hashed(
            "identity_verifications",
            "id_number_sealed",
            Field::IdNumber,
            "id_number_hash",
            None,
        )
    },
    Sealed {
        text_id: true,
        ..sealed("identity_verifications", "name_sealed", Field::Name)
    },
    sealed("health_code_imports", "changes_sealed", Field::ColorImport),
    sealed("venues", "manager_name_sealed", Field::Name),
    hashed(
        "venues",
        "manager_id_number_sealed",
        Field::IdNumber,
        "manager_id_number_hash",
        Some("manager_id_type"),
    ),
    hashed(
        "venues",
        "manager_phone_sealed",
        Field::Phone,
        "manager_phone_hash",
        None,
    ),
    sealed("health_code_changes", "note_sealed", Field::Note),
    sealed("companions", "name_sealed", Field::Name),
    Sealed {
        partition_column: Some("scanned_at"),
        ..sealed("check_ins", "typed_name_sealed", Field::Name)
    },
    Sealed {
        partition_column: Some("scanned_at"),
        ..sealed("check_ins", "typed_phone_sealed", Field::Phone)
    },
    sealed("alerts", "details_sealed", Field::TraceResult),
    sealed("alerts", "note", Field::Note),
    sealed("traces", "result_sealed", Field::TraceResult),
    sealed("follow_ups", "outcome_sealed", Field::Note),
    Sealed {
        text_id: true,
        ..sealed("idempotency_keys", "answer_sealed", Field::Answer)
    },
];

#[derive(QueryableByName)]
struct Pending {
    #[diesel(sql_type = Text)]
    row_id: String,
    #[diesel(sql_type = Nullable<Timestamp>)]
    row_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Text)]
    value: String,
    #[diesel(sql_type = Nullable<Text>)]
    kind: Option<String>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Where a pass over a column stands: after which id to go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    Start,
    After(String),
    Done,
}

/// What one batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Resealed {
    pub values: u64,
    /// Values changed by someone else between the read and the write: written under the current
    /// key already, or gone.
    pub skipped: u64,
}

impl Sealed {
    /// Values of this column not sealed under `key_id`: `WHERE` text on the row, binding `$1`.
    fn not_under(&self) -> String {
        format!(
            "{col} IS NOT NULL AND substr({col}, 1, length($1)) <> $1",
            col = self.column
        )
    }

    fn prefix(key_id: &str) -> String {
        format!("v2:{key_id}:")
    }
}

/// How many values of `column` are not sealed under `key_id`.
pub fn count_not_under(
    conn: &mut DbConnection,
    column: &Sealed,
    key_id: &str,
) -> Result<i64, DbError> {
    // `$1` twice: SQLite numbers a parameter by its name, PostgreSQL by its number.
    let sql = format!(
        "SELECT COUNT(*) AS n FROM {} WHERE {}",
        column.table,
        column.not_under()
    );
    Ok(diesel::sql_query(sql)
        .bind::<Text, _>(Sealed::prefix(key_id))
        .get_result::<Count>(conn)?
        .n)
}

type Backend = <DbConnection as diesel::Connection>::Backend;
type Query<'a> = diesel::query_builder::BoxedSqlQuery<'a, Backend, diesel::query_builder::SqlQuery>;

/// Binds a row id as the table keeps it.
fn bind_id<'a>(query: Query<'a>, column: &Sealed, id: &'a str) -> Result<Query<'a>, DbError> {
    Ok(if column.text_id {
        query.bind::<Text, _>(id)
    } else {
        query.bind::<BigInt, _>(parse_id(id)?)
    })
}

/// The next batch of at most `limit` values of `column` not under the current key, after `cursor`,
/// resealed under it. Call inside a write transaction.
pub fn batch(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    column: &Sealed,
    cursor: &Cursor,
    limit: i64,
) -> Result<(Resealed, Cursor), DbError> {
    let after = match cursor {
        Cursor::Done => return Ok((Resealed::default(), Cursor::Done)),
        Cursor::Start => None,
        Cursor::After(id) => Some(id.as_str()),
    };
    let kind = column
        .hash
        .as_ref()
        .and_then(|hash| hash.kind_column)
        .unwrap_or("CAST(NULL AS TEXT)");
    let (after_sql, limit_param) = match after {
        Some(_) => (" AND id > $2", "$3"),
        None => ("", "$2"),
    };
    // Ordered by the column itself (not by the text the id is read as), so that the cursor
    // follows the primary key.
    let sql = format!(
        "SELECT CAST(id AS TEXT) AS row_id, {at} AS row_at, {col} AS value, {kind} AS kind \
         FROM {table} WHERE {not_under}{after_sql} ORDER BY {table}.id LIMIT {limit_param}",
        at = column.partition_column.unwrap_or("CAST(NULL AS TIMESTAMP)"),
        col = column.column,
        table = column.table,
        not_under = column.not_under(),
    );
    let prefix = Sealed::prefix(cipher.current_id());
    let mut query = diesel::sql_query(sql)
        .into_boxed::<Backend>()
        .bind::<Text, _>(&prefix);
    if let Some(id) = after {
        query = bind_id(query, column, id)?;
    }
    let rows: Vec<Pending> = query.bind::<BigInt, _>(limit).load(conn)?;
    let mut done = Resealed::default();
    for row in &rows {
        if reseal_one(conn, cipher, column, row)? {
            done.values += 1;
        } else {
            done.skipped += 1;
        }
    }
    let next = match rows.last() {
        Some(last) if rows.len() as i64 == limit => Cursor::After(last.row_id.clone()),
        _ => Cursor::Done,
    };
    Ok((done, next))
}

fn parse_id(id: &str) -> Result<i64, DbError> {
    id.parse()
        .map_err(|_| DbError::Other(format!("row id `{id}` is not a number")))
}

/// Rewrites one value (and its hash) if it is still the one read.
fn reseal_one(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    column: &Sealed,
    row: &Pending,
) -> Result<bool, DbError> {
    let plaintext = cipher.open(column.field, &row.value).map_err(|e| {
        DbError::Other(format!(
            "{}.{} of row {}: {e}",
            column.table, column.column, row.row_id
        ))
    })?;
    let resealed = cipher.seal(column.field, &plaintext);
    let hash = column.hash.as_ref().map(|hashed| {
        let text = match (hashed.kind_column, &row.kind) {
            (Some(_), Some(kind)) => lookup_text(kind, &plaintext),
            _ => plaintext.clone(),
        };
        (hashed, cipher.lookup_hash(column.field, &text))
    });
    // Guarded by the value read (and the kind it was hashed with), so that a write the server
    // made meanwhile is kept.
    let mut sql = format!("UPDATE {} SET {} = $1", column.table, column.column);
    let mut n = 1;
    let mut next = || {
        n += 1;
        n
    };
    if let Some((hashed, _)) = &hash {
        sql += &format!(", {} = ${}", hashed.column, next());
    }
    sql += &format!(
        " WHERE id = ${} AND {} = ${}",
        next(),
        column.column,
        next()
    );
    let kind = match (hash.as_ref().and_then(|(h, _)| h.kind_column), &row.kind) {
        (Some(kind_column), Some(kind)) => {
            sql += &format!(" AND {kind_column} = ${}", next());
            Some(kind)
        }
        _ => None,
    };
    // Only PostgreSQL partitions; SQLite compares timestamps as the text they are kept as.
    let partitioned = matches!(conn, DbConnection::Postgresql(_));
    let at = match (column.partition_column, row.row_at) {
        (Some(at_column), Some(at)) if partitioned => {
            sql += &format!(" AND {at_column} = ${}", next());
            Some(at)
        }
        _ => None,
    };
    let mut query = diesel::sql_query(sql)
        .into_boxed::<Backend>()
        .bind::<Text, _>(&resealed);
    if let Some((_, hash)) = &hash {
        query = query.bind::<Text, _>(hash);
    }
    query = bind_id(query, column, &row.row_id)?.bind::<Text, _>(&row.value);
    if let Some(kind) = kind {
        query = query.bind::<Text, _>(kind);
    }
    if let Some(at) = at {
        query = query.bind::<Timestamp, _>(at);
    }
    Ok(query.execute(conn)? == 1)
}

#[cfg(test)]
mod tests {
    use super::SEALED;

    /// Every column of the schema that holds sealed values (named `*_sealed`, and `alerts.note`) is
    /// resealed, and nothing else.
    #[test]
    fn every_sealed_column_of_the_schema_is_listed() {
        let schema = include_str!("schema.rs");
        let mut in_schema = Vec::new();
        let mut table = "";
        for line in schema.lines().map(str::trim) {
            if let Some((name, _)) = line.split_once(" (") {
                if line.ends_with('{') && !name.contains(' ') {
                    table = name;
                }
            }
            if let Some((column, _)) = line.split_once(" -> ") {
                if column.ends_with("_sealed") || (table, column) == ("alerts", "note") {
                    in_schema.push(format!("{table}.{column}"));
                }
            }
        }
        let mut listed: Vec<String> = SEALED
            .iter()
            .map(|c| format!("{}.{}", c.table, c.column))
            .collect();
        in_schema.sort();
        listed.sort();
        assert_eq!(listed, in_schema);
    }
}
