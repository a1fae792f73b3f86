//! Property tests of the domain rules (proptest): each rule against a plain restatement of
//! the SPEC, over many generated inputs.

#[cfg(test)]
mod tests {
    use crate::domain::lockout::{self, AfterFailure, FailureState};
    use crate::domain::password_policy;
    use crate::domain::profile;
    use crate::domain::user_id::{self, ClearingHouse, IdKind, ParticipantId};
    use chrono::{DateTime, Duration, Utc};
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T01:00:00Z").expect("fixed time").with_timezone(&Utc)
    }

    proptest! {
        /// SPEC §3: the account locks exactly when the last five consecutive failures fall
        /// within 30 minutes, whatever came before.
        #[test]
        fn lockout_matches_the_sliding_window_rule(gaps in proptest::collection::vec(0i64..1200, 1..20)) {
            let mut state = FailureState::default();
            let mut times = Vec::new();
            let mut t = t0();
            for g in gaps {
                t += Duration::seconds(g);
                times.push(t);
                let got = state.record_failure(t);
                let n = times.len();
                let expected = n >= 5 && times[n - 1] - times[n - 5] <= lockout::window();
                prop_assert_eq!(got == AfterFailure::Locked, expected);
                if got == AfterFailure::Locked {
                    break;
                }
            }
        }

        /// Three wrong OTPs are one failure: 3k misses record exactly k failures.
        #[test]
        fn every_third_wrong_otp_is_one_failure(misses in 0usize..14) {
            let mut state = FailureState::default();
            for i in 0..misses {
                state.record_otp_miss(t0() + Duration::hours(i as i64));
            }
            prop_assert_eq!(state.failures.len(), (misses / 3).min(lockout::MAX_FAILURES));
            prop_assert_eq!(state.otp_misses as usize, misses % 3);
        }

        /// The password policy accepts exactly the passwords that meet every rule.
        #[test]
        fn password_policy_matches_its_rules(pw in "[ -~]{0,24}") {
            let ok = pw.chars().count() >= 16
                && pw.chars().any(|c| c.is_ascii_digit())
                && pw.chars().any(|c| c.is_ascii_lowercase())
                && pw.chars().any(|c| c.is_ascii_uppercase())
                && pw.chars().any(|c| "!@#$%^&*()".contains(c));
            prop_assert_eq!(password_policy::check(&pw).is_ok(), ok);
        }

        /// Transaction limits: integer cents survive formatting and parsing unchanged.
        #[test]
        fn money_round_trips_through_its_display_form(cents in 0i64..=999_999_999_999) {
            prop_assert_eq!(profile::money_cents(&profile::format_cents(cents)).ok(), Some(cents));
        }

        /// Every generated business-user ID is valid for its participant and never looks like
        /// a DA's; the IDs are distinct.
        #[test]
        fn generated_user_ids_are_valid_business_ids(code in "[A-Z0-9]{3}", take in 1usize..1300, hk in any::<bool>()) {
            let (house, pid) = if hk { (ClearingHouse::Hkcc, format!("HK{code}")) } else { (ClearingHouse::HkscCp, format!("B{code}99")) };
            let pid = ParticipantId::parse(&pid, house).expect("a valid participant ID");
            let ids: Vec<_> = user_id::business_user_id_candidates(&pid, house).take(take).collect();
            let distinct: std::collections::HashSet<&str> = ids.iter().map(|i| i.as_str()).collect();
            prop_assert_eq!(distinct.len(), ids.len());
            for id in &ids {
                prop_assert_eq!(user_id::classify(id, &pid, house).ok(), Some(IdKind::BusinessUser));
                prop_assert!(user_id::check_business_user_id(id, &pid, house).is_ok());
            }
        }
    }
}
