//! The credential of an account as a state machine (kanidm's credential and softlock types are
//! the model): the password, the OTP channel, the failure counts and the lock move only through
//! the named transitions below. Nothing else in dms assigns these fields; storage reads and
//! writes them through [`CredentialRecord`], a plain copy of the columns.
//!
//! The OTP channel (SPEC §3, seed Appendix C):
//!
//! ```text
//!            begin_app_registration            accept_logon (first code)
//!   None ───────────────────────────► AppPending ─────────────────────────► App
//!    │ ▲                                                                     │ │
//!    │ └──────────────────────────── delete_device ◄─────────────────────────┘ │
//!    │  choose_email              accept_logon                  switch_to_email │
//!    └────────────► Email(unconfirmed) ─────────► Email(confirmed) ◄────────────┘
//!   reset (DA Unlock/Reset, DA3, operator reset): back to no password and None, unlocked.
//! ```
//!
//! Pure: the time is passed in, secrets arrive already hashed or sealed.

use crate::domain::lockout::{AfterFailure, FailureState};
use crate::domain::otp::OtpChannel;
use crate::domain::password_policy;
use chrono::{DateTime, Utc};
use std::fmt;

/// The password: an argon2id PHC string and when it was set (it expires 90 days later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Password {
    pub phc: String,
    pub set_at: DateTime<Utc>,
}

/// The OTP channel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum OtpState {
    /// No channel yet: the next logon sets one up.
    #[default]
    None,
    /// An authenticator app key was handed out (sealed); the first accepted code confirms it.
    AppPending { sealed_key: Vec<u8> },
    /// A registered authenticator app; `last_step` is the last accepted TOTP step (no replay).
    App { sealed_key: Vec<u8>, last_step: Option<u64> },
    /// E-mail OTP, confirmed by the first OTP accepted at logon.
    Email { confirmed: bool },
}

/// Which wrong secret a failure was (SPEC §3: three wrong OTPs count as one failed logon).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    Password,
    Otp,
    /// A smartcard PIN: a failed logon like a wrong password.
    Pin,
    /// A checker's wrong password in an authorisation code (its OTP part counts as `Otp`).
    AuthorisationCode,
}

impl Factor {
    /// What the user is told.
    pub fn wrong(self) -> &'static str {
        match self {
            Factor::Password => "wrong password",
            Factor::Otp => "wrong, expired or already used one-time password",
            Factor::Pin => "wrong smartcard PIN",
            Factor::AuthorisationCode => "wrong authorisation code",
        }
    }
}

/// A transition asked of a credential that its state does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no password is set yet")]
    NoPassword,
    #[error("the OTP channel is already set up")]
    AlreadyInitialised,
    #[error("no authenticator app is registered")]
    NoApp,
}

/// The credential of one account.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Credential {
    password: Option<Password>,
    otp: OtpState,
    locked_at: Option<DateTime<Utc>>,
    failures: FailureState,
    last_login_at: Option<DateTime<Utc>>,
}

impl Credential {
    // -- reading ---------------------------------------------------------------------------

    pub fn password(&self) -> Option<&Password> {
        self.password.as_ref()
    }

    pub fn password_phc(&self) -> Option<&str> {
        self.password.as_ref().map(|p| p.phc.as_str())
    }

    pub fn password_set_at(&self) -> Option<DateTime<Utc>> {
        self.password.as_ref().map(|p| p.set_at)
    }

    /// Has the password expired (90 days after it was set)?
    pub fn password_expired(&self, now: DateTime<Utc>) -> bool {
        self.password.as_ref().is_some_and(|p| password_policy::is_expired(p.set_at, now))
    }

    pub fn otp(&self) -> &OtpState {
        &self.otp
    }

    /// The channel the next OTP comes from, confirmed or not.
    pub fn channel(&self) -> Option<OtpChannel> {
        match self.otp {
            OtpState::None => None,
            OtpState::AppPending { .. } | OtpState::App { .. } => Some(OtpChannel::App),
            OtpState::Email { .. } => Some(OtpChannel::Email),
        }
    }

    /// The sealed app key, pending or confirmed, with the last accepted step.
    pub fn app_key(&self) -> Option<(&[u8], Option<u64>)> {
        match &self.otp {
            OtpState::AppPending { sealed_key } => Some((sealed_key, None)),
            OtpState::App { sealed_key, last_step } => Some((sealed_key, *last_step)),
            _ => None,
        }
    }

    /// A registered (confirmed) authenticator app: self-service reset and settings are open.
    pub fn has_app(&self) -> bool {
        matches!(self.otp, OtpState::App { .. })
    }

    /// 2FA initialised: a password and a confirmed OTP channel (seed 4.3).
    pub fn initialised(&self) -> bool {
        self.password.is_some() && matches!(self.otp, OtpState::App { .. } | OtpState::Email { confirmed: true })
    }

    pub fn locked(&self) -> bool {
        self.locked_at.is_some()
    }

    pub fn locked_at(&self) -> Option<DateTime<Utc>> {
        self.locked_at
    }

    pub fn failures(&self) -> &FailureState {
        &self.failures
    }

    pub fn last_login_at(&self) -> Option<DateTime<Utc>> {
        self.last_login_at
    }

    // -- transitions -----------------------------------------------------------------------

    /// A new password (first-time logon, Forgot/Reset or Change Password). The OTP that proved
    /// the reset was right, so its miss count starts again.
    pub fn set_password(&mut self, phc: String, now: DateTime<Utc>) {
        self.password = Some(Password { phc, set_at: now });
        self.failures.otp_misses = 0;
    }

    /// Hand out a new authenticator key (seed Appendix C i-k), replacing any pending one.
    pub fn begin_app_registration(&mut self, sealed_key: Vec<u8>) -> Result<(), Refused> {
        self.may_set_up_channel()?;
        self.otp = OtpState::AppPending { sealed_key };
        Ok(())
    }

    /// Skip device registration: e-mail OTP (seed Appendix C o-p).
    pub fn choose_email(&mut self) -> Result<(), Refused> {
        self.may_set_up_channel()?;
        self.otp = OtpState::Email { confirmed: false };
        Ok(())
    }

    fn may_set_up_channel(&self) -> Result<(), Refused> {
        if self.password.is_none() {
            return Err(Refused::NoPassword);
        }
        if self.initialised() {
            return Err(Refused::AlreadyInitialised);
        }
        Ok(())
    }

    /// Both factors were right at logon. The first accepted code confirms a pending device or
    /// the e-mail channel. `totp_step` is the step of an accepted app code. Returns whether
    /// this logon confirmed the channel.
    pub fn accept_logon(&mut self, now: DateTime<Utc>, totp_step: Option<u64>) -> bool {
        let first = !self.initialised();
        self.otp = match std::mem::take(&mut self.otp) {
            OtpState::AppPending { sealed_key } | OtpState::App { sealed_key, .. } => {
                OtpState::App { sealed_key, last_step: totp_step }
            }
            OtpState::Email { .. } => OtpState::Email { confirmed: true },
            OtpState::None => OtpState::None,
        };
        self.failures.reset();
        self.last_login_at = Some(now);
        first
    }

    /// A smartcard logon (PIN right).
    pub fn accept_smartcard(&mut self, now: DateTime<Utc>) {
        self.failures.reset();
        self.last_login_at = Some(now);
    }

    /// A right authorisation code (password and OTP, or smartcard PIN): the failure counts
    /// start again; an app code's step is spent.
    pub fn accept_authorisation(&mut self, totp_step: Option<u64>) {
        self.spend_totp_step(totp_step);
        self.failures.reset();
    }

    /// Remember an accepted app code's step, so it is never accepted again.
    pub fn spend_totp_step(&mut self, step: Option<u64>) {
        if let (Some(s), OtpState::App { last_step, .. }) = (step, &mut self.otp) {
            *last_step = Some(s);
        }
    }

    /// Self-service: delete the registered device; the next logon sets up the channel again
    /// (seed Appendix D d).
    pub fn delete_device(&mut self) -> Result<(), Refused> {
        if !self.has_app() {
            return Err(Refused::NoApp);
        }
        self.otp = OtpState::None;
        Ok(())
    }

    /// Self-service: receive OTPs by e-mail instead of the app (seed Appendix D d e).
    pub fn switch_to_email(&mut self) -> Result<(), Refused> {
        if !self.has_app() {
            return Err(Refused::NoApp);
        }
        self.otp = OtpState::Email { confirmed: true };
        Ok(())
    }

    /// Unlock/Reset OTP Device Registration (a DA for users, DA3 for DAs, an operator for the
    /// exchange's accounts): unlocked, no password, no channel; the next logon is a first-time
    /// logon. The last logon time stays, for the dormant-accounts report.
    pub fn reset(&mut self) {
        *self = Credential { last_login_at: self.last_login_at, ..Credential::default() };
    }

    /// A smartcard PIN reset (eService SCard 1, Smartcard Password Reset): the lock a forgotten
    /// PIN led to is lifted and the count starts again; the password and OTP channel stay.
    pub fn unlock(&mut self) {
        self.locked_at = None;
        self.failures.reset();
    }

    /// A wrong secret at `now`. Locks the account when the rule says so (the counts then
    /// start again for after the unlock).
    pub fn record_failure(&mut self, now: DateTime<Utc>, factor: Factor) -> AfterFailure {
        let after = match factor {
            Factor::Otp => self.failures.record_otp_miss(now),
            Factor::Password | Factor::Pin | Factor::AuthorisationCode => self.failures.record_failure(now),
        };
        if after == AfterFailure::Locked {
            self.locked_at = Some(now);
            self.failures.reset();
        }
        after
    }

    // -- storage form ----------------------------------------------------------------------

    /// Read the stored columns back, refusing combinations no transition can make.
    pub fn from_record(r: CredentialRecord) -> Result<Credential, BadRecord> {
        let password = match (r.password_phc, r.password_set_at) {
            (Some(phc), Some(set_at)) => Some(Password { phc, set_at }),
            (None, None) => None,
            _ => return Err(BadRecord("a password without its time, or the other way round")),
        };
        let otp = match (r.otp_channel, r.otp_confirmed, r.totp_key) {
            (None, false, None) => OtpState::None,
            (Some(OtpChannel::App), false, Some(sealed_key)) => OtpState::AppPending { sealed_key },
            (Some(OtpChannel::App), true, Some(sealed_key)) => {
                OtpState::App { sealed_key, last_step: r.totp_last_step }
            }
            (Some(OtpChannel::Email), confirmed, None) => OtpState::Email { confirmed },
            _ => return Err(BadRecord("an OTP channel that does not fit its key")),
        };
        Ok(Credential { password, otp, locked_at: r.locked_at, failures: r.failures, last_login_at: r.last_login_at })
    }

    pub fn to_record(&self) -> CredentialRecord {
        let (otp_channel, otp_confirmed, totp_key, totp_last_step) = match &self.otp {
            OtpState::None => (None, false, None, None),
            OtpState::AppPending { sealed_key } => (Some(OtpChannel::App), false, Some(sealed_key.clone()), None),
            OtpState::App { sealed_key, last_step } => {
                (Some(OtpChannel::App), true, Some(sealed_key.clone()), *last_step)
            }
            OtpState::Email { confirmed } => (Some(OtpChannel::Email), *confirmed, None, None),
        };
        CredentialRecord {
            password_phc: self.password.as_ref().map(|p| p.phc.clone()),
            password_set_at: self.password.as_ref().map(|p| p.set_at),
            otp_channel,
            otp_confirmed,
            totp_key,
            totp_last_step,
            locked_at: self.locked_at,
            failures: self.failures.clone(),
            last_login_at: self.last_login_at,
        }
    }
}

/// The credential's columns, as storage reads and writes them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CredentialRecord {
    pub password_phc: Option<String>,
    pub password_set_at: Option<DateTime<Utc>>,
    pub otp_channel: Option<OtpChannel>,
    pub otp_confirmed: bool,
    pub totp_key: Option<Vec<u8>>,
    pub totp_last_step: Option<u64>,
    pub locked_at: Option<DateTime<Utc>>,
    pub failures: FailureState,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// Stored credential columns that no sequence of transitions can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadRecord(pub &'static str);

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "damaged credential record: {}", self.0)
    }
}

impl std::error::Error for BadRecord {}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T02:00:00Z").expect("time").with_timezone(&Utc) + Duration::minutes(min)
    }

    fn with_password() -> Credential {
        let mut c = Credential::default();
        c.set_password("$argon2id$x".into(), t(0));
        c
    }

    #[test]
    fn a_new_account_has_nothing_and_is_not_initialised() {
        let c = Credential::default();
        assert!(!c.initialised() && c.channel().is_none() && c.password().is_none() && !c.locked());
    }

    #[test]
    fn no_channel_can_be_set_up_before_a_password() {
        let mut c = Credential::default();
        assert_eq!(c.begin_app_registration(vec![1]), Err(Refused::NoPassword));
        assert_eq!(c.choose_email(), Err(Refused::NoPassword));
    }

    #[test]
    fn the_first_accepted_app_code_confirms_the_device() {
        let mut c = with_password();
        c.begin_app_registration(vec![7; 40]).expect("begin");
        assert!(!c.initialised());
        assert_eq!(c.channel(), Some(OtpChannel::App));
        assert_eq!(c.app_key(), Some((&[7u8; 40][..], None)));
        assert!(c.accept_logon(t(1), Some(100)), "first logon confirms");
        assert!(c.initialised() && c.has_app());
        assert_eq!(c.app_key(), Some((&[7u8; 40][..], Some(100))));
        assert!(!c.accept_logon(t(2), Some(101)), "later logons confirm nothing new");
        assert_eq!(c.begin_app_registration(vec![8]), Err(Refused::AlreadyInitialised));
    }

    #[test]
    fn an_interrupted_registration_can_start_again_with_a_new_key() {
        let mut c = with_password();
        c.begin_app_registration(vec![1; 40]).expect("begin");
        c.begin_app_registration(vec![2; 40]).expect("again");
        assert_eq!(c.app_key().map(|(k, _)| k.to_vec()), Some(vec![2; 40]));
        c.choose_email().expect("or e-mail instead");
        assert_eq!(c.channel(), Some(OtpChannel::Email));
    }

    #[test]
    fn e_mail_is_confirmed_by_the_first_logon() {
        let mut c = with_password();
        c.choose_email().expect("email");
        assert!(!c.initialised());
        assert!(c.accept_logon(t(1), None));
        assert!(c.initialised() && !c.has_app());
    }

    #[test]
    fn settings_need_a_registered_app() {
        let mut c = with_password();
        c.choose_email().expect("email");
        c.accept_logon(t(1), None);
        assert_eq!(c.delete_device(), Err(Refused::NoApp));
        assert_eq!(c.switch_to_email(), Err(Refused::NoApp));
        let mut a = with_password();
        a.begin_app_registration(vec![3; 40]).expect("begin");
        assert_eq!(a.delete_device(), Err(Refused::NoApp), "a pending device is not registered yet");
        a.accept_logon(t(1), Some(5));
        let mut b = a.clone();
        a.delete_device().expect("delete");
        assert_eq!(a.channel(), None);
        assert!(!a.initialised() && a.password().is_some());
        b.switch_to_email().expect("switch");
        assert!(b.initialised() && b.channel() == Some(OtpChannel::Email) && b.app_key().is_none());
    }

    #[test]
    fn five_failures_lock_and_reset_unlocks_and_clears() {
        let mut c = with_password();
        for i in 0..4 {
            assert_eq!(c.record_failure(t(i), Factor::Password), AfterFailure::Open);
        }
        assert_eq!(c.record_failure(t(4), Factor::AuthorisationCode), AfterFailure::Locked);
        assert_eq!(c.locked_at(), Some(t(4)));
        assert!(c.failures().failures.is_empty(), "counts start again after the lock");
        c.accept_logon(t(5), None);
        c.reset();
        assert!(!c.locked() && c.password().is_none() && c.channel().is_none());
        assert_eq!(c.last_login_at(), Some(t(5)), "kept for the dormant report");
    }

    #[test]
    fn three_wrong_otps_are_one_failure_and_a_new_password_clears_the_misses() {
        let mut c = with_password();
        c.record_failure(t(0), Factor::Otp);
        c.record_failure(t(1), Factor::Otp);
        assert_eq!(c.failures().otp_misses, 2);
        c.set_password("$argon2id$y".into(), t(2));
        assert_eq!(c.failures().otp_misses, 0);
        for i in 0..3 {
            c.record_failure(t(3 + i), Factor::Otp);
        }
        assert_eq!(c.failures().failures.len(), 1);
    }

    #[test]
    fn spent_steps_are_remembered_only_for_a_registered_app() {
        let mut c = with_password();
        c.begin_app_registration(vec![1; 40]).expect("begin");
        c.spend_totp_step(Some(9));
        assert_eq!(c.app_key().map(|(_, s)| s), Some(None), "a pending key has no steps yet");
        c.accept_logon(t(1), Some(10));
        c.accept_authorisation(Some(11));
        assert_eq!(c.app_key().map(|(_, s)| s), Some(Some(11)));
    }

    #[test]
    fn password_expiry_is_90_days() {
        let c = with_password();
        assert!(!c.password_expired(t(0) + Duration::days(90) - Duration::seconds(1)));
        assert!(c.password_expired(t(0) + Duration::days(90)));
    }

    #[test]
    fn records_round_trip_and_impossible_ones_are_refused() {
        let mut c = with_password();
        c.begin_app_registration(vec![4; 40]).expect("begin");
        c.accept_logon(t(1), Some(3));
        c.record_failure(t(2), Factor::Otp);
        assert_eq!(Credential::from_record(c.to_record()), Ok(c.clone()));
        for s in [OtpState::None, OtpState::Email { confirmed: false }, OtpState::AppPending { sealed_key: vec![1] }] {
            let mut d = with_password();
            d.otp = s;
            assert_eq!(Credential::from_record(d.to_record()), Ok(d));
        }
        let bad = CredentialRecord { otp_channel: Some(OtpChannel::App), totp_key: None, ..Default::default() };
        assert!(Credential::from_record(bad).is_err());
        let bad = CredentialRecord { password_phc: Some("x".into()), password_set_at: None, ..Default::default() };
        assert!(Credential::from_record(bad).is_err());
        let bad = CredentialRecord { otp_confirmed: true, ..Default::default() };
        assert!(Credential::from_record(bad).is_err());
    }
}
