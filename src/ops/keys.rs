//! The key file beside the database, which key belongs to the database, and rotating it
//! (SPEC §5 "Key rotation").
//!
//! Two files: `dms.db.key`, and `dms.db.key.new` while a rotation is under way. Once a key has
//! been rotated, the database records the [fingerprint](MasterKey::fingerprint) of the key its
//! values are sealed under (`secrets.key-fingerprint`, written in the transaction that
//! re-seals them); a database never rotated has no fingerprint, and its key is `dms.db.key`.
//!
//! A rotation:
//!
//! ```text
//! write lock ─► finish any earlier rotation, remove a stale .key.new ─► write .key.new (synced)
//!            ─► re-seal every TOTP key and the audit key, discard e-mail OTPs, record the new
//!               fingerprint, audit row ─► COMMIT
//! write lock ─► .key replaced by the new key (atomic rename of a synced copy) ─► .key.new removed
//! ```
//!
//! **Recovery lives in one place, [`open`]**: the key whose fingerprint the database records
//! is `.key`, or else `.key.new` (a rotation committed and was stopped before replacing
//! `.key`). A process killed before the commit leaves the old values and the old key; after
//! it, the new values and the new key in `.key.new` or `.key`: never neither.
//!
//! The files are changed only under the database's write lock (by a rotation, or by [`open`]
//! in a write transaction finishing one), where the recorded fingerprint cannot change; a
//! read-only command uses `.key.new` without touching a file. So two processes never race on
//! the files, and a key the database needs is never removed.

use crate::crypto::MasterKey;
use crate::domain::user_id::UserId;
use crate::error::{DmsError, Kind};
use crate::files;
use crate::ops::work::Work;
use crate::storage::{audit, backup, secrets};
use rusqlite::Connection;
use serde_json::json;
use std::path::{Path, PathBuf};

/// The `secrets` name of the fingerprint of the key the database's values are sealed under.
pub const FINGERPRINT: &str = "key-fingerprint";

/// Where a rotation writes the new key: `dms.db.key` → `dms.db.key.new`.
pub fn new_key_path(key_file: &Path) -> PathBuf {
    let mut s = key_file.as_os_str().to_os_string();
    s.push(".new");
    PathBuf::from(s)
}

/// A key file that is there and readable, else None (missing, damaged, or half-written by a
/// rotation that was stopped: such a file is never the key the database needs).
fn try_load(path: &Path) -> Option<MasterKey> {
    MasterKey::load(path).ok()
}

/// The key the database `c` belongs with, from `key_file` or, after a rotation stopped between
/// its commit and replacing the key file, from `key_file.new`. In a write transaction
/// (`writable`: the write lock is held) the stopped rotation is finished: `key_file` replaced.
pub fn open(c: &Connection, key_file: &Path, writable: bool) -> anyhow::Result<MasterKey> {
    let key = find(c, key_file, writable)?;
    if writable {
        return mark_keyed(c, key_file, key);
    }
    Ok(key)
}

/// A trail keyed since the key file was made (a database from before the keyed chain, keyed
/// at its first change): the key file is given the mark, in a write transaction, so that the
/// database alone can no longer pass its trail off as unkeyed (issue 18).
fn mark_keyed(c: &Connection, key_file: &Path, key: MasterKey) -> anyhow::Result<MasterKey> {
    if key.marks.audit_keyed.is_some() {
        return Ok(key);
    }
    let Some(audit_key) = audit::load_key(c, &key)? else { return Ok(key) };
    let Some(record) = audit::legacy_record(c)? else { return Ok(key) };
    let Ok(legacy) = audit::Legacy::from_record(&record, &audit_key) else { return Ok(key) };
    let marked = key.with_marks(crate::crypto::KeyMarks { audit_keyed: Some((legacy.rows, legacy.head)), ..key.marks });
    marked.replace(key_file)?;
    Ok(marked)
}

fn find(c: &Connection, key_file: &Path, writable: bool) -> anyhow::Result<MasterKey> {
    let Some(recorded) = secrets::get(c, FINGERPRINT)? else {
        // Never rotated: the key file dms init made.
        return MasterKey::load(key_file);
    };
    if let Some(k) = try_load(key_file).filter(|k| crate::crypto::ct_eq(&k.fingerprint(), &recorded)) {
        return Ok(k);
    }
    let pending = new_key_path(key_file);
    if let Some(k) = try_load(&pending).filter(|k| crate::crypto::ct_eq(&k.fingerprint(), &recorded)) {
        if writable {
            finish(&k, key_file)?;
        }
        return Ok(k);
    }
    // Nothing fits: say which file is there and what it should be.
    MasterKey::load(key_file)?;
    Err(DmsError::new(
        Kind::Other,
        format!(
            "the key file {} does not belong to this database: its values are sealed under the key with fingerprint {} (the key file was rotated since, or comes from another database); put back the key file that goes with it, or restore both from a backup",
            key_file.display(),
            &hex::encode(&recorded)[..16]
        ),
    )
    .into())
}

/// Put the new key in place of the old one (a synced copy renamed over it), then remove
/// `.key.new`. Called with the write lock held and the new key's fingerprint recorded.
fn finish(new: &MasterKey, key_file: &Path) -> anyhow::Result<()> {
    finish_pausing(new, key_file, &|_| {})
}

fn finish_pausing(new: &MasterKey, key_file: &Path, pause: &dyn Fn(&str)) -> anyhow::Result<()> {
    new.replace(key_file)?;
    pause("key-replaced");
    let pending = new_key_path(key_file);
    match std::fs::remove_file(&pending) {
        Ok(()) => files::sync_folder(&pending),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(anyhow::anyhow!("cannot remove {}: {e}", pending.display())),
    }
    Ok(())
}

/// What a rotation moved.
#[derive(Clone)]
pub struct Rotated {
    /// TOTP keys re-sealed (registered devices, and registrations not yet confirmed).
    pub totp_keys: usize,
    /// The audit key re-sealed (false only for a database from before the keyed chain that
    /// has not been changed since).
    pub audit_key: bool,
    /// Unused e-mail OTPs invalidated: their keyed hashes cannot be moved to another key.
    pub email_otps_invalidated: i64,
    /// Initial smartcard PINs not yet used: replaced by new ones, mailed to their holders.
    pub initial_pins_reissued: usize,
    pub fingerprint: [u8; 32],
    /// The new key, to be put in place by [`complete`] after the commit.
    pub key: MasterKey,
}

/// Steps 1 and 2 of a rotation, in the operator's write transaction: the new key written to
/// `.key.new`, every sealed value moved to it, its fingerprint recorded, the audit row.
/// `pause` is the tests' hook to stop at a named stage. The caller commits, then calls
/// [`complete`].
pub fn rotate(w: &mut Work<'_>, op: &UserId, pause: &dyn Fn(&str)) -> anyhow::Result<Rotated> {
    let key_file = w.key_file().to_path_buf();
    // Finishes a rotation stopped after its commit (writable: the lock is held).
    let old = w.key()?.clone();
    let pending = new_key_path(&key_file);
    // Anything at .key.new now is left by a rotation stopped before its commit (or a copy of
    // the key already in place): nothing needs it.
    if let Err(e) = std::fs::remove_file(&pending) {
        if e.kind() != std::io::ErrorKind::NotFound {
            anyhow::bail!("cannot remove {} left by an earlier rotation: {e}", pending.display());
        }
    }
    // The new key file keeps what the old one records of the database.
    let new = MasterKey::create(&pending, w.rng, old.marks)?;
    files::sync_folder(&pending);
    pause("new-key-written");

    let sealed = backup::sealed_totp_keys(&w.tx)?;
    let audit_key = audit::load_key(&w.tx, &old)?;
    let outstanding = backup::outstanding_email_otps(&w.tx)?;
    // The audit row first: it is chained under the audit key opened with the old key file
    // (the key itself, and so every link, stays; only its sealing changes below).
    w.audit(&audit::Event {
        actor: Some(op.as_str()),
        action: "key.rotated",
        detail: json!({
            "totp_keys": sealed.len(),
            "audit_key": audit_key.is_some(),
            "email_otps_invalidated": outstanding,
            "fingerprint": &hex::encode(new.fingerprint())[..16],
        })
        .to_string(),
        ..Default::default()
    })?;
    for (user_id, value) in &sealed {
        let plain = old.open(user_id, value)?;
        backup::reseal_totp_key(&w.tx, user_id, &new.seal(user_id, &plain, w.rng)?)?;
    }
    if let Some(k) = &audit_key {
        audit::store_key(&w.tx, &new, k, w.rng)?;
    }
    let invalidated = backup::discard_email_otps(&w.tx)?;
    let reissued = crate::ops::smartcard::reissue_all(w, &new)?;
    secrets::put(&w.tx, FINGERPRINT, &new.fingerprint())?;
    pause("resealed");
    Ok(Rotated {
        totp_keys: sealed.len(),
        audit_key: audit_key.is_some(),
        email_otps_invalidated: invalidated,
        initial_pins_reissued: reissued,
        fingerprint: new.fingerprint(),
        key: new,
    })
}

/// Step 3, in a write transaction of its own after the commit: the new key in place of the old
/// one. Skipped if the database no longer records this key (another rotation came first).
pub fn complete(w: &mut Work<'_>, new: &MasterKey, pause: &dyn Fn(&str)) -> anyhow::Result<()> {
    let recorded = secrets::get(&w.tx, FINGERPRINT)?;
    if recorded.is_some_and(|r| crate::crypto::ct_eq(&r, &new.fingerprint())) {
        finish_pausing(new, w.key_file(), pause)?;
    }
    Ok(())
}
