//! Prompts at a real terminal (a pseudo-terminal): a code is checked at the moment it is typed,
//! not when the command started. The clock is a file (`DMS_NOW=@FILE`) the test moves while the
//! prompt is open.

use crate::harness::*;
use expectrl::session::OsSession as Session;
use expectrl::{Expect, Regex};
use std::path::Path;
use std::time::Duration;

/// `dms ARGS` in a pseudo-terminal, its clock read from `clock` at every check.
fn at_terminal(w: &World, clock: &Path, args: &[&str]) -> Session {
    let mut cmd = std::process::Command::new(dms_bin());
    cmd.env_clear()
        .current_dir(w.dir())
        .env("DMS_NOW", format!("@{}", clock.display()))
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .args(args);
    let mut s = Session::spawn(cmd).expect("dms in a pseudo-terminal");
    s.set_expect_timeout(Some(Duration::from_secs(30)));
    s
}

fn set_clock(clock: &Path, t: chrono::DateTime<chrono::Utc>) {
    std::fs::write(clock, t.to_rfc3339()).expect("writing the clock file");
}

/// Wait for the end; its exit code.
fn exit_code(mut s: Session) -> i32 {
    let _ = s.expect(expectrl::Eof);
    match s.get_process_mut().wait().expect("waiting for dms") {
        expectrl::process::unix::WaitStatus::Exited(_, code) => code,
        other => panic!("dms ended with {other:?}"),
    }
}

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
fn an_email_otp_that_expired_while_the_prompt_was_open_is_refused() {
    let w = World::ready();
    let clock = w.path("clock");
    let t0 = w.now();
    set_clock(&clock, t0);
    let mut s = at_terminal(&w, &clock, &["--session", "B0123401.session", "login", "--user", USER1]);
    s.expect("Password").expect("the password prompt");
    s.send_line(PASSWORD).expect("typing");
    s.expect("OTP from the e-mail").expect("the OTP prompt");
    let code = w.last_otp();
    set_clock(&clock, t0 + chrono::Duration::minutes(5) + chrono::Duration::seconds(1));
    s.send_line(&code).expect("typing the code");
    assert_eq!(exit_code(s), Exit::Auth.code(), "the OTP was valid when mailed, not when typed");
    w.set_now(t0 + chrono::Duration::minutes(6));
    w.as_user(USER1, &["whoami"]).expect(Exit::Auth);
}
