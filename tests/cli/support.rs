//! Running `dms` hermetically: a temp dir per test, `env_clear()`, a pinned `DMS_NOW`, secrets
//! on stdin only. E-mail OTPs come from the mbox beside the database, TOTP codes from the
//! system `oathtool` (an implementation independent of the one under test), database state
//! from the `sqlite3` shell opened read-only.

#![allow(dead_code)] // each test module uses a different subset

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::Value;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use tempfile::TempDir;

/// A password that meets the policy.
pub const PASSWORD: &str = "Start-Passw0rd!2026";
/// Another one, for changes and resets.
pub const NEW_PASSWORD: &str = "Second-Passw0rd#2026";
/// A wrong one (meets the policy, so only the match can fail).
pub const WRONG_PASSWORD: &str = "Wrong-Passw0rd$2026";

pub const OPERATOR: &str = "HKEXOP01";
/// Demo business users and DAs (participant B01234).
pub const USER1: &str = "B0123401";
pub const USER2: &str = "B0123402";
pub const USER3: &str = "B0123403";
pub const DA_MAKER: &str = "B01234X1";

/// Monday 23 November 2026, 10:00 Hong Kong time: inside every service's hours.
pub const MONDAY_10: &str = "2026-11-23T10:00:00+08:00";
/// When the shared fixture was made (an hour before the tests' default clock).
pub const FIXTURE_TIME: &str = "2026-11-23T09:00:00+08:00";

pub fn time(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap_or_else(|e| panic!("bad time {rfc3339}: {e}")).with_timezone(&Utc)
}

pub fn mins(m: i64) -> Duration {
    Duration::minutes(m)
}

pub fn secs(s: i64) -> Duration {
    Duration::seconds(s)
}

/// A password line for `--password-stdin`.
pub fn line(secret: &str) -> String {
    format!("{secret}\n")
}

/// Two lines: `password change --password-stdin` reads the new password, then the current one.
pub fn two_lines(new: &str, current: &str) -> String {
    format!("{new}\n{current}\n")
}

/// One finished run of `dms`.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout as the one JSON document it must be.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("`dms {}`: stdout is not one JSON document ({e}):\n{}", self.args.join(" "), self)
        })
    }

    /// The `{"error":{"code","message"}}` object on stderr (checks there is nothing on stdout).
    pub fn error(&self) -> (String, String) {
        assert!(self.stdout.is_empty(), "a failure printed on stdout:\n{self}");
        let v: Value = serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("stderr is not one JSON error object ({e}):\n{self}"));
        let code = v["error"]["code"].as_str().unwrap_or_else(|| panic!("no error.code:\n{self}")).to_string();
        let message = v["error"]["message"].as_str().unwrap_or_else(|| panic!("no error.message:\n{self}")).to_string();
        (code, message)
    }

    /// The error message, checked to be a JSON error object.
    pub fn message(&self) -> String {
        self.error().1
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "$ dms {}\nexit {}\n--- stdout\n{}--- stderr\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }
}

/// The `dms` binary under test.
pub fn dms_bin() -> &'static Path {
    assert_cmd::cargo::cargo_bin!("dms")
}

/// One test's world: a temp dir with a database and the clock the next command runs at.
pub struct Dms {
    dir: TempDir,
    pub now: DateTime<Utc>,
}

impl Dms {
    /// `dms init ARGS` in a new temp dir at `now` (RFC 3339).
    pub fn init(now: &str, args: &[&str]) -> Dms {
        let d = Dms::empty(now);
        let mut full = vec!["init"];
        full.extend_from_slice(args);
        d.ok(&full, None);
        d
    }

    /// A temp dir with no database yet.
    pub fn empty(now: &str) -> Dms {
        Dms { dir: tempfile::tempdir().expect("temp dir"), now: time(now) }
    }

    /// A database with the exchange operator HKEXOP01 (no password yet).
    pub fn operator(now: &str) -> Dms {
        Dms::init(now, &["--allow-test-clock", "--operator-email", "ops@hkex.example"])
    }

    /// The demo participant B01234 and the operator HKEXOP01, nobody with a password yet.
    pub fn demo(now: &str) -> Dms {
        Dms::init(now, &["--allow-test-clock", "--demo", "--operator-email", "ops@hkex.example"])
    }

    /// A copy of the shared fixture (see [`Ready`]), with the clock at Monday 10:00 HKT.
    pub fn ready() -> Dms {
        let d = Dms::empty(MONDAY_10);
        for (name, bytes) in &ready_fixture().files {
            write_private(&d.path().join(name), bytes);
        }
        d
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    /// Set the clock (RFC 3339).
    pub fn at(&mut self, t: &str) -> &mut Self {
        self.now = time(t);
        self
    }

    pub fn advance(&mut self, d: Duration) -> &mut Self {
        self.now += d;
        self
    }

    /// `dms` with a clean environment, in the temp dir, at the pinned clock.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::new(dms_bin());
        c.env_clear()
            .current_dir(self.path())
            .env("DMS_NOW", self.now.to_rfc3339_opts(SecondsFormat::Secs, true))
            .timeout(std::time::Duration::from_secs(60));
        c
    }

    /// `dms --format json ARGS`, with `stdin` if given.
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut full = vec!["--format", "json"];
        full.extend_from_slice(args);
        self.run_raw(&full, stdin)
    }

    /// `dms ARGS` exactly as given.
    pub fn run_raw(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut c = self.cmd();
        c.args(args);
        if let Some(s) = stdin {
            c.write_stdin(s);
        }
        let out = c.output().expect("running dms");
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Run and insist on an exit code.
    pub fn expect(&self, code: i32, args: &[&str], stdin: Option<&str>) -> Run {
        let r = self.run(args, stdin);
        assert_eq!(r.code, code, "expected exit {code} at {}:\n{r}", self.now);
        r
    }

    /// Run, insist on exit 0, return the JSON.
    pub fn ok(&self, args: &[&str], stdin: Option<&str>) -> Value {
        self.expect(0, args, stdin).json()
    }

    /// Run, insist on a failure with `code`, return the error message (from the JSON error).
    pub fn fails(&self, code: i32, args: &[&str], stdin: Option<&str>) -> String {
        self.expect(code, args, stdin).message()
    }

    // -- mail ---------------------------------------------------------------------------

    pub fn mbox(&self) -> String {
        std::fs::read_to_string(self.file("dms-outbox.mbox")).unwrap_or_default()
    }

    /// The messages in the outbox, oldest first.
    pub fn mails(&self) -> Vec<String> {
        let text = self.mbox();
        let mut out: Vec<String> = Vec::new();
        for l in text.lines() {
            if l.starts_with("From ") || out.is_empty() {
                out.push(String::new());
            }
            let m = out.last_mut().expect("one message");
            m.push_str(l);
            m.push('\n');
        }
        out.retain(|m| !m.trim().is_empty());
        out
    }

    /// The last OTP mailed (the last `One Time Password (OTP) for CCASS: NNNNNNNN` line).
    pub fn last_otp(&self) -> String {
        self.otp_lines().last().cloned().unwrap_or_else(|| panic!("no OTP in the outbox:\n{}", self.mbox()))
    }

    /// Every OTP mailed so far, oldest first.
    pub fn otp_lines(&self) -> Vec<String> {
        self.mbox()
            .lines()
            .filter_map(|l| l.strip_prefix("One Time Password (OTP) for CCASS: "))
            .map(|c| c.trim().to_string())
            .collect()
    }

    // -- database -----------------------------------------------------------------------

    /// Query the database read-only with the sqlite3 shell; one line per row, `|` between
    /// columns.
    pub fn sql(&self, query: &str) -> String {
        let out = std::process::Command::new("sqlite3")
            .arg("-readonly")
            .arg(self.file("dms.db"))
            .arg(query)
            .env_clear()
            .env("PATH", tool_path())
            .output()
            .unwrap_or_else(|e| panic!("the sqlite3 shell is required by these tests (apt-get install sqlite3): {e}"));
        assert!(out.status.success(), "sqlite3 {query:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    }

    /// Change the database with the sqlite3 shell (only to tamper, or to stand in for time
    /// passing with activity).
    pub fn sql_write(&self, statement: &str) {
        let out = std::process::Command::new("sqlite3")
            .arg(self.file("dms.db"))
            .arg(statement)
            .env_clear()
            .env("PATH", tool_path())
            .output()
            .unwrap_or_else(|e| panic!("the sqlite3 shell is required by these tests (apt-get install sqlite3): {e}"));
        assert!(out.status.success(), "sqlite3 {statement:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// A user's credentials column.
    pub fn cred(&self, user: &str, column: &str) -> String {
        self.sql(&format!("SELECT {column} FROM credentials WHERE user_id = '{user}'"))
    }

    // -- TOTP ---------------------------------------------------------------------------

    /// The code an authenticator app shows now, `steps` 30-second steps away.
    pub fn totp(&self, secret: &str, steps: i64) -> String {
        oathtool(secret, self.now + Duration::seconds(30 * steps))
    }

    /// A 6-digit code that is none of the app's codes for the accepted window (now ±1 step).
    pub fn wrong_totp(&self, secret: &str) -> String {
        let valid: Vec<String> = (-1..=1).map(|s| self.totp(secret, s)).collect();
        ["000000", "111111", "222222"]
            .into_iter()
            .find(|c| !valid.iter().any(|v| v == c))
            .expect("three candidates cannot all be valid")
            .to_string()
    }

    // -- sign-in flows ------------------------------------------------------------------

    /// First-time logon step 1 (seed Appendix C): request an e-mail OTP and set the password.
    pub fn set_first_password(&self, user: &str, password: &str) {
        self.ok(&["otp", "request", "--user", user], None);
        let otp = self.last_otp();
        self.ok(&["password", "reset", "--user", user, "--otp", &otp, "--password-stdin"], Some(&line(password)));
    }

    /// Register an authenticator app (password already set); returns the base32 key.
    pub fn setup_app(&self, user: &str, password: &str) -> String {
        let v = self.ok(&["otp", "setup", "--user", user, "--app", "--password-stdin"], Some(&line(password)));
        let uri = v["otpauth_uri"].as_str().unwrap_or_else(|| panic!("no otpauth_uri in {v}"));
        secret_of(uri)
    }

    /// `dms login` with the app's current code, into `session` (None: the default file).
    pub fn login_app(&self, session: Option<&str>, user: &str, password: &str, secret: &str) -> Run {
        let code = self.totp(secret, 0);
        self.login(session, user, password, &code)
    }

    pub fn login(&self, session: Option<&str>, user: &str, password: &str, code: &str) -> Run {
        let mut args = Vec::new();
        if let Some(s) = session {
            args.extend(["--session", s]);
        }
        args.extend(["login", "--user", user, "--password-stdin", "--otp", code]);
        self.run(&args, Some(&line(password)))
    }

    /// The whole first-time logon with an app; returns the base32 key.
    pub fn first_time_app(&self, user: &str, password: &str) -> String {
        self.set_first_password(user, password);
        let secret = self.setup_app(user, password);
        let r = self.login_app(None, user, password, &secret);
        assert_eq!(r.code, 0, "first login:\n{r}");
        secret
    }

    /// The whole first-time logon choosing e-mail OTP, signed in to `session`.
    pub fn first_time_email(&self, session: Option<&str>, user: &str, password: &str) {
        self.set_first_password(user, password);
        self.ok(
            &["otp", "setup", "--user", user, "--email", "--accept-warning", "--password-stdin"],
            Some(&line(password)),
        );
        let r = self.login(session, user, password, &self.last_otp());
        assert_eq!(r.code, 0, "first login:\n{r}");
    }
}

/// The base32 key of an `otpauth://` URI.
pub fn secret_of(uri: &str) -> String {
    uri.split("secret=")
        .nth(1)
        .and_then(|r| r.split('&').next())
        .unwrap_or_else(|| panic!("no secret in {uri}"))
        .to_string()
}

/// RFC 6238 TOTP (SHA-1, 6 digits, 30 s) by the system `oathtool`, the key on its stdin.
pub fn oathtool(secret: &str, at: DateTime<Utc>) -> String {
    let mut child = std::process::Command::new("oathtool")
        .args(["--totp", "--base32", "-", "--now", &at.format("%Y-%m-%d %H:%M:%S UTC").to_string()])
        .env_clear()
        .env("PATH", tool_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("oathtool is required by the TOTP tests (apt-get install oathtool): {e}"));
    child.stdin.take().expect("stdin").write_all(format!("{secret}\n").as_bytes()).expect("write key");
    let out = child.wait_with_output().expect("oathtool");
    assert!(out.status.success(), "oathtool failed: {}", String::from_utf8_lossy(&out.stderr));
    let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "oathtool printed {code:?}");
    code
}

/// The helper tools (oathtool, sqlite3, sha256sum) run with a clean environment too, found
/// on the test's own PATH.
fn tool_path() -> std::ffi::OsString {
    std::env::var_os("PATH").unwrap_or_default()
}

/// SHA-256 of `bytes` by the system `sha256sum`, lower-case hex.
pub fn sha256sum(bytes: &[u8]) -> String {
    let mut child = std::process::Command::new("sha256sum")
        .env_clear()
        .env("PATH", tool_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("sha256sum is required: {e}"));
    child.stdin.take().expect("stdin").write_all(bytes).expect("write");
    let out = child.wait_with_output().expect("sha256sum");
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_string()
}

pub fn hex_decode(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex {s:?}");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit")).collect()
}

/// RFC 4648 base32 (no padding) to bytes.
pub fn base32_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut acc, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in s.trim_end_matches('=').bytes() {
        let v = ALPHABET.iter().position(|&a| a == c.to_ascii_uppercase()).expect("base32 digit") as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

pub fn upper_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

fn write_private(path: &Path, bytes: &[u8]) {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    opts.open(path).and_then(|mut f| f.write_all(bytes)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// A database where first-time logons are done, made once per test run and copied into each
/// test that starts from it (the flows themselves are tested from scratch elsewhere):
///
/// - `HKEXOP01`: password [`PASSWORD`], authenticator app confirmed (key: [`Ready::op_secret`]);
/// - `B0123401` (business user): password [`PASSWORD`], e-mail OTP confirmed;
/// - `B01234X1` (DA maker): password [`PASSWORD`], no OTP channel yet;
/// - everyone else of the demo participant: no password.
///
/// All of it happened at [`FIXTURE_TIME`]; no session file is copied.
pub struct Ready {
    files: Vec<(String, Vec<u8>)>,
    op_secret: String,
}

fn ready_fixture() -> &'static Ready {
    static READY: OnceLock<Ready> = OnceLock::new();
    READY.get_or_init(|| {
        let d = Dms::demo(FIXTURE_TIME);
        let op_secret = d.first_time_app(OPERATOR, PASSWORD);
        d.first_time_email(Some("fixture-user.session"), USER1, PASSWORD);
        d.set_first_password(DA_MAKER, PASSWORD);
        let mut files = Vec::new();
        for entry in std::fs::read_dir(d.path()).expect("fixture dir") {
            let entry = entry.expect("entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".session") {
                files.push((name, std::fs::read(entry.path()).expect("read fixture file")));
            }
        }
        Ready { files, op_secret }
    })
}

/// The operator's authenticator key in [`Dms::ready`] databases.
pub fn op_secret() -> String {
    ready_fixture().op_secret.clone()
}
