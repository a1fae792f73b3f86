//! Verifying the audit trail as a whole (SPEC §7): each row's link (storage walks the chain),
//! and what no single row shows — the keyed chain and its record of legacy rows still there and
//! untouched, the trail not empty where people have acted, and, given a checkpoint, the trail
//! still extending it. Every finding is an integrity error (exit 8) naming the row or the reason.

use crate::error::{DmsError, Kind};
use crate::ops::work::Work;
use crate::storage::audit::{self, Checkpoint, Expect, Legacy, LegacyRecordError};
use crate::storage::users;

/// A trail that verified.
#[derive(Debug, Clone)]
pub struct Verified {
    pub rows: i64,
    pub first_seq: Option<i64>,
    pub last_seq: i64,
    /// The hash of the last row (GENESIS for an empty trail).
    pub head: [u8; 32],
    /// Rows from before the keyed chain (all of them while it does not exist yet).
    pub legacy_rows: i64,
    /// Does the keyed chain exist (an audit key in the database)?
    pub keyed: bool,
    /// The checkpoint the trail was found to extend.
    pub checkpoint: Option<Checkpoint>,
}

fn broken(message: impl Into<String>) -> DmsError {
    DmsError::new(Kind::Integrity, message)
}

/// Verify the whole trail, streaming, in the command's read snapshot.
pub fn verify(w: &mut Work<'_>, checkpoint: Option<Checkpoint>) -> anyhow::Result<Verified> {
    if !audit::table_exists(&w.tx)? {
        return Err(broken("the audit table is missing: the trail was dropped").into());
    }
    let master = w.key()?.clone();
    let key = audit::load_key(&w.tx, &master).map_err(|e| broken(format!("{e:#}")))?;
    let legacy = match (&key, audit::legacy_record(&w.tx)?) {
        (Some(k), Some(record)) => Some(Legacy::from_record(&record, k).map_err(|e| {
            broken(match e {
                LegacyRecordError::Damaged => "the record of legacy rows is damaged",
                LegacyRecordError::BadMac => {
                    "the recorded number of legacy rows fails its MAC under the audit key: it was altered"
                }
            })
        })?),
        (Some(_), None) => {
            return Err(
                broken("the audit key is there, but the record of legacy rows is missing: it was removed").into()
            )
        }
        (None, Some(_)) => {
            return Err(
                broken("the record of legacy rows is there, but the audit key is missing: it was removed").into()
            )
        }
        // A database from before the keyed chain, not changed since: every row is legacy.
        (None, None) => None,
    };
    let walk = audit::walk(&w.tx, &Expect { key: key.as_ref(), legacy, checkpoint })?;
    if let Some((seq, why)) = walk.first_bad {
        return Err(
            broken(format!("audit trail broken at row {seq}: {why} ({} rows before it verify)", walk.rows)).into()
        );
    }
    if walk.rows == 0 {
        // `dms init` writes the first row in the transaction that creates the database, so an
        // empty trail was emptied.
        if users::any(&w.tx)? {
            return Err(broken("the audit trail is empty, but the database has users: its rows were deleted").into());
        }
        if key.is_some() {
            return Err(
                broken("the audit trail is empty, but its keyed chain was started: its rows were deleted").into()
            );
        }
    }
    // What the key file records outranks what the database says of itself (issue 18): a
    // trail it records as keyed verifies only as keyed, with the legacy rows it names.
    if let Some((rows, head)) = master.marks.audit_keyed {
        if key.is_none() {
            return Err(broken(format!(
                "the key file records that this trail is keyed (after {rows} legacy rows), but the database's audit key is gone: the keyed chain was stripped from the database"
            ))
            .into());
        }
        if legacy.is_some_and(|l| l.rows != rows || l.head != head) {
            return Err(broken(format!(
                "the database's record of legacy rows is not the one the key file records ({rows} rows): it was replaced"
            ))
            .into());
        }
    }
    if let Some(l) = legacy.filter(|l| walk.last_seq < l.rows) {
        return Err(broken(format!(
            "the trail ends at row {}, before the last of the {} legacy rows recorded when the chain was keyed: rows were cut off the end",
            walk.last_seq, l.rows
        ))
        .into());
    }
    if let Some(cp) = checkpoint.filter(|cp| walk.last_seq < cp.last_seq) {
        return Err(broken(format!(
            "the trail ends at row {}, before row {} of the checkpoint: rows were cut off the end{}",
            walk.last_seq,
            cp.last_seq,
            if walk.rows == 0 { " (the trail is empty)" } else { "" }
        ))
        .into());
    }
    Ok(Verified {
        rows: walk.rows,
        first_seq: (walk.rows > 0).then_some(1),
        last_seq: walk.last_seq,
        head: walk.head,
        legacy_rows: legacy.map_or(walk.last_seq, |l| l.rows),
        keyed: key.is_some(),
        checkpoint,
    })
}
