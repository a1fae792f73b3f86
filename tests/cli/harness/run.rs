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
    Unreachable = 9,
}

impl Exit {
    pub const ALL: [Exit; 10] = [
        Exit::Ok,
        Exit::Other,
        Exit::Usage,
        Exit::Auth,
        Exit::Locked,
        Exit::NotPermitted,
        Exit::Invalid,
        Exit::Conflict,
        Exit::Integrity,
        Exit::Unreachable,
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

/// Does this run of the suite go through `dms serve` (`DMS_TEST_SERVER=1`)? Then every world
/// starts a server of its own on its database, at its first command that the server runs, and
/// every such command is its client (`--server unix:dms.sock`), with the same assertions.
pub fn served() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("DMS_TEST_SERVER").is_ok_and(|v| v == "1"))
}

/// The commands that never go through a server, whatever the mode: the host-local ones, the
/// host jobs of the service account (`backup`, `--system`), and any that names a database file
/// of its own (`--db`).
fn host_local(args: &[&str]) -> bool {
    if args.iter().any(|a| *a == "--db" || *a == "--system") {
        return true;
    }
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "--format" | "--session" => {
                it.next();
            }
            a if a.starts_with('-') => {}
            verb => return ["init", "restore", "demo", "serve", "completions", "man", "backup"].contains(&verb),
        }
    }
    true
}

/// A world's `dms serve`, stopped with the world.
pub struct Served {
    child: Child,
}

impl Drop for Served {
    fn drop(&mut self) {
        // SIGTERM: the server lets its calls finish and removes its socket.
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
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
    /// This world's server, in server mode, once started.
    pub(super) server: RefCell<Option<Served>>,
    /// Run the clients as this operating-system account (uid, gid) in `client/`: another
    /// person than the server's.
    pub(super) os_user: Cell<Option<(u32, u32)>>,
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
            server: RefCell::new(None),
            os_user: Cell::new(None),
        }
    }

    /// From now on every client command runs as the account `uid`:`gid` (needs root), in the
    /// folder `client/` that account owns, through this world's server: what a DA on a Unix
    /// account of its own does. The world's folder is left traversable only (0711).
    pub fn clients_as(&self, uid: u32, gid: u32) {
        use std::os::unix::fs::PermissionsExt as _;
        let client = self.path("client");
        std::fs::create_dir_all(&client).expect("the client's folder");
        std::os::unix::fs::chown(&client, Some(uid), Some(gid)).expect("chown the client's folder");
        std::fs::set_permissions(&client, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        std::fs::set_permissions(self.dir(), std::fs::Permissions::from_mode(0o711)).expect("chmod");
        self.os_user.set(Some((uid, gid)));
    }

    /// Start this world's server (server mode; once its database exists), if it is not running.
    /// Ok(false): there is no database yet. Err(the command line): the server refused to
    /// start (the files rule on its database or key file), which that command line shows again.
    pub fn ensure_server(&self, format: Option<&str>) -> Result<bool, Vec<String>> {
        if self.server.borrow().is_some() {
            return Ok(true);
        }
        if !self.path("dms.db").exists() {
            return Ok(false);
        }
        let mut serve: Vec<String> = Vec::new();
        if let Some(f) = format {
            serve.extend(["--format".to_string(), f.to_string()]);
        }
        serve.push("serve".into());
        self.start_server(serve).map(|_| true)
    }

    /// Start `dms ARGS` (a `serve` command line) as this world's server; its ready line, or the
    /// command line when it did not start.
    pub fn start_server(&self, serve: Vec<String>) -> Result<String, Vec<String>> {
        let log = std::fs::File::create(self.path("serve.log")).expect("the server's log file");
        let mut child = Command::new(dms_bin())
            .env_clear()
            .current_dir(self.dir())
            .args(&serve)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("starting dms serve");
        let mut ready = String::new();
        let out = child.stdout.take().expect("the server's stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut ready).expect("the ready line");
        if !ready.contains("\"listening\"") {
            let _ = child.wait();
            return Err(serve);
        }
        *self.server.borrow_mut() = Some(Served { child });
        Ok(ready)
    }

    /// The pid of this world's server, if one runs.
    pub fn server_pid(&self) -> Option<u32> {
        self.server.borrow().as_ref().map(|s| s.child.id())
    }

    /// Forget this world's server without stopping it (a test killed it, or stops it itself);
    /// returns the process.
    pub fn take_server(&self) -> Option<Child> {
        self.server.borrow_mut().take().map(|mut s| {
            let dummy = Command::new("true").spawn().expect("true");
            std::mem::replace(&mut s.child, dummy)
        })
    }

    /// Stop this world's server, if one runs (before its files are copied, or to let a test
    /// change what a running server would hold open).
    pub fn stop_server(&self) {
        self.server.borrow_mut().take();
    }

    /// What this world's server has logged (server mode).
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.path("serve.log")).unwrap_or_default()
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
        let c = self.local_command(session, args);
        if (!served() && self.os_user.get().is_none()) || host_local(args) {
            return c;
        }
        let format = args.iter().position(|a| *a == "--format").and_then(|i| args.get(i + 1)).copied();
        let mut full: Vec<String> = match self.ensure_server(format) {
            Ok(false) => return c,
            Ok(true) => vec!["--server".to_string(), "unix:dms.sock".to_string()],
            // The server refuses to start: that refusal is what this command meets.
            Err(serve) => {
                let mut s = Command::new(dms_bin());
                s.env_clear().current_dir(self.dir()).args(serve).stdin(Stdio::null());
                return s;
            }
        };
        full.extend(c.get_args().map(|a| a.to_string_lossy().into_owned()));
        self.client_command(full)
    }

    /// `dms ARGS` as a client of this world's server: as this process's account, or as the
    /// one [`World::clients_as`] named.
    pub fn client_command(&self, args: Vec<String>) -> Command {
        match self.os_user.get() {
            None => {
                let mut c = Command::new(dms_bin());
                c.env_clear().current_dir(self.dir()).env("DMS_NOW", self.now_rfc3339()).args(args);
                c
            }
            Some((uid, gid)) => {
                let socket = format!("unix:{}", self.path("dms.sock").display());
                let args = args.into_iter().map(|a| if a == "unix:dms.sock" { socket.clone() } else { a });
                let mut c = Command::new("setpriv");
                c.env_clear()
                    .current_dir(self.path("client"))
                    .env("DMS_NOW", self.now_rfc3339())
                    .args([format!("--reuid={uid}"), format!("--regid={gid}"), "--clear-groups".to_string()])
                    .arg(dms_bin())
                    .args(args);
                c
            }
        }
    }

    /// `dms [--session NAME.session] ARGS` run on the database file itself, in either mode: for
    /// what only an embedded command can show (a command killed mid-change, the files rule on
    /// the database).
    pub fn local_command(&self, session: Option<&str>, args: &[&str]) -> Command {
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

    /// As the exchange operator, with `stdin`.
    pub fn op_stdin(&self, args: &[&str], stdin: &str) -> Run {
        self.as_user_stdin(super::OPERATOR, args, stdin)
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
        self.spawn_command(self.command(session, args), stdin)
    }

    /// [`World::spawn`], run on the database file itself in either mode (a process to kill).
    pub fn spawn_local(&self, session: Option<&str>, args: &[&str], stdin: Option<&str>) -> Spawned {
        self.spawn_command(self.local_command(session, args), stdin)
    }

    fn spawn_command(&self, mut cmd: Command, stdin: Option<&str>) -> Spawned {
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
