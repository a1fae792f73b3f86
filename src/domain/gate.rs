//! The one gate: may this account act now? (SPEC §3)
//!
//! Every sign-in, every command run on a session, every self-service step and every
//! authorisation by a checker asks [`may_act`], with what it is about to do. The answer weighs,
//! in this order: the lock, the User Status, Enable From / Disable After, what the timeline
//! allows the sign-in method (the 2FA launch, smartcard decommissioning, the PG channel), and
//! the service hours. One refusal per reason, each with the one message a person sees.

use crate::domain::account::Account;
use crate::domain::hours::{self, Closed};
use crate::domain::profile::{self, AccessChannel};
use crate::domain::role::Role;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use std::collections::HashSet;
use std::fmt;

/// How an account proves who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Password and one-time password.
    TwoFactor,
    /// Smartcard and its PIN (legacy, until decommissioning; always on the PG channel).
    Smartcard,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::TwoFactor => "2fa",
            Method::Smartcard => "smartcard",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        match s {
            "2fa" => Some(Method::TwoFactor),
            "smartcard" => Some(Method::Smartcard),
            _ => None,
        }
    }
}

/// What the account is about to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Sign in with this method.
    SignIn(Method),
    /// Run a command on a session opened with this method.
    Session(Method),
    /// 2FA self-service: e-mail OTP, Forgot/Reset, OTP channel set-up, Change Password,
    /// authentication settings.
    SelfService,
    /// Authorise a request as a checker, with this kind of authorisation code.
    Authorise(Method),
}

/// The exchange's timeline (seed 1, 4, 5; SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeline {
    /// The 2FA launch: 2FA set-up and sign-in open to participants' users and DAs.
    pub launch: NaiveDate,
    /// Smartcard decommissioning: smartcard sign-in ends, except on the PG channel.
    pub decommission: NaiveDate,
}

impl Timeline {
    pub fn launched(&self, today: NaiveDate) -> bool {
        today >= self.launch
    }

    pub fn decommissioned(&self, today: NaiveDate) -> bool {
        today >= self.decommission
    }
}

/// The rules of the day, read once per command from the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub service_hours: bool,
    pub holidays: HashSet<NaiveDate>,
    pub timeline: Timeline,
}

/// Why an account may not act now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Locked {
        user: String,
        role: Role,
    },
    Disabled {
        user: String,
        role: Role,
    },
    OutsideDates {
        user: String,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    },
    Closed(Closed),
    /// 2FA before the launch date (participants' accounts only).
    BeforeLaunch {
        launch: NaiveDate,
    },
    /// Smartcard sign-in after decommissioning, off the PG channel.
    SmartcardDecommissioned {
        on: NaiveDate,
    },
    /// No smartcard (or no PIN) is registered.
    NoSmartcard {
        user: String,
        /// After the launch (2FA is the way in) or before it (the exchange issues cards).
        launched: bool,
    },
    CertificateExpired {
        user: String,
        at: NaiveDateTime,
    },
    /// 2FA for a Participant Gateway user.
    PgSmartcardOnly {
        user: String,
    },
    /// A checker without 2FA asked to authorise with a password and OTP.
    NotInitialised {
        user: String,
    },
    PasswordExpired {
        user: String,
        at: DateTime<Utc>,
    },
}

impl Refusal {
    /// Refusals about the account's state (exit 4); the rest are about what the method or
    /// the timeline permits (exit 5).
    pub fn is_unavailable(&self) -> bool {
        !matches!(
            self,
            Refusal::SmartcardDecommissioned { .. }
                | Refusal::NoSmartcard { .. }
                | Refusal::PgSmartcardOnly { .. }
                | Refusal::NotInitialised { .. }
        )
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Locked { user, role } => {
                write!(f, "account {user} is locked after repeated unsuccessful sign-ins; {}", role.unlocked_by())
            }
            Refusal::Disabled { user, role } => write!(f, "account {user} is disabled; {}", role.enabled_by()),
            Refusal::OutsideDates { user, from, to } => {
                let when = match (from.map(profile::format_date), to.map(profile::format_date)) {
                    (Some(a), Some(b)) => format!("from {a} to {b}"),
                    (Some(a), None) => format!("from {a}"),
                    (None, Some(b)) => format!("until {b}"),
                    (None, None) => "on its dates".into(),
                };
                write!(
                    f,
                    "account {user} may sign in only {when} (its Enable From / Disable After dates); a Delegated Administrator can change them"
                )
            }
            Refusal::Closed(c) => write!(f, "{c}"),
            Refusal::BeforeLaunch { launch } => write!(
                f,
                "two-factor authentication starts on {launch} (the 2FA launch); until then sign in with your smartcard (`dms login --smartcard`)"
            ),
            Refusal::SmartcardDecommissioned { on } => write!(
                f,
                "smartcard sign-in was decommissioned on {on}: sign in with 2FA (password and OTP); only the Participant Gateway (PG) keeps smartcards"
            ),
            Refusal::NoSmartcard { user, launched: true } => write!(
                f,
                "no smartcard is registered for {user}: users created after the 2FA launch sign in with 2FA only"
            ),
            Refusal::NoSmartcard { user, launched: false } => write!(
                f,
                "no smartcard is registered for {user}: until the 2FA launch the exchange issues smartcards (`hkex smartcard issue`)"
            ),
            Refusal::CertificateExpired { user, at } => write!(
                f,
                "the smartcard certificate of {user} expired on {} HKT: sign in with 2FA (password and OTP)",
                at.format("%Y-%m-%d %H:%M:%S")
            ),
            Refusal::PgSmartcardOnly { user } => write!(
                f,
                "{user} reaches CCASS through the Participant Gateway (access channel PG): PG users sign in with their smartcard only, 2FA does not apply"
            ),
            Refusal::NotInitialised { user } => write!(
                f,
                "checker {user} has not initialised 2FA and cannot authorise with a password and OTP (a smartcard-era checker authorises with its smartcard PIN: --smartcard)"
            ),
            Refusal::PasswordExpired { user, at } => write!(
                f,
                "the password of {user} expired on {} HKT (90 days): change it first with `dms password change --user {user}` (new password, then the current one)",
                hours::hong_kong(*at).format("%d-%b-%y %H:%M")
            ),
        }
    }
}

/// May `account` do `act` at `now` under `policy`?
pub fn may_act(account: &Account, act: Act, policy: &Policy, now: DateTime<Utc>) -> Result<(), Refusal> {
    let p = &account.profile;
    let user = || p.user_id.to_string();
    if account.cred.locked() {
        return Err(Refusal::Locked { user: user(), role: p.role });
    }
    if !p.enabled() {
        return Err(Refusal::Disabled { user: user(), role: p.role });
    }
    let hk_now = hours::hong_kong(now);
    let today = hk_now.date_naive();
    if !profile::within_dates(p.enable_from, p.disable_after, today) {
        return Err(Refusal::OutsideDates { user: user(), from: p.enable_from, to: p.disable_after });
    }
    method_allowed(account, act, policy, now)?;
    if policy.service_hours {
        hours::check(p.role.audience(), now, &|d| policy.holidays.contains(&d)).map_err(Refusal::Closed)?;
    }
    Ok(())
}

/// A password past its 90 days must be changed before it signs in or authorises again (seed
/// Appendix D a). Asked after the password was checked, so expiry is told only to its owner;
/// an open session outlives it.
pub fn password_current(account: &Account, now: DateTime<Utc>) -> Result<(), Refusal> {
    match account.cred.password_set_at() {
        Some(set_at) if account.cred.password_expired(now) => Err(Refusal::PasswordExpired {
            user: account.profile.user_id.to_string(),
            at: crate::domain::password_policy::expires_at(set_at),
        }),
        _ => Ok(()),
    }
}

/// What the timeline and the access channel allow each method.
fn method_allowed(account: &Account, act: Act, policy: &Policy, now: DateTime<Utc>) -> Result<(), Refusal> {
    let p = &account.profile;
    let user = || p.user_id.to_string();
    let today = hours::hong_kong(now).date_naive();
    // The exchange's own accounts are not bound by the participants' timeline.
    let participant = p.participant.is_some();
    let method = match act {
        Act::SignIn(m) | Act::Session(m) | Act::Authorise(m) => m,
        Act::SelfService => Method::TwoFactor,
    };
    match method {
        Method::TwoFactor => {
            if participant && p.channel == AccessChannel::Pg {
                return Err(Refusal::PgSmartcardOnly { user: user() });
            }
            if participant && !policy.timeline.launched(today) {
                return Err(Refusal::BeforeLaunch { launch: policy.timeline.launch });
            }
            if let Act::Authorise(_) = act {
                if !account.cred.initialised() {
                    return Err(Refusal::NotInitialised { user: user() });
                }
            }
        }
        Method::Smartcard => {
            if policy.timeline.decommissioned(today) && p.channel != AccessChannel::Pg {
                return Err(Refusal::SmartcardDecommissioned { on: policy.timeline.decommission });
            }
            let Some(card) = p.smartcard.as_ref().filter(|c| c.has_pin()) else {
                return Err(Refusal::NoSmartcard { user: user(), launched: policy.timeline.launched(today) });
            };
            // The certificate is valid to its expiry date and time (Hong Kong time, as the seed
            // shows it); after that the card no longer authenticates, whatever the PIN.
            if hours::hong_kong(now).naive_local() > card.cert_expiry {
                return Err(Refusal::CertificateExpired { user: user(), at: card.cert_expiry });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::{Smartcard, UserProfile};
    use crate::domain::credentials::{Credential, Factor};
    use crate::domain::profile::UserStatus;
    use crate::domain::user_id::{ClearingHouse, ParticipantKey, UserId};
    use chrono::Duration;

    /// Monday 23 November 2026, 10:00 HKT.
    fn monday_10() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T10:00:00+08:00").expect("t").with_timezone(&Utc)
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn policy() -> Policy {
        Policy {
            service_hours: true,
            holidays: HashSet::new(),
            timeline: Timeline { launch: date("2023-06-12"), decommission: date("2023-09-04") },
        }
    }

    fn account(id: &str, role: Role) -> Account {
        let participant = Some(ParticipantKey::parse("B01234", ClearingHouse::HkscCp).expect("pid"));
        let uid = UserId::parse(id).expect("id");
        let mut cred = Credential::default();
        cred.set_password("$argon2id$x".into(), monday_10() - Duration::days(1));
        cred.choose_email().expect("email");
        cred.accept_logon(monday_10() - Duration::days(1), None);
        Account {
            profile: UserProfile::new(uid, participant, role, "CHAN", "TAI MAN", Some("a@b.hk"), monday_10()),
            cred,
        }
    }

    fn smartcard(expiry: &str, pin: bool) -> Option<Smartcard> {
        Some(Smartcard {
            srn: "0101101200012AB2".into(),
            cert_expiry: NaiveDateTime::parse_from_str(expiry, "%Y-%m-%d %H:%M:%S").expect("expiry"),
            pin_phc: pin.then(|| "$argon2id$pin".into()),
            initial_pin: false,
        })
    }

    const TWO_FA: Act = Act::SignIn(Method::TwoFactor);
    const CARD: Act = Act::SignIn(Method::Smartcard);

    #[test]
    fn an_ordinary_account_may_sign_in_inside_hours() {
        assert_eq!(may_act(&account("B0123401", Role::User), TWO_FA, &policy(), monday_10()), Ok(()));
    }

    #[test]
    fn the_lock_comes_first_and_says_who_unlocks() {
        let mut a = account("B01234X1", Role::Maker);
        for i in 0..5 {
            a.cred.record_failure(monday_10() + Duration::minutes(i), Factor::Password);
        }
        a.profile.status = UserStatus::Disabled;
        let e = may_act(&a, TWO_FA, &policy(), monday_10()).unwrap_err();
        assert!(matches!(e, Refusal::Locked { .. }) && e.to_string().contains("DA3"), "{e}");
        assert!(e.is_unavailable());
        let e = may_act(&a, CARD, &policy(), monday_10()).unwrap_err();
        assert!(matches!(e, Refusal::Locked { .. }), "smartcard too: {e}");
    }

    #[test]
    fn a_disabled_account_is_told_who_can_enable_it() {
        let mut u = account("B0123401", Role::User);
        u.profile.status = UserStatus::Disabled;
        let e = may_act(&u, Act::Session(Method::TwoFactor), &policy(), monday_10()).unwrap_err();
        assert!(e.to_string().contains("Delegated Administrator") && !e.to_string().contains("Reset OTP"), "{e}");
        let mut d = account("B01234X1", Role::Maker);
        d.profile.status = UserStatus::Disabled;
        let e = may_act(&d, TWO_FA, &policy(), monday_10()).unwrap_err();
        assert!(e.to_string().contains("DA3"), "{e}");
    }

    #[test]
    fn dates_are_inclusive_hong_kong_days() {
        let mut a = account("B0123401", Role::User);
        a.profile.enable_from = Some(date("2026-11-23"));
        a.profile.disable_after = Some(date("2026-11-23"));
        assert_eq!(may_act(&a, TWO_FA, &policy(), monday_10()), Ok(()));
        a.profile.enable_from = Some(date("2026-11-24"));
        a.profile.disable_after = None;
        let e = may_act(&a, Act::Session(Method::TwoFactor), &policy(), monday_10()).unwrap_err();
        assert!(matches!(e, Refusal::OutsideDates { .. }) && e.to_string().contains("24-Nov-26"), "{e}");
    }

    #[test]
    fn before_the_launch_participants_use_smartcards_and_the_exchange_is_not_bound() {
        let mut p = policy();
        p.timeline = Timeline { launch: date("2026-12-01"), decommission: date("2027-02-01") };
        let mut a = account("B0123401", Role::User);
        let e = may_act(&a, TWO_FA, &p, monday_10()).unwrap_err();
        assert!(e.to_string().contains("2026-12-01") && e.to_string().contains("smartcard"), "{e}");
        assert!(matches!(may_act(&a, Act::SelfService, &p, monday_10()), Err(Refusal::BeforeLaunch { .. })));
        a.profile.smartcard = smartcard("2030-12-31 23:59:59", true);
        assert_eq!(may_act(&a, CARD, &p, monday_10()), Ok(()));
        let mut op = account("HKEXOP01", Role::Operator);
        op.profile.participant = None;
        assert_eq!(may_act(&op, TWO_FA, &p, monday_10()), Ok(()));
    }

    #[test]
    fn after_decommissioning_only_pg_keeps_smartcards_and_pg_never_uses_2fa() {
        let mut a = account("B0123401", Role::User);
        a.profile.smartcard = smartcard("2030-12-31 23:59:59", true);
        let e = may_act(&a, CARD, &policy(), monday_10()).unwrap_err();
        assert!(matches!(e, Refusal::SmartcardDecommissioned { .. }) && !e.is_unavailable(), "{e}");
        a.profile.channel = AccessChannel::Pg;
        assert_eq!(may_act(&a, CARD, &policy(), monday_10()), Ok(()));
        assert!(matches!(may_act(&a, TWO_FA, &policy(), monday_10()), Err(Refusal::PgSmartcardOnly { .. })));
        assert!(matches!(may_act(&a, Act::SelfService, &policy(), monday_10()), Err(Refusal::PgSmartcardOnly { .. })));
    }

    #[test]
    fn a_smartcard_needs_a_pin_and_an_unexpired_certificate() {
        let mut p = policy();
        p.timeline.decommission = date("2027-01-01");
        let mut a = account("B0123401", Role::User);
        assert!(matches!(may_act(&a, CARD, &p, monday_10()), Err(Refusal::NoSmartcard { .. })));
        a.profile.smartcard = smartcard("2030-12-31 23:59:59", false);
        assert!(matches!(may_act(&a, CARD, &p, monday_10()), Err(Refusal::NoSmartcard { .. })));
        a.profile.smartcard = smartcard("2026-11-23 09:59:59", true);
        let e = may_act(&a, CARD, &p, monday_10()).unwrap_err();
        assert!(e.to_string().contains("2026-11-23 09:59:59") && e.is_unavailable(), "{e}");
        a.profile.smartcard = smartcard("2026-11-23 10:00:00", true);
        assert_eq!(may_act(&a, CARD, &p, monday_10()), Ok(()), "valid to the second");
    }

    #[test]
    fn a_checker_authorises_with_2fa_only_once_initialised_and_not_expired() {
        let mut c = account("B01234X2", Role::Checker);
        let mut fresh = Credential::default();
        fresh.set_password("$argon2id$x".into(), monday_10());
        c.cred = fresh;
        let e = may_act(&c, Act::Authorise(Method::TwoFactor), &policy(), monday_10()).unwrap_err();
        assert!(matches!(e, Refusal::NotInitialised { .. }), "{e}");
        let c = account("B01234X2", Role::Checker);
        let later = monday_10() + Duration::days(90);
        assert_eq!(password_current(&c, later - Duration::days(2)), Ok(()));
        let e = password_current(&c, later).unwrap_err();
        assert!(matches!(e, Refusal::PasswordExpired { .. }) && e.is_unavailable(), "{e}");
        assert!(e.to_string().contains("dms password change --user B01234X2"), "{e}");
    }

    #[test]
    fn service_hours_follow_the_role_and_can_be_off() {
        let sat_14 = DateTime::parse_from_rfc3339("2026-11-28T14:00:00+08:00").expect("t").with_timezone(&Utc);
        let e = may_act(&account("B01234X1", Role::Maker), TWO_FA, &policy(), sat_14).unwrap_err();
        assert!(matches!(e, Refusal::Closed(_)) && e.to_string().contains("reopens"), "{e}");
        let off = Policy { service_hours: false, ..policy() };
        assert_eq!(may_act(&account("B01234X1", Role::Maker), TWO_FA, &off, sat_14), Ok(()));
    }
}
