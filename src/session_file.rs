//! The session file: the token of this shell's sign-in, written 0600 beside the database (or
//! where --session says). Only the file lives here; what a token means is `ops::session`'s.

use crate::storage;
use std::io::Write as _;
use std::path::Path;
use zeroize::Zeroizing;

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
pub fn write(path: &Path, user_id: &str, token: &[u8]) -> anyhow::Result<()> {
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

pub fn remove(path: &Path) {
    let _ = std::fs::remove_file(path);
}
