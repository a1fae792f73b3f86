//! Passwords (SPEC §3): self-service reset (app users only), the policy, Change Password,
//! and the 90-day expiry.

use crate::harness::*;

#[test]
fn an_app_user_resets_the_password_with_an_app_code() {
    let w = World::ready();
    let code = w.totp_at(OPERATOR, 0);
    let r = w
        .run(&["password", "reset", "--user", OPERATOR, "--otp", &code, "--password-stdin"], Some(&line(NEW_PASSWORD)))
        .ok();
    assert_eq!(r.json()["password_set"], true);

    w.advance(mins(1));
    let code = w.totp_at(OPERATOR, 0);
    // The old password no longer works; the refusal does not use up the code.
    w.login_with(OPERATOR, PASSWORD, &code).refused(Exit::Auth, &["wrong password"]);
    w.login_with(OPERATOR, NEW_PASSWORD, &code).ok();
}

#[test]
fn an_email_otp_user_cannot_reset_the_password_itself() {
    let w = World::ready();
    let phc = w.cred(USER1, "password_phc");
    let msg = w.fails(
        Exit::NotPermitted,
        &["password", "reset", "--user", USER1, "--otp", "12345678", "--password-stdin"],
        Some(&line(NEW_PASSWORD)),
    );
    assert!(msg.contains("Delegated Administrator"), "{msg}");
    assert_eq!(w.cred(USER1, "password_phc"), phc);
}

#[test]
fn password_policy_violations_name_the_failed_rules_and_change_nothing() {
    let w = World::ready();
    w.otp_request(USER2).ok();
    let otp = w.last_otp();
    let reset = |password: &str| {
        w.run(&["password", "reset", "--user", USER2, "--otp", &otp, "--password-stdin"], Some(&line(password)))
    };

    let msg = reset("short").expect(Exit::Invalid).message();
    for rule in ["at least 16 characters", "at least 1 number", "at least 1 capital letter", "special character"] {
        assert!(msg.contains(rule), "{rule:?} missing from: {msg}");
    }
    let msg = reset("Abcdefghijklmnop1").expect(Exit::Invalid).message();
    assert!(msg.contains("special character"), "{msg}");
    assert!(!msg.contains("16 characters") && !msg.contains("number"), "only the failed rule is named: {msg}");

    assert_eq!(w.cred(USER2, "password_phc IS NULL"), "1");
    assert_eq!(w.sql("SELECT used_at IS NULL FROM email_otps WHERE user_id = 'B0123402'"), "1");
    // The OTP is still good for a password that meets the policy.
    reset(PASSWORD).ok();
}

#[test]
fn changing_the_password_ends_other_sessions_and_sends_a_notice() {
    let w = World::ready();
    w.login(OPERATOR).ok();
    w.advance(mins(1));
    w.sign_in("second", OPERATOR, PASSWORD, &w.totp(OPERATOR)).ok();
    w.advance(mins(1));
    let change = |stdin: &str| w.as_user_stdin(OPERATOR, &["password", "change", "--password-stdin"], stdin);

    change(&two_lines(NEW_PASSWORD, WRONG_PASSWORD)).refused(Exit::Auth, &["wrong password"]);
    change(&two_lines(PASSWORD, PASSWORD)).refused(Exit::Invalid, &["differ"]);
    assert_eq!(w.cred(OPERATOR, "password_set_at"), "2026-11-23T01:00:00Z", "unchanged so far");

    let notices = || w.mails().iter().filter(|m| m.contains("\nSubject: CCASS: Password changed\n")).count();
    let before = notices();
    let v = change(&two_lines(NEW_PASSWORD, PASSWORD)).ok().json();
    assert_eq!(v["user_id"], OPERATOR);
    assert_eq!(v["password_changed"], true);
    assert_eq!(w.cred(OPERATOR, "password_set_at"), "2026-11-23T02:02:00Z");

    assert_eq!(w.op(&["whoami"]).ok().json()["user_id"], OPERATOR, "this session stays");
    w.as_user("second", &["whoami"]).refused(Exit::Auth, &["ended"]);
    assert_eq!(notices(), before + 1, "a notification is mailed");
    assert!(!w.mbox().contains(NEW_PASSWORD), "the mail holds no password");
}

#[test]
fn an_expired_password_must_be_changed_before_signing_in() {
    let w = World::ready();
    // The fixture set the password on Monday 23 November 2026 at 09:00 HKT: it expires 90
    // days later (the operator is not bound by service hours, so a Sunday will do).
    w.at("2027-02-21T08:59:00+08:00");
    w.sign_in("earlier", OPERATOR, PASSWORD, &w.totp(OPERATOR)).ok(); // not yet expired

    w.at("2027-02-21T09:00:00+08:00");
    w.login(OPERATOR).refused(Exit::Locked, &["expired", "dms password change --user HKEXOP01"]);
    assert!(!w.path(&World::session_file(OPERATOR)).exists(), "no session is written");

    // No session: name the user.
    let v =
        w.ok(&["password", "change", "--user", OPERATOR, "--password-stdin"], Some(&two_lines(NEW_PASSWORD, PASSWORD)));
    assert_eq!(v["password_changed"], true);
    w.advance(mins(1));
    w.login_with(OPERATOR, NEW_PASSWORD, &w.totp(OPERATOR)).ok();
}
