//! A hermetic `dms` for the maker-checker tests: one temp dir per test, `env_clear()`, a
//! pinned `DMS_NOW` that the test moves on, secrets only on stdin. E-mail OTPs are read from
//! the mbox beside the database, TOTP codes come from the system `oathtool` (independent of the
//! code under test), and database state from the `sqlite3` shell.
//!
//! `Mc::with_das()` is the usual start: the demo participant B01234 with its DA maker and both
//! DA checkers through first-time logon (authenticator app), each in its own session file.

#![allow(dead_code)] // each test module uses a different subset

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tempfile::TempDir;

/// A password that meets the policy.
pub const PW: &str = "Demo-Passw0rd!2026(HK)";
/// A wrong one that also meets the policy, so only the match fails.
pub const WRONG_PW: &str = "Wrong-Passw0rd!2026(HK)";

pub const OPERATOR: &str = "HKEXOP01";
pub const MAKER: &str = "B01234X1";
pub const CHECKER: &str = "B01234X2";
pub const CHECKER2: &str = "B01234X3";
pub const USER1: &str = "B0123401";
pub const USER2: &str = "B0123402";
pub const USER3: &str = "B0123403";

/// Monday 23 November 2026, 10:00 Hong Kong time: inside the DMS hours (07:00-19:00).
pub const START: &str = "2026-11-23T10:00:00+08:00";

/// A password line for `--password-stdin`.
pub fn line(secret: &str) -> String {
    format!("{secret}\n")
}

/// One finished run of `dms`.
#[derive(Debug, Clone)]
pub struct Out {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "$ dms {}\n-> exit {}\n--- stdout\n{}--- stderr\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }
}

impl Out {
    /// Assert the exit code; returns self for chaining.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(self.code, expected, "unexpected exit code:\n{self}");
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Self {
        self.code(0)
    }

    /// stdout as the one JSON document it must be.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{self}"))
    }

    /// The message of the `{"error":{"code","message"}}` object on stderr; nothing on stdout.
    #[track_caller]
    pub fn message(&self) -> String {
        assert!(self.stdout.is_empty(), "a failure printed on stdout:\n{self}");
        let doc = self
            .stderr
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str::<Value>(l).ok().filter(|v| v.get("error").is_some()))
            .unwrap_or_else(|| panic!("no JSON error object on stderr:\n{self}"));
        doc["error"]["message"].as_str().unwrap_or_else(|| panic!("no error.message:\n{self}")).to_string()
    }

    /// The request ID a submission printed.
    #[track_caller]
    pub fn request_id(&self) -> i64 {
        self.json()["request_id"].as_i64().unwrap_or_else(|| panic!("no request_id:\n{self}"))
    }
}

/// One test's world: a directory with `dms.db`, a clock, and the TOTP keys of the accounts
/// that registered an app.
pub struct Mc {
    dir: TempDir,
    now: Cell<DateTime<Utc>>,
    secrets: RefCell<HashMap<String, String>>,
    last_step: RefCell<HashMap<String, i64>>,
}

impl Mc {
    /// `dms init --demo` with the operator HKEXOP01; nobody has signed in yet.
    pub fn new() -> Mc {
        let mc = Mc {
            dir: tempfile::tempdir().expect("temp dir"),
            now: Cell::new(DateTime::parse_from_rfc3339(START).expect("START").with_timezone(&Utc)),
            secrets: RefCell::new(HashMap::new()),
            last_step: RefCell::new(HashMap::new()),
        };
        mc.run(None, &["init", "--allow-test-clock", "--demo", "--operator-email", "ops@hkex.example"], None).ok();
        mc
    }

    /// The demo with B01234X1 (maker), B01234X2 and B01234X3 (checkers) signed in.
    pub fn with_das() -> Mc {
        let mc = Mc::new();
        for da in [MAKER, CHECKER, CHECKER2] {
            mc.logon(da);
        }
        mc
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.now.get()
    }

    pub fn advance(&self, d: Duration) {
        self.now.set(self.now.get() + d);
    }

    pub fn now_rfc3339(&self) -> String {
        self.now.get().to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    /// The session file of a user (relative to the test dir).
    pub fn session(user: &str) -> String {
        format!("{user}.session")
    }

    /// A `dms` process ready to spawn: hermetic environment, pinned clock, optional session.
    pub fn command(&self, session: Option<&str>, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("dms"));
        cmd.env_clear().current_dir(self.dir()).env("DMS_NOW", self.now_rfc3339()).env("NO_COLOR", "1");
        if let Some(user) = session {
            cmd.arg("--session").arg(Mc::session(user));
        }
        cmd.args(args);
        cmd
    }

    fn describe(session: Option<&str>, args: &[&str]) -> Vec<String> {
        let mut all: Vec<String> = session.map(|u| vec!["--session".into(), Mc::session(u)]).unwrap_or_default();
        all.extend(args.iter().map(|a| a.to_string()));
        all
    }

    /// Run `dms ARGS` to the end; `session` names the user whose session file is used.
    pub fn run(&self, session: Option<&str>, args: &[&str], stdin: Option<&str>) -> Out {
        let mut cmd = assert_cmd::Command::from_std(self.command(session, args));
        cmd.write_stdin(stdin.unwrap_or("").as_bytes().to_vec());
        let o = cmd.output().expect("running dms");
        Out {
            args: Mc::describe(session, args),
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Start a `dms` process with the password line already written to its stdin (for races).
    pub fn spawn(&self, session: Option<&str>, args: &[&str], stdin: &str) -> (Vec<String>, std::process::Child) {
        let mut child = self
            .command(session, args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting dms");
        child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("writing stdin");
        (Mc::describe(session, args), child)
    }

    pub fn wait(args: Vec<String>, child: std::process::Child) -> Out {
        let o = child.wait_with_output().expect("waiting for dms");
        Out {
            args,
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// `dms --format json ARGS` in `user`'s session.
    pub fn as_user(&self, user: &str, args: &[&str]) -> Out {
        self.as_user_stdin(user, args, None)
    }

    pub fn as_user_stdin(&self, user: &str, args: &[&str], stdin: Option<&str>) -> Out {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        self.run(Some(user), &all, stdin)
    }

    /// `dms --format json ARGS` without a session.
    pub fn json(&self, args: &[&str], stdin: Option<&str>) -> Out {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        self.run(None, &all, stdin)
    }

    // ---------------------------------------------------------------------------------------
    // Mail and one-time codes

    pub fn mbox(&self) -> String {
        std::fs::read_to_string(self.path("dms-outbox.mbox")).unwrap_or_default()
    }

    /// The OTP of the last OTP e-mail in the outbox.
    pub fn last_mailed_otp(&self) -> String {
        self.mbox()
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("One Time Password (OTP) for CCASS: "))
            .map(|c| c.trim().to_string())
            .expect("an OTP e-mail in dms-outbox.mbox")
    }

    /// A fresh TOTP code of `user`'s app. A code is accepted once per account, so when this
    /// account already used the current 30-second step, the clock moves on to the next one.
    pub fn totp(&self, user: &str) -> String {
        let secret = self.secrets.borrow().get(user).cloned().unwrap_or_else(|| panic!("{user} has no app key"));
        let step = |t: DateTime<Utc>| t.timestamp().div_euclid(30);
        if let Some(&last) = self.last_step.borrow().get(user) {
            if step(self.now()) <= last {
                let next = DateTime::from_timestamp((last + 1) * 30, 0).expect("time");
                self.now.set(next);
            }
        }
        self.last_step.borrow_mut().insert(user.to_string(), step(self.now()));
        let at = self.now().format("%Y-%m-%d %H:%M:%S UTC").to_string();
        let o = std::process::Command::new("oathtool")
            .args(["--totp", "-b", &secret, "--now", &at])
            .output()
            .expect("running oathtool (install the oathtool package)");
        assert!(o.status.success(), "oathtool failed: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }

    /// First-time logon with an authenticator app (seed Appendix C): e-mail OTP, password,
    /// app key, then sign in; the session goes to `USER.session`.
    pub fn logon(&self, user: &str) {
        self.json(&["otp", "request", "--user", user], None).ok();
        let code = self.last_mailed_otp();
        self.json(&["password", "reset", "--user", user, "--otp", &code, "--password-stdin"], Some(&line(PW))).ok();
        let setup = self.json(&["otp", "setup", "--user", user, "--app", "--password-stdin"], Some(&line(PW)));
        setup.ok();
        let uri = setup.json()["otpauth_uri"].as_str().expect("otpauth_uri").to_string();
        let secret = uri
            .split("secret=")
            .nth(1)
            .and_then(|r| r.split('&').next())
            .unwrap_or_else(|| panic!("no secret in {uri}"))
            .to_string();
        self.secrets.borrow_mut().insert(user.to_string(), secret);
        self.login(user).ok();
    }

    /// On-going logon with password and a fresh app code.
    pub fn login(&self, user: &str) -> Out {
        let code = self.totp(user);
        self.as_user_stdin(user, &["login", "--user", user, "--password-stdin", "--otp", &code], Some(&line(PW)))
    }

    // ---------------------------------------------------------------------------------------
    // Maker-checker

    /// `dms request approve IDS` by `checker`, with the authorisation code.
    pub fn approve(&self, checker: &str, ids: &[i64]) -> Out {
        let code = self.totp(checker);
        self.approve_with(checker, ids, &code, PW)
    }

    /// `dms request approve IDS` with a given OTP and password.
    pub fn approve_with(&self, checker: &str, ids: &[i64], otp: &str, pw: &str) -> Out {
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        let mut args: Vec<&str> = vec!["request", "approve"];
        args.extend(ids.iter().map(String::as_str));
        args.extend(["--otp", otp, "--password-stdin"]);
        self.as_user_stdin(checker, &args, Some(&line(pw)))
    }

    /// A maker command authorised inline by `checker` with password `pw`.
    pub fn inline(&self, maker: &str, args: &[&str], checker: &str, pw: &str) -> Out {
        let code = if self.secrets.borrow().contains_key(checker) { self.totp(checker) } else { "123456".into() };
        let mut all = args.to_vec();
        all.extend(["--checker", checker, "--otp", &code, "--password-stdin"]);
        self.as_user_stdin(maker, &all, Some(&line(pw)))
    }

    /// `request show N` as `who`.
    pub fn request(&self, who: &str, id: i64) -> Value {
        let o = self.as_user(who, &["request", "show", &id.to_string()]);
        o.ok();
        o.json()
    }

    /// `user enquire ID` as the maker.
    pub fn enquire(&self, id: &str) -> Value {
        let o = self.as_user(MAKER, &["user", "enquire", id]);
        o.ok();
        o.json()
    }

    // ---------------------------------------------------------------------------------------
    // Database state

    /// Run SQL with the `sqlite3` shell (one value per line, `|` between columns).
    pub fn sql(&self, query: &str) -> String {
        let o = std::process::Command::new("sqlite3")
            .arg(self.path("dms.db"))
            .arg(query)
            .output()
            .expect("running sqlite3 (install the sqlite3 package)");
        assert!(o.status.success(), "sqlite3 {query}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).trim_end().to_string()
    }

    pub fn count(&self, query: &str) -> i64 {
        let v = self.sql(query);
        v.parse().unwrap_or_else(|_| panic!("{query}: not a number: {v}"))
    }

    /// Everything a maker-checker request can change: profiles, requests, retired IDs and
    /// eServices (not credentials, sessions or the audit trail, which record attempts).
    pub fn state(&self) -> String {
        self.sql(
            "SELECT * FROM users ORDER BY user_id; SELECT '--'; SELECT * FROM requests ORDER BY request_id; \
             SELECT '--'; SELECT * FROM request_subjects ORDER BY request_id, user_id; SELECT '--'; \
             SELECT * FROM retired_user_ids ORDER BY user_id; SELECT '--'; SELECT * FROM participants; \
             SELECT '--'; SELECT * FROM eservices ORDER BY reference;",
        )
    }

    pub fn requests(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM requests")
    }

    /// `dms audit verify` reports an intact chain.
    #[track_caller]
    pub fn assert_audit_ok(&self) {
        let o = self.json(&["audit", "verify"], None);
        o.ok();
        assert_eq!(o.json()["ok"], true, "audit verify:\n{o}");
    }

    /// Write a file into the test dir and return its name.
    pub fn file(&self, name: &str, contents: &str) -> String {
        std::fs::write(self.path(name), contents).expect("writing a test file");
        name.to_string()
    }
}
