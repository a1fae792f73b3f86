//! The append-only, hash-chained audit trail (SPEC §7).
//!
//! Each row's hash is SHA-256 over the previous row's hash and this row's fields, so editing,
//! deleting or reordering a row breaks the chain at that row. Rows are appended inside the
//! transaction of the change they record.

use super::ts;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

/// One audit event, before it is chained.
#[derive(Debug, Clone, Default)]
pub struct Event<'a> {
    pub actor: Option<&'a str>,
    pub action: &'a str,
    pub subject: Option<&'a str>,
    pub participant_id: Option<&'a str>,
    /// JSON text; never a secret.
    pub detail: String,
}

/// The hash of a row given the previous hash. Fields are length-prefixed, so no choice of
/// field contents can make two different rows hash alike.
#[allow(clippy::too_many_arguments)] // one argument per column, in column order
pub fn row_hash(
    prev: &[u8],
    seq: i64,
    at: &str,
    actor: Option<&str>,
    action: &str,
    subject: Option<&str>,
    participant: Option<&str>,
    detail: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(seq.to_be_bytes());
    for field in [Some(at), actor, Some(action), subject, participant, Some(detail)] {
        match field {
            None => h.update([0u8]),
            Some(f) => {
                h.update([1u8]);
                h.update((f.len() as u64).to_be_bytes());
                h.update(f.as_bytes());
            }
        }
    }
    h.finalize().into()
}

pub const GENESIS: [u8; 32] = [0u8; 32];

pub fn append(c: &Connection, now: DateTime<Utc>, e: &Event<'_>) -> anyhow::Result<i64> {
    let last: Option<(i64, Vec<u8>)> = c
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_vec()),
    };
    let at = ts(now);
    let hash = row_hash(&prev, seq, &at, e.actor, e.action, e.subject, e.participant_id, &e.detail);
    c.prepare_cached(
        "INSERT INTO audit (seq, at, actor, action, subject, participant_id, detail, prev_hash, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![seq, at, e.actor, e.action, e.subject, e.participant_id, e.detail, prev, hash.to_vec()])?;
    Ok(seq)
}

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub rows: u64,
    /// The first row that does not verify, and why.
    pub first_bad: Option<(i64, String)>,
}

/// Walk the whole chain in order, streaming.
pub fn verify(c: &Connection) -> anyhow::Result<Verification> {
    let mut stmt = c.prepare(
        "SELECT seq, at, actor, action, subject, participant_id, detail, prev_hash, hash FROM audit ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut prev = GENESIS.to_vec();
    let mut expected_seq = 1i64;
    let mut n = 0u64;
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let at: String = r.get(1)?;
        let actor: Option<String> = r.get(2)?;
        let action: String = r.get(3)?;
        let subject: Option<String> = r.get(4)?;
        let participant: Option<String> = r.get(5)?;
        let detail: String = r.get(6)?;
        let stored_prev: Vec<u8> = r.get(7)?;
        let stored_hash: Vec<u8> = r.get(8)?;
        let bad = if seq != expected_seq {
            Some(format!("expected row {expected_seq} here: a row was deleted or reordered"))
        } else if stored_prev != prev {
            Some(
                "its link to the previous row is broken: a row before it was deleted, reordered or rewritten"
                    .to_string(),
            )
        } else if row_hash(
            &prev,
            seq,
            &at,
            actor.as_deref(),
            &action,
            subject.as_deref(),
            participant.as_deref(),
            &detail,
        )[..]
            != stored_hash[..]
        {
            Some("its contents do not match its hash: the row was edited".to_string())
        } else {
            None
        };
        if let Some(why) = bad {
            return Ok(Verification { rows: n, first_bad: Some((seq, why)) });
        }
        prev = stored_hash;
        expected_seq += 1;
        n += 1;
    }
    Ok(Verification { rows: n, first_bad: None })
}

/// One stored audit row.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: Option<String>,
    pub action: String,
    pub subject: Option<String>,
    pub participant_id: Option<String>,
    pub detail: String,
}

/// Audit rows with `from <= at < to` (RFC 3339 text), optionally of one participant, in order.
pub fn for_each_in_period(
    c: &Connection,
    from: Option<&str>,
    to: Option<&str>,
    participant: Option<&str>,
    mut f: impl FnMut(AuditRow) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut stmt = c.prepare_cached(
        "SELECT seq, at, actor, action, subject, participant_id, detail FROM audit \
         WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at < ?2) AND (?3 IS NULL OR participant_id = ?3) ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![from, to, participant])?;
    while let Some(r) = rows.next()? {
        f(AuditRow {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            subject: r.get(4)?,
            participant_id: r.get(5)?,
            detail: r.get(6)?,
        })?;
    }
    Ok(())
}
