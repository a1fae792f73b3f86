//! Lockout (SPEC §3): 5 consecutive unsuccessful logins within 30 minutes (sliding window),
//! 3 wrong OTPs = 1 unsuccessful login, a success resets both counts, and a locked account is
//! refused everywhere with a message naming who can unlock it.

use crate::support::*;

fn login_at(d: &mut Dms, minute: i64, user: &str, password: &str, code: &str) -> Run {
    d.at(MONDAY_10).advance(mins(minute));
    d.login(None, user, password, code)
}

#[test]
fn five_wrong_passwords_in_29_minutes_lock_a_business_user() {
    let mut d = Dms::ready();
    let phc = d.cred(USER1, "password_phc");
    for minute in [0, 7, 14, 21] {
        let r = login_at(&mut d, minute, USER1, WRONG_PASSWORD, "12345678");
        assert_eq!(r.code, 3, "failure at minute {minute} does not lock yet:\n{r}");
    }
    assert_eq!(d.cred(USER1, "locked_at IS NULL"), "1");

    let r = login_at(&mut d, 29, USER1, WRONG_PASSWORD, "12345678");
    assert_eq!(r.code, 4, "{r}");
    let msg = r.message();
    assert!(msg.contains("locked") && msg.contains("Delegated Administrator"), "{msg}");
    assert_eq!(d.cred(USER1, "locked_at IS NOT NULL"), "1");

    // Locked: the right password, an OTP request and a self-service reset are all refused.
    d.advance(mins(1));
    let mailed = d.otp_lines().len();
    let msg = d.fails(4, &["login", "--user", USER1, "--password-stdin", "--otp", "12345678"], Some(&line(PASSWORD)));
    assert!(msg.contains("Delegated Administrator"), "{msg}");
    let msg = d.fails(4, &["otp", "request", "--user", USER1], None);
    assert!(msg.contains("locked"), "{msg}");
    let msg = d.fails(
        4,
        &["password", "reset", "--user", USER1, "--otp", "12345678", "--password-stdin"],
        Some(&line(NEW_PASSWORD)),
    );
    assert!(msg.contains("locked"), "{msg}");
    assert_eq!(d.otp_lines().len(), mailed, "no OTP is sent to a locked account");
    assert_eq!(d.cred(USER1, "password_phc"), phc, "the password is unchanged");
}

#[test]
fn a_locked_da_is_told_to_go_through_the_exchange_with_da3() {
    let mut d = Dms::ready();
    for minute in 0..4 {
        assert_eq!(login_at(&mut d, minute, DA_MAKER, WRONG_PASSWORD, "123456").code, 3);
    }
    let r = login_at(&mut d, 4, DA_MAKER, WRONG_PASSWORD, "123456");
    assert_eq!(r.code, 4, "{r}");
    let msg = r.message();
    assert!(msg.contains("locked") && msg.contains("DA3"), "{msg}");
    assert_eq!(d.cred(DA_MAKER, "locked_at IS NOT NULL"), "1");
}

#[test]
fn failures_ten_minutes_apart_do_not_lock() {
    let mut d = Dms::ready();
    let secret = op_secret();
    for minute in [0, 10, 20, 30, 40] {
        let r = login_at(&mut d, minute, OPERATOR, WRONG_PASSWORD, "123456");
        assert_eq!(r.code, 3, "failure at minute {minute}:\n{r}");
    }
    assert_eq!(d.cred(OPERATOR, "locked_at IS NULL"), "1");
    d.at(MONDAY_10).advance(mins(41));
    let r = d.login_app(None, OPERATOR, PASSWORD, &secret);
    assert_eq!(r.code, 0, "the sixth attempt, right password and OTP, signs in:\n{r}");
}

#[test]
fn three_wrong_otps_count_as_one_failed_login() {
    let mut d = Dms::ready();
    let secret = op_secret();
    for minute in 0..4 {
        assert_eq!(login_at(&mut d, minute, OPERATOR, WRONG_PASSWORD, "123456").code, 3);
    }
    // The right password with a wrong code: two misses are not yet a failed login...
    for minute in [4, 5] {
        d.at(MONDAY_10).advance(mins(minute));
        let wrong = d.wrong_totp(&secret);
        let r = d.login(None, OPERATOR, PASSWORD, &wrong);
        assert_eq!(r.code, 3, "wrong OTP at minute {minute}:\n{r}");
    }
    assert_eq!(d.cred(OPERATOR, "otp_misses"), "2");
    assert_eq!(d.cred(OPERATOR, "locked_at IS NULL"), "1");
    // ...the third is, and it is the fifth within 30 minutes.
    d.at(MONDAY_10).advance(mins(6));
    let wrong = d.wrong_totp(&secret);
    let r = d.login(None, OPERATOR, PASSWORD, &wrong);
    assert_eq!(r.code, 4, "{r}");
    assert!(r.message().contains("locked"), "{r}");
    assert_eq!(d.cred(OPERATOR, "locked_at IS NOT NULL"), "1");
}

#[test]
fn a_successful_logon_resets_the_counts() {
    let mut d = Dms::ready();
    let secret = op_secret();
    for minute in 0..4 {
        assert_eq!(login_at(&mut d, minute, OPERATOR, WRONG_PASSWORD, "123456").code, 3);
    }
    for minute in [4, 5] {
        d.at(MONDAY_10).advance(mins(minute));
        let wrong = d.wrong_totp(&secret);
        assert_eq!(d.login(None, OPERATOR, PASSWORD, &wrong).code, 3);
    }
    d.at(MONDAY_10).advance(mins(6));
    assert_eq!(d.login_app(None, OPERATOR, PASSWORD, &secret).code, 0);
    assert_eq!(d.cred(OPERATOR, "failures || '/' || otp_misses"), "/0");

    // Without the reset, this wrong OTP would be the third miss and the fifth failure...
    d.at(MONDAY_10).advance(mins(7));
    let wrong = d.wrong_totp(&secret);
    assert_eq!(d.login(None, OPERATOR, PASSWORD, &wrong).code, 3);
    // ...and this wrong password the fifth failure within 30 minutes.
    let r = login_at(&mut d, 8, OPERATOR, WRONG_PASSWORD, "123456");
    assert_eq!(r.code, 3, "{r}");
    assert_eq!(d.cred(OPERATOR, "locked_at IS NULL"), "1");
    assert_eq!(d.cred(OPERATOR, "otp_misses"), "1");
    assert_eq!(d.cred(OPERATOR, "failures"), "2026-11-23T02:08:00Z");
}
