//! All SQL lives here. `Store::open` sets the PRAGMAs and runs the migrations; each table
//! family has a module of typed functions that take the open transaction.

pub mod audit;
pub mod backup;
pub mod calendar;
pub mod eservices;
pub mod otps;
pub mod outbox;
pub mod participants;
pub mod pins;
pub mod reminders;
pub mod requests;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod users;

use crate::error::invalid;
use crate::files::{self, Purpose};
use anyhow::{bail, Context as _};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use rusqlite_migration::{Migrations, M};
use std::path::{Path, PathBuf};

/// The migrations, in order. `schema.sql` is migration 1; later ones live in `migrations/`
/// and are never edited once released. Each ends with a foreign-key check, since they run with
/// foreign keys off (table rebuilds need it).
fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql).foreign_key_check()).collect())
}

const MIGRATIONS: &[&str] = &[
    include_str!("../../schema.sql"),
    include_str!("migrations/0002_houses_and_session_methods.sql"),
    include_str!("migrations/0003_hardening.sql"),
    include_str!("migrations/0004_operations.sql"),
    include_str!("migrations/0005_role_check_without_a_table.sql"),
    include_str!("migrations/0006_audit_via.sql"),
    include_str!("migrations/0007_initial_pins.sql"),
    include_str!("migrations/0008_mail_senders.sql"),
    include_str!("migrations/0009_functions.sql"),
    include_str!("migrations/0010_audit_by_subject.sql"),
];

/// The schema version this dms writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// This connection wrote since the log was last kept small (see [`Store::keep_log_small`]).
    wrote: bool,
}

/// The size past which the write-ahead log is checkpointed and truncated when a connection
/// that wrote is done (issue 17). A log left large costs every later process: the first
/// connection of a process rebuilds the log's index by reading every frame still valid in it
/// (a 26 MB log after a migration: 12,566 reads and ~50 ms for a `whoami`). Below it the log is
/// kept, as SQLITE_FCNTL_PERSIST_WAL keeps its files, and reused: a handful of frames costs a
/// new process next to nothing, a truncation costs a checkpoint and an fsync.
pub const WAL_KEEP_BYTES: u64 = 256 << 10;

/// The files SQLite may open beside a database: its write-ahead log and index, and a rollback
/// journal (dms never writes one — its databases are in WAL mode — but SQLite plays back any
/// it finds before it reads: one planted by another user is refused, issue 18). The log comes
/// first.
pub fn companions(path: &Path) -> [PathBuf; 3] {
    ["-wal", "-shm", "-journal"].map(|suffix| {
        let mut p = path.as_os_str().to_os_string();
        p.push(suffix);
        PathBuf::from(p)
    })
}

impl Store {
    /// Open an existing database. The file and its `-wal`/`-shm` are judged first (`files`:
    /// regular, the owner's alone); a file without the dms schema — an empty one included — is
    /// refused, never made into a database: only `dms init` creates one.
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        files::judge_folder(path, Purpose::Database)?;
        if files::inspect(path, Purpose::Database)?.is_none() {
            // A path that names no database is bad input (exit 6), not a failure of dms.
            return Err(invalid(format!(
                "no database at {}: create one with `dms init` (or pass --db PATH)",
                path.display()
            ))
            .into());
        }
        for c in companions(path) {
            files::inspect(&c, Purpose::Database)?;
        }
        Self::connect(path, false)
    }

    /// Create a new database file (mode 0600) and apply the schema.
    pub fn create(path: &Path) -> anyhow::Result<Store> {
        files::judge_folder(path, Purpose::Database)?;
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(crate::error::conflict(format!(
                "{} already exists; dms init will not overwrite a database",
                path.display()
            ))
            .into());
        }
        // A -wal left behind would be replayed into the new database.
        if let Some(c) = companions(path).into_iter().find(|c| std::fs::symlink_metadata(c).is_ok()) {
            return Err(crate::error::conflict(format!(
                "{} exists without its database: remove it (it belongs to a deleted database)",
                c.display()
            ))
            .into());
        }
        files::create_private(path).with_context(|| format!("cannot create {}", path.display()))?;
        Self::connect(path, true)
    }

    fn connect(path: &Path, new: bool) -> anyhow::Result<Store> {
        // Never SQLITE_OPEN_CREATE: a file that went away since it was judged is not re-made.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let mut conn =
            Connection::open_with_flags(path, flags).with_context(|| format!("cannot open {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        // Whose file is it? Asked before anything is written to it (even the journal mode).
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let latest = SCHEMA_VERSION;
        if version > latest {
            bail!("{} was written by a newer dms (schema {version}, this dms knows {latest})", path.display());
        }
        if version == 0 {
            // A file with tables but no schema version is someone else's database: never write
            // our schema into it. An empty file is not a database either: only `dms init`
            // makes one (mode 0600, with its key file).
            let tables: i64 =
                conn.query_row("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table'", [], |r| r.get(0))?;
            if tables > 0 {
                return Err(invalid(format!(
                    "{} is not a dms database (it has tables but no dms schema): give the path of a dms database",
                    path.display()
                ))
                .into());
            }
            if !new {
                return Err(invalid(format!(
                    "{} is empty, not a dms database, and dms makes a database only with `dms init`: remove the empty file and run `dms init --db {}`",
                    path.display(),
                    path.display()
                ))
                .into());
            }
        }
        // Connection settings, not schema: set on every open, outside the migrations.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        keep_wal_files(&conn)?;
        // Closing does not copy the log into the database: that cost every command, reads
        // included, a checkpoint and three fsyncs at exit (the frames were valid where they
        // were). A connection that wrote checkpoints and truncates the log once it is past
        // WAL_KEEP_BYTES (keep_log_small); below it the next process reads a few frames.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.set_prepared_statement_cache_capacity(64);
        if version < latest {
            // Table rebuilds need foreign keys off; the pragma is a no-op inside a transaction,
            // so it is switched around the migrations, which check the keys themselves.
            conn.pragma_update(None, "foreign_keys", "OFF")?;
            migrations().to_latest(&mut conn).context("applying the schema")?;
        }
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(Store { conn, path: path.to_path_buf(), wrote: version < latest })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Start a write transaction. IMMEDIATE takes the write lock up front, so two processes
    /// never deadlock upgrading read locks; the busy timeout queues them instead.
    pub fn write(&mut self) -> anyhow::Result<Transaction<'_>> {
        self.wrote = true;
        Ok(self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    /// After writing: when the write-ahead log has grown past [`WAL_KEEP_BYTES`], checkpoint it
    /// into the database and truncate it to nothing, so that the next process does not read it
    /// all again. Called when a command's connection is done (drop) and by the server after a
    /// large write. A checkpoint that other readers hold up is left for a later one.
    pub fn keep_log_small(&mut self) {
        if !self.wrote {
            return;
        }
        let wal = companions(&self.path)[0].clone();
        if std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) <= WAL_KEEP_BYTES {
            return;
        }
        // No busy wait: a reader in another process keeps the frames it reads, and the next
        // writer's checkpoint finishes the job.
        let _ = self.conn.busy_timeout(std::time::Duration::ZERO);
        let done: rusqlite::Result<(i64, i64, i64)> =
            self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)));
        let _ = self.conn.busy_timeout(std::time::Duration::from_secs(30));
        if matches!(done, Ok((0, _, _))) {
            self.wrote = false;
        }
    }

    /// The bytes of the write-ahead log now (0 when there is none).
    pub fn wal_bytes(&self) -> u64 {
        std::fs::metadata(&companions(&self.path)[0]).map(|m| m.len()).unwrap_or(0)
    }

    /// A read-only snapshot.
    pub fn read(&mut self) -> anyhow::Result<Transaction<'_>> {
        Ok(self.conn.transaction_with_behavior(TransactionBehavior::Deferred)?)
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.keep_log_small();
    }
}

/// Keep the `-wal` and `-shm` files when the last connection closes (SQLITE_FCNTL_PERSIST_WAL),
/// instead of creating, sizing and deleting both on every command: each `dms` command is a
/// process of its own, so without this every one of them pays for two file creations and two
/// unlinks. They stay 0600 beside the database, as the files rule asks.
fn keep_wal_files(conn: &Connection) -> anyhow::Result<()> {
    let mut on: std::os::raw::c_int = 1;
    // SAFETY: `conn.handle()` is the open connection's live `sqlite3*` for the duration of the
    // call; "main" is a NUL-terminated name of its main database; SQLITE_FCNTL_PERSIST_WAL
    // reads and writes exactly one `int` through the pointer, which outlives the call.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            rusqlite::ffi::SQLITE_FCNTL_PERSIST_WAL,
            (&mut on as *mut std::os::raw::c_int).cast(),
        )
    };
    if rc != rusqlite::ffi::SQLITE_OK {
        bail!("cannot keep the write-ahead log files (SQLite error {rc})");
    }
    Ok(())
}

/// A savepoint inside the open transaction: a batch of changes that can be undone as a whole
/// while what was recorded before it stays.
pub fn savepoint(c: &Connection, name: &str) -> anyhow::Result<()> {
    c.execute_batch(&format!("SAVEPOINT {name}"))?;
    Ok(())
}

/// Keep what was done since the savepoint.
pub fn release(c: &Connection, name: &str) -> anyhow::Result<()> {
    c.execute_batch(&format!("RELEASE {name}"))?;
    Ok(())
}

/// Undo what was done since the savepoint, and close it.
pub fn rollback_to(c: &Connection, name: &str) -> anyhow::Result<()> {
    c.execute_batch(&format!("ROLLBACK TO {name}; RELEASE {name}"))?;
    Ok(())
}

/// Times are stored as RFC 3339 UTC with whole seconds ("2026-11-22T02:00:00Z"), which sorts.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn parse_ts(s: &str) -> anyhow::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(s).with_context(|| format!("bad time {s:?} in database"))?.with_timezone(&Utc))
}

pub fn opt_ts(s: Option<String>) -> anyhow::Result<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_ts).transpose()
}

pub fn opt_date(s: Option<String>) -> anyhow::Result<Option<NaiveDate>> {
    s.as_deref()
        .map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").with_context(|| format!("bad date {d:?} in database")))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(migrations().validate().is_ok());
    }

    /// Migration 5: the role CHECK still refuses what it refused, and checking it no longer
    /// builds a table per row (no OpenEphemeral in the insert's program).
    #[test]
    fn the_role_check_holds_without_a_table_per_row() {
        let dir = tempfile::tempdir().expect("tmp");
        let s = Store::create(&dir.path().join("t.db")).expect("create");
        let insert = |role: &str| {
            s.conn().execute(
                "INSERT INTO users (user_id, role, surname, other_names, created_at) VALUES (?1, ?2, 'S', 'O', 't')",
                [format!("X{role}"), role.to_string()],
            )
        };
        for role in ["user", "maker", "checker", "operator", "auditor"] {
            insert(role).unwrap_or_else(|e| panic!("{role}: {e}"));
        }
        for bad in ["admin", "USER", "", "user "] {
            let e = insert(bad).expect_err(bad).to_string();
            assert!(e.contains("CHECK constraint failed"), "{bad:?}: {e}");
        }
        let mut program = s
            .conn()
            .prepare("EXPLAIN INSERT INTO users (user_id, role, surname, other_names, created_at) VALUES ('Y', 'user', 'S', 'O', 't')")
            .expect("explain");
        let opcodes: Vec<String> =
            program.query_map([], |r| r.get::<_, String>(1)).expect("rows").map(|r| r.expect("opcode")).collect();
        assert!(!opcodes.iter().any(|o| o == "OpenEphemeral"), "{opcodes:?}");
    }

    #[test]
    fn a_new_database_is_private_and_migrated() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("t.db");
        let s = Store::create(&p).expect("create");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&p).expect("meta").permissions().mode() & 0o777, 0o600);
        }
        let v: i64 = s.conn().pragma_query_value(None, "user_version", |r| r.get(0)).expect("v");
        assert_eq!(v, SCHEMA_VERSION);
        let fk: i64 = s.conn().pragma_query_value(None, "foreign_keys", |r| r.get(0)).expect("fk");
        assert_eq!(fk, 1);
        drop(s);
        assert!(Store::create(&p).is_err(), "never overwrites");
        assert!(Store::open(&p).is_ok());
        assert!(Store::open(&dir.path().join("missing.db")).is_err());
    }

    #[test]
    fn a_database_from_a_newer_dms_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("t.db");
        drop(Store::create(&p).expect("create"));
        Connection::open(&p).expect("open").pragma_update(None, "user_version", 99).expect("bump");
        let err = Store::open(&p).err().expect("refused");
        assert!(err.to_string().contains("newer dms"), "{err}");
    }

    #[test]
    fn someone_elses_database_is_left_alone() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("other.db");
        drop(crate::files::create_private(&p).expect("a private file"));
        let c = Connection::open(&p).expect("open");
        c.execute_batch("CREATE TABLE ledger (id INTEGER PRIMARY KEY, amount INTEGER)").expect("create");
        drop(c);
        let err = Store::open(&p).err().expect("refused");
        assert!(err.to_string().contains("not a dms database"), "{err}");
        let c = Connection::open(&p).expect("open");
        let n: i64 =
            c.query_row("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table'", [], |r| r.get(0)).expect("n");
        assert_eq!(n, 1, "no dms table was written into it");
    }
}
