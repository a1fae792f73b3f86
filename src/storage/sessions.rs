//! Signed-in sessions. Only the SHA-256 of a token is stored.

use super::{parse_ts, ts};
use crate::domain::gate::Method;
use crate::domain::user_id::UserId;
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ended: bool,
    pub method: Method,
}

pub fn insert(
    c: &Connection,
    token_hash: &[u8],
    user_id: &UserId,
    method: Method,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    c.prepare_cached(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, method) VALUES (?1, ?2, ?3, ?3, ?4)",
    )?
    .execute(params![token_hash, user_id.as_str(), ts(now), method.as_str()])?;
    Ok(())
}

pub fn get(c: &Connection, token_hash: &[u8]) -> anyhow::Result<Option<SessionRow>> {
    let raw = c
        .prepare_cached(
            "SELECT user_id, created_at, last_seen_at, ended_at IS NOT NULL, method FROM sessions WHERE token_hash = ?1",
        )?
        .query_row([token_hash], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .optional()?;
    raw.map(|(user_id, created, seen, ended, method)| {
        Ok(SessionRow {
            user_id: UserId::parse(&user_id)?,
            created_at: parse_ts(&created)?,
            last_seen_at: parse_ts(&seen)?,
            ended,
            method: Method::parse(&method).context("damaged session row")?,
        })
    })
    .transpose()
}

pub fn touch(c: &Connection, token_hash: &[u8], now: DateTime<Utc>) -> anyhow::Result<()> {
    c.prepare_cached("UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1")?
        .execute(params![token_hash, ts(now)])?;
    Ok(())
}

pub fn end(c: &Connection, token_hash: &[u8], now: DateTime<Utc>, reason: &str) -> anyhow::Result<bool> {
    let n = c
        .prepare_cached(
            "UPDATE sessions SET ended_at = ?2, end_reason = ?3 WHERE token_hash = ?1 AND ended_at IS NULL",
        )?
        .execute(params![token_hash, ts(now), reason])?;
    Ok(n > 0)
}

/// End every open session of a user except `keep`; returns how many were ended.
pub fn end_all_for_user(
    c: &Connection,
    user_id: &UserId,
    keep: Option<&[u8]>,
    now: DateTime<Utc>,
    reason: &str,
) -> anyhow::Result<usize> {
    let n = c
        .prepare_cached(
            "UPDATE sessions SET ended_at = ?3, end_reason = ?4 \
             WHERE user_id = ?1 AND ended_at IS NULL AND token_hash IS NOT ?2",
        )?
        .execute(params![user_id.as_str(), keep, ts(now), reason])?;
    Ok(n)
}
