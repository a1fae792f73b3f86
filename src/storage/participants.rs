//! Participants (organisations) and their quota. A participant is keyed by its ID and clearing
//! house: one customer code can be registered with both HKCC and SEOCH.

use super::{parse_ts, ts};
use crate::domain::user_id::{ClearingHouse, ParticipantKey};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub key: ParticipantKey,
    pub name: String,
    pub max_users: i64,
    /// Corporate e-mail domains (used for warnings).
    pub domains: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl Participant {
    pub fn id(&self) -> &str {
        self.key.id()
    }

    pub fn house(&self) -> ClearingHouse {
        self.key.house
    }
}

pub fn insert(c: &Connection, p: &Participant) -> anyhow::Result<()> {
    c.prepare_cached(
        "INSERT INTO participants (participant_id, house, name, max_users, domains, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![p.id(), p.house().as_str(), p.name, p.max_users, p.domains.join(" "), ts(p.created_at)])?;
    Ok(())
}

const COLUMNS: &str = "participant_id, house, name, max_users, domains, created_at";

type Raw = (String, String, String, i64, String, String);

fn raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
}

fn finish(raw: Raw) -> anyhow::Result<Participant> {
    let (id, house, name, max_users, domains, created) = raw;
    let key = ClearingHouse::parse(&house)
        .and_then(|h| ParticipantKey::parse(&id, h))
        .map_err(|e| anyhow::anyhow!("participant {id}: damaged row: {e}"))?;
    Ok(Participant {
        key,
        name,
        max_users,
        domains: domains.split_whitespace().map(str::to_string).collect(),
        created_at: parse_ts(&created)?,
    })
}

pub fn get(c: &Connection, key: &ParticipantKey) -> anyhow::Result<Option<Participant>> {
    let sql = format!("SELECT {COLUMNS} FROM participants WHERE participant_id = ?1 AND house = ?2");
    c.prepare_cached(&sql)?.query_row([key.id(), key.house.as_str()], raw).optional()?.map(finish).transpose()
}

/// Every registration of a participant ID (two when a customer code is in HKCC and SEOCH).
pub fn find(c: &Connection, id: &str) -> anyhow::Result<Vec<Participant>> {
    let sql = format!("SELECT {COLUMNS} FROM participants WHERE participant_id = ?1 ORDER BY house");
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map([id], raw)?;
    rows.map(|r| finish(r?)).collect()
}

pub fn list(c: &Connection) -> anyhow::Result<Vec<Participant>> {
    let sql = format!("SELECT {COLUMNS} FROM participants ORDER BY participant_id, house");
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map([], raw)?;
    rows.map(|r| finish(r?)).collect()
}

pub fn set_max_users(c: &Connection, key: &ParticipantKey, max_users: i64) -> anyhow::Result<()> {
    c.prepare_cached("UPDATE participants SET max_users = ?3 WHERE participant_id = ?1 AND house = ?2")?
        .execute(params![key.id(), key.house.as_str(), max_users])?;
    Ok(())
}

/// The quota footer's counts (seed 4.3.1): all users, and DAs among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub total: i64,
    pub das: i64,
}

pub fn counts(c: &Connection, key: &ParticipantKey) -> anyhow::Result<Counts> {
    let (total, das) = c
        .prepare_cached(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE role IN ('maker', 'checker')) FROM users \
             WHERE participant_id = ?1 AND house = ?2",
        )?
        .query_row([key.id(), key.house.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Counts { total, das })
}

/// The users of every participant, in one grouped query.
pub fn all_counts(c: &Connection) -> anyhow::Result<std::collections::HashMap<ParticipantKey, i64>> {
    let mut stmt = c.prepare_cached(
        "SELECT participant_id, house, COUNT(*) FROM users WHERE participant_id IS NOT NULL GROUP BY participant_id, house",
    )?;
    let mut out = std::collections::HashMap::new();
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let (id, house, n): (String, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let key = ClearingHouse::parse(&house)
            .and_then(|h| ParticipantKey::parse(&id, h))
            .map_err(|e| anyhow::anyhow!("participant {id}: damaged row: {e}"))?;
        out.insert(key, n);
    }
    Ok(out)
}

/// The exchange-wide footer in one pass: the sum of every participant's maximum, and the
/// counts of every participant's users and DAs.
pub fn totals(c: &Connection) -> anyhow::Result<(i64, Counts)> {
    let max: i64 =
        c.prepare_cached("SELECT COALESCE(SUM(max_users), 0) FROM participants")?.query_row([], |r| r.get(0))?;
    let (total, das) = c
        .prepare_cached(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE role IN ('maker', 'checker')) FROM users WHERE participant_id IS NOT NULL",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok((max, Counts { total, das }))
}
