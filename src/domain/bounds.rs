//! The range of every number a caller gives (SPEC §9: a number outside its range is invalid
//! input, exit 6, before anything is read or written). One table: each flag's range is here and
//! nowhere else, so `report expiring --days 100000000` cannot reach date arithmetic that
//! overflows, whichever client built the call.

use std::fmt;
use std::ops::RangeInclusive;

/// A numeric flag and the values it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    pub flag: &'static str,
    pub lo: i64,
    pub hi: i64,
    /// What the number counts, for the message (`days`, `accounts`).
    pub unit: &'static str,
}

/// Ten years of days: longer than any password lifetime, dormancy or retention question, and
/// far inside what date arithmetic can hold.
const TEN_YEARS: i64 = 3_650;

/// `report expiring --days`: passwords expiring within N days.
pub const EXPIRING_DAYS: Bound = Bound { flag: "--days", lo: 0, hi: TEN_YEARS, unit: "days" };
/// `report dormant --days`: not signed in for N days.
pub const DORMANT_DAYS: Bound = Bound { flag: "--days", lo: 0, hi: TEN_YEARS, unit: "days" };
/// `listing --inactive-days`.
pub const INACTIVE_DAYS: Bound = Bound { flag: "--inactive-days", lo: 0, hi: TEN_YEARS, unit: "days" };
/// `hkex remind expiring --days`: a threshold before a password expires (it lives 90 days).
pub const REMIND_DAYS: Bound = Bound { flag: "--days", lo: 0, hi: 90, unit: "days" };
/// `report audit --after-seq`: any sequence number a trail can reach.
pub const AFTER_SEQ: Bound = Bound { flag: "--after-seq", lo: 0, hi: i64::MAX, unit: "" };
/// `request show --page`.
pub const PAGE: Bound = Bound { flag: "--page", lo: 1, hi: 1_000_000, unit: "" };
/// `hkex da4 --accounts`: additional user accounts in one application.
pub const DA4_ACCOUNTS: Bound = Bound { flag: "--accounts", lo: 1, hi: 5_000, unit: "accounts" };

impl Bound {
    pub fn range(&self) -> RangeInclusive<i64> {
        self.lo..=self.hi
    }

    /// `v` if it is in range, else the message naming the flag and its range.
    pub fn check(&self, v: i64) -> Result<i64, OutOfRange> {
        if self.range().contains(&v) {
            Ok(v)
        } else {
            Err(OutOfRange { bound: *self, value: v })
        }
    }

    /// The same for an optional flag.
    pub fn check_opt(&self, v: Option<i64>) -> Result<Option<i64>, OutOfRange> {
        v.map(|v| self.check(v)).transpose()
    }
}

/// A number outside its flag's range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfRange {
    pub bound: Bound,
    pub value: i64,
}

impl fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Bound { flag, lo, hi, unit } = self.bound;
        let unit = if unit.is_empty() { String::new() } else { format!(" {unit}") };
        if hi == i64::MAX {
            write!(f, "{flag} {}: must be {lo} or more{unit}", self.value)
        } else {
            write!(f, "{flag} {}: must be {lo} to {hi}{unit}", self.value)
        }
    }
}

impl std::error::Error for OutOfRange {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_at_either_end_is_in_and_one_past_is_out() {
        for b in [EXPIRING_DAYS, DORMANT_DAYS, INACTIVE_DAYS, REMIND_DAYS, PAGE, DA4_ACCOUNTS] {
            assert_eq!(b.check(b.lo), Ok(b.lo));
            assert_eq!(b.check(b.hi), Ok(b.hi));
            assert!(b.check(b.lo - 1).is_err() && b.check(b.hi + 1).is_err(), "{b:?}");
            assert!(b.check(i64::MIN).is_err() && b.check(i64::MAX).is_err());
        }
        assert_eq!(AFTER_SEQ.check(i64::MAX), Ok(i64::MAX));
    }

    #[test]
    fn the_message_names_the_flag_the_value_and_the_range() {
        let e = EXPIRING_DAYS.check(100_000_000).unwrap_err().to_string();
        assert_eq!(e, "--days 100000000: must be 0 to 3650 days");
        assert_eq!(AFTER_SEQ.check(-1).unwrap_err().to_string(), "--after-seq -1: must be 0 or more");
    }

    #[test]
    fn every_day_count_in_range_is_safe_date_arithmetic() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").expect("a time");
        for b in [EXPIRING_DAYS, DORMANT_DAYS, INACTIVE_DAYS, REMIND_DAYS] {
            let d = chrono::Duration::try_days(b.hi).expect("a duration");
            assert!(now.checked_add_signed(d).is_some() && now.checked_sub_signed(d).is_some());
        }
    }
}
