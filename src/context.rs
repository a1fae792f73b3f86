//! `Ctx`: what every command gets, built once — the store, the clock, randomness, the output
//! format and the session file. Environment variables are read here and nowhere deeper.

use crate::cli::Global;
use crate::crypto::{MasterKey, SecureRng};
use crate::error::usage;
use crate::mail::{self, Mail};
use crate::output::Output;
use crate::storage::{settings, Store};
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

pub struct Ctx {
    pub store: Store,
    pub now: DateTime<Utc>,
    pub rng: SecureRng,
    pub out: Output,
    pub session_path: PathBuf,
    /// A person is at the keyboard: prompts are allowed.
    pub interactive: bool,
}

/// The TOTP sealing key lives beside the database: `dms.db` → `dms.db.key`.
pub fn key_path(db: &Path) -> PathBuf {
    sibling(db, "key")
}

/// Default session file: `dms.db` → `dms.db.session` (override with --session / DMS_SESSION).
pub fn default_session_path(db: &Path) -> PathBuf {
    sibling(db, "session")
}

fn sibling(db: &Path, ext: &str) -> PathBuf {
    let mut s = db.as_os_str().to_os_string();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// The test clock: `DMS_NOW` (RFC 3339), honoured only when `allowed`.
pub fn clock(allowed: bool) -> anyhow::Result<DateTime<Utc>> {
    match std::env::var("DMS_NOW") {
        Ok(v) if !v.is_empty() => {
            if !allowed {
                return Err(usage(
                    "DMS_NOW is set, but this database was not created with --allow-test-clock: unset DMS_NOW (the clock of a real database cannot be moved)",
                )
                .into());
            }
            Ok(DateTime::parse_from_rfc3339(v.trim())
                .map_err(|_| usage(format!("DMS_NOW {v:?}: not an RFC 3339 time such as 2026-11-23T10:00:00+08:00")))?
                .with_timezone(&Utc))
        }
        _ => Ok(Utc::now()),
    }
}

/// Randomness: seeded by `DMS_SEED` only where the test clock is allowed.
pub fn rng(allowed: bool) -> anyhow::Result<SecureRng> {
    match std::env::var("DMS_SEED") {
        Ok(v) if !v.is_empty() => {
            if !allowed {
                return Err(usage(
                    "DMS_SEED is set, but this database was not created with --allow-test-clock: unset DMS_SEED",
                )
                .into());
            }
            let seed: u64 = v.trim().parse().map_err(|_| usage(format!("DMS_SEED {v:?}: not a number")))?;
            Ok(SecureRng::seeded(seed))
        }
        _ => Ok(SecureRng::os()),
    }
}

impl Ctx {
    /// Open the database named by the global options.
    pub fn open(g: &Global) -> anyhow::Result<Ctx> {
        let store = Store::open(&g.db)?;
        let test_clock = settings::get_or_default(store.conn(), "test-clock")? == "on";
        Ok(Ctx {
            now: clock(test_clock)?,
            rng: rng(test_clock)?,
            out: Output::new(g.format),
            session_path: g.session.clone().unwrap_or_else(|| default_session_path(&g.db)),
            interactive: std::io::stdin().is_terminal(),
            store,
        })
    }

    pub fn key(&self) -> anyhow::Result<MasterKey> {
        MasterKey::load(&key_path(self.store.path()))
    }

    pub fn setting(&self, key: &str) -> anyhow::Result<String> {
        settings::get_or_default(self.store.conn(), key)
    }

    /// The configured mail transport, ready to send.
    pub fn mailer(&self) -> anyhow::Result<Mailer> {
        let dir = self.store.path().parent().map(Path::to_path_buf).unwrap_or_default();
        let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
        Ok(Mailer { transport: mail::transport(&self.setting("mail")?, &dir)?, from: self.setting("mail-from")? })
    }

    /// Send a mail through the configured transport.
    pub fn send_mail(&self, m: &Mail) -> anyhow::Result<()> {
        self.mailer()?.send(m, self.now)
    }

    /// Send a notification after the change it reports has been committed: a failure to
    /// deliver it is a warning, not a reason to undo the change.
    pub fn notify(&self, m: &Mail) {
        if let Err(e) = self.send_mail(m) {
            self.out.warn(&format!("the notification e-mail could not be sent: {e:#}"));
        }
    }
}

/// A transport with its sender address.
pub struct Mailer {
    transport: Box<dyn mail::Transport>,
    from: String,
}

impl Mailer {
    pub fn send(&self, m: &Mail, now: DateTime<Utc>) -> anyhow::Result<()> {
        self.transport.send(&self.from, m, now).context("sending mail")
    }
}
