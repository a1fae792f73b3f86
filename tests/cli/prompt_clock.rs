//! Prompts at a real terminal (a pseudo-terminal): a code is checked at the moment it is typed,
//! not when the command started. The clock is a file (`DMS_NOW=@FILE`) the test moves while the
//! prompt is open.

use crate::harness::*;
use expectrl::{Expect, Regex};

#[test]
fn an_app_code_typed_65_seconds_after_the_qr_code_is_checked_when_it_is_typed() {
    let w = World::ready();
    let clock = w.path("clock");
    let t0 = w.now();
    set_clock(&clock, t0);
    let mut s = at_terminal(&w, &clock, &["--session", "B01234X1.session", "login", "--user", MAKER]);
    s.expect("Password").expect("the password prompt");
    s.send_line(PASSWORD).expect("typing");
    s.expect("Set up your OTP channel").expect("the channel choice");
    s.send_line("").expect("choosing: register device");
    let key = s.expect(Regex(r"Key \(if you cannot scan\): ([A-Z2-7 ]+)")).expect("the key under the QR code");
    let key = String::from_utf8_lossy(key.get(1).expect("the key")).replace(' ', "");
    s.expect("Code from your authenticator app").expect("the code prompt");
    // A slow scan: the app shows its code 65 seconds later, two steps on.
    let typed_at = t0 + chrono::Duration::seconds(65);
    set_clock(&clock, typed_at);
    s.send_line(oathtool(&key, typed_at)).expect("typing the code");
    assert_eq!(exit_code(s), 0, "a code right at the moment it is typed is accepted");
    w.set_now(typed_at);
    assert_eq!(w.as_user(MAKER, &["whoami"]).ok().json()["user_id"], MAKER);
}

#[test]
fn an_email_otp_that_expired_while_the_prompt_was_open_is_refused_and_replaced() {
    let w = World::ready();
    let clock = w.path("clock");
    let t0 = w.now();
    set_clock(&clock, t0);
    let mut s = at_terminal(&w, &clock, &["--session", "B0123401.session", "login", "--user", USER1]);
    s.expect("Password").expect("the password prompt");
    s.send_line(PASSWORD).expect("typing");
    s.expect("OTP from the e-mail").expect("the OTP prompt");
    let code = w.last_otp();
    let late = t0 + chrono::Duration::minutes(5) + chrono::Duration::seconds(1);
    set_clock(&clock, late);
    s.send_line(&code).expect("typing the code");
    // Refused at the moment it is typed: it was valid when mailed, not now...
    s.expect("expired").expect("told the code is no good");
    // ...and a new one is sent, and asked for.
    s.expect("A new OTP was sent").expect("a new code");
    s.expect("OTP from the e-mail").expect("asked again");
    let fresh = w.last_otp();
    assert_ne!(fresh, code);
    s.send_line(&fresh).expect("typing the new code");
    assert_eq!(exit_code(s), 0);
    let misses = format!("SELECT COUNT(*) FROM audit WHERE action = 'signin.fail.otp' AND subject = '{USER1}'");
    assert_eq!(w.count(&misses), 1, "the expired code counted as one miss (the sign-in then reset the count)");
    w.set_now(late);
    w.as_user(USER1, &["whoami"]).ok();
}
