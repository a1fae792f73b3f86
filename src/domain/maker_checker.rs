//! Maker-checker (seed Appendix A e-f, 4.1.1, 5.1; SPEC §4): who may submit and who may
//! authorise a request, the DA minimum and the quota. Pure rules, checked at submission and
//! again at approval; each refusal has its own message and kind.

use crate::domain::role::Role;
use crate::domain::user_id::{ParticipantKey, UserId};
use std::fmt;

/// One party to a request, as the rules need to see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party<'a> {
    pub user_id: &'a str,
    pub role: Role,
    pub participant: Option<&'a ParticipantKey>,
    pub enabled: bool,
    pub locked: bool,
}

/// Why a request may not go ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not a DA maker (or not enabled, or of another participant). Exit 5.
    NotMaker(String),
    /// Not a DA checker who may authorise this. Exit 5.
    NotChecker(String),
    /// The checker is the maker. Exit 5.
    SameMakerAndChecker,
    /// The checker is a subject of the request ("no one-handed operation"). Exit 5.
    CheckerIsSubject(String),
    /// The participant would fall below one DA maker and two DA checkers. Exit 5.
    DaMinimum { makers: i64, checkers: i64 },
    /// The participant's maximum number of users would be exceeded. Exit 7.
    QuotaFull { max: i64, total: i64, adding: i64 },
}

impl Refusal {
    /// Quota is a conflict (it can change, via DA4); the rest are "not permitted".
    pub fn is_conflict(&self) -> bool {
        matches!(self, Refusal::QuotaFull { .. })
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotMaker(why) => write!(f, "not permitted: {why}"),
            Refusal::NotChecker(why) => write!(f, "not permitted: {why}"),
            Refusal::SameMakerAndChecker => write!(f, "maker-checker: the checker must be a different DA from the maker"),
            Refusal::CheckerIsSubject(id) => write!(f, "no one-handed operation: checker {id} is the subject of this request and cannot authorise it"),
            Refusal::DaMinimum { makers, checkers } => write!(
                f,
                "the participant must keep at least one DA maker and two DA checkers enabled (this would leave {makers} maker(s) and {checkers} checker(s))"
            ),
            Refusal::QuotaFull { max, total, adding } => write!(
                f,
                "quota full: {total} of {max} user accounts are in use and this adds {adding}; apply for additional user accounts with eService DA4"
            ),
        }
    }
}

/// The maker must be an enabled, unlocked DA maker of the participant (checked again at
/// approval: a maker disabled since submission no longer stands behind the request).
pub fn check_maker(maker: &Party<'_>, participant: &ParticipantKey) -> Result<(), Refusal> {
    if maker.role != Role::Maker {
        let what = match maker.role {
            Role::Checker => "DA checkers authorise requests; a DA maker submits them",
            Role::User => "business users cannot use DMS functions",
            _ => "only a DA maker of the participant submits DMS requests",
        };
        return Err(Refusal::NotMaker(what.into()));
    }
    if maker.participant != Some(participant) {
        return Err(Refusal::NotMaker(format!("{} is not a DA of participant {participant}", maker.user_id)));
    }
    if !maker.enabled || maker.locked {
        return Err(Refusal::NotMaker(format!("maker {} is disabled or locked", maker.user_id)));
    }
    Ok(())
}

/// The checker must be a DA checker of the participant, not the maker, and not a subject of
/// the request. Whether its account may act now (lock, status, dates, hours) is the account
/// gate's question, asked next.
pub fn check_checker(
    checker: &Party<'_>,
    maker_id: &UserId,
    participant: &ParticipantKey,
    subjects: &[&UserId],
) -> Result<(), Refusal> {
    if checker.user_id == maker_id.as_str() {
        return Err(Refusal::SameMakerAndChecker);
    }
    if checker.role != Role::Checker {
        let what = match checker.role {
            Role::Maker => format!("{} is a DA maker; only a DA checker can authorise", checker.user_id),
            _ => format!("{} is not a DA checker", checker.user_id),
        };
        return Err(Refusal::NotChecker(what));
    }
    if checker.participant != Some(participant) {
        return Err(Refusal::NotChecker(format!(
            "checker {} is not a DA of participant {participant}",
            checker.user_id
        )));
    }
    if subjects.iter().any(|s| s.as_str() == checker.user_id) {
        return Err(Refusal::CheckerIsSubject(checker.user_id.to_string()));
    }
    Ok(())
}

/// Enabled DA makers and checkers of a participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaCounts {
    pub makers: i64,
    pub checkers: i64,
}

pub const MIN_MAKERS: i64 = 1;
pub const MIN_CHECKERS: i64 = 2;

/// A change may not take the participant below one maker and two checkers. A participant
/// that is already below (still being set up through DA3) may make changes that do not
/// reduce either count further.
pub fn check_da_minimum(before: DaCounts, after: DaCounts) -> Result<(), Refusal> {
    let makers_short = after.makers < MIN_MAKERS && after.makers < before.makers;
    let checkers_short = after.checkers < MIN_CHECKERS && after.checkers < before.checkers;
    if makers_short || checkers_short {
        Err(Refusal::DaMinimum { makers: after.makers, checkers: after.checkers })
    } else {
        Ok(())
    }
}

/// DAs count towards the maximum (seed 4.3.1).
pub fn check_quota(max: i64, total: i64, adding: i64) -> Result<(), Refusal> {
    if adding > 0 && total + adding > max {
        Err(Refusal::QuotaFull { max, total, adding })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user_id::ClearingHouse;

    fn key(id: &str) -> ParticipantKey {
        ParticipantKey::parse(id, ClearingHouse::HkscCp).expect("participant")
    }

    fn uid(s: &str) -> UserId {
        UserId::parse(s).expect("id")
    }

    fn p<'a>(id: &'a str, role: Role, k: &'a ParticipantKey) -> Party<'a> {
        Party { user_id: id, role, participant: Some(k), enabled: true, locked: false }
    }

    #[test]
    fn only_an_enabled_maker_of_the_participant_submits() {
        let b = key("B01234");
        let other = key("B09999");
        assert_eq!(check_maker(&p("B01234X1", Role::Maker, &b), &b), Ok(()));
        assert!(matches!(check_maker(&p("B01234X2", Role::Checker, &b), &b), Err(Refusal::NotMaker(_))));
        assert!(
            matches!(check_maker(&p("B0123401", Role::User, &b), &b), Err(Refusal::NotMaker(m)) if m.contains("business users"))
        );
        assert!(matches!(check_maker(&p("B01234X1", Role::Maker, &b), &other), Err(Refusal::NotMaker(_))));
        let disabled = Party { enabled: false, ..p("B01234X1", Role::Maker, &b) };
        assert!(check_maker(&disabled, &b).is_err());
        let locked = Party { locked: true, ..p("B01234X1", Role::Maker, &b) };
        assert!(check_maker(&locked, &b).is_err());
    }

    #[test]
    fn checker_rules_each_have_their_own_refusal() {
        let b = key("B01234");
        let c = p("B01234X2", Role::Checker, &b);
        let maker = uid("B01234X1");
        let user = uid("B0123401");
        assert_eq!(check_checker(&c, &maker, &b, &[&user]), Ok(()));
        assert_eq!(
            check_checker(&p("B01234X1", Role::Checker, &b), &maker, &b, &[]),
            Err(Refusal::SameMakerAndChecker)
        );
        assert!(matches!(check_checker(&p("B01234X3", Role::Maker, &b), &maker, &b, &[]), Err(Refusal::NotChecker(_))));
        let itself = uid("B01234X2");
        assert_eq!(check_checker(&c, &maker, &b, &[&itself]), Err(Refusal::CheckerIsSubject("B01234X2".into())));
        assert!(matches!(check_checker(&c, &maker, &key("B09999"), &[]), Err(Refusal::NotChecker(_))));
    }

    #[test]
    fn da_minimum_is_one_maker_and_two_checkers() {
        let full = DaCounts { makers: 1, checkers: 2 };
        assert_eq!(check_da_minimum(full, full), Ok(()));
        assert!(check_da_minimum(full, DaCounts { makers: 0, checkers: 2 }).is_err());
        assert!(check_da_minimum(full, DaCounts { makers: 1, checkers: 1 }).is_err());
        assert_eq!(check_da_minimum(DaCounts { makers: 2, checkers: 3 }, DaCounts { makers: 1, checkers: 2 }), Ok(()));
        // A participant still being set up may grow without being blocked.
        let short = DaCounts { makers: 1, checkers: 1 };
        assert_eq!(check_da_minimum(short, short), Ok(()));
        assert!(check_da_minimum(short, DaCounts { makers: 1, checkers: 0 }).is_err());
    }

    #[test]
    fn quota_counts_everyone_and_only_blocks_additions() {
        assert_eq!(check_quota(70, 69, 1), Ok(()));
        assert_eq!(check_quota(70, 70, 1), Err(Refusal::QuotaFull { max: 70, total: 70, adding: 1 }));
        assert_eq!(check_quota(70, 75, 0), Ok(()), "over quota after a DA4 correction: changes still allowed");
        assert!(Refusal::QuotaFull { max: 1, total: 1, adding: 1 }.is_conflict());
        assert!(Refusal::QuotaFull { max: 70, total: 70, adding: 1 }.to_string().contains("DA4"));
    }
}
