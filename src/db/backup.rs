//! A consistent copy of the embedded SQLite database while the server goes on writing:
//! `VACUUM INTO` reads one snapshot (in WAL mode writers are not held up) and writes it, compacted,
//! to a new file. PostgreSQL is backed up by its own tools (WAL archiving and base backups: README,
//! "Production").

use std::path::Path;

use diesel::RunQueryDsl;

use super::{DbConnection, DbError};

/// Copies the database to `to`, which must not exist yet; written beside it first (a name of this
/// process's own, removed if the copy fails) and renamed into place when complete, so `to` never
/// holds half a copy. Its size in bytes.
pub fn sqlite_copy(conn: &mut DbConnection, to: &Path) -> Result<u64, DbError> {
    let DbConnection::Sqlite(conn) = conn else {
        return Err(DbError::Other(
            "venuecode backup copies the embedded SQLite database; back PostgreSQL up with \
             WAL archiving and pg_basebackup (README, Production)"
                .into(),
        ));
    };
    if to.exists() {
        return Err(DbError::Other(format!("{} exists already", to.display())));
    }
    let mut partial = to.as_os_str().to_owned();
    partial.push(format!(".partial-{}", std::process::id()));
    let partial = std::path::PathBuf::from(partial);
    let copied = diesel::sql_query("VACUUM INTO ?")
        .bind::<diesel::sql_types::Text, _>(partial.to_string_lossy())
        .execute(conn)
        .map_err(DbError::from)
        .and_then(|_| {
            std::fs::rename(&partial, to)
                .map_err(|e| DbError::Other(format!("{}: {e}", to.display())))
        });
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::metadata(to)
        .map(|m| m.len())
        .map_err(|e| DbError::Other(format!("{}: {e}", to.display())))
}
