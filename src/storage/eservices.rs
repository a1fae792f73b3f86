//! Exchange eServices: DA3 (Delegated Administrator maintenance) and DA4 (additional user
//! accounts), each with a reference like `DA3_00013361` and status Completed.

use super::ts;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

pub struct Eservice<'a> {
    pub form: &'a str,
    pub participant: &'a crate::domain::user_id::ParticipantKey,
    pub action: &'a str,
    pub subject: Option<&'a str>,
    pub accounts: Option<i64>,
    pub fee_cents: Option<i64>,
    pub processed_by: &'a str,
}

/// Record a processed eService and return its reference.
pub fn record(c: &Connection, e: &Eservice<'_>, now: DateTime<Utc>) -> anyhow::Result<String> {
    let last: i64 = c
        .prepare_cached(
            "SELECT COALESCE(MAX(CAST(substr(reference, 5) AS INTEGER)), 0) FROM eservices WHERE form = ?1",
        )?
        .query_row([e.form], |r| r.get(0))?;
    let reference = format!("{}_{:08}", e.form, last + 1);
    c.prepare_cached(
        "INSERT INTO eservices (reference, form, participant_id, house, action, subject, accounts, fee_cents, status, processed_by, processed_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'Completed', ?9, ?10)",
    )?
    .execute(params![reference, e.form, e.participant.id(), e.participant.house.as_str(), e.action, e.subject, e.accounts, e.fee_cents, e.processed_by, ts(now)])?;
    Ok(reference)
}

/// One row of the DA4 fee report.
#[derive(Debug, Clone)]
pub struct FeeRow {
    pub reference: String,
    pub participant_id: String,
    pub accounts: i64,
    pub fee_cents: i64,
    pub processed_at: String,
}

/// DA4 fees, optionally for one participant and a period [from, to).
pub fn da4_fees(
    c: &Connection,
    participant: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> anyhow::Result<Vec<FeeRow>> {
    let mut stmt = c.prepare_cached(
        "SELECT reference, participant_id, COALESCE(accounts, 0), COALESCE(fee_cents, 0), processed_at FROM eservices \
         WHERE form = 'DA4' AND (?1 IS NULL OR participant_id = ?1) AND (?2 IS NULL OR processed_at >= ?2) \
         AND (?3 IS NULL OR processed_at < ?3) ORDER BY processed_at, reference",
    )?;
    let rows = stmt.query_map(params![participant, from, to], |r| {
        Ok(FeeRow {
            reference: r.get(0)?,
            participant_id: r.get(1)?,
            accounts: r.get(2)?,
            fee_cents: r.get(3)?,
            processed_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
