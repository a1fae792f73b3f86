//! The outbox (migration 3): notifications that could not be delivered, kept to be retried.
//! Only notifications are ever stored here — never an OTP mail or another secret.

use super::{opt_ts, parse_ts, ts};
use crate::mail::{Mail, Sender};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

/// A kept mail as the listing shows it (no body).
pub struct Kept {
    pub mail_id: i64,
    pub created_at: DateTime<Utc>,
    pub recipient: String,
    pub subject: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Keep a notification that failed its first attempt at `now`; returns its mail ID.
pub fn keep(c: &Connection, mail: &Mail, now: DateTime<Utc>, error: &str) -> anyhow::Result<i64> {
    c.prepare_cached(
        "INSERT INTO outbox (created_at, recipient, subject, body, attempts, last_attempt_at, last_error, sender) \
         VALUES (?1, ?2, ?3, ?4, 1, ?1, ?5, ?6)",
    )?
    .execute(params![ts(now), mail.to, mail.subject, mail.body, error, mail.sender.as_str()])?;
    Ok(c.last_insert_rowid())
}

/// Every kept mail, oldest first, to `each` (streamed).
pub fn each(c: &Connection, mut each: impl FnMut(Kept) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let mut stmt = c.prepare_cached(
        "SELECT mail_id, created_at, recipient, subject, attempts, last_error, sent_at FROM outbox ORDER BY mail_id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        each(Kept {
            mail_id: r.get(0)?,
            created_at: parse_ts(&r.get::<_, String>(1)?)?,
            recipient: r.get(2)?,
            subject: r.get(3)?,
            attempts: r.get(4)?,
            last_error: r.get(5)?,
            sent_at: opt_ts(r.get(6)?)?,
        })?;
    }
    Ok(())
}

/// The mails not sent yet, with their bodies, oldest first.
pub fn unsent(c: &Connection) -> anyhow::Result<Vec<(i64, Mail)>> {
    let mut stmt = c.prepare_cached(
        "SELECT mail_id, recipient, subject, body, sender FROM outbox WHERE sent_at IS NULL ORDER BY mail_id",
    )?;
    let rows = stmt.query_map([], |r| {
        let sender = Sender::parse(&r.get::<_, String>(4)?);
        Ok((r.get(0)?, Mail { to: r.get(1)?, subject: r.get(2)?, body: r.get(3)?, sender }))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Record an attempt at `now`: sent, or the error. A mail already marked sent (by a retry
/// running beside this one) stays as it is.
pub fn attempted(c: &Connection, mail_id: i64, now: DateTime<Utc>, result: &Result<(), String>) -> anyhow::Result<()> {
    let (sent_at, error) = match result {
        Ok(()) => (Some(ts(now)), None),
        Err(e) => (None, Some(e.as_str())),
    };
    c.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?2, last_error = COALESCE(?3, last_error), \
         sent_at = ?4 WHERE mail_id = ?1 AND sent_at IS NULL",
    )?
    .execute(params![mail_id, ts(now), error, sent_at])?;
    Ok(())
}
