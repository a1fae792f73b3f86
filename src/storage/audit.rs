//! The append-only, keyed, hash-chained audit trail (SPEC §7).
//!
//! Each row links to the previous one: its `hash` covers the previous row's hash, its sequence
//! number and its fields (length-prefixed, so no choice of contents makes two rows alike), so
//! editing, deleting or reordering a row breaks the chain at that row. Rows are appended inside
//! the transaction of the change they record.
//!
//! Two link algorithms, named by the `alg` column:
//! - **alg 2** (every row appended since the keyed chain exists): HMAC-SHA-256 under the audit
//!   key, 32 random bytes sealed under the key file in `secrets` (`audit-key`). Without the key
//!   file nobody can compute a link, so an edited, forged or re-linked row fails its MAC.
//! - **alg 1** (rows written before it, by the first dms): plain SHA-256 over the same bytes.
//!   They keep verifying as they are; nothing is re-chained. How many there are, and the hash
//!   of the last of them, were recorded when the key was created (`audit-legacy-rows`, with a
//!   MAC under the audit key), so no later row can pass as legacy and the legacy rows cannot be
//!   rewritten, cut or extended. A new database has 0 legacy rows.
//!
//! What no link can show is a trail cut off at its end, or a database stripped of its keyed
//! chain and passed off as one from before it: `audit verify --checkpoint` compares the trail
//! with the head an earlier verification printed, kept outside the database.

use super::{secrets, ts};
use crate::crypto::{MasterKey, SecureRng};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::digest::Update;
use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// Plain SHA-256 links: rows written before the keyed chain.
pub const ALG_SHA256: i64 = 1;
/// HMAC-SHA-256 links under the audit key.
pub const ALG_HMAC: i64 = 2;

/// The `secrets` name of the sealed audit key; also the associated data it is sealed with, so
/// another sealed value copied into its place does not open as the audit key.
pub const KEY_SECRET: &str = "audit-key";
/// The `secrets` name of the legacy-row record.
pub const LEGACY_SECRET: &str = "audit-legacy-rows";

/// The `prev_hash` of row 1.
pub const GENESIS: [u8; 32] = [0u8; 32];

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

/// The audit key, keyed into an HMAC state once: each row's MAC starts from a clone of it.
#[derive(Clone)]
pub struct AuditKey {
    bytes: Zeroizing<[u8; 32]>,
    keyed: HmacSha256,
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditKey(..)")
    }
}

impl AuditKey {
    pub fn from_bytes(bytes: [u8; 32]) -> AuditKey {
        let keyed = <HmacSha256 as Mac>::new_from_slice(&bytes).expect("HMAC takes any key length");
        AuditKey { bytes: Zeroizing::new(bytes), keyed }
    }

    fn generate(rng: &mut SecureRng) -> AuditKey {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill(&mut bytes[..]);
        AuditKey::from_bytes(*bytes)
    }
}

/// A row's fields as bytes, in column order (borrowed from an event, or from SQLite itself
/// while verifying, so walking the trail copies nothing).
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    pub at: &'a [u8],
    pub actor: Option<&'a [u8]>,
    pub action: &'a [u8],
    pub subject: Option<&'a [u8]>,
    pub participant_id: Option<&'a [u8]>,
    pub detail: &'a [u8],
    /// Who called (JSON text), on rows written since schema 6; covered only when present, so the
    /// links of older rows are what they were.
    pub via: Option<&'a [u8]>,
}

/// The message every link covers: the previous hash, the sequence number (8 bytes, big-endian)
/// and each field as 0 (NULL) or 1, its length (8 bytes, big-endian) and its bytes; `via`, when
/// the row has one, as a seventh such field.
fn feed(h: &mut impl Update, prev: &[u8], seq: i64, f: &Fields<'_>) {
    h.update(prev);
    h.update(&seq.to_be_bytes());
    let via = f.via.map(Some);
    for field in
        [Some(f.at), f.actor, Some(f.action), f.subject, f.participant_id, Some(f.detail)].into_iter().chain(via)
    {
        match field {
            None => h.update(&[0u8]),
            Some(v) => {
                h.update(&[1u8]);
                h.update(&(v.len() as u64).to_be_bytes());
                h.update(v);
            }
        }
    }
}

/// The alg-1 link: plain SHA-256 (legacy rows have no `via`).
pub fn row_hash(prev: &[u8], seq: i64, f: &Fields<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    feed(&mut h, prev, seq, &Fields { via: None, ..*f });
    h.finalize().into()
}

/// The alg-2 link: HMAC-SHA-256 under the audit key.
pub fn row_mac(key: &AuditKey, prev: &[u8], seq: i64, f: &Fields<'_>) -> [u8; 32] {
    let mut m = key.keyed.clone();
    feed(&mut m, prev, seq, f);
    m.finalize().into_bytes().into()
}

/// The rows written before the keyed chain, as recorded when the audit key was created: how
/// many (they are rows 1..=rows) and the hash of the last one (GENESIS when there are none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Legacy {
    pub rows: i64,
    pub head: [u8; 32],
}

/// Why a stored legacy-row record is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyRecordError {
    Damaged,
    BadMac,
}

impl Legacy {
    const LABEL: &'static [u8] = b"dms audit-legacy-rows v1\0";
    const LEN: usize = 8 + 32 + 32;

    fn mac(&self, key: &AuditKey) -> [u8; 32] {
        let mut m = key.keyed.clone();
        Mac::update(&mut m, Self::LABEL);
        Mac::update(&mut m, &self.rows.to_be_bytes());
        Mac::update(&mut m, &self.head);
        m.finalize().into_bytes().into()
    }

    /// The stored form: rows (8 bytes, big-endian), head, and a MAC of both under the audit
    /// key. (Its length differs from every row's message, so neither MAC can stand for the other.)
    pub fn to_record(&self, key: &AuditKey) -> Vec<u8> {
        let mut v = Vec::with_capacity(Self::LEN);
        v.extend_from_slice(&self.rows.to_be_bytes());
        v.extend_from_slice(&self.head);
        v.extend_from_slice(&self.mac(key));
        v
    }

    /// Read a stored record, checking its MAC.
    pub fn from_record(record: &[u8], key: &AuditKey) -> Result<Legacy, LegacyRecordError> {
        if record.len() != Self::LEN {
            return Err(LegacyRecordError::Damaged);
        }
        let (rows, rest) = record.split_at(8);
        let (head, mac) = rest.split_at(32);
        let legacy = Legacy {
            rows: i64::from_be_bytes(rows.try_into().map_err(|_| LegacyRecordError::Damaged)?),
            head: head.try_into().map_err(|_| LegacyRecordError::Damaged)?,
        };
        if legacy.rows < 0 {
            return Err(LegacyRecordError::Damaged);
        }
        if !crate::crypto::ct_eq(&legacy.mac(key), mac) {
            return Err(LegacyRecordError::BadMac);
        }
        Ok(legacy)
    }
}

// -- the audit key ---------------------------------------------------------------------------

/// The audit key, opened with the key file; None before the keyed chain exists.
pub fn load_key(c: &Connection, master: &MasterKey) -> anyhow::Result<Option<AuditKey>> {
    let Some(sealed) = secrets::get(c, KEY_SECRET)? else { return Ok(None) };
    let opened = master.open(KEY_SECRET, &sealed).map_err(|_| {
        anyhow::anyhow!("the audit key does not open with this key file (the database and its key file do not belong together, or the sealed key was altered)")
    })?;
    let bytes: [u8; 32] =
        opened.as_slice().try_into().map_err(|_| anyhow::anyhow!("the sealed audit key is damaged"))?;
    Ok(Some(AuditKey::from_bytes(bytes)))
}

/// Seal the audit key under the key file and store it. The one place the audit key meets the
/// key file: creating the keyed chain calls it, and so does a rotation of the key file, which
/// re-seals this value under the new key (the key itself, and so every link, stays).
pub fn store_key(c: &Connection, master: &MasterKey, key: &AuditKey, rng: &mut SecureRng) -> anyhow::Result<()> {
    let sealed = master.seal(KEY_SECRET, &key.bytes[..], rng)?;
    secrets::put(c, KEY_SECRET, &sealed)
}

/// The audit key for appending: loaded, or, the first time one is needed (at `dms init`, or
/// the first change to a database from before the keyed chain), created together with the
/// record of the legacy rows there are.
pub fn key(c: &Connection, master: &MasterKey, rng: &mut SecureRng) -> anyhow::Result<AuditKey> {
    if let Some(k) = load_key(c, master)? {
        return Ok(k);
    }
    // Re-keying a trail whose key has gone would bless whatever was done to it: refuse when
    // the trail already shows the keyed chain existed.
    let last: Option<(i64, Vec<u8>, i64)> = c
        .prepare_cached("SELECT seq, hash, alg FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    // The key file says whether the chain was keyed, where someone who can only write the
    // database cannot undo it (issue 18): a key is made only for the trail it records (a new
    // database: no rows yet), never again for one it records as keyed further on.
    let here = last.as_ref().map(|l| (l.0, l.1.clone())).unwrap_or((0, GENESIS.to_vec()));
    let marked_elsewhere = master.marks.audit_keyed.is_some_and(|(rows, head)| (rows, head.to_vec()) != here);
    if marked_elsewhere || secrets::get(c, LEGACY_SECRET)?.is_some() || last.as_ref().is_some_and(|l| l.2 != ALG_SHA256)
    {
        anyhow::bail!(
            "the audit key is missing from the database although its keyed chain exists: the database was tampered with (run `dms audit verify`)"
        );
    }
    let legacy = match last {
        Some((seq, hash, _)) => Legacy {
            rows: seq,
            head: hash.as_slice().try_into().map_err(|_| anyhow::anyhow!("audit row {seq} has a damaged hash"))?,
        },
        None => Legacy { rows: 0, head: GENESIS },
    };
    let key = AuditKey::generate(rng);
    store_key(c, master, &key, rng)?;
    secrets::put(c, LEGACY_SECRET, &legacy.to_record(&key))?;
    Ok(key)
}

/// The stored legacy-row record, unchecked (it is checked against the audit key).
pub fn legacy_record(c: &Connection) -> anyhow::Result<Option<Vec<u8>>> {
    secrets::get(c, LEGACY_SECRET)
}

// -- appending -------------------------------------------------------------------------------

pub fn append(
    c: &Connection,
    now: DateTime<Utc>,
    key: &AuditKey,
    e: &Event<'_>,
    via: Option<&str>,
) -> anyhow::Result<i64> {
    let last: Option<(i64, Vec<u8>)> = c
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_vec()),
    };
    let at = ts(now);
    let fields = Fields {
        at: at.as_bytes(),
        actor: e.actor.map(str::as_bytes),
        action: e.action.as_bytes(),
        subject: e.subject.map(str::as_bytes),
        participant_id: e.participant_id.map(str::as_bytes),
        detail: e.detail.as_bytes(),
        via: via.map(str::as_bytes),
    };
    let hash = row_mac(key, &prev, seq, &fields);
    c.prepare_cached(
        "INSERT INTO audit (seq, at, actor, action, subject, participant_id, detail, prev_hash, hash, alg, via) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        seq,
        at,
        e.actor,
        e.action,
        e.subject,
        e.participant_id,
        e.detail,
        prev,
        &hash[..],
        ALG_HMAC,
        via
    ])?;
    Ok(seq)
}

// -- verifying -------------------------------------------------------------------------------

/// A trail as an earlier verification saw it: the row it ended at and that row's hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub last_seq: i64,
    pub head: [u8; 32],
}

impl Checkpoint {
    /// Read the JSON `audit verify` printed (`last_seq`, or `rows` from a verification that
    /// did not print it, and `head`).
    pub fn from_json(text: &str) -> Result<Checkpoint, String> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not the JSON of `dms audit verify` ({e})"))?;
        let o = v.as_object().ok_or("not the JSON object of `dms audit verify`")?;
        if o.get("ok").is_some_and(|ok| ok != true) {
            return Err("it records a failed verification".into());
        }
        let head = o
            .get("head")
            .and_then(|h| h.as_str())
            .ok_or("not a checkpoint: no \"head\" (saved from a dms that did not print one)")?;
        let head: [u8; 32] =
            hex::decode(head).ok().and_then(|h| h.try_into().ok()).ok_or("\"head\" is not 64 hexadecimal digits")?;
        let last_seq = o
            .get("last_seq")
            .filter(|s| !s.is_null())
            .or_else(|| o.get("rows"))
            .and_then(|s| s.as_i64())
            .filter(|s| *s >= 0)
            .ok_or("not a checkpoint: no \"last_seq\"")?;
        if last_seq == 0 && head != GENESIS {
            return Err("\"head\" of an empty trail must be all zeros".into());
        }
        Ok(Checkpoint { last_seq, head })
    }
}

/// What walking the trail found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walk {
    /// Rows that verified (all of them, unless `first_bad`).
    pub rows: i64,
    /// The last row that verified (0: none) and its hash (GENESIS: none).
    pub last_seq: i64,
    pub head: [u8; 32],
    /// The first row that does not verify, and why.
    pub first_bad: Option<(i64, String)>,
}

/// What the trail is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    /// The audit key, if the keyed chain exists.
    pub key: Option<&'a AuditKey>,
    /// The legacy rows as recorded (None: the keyed chain does not exist, every row is legacy).
    pub legacy: Option<Legacy>,
    pub checkpoint: Option<Checkpoint>,
}

/// Does the `audit` table exist (a dropped trail is a finding, not an SQL error)?
pub fn table_exists(c: &Connection) -> anyhow::Result<bool> {
    Ok(c.prepare_cached("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'audit'")?.exists([])?)
}

/// Walk the whole chain in order, streaming: one cached statement, fields borrowed from SQLite,
/// one HMAC state keyed once and cloned per row; memory does not grow with the trail.
pub fn walk(c: &Connection, expect: &Expect<'_>) -> anyhow::Result<Walk> {
    let mut stmt = c.prepare_cached(
        "SELECT seq, alg, at, actor, action, subject, participant_id, detail, prev_hash, hash, via FROM audit ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut w = Walk { rows: 0, last_seq: 0, head: GENESIS, first_bad: None };
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let alg: i64 = r.get(1)?;
        let f = Fields {
            at: r.get_ref(2)?.as_bytes()?,
            actor: r.get_ref(3)?.as_bytes_or_null()?,
            action: r.get_ref(4)?.as_bytes()?,
            subject: r.get_ref(5)?.as_bytes_or_null()?,
            participant_id: r.get_ref(6)?.as_bytes_or_null()?,
            detail: r.get_ref(7)?.as_bytes()?,
            via: r.get_ref(10)?.as_bytes_or_null()?,
        };
        let stored_prev = r.get_ref(8)?.as_bytes()?;
        let stored_hash = r.get_ref(9)?.as_bytes()?;
        if let Some(why) = check_row(expect, &w, seq, alg, &f, stored_prev, stored_hash) {
            w.first_bad = Some((seq, why));
            return Ok(w);
        }
        w.head.copy_from_slice(stored_hash);
        w.last_seq = seq;
        w.rows += 1;
    }
    Ok(w)
}

/// Why row `seq` does not verify after `so_far`, if it does not.
fn check_row(
    expect: &Expect<'_>,
    so_far: &Walk,
    seq: i64,
    alg: i64,
    f: &Fields<'_>,
    stored_prev: &[u8],
    stored_hash: &[u8],
) -> Option<String> {
    let expected_seq = so_far.last_seq + 1;
    if seq != expected_seq {
        return Some(format!("expected row {expected_seq} here: a row was deleted or reordered"));
    }
    if stored_prev != so_far.head {
        return Some(
            "its link to the previous row is broken: a row before it was deleted, reordered or rewritten".into(),
        );
    }
    if stored_hash.len() != 32 {
        return Some("its hash is damaged".into());
    }
    let link = match (alg, expect.legacy) {
        (ALG_SHA256, Some(l)) if seq > l.rows => {
            return Some(format!(
                "a legacy (plain SHA-256) row after the {} legacy rows recorded when the chain was keyed: it was forged or downgraded",
                l.rows
            ))
        }
        (ALG_SHA256, _) if f.via.is_some() => {
            return Some("a legacy (plain SHA-256) row that records who called, which no legacy row did: it was forged".into())
        }
        (ALG_SHA256, _) => row_hash(&so_far.head, seq, f),
        (ALG_HMAC, _) => match expect.key {
            Some(k) => row_mac(k, &so_far.head, seq, f),
            None => return Some("a keyed row, but the audit key is missing from the database".into()),
        },
        (other, _) => return Some(format!("unknown link algorithm {other}")),
    };
    if link[..] != *stored_hash {
        return Some(match alg {
            ALG_HMAC => "its MAC does not match its contents: the row was edited or forged".into(),
            _ => "its contents do not match its hash: the row was edited".into(),
        });
    }
    if let Some(l) = expect.legacy.filter(|l| l.rows == seq && l.head[..] != *stored_hash) {
        return Some(format!(
            "the last of the {} legacy rows is not the one recorded when the chain was keyed: the legacy rows were rewritten",
            l.rows
        ));
    }
    if let Some(cp) = expect.checkpoint.filter(|cp| cp.last_seq == seq && cp.head[..] != *stored_hash) {
        return Some(format!(
            "it is not the row {} the checkpoint recorded (another hash): the trail was rewritten at or before it",
            cp.last_seq
        ));
    }
    None
}

// -- reading ---------------------------------------------------------------------------------

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
    /// Who called (JSON text), when the row records it.
    pub via: Option<String>,
}

/// Which rows a report reads: `from <= at < to` (RFC 3339 text), rows after a sequence number,
/// one participant.
#[derive(Debug, Clone, Copy, Default)]
pub struct Selection<'a> {
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub after_seq: Option<i64>,
    pub participant: Option<&'a str>,
    /// Only rows about this user (through the `audit_by_subject` index).
    pub subject: Option<&'a str>,
}

/// The rows a decided request wrote: those at its decision's time (the approval writes them
/// all in one transaction, at one time) whose detail names it, in order. Found through the
/// time index, whatever the trail's length.
pub fn of_request(c: &Connection, decided_at: DateTime<Utc>, request_id: i64) -> anyhow::Result<Vec<AuditRow>> {
    let mut stmt = c.prepare_cached(
        "SELECT seq, at, actor, action, subject, participant_id, detail, via FROM audit INDEXED BY audit_by_time \
         WHERE at = ?1 AND json_valid(detail) AND json_extract(detail, '$.request_id') = ?2 ORDER BY seq",
    )?;
    let rows = stmt.query_map(rusqlite::params![ts(decided_at), request_id], audit_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A row of `seq, at, actor, action, subject, participant_id, detail, via`.
fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        subject: r.get(4)?,
        participant_id: r.get(5)?,
        detail: r.get(6)?,
        via: r.get(7)?,
    })
}

/// The selected rows, in order, streamed.
pub fn for_each(
    c: &Connection,
    s: &Selection<'_>,
    mut f: impl FnMut(AuditRow) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let (sql, values) = selection_query(s);
    let mut stmt = c.prepare_cached(sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
    while let Some(r) = rows.next()? {
        f(audit_row(r)?)?;
    }
    Ok(())
}

/// The statement of a selection and its parameters. One statement per case, so each has a plan
/// that uses its index: `seq > N` the primary key, a period the `audit_by_time` index (a
/// `?1 IS NULL OR` test in front of a column would hide the index from the planner). A period
/// names its index: the planner, not knowing the dates, would scan the whole trail for a
/// one-sided period rather than sort what the index finds, and a period costs what it selects
/// only through the index (then sorted by seq, which SQLite spills to disk if it is large).
fn selection_query(s: &Selection<'_>) -> (&'static str, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    macro_rules! select {
        (by_time, $where:literal) => {
            concat!(
                "SELECT seq, at, actor, action, subject, participant_id, detail, via FROM audit INDEXED BY audit_by_time \
                 WHERE ",
                $where,
                " ORDER BY seq"
            )
        };
        ($where:literal) => {
            concat!(
                "SELECT seq, at, actor, action, subject, participant_id, detail, via FROM audit WHERE ",
                $where,
                " ORDER BY seq"
            )
        };
    }
    let text = |v: Option<&str>| v.map_or(Value::Null, |t| Value::Text(t.to_string()));
    let p = text(s.participant);
    if let Some(subject) = s.subject {
        return (
                "SELECT seq, at, actor, action, subject, participant_id, detail, via FROM audit INDEXED BY audit_by_subject \
                 WHERE subject = ?1 AND (?2 IS NULL OR seq > ?2) AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4) \
                 AND (?5 IS NULL OR participant_id = ?5) ORDER BY seq",
            vec![text(Some(subject)), s.after_seq.map_or(Value::Null, Value::Integer), text(s.from), text(s.to), p],
        );
    }
    match (s.after_seq, s.from, s.to) {
        (Some(n), from, to) => (
            select!(
                "seq > ?1 AND (?2 IS NULL OR at >= ?2) AND (?3 IS NULL OR at < ?3) \
                 AND (?4 IS NULL OR participant_id = ?4)"
            ),
            vec![Value::Integer(n), text(from), text(to), p],
        ),
        (None, Some(from), Some(to)) => (
            select!(by_time, "at >= ?1 AND at < ?2 AND (?3 IS NULL OR participant_id = ?3)"),
            vec![text(Some(from)), text(Some(to)), p],
        ),
        (None, Some(from), None) => {
            (select!(by_time, "at >= ?1 AND (?2 IS NULL OR participant_id = ?2)"), vec![text(Some(from)), p])
        }
        (None, None, Some(to)) => {
            (select!(by_time, "at < ?1 AND (?2 IS NULL OR participant_id = ?2)"), vec![text(Some(to)), p])
        }
        (None, None, None) => (select!("(?1 IS NULL OR participant_id = ?1)"), vec![p]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Store;

    fn fields<'a>(at: &'a str, actor: Option<&'a str>, detail: &'a str) -> Fields<'a> {
        Fields {
            at: at.as_bytes(),
            actor: actor.map(str::as_bytes),
            action: b"signin.login",
            subject: None,
            participant_id: None,
            detail: detail.as_bytes(),
            via: None,
        }
    }

    fn test_key(n: u8) -> AuditKey {
        AuditKey::from_bytes([n; 32])
    }

    #[test]
    fn fields_are_length_prefixed_so_no_two_rows_link_alike() {
        let a = row_hash(&GENESIS, 1, &fields("2026-11-23T02:00:00Z", Some("ab"), "c"));
        let b = row_hash(&GENESIS, 1, &fields("2026-11-23T02:00:00Z", Some("a"), "bc"));
        let none = row_hash(&GENESIS, 1, &fields("2026-11-23T02:00:00Z", None, ""));
        let empty = row_hash(&GENESIS, 1, &fields("2026-11-23T02:00:00Z", Some(""), ""));
        assert_ne!(a, b);
        assert_ne!(none, empty, "NULL is not the empty text");
        assert_ne!(row_hash(&GENESIS, 2, &fields("x", None, "")), row_hash(&GENESIS, 1, &fields("x", None, "")));
    }

    #[test]
    fn a_keyed_link_is_the_hmac_of_the_same_message_under_that_key_only() {
        let f = fields("2026-11-23T02:00:00Z", Some("HKEXOP01"), "{}");
        let prev = [7u8; 32];
        let mac = row_mac(&test_key(1), &prev, 5, &f);
        // The state keyed once and cloned per row gives exactly HMAC-SHA-256 keyed afresh.
        let mut fresh = <HmacSha256 as Mac>::new_from_slice(&[1u8; 32]).expect("key");
        feed(&mut fresh, &prev, 5, &f);
        assert_eq!(mac, <[u8; 32]>::from(fresh.finalize().into_bytes()));
        assert_eq!(mac, row_mac(&test_key(1), &prev, 5, &f), "cloning leaves the keyed state as it was");
        assert_ne!(mac, row_mac(&test_key(2), &prev, 5, &f));
        assert_ne!(mac, row_hash(&prev, 5, &f), "not the plain SHA-256 anyone can compute");
    }

    #[test]
    fn the_legacy_record_round_trips_and_refuses_any_change() {
        let legacy = Legacy { rows: 41, head: [9u8; 32] };
        let record = legacy.to_record(&test_key(1));
        assert_eq!(Legacy::from_record(&record, &test_key(1)), Ok(legacy));
        assert_eq!(Legacy::from_record(&record, &test_key(2)), Err(LegacyRecordError::BadMac));
        for i in 0..record.len() {
            let mut changed = record.clone();
            changed[i] ^= 1;
            assert!(Legacy::from_record(&changed, &test_key(1)).is_err(), "byte {i} changed");
        }
        assert_eq!(Legacy::from_record(&record[..71], &test_key(1)), Err(LegacyRecordError::Damaged));
    }

    #[test]
    fn a_checkpoint_is_read_from_what_verify_prints() {
        let head = "ab".repeat(32);
        let cp = Checkpoint::from_json(&format!(
            r#"{{"ok": true, "rows": 12, "head": "{head}", "first_seq": 1, "last_seq": 12, "legacy_rows": 0}}"#
        ))
        .expect("a checkpoint");
        assert_eq!(cp, Checkpoint { last_seq: 12, head: [0xab; 32] });
        let rows_only = Checkpoint::from_json(&format!(r#"{{"rows": 3, "head": "{head}"}}"#)).expect("rows");
        assert_eq!(rows_only.last_seq, 3);
        for (bad, why) in [
            (r#"{"ok": true, "rows": 3}"#.to_string(), "head"),
            (format!(r#"{{"ok": false, "last_seq": 3, "head": "{head}"}}"#), "failed"),
            (format!(r#"{{"last_seq": -1, "head": "{head}"}}"#), "last_seq"),
            (r#"{"last_seq": 3, "head": "abc"}"#.to_string(), "64 hexadecimal"),
            (format!(r#"{{"last_seq": 0, "head": "{head}"}}"#), "zeros"),
            ("[1]".to_string(), "object"),
            ("nonsense".to_string(), "JSON"),
        ] {
            let err = Checkpoint::from_json(&bad).expect_err(&bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    /// A new database with its key file, in a temp dir.
    fn store() -> (tempfile::TempDir, Store, MasterKey) {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::create(&dir.path().join("t.db")).expect("create");
        let master = MasterKey::create(&dir.path().join("t.db.key"), &mut SecureRng::seeded(1), Default::default())
            .expect("key file");
        (dir, store, master)
    }

    fn event(action: &str) -> Event<'_> {
        Event { actor: Some("HKEXOP01"), action, detail: "{}".into(), ..Default::default() }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T10:00:00+08:00").expect("time").with_timezone(&Utc)
    }

    #[test]
    fn the_audit_key_is_made_once_sealed_and_a_new_trail_has_no_legacy_rows() {
        let (dir, store, master) = store();
        let c = store.conn();
        let mut rng = SecureRng::seeded(2);
        let k = key_of(c, &master, &mut rng);
        let sealed = secrets::get(c, KEY_SECRET).expect("get").expect("stored");
        assert!(!sealed.windows(32).any(|w| w == &k.bytes[..]), "never stored bare");
        let again = load_key(c, &master).expect("load").expect("there");
        assert_eq!(again.bytes, k.bytes, "loaded, not made again");
        let legacy = Legacy::from_record(&legacy_record(c).expect("get").expect("stored"), &k).expect("record");
        assert_eq!(legacy, Legacy { rows: 0, head: GENESIS });
        let other =
            MasterKey::create(&dir.path().join("other.key"), &mut rng, Default::default()).expect("other key file");
        assert!(load_key(c, &other).is_err(), "another key file does not open it");
    }

    fn key_of(c: &Connection, master: &MasterKey, rng: &mut SecureRng) -> AuditKey {
        super::key(c, master, rng).expect("the audit key")
    }

    #[test]
    fn a_keyed_trail_walks_clean_and_names_an_edited_forged_or_downgraded_row() {
        let (_dir, store, master) = store();
        let c = store.conn();
        let k = key_of(c, &master, &mut SecureRng::seeded(3));
        for _ in 0..5 {
            append(c, now(), &k, &event("signin.login"), None).expect("append");
        }
        let expect = Expect { key: Some(&k), legacy: Some(Legacy { rows: 0, head: GENESIS }), checkpoint: None };
        let w = walk(c, &expect).expect("walk");
        assert_eq!((w.rows, w.last_seq, w.first_bad.clone()), (5, 5, None));
        let head: Vec<u8> = c.query_row("SELECT hash FROM audit WHERE seq = 5", [], |r| r.get(0)).expect("hash");
        assert_eq!(w.head[..], head[..]);

        c.execute("UPDATE audit SET actor = 'B0123401' WHERE seq = 3", []).expect("edit");
        let bad = walk(c, &expect).expect("walk").first_bad.expect("found");
        assert_eq!(bad.0, 3);
        assert!(bad.1.contains("MAC"), "{}", bad.1);
        c.execute("UPDATE audit SET actor = 'HKEXOP01', alg = 1 WHERE seq = 3", []).expect("downgrade");
        let bad = walk(c, &expect).expect("walk").first_bad.expect("found");
        assert_eq!(bad.0, 3);
        assert!(bad.1.contains("legacy"), "{}", bad.1);
        c.execute("UPDATE audit SET alg = 2 WHERE seq = 3", []).expect("restore");
        assert_eq!(walk(c, &expect).expect("walk").first_bad, None);

        // Checked against a checkpoint of another trail at row 4.
        let cp = Checkpoint { last_seq: 4, head: [1u8; 32] };
        let bad = walk(c, &Expect { checkpoint: Some(cp), ..expect }).expect("walk").first_bad.expect("found");
        assert_eq!(bad.0, 4);
        assert!(bad.1.contains("checkpoint"), "{}", bad.1);
    }

    #[test]
    fn a_legacy_trail_is_counted_when_the_key_is_made_and_keeps_verifying() {
        let (_dir, store, master) = store();
        let c = store.conn();
        // Three rows as the first dms wrote them: plain SHA-256, alg 1.
        let mut prev = GENESIS;
        for seq in 1..=3 {
            let f = fields("2026-11-23T02:00:00Z", Some("HKEXOP01"), "{}");
            let hash = row_hash(&prev, seq, &f);
            c.execute(
                "INSERT INTO audit (seq, at, actor, action, detail, prev_hash, hash, alg) \
                 VALUES (?1, '2026-11-23T02:00:00Z', 'HKEXOP01', 'signin.login', '{}', ?2, ?3, 1)",
                params![seq, &prev[..], &hash[..]],
            )
            .expect("legacy row");
            prev = hash;
        }
        let unkeyed = walk(c, &Expect { key: None, legacy: None, checkpoint: None }).expect("walk");
        assert_eq!((unkeyed.rows, unkeyed.first_bad), (3, None));

        let k = key_of(c, &master, &mut SecureRng::seeded(4));
        let legacy = Legacy::from_record(&legacy_record(c).expect("get").expect("stored"), &k).expect("record");
        assert_eq!(legacy, Legacy { rows: 3, head: prev });
        append(c, now(), &k, &event("otp.requested"), None).expect("append");
        let alg: i64 = c.query_row("SELECT alg FROM audit WHERE seq = 4", [], |r| r.get(0)).expect("alg");
        assert_eq!(alg, ALG_HMAC);
        let expect = Expect { key: Some(&k), legacy: Some(legacy), checkpoint: None };
        assert_eq!(walk(c, &expect).expect("walk").first_bad, None);

        // The key cannot be made again over a trail that shows it existed.
        c.execute("DELETE FROM secrets WHERE name = ?1", [KEY_SECRET]).expect("strip");
        assert!(super::key(c, &master, &mut SecureRng::seeded(5)).is_err());
    }

    #[test]
    fn each_selection_has_a_plan_that_uses_its_index() {
        let (_dir, store, _master) = store();
        let c = store.conn();
        let plan = |s: Selection<'_>| -> String {
            let (sql, values) = selection_query(&s);
            let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).expect("prepare");
            let rows = stmt
                .query_map(rusqlite::params_from_iter(values), |r| r.get::<_, String>(3))
                .expect("plan")
                .collect::<Result<Vec<_>, _>>()
                .expect("rows");
            rows.join("; ")
        };
        let (from, to) = (Some("2026-11-22T16:00:00Z"), Some("2026-11-23T16:00:00Z"));
        for s in [
            Selection { from, to, ..Default::default() },
            Selection { from, ..Default::default() },
            Selection { to, participant: Some("B01234"), ..Default::default() },
        ] {
            let p = plan(s);
            assert!(p.contains("USING INDEX audit_by_time"), "{s:?}: {p}");
        }
        for s in [
            Selection { after_seq: Some(10), ..Default::default() },
            Selection { after_seq: Some(10), from, to, ..Default::default() },
        ] {
            let p = plan(s);
            assert!(p.contains("INTEGER PRIMARY KEY (rowid>?)"), "{s:?}: {p}");
        }
    }
}
