//! The effects of the credential transitions (SPEC §3, seed Appendix C and D): each operation
//! here passes the gate, proves what it must, moves the credential through one named
//! transition of `domain::credentials`, saves it, audits it, ends sessions where a password or
//! device changed, and queues the notification. Nothing else changes credentials.

use crate::domain::account::Account;
use crate::domain::credentials::Factor;
use crate::domain::gate::Act;
use crate::domain::otp::{self, OtpChannel};
use crate::domain::role::Role;
use crate::domain::user_id::UserId;
use crate::error::{conflict, invalid, not_permitted};
use crate::mail;
use crate::ops::signin::{self, audit_self, Checked};
use crate::ops::work::Work;
use crate::storage::{audit, otps, sessions, users};
use chrono::{DateTime, Utc};
use serde_json::json;
use zeroize::Zeroizing;

/// An e-mail OTP request answered: when a code sent now would expire. The same answer for
/// an ID with no account, or no registered address, or an app user (no code is sent then):
/// SPEC §3, no user enumeration.
pub struct OtpSent {
    pub valid_until: DateTime<Utc>,
}

/// `otp request`: send an e-mail OTP (first-time logon, e-mail channel), at most once every
/// 5 minutes while a requested code is unused. An unknown ID, one without a registered
/// address, and an app user are answered exactly like an e-mail user; the audit row says what
/// really happened. A locked account is told so (the seed requires it).
pub fn request_email_otp(w: &mut Work<'_>, user: &UserId) -> anyhow::Result<OtpSent> {
    let sent = OtpSent { valid_until: w.now + otp::email_otp_validity() };
    // The public rules (hours, the launch: the same for every ID of this kind) are told; the
    // account's own state is not (SPEC §3): a disabled or unknown ID is answered as one that
    // gets its OTP (issue 18 #5: a disabled account answered exit 4, an unknown 0). Only the
    // seed's "account locked" is said.
    signin::gate(w, &signin::phantom(user, w.now), Act::SelfService, "otp request")?;
    let found = users::account(&w.tx, user)?;
    let known = found.is_some();
    let a = found.unwrap_or_else(|| signin::phantom(user, w.now));
    signin::locked_is_told(w, &a, Act::SelfService, "otp request")?;
    let now = w.now;
    let unavailable = known && crate::domain::gate::may_act(&a, Act::SelfService, w.policy()?, now).is_err();
    let why_not = if !known {
        Some("unknown user ID")
    } else if unavailable {
        Some("account unavailable (disabled, outside its dates or smartcard only)")
    } else if a.profile.email.is_none() {
        Some("no registered e-mail address")
    } else if a.cred.has_app() {
        Some("registered authenticator app: no e-mail OTP")
    } else {
        None
    };
    if let Some(why) = why_not {
        // Throttled like a real request, so a second try tells nothing either.
        if let Some(next) = otps::unmatched_blocked_until(&w.tx, user, w.now, otp::email_otp_throttle())? {
            return Err(too_soon(next));
        }
        otps::note_unmatched(&w.tx, user, w.now, otp::email_otp_throttle())?;
        w.audit(&audit::Event {
            action: "otp.request.not-sent",
            subject: Some(user.as_str()),
            participant_id: a.profile.participant_id().filter(|_| why != "unknown user ID"),
            detail: json!({ "reason": why }).to_string(),
            ..Default::default()
        })?;
        return Ok(sent);
    }
    let prev = otps::get(&w.tx, a.id())?;
    if let Err(next) = otp::may_request_email_otp(prev.as_ref().map(|p| &p.issued), w.now) {
        return Err(too_soon(next));
    }
    signin::issue_email_otp(w, &a, true)?;
    Ok(sent)
}

fn too_soon(next: DateTime<Utc>) -> anyhow::Error {
    conflict(format!(
        "an OTP was requested less than 5 minutes ago and is still valid: use it, or request a new one from {}",
        signin::show_time(next)
    ))
    .into()
}

/// At a terminal's first-time logon (or a forgotten password): the e-mail OTP the password is
/// set with, for an account that sets it that way — enabled and not locked, with a registered
/// address and no authenticator app. One sent before and still usable is used again, so a
/// logon interrupted after the OTP resumes instead of waiting 5 minutes. Every other ID is
/// answered the same way (nothing is sent; the audit trail says why). Returns until when an
/// OTP sent now is valid.
pub fn first_time_otp(w: &mut Work<'_>, user: &UserId) -> anyhow::Result<DateTime<Utc>> {
    let valid_until = w.now + otp::email_otp_validity();
    signin::gate(w, &signin::phantom(user, w.now), Act::SelfService, "first-time logon")?;
    let now = w.now;
    let found = users::account(&w.tx, user)?;
    if let Some(a) = &found {
        signin::locked_is_told(w, a, Act::SelfService, "first-time logon")?;
    }
    let why_not = match &found {
        None => Some("unknown user ID"),
        Some(a) if crate::domain::gate::may_act(a, Act::SelfService, w.policy()?, now).is_err() => {
            Some("account unavailable (disabled, locked, outside its dates or smartcard only)")
        }
        Some(a) if a.profile.email.is_none() => Some("no registered e-mail address"),
        Some(a) if a.cred.has_app() => Some("registered authenticator app: its code resets the password"),
        Some(_) => None,
    };
    let (Some(a), None) = (found, why_not) else {
        w.audit(&audit::Event {
            action: "otp.request.not-sent",
            subject: Some(user.as_str()),
            detail: json!({ "reason": why_not, "step": "first-time logon" }).to_string(),
            ..Default::default()
        })?;
        return Ok(valid_until);
    };
    if let Some(prev) = otps::get(&w.tx, a.id())? {
        if otp::email_otp_usable(Some(&prev.issued), w.now).is_ok() {
            return Ok(valid_until);
        }
    }
    signin::issue_email_otp(w, &a, true)?;
    Ok(valid_until)
}

/// At an interactive logon of an e-mail user: send an OTP unless a usable one is outstanding.
/// Returns whether one was sent.
pub fn send_logon_otp(w: &mut Work<'_>, user: &UserId) -> anyhow::Result<bool> {
    let a = signin::load(w, user, "login otp")?;
    signin::gate(w, &a, Act::SelfService, "login otp")?;
    let prev = otps::get(&w.tx, a.id())?;
    if otp::email_otp_usable(prev.as_ref().map(|p| &p.issued), w.now).is_ok() {
        return Ok(false);
    }
    signin::issue_email_otp(w, &a, false)?;
    Ok(true)
}

/// A new password, hashed beforehand (outside the write lock), with whether it equals the
/// current one (also checked beforehand).
pub struct NewPassword {
    pub phc: String,
    /// The new password checked against the current hash.
    pub same_as_current: Checked,
}

/// The proof a Forgot/Reset gives: an e-mail OTP (first-time logon), or a code of the
/// registered authenticator app (self-service reset, seed Appendix D b).
pub fn reset_proof(a: &Account) -> OtpChannel {
    if a.cred.has_app() {
        OtpChannel::App
    } else {
        OtpChannel::Email
    }
}

/// Forgot/Reset password (seed Appendix C c-g, D b). Nothing about the account is told before
/// a valid code for it (SPEC §3; issue 18 #5): the public rules first (hours, the launch, the
/// same for every ID of its kind), then a code of either shape, then the code itself — an
/// unknown ID, one without an address or app, and a wrong code all get the same answer — and
/// only then the account's own state (disabled, locked, e-mail OTP users who must ask).
pub fn password_reset(w: &mut Work<'_>, user: &UserId, code: &str, new: &NewPassword) -> anyhow::Result<()> {
    signin::gate(w, &signin::phantom(user, w.now), Act::SelfService, "password reset")?;
    signin::check_any_code_shape(code)?;
    let found = users::account(&w.tx, user)?;
    let proof = found.as_ref().and_then(|a| (a.profile.email.is_some() || a.cred.has_app()).then(|| reset_proof(a)));
    if let Some(a) = &found {
        signin::locked_is_told(w, a, Act::SelfService, "password reset")?;
    }
    let (Some(mut a), Some(proof)) = (found, proof) else {
        w.audit(&audit::Event {
            action: "password.reset.unmatched",
            subject: Some(user.as_str()),
            detail: json!({ "reason": "unknown user ID or no registered e-mail address" }).to_string(),
            ..Default::default()
        })?;
        return Err(crate::error::auth(Factor::Otp.wrong()).recorded().into());
    };
    // A code of the other shape is a wrong code, counted as one.
    let step = if signin::check_code_shape(code, proof).is_ok() {
        signin::verify_otp(w, &mut a, proof, code, "password reset")?
    } else {
        return Err(signin::fail(w, &mut a, Factor::Otp, "password reset")?);
    };
    signin::gate(w, &a, Act::SelfService, "password reset")?;
    if a.cred.initialised() && !a.cred.has_app() {
        return Err(not_permitted(format!(
            "{} receives OTPs by e-mail and cannot reset the password itself: {}",
            a.id(),
            reset_by(a.role())
        ))
        .into());
    }
    refuse_same(&a, new)?;
    a.cred.spend_totp_step(step);
    let kind = if a.cred.initialised() { "self-service" } else { "first-time" };
    a.cred.set_password(new.phc.clone(), w.now);
    users::save_credential(&w.tx, a.id(), &a.cred)?;
    let ended = sessions::end_all_for_user(&w.tx, a.id(), None, w.now, "password reset")?;
    audit_self(w, &a, "password.reset", json!({ "kind": kind, "proof": proof.as_str(), "sessions_ended": ended }))?;
    notify(
        w,
        &a,
        "Password changed",
        "The password of your CCASS/CCMS account was set or reset, and its other sessions were signed out.",
    );
    Ok(())
}

/// Who resets a password for an e-mail OTP user (seed 4.1.2, 4.2.2).
fn reset_by(role: Role) -> &'static str {
    match role {
        Role::Maker | Role::Checker => {
            "your firm must submit eService DA3 to the exchange to reset your OTP device registration"
        }
        Role::Operator | Role::Auditor => "another exchange operator must reset it",
        Role::User => "ask a Delegated Administrator to run Unlock/Reset OTP Device Registration",
    }
}

fn refuse_same(a: &Account, new: &NewPassword) -> anyhow::Result<()> {
    if new.same_as_current.ok && a.cred.password_phc().is_some() {
        return Err(invalid("the new password must differ from the current one").into());
    }
    Ok(())
}

/// What setting up the OTP channel gave.
pub enum SetUp {
    /// The key URI of the new authenticator key, to show once (and as a QR code).
    App { uri: Zeroizing<String> },
    /// E-mail OTP: a code was sent to this (masked) address.
    Email { masked_to: String },
}

/// The first logon's OTP channel (seed Appendix C h-s): the password (a wrong one counts), then
/// an authenticator app (returns the key URI to show once) or e-mail OTP (an OTP is sent).
pub fn set_up_channel(w: &mut Work<'_>, checked: &Checked, channel: OtpChannel) -> anyhow::Result<SetUp> {
    let mut a = signin::load(w, &checked.user_id, "otp setup")?;
    signin::gate(w, &a, Act::SelfService, "otp setup")?;
    if a.cred.password().is_none() {
        return Err(not_permitted(format!(
            "{} has no password yet: set one first (`dms otp request` then `dms password reset`)",
            a.id()
        ))
        .into());
    }
    if a.cred.initialised() {
        return Err(conflict(format!(
            "{} already has an OTP channel ({}); change it with `dms auth settings` after signing in",
            a.id(),
            a.cred.channel().map(|c| c.as_str()).unwrap_or("?")
        ))
        .into());
    }
    signin::verify_checked(w, &mut a, checked, Factor::Password, "otp setup")?;
    let uri = match channel {
        OtpChannel::App => {
            let secret = Zeroizing::new(w.rng.bytes::<{ otp::TOTP_KEY_BYTES }>());
            let uid = a.id().clone();
            let sealed = {
                let key = w.key()?.clone();
                key.seal(uid.as_str(), &secret[..], w.rng)?
            };
            a.cred.begin_app_registration(sealed)?;
            let uri =
                otp::key_uri(&secret[..], uid.as_str()).ok_or_else(|| anyhow::anyhow!("cannot build the key URI"))?;
            SetUp::App { uri: Zeroizing::new(uri) }
        }
        OtpChannel::Email => {
            let Some(email) = a.profile.email.clone() else {
                return Err(not_permitted(format!("{} has no registered e-mail address", a.id())).into());
            };
            a.cred.choose_email()?;
            signin::issue_email_otp(w, &a, false)?;
            SetUp::Email { masked_to: crate::domain::profile::mask_email(&email) }
        }
    };
    users::save_credential(&w.tx, a.id(), &a.cred)?;
    audit_self(w, &a, "otp.setup", json!({ "channel": channel.as_str(), "confirmed": false }))?;
    Ok(uri)
}

/// On what authority a password is changed (SPEC §3, re-authentication).
#[derive(Debug, Clone, Copy)]
pub enum Proof<'a> {
    /// A signed-in session (both factors): its token hash, the one session that stays.
    Session(&'a [u8]),
    /// No session: only an expired password may be changed with the user ID and itself
    /// (seed Appendix D a).
    ExpiredPassword,
}

/// Change Password (seed Appendix D a): the current password (a wrong one counts), a new one
/// that differs; the user's other sessions end.
pub fn change_password(w: &mut Work<'_>, current: &Checked, new: &NewPassword, proof: Proof<'_>) -> anyhow::Result<()> {
    let mut a = signin::load(w, &current.user_id, "password change")?;
    signin::gate(w, &a, Act::SelfService, "password change")?;
    // Asked before the password is checked, so the answer says nothing about the password.
    if matches!(proof, Proof::ExpiredPassword) && !a.cred.password_expired(w.now) {
        return Err(crate::error::auth(
            "not signed in: sign in first (password and OTP) to change your password; without a session only an expired password can be changed",
        )
        .into());
    }
    signin::verify_checked(w, &mut a, current, Factor::Password, "password change")?;
    let keep = match proof {
        Proof::Session(t) => Some(t),
        Proof::ExpiredPassword => None,
    };
    refuse_same(&a, new)?;
    a.cred.set_password(new.phc.clone(), w.now);
    users::save_credential(&w.tx, a.id(), &a.cred)?;
    let ended = sessions::end_all_for_user(&w.tx, a.id(), keep, w.now, "password changed")?;
    audit_self(w, &a, "password.change", json!({ "sessions_ended": ended }))?;
    notify(
        w,
        &a,
        "Password changed",
        "The password of your CCASS/CCMS account was changed, and its other sessions were signed out.",
    );
    Ok(())
}

pub use crate::api::SettingsChange;

/// Authentication Settings for a user with a registered device: delete it, or switch to
/// e-mail OTP. Proven again at that moment (SPEC §3, re-authentication): the current password
/// (checked beforehand) and a current code of the app, each failure counted. The user's other
/// sessions end (all but `keep`).
pub fn auth_settings(
    w: &mut Work<'_>,
    a: &mut Account,
    password: &Checked,
    code: &str,
    change: SettingsChange,
    keep: &[u8],
) -> anyhow::Result<()> {
    if !a.cred.has_app() {
        return Err(not_permitted(
            "authentication settings are for users with a registered mobile device; e-mail OTP users ask their DA (or the exchange via DA3) to reset the OTP device registration",
        )
        .into());
    }
    if change == SettingsChange::UseEmail && a.profile.email.is_none() {
        return Err(not_permitted("no registered e-mail address to receive OTPs").into());
    }
    signin::verify_checked(w, a, password, Factor::Password, "auth settings")?;
    let step = signin::verify_otp(w, a, OtpChannel::App, code, "auth settings")?;
    a.cred.spend_totp_step(step);
    match change {
        SettingsChange::DeleteDevice => a.cred.delete_device()?,
        SettingsChange::UseEmail => a.cred.switch_to_email()?,
    }
    users::save_credential(&w.tx, a.id(), &a.cred)?;
    let ended = sessions::end_all_for_user(&w.tx, a.id(), Some(keep), w.now, "OTP device changed")?;
    let action = match change {
        SettingsChange::DeleteDevice => "otp.device.deleted",
        SettingsChange::UseEmail => "otp.channel.email",
    };
    audit_self(w, a, action, json!({ "sessions_ended": ended }))?;
    notify(
        w,
        a,
        "Authentication settings changed",
        &format!("The OTP settings of your CCASS/CCMS account were changed: {}.", change.describe()),
    );
    Ok(())
}

/// Unlock/Reset OTP Device Registration, DA3 unlock/reset and an operator's account reset:
/// unlocked, no password, no channel, no outstanding OTP, no session. The next logon is a
/// first-time logon (seed Appendix D c). `by` is who did it, for the audit row.
pub fn reset(w: &mut Work<'_>, a: &mut Account, why: &str) -> anyhow::Result<()> {
    a.cred.reset();
    users::save_credential(&w.tx, a.id(), &a.cred)?;
    otps::discard(&w.tx, a.id())?;
    sessions::end_all_for_user(&w.tx, a.id(), None, w.now, why)?;
    users::bump_version(&w.tx, a.id())?;
    Ok(())
}

/// Queue a security notification to the account's registered address.
fn notify(w: &mut Work<'_>, a: &Account, subject: &str, text: &str) {
    if let Some(to) = &a.profile.email {
        w.notify(mail::notification(to, subject, text));
    }
}

/// Audit row of an account's reset by someone else.
pub fn audit_reset(
    w: &Work<'_>,
    by: &UserId,
    a: &Account,
    action: &str,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    w.audit(&audit::Event {
        actor: Some(by.as_str()),
        action,
        subject: Some(a.id().as_str()),
        participant_id: a.profile.participant_id(),
        detail: detail.to_string(),
    })
}
