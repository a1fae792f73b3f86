//! Service hours (SPEC §3): when the terminal and the DMS functions are open, in Hong Kong time
//! (UTC+8, no daylight saving), and when a closed service reopens.
//!
//! The clock and the holiday calendar are passed in, so the rules can be tested at every
//! boundary. Whether enforcement is switched on at all is the caller's setting, not ours.

use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, Utc, Weekday};

/// Hong Kong's offset from UTC. Hong Kong has not observed daylight saving since 1979.
const HKT_OFFSET_SECS: i32 = 8 * 3600;

/// How far ahead a reopening is searched for. A year of holidays plus slack: a calendar that
/// closes everything for longer than this is a mistake we report rather than loop on.
const SEARCH_DAYS: u32 = 400;

/// Whose hours apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Business users: sign-in and self-service follow the terminal hours.
    Terminal,
    /// Delegated Administrators: sign-in and DMS functions follow the DMS hours.
    Dms,
    /// The exchange operator, never bound by service hours.
    Operator,
}

impl Audience {
    /// The schedule as people read it, used in the refusal message.
    pub fn schedule(self) -> &'static str {
        match self {
            Audience::Terminal => "Terminal: 07:00-21:30 Mon-Fri, closed on public holidays",
            Audience::Dms => "DMS: 07:00-19:00 Mon-Fri, 09:00-13:00 Sat, closed on public holidays",
            Audience::Operator => "exchange operator: not bound by service hours",
        }
    }

    /// The opening window on `day` (opening inclusive, closing exclusive), ignoring holidays;
    /// `None` when closed all day. Each audience has at most one window a day.
    fn window(self, day: Weekday) -> Option<(NaiveTime, NaiveTime)> {
        let weekday = !matches!(day, Weekday::Sat | Weekday::Sun);
        match self {
            Audience::Terminal if weekday => Some((hm(7, 0)?, hm(21, 30)?)),
            Audience::Dms if weekday => Some((hm(7, 0)?, hm(19, 0)?)),
            Audience::Dms if day == Weekday::Sat => Some((hm(9, 0)?, hm(13, 0)?)),
            _ => None,
        }
    }
}

/// The refusal: the service is closed for this audience now.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Closed {
    pub audience: Audience,
    /// The next opening instant strictly after `now`, in Hong Kong time; `None` when no
    /// opening was found within the search horizon (a holiday calendar closing everything).
    pub reopens_at: Option<DateTime<FixedOffset>>,
}

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "outside service hours ({})", self.audience.schedule())?;
        match self.reopens_at {
            Some(t) => write!(f, "; service reopens {} HKT", t.format("%a %d-%b-%Y %H:%M")),
            None => write!(f, "; no reopening found in the next {SEARCH_DAYS} days (check the holiday calendar)"),
        }
    }
}

/// Evaluated at compile time, so the impossible `None` arm is a build error, never a runtime
/// panic.
const HKT: FixedOffset = match FixedOffset::east_opt(HKT_OFFSET_SECS) {
    Some(offset) => offset,
    None => panic!("UTC+8 is within chrono's ±24 h offset range"),
};

/// The Hong Kong time zone (UTC+8).
pub fn hkt() -> FixedOffset {
    HKT
}

/// `now` as Hong Kong local time.
pub fn hong_kong(now: DateTime<Utc>) -> DateTime<FixedOffset> {
    now.with_timezone(&hkt())
}

/// Ok when `audience` may use the service at `now`; otherwise says when it reopens.
/// `holidays` answers for Hong Kong dates.
pub fn check(audience: Audience, now: DateTime<Utc>, holidays: &dyn Fn(NaiveDate) -> bool) -> Result<(), Closed> {
    if audience == Audience::Operator {
        return Ok(());
    }
    let local = hong_kong(now);
    let today = local.date_naive();
    let time = local.time();
    let open_today = if holidays(today) { None } else { audience.window(today.weekday()) };
    if let Some((open, close)) = open_today {
        if open <= time && time < close {
            return Ok(());
        }
    }
    Err(Closed { audience, reopens_at: next_opening(audience, today, time, open_today, holidays) })
}

/// The next opening strictly after (`today`, `time`): today's, if it is still to come, else the
/// first later day that has a window and is not a holiday.
fn next_opening(
    audience: Audience,
    today: NaiveDate,
    time: NaiveTime,
    open_today: Option<(NaiveTime, NaiveTime)>,
    holidays: &dyn Fn(NaiveDate) -> bool,
) -> Option<DateTime<FixedOffset>> {
    if let Some((open, _)) = open_today {
        if time < open {
            return at_hkt(today, open);
        }
    }
    let mut day = today;
    for _ in 0..SEARCH_DAYS {
        // succ_opt is None only at chrono's last date: nothing to find past it.
        day = day.succ_opt()?;
        if holidays(day) {
            continue;
        }
        if let Some((open, _)) = audience.window(day.weekday()) {
            return at_hkt(day, open);
        }
    }
    None
}

fn at_hkt(day: NaiveDate, time: NaiveTime) -> Option<DateTime<FixedOffset>> {
    // A fixed offset has exactly one instant per local time, so `single` always succeeds.
    day.and_time(time).and_local_timezone(hkt()).single()
}

fn hm(h: u32, m: u32) -> Option<NaiveTime> {
    NaiveTime::from_hms_opt(h, m, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    // 2026-11-16 is a Monday; 2026-11-20 Friday, 21 Saturday, 22 Sunday, 23 Monday.
    const MON: u32 = 16;
    const FRI: u32 = 20;
    const SAT: u32 = 21;
    const SUN: u32 = 22;

    /// A UTC instant given as Hong Kong local time in November 2026.
    fn hk(day: u32, h: u32, m: u32, s: u32) -> DateTime<Utc> {
        hkt().with_ymd_and_hms(2026, 11, day, h, m, s).single().expect("valid test time").with_timezone(&Utc)
    }

    fn no_holidays(_: NaiveDate) -> bool {
        false
    }

    fn open(a: Audience, t: DateTime<Utc>) -> bool {
        check(a, t, &no_holidays).is_ok()
    }

    fn reopens(a: Audience, t: DateTime<Utc>, holidays: &dyn Fn(NaiveDate) -> bool) -> String {
        let closed = check(a, t, holidays).expect_err("should be closed");
        closed.reopens_at.expect("a reopening exists").format("%a %Y-%m-%d %H:%M:%S %z").to_string()
    }

    #[test]
    fn test_calendar_is_what_we_think() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 11, day).expect("valid");
        assert_eq!(d(MON).weekday(), Weekday::Mon);
        assert_eq!(d(FRI).weekday(), Weekday::Fri);
        assert_eq!(d(SAT).weekday(), Weekday::Sat);
        assert_eq!(d(SUN).weekday(), Weekday::Sun);
    }

    #[test]
    fn dms_weekday_boundaries() {
        let a = Audience::Dms;
        assert!(!open(a, hk(MON, 6, 59, 59)));
        assert!(open(a, hk(MON, 7, 0, 0)));
        assert!(open(a, hk(MON, 12, 0, 0)));
        assert!(open(a, hk(MON, 18, 59, 59)));
        assert!(!open(a, hk(MON, 19, 0, 0)));
        assert!(!open(a, hk(MON, 23, 59, 59)));
        assert!(!open(a, hk(MON, 0, 0, 0)));
    }

    #[test]
    fn sub_second_before_opening_is_closed() {
        let t = hk(MON, 6, 59, 59) + chrono::Duration::milliseconds(999);
        assert!(!open(Audience::Dms, t));
        let t = hk(MON, 18, 59, 59) + chrono::Duration::milliseconds(999);
        assert!(open(Audience::Dms, t));
    }

    #[test]
    fn terminal_weekday_boundaries() {
        let a = Audience::Terminal;
        assert!(!open(a, hk(FRI, 6, 59, 59)));
        assert!(open(a, hk(FRI, 7, 0, 0)));
        assert!(open(a, hk(FRI, 19, 0, 0)));
        assert!(open(a, hk(FRI, 21, 29, 59)));
        assert!(!open(a, hk(FRI, 21, 30, 0)));
    }

    #[test]
    fn dms_saturday_boundaries() {
        let a = Audience::Dms;
        assert!(!open(a, hk(SAT, 8, 59, 59)));
        assert!(open(a, hk(SAT, 9, 0, 0)));
        assert!(open(a, hk(SAT, 12, 59, 59)));
        assert!(!open(a, hk(SAT, 13, 0, 0)));
        assert!(!open(a, hk(SAT, 7, 30, 0)));
    }

    #[test]
    fn terminal_closed_all_saturday_and_sunday() {
        for h in 0..24 {
            assert!(!open(Audience::Terminal, hk(SAT, h, 0, 0)), "Sat {h}:00");
            assert!(!open(Audience::Terminal, hk(SUN, h, 30, 0)), "Sun {h}:30");
            assert!(!open(Audience::Dms, hk(SUN, h, 30, 0)), "Sun {h}:30");
        }
    }

    #[test]
    fn operator_always_open() {
        let always_holiday = |_: NaiveDate| true;
        for t in [hk(SUN, 3, 0, 0), hk(SAT, 22, 0, 0), hk(MON, 12, 0, 0)] {
            assert_eq!(check(Audience::Operator, t, &always_holiday), Ok(()));
        }
    }

    #[test]
    fn reopening_times() {
        let a = Audience::Dms;
        // Before opening on a working day: later the same day.
        assert_eq!(reopens(a, hk(MON, 6, 59, 59), &no_holidays), "Mon 2026-11-16 07:00:00 +0800");
        // Friday evening: Saturday morning for DMS, Monday for the terminal.
        assert_eq!(reopens(a, hk(FRI, 19, 30, 0), &no_holidays), "Sat 2026-11-21 09:00:00 +0800");
        assert_eq!(reopens(Audience::Terminal, hk(FRI, 22, 0, 0), &no_holidays), "Mon 2026-11-23 07:00:00 +0800");
        // Saturday at closing and early Saturday.
        assert_eq!(reopens(a, hk(SAT, 13, 0, 0), &no_holidays), "Mon 2026-11-23 07:00:00 +0800");
        assert_eq!(reopens(a, hk(SAT, 8, 0, 0), &no_holidays), "Sat 2026-11-21 09:00:00 +0800");
        assert_eq!(reopens(Audience::Terminal, hk(SAT, 10, 0, 0), &no_holidays), "Mon 2026-11-23 07:00:00 +0800");
        // Sunday: Monday.
        assert_eq!(reopens(a, hk(SUN, 23, 59, 59), &no_holidays), "Mon 2026-11-23 07:00:00 +0800");
        // After Monday's closing: Tuesday.
        assert_eq!(reopens(a, hk(MON, 19, 0, 0), &no_holidays), "Tue 2026-11-17 07:00:00 +0800");
    }

    #[test]
    fn holidays_are_closed_and_skipped() {
        let mon = NaiveDate::from_ymd_opt(2026, 11, MON).expect("valid");
        let tue = mon.succ_opt().expect("valid");
        let holiday = move |d: NaiveDate| d == mon || d == tue;
        let closed = check(Audience::Dms, hk(MON, 10, 0, 0), &holiday).expect_err("holiday");
        assert_eq!(closed.reopens_at.map(|t| t.to_rfc3339()), Some("2026-11-18T07:00:00+08:00".to_string()));
        assert!(check(Audience::Terminal, hk(MON, 10, 0, 0), &holiday).is_err());
        // A holiday Saturday sends DMS to Monday.
        let sat = NaiveDate::from_ymd_opt(2026, 11, SAT).expect("valid");
        let holiday = move |d: NaiveDate| d == sat;
        assert!(check(Audience::Dms, hk(SAT, 10, 0, 0), &holiday).is_err());
        assert_eq!(reopens(Audience::Dms, hk(FRI, 20, 0, 0), &holiday), "Mon 2026-11-23 07:00:00 +0800");
    }

    #[test]
    fn holiday_is_judged_on_the_hong_kong_date() {
        // 23:30 UTC Sunday is 07:30 Monday in Hong Kong: Monday's holiday status decides.
        let t = Utc.with_ymd_and_hms(2026, 11, 22, 23, 30, 0).single().expect("valid");
        let mon = NaiveDate::from_ymd_opt(2026, 11, 23).expect("valid");
        assert_eq!(check(Audience::Dms, t, &no_holidays), Ok(()));
        assert!(check(Audience::Dms, t, &|d| d == mon).is_err());
    }

    #[test]
    fn message_format() {
        let closed = check(Audience::Dms, hk(SUN, 12, 0, 0), &no_holidays).expect_err("Sunday");
        assert_eq!(
            closed.to_string(),
            "outside service hours (DMS: 07:00-19:00 Mon-Fri, 09:00-13:00 Sat, closed on public \
             holidays); service reopens Mon 23-Nov-2026 07:00 HKT"
        );
        let closed = check(Audience::Terminal, hk(SUN, 12, 0, 0), &no_holidays).expect_err("Sun");
        assert_eq!(
            closed.to_string(),
            "outside service hours (Terminal: 07:00-21:30 Mon-Fri, closed on public holidays); \
             service reopens Mon 23-Nov-2026 07:00 HKT"
        );
    }

    #[test]
    fn no_reopening_is_reported_not_a_panic() {
        let always = |_: NaiveDate| true;
        let closed = check(Audience::Dms, hk(MON, 10, 0, 0), &always).expect_err("closed");
        assert_eq!(closed.reopens_at, None);
        assert!(closed.to_string().contains("no reopening found in the next 400 days"));
        // At the end of chrono's calendar the search stops instead of overflowing.
        let late = hm(20, 0).expect("valid");
        assert_eq!(next_opening(Audience::Dms, NaiveDate::MAX, late, None, &no_holidays), None);
    }

    #[test]
    fn utc_to_hong_kong() {
        let t = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).single().expect("valid");
        let local = hong_kong(t);
        assert_eq!(local.to_rfc3339(), "2026-11-23T08:00:00+08:00");
        assert_eq!(local.weekday(), Weekday::Mon);
        // 16:00 UTC is midnight in Hong Kong: the date rolls over.
        let t = Utc.with_ymd_and_hms(2026, 11, 20, 16, 0, 0).single().expect("valid");
        assert_eq!(hong_kong(t).weekday(), Weekday::Sat);
        assert!(!open(Audience::Terminal, t));
    }
}
