//! Maker-checker requests and their subjects.

use super::{opt_ts, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

#[derive(Debug, Clone)]
pub struct RequestRow {
    pub request_id: i64,
    pub participant_id: String,
    pub kind: String,
    pub payload: String,
    pub maker: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub status: String,
    pub checker: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

/// A subject of a request with the profile version seen at submission (None: not created yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub user_id: String,
    pub version: Option<i64>,
}

#[allow(clippy::too_many_arguments)] // the columns of a new request
pub fn insert(
    c: &Connection,
    participant_id: &str,
    kind: &str,
    payload: &str,
    maker: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    subjects: &[Subject],
) -> anyhow::Result<i64> {
    c.prepare_cached(
        "INSERT INTO requests (participant_id, kind, payload, maker, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![participant_id, kind, payload, maker, ts(now), ts(expires_at)])?;
    let id = c.last_insert_rowid();
    let mut stmt =
        c.prepare_cached("INSERT INTO request_subjects (request_id, user_id, version) VALUES (?1, ?2, ?3)")?;
    for s in subjects {
        stmt.execute(params![id, s.user_id, s.version])?;
    }
    Ok(id)
}

const COLUMNS: &str =
    "request_id, participant_id, kind, payload, maker, created_at, expires_at, status, checker, decided_at, reason";

type Raw =
    (i64, String, String, String, String, String, String, String, Option<String>, Option<String>, Option<String>);

fn raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

fn finish(r: Raw) -> anyhow::Result<RequestRow> {
    Ok(RequestRow {
        request_id: r.0,
        participant_id: r.1,
        kind: r.2,
        payload: r.3,
        maker: r.4,
        created_at: parse_ts(&r.5)?,
        expires_at: parse_ts(&r.6)?,
        status: r.7,
        checker: r.8,
        decided_at: opt_ts(r.9)?,
        reason: r.10,
    })
}

pub fn get(c: &Connection, id: i64) -> anyhow::Result<Option<RequestRow>> {
    let sql = format!("SELECT {COLUMNS} FROM requests WHERE request_id = ?1");
    c.prepare_cached(&sql)?.query_row([id], raw).optional()?.map(finish).transpose()
}

pub fn subjects(c: &Connection, id: i64) -> anyhow::Result<Vec<Subject>> {
    let mut stmt =
        c.prepare_cached("SELECT user_id, version FROM request_subjects WHERE request_id = ?1 ORDER BY user_id")?;
    let rows = stmt.query_map([id], |r| Ok(Subject { user_id: r.get(0)?, version: r.get(1)? }))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Requests, newest first, optionally of one participant and one status; streamed.
pub fn for_each(
    c: &Connection,
    participant: Option<&str>,
    status: Option<&str>,
    mut f: impl FnMut(RequestRow) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    // One statement per scope (see users::for_each_listing_row): with `?1 IS NULL OR ...` SQLite
    // would scan the whole exchange's requests to list one participant's.
    let scope = if participant.is_some() { "participant_id = ?1" } else { "?1 IS NULL" };
    let sql = format!(
        "SELECT {COLUMNS} FROM requests WHERE {scope} AND (?2 IS NULL OR status = ?2) ORDER BY request_id DESC"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![participant, status])?;
    while let Some(r) = rows.next()? {
        f(finish(raw(r)?)?)?;
    }
    Ok(())
}

/// Record a decision; false when the request was no longer pending (someone else decided).
pub fn decide(
    c: &Connection,
    id: i64,
    status: &str,
    checker: Option<&str>,
    now: DateTime<Utc>,
    reason: Option<&str>,
) -> anyhow::Result<bool> {
    let n = c
        .prepare_cached(
            "UPDATE requests SET status = ?2, checker = ?3, decided_at = ?4, reason = ?5 WHERE request_id = ?1 AND status = 'PENDING'",
        )?
        .execute(params![id, status, checker, ts(now), reason])?;
    Ok(n == 1)
}

/// Mark every pending request past its expiry as EXPIRED; returns their IDs.
pub fn expire_due(c: &Connection, now: DateTime<Utc>) -> anyhow::Result<Vec<(i64, String)>> {
    let mut stmt = c.prepare_cached(
        "UPDATE requests SET status = 'EXPIRED', decided_at = ?1 WHERE status = 'PENDING' AND expires_at <= ?1 \
         RETURNING request_id, participant_id",
    )?;
    let rows = stmt.query_map([ts(now)], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// User IDs that pending create requests have reserved.
pub fn pending_new_ids(c: &Connection, participant: &str) -> anyhow::Result<std::collections::HashSet<String>> {
    let mut stmt = c.prepare_cached(
        "SELECT s.user_id FROM request_subjects s JOIN requests r USING (request_id) \
         WHERE r.participant_id = ?1 AND r.status = 'PENDING' AND s.version IS NULL",
    )?;
    let rows = stmt.query_map([participant], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
