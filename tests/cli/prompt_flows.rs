//! Interactive flows that must never trap anyone (SPEC §3, §8): a first-time logon interrupted
//! after the e-mail OTP and again at the QR code resumes where it stopped; a checker who types a
//! code already used is told to wait for the next one and asked again.

use crate::harness::*;
use expectrl::{Expect, Regex};

/// Stop a run in the middle, as closing the terminal would.
fn interrupt(mut s: expectrl::session::OsSession) {
    let _ = s.get_process_mut().kill(expectrl::process::unix::Signal::SIGKILL);
    let _ = s.get_process_mut().wait();
}

/// The key under a QR code on the terminal.
fn key_shown(s: &mut expectrl::session::OsSession) -> String {
    let found = s.expect(Regex(r"Key \(if you cannot scan\): ([A-Z2-7 ]+)")).expect("the key under the QR code");
    String::from_utf8_lossy(found.get(1).expect("the key")).replace(' ', "")
}

#[test]
fn a_first_time_logon_interrupted_after_the_email_otp_and_at_the_qr_code_resumes() {
    let w = World::demo();
    let clock = w.path("clock");
    let t0 = w.now();
    set_clock(&clock, t0);
    let login = ["--session", "B0123402.session", "login", "--user", USER2];

    // 1. The password is asked of every ID alike; Enter alone is the first-time path. The
    //    e-mail OTP is sent; the user walks away at the new-password prompt.
    let mut s = at_terminal(&w, &clock, &login);
    s.expect("consent to the processing of their personal data").expect("the sign-in notice");
    s.expect("Enter alone if you have none yet").expect("the password prompt");
    s.send_line("").expect("none yet");
    s.expect("First-time logon or forgotten password").expect("the first-time path");
    // The policy is said before anything is typed (issue 20).
    s.expect("New password (16-256 characters, with a digit, a lower-case and a capital letter and one of !@#$%^&*())")
        .expect("the new-password prompt, with the policy");
    interrupt(s);
    let mailed = w.last_otp();

    // 2. A minute later: the code already sent still works, and no second one is sent (not
    //    refused as "too soon" either).
    set_clock(&clock, t0 + chrono::Duration::minutes(1));
    let mut s = at_terminal(&w, &clock, &login);
    s.expect("Enter alone if you have none yet").expect("the password prompt");
    s.send_line("").expect("none yet");
    s.expect("one sent in the last 5 minutes still works").expect("the earlier code is usable");
    s.expect("New password").expect("prompt");
    s.send_line(PASSWORD).expect("typing");
    s.expect("Confirm password").expect("prompt");
    s.send_line(PASSWORD).expect("typing");
    s.expect("app code or e-mail OTP").expect("prompt");
    s.send_line(&mailed).expect("typing the first code");
    s.expect("Now sign in with it").expect("the password is set");
    s.expect("Password").expect("the sign-in prompt");
    s.send_line(PASSWORD).expect("typing");
    s.expect("Set up your OTP channel").expect("the channel choice");
    s.send_line("").expect("the default: register a device");
    let first_key = key_shown(&mut s);
    s.expect("Code from your authenticator app").expect("prompt");
    // ...and walks away at the QR code.
    interrupt(s);
    assert_eq!(w.otps().len(), 1, "no second OTP was needed");

    // 3. The next login offers a new QR code (the default) and finishes with it.
    let t2 = t0 + chrono::Duration::minutes(3);
    set_clock(&clock, t2);
    let mut s = at_terminal(&w, &clock, &login);
    s.expect("Password").expect("prompt");
    s.send_line(PASSWORD).expect("typing");
    s.expect("registration was not finished").expect("told");
    s.expect("How do you want to go on?").expect("the choice");
    s.send_line("").expect("a new QR code");
    let key = key_shown(&mut s);
    assert_ne!(key, first_key, "a new key: the one shown before is dropped");
    s.expect("Code from your authenticator app").expect("prompt");
    s.send_line(oathtool(&key, t2)).expect("typing the code");
    s.expect("Logon Success").expect("the seed's message");
    assert_eq!(exit_code(s), 0);
    w.set_now(t2);
    assert_eq!(w.as_user(USER2, &["whoami"]).ok().json()["user_id"], USER2);
    assert_eq!((w.cred(USER2, "otp_channel"), w.cred(USER2, "otp_confirmed")), ("app".to_string(), "1".to_string()));
}

#[test]
fn a_first_time_logon_interrupted_at_the_qr_code_can_go_on_with_the_code_already_scanned() {
    let w = World::ready();
    let clock = w.path("clock");
    let t0 = w.now();
    set_clock(&clock, t0);
    let login = ["--session", "B01234X1.session", "login", "--user", MAKER];
    let mut s = at_terminal(&w, &clock, &login);
    s.expect("Password").expect("prompt");
    s.send_line(PASSWORD).expect("typing");
    s.expect("Set up your OTP channel").expect("the channel choice");
    s.send_line("").expect("register a device");
    let key = key_shown(&mut s);
    interrupt(s);

    // The app scanned it before the terminal closed: "I scanned it already" (the second choice).
    let t1 = t0 + chrono::Duration::minutes(1);
    set_clock(&clock, t1);
    let mut s = at_terminal(&w, &clock, &login);
    s.expect("Password").expect("prompt");
    s.send_line(PASSWORD).expect("typing");
    s.expect("How do you want to go on?").expect("the choice");
    s.send("\x1b[B").expect("down");
    s.send_line("").expect("I scanned it already");
    s.expect("Code from your authenticator app").expect("prompt");
    s.send_line(oathtool(&key, t1)).expect("typing the code");
    s.expect("Logon Success").expect("signed in");
    assert_eq!(exit_code(s), 0);
}

#[test]
fn a_replayed_code_at_approve_is_told_to_wait_for_the_next_and_asked_again() {
    let w = World::with_das();
    let first = w.submit(MAKER, &["user", "change", USER1, "--surname", "CHEUNG-LI"]);
    let second = w.submit(MAKER, &["user", "change", USER2, "--limit", "2500"]);
    // The checker authorises the first with this step's code...
    w.approve(CHECKER, &[first]).ok();
    let used = w.totp_at(CHECKER, 0);
    let clock = w.path("clock");
    let t0 = w.now();
    set_clock(&clock, t0);

    // ...and types the same code for the second, at a terminal.
    let mut s = at_terminal(&w, &clock, &["--session", "B01234X2.session", "request", "approve", &second.to_string()]);
    s.expect("Current").expect("the field table before anything is typed");
    s.expect("2,500.00").expect("the proposed limit in HKD");
    s.expect("Authorise 1 request?").expect("the confirmation");
    s.send("y").expect("yes");
    s.expect("Authorisation code - your password").expect("prompt");
    s.send_line(PASSWORD).expect("typing");
    s.expect("Authorisation code - your OTP").expect("prompt");
    s.send_line(&used).expect("typing the used code");
    s.expect("already used").expect("told the code was used");
    s.expect("wait for the app's next code").expect("told what to do");
    s.expect("Authorisation code - your OTP").expect("asked again");
    let next = t0 + chrono::Duration::seconds(30);
    set_clock(&clock, next);
    s.send_line(oathtool(&w.key(CHECKER), next)).expect("typing the next code");
    assert_eq!(exit_code(s), 0);
    w.set_now(next);
    assert_eq!(w.request_show(MAKER, second)["status"], "APPROVED");
}

#[test]
fn an_inline_checker_sees_the_change_before_typing_the_authorisation_code() {
    let w = World::with_das();
    let clock = w.path("clock");
    let t0 = w.now() + chrono::Duration::seconds(30);
    set_clock(&clock, t0);
    let mut s = at_terminal(
        &w,
        &clock,
        &["--session", "B01234X1.session", "user", "change", USER1, "--limit", "2500", "--checker", CHECKER],
    );
    s.expect("This is an end-user profile").expect("the screen first");
    s.expect("1,000,000.00").expect("the current limit");
    s.expect("2,500.00").expect("the proposed limit");
    s.expect("Authorisation code - password of B01234X2").expect("then the code");
    s.send_line(PASSWORD).expect("typing");
    s.expect("Authorisation code - OTP of B01234X2").expect("prompt");
    s.send_line(oathtool(&w.key(CHECKER), t0)).expect("typing");
    s.expect("THE ABOVE USER PROFILE IS CHANGED SUCCESSFULLY").expect("the seed's line");
    assert_eq!(exit_code(s), 0);
    w.set_now(t0);
    assert_eq!(w.enquire(MAKER, USER1)["transaction_limit_hkd"], "2500.00");
}
