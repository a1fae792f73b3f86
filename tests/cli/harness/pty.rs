//! Pseudo-terminal runs: `dms` at a real terminal, its clock a file (`DMS_NOW=@FILE`) the test
//! moves while a prompt is open.

use super::{dms_bin, World};
use expectrl::session::OsSession as Session;
use expectrl::Expect;
use std::path::Path;
use std::time::Duration;

/// `dms ARGS` in a pseudo-terminal, its clock read from `clock` at every check.
pub fn at_terminal(w: &World, clock: &Path, args: &[&str]) -> Session {
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

pub fn set_clock(clock: &Path, t: chrono::DateTime<chrono::Utc>) {
    std::fs::write(clock, t.to_rfc3339()).expect("writing the clock file");
}

/// Wait for the end; its exit code. A dms still waiting for input after the expect timeout is
/// killed and the test fails, rather than hanging.
pub fn exit_code(mut s: Session) -> i32 {
    if s.expect(expectrl::Eof).is_err() {
        let _ = s.get_process_mut().kill(expectrl::process::unix::Signal::SIGKILL);
        panic!("dms did not finish: it is still asking for something");
    }
    match s.get_process_mut().wait().expect("waiting for dms") {
        expectrl::process::unix::WaitStatus::Exited(_, code) => code,
        other => panic!("dms ended with {other:?}"),
    }
}
