//! HKEX password policy (seed section 4, Appendix C f) and password expiry (Appendix D a).
//!
//! At least 16 characters, 1 digit, 1 lower-case, 1 upper-case letter and 1 special character
//! from `!@#$%^&*()`. Every failed rule is named. A password expires 90 days after it was set.
//! Beyond the seed: at most 256 characters (bounds the hashing work), no control characters,
//! and a new password must differ from the current one (checked by the caller, who holds the
//! hash).

use chrono::{DateTime, Duration, Utc};
use std::fmt;

pub const MIN_LENGTH: usize = 16;
pub const MAX_LENGTH: usize = 256;
pub const SPECIALS: &str = "!@#$%^&*()";
pub const EXPIRY_DAYS: i64 = 90;

/// One rule of the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    MinLength,
    Digit,
    Lower,
    Upper,
    Special,
    MaxLength,
    NoControl,
}

impl Rule {
    pub fn describe(self) -> &'static str {
        match self {
            Rule::MinLength => "at least 16 characters",
            Rule::Digit => "at least 1 number",
            Rule::Lower => "at least 1 lower-case letter",
            Rule::Upper => "at least 1 capital letter",
            Rule::Special => "at least 1 special character from !@#$%^&*()",
            Rule::MaxLength => "at most 256 characters",
            Rule::NoControl => "no control characters",
        }
    }
}

/// The policy in a few words, for the prompt before a new password is typed.
pub fn summary() -> String {
    format!(
        "{MIN_LENGTH}-{MAX_LENGTH} characters, with a digit, a lower-case and a capital letter and one of {SPECIALS}"
    )
}

/// The rules a candidate password broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyViolation {
    pub failed: Vec<Rule>,
}

impl fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rules: Vec<&str> = self.failed.iter().map(|r| r.describe()).collect();
        write!(f, "password does not meet the HKEX password policy: needs {}", rules.join("; "))
    }
}

impl std::error::Error for PolicyViolation {}

/// Check a candidate password against every rule and name each one it breaks.
pub fn check(password: &str) -> Result<(), PolicyViolation> {
    let len = password.chars().count();
    let mut failed = Vec::new();
    if len < MIN_LENGTH {
        failed.push(Rule::MinLength);
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        failed.push(Rule::Digit);
    }
    if !password.chars().any(|c| c.is_lowercase()) {
        failed.push(Rule::Lower);
    }
    if !password.chars().any(|c| c.is_uppercase()) {
        failed.push(Rule::Upper);
    }
    if !password.chars().any(|c| SPECIALS.contains(c)) {
        failed.push(Rule::Special);
    }
    if len > MAX_LENGTH {
        failed.push(Rule::MaxLength);
    }
    if password.chars().any(char::is_control) {
        failed.push(Rule::NoControl);
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(PolicyViolation { failed })
    }
}

/// When a password set at `set_at` expires.
pub fn expires_at(set_at: DateTime<Utc>) -> DateTime<Utc> {
    set_at + Duration::days(EXPIRY_DAYS)
}

/// Has a password set at `set_at` expired at `now`?
pub fn is_expired(set_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now >= expires_at(set_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "Correct-Horse7Battery!";

    #[test]
    fn a_password_meeting_every_rule_passes() {
        assert_eq!(check(GOOD), Ok(()));
        assert_eq!(check("Aa1!Aa1!Aa1!Aa1!"), Ok(()), "exactly 16 characters");
    }

    #[test]
    fn each_rule_is_named_when_broken() {
        let cases = [
            ("Aa1!Aa1!Aa1!Aa1", Rule::MinLength),
            ("Aa!Aa!Aa!Aa!Aa!Aa!", Rule::Digit),
            ("AA1!AA1!AA1!AA1!", Rule::Lower),
            ("aa1!aa1!aa1!aa1!", Rule::Upper),
            ("Aa1-Aa1-Aa1-Aa1-", Rule::Special),
        ];
        for (pw, rule) in cases {
            assert_eq!(check(pw), Err(PolicyViolation { failed: vec![rule] }), "{pw}");
        }
    }

    #[test]
    fn all_broken_rules_are_listed_together() {
        let err = check("abc").expect_err("weak");
        assert_eq!(err.failed, vec![Rule::MinLength, Rule::Digit, Rule::Upper, Rule::Special]);
        let text = err.to_string();
        assert!(text.contains("at least 16 characters") && text.contains("special character"), "{text}");
    }

    #[test]
    fn only_the_listed_specials_count() {
        assert!(check("Aa1_Aa1_Aa1_Aa1_").is_err());
        for c in SPECIALS.chars() {
            assert_eq!(check(&format!("Aa1{c}Aa1{c}Aa1{c}Aa1{c}")), Ok(()), "{c}");
        }
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 15 characters, more than 16 bytes.
        assert_eq!(check("Ää1!Ää1!Ää1!Ää1").expect_err("short").failed, vec![Rule::MinLength]);
        assert!(check(&format!("{GOOD}{}", "x".repeat(300))).expect_err("long").failed.contains(&Rule::MaxLength));
        assert!(check("Aa1!Aa1!Aa1!Aa1!\n").expect_err("control").failed.contains(&Rule::NoControl));
    }

    #[test]
    fn expiry_is_90_days_after_setting() {
        let set = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").expect("time").with_timezone(&Utc);
        assert!(!is_expired(set, set + Duration::days(90) - Duration::seconds(1)));
        assert!(is_expired(set, set + Duration::days(90)));
        assert_eq!(expires_at(set).to_rfc3339(), "2026-04-01T00:00:00+00:00");
    }
}
