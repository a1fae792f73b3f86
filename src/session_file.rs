//! The session file: the token of this shell's sign-in, written 0600 beside the database (or
//! where --session says). Only the file lives here; what a token means is `ops::session`'s.
//!
//! The file is judged by `files` (regular, its owner's alone, never a symbolic link) and read
//! with a small cap. A login only ever replaces a file that is a dms session file, or creates
//! a new one, atomically (a temp file renamed over it).

use crate::error::invalid;
use crate::files::{self, Access, Purpose};
use std::path::Path;
use zeroize::Zeroizing;

const HEADER: &str = "dms-session v1";

/// A session file is three short lines; anything larger is not one.
const MAX_BYTES: u64 = 4096;

/// What is at a session path.
enum Found {
    Nothing,
    /// A dms session file, with its token if it holds a readable one.
    Session(Option<Zeroizing<Vec<u8>>>),
    /// A file dms did not write.
    Foreign,
}

fn look(path: &Path) -> anyhow::Result<Found> {
    let Some(f) = files::open(path, Purpose::SessionFile, Access::Read)? else { return Ok(Found::Nothing) };
    let bytes = Zeroizing::new(files::read_capped(f, path, Purpose::SessionFile, MAX_BYTES)?);
    let Ok(text) = std::str::from_utf8(&bytes) else { return Ok(Found::Foreign) };
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Ok(Found::Foreign);
    }
    let token = lines.find_map(|l| l.strip_prefix("token=")).and_then(|t| hex::decode(t.trim()).ok());
    Ok(Found::Session(token.map(Zeroizing::new)))
}

/// Read the token from a session file, if there is one (a file that is not a dms session file
/// holds none).
pub fn read_token(path: &Path) -> anyhow::Result<Option<Zeroizing<Vec<u8>>>> {
    Ok(match look(path)? {
        Found::Session(token) => token,
        Found::Nothing | Found::Foreign => None,
    })
}

/// Before a sign-in: may a session be written at `path`? Returns the token of the session
/// file it will replace. Refused unless nothing is there or a dms session file is, so a login
/// never overwrites another file (and is refused before anything is recorded).
pub fn prepare(path: &Path) -> anyhow::Result<Option<Zeroizing<Vec<u8>>>> {
    match look(path)? {
        Found::Nothing => Ok(None),
        Found::Session(token) => Ok(token),
        Found::Foreign => Err(invalid(format!(
            "{}: this file is not a dms session file, and a login never overwrites another file: give another --session, or remove it",
            path.display()
        ))
        .into()),
    }
}

/// Write a new session file (0600), replacing a session file that is there, atomically.
pub fn write(path: &Path, user_id: &str, token: &[u8]) -> anyhow::Result<()> {
    // Judged again: the file may have changed since `prepare`.
    prepare(path)?;
    let body = Zeroizing::new(format!("{HEADER}\nuser={user_id}\ntoken={}\n", hex::encode(token)));
    files::replace_private(path, Purpose::SessionFile, body.as_bytes())
}

/// Remove a session file (after logout). A file that is not a session file is left alone.
pub fn remove(path: &Path) {
    if matches!(look(path), Ok(Found::Session(_))) {
        let _ = std::fs::remove_file(path);
    }
}
