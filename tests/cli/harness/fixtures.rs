//! One set of constants and the starting worlds.

use super::run::World;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::OnceLock;

/// The password everyone gets at first-time logon (meets the policy: 16+ characters, a digit,
/// both cases, a special character).
pub const PASSWORD: &str = "Demo-Passw0rd!2026(HK)";
/// Another one, for changes and resets.
pub const NEW_PASSWORD: &str = "Second-Passw0rd#2026";
/// A wrong one that also meets the policy, so only the match can fail.
pub const WRONG_PASSWORD: &str = "Wrong-Passw0rd!2026(HK)";

/// The smartcard PIN every imported smartcard user gets in these tests.
pub const PIN: &str = "123456";

pub const OPERATOR: &str = "HKEXOP01";
pub const OPERATOR_EMAIL: &str = "ops@hkex.example";
/// The demo participant and its people.
pub const PARTICIPANT: &str = "B01234";
pub const USER1: &str = "B0123401";
pub const USER2: &str = "B0123402";
pub const USER3: &str = "B0123403";
pub const MAKER: &str = "B01234X1";
pub const CHECKER: &str = "B01234X2";
pub const CHECKER2: &str = "B01234X3";

/// Monday 23 November 2026, 10:00 Hong Kong time: inside every service's hours.
pub const MONDAY_10: &str = "2026-11-23T10:00:00+08:00";
/// When the shared fixture of [`World::ready`] was made (an hour before the tests' clock).
pub const FIXTURE_TIME: &str = "2026-11-23T09:00:00+08:00";

/// `dms init` with the operator HKEXOP01 and the test clock allowed.
const INIT_OPERATOR: [&str; 4] = ["init", "--allow-test-clock", "--operator-email", OPERATOR_EMAIL];
/// The same with the demo participant B01234.
const INIT_DEMO: [&str; 5] = ["init", "--allow-test-clock", "--demo", "--operator-email", OPERATOR_EMAIL];

pub fn time(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap_or_else(|e| panic!("bad time {rfc3339}: {e}")).with_timezone(&Utc)
}

pub fn mins(m: i64) -> Duration {
    Duration::minutes(m)
}

pub fn secs(s: i64) -> Duration {
    Duration::seconds(s)
}

/// A secret line for `--password-stdin`.
pub fn line(secret: &str) -> String {
    format!("{secret}\n")
}

/// Two lines: `password change --password-stdin` reads the new password, then the current one.
pub fn two_lines(new: &str, current: &str) -> String {
    format!("{new}\n{current}\n")
}

/// The argon2id PHC of [`PIN`], made once per test binary (argon2 is deliberately slow).
pub fn pin_phc() -> &'static str {
    static PHC: OnceLock<String> = OnceLock::new();
    PHC.get_or_init(|| dms::crypto::hash_secret(PIN, &mut dms::crypto::SecureRng::seeded(1)).expect("hash the PIN"))
}

impl World {
    /// `dms init ARGS` (ARGS start with `init`) in a new temp dir at `now`.
    pub fn init(now: &str, args: &[&str]) -> World {
        let w = World::empty(now);
        w.run(args, None).ok();
        w
    }

    /// The exchange operator HKEXOP01 alone (no password yet), at [`MONDAY_10`].
    pub fn operator() -> World {
        World::init(MONDAY_10, &INIT_OPERATOR)
    }

    /// The demo participant B01234 and the operator HKEXOP01, nobody with a password yet, at
    /// [`MONDAY_10`].
    pub fn demo() -> World {
        World::init(MONDAY_10, &INIT_DEMO)
    }

    /// The demo with the operator through first-time logon (app), signed in (a copy of a
    /// world made once per test run).
    pub fn with_operator() -> World {
        static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
        World::restore(SNAPSHOT.get_or_init(|| {
            let w = World::demo();
            w.first_time_app(OPERATOR);
            w.snapshot(Sessions::Kept)
        }))
    }

    /// The demo with the DA maker B01234X1 and the DA checkers B01234X2 and B01234X3 through
    /// first-time logon (app), each signed in to its own session file (a copy of a world made
    /// once per test run).
    pub fn with_das() -> World {
        static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
        World::restore(SNAPSHOT.get_or_init(|| {
            let w = World::demo();
            for da in [MAKER, CHECKER, CHECKER2] {
                w.first_time_app(da);
            }
            w.snapshot(Sessions::Kept)
        }))
    }

    /// A database where first-time logons are done, made once per test run and copied into
    /// each test that starts from it (the flows themselves are tested from scratch elsewhere):
    ///
    /// - `HKEXOP01`: password [`PASSWORD`], authenticator app confirmed (its key: `key(OPERATOR)`);
    /// - `B0123401` (business user): password [`PASSWORD`], e-mail OTP confirmed;
    /// - `B01234X1` (DA maker): password [`PASSWORD`], no OTP channel yet;
    /// - everyone else of the demo participant: no password.
    ///
    /// All of it happened at [`FIXTURE_TIME`]; nobody is signed in, and the clock is at
    /// [`MONDAY_10`].
    pub fn ready() -> World {
        static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
        let w = World::restore(SNAPSHOT.get_or_init(|| {
            let w = World::init(FIXTURE_TIME, &INIT_DEMO);
            w.first_time_app(OPERATOR);
            w.first_time_email(USER1);
            w.set_first_password(MAKER);
            w.snapshot(Sessions::Dropped)
        }));
        w.at(MONDAY_10);
        w
    }

    /// Everything of this world a copy needs: its files, the app keys, the TOTP steps used,
    /// the clock.
    pub fn snapshot(&self, sessions: Sessions) -> Snapshot {
        // A server holds the database open: stopped first, so the files are at rest.
        self.stop_server();
        let mut files = Vec::new();
        for entry in std::fs::read_dir(self.dir()).expect("the world's dir") {
            let entry = entry.expect("a dir entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            if ["dms.sock", "serve.log", "dms.db.serve.lock"].contains(&name.as_str()) {
                continue;
            }
            if sessions == Sessions::Kept || !name.ends_with(".session") {
                files.push((name, std::fs::read(entry.path()).expect("reading a file of the world")));
            }
        }
        Snapshot {
            files,
            keys: self.keys.borrow().clone(),
            last_step: self.last_step.borrow().clone(),
            now: self.now(),
        }
    }

    /// A new world, in a temp dir of its own, from a snapshot.
    pub fn restore(snapshot: &Snapshot) -> World {
        let w = World::empty(MONDAY_10);
        for (name, bytes) in &snapshot.files {
            write_private(&w.path(name), bytes);
        }
        w.keys.borrow_mut().clone_from(&snapshot.keys);
        w.last_step.borrow_mut().clone_from(&snapshot.last_step);
        w.set_now(snapshot.now);
        w
    }
}

impl World {
    /// A new, empty world in a temp dir of its own that shares this one's authenticator apps,
    /// the TOTP steps they used and the clock: where a copy of this database goes (a restore),
    /// signed in to by the same people with the same phones.
    pub fn beside(&self) -> World {
        let w = World::empty(MONDAY_10);
        w.keys.borrow_mut().clone_from(&self.keys.borrow());
        w.last_step.borrow_mut().clone_from(&self.last_step.borrow());
        w.set_now(self.now());
        w
    }

    /// Take over the TOTP steps `other` used since (the same phones signed in there).
    pub fn steps_from(&self, other: &World) {
        self.last_step.borrow_mut().clone_from(&other.last_step.borrow());
    }
}

/// Whether a snapshot keeps the session files (who is signed in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sessions {
    Kept,
    Dropped,
}

/// A world as it was: see [`World::snapshot`].
pub struct Snapshot {
    files: Vec<(String, Vec<u8>)>,
    keys: HashMap<String, String>,
    last_step: HashMap<String, i64>,
    now: DateTime<Utc>,
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
