//! Reminders (`hkex remind`): who is due one, and the record of those sent, so each is sent once.

use super::ts;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

/// A user a reminder may go to.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub user_id: String,
    pub email: String,
    /// expiring: when the password was set (as stored); not-initialised: the address, lower-case.
    pub cycle: String,
}

/// Enabled users with a registered address whose password was set in `(after, up_to]`: those
/// whose password expires within the window of the largest threshold and has not expired yet.
pub fn passwords_set_between(
    c: &Connection,
    after: DateTime<Utc>,
    up_to: DateTime<Utc>,
) -> anyhow::Result<Vec<Candidate>> {
    let mut stmt = c.prepare_cached(
        "SELECT u.user_id, u.email, c.password_set_at FROM credentials c JOIN users u USING (user_id) \
         WHERE c.password_set_at > ?1 AND c.password_set_at <= ?2 AND u.status = 'ENABLED' AND u.email IS NOT NULL \
         ORDER BY u.user_id",
    )?;
    let rows = stmt.query_map(params![ts(after), ts(up_to)], |r| {
        Ok(Candidate { user_id: r.get(0)?, email: r.get(1)?, cycle: r.get(2)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Enabled users on the terminal channel (CST) with a registered address who have not
/// initialised 2FA; the participants' users and DAs only when `participants` (from the 2FA
/// launch on), the exchange's own accounts always.
pub fn not_initialised(c: &Connection, participants: bool) -> anyhow::Result<Vec<Candidate>> {
    let mut stmt = c.prepare_cached(
        "SELECT u.user_id, u.email, lower(u.email) FROM users u JOIN credentials c USING (user_id) \
         WHERE c.otp_confirmed = 0 AND u.status = 'ENABLED' AND u.email IS NOT NULL AND u.channel = 'CST' \
         AND (?1 OR u.participant_id IS NULL) ORDER BY u.user_id",
    )?;
    let rows =
        stmt.query_map([participants], |r| Ok(Candidate { user_id: r.get(0)?, email: r.get(1)?, cycle: r.get(2)? }))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The thresholds already sent to `user_id` for this kind and cycle.
pub fn sent(c: &Connection, user_id: &str, kind: &str, cycle: &str) -> anyhow::Result<Vec<i64>> {
    let mut stmt =
        c.prepare_cached("SELECT threshold FROM reminders WHERE user_id = ?1 AND kind = ?2 AND cycle = ?3")?;
    let rows = stmt.query_map(params![user_id, kind, cycle], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// When `user_id` was last sent a reminder of this kind, if ever.
pub fn last_sent(c: &Connection, user_id: &str, kind: &str) -> anyhow::Result<Option<DateTime<Utc>>> {
    let t: Option<String> = c
        .prepare_cached("SELECT MAX(sent_at) FROM reminders WHERE user_id = ?1 AND kind = ?2")?
        .query_row(params![user_id, kind], |r| r.get(0))?;
    t.map(|t| super::parse_ts(&t)).transpose()
}

/// Record a reminder as sent.
pub fn record(
    c: &Connection,
    user_id: &str,
    kind: &str,
    cycle: &str,
    threshold: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    c.prepare_cached(
        "INSERT INTO reminders (user_id, kind, cycle, threshold, sent_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT DO NOTHING",
    )?
    .execute(params![user_id, kind, cycle, threshold, ts(now)])?;
    Ok(())
}
