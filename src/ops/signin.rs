//! Sign-in, on one path: load the account, pass the gate, check each factor, count failures,
//! open a session. Every sign-in, self-service step and authorisation code comes through the
//! functions here.
//!
//! Passwords and PINs are checked with argon2 *before* the write transaction ([`check_secret`]
//! gives a [`Checked`]); inside it, the stored hash is compared with the one that was checked,
//! so the write lock is never held across the hash and a hash that changed meanwhile voids the
//! check.

use crate::crypto;
use crate::domain::account::Account;
use crate::domain::credentials::Factor;
use crate::domain::gate::{self, Act, Method};
use crate::domain::lockout::AfterFailure;
use crate::domain::otp::{self, OtpChannel};
use crate::domain::user_id::UserId;
use crate::error::{auth, conflict, invalid, not_permitted, DmsError};
use crate::ops::work::Work;
use crate::storage::{audit, otps, sessions, users};
use chrono::{DateTime, FixedOffset, Utc};
use serde_json::json;
use zeroize::Zeroizing;

pub fn hkt(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    crate::domain::hours::hong_kong(t)
}

/// "Mon 23-Nov-2026 10:05 HKT".
pub fn show_time(t: DateTime<Utc>) -> String {
    hkt(t).format("%a %d-%b-%Y %H:%M HKT").to_string()
}

/// Which stored secret a [`Checked`] was checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    Password,
    SmartcardPin,
}

/// A password or PIN checked with argon2 before the write lock was taken.
#[derive(Debug, Clone)]
pub struct Checked {
    pub user_id: UserId,
    pub secret: Secret,
    /// The hash it was checked against (if it changes meanwhile, the check is void).
    phc: Option<String>,
    pub ok: bool,
}

/// A hash to burn the same time on when there is nothing to check against, so the time an
/// answer takes does not tell whether an account exists or has a password.
const DECOY_PHC: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$ZG1zLWRlY295LXNhbHQ$Qj1x3zmXeWeP/G0zw7nDkxP1QnCWeWkfkw2t5n9Bv1E";

/// Check `secret` against the stored hash, outside any transaction.
pub fn check_secret(c: &rusqlite::Connection, user: &UserId, which: Secret, secret: &str) -> anyhow::Result<Checked> {
    let phc = match which {
        Secret::Password => users::password_phc(c, user)?,
        Secret::SmartcardPin => users::pin_phc(c, user)?,
    };
    let ok = match &phc {
        Some(p) => crypto::verify_secret(secret, p),
        None => {
            let _ = crypto::verify_secret(secret, DECOY_PHC);
            false
        }
    };
    Ok(Checked { user_id: user.clone(), secret: which, phc, ok })
}

impl Checked {
    /// Does the stored hash still match the one that was checked?
    pub fn current(&self, a: &Account) -> bool {
        let stored = match self.secret {
            Secret::Password => a.cred.password_phc(),
            Secret::SmartcardPin => a.profile.smartcard.as_ref().and_then(|s| s.pin_phc.as_deref()),
        };
        stored == self.phc.as_deref() && a.id() == &self.user_id
    }
}

/// What an ID with no account (or none with a registered e-mail address) is answered as, so
/// `otp request` and `password reset` cannot tell it from a real one (SPEC §3): a business
/// user (or a DA, or an operator, by the ID's shape) with no credentials yet. It passes the
/// same gate, so service hours and the timeline answer alike.
pub fn phantom(user: &UserId, now: DateTime<Utc>) -> Account {
    use crate::domain::user_id::{self, ClearingHouse, ParticipantKey};
    let (role, participant) = if user_id::is_operator_id(user) {
        (crate::domain::role::Role::Operator, None)
    } else {
        let role = if user_id::looks_like_da(user) {
            crate::domain::role::Role::Maker
        } else {
            crate::domain::role::Role::User
        };
        (role, ParticipantKey::parse(&user.as_str()[..6], ClearingHouse::HkscCp).ok())
    };
    let profile = crate::domain::account::UserProfile::new(user.clone(), participant, role, "-", "-", Some("-"), now);
    Account { profile, cred: crate::domain::credentials::Credential::default() }
}

/// Load an account for a sign-in step; an unknown ID is an authentication failure, recorded
/// in the audit trail like any other attempt.
pub fn load(w: &mut Work<'_>, user: &UserId, step: &str) -> anyhow::Result<Account> {
    match users::account(&w.tx, user)? {
        Some(a) => Ok(a),
        None => {
            w.audit(&audit::Event {
                action: "signin.unknown-user",
                subject: Some(user.as_str()),
                detail: json!({ "step": step }).to_string(),
                ..Default::default()
            })?;
            Err(auth(format!("unknown user ID {user}")).recorded().into())
        }
    }
}

/// The gate (SPEC §3) for a sign-in or self-service step; a refusal is audited.
pub fn gate(w: &mut Work<'_>, a: &Account, act: Act, step: &str) -> anyhow::Result<()> {
    let now = w.now;
    let refused = gate::may_act(a, act, w.policy()?, now).err();
    match refused {
        None => Ok(()),
        Some(r) => {
            let e = DmsError::from(r);
            audit_self(w, a, "signin.refused", json!({ "step": step, "reason": e.message }))?;
            Err(e.recorded().into())
        }
    }
}

/// Append an audit row of something an account did to itself.
pub fn audit_self(w: &Work<'_>, a: &Account, action: &str, detail: serde_json::Value) -> anyhow::Result<()> {
    w.audit(&audit::Event {
        actor: Some(a.id().as_str()),
        action,
        subject: Some(a.id().as_str()),
        participant_id: a.profile.participant_id(),
        detail: detail.to_string(),
    })
}

/// Record a wrong secret: count it, lock the account when the rule says so (its sessions end),
/// and return the error to report once this is committed.
pub fn fail(w: &mut Work<'_>, a: &mut Account, factor: Factor, step: &str) -> anyhow::Result<anyhow::Error> {
    fail_saying(w, a, factor, step, factor.wrong())
}

/// [`fail`], telling the user `what` was wrong.
pub fn fail_saying(
    w: &mut Work<'_>,
    a: &mut Account,
    factor: Factor,
    step: &str,
    what: &str,
) -> anyhow::Result<anyhow::Error> {
    let after = a.cred.record_failure(w.now, factor);
    let action = match factor {
        Factor::Password => "signin.fail.password",
        Factor::Otp => "signin.fail.otp",
        Factor::Pin => "signin.fail.pin",
        Factor::AuthorisationCode => "authorisation.fail",
    };
    audit_self(w, a, action, json!({ "step": step }))?;
    users::save_credential(&w.tx, a.id(), &a.cred)?;
    if after == AfterFailure::Locked {
        sessions::end_all_for_user(&w.tx, a.id(), None, w.now, "locked")?;
        w.audit(&audit::Event {
            action: "account.locked",
            subject: Some(a.id().as_str()),
            participant_id: a.profile.participant_id(),
            detail: json!({ "rule": "5 unsuccessful sign-ins within 30 minutes" }).to_string(),
            ..Default::default()
        })?;
        let locked = DmsError::from(gate::Refusal::Locked { user: a.id().to_string(), role: a.role() });
        return Ok(locked.prefixed(what).recorded().into());
    }
    Ok(auth(what).recorded().into())
}

/// Why a one-time password was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// Wrong, expired, or none outstanding.
    Wrong,
    /// The app's code of a step already used: wait for the next one.
    Replayed,
}

impl Miss {
    pub fn says(self) -> &'static str {
        match self {
            Miss::Wrong => Factor::Otp.wrong(),
            Miss::Replayed => "that code was already used (each code is accepted once): wait for the app's next code",
        }
    }
}

/// A password or PIN checked beforehand: void if the hash changed meanwhile, a counted
/// failure if wrong.
pub fn verify_checked(
    w: &mut Work<'_>,
    a: &mut Account,
    checked: &Checked,
    factor: Factor,
    step: &str,
) -> anyhow::Result<()> {
    if !checked.current(a) {
        return Err(conflict("the password or PIN changed while this command ran: try again").into());
    }
    if !checked.ok {
        return Err(fail(w, a, factor, step)?);
    }
    Ok(())
}

/// Is this text shaped like an OTP of the channel at all? A typo is invalid input, not a
/// failed attempt.
pub fn check_code_shape(code: &str, channel: OtpChannel) -> anyhow::Result<()> {
    let (digits, from) = match channel {
        OtpChannel::App => (otp::TOTP_DIGITS as usize, "the authenticator app"),
        OtpChannel::Email => (otp::EMAIL_OTP_DIGITS, "the e-mail"),
    };
    if otp::is_code_shaped(code, digits) {
        Ok(())
    } else {
        Err(invalid(format!("--otp: a one-time password from {from} is {digits} digits")).into())
    }
}

/// A code of either shape (6 digits from an app, 8 from an e-mail), where the shape must not
/// tell which the account uses (Forgot/Reset).
pub fn check_any_code_shape(code: &str) -> anyhow::Result<()> {
    if otp::is_code_shaped(code, otp::TOTP_DIGITS as usize) || otp::is_code_shaped(code, otp::EMAIL_OTP_DIGITS) {
        Ok(())
    } else {
        Err(invalid(format!(
            "--otp: a one-time password is {} digits (authenticator app) or {} (e-mail)",
            otp::TOTP_DIGITS,
            otp::EMAIL_OTP_DIGITS
        ))
        .into())
    }
}

/// The account's OTP channel, or the error that says how to set one up.
pub fn channel(a: &Account) -> anyhow::Result<OtpChannel> {
    a.cred.channel().ok_or_else(|| {
        let uid = a.id();
        not_permitted(format!(
            "{uid} has no OTP channel yet: run `dms otp setup --user {uid} --app` (authenticator app) or `--email --accept-warning`"
        ))
        .into()
    })
}

/// Check an OTP from `channel` (a pending app key counts: the first accepted code confirms the
/// device) at this moment. A wrong, expired or replayed code is a counted miss. On success the
/// code is spent: an e-mail OTP is marked used; an app code's step is returned for the
/// credential to remember.
pub fn verify_otp(
    w: &mut Work<'_>,
    a: &mut Account,
    channel: OtpChannel,
    code: &str,
    step: &str,
) -> anyhow::Result<Option<u64>> {
    match check_otp(w, a, channel, code)? {
        Ok(totp_step) => Ok(totp_step),
        Err(miss) => Err(fail_saying(w, a, Factor::Otp, step, miss.says())?),
    }
}

/// [`verify_otp`] without counting a miss: why the code was not accepted, if it was not. For
/// the authorisation code, whose miss is recorded after the batch it would have authorised is
/// rolled back.
pub fn check_otp(
    w: &mut Work<'_>,
    a: &Account,
    channel: OtpChannel,
    code: &str,
) -> anyhow::Result<Result<Option<u64>, Miss>> {
    check_code_shape(code, channel)?;
    let accepted = match channel {
        OtpChannel::App => {
            let (sealed, last) = a.cred.app_key().map(|(k, s)| (k.to_vec(), s)).unwrap_or_default();
            let secret = w.key()?.open(a.id().as_str(), &sealed)?;
            let unix = u64::try_from(w.now.timestamp()).unwrap_or(0);
            return Ok(match otp::verify_totp(&secret, code, unix, last) {
                Ok(step) => Ok(Some(step)),
                Err(otp::TotpReject::Replayed) => Err(Miss::Replayed),
                Err(otp::TotpReject::Wrong) => Err(Miss::Wrong),
            });
        }
        OtpChannel::Email => {
            let stored = otps::get(&w.tx, a.id())?;
            let usable = otp::email_otp_usable(stored.as_ref().map(|s| &s.issued), w.now).is_ok();
            let expected = stored.map(|s| s.code_hash).unwrap_or_default();
            let given = w.key()?.otp_hash(a.id().as_str(), code);
            if usable && crypto::ct_eq(&given, &expected) {
                otps::mark_used(&w.tx, a.id(), w.now)?;
                Ok(None)
            } else {
                Err(Miss::Wrong)
            }
        }
    };
    Ok(accepted)
}

/// Draw a fresh 8-digit e-mail OTP, store its keyed hash, and queue the mail for after the
/// commit.
pub fn issue_email_otp(w: &mut Work<'_>, a: &Account, requested: bool) -> anyhow::Result<()> {
    let Some(email) = a.profile.email.clone() else {
        return Err(not_permitted(format!("{} has no registered e-mail address", a.id())).into());
    };
    let code = Zeroizing::new(loop {
        if let Some(c) = otp::email_otp_from_random(w.rng.next_u64()) {
            break c;
        }
    });
    let hash = w.key()?.otp_hash(a.id().as_str(), &code);
    otps::put(&w.tx, a.id(), &hash, w.now, requested)?;
    audit_self(w, a, "otp.email.sent", json!({ "requested": requested }))?;
    w.send_otp(a.id(), &hash, crate::mail::otp_mail(&email, &code));
    Ok(())
}

/// The password step of a sign-in: the gate, a password at all, the password itself.
///
/// Nothing about the account is told before its password (SPEC §3; issue 18 #5): the public
/// rules first (hours, the launch: the same for every ID of its kind), then the seed's
/// "account locked", then an unknown ID and one with no password yet are answered as a wrong
/// password is (the audit trail says which), and only after the right password the account's
/// own state (disabled, outside its dates, smartcard only).
pub fn password_step(w: &mut Work<'_>, checked: &Checked, step: &str) -> anyhow::Result<Account> {
    let act = Act::SignIn(Method::TwoFactor);
    gate(w, &phantom(&checked.user_id, w.now), act, step)?;
    let Some(mut a) = users::account(&w.tx, &checked.user_id)? else {
        return Err(unmatched(w, &checked.user_id, step, "unknown user ID", Factor::Password)?);
    };
    locked_is_told(w, &a, act, step)?;
    if a.cred.password().is_none() {
        return Err(unmatched(
            w,
            &checked.user_id,
            step,
            "no password yet (first-time logon: otp request, then password reset)",
            Factor::Password,
        )?);
    }
    verify_checked(w, &mut a, checked, Factor::Password, step)?;
    gate(w, &a, act, step)?;
    Ok(a)
}

/// The one thing told about an account before a valid secret for it: the seed's "account
/// locked", which says who can unlock it (SPEC §3). Every sign-in and self-service step asks.
pub fn locked_is_told(w: &mut Work<'_>, a: &Account, act: Act, step: &str) -> anyhow::Result<()> {
    if a.cred.locked() {
        gate(w, a, act, step)?;
    }
    Ok(())
}

/// A sign-in for an ID that has no account or no password: audited as what it was, answered as
/// a wrong secret of that kind.
fn unmatched(w: &mut Work<'_>, user: &UserId, step: &str, why: &str, factor: Factor) -> anyhow::Result<anyhow::Error> {
    w.audit(&audit::Event {
        action: "signin.unmatched",
        subject: Some(user.as_str()),
        detail: json!({ "step": step, "reason": why }).to_string(),
        ..Default::default()
    })?;
    Ok(auth(factor.wrong()).recorded().into())
}

/// A signed-in session, just opened.
pub struct SignedIn {
    pub account: Account,
    pub token: Zeroizing<Vec<u8>>,
    pub method: Method,
    /// This sign-in confirmed the OTP channel (the end of a first-time logon).
    pub first: bool,
}

/// Sign in with both factors (seed Appendix C): the password checked beforehand, then the OTP
/// at this moment; the first accepted code confirms the channel. `replaces` is the token of
/// the session file being overwritten, which ends.
pub fn login(w: &mut Work<'_>, checked: &Checked, code: &str, replaces: Option<&[u8]>) -> anyhow::Result<SignedIn> {
    let mut a = password_step(w, checked, "login")?;
    if let Err(r) = gate::password_current(&a, w.now) {
        let e = DmsError::from(r);
        audit_self(w, &a, "signin.refused", json!({ "step": "login", "reason": "password expired" }))?;
        return Err(e.recorded().into());
    }
    let channel = channel(&a)?;
    let step = verify_otp(w, &mut a, channel, code, "login")?;
    let channel = channel.as_str();
    let first = a.cred.accept_logon(w.now, step);
    users::save_credential(&w.tx, a.id(), &a.cred)?;
    if first {
        audit_self(w, &a, "otp.confirmed", json!({ "channel": channel }))?;
    }
    let token = open_session(w, &a, Method::TwoFactor, replaces)?;
    audit_self(w, &a, "signin.ok", json!({ "channel": channel, "first_time": first }))?;
    Ok(SignedIn { account: a, token, method: Method::TwoFactor, first })
}

/// Sign in with a smartcard and its PIN (legacy, until decommissioning; always on PG).
pub fn login_smartcard(
    w: &mut Work<'_>,
    pin: &Checked,
    typed: &str,
    replaces: Option<&[u8]>,
) -> anyhow::Result<CardSignIn> {
    let Some(mut a) = users::account(&w.tx, &pin.user_id)? else {
        return Err(unmatched(w, &pin.user_id, "smartcard", "unknown user ID", Factor::Pin)?);
    };
    gate(w, &a, Act::SignIn(Method::Smartcard), "smartcard")?;
    if a.profile.smartcard.as_ref().is_some_and(|c| c.initial_pin) {
        // The one-time initial PIN: right, and the holder chooses its own before a session.
        crate::ops::smartcard::check_initial(w, &mut a, typed, "smartcard")?;
        return Ok(CardSignIn::ChoosePin);
    }
    verify_checked(w, &mut a, pin, Factor::Pin, "smartcard")?;
    Ok(CardSignIn::SignedIn(Box::new(smartcard_session(w, a, replaces)?)))
}

/// How a smartcard sign-in went on.
pub enum CardSignIn {
    SignedIn(Box<SignedIn>),
    /// The PIN was the one-time initial PIN: the holder chooses its own next.
    ChoosePin,
}

/// The holder's own PIN, chosen with its one-time initial PIN (`new_phc`: hashed before the
/// write lock); then the session opens.
pub fn choose_smartcard_pin(
    w: &mut Work<'_>,
    user: &UserId,
    initial: &str,
    new_phc: &str,
    replaces: Option<&[u8]>,
) -> anyhow::Result<SignedIn> {
    let mut a = load(w, user, "smartcard")?;
    gate(w, &a, Act::SignIn(Method::Smartcard), "smartcard")?;
    crate::ops::smartcard::choose_pin(w, &mut a, initial, new_phc)?;
    smartcard_session(w, a, replaces)
}

fn smartcard_session(w: &mut Work<'_>, mut a: Account, replaces: Option<&[u8]>) -> anyhow::Result<SignedIn> {
    a.cred.accept_smartcard(w.now);
    users::save_credential(&w.tx, a.id(), &a.cred)?;
    let token = open_session(w, &a, Method::Smartcard, replaces)?;
    audit_self(w, &a, "signin.ok", json!({ "method": "smartcard", "access_channel": a.profile.channel }))?;
    Ok(SignedIn { account: a, token, method: Method::Smartcard, first: false })
}

fn open_session(
    w: &mut Work<'_>,
    a: &Account,
    method: Method,
    replaces: Option<&[u8]>,
) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    if let Some(old) = replaces {
        sessions::end(&w.tx, &crypto::token_hash(old), w.now, "replaced by a new sign-in")?;
    }
    let token = Zeroizing::new(w.rng.bytes::<32>().to_vec());
    sessions::insert(&w.tx, &crypto::token_hash(&token), a.id(), method, w.now)?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoy_hash_is_a_valid_argon2id_phc() {
        assert!(crypto::is_argon2_phc(DECOY_PHC));
        assert!(!crypto::verify_secret("anything", DECOY_PHC));
    }
}
