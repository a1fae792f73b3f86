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
    // With a wrong code the answer is an unknown ID's (SPEC §3)...
    let reset = |code: &str| {
        w.run(&["password", "reset", "--user", USER1, "--otp", code, "--password-stdin"], Some(&line(NEW_PASSWORD)))
    };
    reset("12345678").refused(Exit::Auth, &["wrong, expired or already used one-time password"]);
    // ...and with the right one, what the account may do is said.
    w.advance(mins(5));
    w.otp_request(USER1).ok();
    let msg = reset(&w.last_otp()).expect(Exit::NotPermitted).message();
    assert!(msg.contains("Delegated Administrator"), "{msg}");
    assert_eq!(w.cred(USER1, "password_phc"), phc);
}

/// Issue 18 #5: `password reset` with a wrong code answered an unknown ID (exit 3), an app user
/// (exit 6, "6 digits"), an e-mail-OTP user (exit 5) and a disabled one (exit 4) differently;
/// `otp request` a disabled account with exit 4 and an unknown one with 0; `login` said
/// "unknown user ID" and "has no password yet". Now each is answered alike.
#[test]
fn nothing_about_an_account_is_told_before_a_valid_secret_for_it() {
    let w = World::ready();
    // B0123402: no password yet. B01234X1: password, no OTP channel. B0123401: e-mail OTP.
    w.sql_write("UPDATE users SET status = 'DISABLED' WHERE user_id = 'B0123403'");
    let answer = |r: Run| (r.exit(), r.message());
    let reset = |user: &str, code: &str| {
        answer(
            w.run(&["password", "reset", "--user", user, "--otp", code, "--password-stdin"], Some(&line(NEW_PASSWORD))),
        )
    };
    for code in ["12345678", "123456"] {
        let unknown = reset("B0123499", code);
        assert_eq!(unknown.0, Exit::Auth, "{unknown:?}");
        for user in [OPERATOR, USER1, USER2, USER3, MAKER] {
            assert_eq!(reset(user, code), unknown, "{user} with {code}");
        }
    }
    // A code of neither shape is refused alike, before anything is looked up.
    let bad = reset("B0123499", "1234567");
    assert_eq!((bad.0, reset(OPERATOR, "1234567")), (Exit::Invalid, bad.clone()));

    // otp request: a disabled account like an unknown one, and nothing is sent to it.
    let sent = w.otps().len();
    let shape = |r: Run| {
        let mut v = r.ok().json();
        v.as_object_mut().map(|o| o.remove("user_id"));
        v
    };
    assert_eq!(shape(w.otp_request(USER3)), shape(w.otp_request("B0123499")));
    assert_eq!(w.otps().len(), sent);

    // login: an unknown ID and one with no password yet are wrong passwords.
    for user in ["B0123499", USER2] {
        w.login_with(user, PASSWORD, "123456").refused(Exit::Auth, &["wrong password"]);
    }
    let wrong = w.login_with(USER1, WRONG_PASSWORD, "12345678").expect(Exit::Auth).message();
    assert_eq!(w.login_with("B0123499", PASSWORD, "123456").message(), wrong);
    // The audit trail says what really happened.
    let reasons = w.sql("SELECT detail FROM audit WHERE action = 'signin.unmatched'");
    assert!(reasons.contains("unknown user ID") && reasons.contains("no password yet"), "{reasons}");
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
