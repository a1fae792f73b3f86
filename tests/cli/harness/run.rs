//! Running `dms`: one [`World`] per test, one [`Run`] per finished command, exit codes by name.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use tempfile::TempDir;

/// How long one `dms` run may take before the test fails.
pub const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The exit codes of the scripting contract (SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Exit {
    Ok = 0,
    Other = 1,
    Usage = 2,
    Auth = 3,
    Locked = 4,
    NotPermitted = 5,
    Invalid = 6,
    Conflict = 7,
    Integrity = 8,
}

impl Exit {
    pub const ALL: [Exit; 9] = [
        Exit::Ok,
        Exit::Other,
        Exit::Usage,
        Exit::Auth,
        Exit::Locked,
        Exit::NotPermitted,
        Exit::Invalid,
        Exit::Conflict,
        Exit::Integrity,
    ];

    pub fn code(self) -> i32 {
        self as i32
    }

    /// The contract's name for an exit status (None: a crash, a signal, anything else).
    pub fn of(code: i32) -> Option<Exit> {
        Exit::ALL.into_iter().find(|e| e.code() == code)
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ({})", self, self.code())
    }
}

/// One finished run of `dms`.
#[derive(Debug, Clone)]
pub struct Run {
    /// The command line after `dms`, as run.
    pub args: Vec<String>,
    /// `DMS_NOW` as the process saw it (empty when unset).
    pub now: String,
    code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The exit status by name; a status outside the contract fails the test.
    #[track_caller]
    pub fn exit(&self) -> Exit {
        Exit::of(self.code).unwrap_or_else(|| panic!("an exit status outside the contract:\n{self}"))
    }

    /// Insist on an exit status; returns the run for more checks.
    #[track_caller]
    pub fn expect(self, exit: Exit) -> Self {
        assert!(self.code == exit.code(), "expected exit {exit}:\n{self}");
        self
    }

    #[track_caller]
    pub fn ok(self) -> Self {
        self.expect(Exit::Ok)
    }

    /// Insist on a failure with `exit` whose JSON error message contains every one of `parts`.
    #[track_caller]
    pub fn refused(self, exit: Exit, parts: &[&str]) -> Self {
        let run = self.expect(exit);
        let m = run.message();
        for p in parts {
            assert!(m.contains(p), "the message does not contain {p:?}:\n{run}");
        }
        run
    }

    /// stdout as the one JSON document `--format json` promises.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{self}"))
    }

    /// The `{"error":{"code","message"}}` object on stderr, with nothing on stdout. Every
    /// line of stderr is JSON: the one error, and any `{"warning":{"message"}}` before it.
    #[track_caller]
    pub fn error(&self) -> (String, String) {
        assert!(self.stdout.is_empty(), "a failure printed on stdout:\n{self}");
        let lines: Vec<Value> = self
            .stderr
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("a stderr line is not JSON ({e}):\n{self}")))
            .collect();
        let (errors, others): (Vec<&Value>, Vec<&Value>) = lines.iter().partition(|v| v.get("error").is_some());
        assert_eq!(errors.len(), 1, "stderr must hold exactly one JSON error object:\n{self}");
        assert!(
            others.iter().all(|v| v["warning"]["message"].is_string()),
            "stderr lines are errors or warnings:\n{self}"
        );
        let v = errors[0];
        let code = v["error"]["code"].as_str().unwrap_or_else(|| panic!("no error.code:\n{self}")).to_string();
        let message = v["error"]["message"].as_str().unwrap_or_else(|| panic!("no error.message:\n{self}")).to_string();
        (code, message)
    }

    /// The error message, checked to be a JSON error object.
    #[track_caller]
    pub fn message(&self) -> String {
        self.error().1
    }

    /// The `{"warning":{"message"}}` lines on stderr.
    pub fn warnings(&self) -> Vec<String> {
        self.stderr
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|v| v["warning"]["message"].as_str().map(str::to_string))
            .collect()
    }

    /// The request ID a maker-checker submission printed.
    #[track_caller]
    pub fn request_id(&self) -> i64 {
        self.json()["request_id"].as_i64().unwrap_or_else(|| panic!("no request_id:\n{self}"))
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exit = Exit::of(self.code).map_or_else(|| self.code.to_string(), |e| e.to_string());
        write!(
            f,
            "$ DMS_NOW={} dms {}\nexit {exit}\n--- stdout\n{}--- stderr\n{}",
            self.now,
            self.args.join(" "),
            self.stdout,
            self.stderr
        )
    }
}

/// The `dms` binary under test: this build's, or the one `DMS_TEST_BIN` names (to show that a
/// new test fails on an earlier build: `DMS_TEST_BIN=/path/to/old/dms cargo test --test cli core`).
pub fn dms_bin() -> &'static Path {
    static OTHER: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    match OTHER.get_or_init(|| std::env::var_os("DMS_TEST_BIN").map(std::path::PathBuf::from)) {
        Some(p) => p,
        None => assert_cmd::cargo::cargo_bin!("dms"),
    }
}

/// One test's world: a temp dir with `dms.db`, the clock the next command runs at, and the
/// authenticator-app keys of the accounts that registered one.
pub struct World {
    pub(super) dir: TempDir,
    pub(super) now: Cell<DateTime<Utc>>,
    /// Base32 TOTP keys by user ID, as the users' apps hold them.
    pub(super) keys: RefCell<HashMap<String, String>>,
    /// The last TOTP step each account was given a fresh code for (a code is accepted once).
    pub(super) last_step: RefCell<HashMap<String, i64>>,
    /// Every run that finished, in order (what a scan of all output reads).
    pub(super) log: RefCell<Vec<Run>>,
}

impl World {
    /// A temp dir with no database yet, the clock at `now` (RFC 3339).
    pub fn empty(now: &str) -> World {
        World {
            dir: tempfile::Builder::new().prefix("dms-test-").tempdir().expect("a temp dir"),
            now: Cell::new(super::time(now)),
            keys: RefCell::new(HashMap::new()),
            last_step: RefCell::new(HashMap::new()),
            log: RefCell::new(Vec::new()),
        }
    }

    /// Every run of [`World::run_command`] in this world so far (and so every helper's), in
    /// order.
    pub fn runs(&self) -> Vec<Run> {
        self.log.borrow().clone()
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A file in the test dir.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write a file into the test dir; returns its name (relative to the working directory).
    pub fn write(&self, name: &str, contents: &str) -> String {
        std::fs::write(self.path(name), contents).unwrap_or_else(|e| panic!("writing {name}: {e}"));
        name.to_string()
    }

    // -- the clock -------------------------------------------------------------------------

    pub fn now(&self) -> DateTime<Utc> {
        self.now.get()
    }

    /// Set the clock (RFC 3339, any offset).
    pub fn at(&self, t: &str) -> &Self {
        self.now.set(super::time(t));
        self
    }

    pub fn set_now(&self, t: DateTime<Utc>) -> &Self {
        self.now.set(t);
        self
    }

    pub fn advance(&self, d: Duration) -> &Self {
        self.now.set(self.now.get() + d);
        self
    }

    pub fn now_rfc3339(&self) -> String {
        self.now.get().to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    /// The clock as dms prints times: Hong Kong time with its offset.
    pub fn now_hk(&self) -> String {
        let hk = chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00");
        self.now.get().with_timezone(&hk).to_rfc3339_opts(SecondsFormat::Secs, false)
    }

    // -- running ---------------------------------------------------------------------------

    /// The session file of a session name: `NAME.session` (the name is a user ID, or another
    /// name for a second session of the same user).
    pub fn session_file(name: &str) -> String {
        format!("{name}.session")
    }

    /// `dms [--session NAME.session] ARGS` ready to run: a clean environment, the temp dir as
    /// working directory, `DMS_NOW` pinned. Everything below runs through this.
    pub fn command(&self, session: Option<&str>, args: &[&str]) -> Command {
        let mut c = Command::new(dms_bin());
        c.env_clear().current_dir(self.dir()).env("DMS_NOW", self.now_rfc3339());
        if let Some(name) = session {
            c.arg("--session").arg(World::session_file(name));
        }
        c.args(args);
        c
    }

    /// Run a command from [`World::command`] to the end, with `stdin` (closed at once if None).
    pub fn run_command(&self, cmd: Command, stdin: Option<&str>) -> Run {
        let (args, now) = describe(&cmd);
        let mut c = assert_cmd::Command::from_std(cmd);
        c.timeout(TIMEOUT);
        c.write_stdin(stdin.unwrap_or("").as_bytes().to_vec());
        let out = c.output().unwrap_or_else(|e| panic!("running dms {}: {e}", args.join(" ")));
        let run = Run {
            args,
            now,
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        self.log.borrow_mut().push(run.clone());
        run
    }

    /// `dms [--session NAME.session] ARGS` exactly as given (tables, CSV, help).
    pub fn raw_in(&self, session: Option<&str>, args: &[&str], stdin: Option<&str>) -> Run {
        self.run_command(self.command(session, args), stdin)
    }

    /// `dms ARGS` exactly as given, without a session flag.
    pub fn raw(&self, args: &[&str]) -> Run {
        self.raw_in(None, args, None)
    }

    /// `dms --session USER.session ARGS` exactly as given.
    pub fn raw_as(&self, user: &str, args: &[&str]) -> Run {
        self.raw_in(Some(user), args, None)
    }

    /// `dms --format json ARGS` with `stdin`, without a session flag (the default session file).
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        self.raw_in(None, &json_args(args), stdin)
    }

    /// `dms --session USER.session --format json ARGS`.
    pub fn as_user(&self, user: &str, args: &[&str]) -> Run {
        self.raw_in(Some(user), &json_args(args), None)
    }

    /// The same, with `stdin`.
    pub fn as_user_stdin(&self, user: &str, args: &[&str], stdin: &str) -> Run {
        self.raw_in(Some(user), &json_args(args), Some(stdin))
    }

    /// As the exchange operator HKEXOP01.
    pub fn op(&self, args: &[&str]) -> Run {
        self.as_user(super::OPERATOR, args)
    }

    /// `dms --format json ARGS` without a session flag; insist on success, return the JSON.
    #[track_caller]
    pub fn ok(&self, args: &[&str], stdin: Option<&str>) -> Value {
        self.run(args, stdin).ok().json()
    }

    /// `dms --format json ARGS` without a session flag; insist on `exit`, return the message.
    #[track_caller]
    pub fn fails(&self, exit: Exit, args: &[&str], stdin: Option<&str>) -> String {
        self.run(args, stdin).expect(exit).message()
    }

    /// Start `dms [--session NAME.session] ARGS` and leave it running (races, kills); `stdin`
    /// is written and closed at once. Its output is drained as it comes.
    pub fn spawn(&self, session: Option<&str>, args: &[&str], stdin: Option<&str>) -> Spawned {
        let mut cmd = self.command(session, args);
        let (args, now) = describe(&cmd);
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting dms {}: {e}", args.join(" ")));
        let mut pipe = child.stdin.take().expect("the child's stdin");
        pipe.write_all(stdin.unwrap_or("").as_bytes()).expect("writing the child's stdin");
        drop(pipe);
        let stdout = drain(child.stdout.take().expect("the child's stdout"));
        let stderr = drain(child.stderr.take().expect("the child's stderr"));
        Spawned { args, now, child, stdout, stderr }
    }
}

/// A `dms` process started by [`World::spawn`].
pub struct Spawned {
    args: Vec<String>,
    now: String,
    child: Child,
    stdout: JoinHandle<Vec<u8>>,
    stderr: JoinHandle<Vec<u8>>,
}

impl Spawned {
    /// Still running?
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("polling dms").is_none()
    }

    /// Wait for the end (at most [`TIMEOUT`]: then kill it and fail).
    pub fn wait(mut self) -> Run {
        let deadline = std::time::Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("polling dms") {
                break s;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("dms {} ran longer than {TIMEOUT:?}", self.args.join(" "));
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        let text = |h: JoinHandle<Vec<u8>>| String::from_utf8_lossy(&h.join().expect("the pipe reader")).into_owned();
        Run {
            args: self.args,
            now: self.now,
            code: status.code().unwrap_or(-1),
            stdout: text(self.stdout),
            stderr: text(self.stderr),
        }
    }

    /// Kill it; returns how it ended.
    pub fn kill(mut self) -> std::process::ExitStatus {
        self.child.kill().expect("killing dms");
        let status = self.child.wait().expect("waiting for the killed dms");
        let _ = self.stdout.join();
        let _ = self.stderr.join();
        status
    }
}

fn drain(mut pipe: impl std::io::Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

fn describe(cmd: &Command) -> (Vec<String>, String) {
    let args = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    let now = cmd
        .get_envs()
        .find(|(k, _)| *k == "DMS_NOW")
        .and_then(|(_, v)| v)
        .map(|v| v.to_string_lossy().into_owned())
        .unwrap_or_default();
    (args, now)
}

pub(super) fn json_args<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    all
}
