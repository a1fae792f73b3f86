//! The effects of the credential transitions (SPEC §3, seed Appendix C and D): each operation
//! here passes the gate, proves what it must, moves the credential through one named
//! transition of `domain::credentials`, saves it, audits it, ends sessions where a password or
//! device changed, and queues the notification. Nothing else changes credentials.

use crate::context::Work;
use crate::domain::account::Account;
use crate::domain::credentials::Factor;
use crate::domain::gate::Act;
use crate::domain::otp::{self, OtpChannel};
use crate::domain::role::Role;
use crate::domain::user_id::UserId;
use crate::error::{conflict, invalid, not_permitted};
use crate::mail;
use crate::ops::signin::{self, audit_self, Checked};
use crate::storage::{audit, otps, sessions, users};
use chrono::{DateTime, Utc};
use serde_json::json;
use zeroize::Zeroizing;

/// An e-mail OTP on its way.
pub struct OtpSent {
    pub masked_to: String,
    pub valid_until: DateTime<Utc>,
}

/// `otp request`: send an e-mail OTP (first-time logon, e-mail channel), at most once every
/// 5 minutes while a requested code is unused.
pub fn request_email_otp(w: &mut Work<'_>, user: &UserId) -> anyhow::Result<OtpSent> {
    let a = signin::load(w, user, "otp request")?;
    signin::gate(w, &a, Act::SelfService, "otp request")?;
    let Some(email) = a.profile.email.clone() else {
        return Err(not_permitted(format!(
            "{} has no registered e-mail address: ask your Delegated Administrator to register one",
            a.id()
        ))
        .into());
    };
    if a.cred.has_app() {
        return Err(not_permitted(format!(
            "{} uses an authenticator app: enter the code the app shows (no e-mail OTP is sent)",
            a.id()
        ))
        .into());
    }
    let prev = otps::get(&w.tx, a.id())?;
    if let Err(next) = otp::may_request_email_otp(prev.as_ref().map(|p| &p.issued), w.now) {
        return Err(conflict(format!(
            "an OTP was requested less than 5 minutes ago and is still valid: use it, or request a new one from {}",
            signin::show_time(next)
        ))
        .into());
    }
    signin::issue_email_otp(w, &a, true)?;
    Ok(OtpSent { masked_to: signin::mask_email(&email), valid_until: w.now + otp::email_otp_validity() })
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

/// Forgot/Reset password (seed Appendix C c-g, D b).
pub fn password_reset(w: &mut Work<'_>, user: &UserId, code: &str, new: &NewPassword) -> anyhow::Result<()> {
    let mut a = signin::load(w, user, "password reset")?;
    signin::gate(w, &a, Act::SelfService, "password reset")?;
    if a.cred.initialised() && !a.cred.has_app() {
        return Err(not_permitted(format!(
            "{} receives OTPs by e-mail and cannot reset the password itself: {}",
            a.id(),
            reset_by(a.role())
        ))
        .into());
    }
    let proof = reset_proof(&a);
    signin::check_code_shape(code, proof)?;
    if proof == OtpChannel::Email && a.profile.email.is_none() {
        return Err(not_permitted(format!("{} has no registered e-mail address", a.id())).into());
    }
    refuse_same(&a, new)?;
    let step = signin::verify_otp(w, &mut a, proof, code, "password reset")?;
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

/// The proof a Forgot/Reset of this user will ask for (e-mail OTP for an unknown user, so
/// the prompt does not tell whether the ID exists).
pub fn reset_proof_of(w: &Work<'_>, user: &UserId) -> anyhow::Result<OtpChannel> {
    Ok(users::account(&w.tx, user)?.map(|a| reset_proof(&a)).unwrap_or(OtpChannel::Email))
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
            SetUp::Email { masked_to: signin::mask_email(&email) }
        }
    };
    users::save_credential(&w.tx, a.id(), &a.cred)?;
    audit_self(w, &a, "otp.setup", json!({ "channel": channel.as_str(), "confirmed": false }))?;
    Ok(uri)
}

/// Change Password (seed Appendix D a): the current password (a wrong one counts), a new one
/// that differs; the user's other sessions end (all but `keep`).
pub fn change_password(
    w: &mut Work<'_>,
    current: &Checked,
    new: &NewPassword,
    keep: Option<&[u8]>,
) -> anyhow::Result<()> {
    let mut a = signin::load(w, &current.user_id, "password change")?;
    signin::gate(w, &a, Act::SelfService, "password change")?;
    signin::verify_checked(w, &mut a, current, Factor::Password, "password change")?;
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

/// What Authentication Settings change (seed Appendix D d).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsChange {
    DeleteDevice,
    UseEmail,
}

impl SettingsChange {
    pub fn describe(self) -> &'static str {
        match self {
            SettingsChange::DeleteDevice => "device deleted",
            SettingsChange::UseEmail => "switched to e-mail OTP",
        }
    }
}

/// Authentication Settings for a user with a registered device: delete it, or switch to
/// e-mail OTP. The user's other sessions end (all but `keep`).
pub fn auth_settings(w: &mut Work<'_>, a: &mut Account, change: SettingsChange, keep: &[u8]) -> anyhow::Result<()> {
    if !a.cred.has_app() {
        return Err(not_permitted(
            "authentication settings are for users with a registered mobile device; e-mail OTP users ask their DA (or the exchange via DA3) to reset the OTP device registration",
        )
        .into());
    }
    if change == SettingsChange::UseEmail && a.profile.email.is_none() {
        return Err(not_permitted("no registered e-mail address to receive OTPs").into());
    }
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
