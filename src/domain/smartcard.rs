//! Smartcards after the launch (seed 4.1.2, 4.2.2; SPEC §3; issue 18 #1, issue 21 #1): who may
//! be given a card or have its PIN reset, and the one-time initial PIN.
//!
//! **A PIN is chosen by its holder.** The exchange issuing a card, or resetting a forgotten PIN
//! (eService SCard 1 for a DA, Smartcard Password Reset by the DAs for a user), never chooses
//! the PIN that then works: dms mails the holder a one-time **initial PIN** (8 random digits,
//! valid 7 days, kept only as a keyed hash), and the holder's next smartcard sign-in with it
//! must choose the holder's own PIN before a session opens.

use crate::domain::account::UserProfile;
use crate::domain::gate::Timeline;
use crate::domain::profile::AccessChannel;
use crate::domain::role::Role;
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// How many digits an initial PIN has (a holder's own PIN: 6 to 8).
pub const INITIAL_PIN_DIGITS: usize = 8;

/// How long an initial PIN can be used to choose one's own.
pub fn initial_pin_validity() -> Duration {
    Duration::days(7)
}

/// Is an initial PIN issued at `issued_at` still usable at `now`?
pub fn initial_pin_usable(issued_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now < issued_at + initial_pin_validity()
}

/// Why a card may not be issued, or a PIN reset, for this profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{user} uses the terminal (access channel CST): only Participant Gateway (PG) users get a smartcard after the launch; a DA changes the channel under maker-checker")]
    NotGateway { user: String },
    #[error("{user} is a Delegated Administrator: a DA signs in with 2FA from the launch ({launch}) and is never given a smartcard after it")]
    DaAfterLaunch { user: String, launch: NaiveDate },
    #[error("{user} has no registered e-mail address to send the initial PIN to: register one first")]
    NoAddress { user: String },
    #[error("{user} has no smartcard: there is no PIN to reset")]
    NoCard { user: String },
    #[error("{what} is available until smartcard decommissioning ({on}); {user} now signs in with 2FA")]
    Decommissioned { what: &'static str, user: String, on: NaiveDate },
    #[error("{user} is a Delegated Administrator: its smartcard PIN is reset by the exchange (eService SCard 1)")]
    DaByScard1 { user: String },
    #[error("{user} is not a Delegated Administrator: a user's smartcard PIN is reset by its DAs (`dms user smartcard-reset`)")]
    NotDa { user: String },
}

/// May the exchange issue `p` a smartcard (`hkex smartcard issue`) on `today`? Before the
/// launch anyone (smartcards are how everyone signs in); from it only a PG user (the one
/// channel that keeps smartcards) and never a DA; always with an address the initial PIN can
/// go to.
pub fn may_issue(p: &UserProfile, t: &Timeline, today: NaiveDate) -> Result<(), Refusal> {
    let user = p.user_id.to_string();
    if p.role.is_da() && t.launched(today) {
        return Err(Refusal::DaAfterLaunch { user, launch: t.launch });
    }
    // Before the launch every account signs in with its smartcard: a lost card is re-issued.
    if p.channel != AccessChannel::Pg && t.launched(today) {
        return Err(Refusal::NotGateway { user });
    }
    if p.email.is_none() {
        return Err(Refusal::NoAddress { user });
    }
    Ok(())
}

/// Who resets a PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetBy {
    /// eService SCard 1: the exchange, for a DA.
    Scard1,
    /// Smartcard Password Reset: a DA maker and checker, for a business user.
    Das,
}

/// May `p`'s smartcard PIN be reset on `today`, this way? SCard 1 is for DAs until the
/// decommissioning; the DAs' reset is for users until then, and for PG users always (they keep
/// their smartcards).
pub fn may_reset(p: &UserProfile, by: ResetBy, t: &Timeline, today: NaiveDate) -> Result<(), Refusal> {
    let user = p.user_id.to_string();
    match (by, p.role) {
        (ResetBy::Scard1, r) if !r.is_da() => return Err(Refusal::NotDa { user }),
        (ResetBy::Das, r) if r.is_da() => return Err(Refusal::DaByScard1 { user }),
        (ResetBy::Das, r) if r != Role::User => return Err(Refusal::NotDa { user }),
        _ => {}
    }
    if p.smartcard.is_none() {
        return Err(Refusal::NoCard { user });
    }
    let what = match by {
        ResetBy::Scard1 => "eService SCard 1 (smartcard PIN reset for a DA)",
        ResetBy::Das => "Smartcard Password Reset",
    };
    let keeps_card = by == ResetBy::Das && p.channel == AccessChannel::Pg;
    if t.decommissioned(today) && !keeps_card {
        return Err(Refusal::Decommissioned { what, user, on: t.decommission });
    }
    if p.email.is_none() {
        return Err(Refusal::NoAddress { user });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::Smartcard;
    use crate::domain::user_id::{ClearingHouse, ParticipantKey, UserId};

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date")
    }

    fn t() -> Timeline {
        Timeline { launch: day("2022-12-12"), decommission: day("2023-06-12") }
    }

    fn profile(id: &str, role: Role, channel: AccessChannel) -> UserProfile {
        let now = DateTime::from_timestamp(1_670_000_000, 0).expect("t");
        let key = ParticipantKey::parse("B01234", ClearingHouse::HkscCp).expect("key");
        let card = Smartcard {
            srn: "0101101200012AB2".into(),
            cert_expiry: day("2030-12-31").and_hms_opt(23, 59, 59).expect("t"),
            pin_phc: None,
            initial_pin: false,
        };
        UserProfile {
            channel,
            smartcard: Some(card),
            ..UserProfile::new(UserId::parse(id).expect("id"), Some(key), role, "CHAN", "TAI MAN", Some("a@b.hk"), now)
        }
    }

    #[test]
    fn a_card_goes_only_to_a_gateway_user_with_an_address_and_never_to_a_da_after_the_launch() {
        let pg = profile("B0123401", Role::User, AccessChannel::Pg);
        assert_eq!(may_issue(&pg, &t(), day("2024-01-02")), Ok(()));
        let cst = profile("B0123401", Role::User, AccessChannel::Cst);
        assert!(matches!(may_issue(&cst, &t(), day("2024-01-02")), Err(Refusal::NotGateway { .. })));
        assert_eq!(may_issue(&cst, &t(), day("2022-12-11")), Ok(()), "before the launch a lost card is re-issued");
        let da = profile("B01234X1", Role::Checker, AccessChannel::Pg);
        assert!(matches!(may_issue(&da, &t(), day("2022-12-12")), Err(Refusal::DaAfterLaunch { .. })));
        assert_eq!(may_issue(&da, &t(), day("2022-12-11")), Ok(()), "before the launch, as before it");
        let quiet = UserProfile { email: None, ..pg };
        assert!(matches!(may_issue(&quiet, &t(), day("2024-01-02")), Err(Refusal::NoAddress { .. })));
    }

    #[test]
    fn scard1_resets_a_das_pin_and_the_das_a_users_until_decommissioning_pg_users_always() {
        let (before, after) = (day("2023-06-11"), day("2023-06-12"));
        let da = profile("B01234X1", Role::Maker, AccessChannel::Cst);
        let user = profile("B0123401", Role::User, AccessChannel::Cst);
        let pg = profile("B0123402", Role::User, AccessChannel::Pg);
        assert_eq!(may_reset(&da, ResetBy::Scard1, &t(), before), Ok(()));
        assert!(matches!(may_reset(&da, ResetBy::Scard1, &t(), after), Err(Refusal::Decommissioned { .. })));
        assert!(matches!(may_reset(&da, ResetBy::Das, &t(), before), Err(Refusal::DaByScard1 { .. })));
        assert!(matches!(may_reset(&user, ResetBy::Scard1, &t(), before), Err(Refusal::NotDa { .. })));
        assert_eq!(may_reset(&user, ResetBy::Das, &t(), before), Ok(()));
        assert!(may_reset(&user, ResetBy::Das, &t(), after).is_err());
        assert_eq!(may_reset(&pg, ResetBy::Das, &t(), after), Ok(()), "PG users keep their cards");
        let cardless = UserProfile { smartcard: None, ..user };
        assert!(matches!(may_reset(&cardless, ResetBy::Das, &t(), before), Err(Refusal::NoCard { .. })));
    }

    #[test]
    fn an_initial_pin_is_usable_for_seven_days() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).expect("t");
        assert!(initial_pin_usable(at, at + Duration::days(7) - Duration::seconds(1)));
        assert!(!initial_pin_usable(at, at + Duration::days(7)));
    }
}
