//! One-time initial smartcard PINs (keyed hash only), until the holder chooses its own.

use super::{parse_ts, ts};
use crate::domain::user_id::UserId;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

pub struct InitialPin {
    pub code_hash: Vec<u8>,
    pub issued_at: DateTime<Utc>,
}

pub fn get(c: &Connection, user_id: &UserId) -> anyhow::Result<Option<InitialPin>> {
    let raw = c
        .prepare_cached("SELECT code_hash, issued_at FROM initial_pins WHERE user_id = ?1")?
        .query_row([user_id.as_str()], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?)))
        .optional()?;
    raw.map(|(code_hash, at)| Ok(InitialPin { code_hash, issued_at: parse_ts(&at)? })).transpose()
}

/// Replace the user's initial PIN with a new one (`reason`: issued or reset).
pub fn put(c: &Connection, user_id: &UserId, code_hash: &[u8], now: DateTime<Utc>, reason: &str) -> anyhow::Result<()> {
    c.prepare_cached(
        "INSERT INTO initial_pins (user_id, code_hash, issued_at, reason) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (user_id) DO UPDATE SET code_hash = excluded.code_hash, issued_at = excluded.issued_at, \
         reason = excluded.reason",
    )?
    .execute(params![user_id.as_str(), code_hash, ts(now), reason])?;
    Ok(())
}

/// Remove the user's initial PIN (chosen, or undeliverable); true if there was one with this
/// hash (`None`: whatever its hash).
pub fn remove(c: &Connection, user_id: &UserId, code_hash: Option<&[u8]>) -> anyhow::Result<bool> {
    let n = match code_hash {
        Some(h) => c
            .prepare_cached("DELETE FROM initial_pins WHERE user_id = ?1 AND code_hash = ?2")?
            .execute(params![user_id.as_str(), h])?,
        None => c.prepare_cached("DELETE FROM initial_pins WHERE user_id = ?1")?.execute([user_id.as_str()])?,
    };
    Ok(n > 0)
}

/// Who holds an initial PIN not yet replaced by its own.
pub fn holders(c: &Connection) -> anyhow::Result<Vec<UserId>> {
    let mut stmt = c.prepare_cached("SELECT user_id FROM initial_pins ORDER BY user_id")?;
    let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
    ids.map(|id| Ok(UserId::parse(&id?)?)).collect()
}
