//! Passwords (SPEC §3): self-service reset (app users only), the policy, Change Password,
//! and the 90-day expiry.

use crate::support::*;

#[test]
fn an_app_user_resets_the_password_with_an_app_code() {
    let mut d = Dms::ready();
    let secret = op_secret();
    let r = d.run(
        &["password", "reset", "--user", OPERATOR, "--otp", &d.totp(&secret, 0), "--password-stdin"],
        Some(&line(NEW_PASSWORD)),
    );
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(r.json()["password_set"], true);

    d.advance(mins(1));
    let r = d.login_app(None, OPERATOR, PASSWORD, &secret);
    assert_eq!(r.code, 3, "the old password no longer works:\n{r}");
    assert!(r.message().contains("wrong password"), "{r}");
    assert_eq!(d.login_app(None, OPERATOR, NEW_PASSWORD, &secret).code, 0);
}

#[test]
fn an_email_otp_user_cannot_reset_the_password_itself() {
    let d = Dms::ready();
    let phc = d.cred(USER1, "password_phc");
    let msg = d.fails(
        5,
        &["password", "reset", "--user", USER1, "--otp", "12345678", "--password-stdin"],
        Some(&line(NEW_PASSWORD)),
    );
    assert!(msg.contains("Delegated Administrator"), "{msg}");
    assert_eq!(d.cred(USER1, "password_phc"), phc);
}

#[test]
fn password_policy_violations_name_the_failed_rules_and_change_nothing() {
    let d = Dms::ready();
    d.ok(&["otp", "request", "--user", USER2], None);
    let otp = d.last_otp();
    let reset = |password: &str| {
        d.run(&["password", "reset", "--user", USER2, "--otp", &otp, "--password-stdin"], Some(&line(password)))
    };

    let r = reset("short");
    assert_eq!(r.code, 6, "{r}");
    let msg = r.message();
    for rule in ["at least 16 characters", "at least 1 number", "at least 1 capital letter", "special character"] {
        assert!(msg.contains(rule), "{rule:?} missing from: {msg}");
    }
    let r = reset("Abcdefghijklmnop1");
    assert_eq!(r.code, 6, "{r}");
    let msg = r.message();
    assert!(msg.contains("special character"), "{msg}");
    assert!(!msg.contains("16 characters") && !msg.contains("number"), "only the failed rule is named: {msg}");

    assert_eq!(d.cred(USER2, "password_phc IS NULL"), "1");
    assert_eq!(d.sql("SELECT used_at IS NULL FROM email_otps WHERE user_id = 'B0123402'"), "1");
    // The OTP is still good for a password that meets the policy.
    let r = reset(PASSWORD);
    assert_eq!(r.code, 0, "{r}");
}

#[test]
fn changing_the_password_ends_other_sessions_and_sends_a_notice() {
    let mut d = Dms::ready();
    let secret = op_secret();
    assert_eq!(d.login_app(None, OPERATOR, PASSWORD, &secret).code, 0);
    d.advance(mins(1));
    assert_eq!(d.login_app(Some("second.session"), OPERATOR, PASSWORD, &secret).code, 0);
    d.advance(mins(1));
    let change = ["password", "change", "--password-stdin"];

    let msg = d.fails(3, &change, Some(&two_lines(NEW_PASSWORD, WRONG_PASSWORD)));
    assert!(msg.contains("wrong password"), "{msg}");
    let msg = d.fails(6, &change, Some(&two_lines(PASSWORD, PASSWORD)));
    assert!(msg.contains("differ"), "{msg}");
    assert_eq!(d.cred(OPERATOR, "password_set_at"), "2026-11-23T01:00:00Z", "unchanged so far");

    let notices = |d: &Dms| d.mails().iter().filter(|m| m.contains("\nSubject: CCASS: Password changed\n")).count();
    let before = notices(&d);
    let v = d.ok(&change, Some(&two_lines(NEW_PASSWORD, PASSWORD)));
    assert_eq!(v["user_id"], OPERATOR);
    assert_eq!(v["password_changed"], true);
    assert_eq!(d.cred(OPERATOR, "password_set_at"), "2026-11-23T02:02:00Z");

    assert_eq!(d.ok(&["whoami"], None)["user_id"], OPERATOR, "this session stays");
    let msg = d.fails(3, &["--session", "second.session", "whoami"], None);
    assert!(msg.contains("ended"), "{msg}");
    assert_eq!(notices(&d), before + 1, "a notification is mailed");
    assert!(!d.mbox().contains(NEW_PASSWORD), "the mail holds no password");
}

#[test]
fn an_expired_password_must_be_changed_before_signing_in() {
    let mut d = Dms::ready();
    let secret = op_secret();
    // The fixture set the password on Monday 23 November 2026 at 09:00 HKT: it expires 90
    // days later (the operator is not bound by service hours, so a Sunday will do).
    d.at("2027-02-21T08:59:00+08:00");
    assert_eq!(d.login_app(Some("earlier.session"), OPERATOR, PASSWORD, &secret).code, 0, "not yet expired");

    d.at("2027-02-21T09:00:00+08:00");
    let r = d.login_app(None, OPERATOR, PASSWORD, &secret);
    assert_eq!(r.code, 4, "{r}");
    let msg = r.message();
    assert!(msg.contains("expired") && msg.contains("dms password change --user HKEXOP01"), "{msg}");
    assert!(!d.file("dms.db.session").exists());

    // No session: name the user.
    let v =
        d.ok(&["password", "change", "--user", OPERATOR, "--password-stdin"], Some(&two_lines(NEW_PASSWORD, PASSWORD)));
    assert_eq!(v["password_changed"], true);
    d.advance(mins(1));
    let r = d.login_app(None, OPERATOR, NEW_PASSWORD, &secret);
    assert_eq!(r.code, 0, "{r}");
}
