//! The outstanding e-mail OTP of each user (keyed hash only).

use super::{parse_ts, ts};
use crate::domain::otp::IssuedEmailOtp;
use crate::domain::user_id::UserId;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

pub struct StoredEmailOtp {
    pub code_hash: Vec<u8>,
    pub issued: IssuedEmailOtp,
}

pub fn get(c: &Connection, user_id: &UserId) -> anyhow::Result<Option<StoredEmailOtp>> {
    let raw = c
        .prepare_cached(
            "SELECT code_hash, issued_at, requested, used_at IS NOT NULL FROM email_otps WHERE user_id = ?1",
        )?
        .query_row([user_id.as_str()], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?, r.get::<_, bool>(3)?))
        })
        .optional()?;
    raw.map(|(code_hash, issued_at, requested, used)| {
        Ok(StoredEmailOtp { code_hash, issued: IssuedEmailOtp { issued_at: parse_ts(&issued_at)?, requested, used } })
    })
    .transpose()
}

/// Replace the user's outstanding OTP with a new one.
pub fn put(
    c: &Connection,
    user_id: &UserId,
    code_hash: &[u8],
    now: DateTime<Utc>,
    requested: bool,
) -> anyhow::Result<()> {
    c.prepare_cached(
        "INSERT INTO email_otps (user_id, code_hash, issued_at, requested, used_at) VALUES (?1, ?2, ?3, ?4, NULL) \
         ON CONFLICT (user_id) DO UPDATE SET code_hash = excluded.code_hash, issued_at = excluded.issued_at, \
         requested = excluded.requested, used_at = NULL",
    )?
    .execute(params![user_id.as_str(), code_hash, ts(now), requested])?;
    Ok(())
}

pub fn mark_used(c: &Connection, user_id: &UserId, now: DateTime<Utc>) -> anyhow::Result<()> {
    c.prepare_cached("UPDATE email_otps SET used_at = ?2 WHERE user_id = ?1")?
        .execute(params![user_id.as_str(), ts(now)])?;
    Ok(())
}

/// Until when a request for an ID with no account (or no address to send to) is throttled, if
/// one was made less than `throttle` ago.
pub fn unmatched_blocked_until(
    c: &Connection,
    user_id: &UserId,
    now: DateTime<Utc>,
    throttle: chrono::Duration,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    let at: Option<String> = c
        .prepare_cached("SELECT requested_at FROM otp_requests_unmatched WHERE user_id = ?1")?
        .query_row([user_id.as_str()], |r| r.get(0))
        .optional()?;
    Ok(at.map(|t| parse_ts(&t)).transpose()?.map(|t| t + throttle).filter(|until| now < *until))
}

/// Note a request for an ID with no account; forget the ones older than `throttle`.
pub fn note_unmatched(
    c: &Connection,
    user_id: &UserId,
    now: DateTime<Utc>,
    throttle: chrono::Duration,
) -> anyhow::Result<()> {
    c.prepare_cached("DELETE FROM otp_requests_unmatched WHERE requested_at <= ?1")?.execute([ts(now - throttle)])?;
    c.prepare_cached(
        "INSERT INTO otp_requests_unmatched (user_id, requested_at) VALUES (?1, ?2) \
         ON CONFLICT (user_id) DO UPDATE SET requested_at = excluded.requested_at",
    )?
    .execute(params![user_id.as_str(), ts(now)])?;
    Ok(())
}

pub fn discard(c: &Connection, user_id: &UserId) -> anyhow::Result<()> {
    c.prepare_cached("DELETE FROM email_otps WHERE user_id = ?1")?.execute([user_id.as_str()])?;
    Ok(())
}

/// Discard the user's outstanding OTP if it is still this code (a newer one is left alone).
pub fn discard_code(c: &Connection, user_id: &UserId, code_hash: &[u8]) -> anyhow::Result<()> {
    c.prepare_cached("DELETE FROM email_otps WHERE user_id = ?1 AND code_hash = ?2")?
        .execute(params![user_id.as_str(), code_hash])?;
    Ok(())
}
