//! User profiles and their credentials (two tables, one row each per user).

use super::{opt_date, opt_ts, parse_ts, ts};
use crate::domain::lockout::FailureState;
use crate::domain::otp::OtpChannel;
use crate::domain::role::Role;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};

/// A user profile as stored (seed 4.3).
#[derive(Debug, Clone, PartialEq)]
pub struct UserProfile {
    pub user_id: String,
    pub participant_id: Option<String>,
    pub role: Role,
    pub status: String,
    pub surname: String,
    pub other_names: String,
    pub email: Option<String>,
    pub enable_from: Option<NaiveDate>,
    pub disable_after: Option<NaiveDate>,
    pub channel: String,
    pub limit_cents: i64,
    pub groups: String,
    pub srn: Option<String>,
    pub cert_expiry: Option<String>,
    pub pin_phc: Option<String>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl UserProfile {
    /// A new, enabled profile on the terminal channel with no groups, limit or smartcard;
    /// callers set the rest with struct-update syntax.
    pub fn new(
        user_id: &str,
        participant_id: Option<&str>,
        role: Role,
        surname: &str,
        other_names: &str,
        email: Option<&str>,
        now: DateTime<Utc>,
    ) -> UserProfile {
        UserProfile {
            user_id: user_id.to_string(),
            participant_id: participant_id.map(str::to_string),
            role,
            status: "ENABLED".into(),
            surname: surname.to_string(),
            other_names: other_names.to_string(),
            email: email.map(str::to_string),
            enable_from: None,
            disable_after: None,
            channel: "CST".into(),
            limit_cents: 0,
            groups: String::new(),
            srn: None,
            cert_expiry: None,
            pin_phc: None,
            created_at: now,
            version: 1,
        }
    }

    pub fn enabled(&self) -> bool {
        self.status == "ENABLED"
    }
}

/// The authenticator state of a user.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Credentials {
    pub password_phc: Option<String>,
    pub password_set_at: Option<DateTime<Utc>>,
    pub otp_channel: Option<OtpChannel>,
    /// 2FA initialised: a password and a confirmed OTP channel.
    pub otp_confirmed: bool,
    pub totp_key: Option<Vec<u8>>,
    pub totp_last_step: Option<u64>,
    pub locked_at: Option<DateTime<Utc>>,
    pub failures: FailureState,
    pub last_login_at: Option<DateTime<Utc>>,
}

const PROFILE_COLUMNS: &str = "user_id, participant_id, role, status, surname, other_names, email, enable_from, \
     disable_after, channel, limit_cents, groups, srn, cert_expiry, pin_phc, created_at, version";

/// Read a profile row (columns in `PROFILE_COLUMNS` order). Dates and times are checked, so a
/// damaged row is an error rather than a default.
fn profile_from_row(r: &Row<'_>) -> rusqlite::Result<rusqlite::Result<UserProfile, String>> {
    let role: String = r.get(2)?;
    let enable_from: Option<String> = r.get(7)?;
    let disable_after: Option<String> = r.get(8)?;
    let created_at: String = r.get(15)?;
    type Checked = (Role, Option<NaiveDate>, Option<NaiveDate>, DateTime<Utc>);
    let checked = (|| -> anyhow::Result<Checked> {
        Ok((
            role.parse::<Role>().map_err(anyhow::Error::msg)?,
            opt_date(enable_from)?,
            opt_date(disable_after)?,
            parse_ts(&created_at)?,
        ))
    })();
    let (role, enable_from, disable_after, created_at) = match checked {
        Ok(v) => v,
        Err(e) => return Ok(Err(format!("{e:#}"))),
    };
    Ok(Ok(UserProfile {
        user_id: r.get(0)?,
        participant_id: r.get(1)?,
        role,
        status: r.get(3)?,
        surname: r.get(4)?,
        other_names: r.get(5)?,
        email: r.get(6)?,
        enable_from,
        disable_after,
        channel: r.get(9)?,
        limit_cents: r.get(10)?,
        groups: r.get(11)?,
        srn: r.get(12)?,
        cert_expiry: r.get(13)?,
        pin_phc: r.get(14)?,
        created_at,
        version: r.get(16)?,
    }))
}

pub fn get(c: &Connection, user_id: &str) -> anyhow::Result<Option<UserProfile>> {
    let sql = format!("SELECT {PROFILE_COLUMNS} FROM users WHERE user_id = ?1");
    match c.prepare_cached(&sql)?.query_row([user_id], profile_from_row).optional()? {
        None => Ok(None),
        Some(Ok(p)) => Ok(Some(p)),
        Some(Err(e)) => anyhow::bail!("user {user_id}: {e}"),
    }
}

/// Is this ID in use now, or was it ever (deleted IDs are never reused)?
pub fn id_taken(c: &Connection, user_id: &str) -> anyhow::Result<bool> {
    let n: i64 = c
        .prepare_cached(
            "SELECT (SELECT COUNT(*) FROM users WHERE user_id = ?1) + (SELECT COUNT(*) FROM retired_user_ids WHERE user_id = ?1)",
        )?
        .query_row([user_id], |r| r.get(0))?;
    Ok(n > 0)
}

pub fn insert(c: &Connection, p: &UserProfile) -> anyhow::Result<()> {
    c.prepare_cached(
        "INSERT INTO users (user_id, participant_id, role, status, surname, other_names, email, enable_from, \
         disable_after, channel, limit_cents, groups, srn, cert_expiry, pin_phc, created_at, version) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?
    .execute(params![
        p.user_id,
        p.participant_id,
        p.role.as_str(),
        p.status,
        p.surname,
        p.other_names,
        p.email,
        p.enable_from.map(|d| d.to_string()),
        p.disable_after.map(|d| d.to_string()),
        p.channel,
        p.limit_cents,
        p.groups,
        p.srn,
        p.cert_expiry,
        p.pin_phc,
        ts(p.created_at),
        p.version,
    ])?;
    c.prepare_cached("INSERT INTO credentials (user_id) VALUES (?1)")?.execute([&p.user_id])?;
    Ok(())
}

pub fn credentials(c: &Connection, user_id: &str) -> anyhow::Result<Option<Credentials>> {
    let raw = c
        .prepare_cached(
            "SELECT password_phc, password_set_at, otp_channel, otp_confirmed, totp_key, totp_last_step, locked_at, \
             failures, otp_misses, last_login_at FROM credentials WHERE user_id = ?1",
        )?
        .query_row([user_id], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<Vec<u8>>>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, i64>(8)?,
                r.get::<_, Option<String>>(9)?,
            ))
        })
        .optional()?;
    let Some((phc, set_at, chan, confirmed, key, last_step, locked, failures, misses, last_login)) = raw else {
        return Ok(None);
    };
    Ok(Some(Credentials {
        password_phc: phc,
        password_set_at: opt_ts(set_at)?,
        otp_channel: chan.as_deref().and_then(OtpChannel::parse),
        otp_confirmed: confirmed != 0,
        totp_key: key,
        totp_last_step: last_step.and_then(|s| u64::try_from(s).ok()),
        locked_at: opt_ts(locked)?,
        failures: FailureState::decode(&failures, u32::try_from(misses).unwrap_or(0)),
        last_login_at: opt_ts(last_login)?,
    }))
}

pub fn save_credentials(c: &Connection, user_id: &str, cr: &Credentials) -> anyhow::Result<()> {
    c.prepare_cached(
        "UPDATE credentials SET password_phc = ?2, password_set_at = ?3, otp_channel = ?4, otp_confirmed = ?5, \
         totp_key = ?6, totp_last_step = ?7, locked_at = ?8, failures = ?9, otp_misses = ?10, last_login_at = ?11 \
         WHERE user_id = ?1",
    )?
    .execute(params![
        user_id,
        cr.password_phc,
        cr.password_set_at.map(ts),
        cr.otp_channel.map(|c| c.as_str()),
        i64::from(cr.otp_confirmed),
        cr.totp_key,
        cr.totp_last_step.and_then(|s| i64::try_from(s).ok()),
        cr.locked_at.map(ts),
        cr.failures.encode_failures(),
        i64::from(cr.failures.otp_misses),
        cr.last_login_at.map(ts),
    ])?;
    Ok(())
}

/// Rewrite a profile's editable fields and bump its version.
pub fn update_profile(c: &Connection, p: &UserProfile) -> anyhow::Result<()> {
    c.prepare_cached(
        "UPDATE users SET status = ?2, surname = ?3, other_names = ?4, email = ?5, enable_from = ?6, disable_after = ?7, \
         channel = ?8, limit_cents = ?9, groups = ?10, role = ?11, srn = ?12, cert_expiry = ?13, pin_phc = ?14, \
         version = version + 1 WHERE user_id = ?1",
    )?
    .execute(params![
        p.user_id,
        p.status,
        p.surname,
        p.other_names,
        p.email,
        p.enable_from.map(|d| d.to_string()),
        p.disable_after.map(|d| d.to_string()),
        p.channel,
        p.limit_cents,
        p.groups,
        p.role.as_str(),
        p.srn,
        p.cert_expiry,
        p.pin_phc,
    ])?;
    Ok(())
}

/// Bump the version of a profile whose state changed outside its fields (unlock/reset).
pub fn bump_version(c: &Connection, user_id: &str) -> anyhow::Result<()> {
    c.prepare_cached("UPDATE users SET version = version + 1 WHERE user_id = ?1")?.execute([user_id])?;
    Ok(())
}

/// Delete a profile (credentials, sessions and OTPs go with it) and retire its ID for good.
pub fn delete(c: &Connection, user_id: &str, participant_id: Option<&str>, now: DateTime<Utc>) -> anyhow::Result<()> {
    c.prepare_cached("DELETE FROM users WHERE user_id = ?1")?.execute([user_id])?;
    c.prepare_cached(
        "INSERT OR IGNORE INTO retired_user_ids (user_id, participant_id, retired_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![user_id, participant_id, ts(now)])?;
    Ok(())
}

/// Every ID of a participant ever used (live or retired), for ID generation.
pub fn ids_of_participant(c: &Connection, participant: &str) -> anyhow::Result<std::collections::HashSet<String>> {
    let mut out = std::collections::HashSet::new();
    let mut stmt = c.prepare_cached(
        "SELECT user_id FROM users WHERE participant_id = ?1 UNION ALL SELECT user_id FROM retired_user_ids WHERE participant_id = ?1",
    )?;
    for id in stmt.query_map([participant], |r| r.get::<_, String>(0))? {
        out.insert(id?);
    }
    Ok(out)
}

/// Enabled DA makers and checkers of a participant.
pub fn da_counts(c: &Connection, participant: &str) -> anyhow::Result<crate::domain::maker_checker::DaCounts> {
    let (makers, checkers) = c
        .prepare_cached(
            "SELECT COUNT(*) FILTER (WHERE role = 'maker'), COUNT(*) FILTER (WHERE role = 'checker') \
             FROM users WHERE participant_id = ?1 AND status = 'ENABLED'",
        )?
        .query_row([participant], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(crate::domain::maker_checker::DaCounts { makers, checkers })
}

/// One row of the User Profile Listing.
#[derive(Debug, Clone)]
pub struct ListingRow {
    pub user_id: String,
    pub participant_id: Option<String>,
    pub surname: String,
    pub other_names: String,
    pub email: Option<String>,
    pub status: String,
    pub role: String,
    pub locked: bool,
    pub otp_channel: Option<String>,
    pub otp_confirmed: bool,
    pub enable_from: Option<String>,
    pub disable_after: Option<String>,
    pub channel: String,
    pub limit_cents: i64,
    pub groups: String,
    pub srn: Option<String>,
    pub cert_expiry: Option<String>,
    pub created_at: String,
    pub last_login_at: Option<String>,
    pub password_set_at: Option<String>,
    pub locked_at: Option<String>,
}

/// What the listing selects.
#[derive(Debug, Clone, Default)]
pub struct ListingFilter<'a> {
    /// None: every participant.
    pub participant: Option<&'a str>,
    /// Roles to include (empty: all).
    pub roles: &'a [&'a str],
    pub status: Option<&'a str>,
}

/// Stream the listing in user-ID order without holding it in memory.
pub fn for_each_listing_row(
    c: &Connection,
    f: &ListingFilter<'_>,
    mut each: impl FnMut(ListingRow) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let roles = f.roles.join(",");
    // One statement per scope, not `(?1 IS NULL OR u.participant_id = ?1)`: SQLite plans a
    // statement before it sees the parameter, and for that OR form it walks the whole
    // users_by_participant index (every user of the exchange) to list one participant.
    let scope =
        if f.participant.is_some() { "u.participant_id = ?1" } else { "?1 IS NULL AND u.participant_id IS NOT NULL" };
    let mut stmt = c.prepare_cached(&format!(
        "SELECT u.user_id, u.participant_id, u.surname, u.other_names, u.email, u.status, u.role, \
                c.locked_at IS NOT NULL, c.otp_channel, c.otp_confirmed, u.enable_from, u.disable_after, u.channel, \
                u.limit_cents, u.groups, u.srn, u.cert_expiry, u.created_at, c.last_login_at, c.password_set_at, c.locked_at \
         FROM users u JOIN credentials c USING (user_id) \
         WHERE {scope} \
           AND (?2 = '' OR instr(',' || ?2 || ',', ',' || u.role || ',') > 0) \
           AND (?3 IS NULL OR u.status = ?3) \
         ORDER BY u.participant_id, u.user_id"
    ))?;
    let mut rows = stmt.query(params![f.participant, roles, f.status])?;
    while let Some(r) = rows.next()? {
        each(ListingRow {
            user_id: r.get(0)?,
            participant_id: r.get(1)?,
            surname: r.get(2)?,
            other_names: r.get(3)?,
            email: r.get(4)?,
            status: r.get(5)?,
            role: r.get(6)?,
            locked: r.get(7)?,
            otp_channel: r.get(8)?,
            otp_confirmed: r.get(9)?,
            enable_from: r.get(10)?,
            disable_after: r.get(11)?,
            channel: r.get(12)?,
            limit_cents: r.get(13)?,
            groups: r.get(14)?,
            srn: r.get(15)?,
            cert_expiry: r.get(16)?,
            created_at: r.get(17)?,
            last_login_at: r.get(18)?,
            password_set_at: r.get(19)?,
            locked_at: r.get(20)?,
        })?;
    }
    Ok(())
}

/// E-mail addresses registered on more than one profile (seed 3.1 allows it; auditors look).
pub fn shared_emails(
    c: &Connection,
    participant: Option<&str>,
) -> anyhow::Result<std::collections::HashMap<String, i64>> {
    let mut stmt = c.prepare_cached(
        "SELECT lower(email), COUNT(*) FROM users WHERE email IS NOT NULL AND (?1 IS NULL OR participant_id = ?1) \
         GROUP BY lower(email) HAVING COUNT(*) > 1",
    )?;
    let rows = stmt.query_map([participant], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
