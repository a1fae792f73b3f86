//! Sessions: the CLI's form of a signed-in terminal (SPEC §3, beyond the seed).
//!
//! `dms login` draws a 256-bit random token, writes it to the session file (mode 0600) and
//! stores only its SHA-256. Every command that needs an identity reads the file, looks the
//! hash up and checks the limits: 15 minutes idle, 8 hours absolute. No argon2 runs here.

use crate::crypto::{self, SecureRng};
use crate::domain::role::Role;
use crate::error::{auth, locked, DmsError};
use crate::signin::{self, Outcome};
use crate::storage::{self, sessions};
use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;
use std::io::Write as _;
use std::path::Path;
use zeroize::Zeroizing;

pub fn idle_limit() -> Duration {
    Duration::minutes(15)
}

pub fn absolute_limit() -> Duration {
    Duration::hours(8)
}

/// Who is signed in.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user_id: String,
    pub role: Role,
    pub participant_id: Option<String>,
    pub token_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

const HEADER: &str = "dms-session v1";

/// Read the token from a session file, if there is one.
pub fn read_token(path: &Path) -> anyhow::Result<Option<Zeroizing<Vec<u8>>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => Zeroizing::new(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(anyhow::anyhow!("cannot read session file {}: {e}", path.display())),
    };
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Ok(None);
    }
    let token = lines.find_map(|l| l.strip_prefix("token=")).and_then(|t| hex::decode(t.trim()).ok());
    Ok(token.map(Zeroizing::new))
}

/// Write a new session file (0600), replacing any old one.
pub fn write_file(path: &Path, user_id: &str, token: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = storage::create_private_file(&tmp)
        .map_err(|e| anyhow::anyhow!("cannot write session file {}: {e}", tmp.display()))?;
    let body = Zeroizing::new(format!("{HEADER}\nuser={user_id}\ntoken={}\n", hex::encode(token)));
    f.write_all(body.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

pub fn remove_file(path: &Path) {
    let _ = std::fs::remove_file(path);
}

/// Open a session for a user who has just signed in. Returns the token for the file.
pub fn open(
    c: &Connection,
    rng: &mut SecureRng,
    user_id: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let token = Zeroizing::new(rng.bytes::<32>().to_vec());
    sessions::insert(c, &crypto::token_hash(&token), user_id, now)?;
    Ok(token)
}

/// Check the session file against the database; refresh the idle timer.
pub fn authenticate(c: &Connection, path: &Path, now: DateTime<Utc>) -> anyhow::Result<Outcome<Identity>> {
    let not_signed_in = || auth("not signed in: run `dms login` first (or name another --session file)");
    let Some(token) = read_token(path)? else { return Ok(Err(not_signed_in())) };
    let hash = crypto::token_hash(&token);
    let Some(row) = sessions::get(c, &hash)? else { return Ok(Err(not_signed_in())) };
    if row.ended {
        return Ok(Err(auth(
            "this session has ended (logged out, password or device changed, or account locked): sign in again",
        )));
    }
    let expired = |why: &str| -> anyhow::Result<Outcome<Identity>> {
        sessions::end(c, &hash, now, why)?;
        Ok(Err(auth(format!("session expired ({why}): sign in again"))))
    };
    if now - row.created_at >= absolute_limit() {
        return expired("8-hour limit");
    }
    if now - row.last_seen_at >= idle_limit() {
        return expired("15 minutes idle");
    }
    let Some(account) = signin::load(c, &row.user_id)? else {
        return Ok(Err(auth("the signed-in user no longer exists")));
    };
    if account.cred.locked_at.is_some() {
        return Ok(Err(locked(signin::locked_message(&account))));
    }
    if !account.profile.enabled() {
        return Ok(Err(locked(format!("account {} is disabled", account.id()))));
    }
    sessions::touch(c, &hash, now)?;
    Ok(Ok(Identity {
        user_id: row.user_id,
        role: account.profile.role,
        participant_id: account.profile.participant_id,
        token_hash: hash,
        created_at: row.created_at,
    }))
}

/// Commit what `authenticate` wrote, then return its outcome.
pub fn require(store: &mut storage::Store, path: &Path, now: DateTime<Utc>) -> anyhow::Result<Identity> {
    let tx = store.write()?;
    let r = authenticate(&tx, path, now)?;
    tx.commit()?;
    r.map_err(|e: DmsError| e.into())
}
