//! Maker-checker (seed Appendix A e-f, 4.1.1, 5.1; SPEC §4): who may submit and who may
//! authorise a request, the DA minimum and the quota. Pure rules, checked at submission and
//! again at approval; each refusal has its own message and kind.

use crate::domain::account::UserProfile;
use crate::domain::gate::Timeline;
use crate::domain::profile::{self, AccessChannel};
use crate::domain::role::Role;
use crate::domain::user_id::{ParticipantKey, UserId};
use chrono::{Duration, NaiveDate};
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
    /// The participant would fall below its DA minimum on day `on` (one DA maker and two DA
    /// checkers; one and one before the 2FA launch). `later` when that day is not today. Exit 5.
    DaMinimum { makers: i64, checkers: i64, min: DaCounts, on: NaiveDate, later: bool },
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
            Refusal::DaMinimum { makers, checkers, min, on, later } => {
                let need = |n: i64, what: &str| format!("{} DA {what}{}", words(n), if n == 1 { "" } else { "s" });
                write!(
                    f,
                    "the participant must keep at least {} and {} enabled{} (this would leave {makers} maker(s) and {checkers} checker(s){})",
                    need(min.makers, "maker"),
                    need(min.checkers, "checker"),
                    if min.checkers < MIN_CHECKERS { " before the 2FA launch" } else { "" },
                    if *later { format!(" on {on}") } else { String::new() },
                )
            }
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

/// Before the 2FA launch the old rule holds: one maker and one checker (seed 4.1.1, "Today").
pub const MIN_CHECKERS_BEFORE_LAUNCH: i64 = 1;

fn words(n: i64) -> String {
    match n {
        1 => "one".into(),
        2 => "two".into(),
        n => n.to_string(),
    }
}

/// May a DA create a user profile on `today`? Seed 000 §4.2.1, User Creation: "Today: By HKEX",
/// from the launch "By DA". Before the launch a profile a DA made could sign in neither by
/// smartcard (the exchange issues none to it) nor by 2FA (not open yet): an account that only
/// takes quota, so it is refused.
pub fn check_da_may_create(t: &Timeline, today: NaiveDate) -> Result<(), String> {
    if t.launched(today) {
        return Ok(());
    }
    Err(format!(
        "DAs create user profiles from the 2FA launch on {}; until then users are created by HKEX (with their smartcards, through its migration)",
        t.launch
    ))
}

/// The minimum on day `d`.
pub fn minimum_on(d: NaiveDate, t: &Timeline) -> DaCounts {
    let checkers = if t.launched(d) { MIN_CHECKERS } else { MIN_CHECKERS_BEFORE_LAUNCH };
    DaCounts { makers: MIN_MAKERS, checkers }
}

impl DaCounts {
    /// At or above the minimum of day `d`.
    pub fn meet(&self, d: NaiveDate, t: &Timeline) -> bool {
        let min = minimum_on(d, t);
        self.makers >= min.makers && self.checkers >= min.checkers
    }
}

/// A DA as the minimum counts it: its role, status, dates and channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaDays {
    pub role: Role,
    pub enabled: bool,
    pub enable_from: Option<NaiveDate>,
    pub disable_after: Option<NaiveDate>,
    /// On the Participant Gateway: smartcard only, so it cannot act once smartcards are
    /// decommissioned (a DA never gets a card after the launch).
    pub pg: bool,
}

impl DaDays {
    /// A DA's profile as the minimum counts it; None for anyone else.
    pub fn of(p: &UserProfile) -> Option<DaDays> {
        p.role.is_da().then_some(DaDays {
            role: p.role,
            enabled: p.enabled(),
            enable_from: p.enable_from,
            disable_after: p.disable_after,
            pg: p.channel == AccessChannel::Pg,
        })
    }

    /// Can it act as a DA on day `d`?
    pub fn counts_on(&self, d: NaiveDate, t: &Timeline) -> bool {
        self.enabled
            && profile::within_dates(self.enable_from, self.disable_after, d)
            && !(self.pg && t.decommissioned(d))
    }
}

/// The DAs able to act on day `d`.
pub fn counts_on(das: &[DaDays], d: NaiveDate, t: &Timeline) -> DaCounts {
    let mut c = DaCounts { makers: 0, checkers: 0 };
    for da in das.iter().filter(|da| da.counts_on(d, t)) {
        match da.role {
            Role::Maker => c.makers += 1,
            Role::Checker => c.checkers += 1,
            _ => {}
        }
    }
    c
}

/// The days from `today` on which a count or the minimum can change: today, each Enable From,
/// the day after each Disable After, the launch and the decommissioning. Between two of them
/// nothing changes, so checking these is checking every day ahead.
fn turning_days(das: &[DaDays], today: NaiveDate, t: &Timeline) -> Vec<NaiveDate> {
    let mut days = vec![today, t.launch, t.decommission];
    for da in das {
        days.extend(da.enable_from);
        days.extend(da.disable_after.and_then(|a| a.checked_add_signed(Duration::days(1))));
    }
    days.retain(|d| *d >= today);
    days.sort();
    days.dedup();
    days
}

/// A change may not take the participant below its minimum on any day from today on (SPEC
/// §4): a Disable After of today, two checkers each given a date ahead, a checker moved to the
/// smartcard-only channel, all leave it short on some day. A participant already short that
/// day (still being set up through DA3) may make changes that do not reduce either count
/// further. `before` and `after` are all of the participant's DAs without and with the change.
pub fn check_da_minimum(before: &[DaDays], after: &[DaDays], today: NaiveDate, t: &Timeline) -> Result<(), Refusal> {
    let mut all = before.to_vec();
    all.extend_from_slice(after);
    for d in turning_days(&all, today, t) {
        let (b, a, min) = (counts_on(before, d, t), counts_on(after, d, t), minimum_on(d, t));
        let makers_short = a.makers < min.makers && a.makers < b.makers;
        let checkers_short = a.checkers < min.checkers && a.checkers < b.checkers;
        if makers_short || checkers_short {
            return Err(Refusal::DaMinimum { makers: a.makers, checkers: a.checkers, min, on: d, later: d > today });
        }
    }
    Ok(())
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

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date")
    }

    fn timeline() -> Timeline {
        Timeline { launch: day("2022-12-12"), decommission: day("2023-06-12") }
    }

    fn da(role: Role) -> DaDays {
        DaDays { role, enabled: true, enable_from: None, disable_after: None, pg: false }
    }

    fn firm() -> Vec<DaDays> {
        vec![da(Role::Maker), da(Role::Checker), da(Role::Checker)]
    }

    #[test]
    fn da_minimum_is_one_maker_and_two_checkers() {
        let (t, today) = (timeline(), day("2023-06-12"));
        assert_eq!(check_da_minimum(&firm(), &firm(), today, &t), Ok(()));
        assert!(check_da_minimum(&firm(), &firm()[1..], today, &t).is_err(), "no maker");
        assert!(check_da_minimum(&firm(), &firm()[..2], today, &t).is_err(), "one checker");
        let more = [firm(), firm()].concat();
        assert_eq!(check_da_minimum(&more, &firm(), today, &t), Ok(()));
        // A participant still being set up may grow without being blocked, not shrink.
        let short = &firm()[..2];
        assert_eq!(check_da_minimum(short, short, today, &t), Ok(()));
        assert!(check_da_minimum(short, &short[..1], today, &t).is_err());
    }

    #[test]
    fn the_minimum_holds_on_every_day_ahead() {
        let (t, today) = (timeline(), day("2023-06-12"));
        // A Disable After of today leaves the firm short tomorrow.
        let mut after = firm();
        after[2].disable_after = Some(today);
        let e = check_da_minimum(&firm(), &after, today, &t).unwrap_err();
        assert!(
            matches!(e, Refusal::DaMinimum { checkers: 1, on, later: true, .. } if on == day("2023-06-13")),
            "{e:?}"
        );
        assert!(e.to_string().contains("on 2023-06-13"), "{e}");
        // Each checker given a date ahead: the later one is refused once the other is set.
        let mut one = firm();
        one[1].disable_after = Some(day("2023-07-01"));
        assert!(check_da_minimum(&firm(), &one, today, &t).is_err());
        // An Enable From ahead leaves the days before it short.
        let mut late = firm();
        late[0].enable_from = Some(day("2023-06-20"));
        assert!(check_da_minimum(&firm(), &late, today, &t).is_err());
        // A replacement enabled the day after the other's last day keeps every day covered.
        let mut swap = [firm(), vec![da(Role::Checker)]].concat();
        swap[3].enable_from = Some(day("2023-06-14"));
        let mut swapped = swap.clone();
        swapped[2].disable_after = Some(day("2023-06-13"));
        assert_eq!(check_da_minimum(&swap, &swapped, today, &t), Ok(()));
    }

    #[test]
    fn a_checker_moved_to_the_gateway_stops_counting_at_decommissioning() {
        let t = timeline();
        let mut pg = firm();
        pg[2].pg = true;
        assert!(check_da_minimum(&firm(), &pg, day("2023-01-05"), &t).is_err(), "short from 2023-06-12");
        assert_eq!(counts_on(&pg, day("2023-06-11"), &t).checkers, 2);
        assert_eq!(counts_on(&pg, day("2023-06-12"), &t).checkers, 1);
    }

    #[test]
    fn before_the_launch_one_maker_and_one_checker_are_enough() {
        let t = timeline();
        let old = &firm()[..2];
        assert!(counts_on(old, day("2022-12-11"), &t).meet(day("2022-12-11"), &t));
        assert!(!counts_on(old, day("2022-12-12"), &t).meet(day("2022-12-12"), &t));
        let e = Refusal::DaMinimum {
            makers: 1,
            checkers: 0,
            min: minimum_on(day("2022-12-11"), &t),
            on: day("2022-12-11"),
            later: false,
        };
        assert!(e.to_string().contains("one DA maker and one DA checker enabled before the 2FA launch"), "{e}");
        // Disabling the one checker before the launch is refused; a second one may go.
        assert!(check_da_minimum(&firm(), &firm()[..2], day("2022-12-01"), &t).is_err(), "short from the launch");
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
