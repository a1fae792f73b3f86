//! The scripting contract (SPEC §8): secrets never hang and never come from argv, the test
//! clock is refused on a real database, JSON errors, and the generated help.

use crate::harness::*;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn a_secret_needed_without_password_stdin_fails_fast_on_a_pipe() {
    let w = World::ready();
    let args = ["login", "--user", OPERATOR, "--otp", "123456"];
    let start = Instant::now();
    let r = w.run(&args, None).expect(Exit::Usage);
    assert!(r.message().contains("--password-stdin"), "{r}");
    assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());

    // The same with a pipe that stays open and never delivers a line.
    let start = Instant::now();
    let mut child = w
        .command(None, &[&["--format", "json"], &args[..]].concat())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn dms");
    let _open_pipe = child.stdin.take();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("dms waited for a secret on an open pipe");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(Exit::of(status.code().unwrap_or(-1)), Some(Exit::Usage));
    assert_eq!(w.cred(OPERATOR, "failures || '/' || otp_misses"), "/0", "not an attempt");
}

#[test]
fn password_stdin_without_the_lines_exits_2() {
    let w = World::ready();
    let msg = w.fails(Exit::Usage, &["login", "--user", OPERATOR, "--password-stdin", "--otp", "123456"], Some(""));
    assert!(msg.contains("no password"), "{msg}");
    // Change Password reads two lines: the new password, then the current one.
    let msg = w.fails(
        Exit::Usage,
        &["password", "change", "--user", OPERATOR, "--password-stdin"],
        Some(&line(NEW_PASSWORD)),
    );
    assert!(msg.contains("current password"), "{msg}");
    assert_eq!(w.cred(OPERATOR, "password_set_at"), "2026-11-23T01:00:00Z", "nothing changed");
}

#[test]
fn dms_now_is_refused_by_a_database_without_the_test_clock() {
    let w = World::empty(MONDAY_10);
    let msg = w.fails(Exit::Usage, &["init", "--operator-email", OPERATOR_EMAIL], None);
    assert!(msg.contains("DMS_NOW") && msg.contains("--allow-test-clock"), "{msg}");
    assert!(!w.path("dms.db").exists() && !w.path("dms.db.key").exists(), "nothing is created");

    let mut real_clock = w.command(None, &["--format", "json", "init", "--operator-email", OPERATOR_EMAIL]);
    real_clock.env_remove("DMS_NOW");
    w.run_command(real_clock, None).ok();
    w.otp_request(OPERATOR).refused(Exit::Usage, &["DMS_NOW", "--allow-test-clock"]);
    assert!(!w.path("dms-outbox.mbox").exists(), "nothing is sent");
}

#[test]
fn json_errors_go_to_stderr_with_nothing_on_stdout() {
    let w = World::ready();
    let pw = line(PASSWORD);
    let cases: [(Exit, &str, &[&str], Option<&str>); 5] = [
        (Exit::Auth, "authentication_failed", &["whoami"], None),
        (
            Exit::Invalid,
            "invalid_input",
            &["login", "--user", OPERATOR, "--password-stdin", "--otp", "abcdef"],
            Some("x\n"),
        ),
        (Exit::Conflict, "conflict", &["otp", "setup", "--user", OPERATOR, "--app", "--password-stdin"], Some(&pw)),
        // A command line clap rejects is a failure like any other.
        (Exit::Usage, "usage", &["otp", "setup", "--user", OPERATOR, "--password-stdin"], Some(&pw)),
        // A malformed value is invalid input, named by its field.
        (Exit::Invalid, "invalid_input", &["otp", "request", "--user", "B01'; DROP TABLE users;--"], None),
    ];
    for (exit, code, args, stdin) in cases {
        let r = w.run(args, stdin).expect(exit);
        let (got, message) = r.error();
        assert_eq!(got, code, "{r}");
        assert!(!message.is_empty(), "{r}");
    }
}

#[test]
fn completions_man_page_and_help_are_printed() {
    let w = World::empty(MONDAY_10);
    let r = w.raw(&["completions", "bash"]).ok();
    assert!(r.stdout.contains("complete") && r.stdout.contains("dms"), "{r}");
    let r = w.raw(&["man"]).ok();
    assert!(r.stdout.contains(".TH") && r.stdout.contains("login"), "{r}");
    let r = w.raw(&["--help"]).ok();
    let listed: Vec<&str> = r.stdout.lines().filter_map(|l| l.split_whitespace().next()).collect();
    for command in
        ["init", "demo", "login", "logout", "whoami", "otp", "password", "auth", "audit", "completions", "man"]
    {
        assert!(listed.contains(&command), "--help lists {command}:\n{r}");
    }
}

/// Output into a pipe its reader closed early (`dms completions bash | head -1`, `dms man |
/// head`): a quiet exit 0, never a panic or a message (issue 20: clap_complete panicked).
#[test]
fn a_closed_pipe_ends_the_output_quietly_with_exit_0() {
    use std::io::Read as _;
    for args in [&["completions", "bash"][..], &["man"][..], &["--help"][..]] {
        let mut child = std::process::Command::new(dms_bin())
            .args(args)
            .env_clear()
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("dms");
        let mut first = [0u8; 16];
        let n = child.stdout.as_mut().expect("stdout").read(&mut first).expect("read");
        assert!(n > 0, "{args:?} wrote nothing");
        drop(child.stdout.take()); // the reader goes away, as `head` does
        let mut err = String::new();
        child.stderr.take().expect("stderr").read_to_string(&mut err).expect("stderr");
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// The whole `--help` tree, as one snapshot: any change to a command, flag or help text of the
/// scripting contract shows up in review (`cargo insta review` to accept a deliberate one).
#[test]
fn help_tree_snapshot() {
    use clap::CommandFactory as _;
    fn walk(cmd: &mut clap::Command, path: &str, out: &mut String) {
        let name = if path.is_empty() { cmd.get_name().to_string() } else { format!("{path} {}", cmd.get_name()) };
        out.push_str(&format!("================ {name}\n{}\n", cmd.render_long_help()));
        let mut subs: Vec<clap::Command> = cmd.get_subcommands().cloned().collect();
        for sub in subs.iter_mut() {
            walk(sub, &name, out);
        }
    }
    let mut cmd = dms::cli::Cli::command().term_width(100);
    cmd.build();
    let mut out = String::new();
    walk(&mut cmd, "", &mut out);
    insta::assert_snapshot!(out);
}

/// Issue 20: a `--db` that names no database is invalid input (exit 6, `"code": "invalid_input"`),
/// naming the file and `dms init`; nothing is created.
#[test]
fn a_missing_database_is_invalid_input_naming_the_file_and_dms_init() {
    let w = World::empty(MONDAY_10);
    let r = w.raw(&["--db", "nope.db", "--format", "json", "whoami"]).refused(Exit::Invalid, &["nope.db", "dms init"]);
    assert!(r.stderr.contains("\"code\":\"invalid_input\""), "{r}");
    assert!(!w.path("nope.db").exists(), "nothing created");
}
