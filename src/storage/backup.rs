//! The SQL of backup, restore and key rotation: a consistent copy through SQLite's online
//! backup API, the integrity check, row counts, the sealed values a rotation moves, and the
//! write-ahead log folded back into the file before a restored database is put in place.

use super::ts;
use chrono::{DateTime, Utc};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{params, Connection, OpenFlags};
use std::path::Path;

/// The tables whose rows a backup and a restore report, in this order.
pub const COUNTED: &[&str] = &["participants", "users", "requests", "eservices", "audit"];

/// Rows in each of [`COUNTED`].
pub fn row_counts(c: &Connection) -> anyhow::Result<Vec<(&'static str, i64)>> {
    COUNTED
        .iter()
        .map(|t| Ok((*t, c.prepare_cached(&format!("SELECT COUNT(*) FROM {t}"))?.query_row([], |r| r.get(0))?)))
        .collect()
}

/// Copy the database `src` is reading into the empty file `dest`, page by page, with SQLite's
/// online backup API. All pages go in one step: the copy is the snapshot of `src`'s open read
/// transaction (in WAL mode writers keep committing meanwhile, and an incremental copy would
/// restart at each of their commits and might never finish).
///
/// The copy goes into a file that has no name by the time a page is written: `dest` is created
/// empty, opened by SQLite and by the returned handle, and unlinked at once, so the plaintext
/// copy cannot outlive this process (a SIGKILL leaves nothing; issue 18 #9). The returned file
/// is the copy, read through its handle.
pub fn snapshot(src: &Connection, dest: &Path) -> anyhow::Result<std::fs::File> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut to = Connection::open_with_flags(dest, flags)?;
    let copy = std::fs::File::open(dest)?;
    std::fs::remove_file(dest)?;
    // A throwaway file: no journal, no syncs (the archive made from it is synced).
    to.pragma_update(None, "journal_mode", "OFF")?;
    to.pragma_update(None, "synchronous", "OFF")?;
    let backup = Backup::new(src, &mut to)?;
    loop {
        match backup.step(-1)? {
            StepResult::Done => break,
            StepResult::More => {}
            // Only a lock on the source can hold it up; wait a little, as the busy timeout would.
            StepResult::Busy | StepResult::Locked => std::thread::sleep(std::time::Duration::from_millis(20)),
            _ => {}
        }
    }
    drop(backup);
    to.close().map_err(|(_, e)| e)?;
    Ok(copy)
}

/// `PRAGMA integrity_check` of the database file at `path`, opened read-only: the problems
/// found (none: the file is sound).
pub fn integrity_check(path: &Path) -> anyhow::Result<Vec<String>> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let c = Connection::open_with_flags(path, flags)?;
    let mut stmt = c.prepare("PRAGMA integrity_check")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut problems = Vec::new();
    for row in rows {
        let row = row?;
        if row != "ok" {
            problems.push(row);
        }
    }
    Ok(problems)
}

/// Fold the write-ahead log into the database file and empty it, so the file alone holds
/// everything (before it is moved). Fails if another connection kept it from finishing.
pub fn checkpoint(c: &Connection) -> anyhow::Result<()> {
    let (busy, _, _): (i64, i64, i64) =
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    anyhow::ensure!(busy == 0, "the write-ahead log could not be folded into the database");
    Ok(())
}

/// The last audit row: its sequence number and hash (None: an empty trail).
pub fn audit_head(c: &Connection) -> anyhow::Result<Option<(i64, Vec<u8>)>> {
    use rusqlite::OptionalExtension as _;
    Ok(c.prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// End every open session: a restored database's sessions belong to the time of the backup.
pub fn end_all_sessions(c: &Connection, now: DateTime<Utc>, reason: &str) -> anyhow::Result<usize> {
    Ok(c.prepare_cached("UPDATE sessions SET ended_at = ?1, end_reason = ?2 WHERE ended_at IS NULL")?
        .execute(params![ts(now), reason])?)
}

// -- key rotation ----------------------------------------------------------------------------

/// Every sealed TOTP key (confirmed or still pending), as (user ID, sealed bytes).
pub fn sealed_totp_keys(c: &Connection) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut stmt =
        c.prepare_cached("SELECT user_id, totp_key FROM credentials WHERE totp_key IS NOT NULL ORDER BY user_id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Replace a user's sealed TOTP key by the same key sealed under another key file.
pub fn reseal_totp_key(c: &Connection, user_id: &str, sealed: &[u8]) -> anyhow::Result<()> {
    let n = c
        .prepare_cached("UPDATE credentials SET totp_key = ?2 WHERE user_id = ?1 AND totp_key IS NOT NULL")?
        .execute(params![user_id, sealed])?;
    anyhow::ensure!(n == 1, "the TOTP key of {user_id} went away while it was re-sealed");
    Ok(())
}

/// Outstanding (unused) e-mail OTPs.
pub fn outstanding_email_otps(c: &Connection) -> anyhow::Result<i64> {
    Ok(c.prepare_cached("SELECT COUNT(*) FROM email_otps WHERE used_at IS NULL")?.query_row([], |r| r.get(0))?)
}

/// Forget every e-mail OTP (their keyed hashes cannot be moved to another key); returns how
/// many unused ones there were.
pub fn discard_email_otps(c: &Connection) -> anyhow::Result<i64> {
    let unused = outstanding_email_otps(c)?;
    c.prepare_cached("DELETE FROM email_otps")?.execute([])?;
    Ok(unused)
}
