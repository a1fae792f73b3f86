//! One-time passwords (SPEC §3): the authenticator-app TOTP and the e-mail OTP.
//!
//! TOTP is OATH RFC 6238 as ForgeRock Authenticator and every standard app use it: HMAC-SHA-1,
//! 6 digits, 30-second steps, key URI `otpauth://totp/HKEX:<user ID>?secret=…&issuer=HKEX`
//! (algorithm, digits and period are left out, so apps assume SHA1/6/30). A code is accepted
//! for the current step ±1 and at most once: a step at or before the last accepted one is a
//! replay. E-mail OTPs are 8 digits, valid 5 minutes, single use, and can be requested only
//! once every 5 minutes (seed Appendix C e).

use chrono::{DateTime, Duration, Utc};
use totp_rs::{Algorithm, Builder, Secret, Totp};

pub const ISSUER: &str = "HKEX";
pub const TOTP_DIGITS: u8 = 6;
pub const TOTP_STEP_SECONDS: u64 = 30;
pub const TOTP_SKEW_STEPS: u16 = 1;
/// 160-bit keys, as RFC 4226 recommends.
pub const TOTP_KEY_BYTES: usize = 20;
pub const EMAIL_OTP_DIGITS: usize = 8;

/// How long an e-mail OTP stays valid.
pub fn email_otp_validity() -> Duration {
    Duration::minutes(5)
}

/// How often an e-mail OTP can be requested.
pub fn email_otp_throttle() -> Duration {
    Duration::minutes(5)
}

/// Why a TOTP code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpReject {
    /// Not the code of the current step ±1.
    Wrong,
    /// The code of a step already used.
    Replayed,
}

fn totp(key: &[u8], account: &str) -> Option<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(TOTP_DIGITS)
        .with_skew(TOTP_SKEW_STEPS)
        .with_step_duration(TOTP_STEP_SECONDS)
        .with_secret(Secret::from(key.to_vec()))
        .with_issuer(Some(ISSUER))
        .with_account_name(account)
        .build()
        .ok()
}

/// The `otpauth://` key URI an authenticator app scans (issuer HKEX, account = user ID).
pub fn key_uri(key: &[u8], user_id: &str) -> Option<String> {
    totp(key, user_id)?.to_url().ok()
}

/// The code an app shows at `unix_time` (for the demo and tests; the server only verifies).
pub fn totp_code(key: &[u8], unix_time: u64) -> Option<String> {
    Some(totp(key, "")?.generate(unix_time).to_string())
}

/// Verify a TOTP code at `unix_time`, given the last step accepted for this key.
/// Returns the step to remember as the new last step.
pub fn verify_totp(key: &[u8], code: &str, unix_time: u64, last_step: Option<u64>) -> Result<u64, TotpReject> {
    let code = code.trim();
    let t = totp(key, "").ok_or(TotpReject::Wrong)?;
    let origin = unix_time / TOTP_STEP_SECONDS;
    let lo = origin.saturating_sub(u64::from(TOTP_SKEW_STEPS));
    let hi = origin + u64::from(TOTP_SKEW_STEPS);
    // Check every step of the window (no early exit) so timing does not tell which matched.
    let mut matched = None;
    for step in lo..=hi {
        let candidate = t.generate(step * TOTP_STEP_SECONDS).to_string();
        let same = subtle_eq(candidate.as_bytes(), code.as_bytes());
        if same && matched.is_none() {
            matched = Some(step);
        }
    }
    match matched {
        None => Err(TotpReject::Wrong),
        Some(step) if last_step.is_some_and(|last| step <= last) => Err(TotpReject::Replayed),
        Some(step) => Ok(step),
    }
}

fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Turn 8 random bytes into a uniformly distributed 8-digit code (rejection sampling keeps
/// the modulo unbiased; the caller draws again on `None`).
pub fn email_otp_from_random(random: u64) -> Option<String> {
    const SPACE: u64 = 100_000_000;
    let limit = u64::MAX - (u64::MAX % SPACE);
    (random < limit).then(|| format!("{:08}", random % SPACE))
}

/// Does this string look like an OTP at all (so a typo is "invalid input", not a failure)?
pub fn is_code_shaped(code: &str, digits: usize) -> bool {
    let c = code.trim();
    c.len() == digits && c.bytes().all(|b| b.is_ascii_digit())
}

/// The stored state of the outstanding e-mail OTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssuedEmailOtp {
    pub issued_at: DateTime<Utc>,
    /// Sent because the user asked (`otp request`), rather than as a step of set-up.
    pub requested: bool,
    pub used: bool,
}

/// May a new e-mail OTP be requested now? Only once every 5 minutes: a requested code that is
/// still unused blocks a new request until 5 minutes after it was issued. A code that has been
/// used, or one sent automatically as part of a set-up step, does not. Err holds the time a
/// request is possible again.
pub fn may_request_email_otp(prev: Option<&IssuedEmailOtp>, now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
    match prev {
        Some(p) if p.requested && !p.used && now < p.issued_at + email_otp_throttle() => {
            Err(p.issued_at + email_otp_throttle())
        }
        _ => Ok(()),
    }
}

/// Why an e-mail OTP cannot be accepted even before its code is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailOtpReject {
    None,
    Expired,
    Used,
}

/// Is the outstanding e-mail OTP still usable at `now`?
pub fn email_otp_usable(issued: Option<&IssuedEmailOtp>, now: DateTime<Utc>) -> Result<(), EmailOtpReject> {
    match issued {
        None => Err(EmailOtpReject::None),
        Some(i) if i.used => Err(EmailOtpReject::Used),
        Some(i) if now >= i.issued_at + email_otp_validity() => Err(EmailOtpReject::Expired),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_KEY: &[u8] = b"12345678901234567890";

    fn rfc(algorithm: Algorithm, key: &[u8], digits: u8) -> Totp {
        Builder::new()
            .with_algorithm(algorithm)
            .with_digits(digits)
            .with_step_duration(30)
            .with_secret(Secret::from(key.to_vec()))
            .build()
            .expect("RFC parameters are valid")
    }

    /// RFC 4226 appendix D: HOTP(K, C) for C = 0..9. TOTP with a 30 s step at T = 30·C is
    /// HOTP with counter C, so the same generator must give these.
    #[test]
    fn rfc4226_appendix_d_hotp_vectors() {
        let expected =
            ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
        let t = rfc(Algorithm::SHA1, RFC_KEY, 6);
        for (counter, want) in expected.iter().enumerate() {
            assert_eq!(t.generate(counter as u64 * 30).to_string(), *want, "counter {counter}");
        }
    }

    /// RFC 6238 appendix B, all three hash functions, 8 digits.
    #[test]
    fn rfc6238_appendix_b_totp_vectors() {
        let times = [59u64, 1111111109, 1111111111, 1234567890, 2000000000, 20000000000];
        let sha1 = ["94287082", "07081804", "14050471", "89005924", "69279037", "65353130"];
        let sha256 = ["46119246", "68084774", "67062674", "91819424", "90698825", "77737706"];
        let sha512 = ["90693936", "25091201", "99943326", "93441116", "38618901", "47863826"];
        let k256 = b"12345678901234567890123456789012";
        let k512 = b"1234567890123456789012345678901234567890123456789012345678901234";
        for (i, time) in times.iter().enumerate() {
            assert_eq!(rfc(Algorithm::SHA1, RFC_KEY, 8).generate(*time).to_string(), sha1[i]);
            assert_eq!(rfc(Algorithm::SHA256, k256, 8).generate(*time).to_string(), sha256[i]);
            assert_eq!(rfc(Algorithm::SHA512, k512, 8).generate(*time).to_string(), sha512[i]);
        }
    }

    #[test]
    fn production_parameters_are_sha1_six_digits_thirty_seconds() {
        // RFC 6238's SHA-1 vector at T=59 is 94287082; its last 6 digits are our code.
        assert_eq!(totp_code(RFC_KEY, 59).as_deref(), Some("287082"));
        assert_eq!(verify_totp(RFC_KEY, "287082", 59, None), Ok(1));
    }

    #[test]
    fn current_step_plus_minus_one_is_accepted_and_two_is_not() {
        let now = 1_800_000_015u64; // step 60_000_000
        let step = now / 30;
        for delta in [-1i64, 0, 1] {
            let s = (step as i64 + delta) as u64;
            let code = totp_code(RFC_KEY, s * 30).expect("code");
            assert_eq!(verify_totp(RFC_KEY, &code, now, None), Ok(s), "delta {delta}");
        }
        for delta in [-2i64, 2] {
            let s = (step as i64 + delta) as u64;
            let code = totp_code(RFC_KEY, s * 30).expect("code");
            // A code two steps away could still collide with a nearby one by chance; this key
            // and time were checked not to.
            assert_eq!(verify_totp(RFC_KEY, &code, now, None), Err(TotpReject::Wrong), "delta {delta}");
        }
    }

    #[test]
    fn a_code_is_accepted_at_most_once() {
        let now = 1_800_000_015u64;
        let code = totp_code(RFC_KEY, now).expect("code");
        let step = verify_totp(RFC_KEY, &code, now, None).expect("first use");
        assert_eq!(verify_totp(RFC_KEY, &code, now + 5, Some(step)), Err(TotpReject::Replayed));
        // An older (previous-step) code after a newer one is a replay too.
        let older = totp_code(RFC_KEY, now - 30).expect("code");
        assert_eq!(verify_totp(RFC_KEY, &older, now, Some(step)), Err(TotpReject::Replayed));
        let next = totp_code(RFC_KEY, now + 30).expect("code");
        assert_eq!(verify_totp(RFC_KEY, &next, now + 30, Some(step)), Ok(step + 1));
    }

    #[test]
    fn malformed_codes_are_wrong_not_panics() {
        for bad in ["", "12345", "1234567", "abcdef", "12 456", "١٢٣٤٥٦", "'; DROP TABLE users;--"] {
            assert_eq!(verify_totp(RFC_KEY, bad, 59, None), Err(TotpReject::Wrong), "{bad:?}");
        }
    }

    #[test]
    fn key_uri_names_issuer_and_account_and_leaves_defaults_out() {
        let uri = key_uri(RFC_KEY, "HKEXOP01").expect("uri");
        assert!(uri.starts_with("otpauth://totp/HKEX:HKEXOP01?"), "{uri}");
        assert!(uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), "{uri}");
        assert!(uri.contains("issuer=HKEX"), "{uri}");
        // Apps assume SHA1 / 6 digits / 30 s when these are absent, which is what we use.
        assert!(!uri.contains("algorithm=") && !uri.contains("digits=") && !uri.contains("period="), "{uri}");
    }

    #[test]
    fn email_otp_codes_are_eight_digits_and_unbiased() {
        assert_eq!(email_otp_from_random(0).as_deref(), Some("00000000"));
        assert_eq!(email_otp_from_random(123_456_789).as_deref(), Some("23456789"));
        assert_eq!(email_otp_from_random(u64::MAX), None, "top of the range is redrawn");
        assert!(is_code_shaped("01234567", 8) && !is_code_shaped("0123456", 8) && !is_code_shaped("0123456a", 8));
    }

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T02:00:00Z").expect("time").with_timezone(&Utc) + Duration::minutes(min)
    }

    #[test]
    fn email_otp_is_valid_for_five_minutes_and_once() {
        let i = IssuedEmailOtp { issued_at: at(0), requested: true, used: false };
        assert_eq!(email_otp_usable(Some(&i), at(4) + Duration::seconds(59)), Ok(()));
        assert_eq!(email_otp_usable(Some(&i), at(5)), Err(EmailOtpReject::Expired));
        let used = IssuedEmailOtp { used: true, ..i };
        assert_eq!(email_otp_usable(Some(&used), at(1)), Err(EmailOtpReject::Used));
        assert_eq!(email_otp_usable(None, at(1)), Err(EmailOtpReject::None));
    }

    #[test]
    fn email_otp_can_be_requested_once_every_five_minutes() {
        let i = IssuedEmailOtp { issued_at: at(0), requested: true, used: false };
        assert_eq!(may_request_email_otp(Some(&i), at(4)), Err(at(5)));
        assert_eq!(may_request_email_otp(Some(&i), at(5)), Ok(()));
        assert_eq!(may_request_email_otp(None, at(0)), Ok(()));
        // A used code, or one sent as a set-up step, does not hold the next request back.
        assert_eq!(may_request_email_otp(Some(&IssuedEmailOtp { used: true, ..i }), at(1)), Ok(()));
        assert_eq!(may_request_email_otp(Some(&IssuedEmailOtp { requested: false, ..i }), at(1)), Ok(()));
    }
}

/// The OTP channel a user chose at first logon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpChannel {
    /// Authenticator app (TOTP).
    App,
    /// E-mail OTP.
    Email,
}

impl OtpChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            OtpChannel::App => "app",
            OtpChannel::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<OtpChannel> {
        match s {
            "app" => Some(OtpChannel::App),
            "email" => Some(OtpChannel::Email),
            _ => None,
        }
    }
}
