//! Maker-checker requests and their subjects.

use super::{opt_ts, parse_ts, ts};
use crate::domain::change::{Change, RequestStatus};
use crate::domain::user_id::{ClearingHouse, ParticipantKey, UserId};
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashSet;

#[derive(Debug, Clone)]
pub struct RequestRow {
    pub request_id: i64,
    pub participant: ParticipantKey,
    pub kind: String,
    pub payload: String,
    pub maker: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// As of the time it was read: a PENDING request past its expiry reads as EXPIRED.
    pub status: RequestStatus,
    pub checker: Option<UserId>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

impl RequestRow {
    /// The proposed change.
    pub fn change(&self) -> anyhow::Result<Change> {
        serde_json::from_str(&self.payload).with_context(|| format!("request {}: damaged payload", self.request_id))
    }
}

/// A subject of a request with the profile version seen at submission (None: not created yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub user_id: UserId,
    pub version: Option<i64>,
}

/// A new request's columns.
pub struct NewRequest<'a> {
    pub participant: &'a ParticipantKey,
    pub change: &'a Change,
    pub maker: &'a UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub subjects: &'a [Subject],
}

pub fn insert(c: &Connection, r: &NewRequest<'_>) -> anyhow::Result<i64> {
    c.prepare_cached(
        "INSERT INTO requests (participant_id, house, kind, payload, maker, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        r.participant.id(),
        r.participant.house.as_str(),
        r.change.kind(),
        serde_json::to_string(r.change)?,
        r.maker.as_str(),
        ts(r.created_at),
        ts(r.expires_at)
    ])?;
    let id = c.last_insert_rowid();
    let mut stmt =
        c.prepare_cached("INSERT INTO request_subjects (request_id, user_id, version) VALUES (?1, ?2, ?3)")?;
    for s in r.subjects {
        stmt.execute(params![id, s.user_id.as_str(), s.version])?;
    }
    Ok(id)
}

/// The status as of the time in parameter `now`: a pending request past its expiry is EXPIRED
/// even before a write command records it.
/// A pending request whose subject changed since it was made (its recorded version is not the
/// profile's, or the profile is gone) is STALE.
fn effective_status(now: &str) -> String {
    format!(
        "CASE WHEN status = 'PENDING' AND expires_at <= {now} THEN 'EXPIRED' \
         WHEN status = 'PENDING' AND EXISTS (SELECT 1 FROM request_subjects s LEFT JOIN users u USING (user_id) \
              WHERE s.request_id = requests.request_id AND s.version IS NOT NULL \
                AND (u.version IS NULL OR u.version != s.version)) THEN 'STALE' \
         ELSE status END"
    )
}

/// The subjects of request `id` that changed since it was made (or are gone), in ID order.
pub fn changed_subjects(c: &Connection, id: i64) -> anyhow::Result<Vec<UserId>> {
    let mut stmt = c.prepare_cached(
        "SELECT s.user_id FROM request_subjects s LEFT JOIN users u USING (user_id) \
         WHERE s.request_id = ?1 AND s.version IS NOT NULL AND (u.version IS NULL OR u.version != s.version) \
         ORDER BY s.user_id",
    )?;
    let ids = stmt.query_map([id], |r| r.get::<_, String>(0))?;
    ids.map(|i| Ok(UserId::parse(&i?)?)).collect()
}

fn columns(now: &str) -> String {
    format!(
        "request_id, participant_id, house, kind, payload, maker, created_at, expires_at, {}, checker, decided_at, reason",
        effective_status(now)
    )
}

type Raw = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

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
        r.get(11)?,
    ))
}

fn finish(r: Raw) -> anyhow::Result<RequestRow> {
    let id = r.0;
    (|| -> anyhow::Result<RequestRow> {
        Ok(RequestRow {
            request_id: r.0,
            participant: ParticipantKey::parse(&r.1, ClearingHouse::parse(&r.2)?)?,
            kind: r.3,
            payload: r.4,
            maker: UserId::parse(&r.5)?,
            created_at: parse_ts(&r.6)?,
            expires_at: parse_ts(&r.7)?,
            status: RequestStatus::parse(&r.8).map_err(anyhow::Error::msg)?,
            checker: r.9.as_deref().map(UserId::parse).transpose()?,
            decided_at: opt_ts(r.10)?,
            reason: r.11,
        })
    })()
    .with_context(|| format!("request {id}: damaged row"))
}

pub fn get(c: &Connection, id: i64, now: DateTime<Utc>) -> anyhow::Result<Option<RequestRow>> {
    let sql = format!("SELECT {} FROM requests WHERE request_id = ?1", columns("?2"));
    c.prepare_cached(&sql)?.query_row(params![id, ts(now)], raw).optional()?.map(finish).transpose()
}

pub fn subjects(c: &Connection, id: i64) -> anyhow::Result<Vec<Subject>> {
    let mut stmt =
        c.prepare_cached("SELECT user_id, version FROM request_subjects WHERE request_id = ?1 ORDER BY user_id")?;
    let rows = stmt.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (user, version) = row?;
        out.push(Subject { user_id: UserId::parse(&user)?, version });
    }
    Ok(out)
}

/// Which requests a list selects; every member that is set must hold.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter<'a> {
    /// None: every participant.
    pub participant: Option<&'a ParticipantKey>,
    /// Statuses as read (STALE and EXPIRED derived); empty: all.
    pub statuses: &'a [RequestStatus],
    pub maker: Option<&'a UserId>,
    pub checker: Option<&'a UserId>,
    pub kind: Option<&'a str>,
    /// Made at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Made before this time.
    pub to: Option<DateTime<Utc>>,
    /// About this user.
    pub subject: Option<&'a UserId>,
}

/// Requests, newest first, as the filter selects them; streamed.
pub fn for_each(
    c: &Connection,
    f: &RequestFilter<'_>,
    now: DateTime<Utc>,
    mut each: impl FnMut(RequestRow) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    // One statement per scope (see users::for_each_listing_row): with `?1 IS NULL OR ...` SQLite
    // would scan the whole exchange's requests to list one participant's.
    let scope =
        if f.participant.is_some() { "participant_id = ?1 AND house = ?2" } else { "?1 IS NULL AND ?2 IS NULL" };
    let sql = format!(
        "SELECT {} FROM requests WHERE {scope} AND (?3 = '' OR instr(?3, ',' || {} || ',') > 0) \
         AND (?5 IS NULL OR maker = ?5) AND (?6 IS NULL OR checker = ?6) AND (?7 IS NULL OR kind = ?7) \
         AND (?8 IS NULL OR created_at >= ?8) AND (?9 IS NULL OR created_at < ?9) \
         AND (?10 IS NULL OR EXISTS (SELECT 1 FROM request_subjects s WHERE s.request_id = requests.request_id AND s.user_id = ?10)) \
         ORDER BY request_id DESC",
        columns("?4"),
        effective_status("?4")
    );
    let statuses: String = if f.statuses.is_empty() {
        String::new()
    } else {
        format!(",{},", f.statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","))
    };
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![
        f.participant.map(|p| p.id()),
        f.participant.map(|p| p.house.as_str()),
        statuses,
        ts(now),
        f.maker.map(UserId::as_str),
        f.checker.map(UserId::as_str),
        f.kind,
        f.from.map(ts),
        f.to.map(ts),
        f.subject.map(UserId::as_str),
    ])?;
    while let Some(r) = rows.next()? {
        each(finish(raw(r)?)?)?;
    }
    Ok(())
}

/// Record a decision; false when the request was no longer pending (someone else decided).
pub fn decide(
    c: &Connection,
    id: i64,
    status: RequestStatus,
    checker: Option<&UserId>,
    now: DateTime<Utc>,
    reason: Option<&str>,
) -> anyhow::Result<bool> {
    let n = c
        .prepare_cached(
            "UPDATE requests SET status = ?2, checker = ?3, decided_at = ?4, reason = ?5 \
             WHERE request_id = ?1 AND status = 'PENDING'",
        )?
        .execute(params![id, status.as_str(), checker.map(UserId::as_str), ts(now), reason])?;
    Ok(n == 1)
}

/// A request that has just been marked EXPIRED.
#[derive(Debug, Clone)]
pub struct Expired {
    pub request_id: i64,
    pub participant: ParticipantKey,
    pub kind: String,
    pub maker: UserId,
}

/// Mark every pending request past its expiry as EXPIRED.
pub fn expire_due(c: &Connection, now: DateTime<Utc>) -> anyhow::Result<Vec<Expired>> {
    let mut stmt = c.prepare_cached(
        "UPDATE requests SET status = 'EXPIRED', decided_at = ?1 WHERE status = 'PENDING' AND expires_at <= ?1 \
         RETURNING request_id, participant_id, house, maker, kind",
    )?;
    let rows = stmt.query_map([ts(now)], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (request_id, pid, house, maker, kind) = row?;
        out.push(Expired {
            request_id,
            participant: ParticipantKey::parse(&pid, ClearingHouse::parse(&house)?)?,
            kind,
            maker: UserId::parse(&maker)?,
        });
    }
    Ok(out)
}

/// User IDs that pending create requests have reserved.
pub fn pending_new_ids(c: &Connection, participant: &ParticipantKey) -> anyhow::Result<HashSet<String>> {
    let mut stmt = c.prepare_cached(
        "SELECT s.user_id FROM request_subjects s JOIN requests r USING (request_id) \
         WHERE r.participant_id = ?1 AND r.house = ?2 AND r.status = 'PENDING' AND s.version IS NULL",
    )?;
    let rows = stmt.query_map([participant.id(), participant.house.as_str()], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Is this ID reserved by a pending create request of any participant?
pub fn id_reserved(c: &Connection, user_id: &UserId) -> anyhow::Result<bool> {
    let n: i64 = c
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM request_subjects s JOIN requests r USING (request_id) \
             WHERE s.user_id = ?1 AND s.version IS NULL AND r.status = 'PENDING')",
        )?
        .query_row([user_id.as_str()], |r| r.get(0))?;
    Ok(n > 0)
}
