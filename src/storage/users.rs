//! User profiles and their credentials (two tables, one row each per user). Rows are read
//! into the domain's typed [`UserProfile`] and [`Credential`]; a row that does not parse is an
//! error, never a default.

use super::{opt_date, opt_ts, parse_ts, ts};
use crate::domain::account::{Account, Smartcard, UserProfile};
use crate::domain::credentials::{Credential, CredentialRecord};
use crate::domain::lockout::FailureState;
use crate::domain::otp::OtpChannel;
use crate::domain::profile::{AccessChannel, Cents, Functions, Groups, UserStatus};
use crate::domain::role::Role;
use crate::domain::user_id::{ClearingHouse, ParticipantKey, UserId};
use anyhow::Context as _;
use chrono::{DateTime, NaiveDateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::collections::{HashMap, HashSet};

/// How certificate expiry times are stored (Hong Kong time, as the seed shows them).
pub const CERT_EXPIRY_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// The columns of a profile, in the order [`raw_profile`] reads them, and of a credential (from
/// column [`CREDENTIAL_AT`]). Macros, so that the statements built from them are literals: `get` runs once per
/// row of a bulk plan, and formatting its SQL each time (then hashing it to find the cached
/// statement) was measurable.
macro_rules! profile_columns {
    () => {
        "u.user_id, u.participant_id, u.house, u.role, u.status, u.surname, u.other_names, u.email, u.enable_from, \
         u.disable_after, u.channel, u.limit_cents, u.groups, u.srn, u.cert_expiry, u.pin_phc, u.created_at, u.version, \
         EXISTS (SELECT 1 FROM initial_pins i WHERE i.user_id = u.user_id), u.functions"
    };
}
macro_rules! credential_columns {
    () => {
        "c.password_phc, c.password_set_at, c.otp_channel, c.otp_confirmed, c.totp_key, c.totp_last_step, \
         c.locked_at, c.failures, c.otp_misses, c.last_login_at"
    };
}

/// The raw columns of a profile, read without interpretation.
struct RawProfile {
    user_id: String,
    participant_id: Option<String>,
    house: Option<String>,
    role: String,
    status: String,
    surname: String,
    other_names: String,
    email: Option<String>,
    enable_from: Option<String>,
    disable_after: Option<String>,
    channel: String,
    limit_cents: i64,
    groups: String,
    srn: Option<String>,
    cert_expiry: Option<String>,
    pin_phc: Option<String>,
    created_at: String,
    version: i64,
    initial_pin: bool,
    functions: String,
}

/// Where the credential's columns start in a statement of profile and credential columns.
const CREDENTIAL_AT: usize = 20;

fn raw_profile(r: &Row<'_>) -> rusqlite::Result<RawProfile> {
    Ok(RawProfile {
        user_id: r.get(0)?,
        participant_id: r.get(1)?,
        house: r.get(2)?,
        role: r.get(3)?,
        status: r.get(4)?,
        surname: r.get(5)?,
        other_names: r.get(6)?,
        email: r.get(7)?,
        enable_from: r.get(8)?,
        disable_after: r.get(9)?,
        channel: r.get(10)?,
        limit_cents: r.get(11)?,
        groups: r.get(12)?,
        srn: r.get(13)?,
        cert_expiry: r.get(14)?,
        pin_phc: r.get(15)?,
        created_at: r.get(16)?,
        version: r.get(17)?,
        initial_pin: r.get(18)?,
        functions: r.get(19)?,
    })
}

fn participant_key(id: Option<&str>, house: Option<&str>) -> anyhow::Result<Option<ParticipantKey>> {
    match (id, house) {
        (Some(id), Some(house)) => Ok(Some(ParticipantKey::parse(id, ClearingHouse::parse(house)?)?)),
        (None, None) => Ok(None),
        _ => anyhow::bail!("a participant without its house"),
    }
}

fn profile(r: RawProfile) -> anyhow::Result<UserProfile> {
    let id = r.user_id.clone();
    (|| -> anyhow::Result<UserProfile> {
        let smartcard = match (r.srn, r.cert_expiry) {
            (Some(srn), Some(exp)) => Some(Smartcard {
                srn,
                cert_expiry: NaiveDateTime::parse_from_str(&exp, CERT_EXPIRY_FORMAT)
                    .with_context(|| format!("certificate expiry {exp:?}"))?,
                pin_phc: r.pin_phc,
                initial_pin: r.initial_pin,
            }),
            (None, None) => None,
            _ => anyhow::bail!("a smartcard without its certificate expiry"),
        };
        Ok(UserProfile {
            user_id: UserId::parse(&r.user_id)?,
            participant: participant_key(r.participant_id.as_deref(), r.house.as_deref())?,
            role: r.role.parse::<Role>().map_err(anyhow::Error::msg)?,
            status: UserStatus::parse(&r.status)?,
            surname: r.surname,
            other_names: r.other_names,
            email: r.email,
            enable_from: opt_date(r.enable_from)?,
            disable_after: opt_date(r.disable_after)?,
            channel: AccessChannel::parse(&r.channel)?,
            limit: Cents(r.limit_cents),
            groups: Groups::parse(&r.groups)?,
            functions: Functions::parse(&r.functions)?,
            smartcard,
            created_at: parse_ts(&r.created_at)?,
            version: r.version,
        })
    })()
    .with_context(|| format!("user {id}: damaged row"))
}

/// The raw credential columns, starting at `at`.
fn credential(r: &Row<'_>, at: usize) -> rusqlite::Result<anyhow::Result<Credential>> {
    let phc: Option<String> = r.get(at)?;
    let set_at: Option<String> = r.get(at + 1)?;
    let channel: Option<String> = r.get(at + 2)?;
    let confirmed: i64 = r.get(at + 3)?;
    let key: Option<Vec<u8>> = r.get(at + 4)?;
    let last_step: Option<i64> = r.get(at + 5)?;
    let locked: Option<String> = r.get(at + 6)?;
    let failures: String = r.get(at + 7)?;
    let misses: i64 = r.get(at + 8)?;
    let last_login: Option<String> = r.get(at + 9)?;
    Ok((|| -> anyhow::Result<Credential> {
        let record = CredentialRecord {
            password_phc: phc,
            password_set_at: opt_ts(set_at)?,
            otp_channel: channel.as_deref().map(|c| OtpChannel::parse(c).context("OTP channel")).transpose()?,
            otp_confirmed: confirmed != 0,
            totp_key: key,
            totp_last_step: last_step.and_then(|s| u64::try_from(s).ok()),
            locked_at: opt_ts(locked)?,
            failures: FailureState::decode(&failures, u32::try_from(misses).unwrap_or(0)),
            last_login_at: opt_ts(last_login)?,
        };
        Ok(Credential::from_record(record)?)
    })())
}

pub fn get(c: &Connection, user_id: &UserId) -> anyhow::Result<Option<UserProfile>> {
    const SQL: &str = concat!("SELECT ", profile_columns!(), " FROM users u WHERE u.user_id = ?1");
    c.prepare_cached(SQL)?.query_row([user_id.as_str()], raw_profile).optional()?.map(profile).transpose()
}

/// The profiles of many users at once (a bulk request's subjects), by user ID; an ID with no
/// profile is simply absent. One statement that walks the list and looks each ID up, instead
/// of a statement run per ID.
pub fn get_many<'a>(
    c: &Connection,
    ids: impl IntoIterator<Item = &'a UserId>,
) -> anyhow::Result<HashMap<UserId, UserProfile>> {
    const SQL: &str =
        concat!("SELECT ", profile_columns!(), " FROM json_each(?1) j JOIN users u ON u.user_id = j.value");
    let list = serde_json::to_string(&ids.into_iter().map(UserId::as_str).collect::<Vec<_>>())?;
    let mut stmt = c.prepare_cached(SQL)?;
    let mut out = HashMap::new();
    for raw in stmt.query_map([list], raw_profile)? {
        let p = profile(raw?)?;
        out.insert(p.user_id.clone(), p);
    }
    Ok(out)
}

/// A profile with its credential, in one statement.
pub fn account(c: &Connection, user_id: &UserId) -> anyhow::Result<Option<Account>> {
    const SQL: &str = concat!(
        "SELECT ",
        profile_columns!(),
        ", ",
        credential_columns!(),
        " FROM users u JOIN credentials c USING (user_id) WHERE u.user_id = ?1"
    );
    let row = c
        .prepare_cached(SQL)?
        .query_row([user_id.as_str()], |r| Ok((raw_profile(r)?, credential(r, CREDENTIAL_AT)?)))
        .optional()?;
    match row {
        None => Ok(None),
        Some((p, cred)) => Ok(Some(Account {
            profile: profile(p)?,
            cred: cred.with_context(|| format!("user {user_id}: damaged credentials"))?,
        })),
    }
}

/// The password hash alone (for checking a password before the write lock is taken).
pub fn password_phc(c: &Connection, user_id: &UserId) -> anyhow::Result<Option<String>> {
    Ok(c.prepare_cached("SELECT password_phc FROM credentials WHERE user_id = ?1")?
        .query_row([user_id.as_str()], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// The smartcard PIN hash alone (checked before the write lock is taken).
pub fn pin_phc(c: &Connection, user_id: &UserId) -> anyhow::Result<Option<String>> {
    Ok(c.prepare_cached("SELECT pin_phc FROM users WHERE user_id = ?1")?
        .query_row([user_id.as_str()], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// Is this ID in use now, or was it ever (deleted IDs are never reused)?
pub fn id_taken(c: &Connection, user_id: &UserId) -> anyhow::Result<bool> {
    let n: i64 = c
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM users WHERE user_id = ?1) OR EXISTS (SELECT 1 FROM retired_user_ids WHERE user_id = ?1)",
        )?
        .query_row([user_id.as_str()], |r| r.get(0))?;
    Ok(n > 0)
}

/// Every user ID ever used: the users' and the retired ones (IDs are never reused). Read once
/// by the migration instead of one lookup per row.
pub fn all_ids_ever(c: &Connection) -> anyhow::Result<HashSet<String>> {
    let mut stmt = c.prepare_cached("SELECT user_id FROM users UNION ALL SELECT user_id FROM retired_user_ids")?;
    let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(ids.collect::<Result<_, _>>()?)
}

fn smartcard_columns(p: &UserProfile) -> (Option<&str>, Option<String>, Option<&str>) {
    match &p.smartcard {
        Some(s) => (Some(s.srn.as_str()), Some(cert_expiry_column(s.cert_expiry)), s.pin_phc.as_deref()),
        None => (None, None, None),
    }
}

/// [`CERT_EXPIRY_FORMAT`] written out digit by digit: chrono parses its format string on every
/// call and `format!` pads through the formatting machinery, together 6 % of a 100,000-user
/// migration. A time with a fraction (a leap second) or a year beyond four digits goes through
/// chrono as before.
fn cert_expiry_column(t: NaiveDateTime) -> String {
    use chrono::{Datelike as _, Timelike as _};
    let year = match u32::try_from(t.year()) {
        Ok(y) if y <= 9999 && t.nanosecond() == 0 => y,
        _ => return t.format(CERT_EXPIRY_FORMAT).to_string(),
    };
    let mut out = String::with_capacity(19);
    let mut digits = |n: u32, width: u32, then: Option<char>| {
        for p in (0..width).rev() {
            out.push(char::from(b'0' + (n / 10u32.pow(p) % 10) as u8));
        }
        out.extend(then);
    };
    digits(year, 4, Some('-'));
    digits(t.month(), 2, Some('-'));
    digits(t.day(), 2, Some(' '));
    digits(t.hour(), 2, Some(':'));
    digits(t.minute(), 2, Some(':'));
    digits(t.second(), 2, None);
    out
}

/// Does the database hold any profile at all (operators and auditors included)?
pub fn any(c: &Connection) -> anyhow::Result<bool> {
    Ok(c.prepare_cached("SELECT 1 FROM users LIMIT 1")?.exists([])?)
}

pub fn insert(c: &Connection, p: &UserProfile) -> anyhow::Result<()> {
    Inserter::new(c)?.insert(p)
}

/// New profiles (each with its empty credentials row), the statements prepared once for as
/// many as are written: the migration's 100,000 users do not look them up in the statement
/// cache twice per row. [`insert`] is the same for one.
pub struct Inserter<'c> {
    user: rusqlite::CachedStatement<'c>,
    credential: rusqlite::CachedStatement<'c>,
    /// The last creation time written, formatted: a migration's rows all share one.
    created: Option<(DateTime<Utc>, String)>,
}

impl<'c> Inserter<'c> {
    pub fn new(c: &'c Connection) -> anyhow::Result<Inserter<'c>> {
        Ok(Inserter {
            user: c.prepare_cached(
                "INSERT INTO users (user_id, participant_id, house, role, status, surname, other_names, email, \
                 enable_from, disable_after, channel, limit_cents, groups, srn, cert_expiry, pin_phc, created_at, \
                 version, functions) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
            )?,
            credential: c.prepare_cached("INSERT INTO credentials (user_id) VALUES (?1)")?,
            created: None,
        })
    }

    pub fn insert(&mut self, p: &UserProfile) -> anyhow::Result<()> {
        let (srn, expiry, pin) = smartcard_columns(p);
        if self.created.as_ref().is_none_or(|(t, _)| *t != p.created_at) {
            self.created = Some((p.created_at, ts(p.created_at)));
        }
        let created = self.created.as_ref().map(|(_, s)| s.as_str());
        self.user.execute(params![
            p.user_id.as_str(),
            p.participant.as_ref().map(|k| k.id()),
            p.participant.as_ref().map(|k| k.house.as_str()),
            p.role.as_str(),
            p.status.as_str(),
            p.surname,
            p.other_names,
            p.email,
            p.enable_from.map(|d| d.to_string()),
            p.disable_after.map(|d| d.to_string()),
            p.channel.as_str(),
            p.limit.0,
            p.groups.spaced(),
            srn,
            expiry,
            pin,
            created,
            p.version,
            p.functions.spaced(),
        ])?;
        self.credential.execute([p.user_id.as_str()])?;
        Ok(())
    }
}

pub fn save_credential(c: &Connection, user_id: &UserId, cred: &Credential) -> anyhow::Result<()> {
    let r = cred.to_record();
    c.prepare_cached(
        "UPDATE credentials SET password_phc = ?2, password_set_at = ?3, otp_channel = ?4, otp_confirmed = ?5, \
         totp_key = ?6, totp_last_step = ?7, locked_at = ?8, failures = ?9, otp_misses = ?10, last_login_at = ?11 \
         WHERE user_id = ?1",
    )?
    .execute(params![
        user_id.as_str(),
        r.password_phc,
        r.password_set_at.map(ts),
        r.otp_channel.map(|c| c.as_str()),
        i64::from(r.otp_confirmed),
        r.totp_key,
        r.totp_last_step.and_then(|s| i64::try_from(s).ok()),
        r.locked_at.map(ts),
        r.failures.encode_failures(),
        i64::from(r.failures.otp_misses),
        r.last_login_at.map(ts),
    ])?;
    Ok(())
}

/// Rewrite a profile's fields and bump its version (a pending request about it is now stale).
pub fn update_profile(c: &Connection, p: &UserProfile) -> anyhow::Result<()> {
    let (srn, expiry, pin) = smartcard_columns(p);
    c.prepare_cached(
        "UPDATE users SET status = ?2, surname = ?3, other_names = ?4, email = ?5, enable_from = ?6, disable_after = ?7, \
         channel = ?8, limit_cents = ?9, groups = ?10, role = ?11, srn = ?12, cert_expiry = ?13, pin_phc = ?14, \
         functions = ?15, version = version + 1 WHERE user_id = ?1",
    )?
    .execute(params![
        p.user_id.as_str(),
        p.status.as_str(),
        p.surname,
        p.other_names,
        p.email,
        p.enable_from.map(|d| d.to_string()),
        p.disable_after.map(|d| d.to_string()),
        p.channel.as_str(),
        p.limit.0,
        p.groups.spaced(),
        p.role.as_str(),
        srn,
        expiry,
        pin,
        p.functions.spaced(),
    ])?;
    Ok(())
}

/// Bump the version of a profile whose state changed outside its fields (unlock/reset).
/// Set (or clear) the holder's own smartcard PIN. Not a profile change: the version stays, so
/// a pending request about the holder does not go stale because it chose its PIN.
pub fn set_pin_phc(c: &Connection, user_id: &UserId, pin_phc: Option<&str>) -> anyhow::Result<()> {
    c.prepare_cached("UPDATE users SET pin_phc = ?2 WHERE user_id = ?1")?
        .execute(params![user_id.as_str(), pin_phc])?;
    Ok(())
}

pub fn bump_version(c: &Connection, user_id: &UserId) -> anyhow::Result<()> {
    c.prepare_cached("UPDATE users SET version = version + 1 WHERE user_id = ?1")?.execute([user_id.as_str()])?;
    Ok(())
}

/// Delete a profile (credentials, sessions and OTPs go with it) and retire its ID for good.
pub fn delete(c: &Connection, p: &UserProfile, now: DateTime<Utc>) -> anyhow::Result<()> {
    c.prepare_cached("DELETE FROM users WHERE user_id = ?1")?.execute([p.user_id.as_str()])?;
    c.prepare_cached(
        "INSERT OR IGNORE INTO retired_user_ids (user_id, participant_id, retired_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![p.user_id.as_str(), p.participant_id(), ts(now)])?;
    Ok(())
}

/// Every ID of a participant ever used (live or retired), for ID generation. Retired IDs are
/// kept by participant ID only, which both houses of one customer code share; their ID spaces
/// never overlap, so that is enough.
pub fn ids_of_participant(c: &Connection, p: &ParticipantKey) -> anyhow::Result<HashSet<String>> {
    let mut out = HashSet::new();
    let mut stmt = c.prepare_cached(
        "SELECT user_id FROM users WHERE participant_id = ?1 UNION ALL SELECT user_id FROM retired_user_ids WHERE participant_id = ?1",
    )?;
    for id in stmt.query_map([p.id()], |r| r.get::<_, String>(0))? {
        out.insert(id?);
    }
    Ok(out)
}

/// Every registered address of a participant's users, with whose it is.
pub fn emails_of_participant(c: &Connection, p: &ParticipantKey) -> anyhow::Result<Vec<(String, String)>> {
    let mut stmt = c.prepare_cached(
        "SELECT user_id, email FROM users WHERE participant_id = ?1 AND house = ?2 AND email IS NOT NULL",
    )?;
    let rows = stmt.query_map(params![p.id(), p.house.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The DAs of a participant (any status), with their credentials, in user-ID order: what the
/// DA minimum and the notices to checkers are decided on (`domain::maker_checker`).
pub fn das(c: &Connection, p: &ParticipantKey) -> anyhow::Result<Vec<Account>> {
    const SQL: &str = concat!(
        "SELECT ",
        profile_columns!(),
        ", ",
        credential_columns!(),
        " FROM users u JOIN credentials c USING (user_id) WHERE u.participant_id = ?1 AND u.house = ?2 \
         AND u.role IN ('maker', 'checker') ORDER BY u.user_id"
    );
    let mut stmt = c.prepare_cached(SQL)?;
    let rows = stmt.query_map([p.id(), p.house.as_str()], |r| Ok((raw_profile(r)?, credential(r, CREDENTIAL_AT)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (raw, cred) = row?;
        let profile = profile(raw)?;
        let cred = cred.with_context(|| format!("user {}: damaged credentials", profile.user_id))?;
        out.push(Account { profile, cred });
    }
    Ok(out)
}

/// One row of the User Profile Listing.
#[derive(Debug, Clone)]
pub struct ListingRow {
    pub user_id: String,
    pub participant_id: Option<String>,
    pub house: Option<String>,
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
    /// Space-separated keys of `profile::FUNCTIONS`.
    pub functions: String,
}

/// What the listing selects.
#[derive(Debug, Clone, Default)]
pub struct ListingFilter<'a> {
    /// None: every participant.
    pub participant: Option<&'a ParticipantKey>,
    /// Roles to include (empty: all).
    pub roles: &'a [&'a str],
    pub status: Option<&'a str>,
    /// Text found, ignoring case, in the user ID, the names or the e-mail address.
    pub search: Option<&'a str>,
    /// Words found, ignoring case and order, in the user name (`profile::name_matches`): the
    /// seed's Enquire → List.
    pub name: Option<&'a str>,
    /// Only locked accounts.
    pub locked: bool,
    /// Only accounts whose confirmed OTP channel is this (`app`, `email`), or `none`: not yet
    /// initialised.
    pub otp: Option<&'a str>,
    /// Only accounts without a sign-in since this time (never signed in: created before it).
    pub inactive_since: Option<DateTime<Utc>>,
}

impl ListingFilter<'_> {
    /// The text filters, which SQLite's ASCII-only `lower()` cannot judge for names such as
    /// `ÉLODIE`: Unicode lower case on both sides.
    fn text_matches(&self, r: &ListingRow) -> bool {
        let has = |hay: &str, needle: &str| hay.to_lowercase().contains(&needle.to_lowercase());
        let name = |q: &str| crate::domain::profile::name_matches(&r.surname, &r.other_names, q);
        self.search.is_none_or(|q| has(&r.user_id, q) || name(q) || r.email.as_deref().is_some_and(|e| has(e, q)))
            && self.name.is_none_or(name)
    }
}

/// Times as the listing shows them, converted by SQLite as it reads them (100,000 rows stay
/// cheap): Hong Kong time with its offset, as `output::time` writes it.
const HK: &str = "strftime('%Y-%m-%dT%H:%M:%S+08:00',";

/// Stream the listing in user-ID order without holding it in memory. Its times are in Hong
/// Kong time with their offset (`2026-11-23T10:00:00+08:00`).
pub fn for_each_listing_row(
    c: &Connection,
    f: &ListingFilter<'_>,
    mut each: impl FnMut(ListingRow) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let roles = f.roles.join(",");
    // One statement per scope, not `(?1 IS NULL OR u.participant_id = ?1)`: SQLite plans a
    // statement before it sees the parameter, and for that OR form it walks the whole
    // users_by_participant index (every user of the exchange) to list one participant.
    let scope = if f.participant.is_some() {
        "u.participant_id = ?1 AND u.house = ?4"
    } else {
        "?1 IS NULL AND ?4 IS NULL AND u.participant_id IS NOT NULL"
    };
    let mut stmt = c.prepare_cached(&format!(
        "SELECT u.user_id, u.participant_id, u.house, u.surname, u.other_names, u.email, u.status, u.role, \
                c.locked_at IS NOT NULL, c.otp_channel, c.otp_confirmed, u.enable_from, u.disable_after, u.channel, \
                u.limit_cents, u.groups, u.srn, u.cert_expiry, {HK} u.created_at, '+8 hours'), {HK} c.last_login_at, '+8 hours'), \
                {HK} c.password_set_at, '+8 hours'), {HK} c.locked_at, '+8 hours'), u.functions \
         FROM users u JOIN credentials c USING (user_id) \
         WHERE {scope} \
           AND (?2 = '' OR instr(',' || ?2 || ',', ',' || u.role || ',') > 0) \
           AND (?3 IS NULL OR u.status = ?3) \
           AND (?5 = 0 OR c.locked_at IS NOT NULL) \
           AND (?6 IS NULL OR (?6 = 'none' AND NOT c.otp_confirmed) OR (c.otp_confirmed AND c.otp_channel = ?6)) \
           AND (?7 IS NULL OR coalesce(c.last_login_at, u.created_at) <= ?7) \
         ORDER BY u.participant_id, u.house, u.user_id"
    ))?;
    let mut rows = stmt.query(params![
        f.participant.map(|p| p.id()),
        roles,
        f.status,
        f.participant.map(|p| p.house.as_str()),
        f.locked,
        f.otp,
        f.inactive_since.map(ts),
    ])?;
    while let Some(r) = rows.next()? {
        let row = ListingRow {
            user_id: r.get(0)?,
            participant_id: r.get(1)?,
            house: r.get(2)?,
            surname: r.get(3)?,
            other_names: r.get(4)?,
            email: r.get(5)?,
            status: r.get(6)?,
            role: r.get(7)?,
            locked: r.get(8)?,
            otp_channel: r.get(9)?,
            otp_confirmed: r.get(10)?,
            enable_from: r.get(11)?,
            disable_after: r.get(12)?,
            channel: r.get(13)?,
            limit_cents: r.get(14)?,
            groups: r.get(15)?,
            srn: r.get(16)?,
            cert_expiry: r.get(17)?,
            created_at: r.get(18)?,
            last_login_at: r.get(19)?,
            password_set_at: r.get(20)?,
            locked_at: r.get(21)?,
            functions: r.get(22)?,
        };
        if f.text_matches(&row) {
            each(row)?;
        }
    }
    Ok(())
}

/// E-mail addresses registered on more than one profile (seed 3.1 allows it; auditors look).
pub fn shared_emails(c: &Connection, participant: Option<&ParticipantKey>) -> anyhow::Result<HashMap<String, i64>> {
    let sql = if participant.is_some() {
        "SELECT lower(email), COUNT(*) FROM users WHERE email IS NOT NULL AND participant_id = ?1 AND house = ?2 \
         GROUP BY lower(email) HAVING COUNT(*) > 1"
    } else {
        "SELECT lower(email), COUNT(*) FROM users WHERE email IS NOT NULL AND ?1 IS NULL AND ?2 IS NULL \
         GROUP BY lower(email) HAVING COUNT(*) > 1"
    };
    let mut stmt = c.prepare_cached(sql)?;
    let rows = stmt.query_map(params![participant.map(|p| p.id()), participant.map(|p| p.house.as_str())], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_out_certificate_expiry_is_chronos_format() {
        let at = |s: &str| NaiveDateTime::parse_from_str(s, CERT_EXPIRY_FORMAT).expect("time");
        for s in ["2030-12-31 23:59:59", "2026-01-05 00:00:00", "0999-02-03 04:05:06", "9999-12-31 23:59:59"] {
            assert_eq!(cert_expiry_column(at(s)), s);
            assert_eq!(cert_expiry_column(at(s)), at(s).format(CERT_EXPIRY_FORMAT).to_string());
        }
        // A leap second (a fraction) and a year of five digits still go through chrono.
        let leap = at("2030-12-31 23:59:59") + chrono::Duration::milliseconds(1500);
        assert_eq!(cert_expiry_column(leap), leap.format(CERT_EXPIRY_FORMAT).to_string());
        let far = chrono::NaiveDate::from_ymd_opt(10000, 1, 1).expect("date").and_hms_opt(0, 0, 0).expect("t");
        assert_eq!(cert_expiry_column(far), far.format(CERT_EXPIRY_FORMAT).to_string());
    }
}
