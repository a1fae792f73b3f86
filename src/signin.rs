//! Sign-in rules applied to stored accounts: the gate every attempt passes (lock, status,
//! dates, service hours), failure counting and lockout, and factor checks (password, TOTP,
//! e-mail OTP). Functions take the open transaction and `now`; an outcome the user must be
//! told about *after* it is committed (a failure is recorded, then reported) comes back as
//! `Outcome::Err` inside an `Ok`.

use crate::crypto::{self, MasterKey, SecureRng};
use crate::domain::hours;
use crate::domain::lockout::AfterFailure;
use crate::domain::otp::{self, OtpChannel};
use crate::domain::profile;
use crate::error::{auth, locked, DmsError};
use crate::mail;
use crate::storage::users::{self, Credentials, UserProfile};
use crate::storage::{audit, calendar, otps, sessions, settings};
use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::Connection;
use serde_json::json;

/// A check whose result must be committed before it is reported.
pub type Outcome<T> = Result<T, DmsError>;

/// A user profile with its credentials.
#[derive(Debug, Clone)]
pub struct Account {
    pub profile: UserProfile,
    pub cred: Credentials,
}

impl Account {
    pub fn id(&self) -> &str {
        &self.profile.user_id
    }

    pub fn participant(&self) -> Option<&str> {
        self.profile.participant_id.as_deref()
    }

    /// 2FA initialised: password set and OTP channel confirmed.
    pub fn initialised(&self) -> bool {
        self.cred.otp_confirmed && self.cred.password_phc.is_some()
    }

    /// Append an audit row of something this account did to itself.
    pub fn audit(
        &self,
        c: &Connection,
        now: DateTime<Utc>,
        action: &str,
        detail: serde_json::Value,
    ) -> anyhow::Result<()> {
        audit::append(
            c,
            now,
            &audit::Event {
                actor: Some(self.id()),
                action,
                subject: Some(self.id()),
                participant_id: self.participant(),
                detail: detail.to_string(),
            },
        )?;
        Ok(())
    }

    /// Start registering an authenticator app: a fresh 160-bit key, sealed into the pending
    /// credentials. Returns the key URI to show once; the first accepted code confirms it.
    pub fn begin_app_registration(
        &mut self,
        key: &MasterKey,
        rng: &mut SecureRng,
    ) -> anyhow::Result<zeroize::Zeroizing<String>> {
        let secret = zeroize::Zeroizing::new(rng.bytes::<{ otp::TOTP_KEY_BYTES }>());
        self.cred.totp_key = Some(key.seal(&self.profile.user_id, &secret[..], rng)?);
        self.cred.totp_last_step = None;
        self.cred.otp_channel = Some(OtpChannel::App);
        self.cred.otp_confirmed = false;
        let uri = otp::key_uri(&secret[..], &self.profile.user_id)
            .ok_or_else(|| anyhow::anyhow!("cannot build the key URI"))?;
        Ok(zeroize::Zeroizing::new(uri))
    }
}

pub fn hkt(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    hours::hong_kong(t)
}

/// "Mon 23-Nov-2026 10:05 HKT".
pub fn show_time(t: DateTime<Utc>) -> String {
    hkt(t).format("%a %d-%b-%Y %H:%M HKT").to_string()
}

pub fn load(c: &Connection, user_id: &str) -> anyhow::Result<Option<Account>> {
    let Some(profile) = users::get(c, user_id)? else { return Ok(None) };
    let cred = users::credentials(c, user_id)?.unwrap_or_default();
    Ok(Some(Account { profile, cred }))
}

/// Load an account for a sign-in step; an unknown ID is an authentication failure, recorded
/// in the audit trail like any other attempt.
pub fn load_for_signin(
    c: &Connection,
    user_id: &str,
    now: DateTime<Utc>,
    step: &str,
) -> anyhow::Result<Outcome<Account>> {
    match load(c, user_id)? {
        Some(a) => Ok(Ok(a)),
        None => {
            audit::append(
                c,
                now,
                &audit::Event {
                    action: "signin.unknown-user",
                    subject: Some(user_id),
                    detail: json!({ "step": step }).to_string(),
                    ..Default::default()
                },
            )?;
            Ok(Err(auth(format!("unknown user ID {user_id}"))))
        }
    }
}

/// The message for a locked account: what happened and who can unlock it.
pub fn locked_message(a: &Account) -> String {
    format!("account {} is locked after repeated unsuccessful sign-ins; {}", a.id(), a.profile.role.unlocked_by())
}

/// Every sign-in or self-service attempt passes this gate first: locked, disabled, outside the
/// profile's dates, or outside service hours (SPEC §3) all refuse with exit 4.
pub fn gate(c: &Connection, a: &Account, now: DateTime<Utc>) -> anyhow::Result<Outcome<()>> {
    if a.cred.locked_at.is_some() {
        return Ok(Err(locked(locked_message(a))));
    }
    if !a.profile.enabled() {
        return Ok(Err(locked(format!(
            "account {} is disabled; {}",
            a.id(),
            a.profile.role.unlocked_by().replace("unlock", "enable")
        ))));
    }
    let today = hkt(now).date_naive();
    if !profile::within_dates(a.profile.enable_from, a.profile.disable_after, today) {
        let from = a.profile.enable_from.map(profile::format_date).unwrap_or_else(|| "-".into());
        let to = a.profile.disable_after.map(profile::format_date).unwrap_or_else(|| "-".into());
        return Ok(Err(locked(format!("account {} may sign in only from {from} to {to}", a.id()))));
    }
    if let Err(closed) = service_hours(c, a.profile.role.audience(), now)? {
        return Ok(Err(closed));
    }
    Ok(Ok(()))
}

/// Service hours for an audience, unless the database turns them off.
pub fn service_hours(c: &Connection, audience: hours::Audience, now: DateTime<Utc>) -> anyhow::Result<Outcome<()>> {
    if settings::get_or_default(c, "service-hours")? != "on" {
        return Ok(Ok(()));
    }
    let hols = calendar::holidays(c)?;
    Ok(hours::check(audience, now, &|d| hols.contains(&d)).map_err(|closed| locked(closed.to_string())))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    Password,
    Otp,
    /// A checker's authorisation code (password + OTP at approval).
    AuthorisationCode,
}

/// Record a failed attempt, lock the account when the rule says so, and return the error to
/// report once this is committed.
pub fn fail(
    c: &Connection,
    a: &mut Account,
    now: DateTime<Utc>,
    factor: Factor,
    what: &str,
) -> anyhow::Result<DmsError> {
    let after = match factor {
        Factor::Password | Factor::AuthorisationCode => a.cred.failures.record_failure(now),
        Factor::Otp => a.cred.failures.record_otp_miss(now),
    };
    let action = match factor {
        Factor::Password => "signin.fail.password",
        Factor::Otp => "signin.fail.otp",
        Factor::AuthorisationCode => "authorisation.fail",
    };
    audit::append(
        c,
        now,
        &audit::Event {
            actor: Some(a.id()),
            action,
            subject: Some(a.id()),
            participant_id: a.participant(),
            detail: json!({ "step": what }).to_string(),
        },
    )?;
    if after == AfterFailure::Locked {
        a.cred.locked_at = Some(now);
        a.cred.failures.reset();
        sessions::end_all_for_user(c, a.id(), None, now, "locked")?;
        audit::append(
            c,
            now,
            &audit::Event {
                actor: None,
                action: "account.locked",
                subject: Some(a.id()),
                participant_id: a.participant(),
                detail: json!({ "rule": "5 unsuccessful sign-ins within 30 minutes" }).to_string(),
            },
        )?;
        users::save_credentials(c, a.id(), &a.cred)?;
        return Ok(locked(format!("{}: {}", wrong(factor), locked_message(a))));
    }
    users::save_credentials(c, a.id(), &a.cred)?;
    Ok(auth(wrong(factor).to_string()))
}

fn wrong(f: Factor) -> &'static str {
    match f {
        Factor::Password => "wrong password",
        Factor::Otp => "wrong, expired or already used one-time password",
        Factor::AuthorisationCode => "wrong authorisation code",
    }
}

pub fn password_matches(a: &Account, password: &str) -> bool {
    a.cred.password_phc.as_deref().is_some_and(|phc| crypto::verify_secret(password, phc))
}

/// Which OTP a user would enter now, if any.
pub fn otp_kind(a: &Account) -> Option<OtpChannel> {
    a.cred.otp_channel
}

/// Check an OTP of the account's channel (a pending app key counts: the first accepted code
/// confirms the device). On success the code is spent (TOTP step remembered, e-mail OTP
/// marked used) in `a.cred` / the table; the caller saves `a.cred`.
pub fn check_otp(
    c: &Connection,
    key: &MasterKey,
    a: &mut Account,
    channel: OtpChannel,
    code: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    match channel {
        OtpChannel::App => {
            let Some(sealed) = a.cred.totp_key.as_deref() else { return Ok(false) };
            let secret = key.open(a.id(), sealed)?;
            let unix = u64::try_from(now.timestamp()).unwrap_or(0);
            match otp::verify_totp(&secret, code, unix, a.cred.totp_last_step) {
                Ok(step) => {
                    a.cred.totp_last_step = Some(step);
                    Ok(true)
                }
                Err(_) => Ok(false),
            }
        }
        OtpChannel::Email => {
            let stored = otps::get(c, a.id())?;
            if otp::email_otp_usable(stored.as_ref().map(|s| &s.issued), now).is_err() {
                return Ok(false);
            }
            let Some(stored) = stored else { return Ok(false) };
            if !crypto::ct_eq(&key.otp_hash(a.id(), code), &stored.code_hash) {
                return Ok(false);
            }
            otps::mark_used(c, a.id(), now)?;
            Ok(true)
        }
    }
}

/// Draw a fresh 8-digit e-mail OTP, store its keyed hash, and build the mail. The caller
/// sends the mail before committing, so a code is never stored without being delivered.
pub fn issue_email_otp(
    c: &Connection,
    key: &MasterKey,
    rng: &mut SecureRng,
    a: &Account,
    now: DateTime<Utc>,
    requested: bool,
) -> anyhow::Result<mail::Mail> {
    let email = a
        .profile
        .email
        .clone()
        .ok_or_else(|| crate::error::not_permitted(format!("{} has no registered e-mail address", a.id())))?;
    let code = zeroize::Zeroizing::new(loop {
        if let Some(c) = otp::email_otp_from_random(rng.next_u64()) {
            break c;
        }
    });
    otps::put(c, a.id(), &key.otp_hash(a.id(), &code), now, requested)?;
    audit::append(
        c,
        now,
        &audit::Event {
            actor: Some(a.id()),
            action: "otp.email.sent",
            subject: Some(a.id()),
            participant_id: a.participant(),
            detail: json!({ "requested": requested }).to_string(),
        },
    )?;
    Ok(mail::otp_mail(&email, &code))
}

/// "a***@abc.com.hk": enough to recognise one's address, not to harvest it.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// A password checked before the write transaction opens, so argon2 never runs while the
/// database is locked for writing.
pub struct PasswordCheck {
    pub user_id: String,
    pub ok: bool,
    /// The hash it was checked against (if it changes meanwhile, the check is void).
    pub phc: Option<String>,
}

pub fn check_password_unlocked(
    store: &mut crate::storage::Store,
    user_id: &str,
    password: &str,
) -> anyhow::Result<PasswordCheck> {
    let tx = store.read()?;
    let phc = users::credentials(&tx, user_id)?.and_then(|c| c.password_phc);
    drop(tx);
    let ok = phc.as_deref().is_some_and(|p| crypto::verify_secret(password, p));
    Ok(PasswordCheck { user_id: user_id.to_string(), ok, phc })
}

/// The authorisation code of a checker (seed Appendix A f): the checker's password, checked
/// beforehand, and a fresh OTP, checked now. A wrong code counts against the checker like a
/// failed sign-in. Returns the checker's account.
pub fn authorise(
    c: &Connection,
    key: &MasterKey,
    pw: &PasswordCheck,
    code: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Outcome<Account>> {
    let Some(mut a) = load(c, &pw.user_id)? else {
        return Ok(Err(auth(format!("unknown checker ID {}", pw.user_id))));
    };
    if let Err(e) = gate(c, &a, now)? {
        return Ok(Err(e));
    }
    let Some(channel) = a.cred.otp_channel.filter(|_| a.initialised()) else {
        return Ok(Err(crate::error::not_permitted(format!(
            "checker {} has not initialised 2FA and cannot authorise yet",
            a.id()
        ))));
    };
    if a.cred.password_phc != pw.phc {
        return Ok(Err(auth("the checker's password changed while authorising: try again")));
    }
    if !pw.ok {
        return Ok(Err(fail(c, &mut a, now, Factor::AuthorisationCode, "authorisation")?));
    }
    let digits = if channel == OtpChannel::App { otp::TOTP_DIGITS as usize } else { otp::EMAIL_OTP_DIGITS };
    if !otp::is_code_shaped(code, digits) {
        return Ok(Err(crate::error::invalid(format!("--otp: the checker's one-time password is {digits} digits"))));
    }
    if !check_otp(c, key, &mut a, channel, code, now)? {
        return Ok(Err(fail(c, &mut a, now, Factor::Otp, "authorisation")?));
    }
    a.cred.failures.reset();
    users::save_credentials(c, a.id(), &a.cred)?;
    Ok(Ok(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_email() {
        assert_eq!(mask_email("chan.taiman@abc.com.hk"), "c***@abc.com.hk");
        assert_eq!(mask_email("x"), "***");
    }
}
