//! `Ctx`: what every command gets, built once — the store, the clock, randomness, the output
//! format and the session file — and [`Ctx::transact`], the one way a command touches the
//! database: one transaction, committed (or, for a recorded failure, committed and then
//! reported), with mail sent only after the commit. Environment variables are read here and
//! nowhere deeper.

use crate::cli::Global;
use crate::crypto::{MasterKey, SecureRng};
use crate::domain::gate::Policy;
use crate::domain::user_id::UserId;
use crate::error::{is_recorded, usage};
use crate::mail::{self, Mail};
use crate::output::Output;
use crate::storage::{audit, otps, outbox, settings, Store};
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use rusqlite::Transaction;
use serde_json::json;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

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

/// The one clock, read whenever a check happens (a prompt can stay open for minutes).
#[derive(Debug, Clone)]
pub enum Clock {
    System,
    /// `DMS_NOW=2026-11-23T10:00:00+08:00`: pinned, for tests and the demo.
    Pinned(DateTime<Utc>),
    /// `DMS_NOW=@PATH`: the time written in PATH, read at every check, so a test can move the
    /// clock while a prompt is open.
    File(PathBuf),
}

impl Clock {
    /// `DMS_NOW`, honoured only on a database made with `--allow-test-clock`.
    pub fn from_env(allowed: bool) -> anyhow::Result<Clock> {
        match std::env::var("DMS_NOW") {
            Ok(v) if !v.is_empty() => {
                if !allowed {
                    return Err(usage(
                        "DMS_NOW is set, but this database was not created with --allow-test-clock: unset DMS_NOW (the clock of a real database cannot be moved)",
                    )
                    .into());
                }
                let clock = match v.trim().strip_prefix('@') {
                    Some(path) => Clock::File(PathBuf::from(path)),
                    None => Clock::Pinned(parse_now(&v)?),
                };
                clock.read()?;
                Ok(clock)
            }
            _ => Ok(Clock::System),
        }
    }

    fn read(&self) -> anyhow::Result<DateTime<Utc>> {
        match self {
            Clock::System => Ok(Utc::now()),
            Clock::Pinned(t) => Ok(*t),
            Clock::File(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| usage(format!("DMS_NOW=@{}: {e}", p.display())))?;
                parse_now(&text)
            }
        }
    }

    /// Now. A clock file that can no longer be read keeps the last readable time out of
    /// reach: the test clock is a test's tool, and a failure there is the test's to see.
    pub fn now(&self) -> DateTime<Utc> {
        self.read().unwrap_or_else(|_| Utc::now())
    }
}

fn parse_now(v: &str) -> anyhow::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(v.trim())
        .map_err(|_| usage(format!("DMS_NOW {v:?}: not an RFC 3339 time such as 2026-11-23T10:00:00+08:00")))?
        .with_timezone(&Utc))
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

pub struct Ctx {
    pub store: Store,
    pub clock: Clock,
    pub rng: SecureRng,
    pub out: Output,
    pub session_path: PathBuf,
    /// `DMS_TEST_PAUSE_AT=STAGE` (test-clock databases only): a command with named stages
    /// (key rotation) stops there for a while, so a test can kill it at that point.
    pause_at: Option<String>,
}

/// Does a command's transaction write, or only read?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// BEGIN IMMEDIATE: the write lock is taken up front, so two writers queue instead of
    /// deadlocking on an upgrade.
    Write,
    /// A consistent snapshot; writes nothing.
    Read,
}

/// What one transaction works with: the open transaction, the time it started, randomness,
/// the key file (loaded when first needed), the day's policy, and the mail to send once it
/// has committed.
pub struct Work<'a> {
    pub tx: Transaction<'a>,
    pub now: DateTime<Utc>,
    pub rng: &'a mut SecureRng,
    pub writable: bool,
    key_file: PathBuf,
    key: Option<MasterKey>,
    /// The audit key, opened (or, the first time, created) by the first audit row.
    audit_key: std::cell::OnceCell<audit::AuditKey>,
    policy: Option<Policy>,
    pub effects: Effects,
}

impl Work<'_> {
    /// The key file (TOTP sealing, keyed hashes), read on first use.
    pub fn key(&mut self) -> anyhow::Result<&MasterKey> {
        if self.key.is_none() {
            self.key = Some(crate::ops::keys::open(&self.tx, &self.key_file, self.writable)?);
        }
        self.key.as_ref().context("key file")
    }

    /// The key file beside the database.
    pub fn key_file(&self) -> &Path {
        &self.key_file
    }

    /// The gate's policy: service hours, holidays and the timeline, read on first use.
    pub fn policy(&mut self) -> anyhow::Result<&Policy> {
        if self.policy.is_none() {
            self.policy = Some(settings::policy(&self.tx)?);
        }
        self.policy.as_ref().context("policy")
    }

    pub fn audit(&self, e: &audit::Event<'_>) -> anyhow::Result<()> {
        let key = match self.audit_key.get() {
            Some(k) => k,
            None => {
                let loaded;
                let master = match &self.key {
                    Some(k) => k,
                    None => {
                        loaded = crate::ops::keys::open(&self.tx, &self.key_file, self.writable)?;
                        &loaded
                    }
                };
                // Only a database from before the keyed chain has no audit key yet; its key
                // comes from the operating system even under DMS_SEED (it is never shown, and
                // `audit` borrows the Work shared, so its generator is out of reach).
                let k = audit::key(&self.tx, master, &mut SecureRng::os())?;
                self.audit_key.get_or_init(|| k)
            }
        };
        audit::append(&self.tx, self.now, key, e)?;
        Ok(())
    }

    /// Send this mail once the transaction has committed.
    pub fn notify(&mut self, mail: Mail) {
        self.effects.mails.push(Outgoing { mail, otp_of: None });
    }

    /// Send this OTP mail once the transaction has committed; if it cannot be delivered, the
    /// code (`code_hash`, as stored) is invalidated: an OTP nobody received must not stay
    /// usable or count as a miss. It is never kept in the outbox.
    pub fn send_otp(&mut self, user: &UserId, code_hash: &[u8], mail: Mail) {
        self.effects.mails.push(Outgoing { mail, otp_of: Some((user.clone(), code_hash.to_vec())) });
    }
}

/// Mail waiting for the commit.
#[derive(Debug, Default)]
pub struct Effects {
    pub mails: Vec<Outgoing>,
}

#[derive(Debug)]
pub struct Outgoing {
    pub mail: Mail,
    /// The user whose one-time password this mail carries, and the stored hash of that code.
    pub otp_of: Option<(UserId, Vec<u8>)>,
}

impl Ctx {
    /// Open the database named by the global options.
    pub fn open(g: &Global) -> anyhow::Result<Ctx> {
        let store = Store::open(&g.db)?;
        let test_clock = settings::get_or_default(store.conn(), "test-clock")? == "on";
        Ok(Ctx {
            clock: Clock::from_env(test_clock)?,
            rng: rng(test_clock)?,
            out: Output::new(g.format),
            session_path: g.session.clone().unwrap_or_else(|| default_session_path(&g.db)),
            pause_at: if test_clock { std::env::var("DMS_TEST_PAUSE_AT").ok().filter(|v| !v.is_empty()) } else { None },
            store,
        })
    }

    /// The stop of `DMS_TEST_PAUSE_AT`: called with each stage's name, it says on stderr that
    /// it stopped and sleeps 30 seconds at the named one; otherwise it does nothing.
    pub fn pause_hook(&self) -> impl Fn(&str) {
        let at = self.pause_at.clone();
        move |stage: &str| {
            if at.as_deref() == Some(stage) {
                use std::io::Write as _;
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{}", json!({ "paused": stage }));
                let _ = err.flush();
                std::thread::sleep(std::time::Duration::from_secs(30));
            }
        }
    }

    /// Now, read from the clock at this moment.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A person at the keyboard: prompts are allowed.
    pub fn interactive(&self) -> bool {
        std::io::stdin().is_terminal()
    }

    pub fn key_file(&self) -> PathBuf {
        key_path(self.store.path())
    }

    pub fn setting(&self, key: &str) -> anyhow::Result<String> {
        settings::get_or_default(self.store.conn(), key)
    }

    /// Run `f` in one transaction. Ok commits. An error that recorded something (a failed
    /// attempt) commits and is then reported; any other error rolls back. Mail queued by `f`
    /// is sent only after a commit, never while the database is locked.
    pub fn transact<T>(&mut self, mode: Mode, f: impl FnOnce(&mut Work<'_>) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let key_file = self.key_file();
        let tx = match mode {
            Mode::Write => self.store.write()?,
            Mode::Read => self.store.read()?,
        };
        // The time is read once the lock is held, so waiting for it does not age the check.
        let now = self.clock.now();
        let (result, effects) = {
            let mut w = Work {
                tx,
                now,
                rng: &mut self.rng,
                writable: mode == Mode::Write,
                key_file,
                key: None,
                audit_key: std::cell::OnceCell::new(),
                policy: None,
                effects: Effects::default(),
            };
            let result = f(&mut w);
            let Work { tx, effects, .. } = w;
            let keep = match &result {
                Ok(_) => true,
                Err(e) => is_recorded(e),
            };
            if !keep {
                drop(tx);
                return result;
            }
            tx.commit()?;
            (result, effects)
        };
        let delivered = self.deliver(effects);
        match (result, delivered) {
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(e),
            (Ok(v), Ok(())) => Ok(v),
        }
    }

    /// Send committed mail, outside any transaction, all of it in one batch. Then, in one
    /// small transaction: an undeliverable notification is kept in the outbox (the command
    /// warns; `hkex outbox retry` sends it later); an undeliverable OTP is invalidated — never
    /// kept, never counted as a miss — and the command fails saying so.
    fn deliver(&mut self, effects: Effects) -> anyhow::Result<()> {
        if effects.mails.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let results = match self.mailer() {
            Ok(m) => m.send_all(&effects.mails.iter().map(|o| &o.mail).collect::<Vec<_>>(), now),
            Err(e) => vec![Err(format!("{e:#}")); effects.mails.len()],
        };
        let mut notes = Vec::new();
        let mut otps = Vec::new();
        for (o, r) in effects.mails.into_iter().zip(results) {
            if let Err(e) = r {
                match o.otp_of {
                    Some(of) => otps.push((of, e)),
                    None => notes.push((o.mail, e)),
                }
            }
        }
        if notes.is_empty() && otps.is_empty() {
            return Ok(());
        }
        let kept = self.transact(Mode::Write, |w| {
            for ((user, hash), e) in &otps {
                otps::discard_code(&w.tx, user, hash)?;
                w.audit(&audit::Event {
                    actor: Some(user.as_str()),
                    action: "otp.email.undeliverable",
                    subject: Some(user.as_str()),
                    detail: json!({ "error": e, "invalidated": true }).to_string(),
                    ..Default::default()
                })?;
            }
            let mut ids = Vec::new();
            for (mail, e) in &notes {
                ids.push(outbox::keep(&w.tx, mail, w.now, e)?);
            }
            if let (Some(first), Some(last)) = (ids.first(), ids.last()) {
                w.audit(&audit::Event {
                    action: "mail.kept",
                    detail: json!({ "mail_ids": [first, last], "count": ids.len(), "error": notes[0].1 }).to_string(),
                    ..Default::default()
                })?;
            }
            Ok(ids)
        });
        if let Some((_, e)) = notes.first() {
            let n = notes.len();
            let (what, it) = if n == 1 {
                ("a notification e-mail".to_string(), "it")
            } else {
                (format!("{n} notification e-mails"), "them")
            };
            match &kept {
                Ok(ids) => {
                    let as_ids = match (ids.first(), ids.last()) {
                        (Some(a), Some(b)) if a != b => format!("mails {a} to {b}"),
                        (Some(a), _) => format!("mail {a}"),
                        _ => "mail".into(),
                    };
                    self.out.warn(&format!(
                        "{what} could not be sent ({e}); kept in the outbox as {as_ids}: the exchange operator sends {it} with `dms hkex outbox retry`"
                    ))
                }
                Err(k) => self.out.warn(&format!("{what} could not be sent ({e}), nor kept in the outbox: {k:#}")),
            }
        }
        if let Some((_, e)) = otps.into_iter().next() {
            // Not even invalidated: say that first.
            kept?;
            return Err(crate::error::DmsError::new(
                crate::error::Kind::Other,
                format!(
                    "the one-time password could not be e-mailed, so it was invalidated; it does not count as a failed attempt, and a new one can be requested once mail works: {e}"
                ),
            )
            .into());
        }
        Ok(())
    }

    /// The configured mail transport, ready to send.
    pub fn mailer(&self) -> anyhow::Result<Mailer> {
        let dir = self.store.path().parent().map(Path::to_path_buf).unwrap_or_default();
        let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
        Ok(Mailer { transport: mail::transport(&self.setting("mail")?, &dir)?, from: self.setting("mail-from")? })
    }
}

/// A transport with its sender address.
pub struct Mailer {
    transport: Box<dyn mail::Transport>,
    from: String,
}

impl Mailer {
    /// Send these mails in one batch; one result per mail.
    pub fn send_all(&self, mails: &[&Mail], now: DateTime<Utc>) -> Vec<mail::Delivery> {
        self.transport.send_all(&self.from, mails, now)
    }
}
