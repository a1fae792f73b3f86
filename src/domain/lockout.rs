//! Account lockout (seed 4.1.2 / 4.2.2, SPEC §3).
//!
//! "Access will be locked after 5 consecutive unsuccessful attempts of login within 30
//! minutes, while 3 consecutive unsuccessful attempts of entering OTP will be counted to 1
//! unsuccessful attempt of login." The window slides: the account locks when the last five
//! consecutive failures all fall within 30 minutes of each other (inclusive). A successful
//! logon resets both counts. Wrong authorisation codes count the same way against a checker.

use chrono::{DateTime, Duration, Utc};

/// Consecutive failures that lock an account.
pub const MAX_FAILURES: usize = 5;
/// Wrong OTP entries that count as one failed login.
pub const OTP_MISSES_PER_FAILURE: u32 = 3;

/// The sliding window the failures must fall into.
pub fn window() -> Duration {
    Duration::minutes(30)
}

/// The rule, in one place: do these consecutive failures (oldest first) lock the account?
pub fn should_lock(failures: &[DateTime<Utc>]) -> bool {
    if failures.len() < MAX_FAILURES {
        return false;
    }
    let last_five = &failures[failures.len() - MAX_FAILURES..];
    last_five[MAX_FAILURES - 1] - last_five[0] <= window()
}

/// The failure counters kept for one account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureState {
    /// Consecutive failed logins since the last success, oldest first (at most five kept:
    /// older ones can never matter again).
    pub failures: Vec<DateTime<Utc>>,
    /// Consecutive wrong OTP entries not yet counted as a failure.
    pub otp_misses: u32,
}

/// What a failure did to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Still open.
    Open,
    /// This failure locked the account.
    Locked,
}

impl FailureState {
    /// A wrong password (or authorisation code) at `at`.
    pub fn record_failure(&mut self, at: DateTime<Utc>) -> AfterFailure {
        self.failures.push(at);
        if self.failures.len() > MAX_FAILURES {
            let extra = self.failures.len() - MAX_FAILURES;
            self.failures.drain(..extra);
        }
        if should_lock(&self.failures) {
            AfterFailure::Locked
        } else {
            AfterFailure::Open
        }
    }

    /// A wrong OTP at `at`: every third consecutive one is a failed login.
    pub fn record_otp_miss(&mut self, at: DateTime<Utc>) -> AfterFailure {
        self.otp_misses += 1;
        if self.otp_misses >= OTP_MISSES_PER_FAILURE {
            self.otp_misses = 0;
            self.record_failure(at)
        } else {
            AfterFailure::Open
        }
    }

    /// A successful logon.
    pub fn reset(&mut self) {
        self.failures.clear();
        self.otp_misses = 0;
    }

    /// The storage form of `failures`: RFC 3339 times separated by spaces.
    pub fn encode_failures(&self) -> String {
        self.failures.iter().map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).collect::<Vec<_>>().join(" ")
    }

    /// Read the storage form back; unreadable entries are dropped rather than trusted.
    pub fn decode(failures: &str, otp_misses: u32) -> Self {
        let failures = failures
            .split_whitespace()
            .filter_map(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc))
            .collect();
        FailureState { failures, otp_misses }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T01:00:00Z").expect("fixed time").with_timezone(&Utc)
            + Duration::minutes(min)
    }

    fn run(minutes: &[i64]) -> AfterFailure {
        let mut s = FailureState::default();
        let mut last = AfterFailure::Open;
        for m in minutes {
            last = s.record_failure(t(*m));
        }
        last
    }

    #[test]
    fn five_failures_in_29_minutes_lock() {
        assert_eq!(run(&[0, 7, 14, 21, 29]), AfterFailure::Locked);
    }

    #[test]
    fn five_failures_ten_minutes_apart_do_not_lock() {
        assert_eq!(run(&[0, 10, 20, 30, 40]), AfterFailure::Open);
    }

    #[test]
    fn the_window_is_inclusive_at_exactly_30_minutes() {
        assert_eq!(run(&[0, 10, 20, 25, 30]), AfterFailure::Locked);
        let mut s = FailureState::default();
        for m in [0, 10, 20, 25] {
            s.record_failure(t(m));
        }
        assert_eq!(s.record_failure(t(30) + Duration::seconds(1)), AfterFailure::Open);
    }

    #[test]
    fn four_failures_never_lock() {
        assert_eq!(run(&[0, 1, 2, 3]), AfterFailure::Open);
    }

    #[test]
    fn the_window_slides_over_older_failures() {
        // 0 and 40 are too far apart, but 40..55 holds five.
        assert_eq!(run(&[0, 40, 45, 50, 52, 55]), AfterFailure::Locked);
        assert_eq!(run(&[0, 40, 45, 50, 52]), AfterFailure::Open);
    }

    #[test]
    fn three_wrong_otps_are_one_failure() {
        let mut s = FailureState::default();
        assert_eq!(s.record_otp_miss(t(0)), AfterFailure::Open);
        assert_eq!(s.record_otp_miss(t(0)), AfterFailure::Open);
        assert!(s.failures.is_empty());
        s.record_otp_miss(t(1));
        assert_eq!(s.failures.len(), 1);
        assert_eq!(s.otp_misses, 0);
    }

    #[test]
    fn fifteen_wrong_otps_in_a_row_lock() {
        let mut s = FailureState::default();
        let mut last = AfterFailure::Open;
        for i in 0..15 {
            last = s.record_otp_miss(t(i));
        }
        assert_eq!(last, AfterFailure::Locked);
    }

    #[test]
    fn a_success_resets_both_counts() {
        let mut s = FailureState::default();
        for m in [0, 1, 2, 3] {
            s.record_failure(t(m));
        }
        s.record_otp_miss(t(4));
        s.reset();
        assert_eq!(s, FailureState::default());
        assert_eq!(s.record_failure(t(5)), AfterFailure::Open);
    }

    #[test]
    fn storage_form_round_trips_and_keeps_only_five() {
        let mut s = FailureState::default();
        for m in [0, 50, 100, 150, 200, 250, 300] {
            s.record_failure(t(m));
        }
        assert_eq!(s.failures.len(), MAX_FAILURES);
        let back = FailureState::decode(&s.encode_failures(), 2);
        assert_eq!(back.failures, s.failures);
        assert_eq!(back.otp_misses, 2);
        assert_eq!(FailureState::decode("garbage 2026-11-23T01:00:00Z", 0).failures, vec![t(0)]);
    }
}
