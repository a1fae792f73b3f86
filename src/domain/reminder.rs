//! Reminders (`hkex remind`): which thresholds a password has crossed, and how an address is
//! shown in a run's output (a cron job's mail or log is read by more people than the operator).

use super::password_policy;
use chrono::{DateTime, Duration, Utc};

/// Days before the 90-day expiry at which `hkex remind expiring` reminds, by default.
pub const EXPIRY_THRESHOLDS: &[i64] = &[14, 7, 1];

/// The thresholds (days before expiry) that a password set at `set_at` has crossed at `now`:
/// those with the expiry at most that many days away. None once it has expired (the next
/// logon asks for a change anyway).
pub fn crossed(set_at: DateTime<Utc>, now: DateTime<Utc>, thresholds: &[i64]) -> Vec<i64> {
    let expiry = password_policy::expires_at(set_at);
    if expiry <= now {
        return Vec::new();
    }
    let mut out: Vec<i64> = thresholds.iter().copied().filter(|t| expiry - now <= Duration::days(*t)).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// At most one reminder of a kind per user per Hong Kong day, whatever thresholds a run asks
/// for (issue 18 #7: ten runs with `--days 80` … `89` sent seven mails to every user).
pub fn may_remind(last_sent: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    let day = |t| crate::domain::hours::hong_kong(t).date_naive();
    last_sent.is_none_or(|t| day(t) != day(now))
}

/// Whole days left before `expiry`, rounded up (an expiry 30 hours away is "in 2 days").
pub fn days_left(expiry: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let secs = (expiry - now).num_seconds().max(0);
    (secs + 86_399) / 86_400
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(days: i64, hours: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("t") + Duration::days(days) + Duration::hours(hours)
    }

    #[test]
    fn thresholds_are_crossed_as_the_expiry_comes_near() {
        let set = t(0, 0);
        assert!(crossed(set, t(75, 0), EXPIRY_THRESHOLDS).is_empty(), "15 days left");
        assert_eq!(crossed(set, t(76, 0), EXPIRY_THRESHOLDS), vec![14], "exactly 14 days left");
        assert_eq!(crossed(set, t(85, 0), EXPIRY_THRESHOLDS), vec![7, 14], "5 days left: two crossed at once");
        assert_eq!(crossed(set, t(89, 1), EXPIRY_THRESHOLDS), vec![1, 7, 14]);
        assert!(crossed(set, t(90, 0), EXPIRY_THRESHOLDS).is_empty(), "expired");
        assert_eq!(crossed(set, t(60, 0), &[30, 30]), vec![30]);
    }

    #[test]
    fn one_reminder_of_a_kind_a_day() {
        assert!(may_remind(None, t(0, 0)));
        // t(d, 0) is 16:00 in Hong Kong: its day turns at t(d, 8).
        assert!(!may_remind(Some(t(3, 0)), t(3, 7)), "the same Hong Kong day");
        assert!(may_remind(Some(t(3, 7)), t(3, 8)), "midnight in Hong Kong");
        assert!(may_remind(Some(t(3, 1)), t(4, 1)));
    }

    #[test]
    fn days_left_round_up() {
        assert_eq!(days_left(t(1, 6), t(0, 0)), 2);
        assert_eq!(days_left(t(1, 0), t(0, 0)), 1);
        assert_eq!(days_left(t(0, 0), t(1, 0)), 0);
    }
}
