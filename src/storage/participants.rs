//! Participants (organisations) and their quota.

use super::{parse_ts, ts};
use crate::domain::user_id::ClearingHouse;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

#[derive(Debug, Clone, PartialEq)]
pub struct Participant {
    pub participant_id: String,
    pub name: String,
    pub house: ClearingHouse,
    pub max_users: i64,
    /// Corporate e-mail domains (used for warnings).
    pub domains: Vec<String>,
    pub created_at: DateTime<Utc>,
}

pub fn insert(c: &Connection, p: &Participant) -> anyhow::Result<()> {
    c.prepare_cached("INSERT INTO participants (participant_id, name, house, max_users, domains, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
        .execute(params![p.participant_id, p.name, p.house.as_str(), p.max_users, p.domains.join(" "), ts(p.created_at)])?;
    Ok(())
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, String, i64, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
}

fn finish(raw: (String, String, String, i64, String, String)) -> anyhow::Result<Participant> {
    let (participant_id, name, house, max_users, domains, created) = raw;
    Ok(Participant {
        house: ClearingHouse::parse(&house).map_err(|e| anyhow::anyhow!("participant {participant_id}: {e}"))?,
        participant_id,
        name,
        max_users,
        domains: domains.split_whitespace().map(str::to_string).collect(),
        created_at: parse_ts(&created)?,
    })
}

pub fn get(c: &Connection, id: &str) -> anyhow::Result<Option<Participant>> {
    c.prepare_cached("SELECT participant_id, name, house, max_users, domains, created_at FROM participants WHERE participant_id = ?1")?
        .query_row([id], from_row)
        .optional()?
        .map(finish)
        .transpose()
}

pub fn list(c: &Connection) -> anyhow::Result<Vec<Participant>> {
    let mut stmt = c.prepare_cached(
        "SELECT participant_id, name, house, max_users, domains, created_at FROM participants ORDER BY participant_id",
    )?;
    let rows = stmt.query_map([], from_row)?;
    rows.map(|r| finish(r?)).collect()
}

pub fn set_max_users(c: &Connection, id: &str, max_users: i64) -> anyhow::Result<()> {
    c.prepare_cached("UPDATE participants SET max_users = ?2 WHERE participant_id = ?1")?
        .execute(params![id, max_users])?;
    Ok(())
}

/// The quota footer's counts (seed 4.3.1): all users, and DAs among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub total: i64,
    pub das: i64,
}

pub fn counts(c: &Connection, id: &str) -> anyhow::Result<Counts> {
    let (total, das) = c
        .prepare_cached("SELECT COUNT(*), COUNT(*) FILTER (WHERE role IN ('maker', 'checker')) FROM users WHERE participant_id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Counts { total, das })
}
