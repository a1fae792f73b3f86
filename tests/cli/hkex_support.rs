//! Helpers for the exchange-operator tests (`exchange.rs`): a demo database in a temp dir of
//! its own, a clock the test moves by hand, first-time logons with a real TOTP app (the system
//! `oathtool`), smartcard PINs hashed with the library's own argon2, and the `sqlite3` shell
//! for looking at state no command prints.
//!
//! Every run of `dms` clears the environment, runs in the temp dir and pins `DMS_NOW`.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use tempfile::TempDir;

/// The demo's password for everyone (meets the policy: 16+ chars, digit, cases, special).
pub const PASSWORD: &str = "Demo-Passw0rd!2026(HK)";
pub const OPERATOR: &str = "HKEXOP01";
/// The smartcard PIN every imported smartcard user gets in these tests.
pub const PIN: &str = "123456";
/// Monday 23 November 2026, mid-morning in Hong Kong: everything is open.
pub const MONDAY_10: &str = "2026-11-23T10:00:00+08:00";

/// The argon2id PHC of [`PIN`], made once per test binary (argon2 is deliberately slow).
pub fn pin_phc() -> &'static str {
    static PHC: OnceLock<String> = OnceLock::new();
    PHC.get_or_init(|| dms::crypto::hash_secret(PIN, &mut dms::crypto::SecureRng::seeded(1)).expect("hash the PIN"))
}

/// What one run of `dms` did.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    what: String,
}

impl Out {
    /// Assert the exit code; on a mismatch show the command and everything it printed.
    #[track_caller]
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "`{}` exited {} (expected {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.what, self.code, self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn ok(self) -> Self {
        self.expect(0)
    }

    /// stdout as the one JSON document `--format json` promises.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("`{}`: stdout is not JSON ({e}):\n{}", self.what, self.stdout))
    }

    /// The message of the JSON error object on stderr.
    #[track_caller]
    pub fn message(&self) -> String {
        let line = self.stderr.lines().find(|l| l.starts_with("{\"error\"")).unwrap_or_else(|| {
            panic!("`{}`: no JSON error on stderr:\n{}", self.what, self.stderr);
        });
        let v: Value = serde_json::from_str(line).expect("the error line is JSON");
        v["error"]["message"].as_str().expect("error.message is a string").to_string()
    }

    /// Assert the exit code and that the error message contains every one of `parts`.
    #[track_caller]
    pub fn refused(self, code: i32, parts: &[&str]) -> Self {
        let out = self.expect(code);
        let m = out.message();
        for p in parts {
            assert!(m.contains(p), "`{}`: message {m:?} does not contain {p:?}", out.what);
        }
        out
    }
}

/// One exchange: a database made by `dms init --demo` with operator HKEXOP01, and the clock.
pub struct Exchange {
    dir: TempDir,
    now: DateTime<FixedOffset>,
    /// TOTP keys of the users who registered an app, as the app holds them.
    totp: HashMap<String, String>,
    /// The last TOTP step each user signed in with (a code is accepted once).
    last_step: HashMap<String, i64>,
}

impl Exchange {
    /// A fresh demo database at [`MONDAY_10`].
    pub fn new() -> Self {
        let dir = tempfile::Builder::new().prefix("dms-hkex-").tempdir().expect("temp dir");
        let ex = Exchange { dir, now: parse_time(MONDAY_10), totp: HashMap::new(), last_step: HashMap::new() };
        ex.run(None, &["init", "--allow-test-clock", "--demo", "--operator-email", "ops@hkex.example"], None).ok();
        ex
    }

    /// A fresh demo database with the operator signed in.
    pub fn with_operator() -> Self {
        let mut ex = Exchange::new();
        ex.first_time_logon(OPERATOR);
        ex
    }

    /// Set the clock (RFC 3339, e.g. "2026-11-24T06:59:59+08:00").
    pub fn at(&mut self, t: &str) -> &mut Self {
        self.now = parse_time(t);
        self
    }

    pub fn advance(&mut self, seconds: i64) -> &mut Self {
        self.now += Duration::seconds(seconds);
        self
    }

    pub fn now_utc(&self) -> DateTime<Utc> {
        self.now.with_timezone(&Utc)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write a file into the temp dir and return its name (relative to the working directory).
    pub fn write(&self, name: &str, contents: &str) -> String {
        std::fs::write(self.path(name), contents).expect("write a test file");
        name.to_string()
    }

    /// `dms ARGS` with a clean environment, in the temp dir, at the test clock.
    pub fn run(&self, session: Option<&str>, args: &[&str], stdin: Option<&str>) -> Out {
        let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("dms");
        cmd.env_clear().current_dir(self.dir.path()).env("DMS_NOW", self.now.to_rfc3339());
        let mut shown = Vec::new();
        if let Some(s) = session {
            let file = format!("{s}.session");
            cmd.args(["--session", &file]);
            shown.push(format!("--session {file}"));
        }
        cmd.args(args);
        shown.extend(args.iter().map(|a| a.to_string()));
        cmd.write_stdin(stdin.unwrap_or(""));
        let out = cmd.output().expect("run dms");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            what: format!("DMS_NOW={} dms {}", self.now.to_rfc3339(), shown.join(" ")),
        }
    }

    /// `dms --format json ARGS`, signed in as nobody.
    pub fn dms(&self, args: &[&str]) -> Out {
        self.run(None, &json_args(args), None)
    }

    /// `dms --session USER.session --format json ARGS`.
    pub fn as_user(&self, user: &str, args: &[&str]) -> Out {
        self.run(Some(user), &json_args(args), None)
    }

    /// The same, with `stdin`.
    pub fn as_user_stdin(&self, user: &str, args: &[&str], stdin: &str) -> Out {
        self.run(Some(user), &json_args(args), Some(stdin))
    }

    /// As the exchange operator.
    pub fn op(&self, args: &[&str]) -> Out {
        self.as_user(OPERATOR, args)
    }

    /// `dms otp request --user U`: the cheapest service-hours probe.
    pub fn otp_request(&self, user: &str) -> Out {
        self.dms(&["otp", "request", "--user", user])
    }

    /// First-time logon with an authenticator app: e-mail OTP, password, app set-up, sign-in.
    /// Returns the login document.
    pub fn first_time_logon(&mut self, user: &str) -> Value {
        self.otp_request(user).ok();
        let code = self.last_mail_otp();
        self.run(
            None,
            &json_args(&["password", "reset", "--user", user, "--otp", &code, "--password-stdin"]),
            Some(&pw()),
        )
        .ok();
        let setup = self
            .run(None, &json_args(&["otp", "setup", "--user", user, "--app", "--password-stdin"]), Some(&pw()))
            .ok()
            .json();
        let uri = setup["otpauth_uri"].as_str().expect("otpauth_uri").to_string();
        assert!(uri.starts_with(&format!("otpauth://totp/HKEX:{user}?")), "{uri}");
        let secret = uri.split("secret=").nth(1).and_then(|r| r.split('&').next()).expect("secret in the URI");
        self.totp.insert(user.to_string(), secret.to_string());
        self.last_step.remove(user);
        self.login(user).ok().json()
    }

    /// On-going logon with the password and the app's current code; writes USER.session.
    /// Panics if this user already signed in within the current 30-second step.
    pub fn login(&mut self, user: &str) -> Out {
        self.login_with(user, PASSWORD)
    }

    pub fn login_with(&mut self, user: &str, password: &str) -> Out {
        let step = self.now.timestamp().div_euclid(30);
        assert_ne!(
            self.last_step.get(user),
            Some(&step),
            "{user} already used the TOTP code of this 30-second step: advance the clock"
        );
        let code = self.totp_now(user);
        let out = self.run(
            Some(user),
            &json_args(&["login", "--user", user, "--password-stdin", "--otp", &code]),
            Some(&format!("{password}\n")),
        );
        if out.code == 0 {
            self.last_step.insert(user.to_string(), step);
        }
        out
    }

    /// The code `user`'s authenticator app shows now (the system `oathtool`, as a user's
    /// phone would compute it; required, never skipped).
    pub fn totp_now(&self, user: &str) -> String {
        let secret = self.totp.get(user).unwrap_or_else(|| panic!("{user} has not registered an app"));
        let at = self.now_utc().format("%Y-%m-%d %H:%M:%S UTC").to_string();
        let out = std::process::Command::new("oathtool")
            .args(["--totp", "-b", secret, "--now", &at])
            .output()
            .expect("oathtool is required for these tests (apt-get install oathtool)");
        assert!(out.status.success(), "oathtool failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("oathtool prints digits").trim().to_string()
    }

    /// Smartcard sign-in with `pin` on stdin; writes USER.session.
    pub fn smartcard(&self, user: &str, pin: &str) -> Out {
        self.run(
            Some(user),
            &json_args(&["login", "--smartcard", "--user", user, "--password-stdin"]),
            Some(&format!("{pin}\n")),
        )
    }

    /// `n` wrong passwords in a row, 5 seconds apart; returns the exit codes.
    pub fn wrong_passwords(&mut self, user: &str, n: usize) -> Vec<i32> {
        (0..n)
            .map(|_| {
                self.advance(5);
                let out = self.run(
                    Some(user),
                    &json_args(&["login", "--user", user, "--password-stdin", "--otp", "000000"]),
                    Some("Wrong-Passw0rd!2026(HK)\n"),
                );
                out.code
            })
            .collect()
    }

    /// The whole outbox.
    pub fn mbox(&self) -> String {
        std::fs::read_to_string(self.path("dms-outbox.mbox")).unwrap_or_default()
    }

    /// Every message of the outbox addressed to `to`.
    pub fn mails_to(&self, to: &str) -> Vec<String> {
        let mbox = self.mbox();
        let mut mails: Vec<String> = Vec::new();
        for line in mbox.lines() {
            if line.starts_with("From ") || mails.is_empty() {
                mails.push(String::new());
            }
            if let Some(m) = mails.last_mut() {
                m.push_str(line);
                m.push('\n');
            }
        }
        mails.into_iter().filter(|m| m.lines().any(|l| l == format!("To: {to}"))).collect()
    }

    /// The OTP of the last `One Time Password (OTP) for CCASS: NNNNNNNN` line of the outbox.
    pub fn last_mail_otp(&self) -> String {
        let mbox = self.mbox();
        let code = mbox
            .lines()
            .filter_map(|l| l.strip_prefix("One Time Password (OTP) for CCASS: "))
            .next_back()
            .expect("an OTP mail in the outbox")
            .trim()
            .to_string();
        assert!(code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit()), "{code:?}");
        code
    }

    /// Run SQL with the `sqlite3` shell on the test database; rows as `a|b` lines.
    pub fn sql(&self, sql: &str) -> String {
        let out = std::process::Command::new("sqlite3")
            .arg(self.path("dms.db"))
            .arg(sql)
            .output()
            .expect("the sqlite3 shell is required for these tests");
        assert!(out.status.success(), "sqlite3 {sql:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8").trim_end().to_string()
    }

    /// Everything a refused command must leave alone: profiles, credentials, participants,
    /// eServices, settings, holidays, requests, retired IDs (not the audit trail or sessions,
    /// which record the attempt itself).
    pub fn state(&self) -> String {
        [
            "SELECT * FROM participants ORDER BY 1",
            "SELECT * FROM users ORDER BY 1",
            "SELECT user_id, password_phc, otp_channel, otp_confirmed, locked_at, failures FROM credentials ORDER BY 1",
            "SELECT * FROM retired_user_ids ORDER BY 1",
            "SELECT * FROM eservices ORDER BY 1",
            "SELECT * FROM settings ORDER BY 1",
            "SELECT * FROM holidays ORDER BY 1",
            "SELECT * FROM requests ORDER BY 1",
        ]
        .iter()
        .map(|q| format!("-- {q}\n{}\n", self.sql(q)))
        .collect()
    }

    /// The user IDs a listing of `participant` shows (as the operator), and its quota object.
    pub fn listing(&self, participant: &str) -> (Vec<String>, Value) {
        let v = self.op(&["listing", "--participant", participant]).ok().json();
        let ids = v["users"]
            .as_array()
            .expect("users")
            .iter()
            .map(|u| u["user_id"].as_str().expect("user_id").to_string())
            .collect();
        (ids, v["quota"].clone())
    }
}

fn json_args<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--format", "json"];
    v.extend_from_slice(args);
    v
}

fn pw() -> String {
    format!("{PASSWORD}\n")
}

fn parse_time(t: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(t).unwrap_or_else(|e| panic!("test time {t:?}: {e}"))
}
