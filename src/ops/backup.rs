//! Encrypted online backups and verified restores (SPEC §5 "Backup and restore").
//!
//! **A backup** is the database and its key file, taken together in one read snapshot: the
//! key is the one that snapshot belongs with ([`keys::open`]), and the database is copied page
//! by page with SQLite's online backup API into a private temporary file beside the database while other processes
//! keep writing. That copy and the key are then written into an [age] stream encrypted with the
//! passphrase (scrypt recipient; age's work factor, calibrated to about a second on the
//! machine that makes the backup), to a new 0600 file, never over an existing one.
//!
//! **The archive inside the age stream** (age authenticates every 64 KiB chunk and the end of
//! the stream, so a damaged or truncated file never decrypts):
//!
//! ```text
//! dms-backup 1\n                      the format and its version
//! {"created_at", "dms", "schema", "key_file_bytes", "database_bytes",
//!  "rows": {...}, "audit": {"last_seq", "head"}}\n      one line of JSON (at most 64 KiB)
//! the key file                         key_file_bytes bytes: 64 hex digits and a newline
//! the database                         database_bytes bytes: a consistent SQLite file
//! ```
//!
//! **A restore** decrypts into a private working folder beside the new path, checks the
//! database (`PRAGMA integrity_check`), opens it with its key (older schemas are migrated),
//! ends every session that was open in it, records the restore in the audit trail and
//! verifies the whole trail, with the backup's own head as a checkpoint; only then are the key
//! file and the database linked into place, each never over an existing file. Any failure —
//! a wrong passphrase, a damaged or truncated file, a broken trail — removes the working folder
//! and leaves nothing at the new path.
//!
//! [age]: https://age-encryption.org/v1

use crate::crypto::MasterKey;
use crate::domain::user_id::UserId;
use crate::error::{auth, conflict, invalid, DmsError, Kind};
use crate::files::{self, Access, Purpose};
use crate::ops;
use crate::ops::service::{Db, Service};
use crate::ops::work::{key_path, Mode, Work};
use crate::storage::audit::{self, Checkpoint};
use crate::storage::{self, backup, ts};
use age::secrecy::SecretString;
use serde_json::{json, Map, Value};
use std::io::{BufRead as _, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The first line of the archive.
pub const MAGIC: &[u8] = b"dms-backup 1\n";
/// The header line is small; a longer one is not ours.
const MAX_HEADER: u64 = 64 * 1024;
/// A key file: the key and its marks (as `MasterKey::load` reads it).
const MAX_KEY_FILE: u64 = crate::crypto::MAX_KEY_FILE;
/// A backup passphrase guards every TOTP key offline: at least as long as a password.
pub const MIN_PASSPHRASE: usize = 16;

/// What a backup holds, as its header tells it.
#[derive(Debug, Clone)]
pub struct Made {
    pub file: PathBuf,
    pub rows: Vec<(&'static str, i64)>,
    pub audit: Option<Checkpoint>,
    /// The size of the encrypted file.
    pub bytes: u64,
    pub database_bytes: u64,
}

fn rows_json(rows: &[(&'static str, i64)]) -> Value {
    Value::Object(rows.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<Map<_, _>>())
}

/// What one read snapshot gave: the database copied into `tmp`, its key, its rows and head.
struct Snapshot {
    key: MasterKey,
    rows: Vec<(&'static str, i64)>,
    audit: Option<Checkpoint>,
}

fn snapshot(w: &mut Work<'_>, tmp: &Path) -> anyhow::Result<(Snapshot, std::fs::File)> {
    // The key this snapshot belongs with (read before the copy, in the same snapshot).
    let key = w.key()?.clone();
    audit::load_key(&w.tx, &key)?;
    let rows = backup::row_counts(&w.tx)?;
    let audit = backup::audit_head(&w.tx)?
        .map(|(last_seq, head)| -> anyhow::Result<Checkpoint> {
            Ok(Checkpoint {
                last_seq,
                head: head.as_slice().try_into().map_err(|_| anyhow::anyhow!("audit row {last_seq} is damaged"))?,
            })
        })
        .transpose()?;
    let copy = backup::snapshot(&w.tx, tmp)?;
    Ok((Snapshot { key, rows, audit }, copy))
}

/// `dms backup`: the snapshot (a read transaction: writers go on), the encrypted archive
/// written outside any transaction, then an audit row. The caller has checked who runs it:
/// `by` a signed-in operator, or None for the system account (cron).
pub fn backup(ctx: &mut Db<'_>, by: Option<&UserId>, out: &Path, passphrase: &str) -> anyhow::Result<Made> {
    if passphrase.chars().count() < MIN_PASSPHRASE {
        return Err(invalid(format!(
            "the backup passphrase must have at least {MIN_PASSPHRASE} characters: it is all that guards the TOTP keys in the file"
        ))
        .into());
    }
    if std::fs::symlink_metadata(out).is_ok() {
        return Err(conflict(format!(
            "{}: a file is already there, and dms never writes a backup over one: give another path",
            out.display()
        ))
        .into());
    }
    // What a killed backup of an earlier dms left: its plaintext copies beside the database,
    // its half-written archives beside the output.
    files::remove_leftovers(ctx.store().path());
    files::remove_leftovers(out);
    let pause = ctx.pause_hook();
    // The plain copy stays beside the database, where its files are already kept (a backup
    // folder may be less guarded), in a file that loses its name before a page is written to
    // it: it cannot outlive this process. The archive is a file with no name until it is
    // complete, then given its name.
    let db_name = files::temp_beside(ctx.store().path());
    files::create_private(&db_name)
        .map_err(|e| invalid(format!("{}: cannot write beside the database: {e}", db_name.display())))?;
    let made = (|| -> anyhow::Result<Made> {
        let (snap, db_tmp) = ctx.transact(Mode::Read, |w| snapshot(w, &db_name))?;
        pause("snapshot-taken");
        let schema = storage::SCHEMA_VERSION;
        let database_bytes = db_tmp.metadata()?.len();
        let key_text = snap.key.file_text();
        let header = json!({
            "created_at": ts(ctx.now()),
            "dms": env!("CARGO_PKG_VERSION"),
            "schema": schema,
            "key_file_bytes": key_text.len(),
            "database_bytes": database_bytes,
            "rows": rows_json(&snap.rows),
            "audit": snap.audit.map(|c| json!({ "last_seq": c.last_seq, "head": hex::encode(c.head) })),
        });
        let file = files::anonymous_beside(out)?;
        let recipient = age::scrypt::Recipient::new(SecretString::from(passphrase.to_string()));
        let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .map_err(|e| anyhow::anyhow!("cannot encrypt: {e}"))?;
        let mut w = encryptor.wrap_output(BufWriter::with_capacity(1 << 16, file))?;
        w.write_all(MAGIC)?;
        serde_json::to_writer(&mut w, &header)?;
        w.write_all(b"\n")?;
        w.write_all(key_text.as_bytes())?;
        let mut plain = &db_tmp;
        std::io::Seek::seek(&mut plain, std::io::SeekFrom::Start(0))?;
        let copied = std::io::copy(&mut plain, &mut w)?;
        anyhow::ensure!(copied == database_bytes, "the database copy changed while it was archived");
        let file = w.finish()?.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        let bytes = file.metadata()?.len();
        pause("archive-written");
        files::publish_anonymous(&file, out, Purpose::Backup)?;
        Ok(Made { file: out.to_path_buf(), rows: snap.rows, audit: snap.audit, bytes, database_bytes })
    })();
    let _ = std::fs::remove_file(&db_name);
    let made = made?;
    ctx.transact(Mode::Write, |w| {
        w.audit(&audit::Event {
            actor: by.map(UserId::as_str),
            action: "database.backed-up",
            detail: json!({
                "by": if by.is_some() { "operator" } else { "system" },
                "file": made.file.display().to_string(),
                "bytes": made.bytes,
                "rows": rows_json(&made.rows),
                "audit_last_seq": made.audit.map(|c| c.last_seq),
            })
            .to_string(),
            ..Default::default()
        })
    })?;
    Ok(made)
}

/// What a restore put in place.
#[derive(Debug, Clone)]
pub struct Restored {
    pub db: PathBuf,
    pub key_file: PathBuf,
    pub rows: Vec<(&'static str, i64)>,
    pub audit: ops::audit::Verified,
    pub sessions_ended: usize,
    pub created_at: String,
}

/// The header of an archive, as far as a restore needs it.
struct Header {
    created_at: String,
    key_file_bytes: u64,
    database_bytes: u64,
    audit: Option<Checkpoint>,
}

fn damaged(file: &Path, why: impl std::fmt::Display) -> anyhow::Error {
    invalid(format!("{}: the backup file is damaged or truncated ({why}); nothing was restored", file.display())).into()
}

fn parse_header(file: &Path, line: &[u8]) -> anyhow::Result<Header> {
    let v: Value = serde_json::from_slice(line).map_err(|e| damaged(file, format!("header: {e}")))?;
    let n = |k: &str| v[k].as_u64().ok_or_else(|| damaged(file, format!("header without {k}")));
    let schema = n("schema")?;
    if schema > storage::SCHEMA_VERSION as u64 {
        return Err(invalid(format!(
            "{}: the backup was made by a newer dms (schema {schema}, this dms knows {}); restore it with that dms",
            file.display(),
            storage::SCHEMA_VERSION
        ))
        .into());
    }
    let audit = match &v["audit"] {
        Value::Null => None,
        a => Some(
            Checkpoint::from_json(&json!({ "head": a["head"], "last_seq": a["last_seq"] }).to_string())
                .map_err(|e| damaged(file, format!("header audit: {e}")))?,
        ),
    };
    Ok(Header {
        created_at: v["created_at"].as_str().unwrap_or_default().to_string(),
        key_file_bytes: n("key_file_bytes")?,
        database_bytes: n("database_bytes")?,
        audit,
    })
}

/// Decrypt the archive `file` into `dir/dms.db` and `dir/dms.db.key`.
fn unpack(file: &Path, passphrase: &str, dir: &Path) -> anyhow::Result<Header> {
    let f = files::open(file, Purpose::Backup, Access::Read)?
        .ok_or_else(|| invalid(format!("{}: no such backup file", file.display())))?;
    let decryptor = age::Decryptor::new_buffered(BufReader::new(f)).map_err(|e| match e {
        age::DecryptError::UnknownFormat | age::DecryptError::InvalidHeader => {
            invalid(format!("{}: not a dms backup (not an age-encrypted file)", file.display())).into()
        }
        e => damaged(file, e),
    })?;
    if !decryptor.is_scrypt() {
        return Err(invalid(format!(
            "{}: not a dms backup (encrypted to a key, not with a passphrase)",
            file.display()
        ))
        .into());
    }
    let identity = age::scrypt::Identity::new(SecretString::from(passphrase.to_string()));
    let reader = decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity)).map_err(|e| match e {
        age::DecryptError::DecryptionFailed
        | age::DecryptError::KeyDecryptionFailed
        | age::DecryptError::NoMatchingKeys => {
            auth(format!("{}: wrong passphrase (or a damaged backup file); nothing was restored", file.display()))
                .into()
        }
        e => damaged(file, e),
    })?;
    let mut r = BufReader::with_capacity(1 << 16, reader);
    let read_err = |e: std::io::Error| damaged(file, e);
    let mut magic = vec![0u8; MAGIC.len()];
    r.read_exact(&mut magic).map_err(read_err)?;
    if magic != MAGIC {
        return Err(
            invalid(format!("{}: encrypted, but not a dms backup (or of a newer format)", file.display())).into()
        );
    }
    let mut line = Vec::new();
    (&mut r).take(MAX_HEADER).read_until(b'\n', &mut line).map_err(read_err)?;
    if line.last() != Some(&b'\n') {
        return Err(damaged(file, "no header"));
    }
    let header = parse_header(file, &line)?;
    if header.key_file_bytes > MAX_KEY_FILE {
        return Err(damaged(file, "key file too long"));
    }
    let mut key = Zeroizing::new(vec![0u8; header.key_file_bytes as usize]);
    r.read_exact(&mut key).map_err(read_err)?;
    let key_file = dir.join("dms.db.key");
    let mut kf = files::create_private(&key_file)?;
    kf.write_all(&key)?;
    kf.sync_all()?;
    MasterKey::load(&key_file).map_err(|e| damaged(file, e))?;
    let mut db = BufWriter::with_capacity(1 << 16, files::create_private(&dir.join("dms.db"))?);
    let copied = std::io::copy(&mut (&mut r).take(header.database_bytes), &mut db).map_err(read_err)?;
    if copied != header.database_bytes {
        return Err(damaged(file, format!("{copied} of {} database bytes", header.database_bytes)));
    }
    // Read to the end: age checks the last chunk (a stream cut short, or with more after it,
    // fails here).
    let mut rest = [0u8; 1];
    if r.read(&mut rest).map_err(read_err)? != 0 {
        return Err(damaged(file, "more data after the database"));
    }
    let f = db.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    Ok(header)
}

/// `dms --db NEWPATH restore FILE`: see the module head. Nothing exists at `g.db` before,
/// and nothing is left there unless it all verified.
pub fn restore(db: &Path, now: Option<&str>, file: &Path, passphrase: &str) -> anyhow::Result<Restored> {
    let key_file = key_path(db);
    files::judge_folder(db, Purpose::Database)?;
    for p in std::iter::once(db.to_path_buf()).chain(std::iter::once(key_file.clone())).chain(storage::companions(db)) {
        if std::fs::symlink_metadata(&p).is_ok() {
            return Err(conflict(format!(
                "{}: a file is already there, and a restore never writes over a database or its key file: restore to a new path (--db NEWPATH)",
                p.display()
            ))
            .into());
        }
    }
    let dir = files::private_folder_beside(db, "restore")?;
    let result = (|| -> anyhow::Result<Restored> {
        let header = unpack(file, passphrase, &dir)?;
        let work = dir.join("dms.db");
        let problems = backup::integrity_check(&work).map_err(|e| damaged(file, e))?;
        if !problems.is_empty() {
            return Err(DmsError::new(
                Kind::Integrity,
                format!(
                    "{}: the database in the backup fails its integrity check ({}); nothing was restored",
                    file.display(),
                    problems.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
                ),
            )
            .into());
        }
        let service = Service::open(&work, false)?;
        let mut ctx = service.host_db(now)?;
        let (audit, sessions_ended, rows) = ctx.transact(Mode::Write, |w| {
            let ended = backup::end_all_sessions(&w.tx, w.now, "restored")?;
            w.audit(&audit::Event {
                action: "database.restored",
                detail: json!({
                    "backup_created_at": header.created_at,
                    "sessions_ended": ended,
                    "db": db.display().to_string(),
                })
                .to_string(),
                ..Default::default()
            })?;
            // The whole trail, the restore's row included, extending the backup's own head.
            let verified = ops::audit::verify(w, header.audit)?;
            Ok((verified, ended, backup::row_counts(&w.tx)?))
        })?;
        backup::checkpoint(ctx.conn())?;
        drop(ctx);
        drop(service);
        // The key first: a database without its key is the worse half to be left with.
        files::publish(&dir.join("dms.db.key"), &key_file, Purpose::KeyFile)?;
        if let Err(e) = files::publish(&work, db, Purpose::Database) {
            let _ = std::fs::remove_file(&key_file);
            return Err(e);
        }
        Ok(Restored {
            db: db.to_path_buf(),
            key_file: key_file.clone(),
            rows,
            audit,
            sessions_ended,
            created_at: header.created_at,
        })
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The rows of a backup or a restore as JSON (`{"users": N, ...}`).
pub fn rows_object(rows: &[(&'static str, i64)]) -> Value {
    rows_json(rows)
}
