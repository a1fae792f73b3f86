//! The database through the `sqlite3` shell, an independent reader of the file: only for state
//! no command prints (credential hashes and counters, sessions, e-mail OTPs, the audit trail,
//! retired IDs, eServices), for snapshots that prove a refusal changed nothing, and to tamper.

use super::run::World;

impl World {
    fn sqlite3(&self, read_only: bool, sql: &str) -> String {
        let mut c = std::process::Command::new("sqlite3");
        if read_only {
            c.arg("-readonly");
        }
        let out = c
            .arg(self.path("dms.db"))
            .arg(sql)
            .env_clear()
            .env("PATH", super::util::tool_path())
            .output()
            .unwrap_or_else(|e| panic!("the sqlite3 shell is required by these tests (apt-get install sqlite3): {e}"));
        assert!(out.status.success(), "sqlite3 {sql:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    }

    /// Query the database read-only: one line per row, `|` between columns.
    pub fn sql(&self, query: &str) -> String {
        self.sqlite3(true, query)
    }

    /// Change the database behind dms's back (to tamper, or to set what no command sets).
    pub fn sql_write(&self, statement: &str) {
        self.sqlite3(false, statement);
    }

    /// A query for one number.
    #[track_caller]
    pub fn count(&self, query: &str) -> i64 {
        let v = self.sql(query);
        v.parse().unwrap_or_else(|_| panic!("{query}: not a number: {v:?}"))
    }

    /// A column (or expression) of a user's credentials row.
    pub fn cred(&self, user: &str, column: &str) -> String {
        self.sql(&format!("SELECT {column} FROM credentials WHERE user_id = '{user}'"))
    }

    /// The rows of each query under a line naming it, from one run of the shell.
    fn rows_of(&self, queries: &[&str]) -> String {
        self.sql(&queries.iter().map(|q| format!("SELECT '-- {q}'; {q};")).collect::<Vec<_>>().join(" "))
    }

    /// Everything a request or an eService can change: participants, profiles, retired IDs,
    /// eServices, settings, holidays and requests (not credentials, sessions or the audit
    /// trail, which record the attempts themselves).
    pub fn state(&self) -> String {
        self.rows_of(&STATE)
    }

    /// [`World::state`] and the credentials that sign-in changes (password, OTP channel, lock
    /// and failures): what a refusal that must count no failure leaves alone.
    pub fn state_and_credentials(&self) -> String {
        let mut all = STATE.to_vec();
        all.push(
            "SELECT user_id, password_phc, otp_channel, otp_confirmed, locked_at, failures FROM credentials ORDER BY 1",
        );
        self.rows_of(&all)
    }
}

const STATE: [&str; 8] = [
    "SELECT * FROM participants ORDER BY 1",
    "SELECT * FROM users ORDER BY 1",
    "SELECT * FROM retired_user_ids ORDER BY 1",
    "SELECT * FROM eservices ORDER BY 1",
    "SELECT * FROM settings ORDER BY 1",
    "SELECT * FROM holidays ORDER BY 1",
    "SELECT * FROM requests ORDER BY 1",
    "SELECT * FROM request_subjects ORDER BY 1, 2",
];

/// Another connection that keeps the database open beside a test's commands (an interactive
/// `sqlite3` that has read from it): the -wal is not checkpointed away when a command closes,
/// so every frame written stays in it. Closed when dropped.
pub struct Holder(std::process::Child);

impl World {
    #[track_caller]
    pub fn hold_open(&self) -> Holder {
        use std::io::{BufRead as _, Write as _};
        let mut c = std::process::Command::new("sqlite3")
            .arg(self.path("dms.db"))
            .env_clear()
            .env("PATH", super::util::tool_path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("sqlite3");
        let stdin = c.stdin.as_mut().expect("stdin");
        stdin.write_all(b"SELECT COUNT(*) FROM settings;\n").expect("write");
        stdin.flush().expect("flush");
        let mut first = String::new();
        std::io::BufReader::new(c.stdout.as_mut().expect("stdout")).read_line(&mut first).expect("read");
        assert!(first.trim().parse::<u32>().is_ok(), "sqlite3 answered {first:?}");
        Holder(c)
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
