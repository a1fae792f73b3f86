//! The service: the one place a [`Call`] is executed, whether the command runs embedded (its
//! own process opens the database) or `dms serve` received it over a socket. [`Service`] owns
//! the database (a small pool of open connections), the key file beside it and the attempts
//! of multi-step operations; [`Service::execute`] runs one envelope as one caller and streams
//! the reply into a [`Sink`].
//!
//! Per call: [`Db`] is what the call works with (a connection, the clock and randomness of
//! the call, who called, the session token) and [`Db::transact`] is the one way a call touches
//! the database: one transaction, committed (or, for a recorded failure, committed and then
//! reported), with mail sent only after the commit, never while the database is locked.

use crate::api::{Envelope, Format, Part, Sink, Token, Via};
use crate::crypto::SecureRng;
use crate::domain::flow::Answers;
use crate::domain::role::Role;
use crate::domain::user_id::UserId;
use crate::error::{is_recorded, not_permitted, DmsError, Kind};
use crate::mail::{self, Mail};
use crate::ops::flow::Attempts;
use crate::ops::session::{self, Actor};
use crate::ops::signin::{self, Checked, Secret};
use crate::ops::work::{key_path, rng_for_call, Clock, Effects, Mode, SecretKind, Work};
use crate::storage::{audit, otps, outbox, settings, Store};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A server truncates the write-ahead log after a write that left it larger than this (SQLite's
/// own checkpoints keep it near 4 MiB otherwise).
const SERVER_WAL_BYTES: u64 = 8 << 20;

/// The database, its key file and what lives between calls.
pub struct Service {
    db: PathBuf,
    key_file: PathBuf,
    /// Open connections not in use.
    idle: Mutex<Vec<Store>>,
    pub(crate) attempts: Attempts,
    /// Behind `dms serve`: host jobs (backup, `--system`) are refused to its clients.
    hosted: bool,
    /// Held by the call that writes (see `Db::transact`).
    writer: Mutex<()>,
}

/// The write lock of this process, held for one write transaction.
struct Writing<'a>(#[allow(dead_code)] std::sync::MutexGuard<'a, ()>);

impl<'a> Writing<'a> {
    fn take(m: &'a Mutex<()>) -> anyhow::Result<Writing<'a>> {
        let g = m.lock().unwrap_or_else(|p| p.into_inner());
        crate::crypto::set_writing(true);
        Ok(Writing(g))
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        crate::crypto::set_writing(false);
    }
}

impl Service {
    /// Open the database (judged by the files rule, migrated to this schema).
    pub fn open(db: &Path, hosted: bool) -> anyhow::Result<Service> {
        let store = Store::open(db)?;
        Ok(Service {
            db: db.to_path_buf(),
            key_file: key_path(db),
            idle: Mutex::new(vec![store]),
            attempts: Attempts::default(),
            hosted,
            writer: Mutex::new(()),
        })
    }

    pub fn db_path(&self) -> &Path {
        &self.db
    }

    pub fn key_file(&self) -> &Path {
        &self.key_file
    }

    pub fn hosted(&self) -> bool {
        self.hosted
    }

    /// The key file beside the database, judged and checked to belong to it.
    pub fn check_key(&self) -> anyhow::Result<()> {
        let store = self.checkout()?;
        crate::ops::keys::open(store.conn(), &self.key_file, false)?;
        Ok(())
    }

    /// Is this a test database (`DMS_NOW`, `DMS_SEED` honoured)? The key file says so (issue 18:
    /// the `test-clock` setting is a row anyone who can write the database could flip).
    fn test_clock(&self, store: &Store) -> anyhow::Result<bool> {
        Ok(crate::ops::keys::open(store.conn(), &self.key_file, false)?.marks.test_clock)
    }

    /// The database and the files SQLite keeps beside it, under the files rule.
    fn judge_files(&self) -> anyhow::Result<()> {
        use crate::files::{inspect, Purpose};
        if inspect(&self.db, Purpose::Database)?.is_none() {
            return Err(crate::error::DmsError::new(
                crate::error::Kind::Other,
                format!("the database {} is gone: the server cannot go on", self.db.display()),
            )
            .into());
        }
        for c in crate::storage::companions(&self.db) {
            inspect(&c, Purpose::Database)?;
        }
        Ok(())
    }

    /// A connection for one call: an idle one, or a new one.
    fn checkout(&self) -> anyhow::Result<Pooled<'_>> {
        let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
        let store = match idle {
            Some(s) => s,
            None => Store::open(&self.db)?,
        };
        Ok(Pooled { store: Some(store), home: &self.idle })
    }

    /// What a host-local command (restore) works with: this process's account, the system clock
    /// or, on a test-clock database, `now`.
    pub fn host_db(&self, now: Option<&str>) -> anyhow::Result<Db<'_>> {
        let store = self.checkout()?;
        let test_clock = self.test_clock(&store)?;
        Ok(Db {
            service: self,
            clock: Clock::for_call(now, test_clock)?,
            rng: SecureRng::os(),
            via: Via::this_process(),
            session: None,
            pause_at: None,
            warnings: Vec::new(),
            store,
        })
    }

    /// Run one call as `via`, its reply into `sink`. An error is the call's failure (its kind
    /// is the exit code); what the sink already received stays shown.
    pub fn execute(&self, env: Envelope, via: &Via, sink: &mut dyn Sink) -> anyhow::Result<()> {
        if self.hosted {
            // A server holds the database for days: the files rule is judged again at every
            // call (a few stat calls), so a database made readable to others meanwhile is
            // refused as an embedded command would refuse it.
            self.judge_files()?;
        }
        let store = self.checkout()?;
        let test_clock = self.test_clock(&store)?;
        let clock = Clock::for_call(env.now.as_deref(), test_clock)?;
        let rng = rng_for_call(env.seed, test_clock)?;
        let pause_at = env.pause_at.filter(|_| test_clock).filter(|v| !v.is_empty());
        let mut x = Exec {
            db: Db {
                service: self,
                store,
                clock,
                rng,
                via: via.clone(),
                session: env.session,
                pause_at,
                warnings: Vec::new(),
            },
            out: sink,
            format: env.format,
            interactive: env.interactive,
            stdin: env.stdin,
            answers: env.answers,
        };
        let result = crate::ops::calls::run(&mut x, env.call);
        x.flush()?;
        result
    }
}

/// A connection taken from the pool, put back when the call ends.
pub struct Pooled<'s> {
    store: Option<Store>,
    home: &'s Mutex<Vec<Store>>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.store.as_ref().expect("a pooled connection is there until dropped")
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.store.as_mut().expect("a pooled connection is there until dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let (Some(s), Ok(mut idle)) = (self.store.take(), self.home.lock()) {
            // A handful is enough to keep: more calls at once open more.
            if idle.len() < 16 {
                idle.push(s);
            }
        }
    }
}

/// One call in execution: what it works with, where its reply goes, and what the caller sent.
pub struct Exec<'s, 'o> {
    pub db: Db<'s>,
    pub out: &'o mut dyn Sink,
    /// How the reply is shaped.
    pub format: Format,
    /// A person can be asked (the client has a terminal).
    pub interactive: bool,
    /// The client read its secrets from standard input.
    pub stdin: bool,
    /// The answers the client sent with this call.
    pub answers: Answers,
}

impl Exec<'_, '_> {
    pub fn part(&mut self, mut p: Part) -> anyhow::Result<()> {
        self.flush()?;
        // Every DMS screen carries its function's line, stamped as it is sent.
        if let Part::Screen(s) = &mut p {
            if let (None, Some(code)) =
                (&s.function, s.title.as_deref().and_then(crate::ops::calls::screen::function_code))
            {
                s.function = Some(crate::ops::calls::screen::function_line(code, self.db.now()));
            }
        }
        self.out.part(p)?;
        Ok(())
    }

    /// A result object.
    pub fn object(&mut self, v: serde_json::Value) -> anyhow::Result<()> {
        self.part(Part::Object(v))
    }

    pub fn note(&mut self, text: impl Into<String>) -> anyhow::Result<()> {
        self.part(Part::Note(text.into()))
    }

    pub fn warn(&mut self, text: impl Into<String>) -> anyhow::Result<()> {
        self.part(Part::Warn(text.into()))
    }

    /// A line at the person's terminal (between prompts); nothing without one.
    pub fn say(&mut self, text: impl Into<String>) -> anyhow::Result<()> {
        if self.interactive {
            self.part(Part::Say(text.into()))?;
        }
        Ok(())
    }

    /// Is the reply for a person reading a table?
    pub fn table(&self) -> bool {
        self.format == Format::Table
    }

    /// Send the warnings the database work left (mail that could not be delivered).
    pub fn flush(&mut self) -> anyhow::Result<()> {
        for w in std::mem::take(&mut self.db.warnings) {
            self.out.part(Part::Warn(w))?;
        }
        Ok(())
    }

    /// [`Db::transact`], its warnings sent on.
    pub fn transact<T>(&mut self, mode: Mode, f: impl FnOnce(&mut Work<'_>) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let r = self.db.transact(mode, f);
        self.flush()?;
        r
    }

    /// [`Db::signed_in`], its warnings sent on.
    pub fn signed_in<T>(
        &mut self,
        roles: &[Role],
        mode: Mode,
        f: impl FnOnce(&mut Work<'_>, &mut Actor) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let r = self.db.signed_in(roles, mode, f);
        self.flush()?;
        r
    }
}

/// What one call works with (see the module head).
pub struct Db<'s> {
    service: &'s Service,
    store: Pooled<'s>,
    pub clock: Clock,
    pub rng: SecureRng,
    pub via: Via,
    /// The token of the client's session file.
    pub session: Option<Token>,
    /// `DMS_TEST_PAUSE_AT=STAGE` (test-clock databases only): a call with named stages (key
    /// rotation) stops there for a while, so a test can kill it at that point.
    pause_at: Option<String>,
    /// Said to the caller once the call's parts are sent.
    pub warnings: Vec<String>,
}

impl Db<'_> {
    pub fn service(&self) -> &Service {
        self.service
    }

    /// Now, read from the clock at this moment.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn conn(&self) -> &rusqlite::Connection {
        self.store.conn()
    }

    pub fn key_file(&self) -> PathBuf {
        self.service.key_file.clone()
    }

    pub fn setting(&self, key: &str) -> anyhow::Result<String> {
        settings::get_or_default(self.store.conn(), key)
    }

    pub fn token(&self) -> Option<&[u8]> {
        self.session.as_ref().map(|t| t.bytes())
    }

    /// A host job of the service account (backup, `--system`): refused to a server's clients.
    pub fn host_job(&self, what: &str) -> anyhow::Result<()> {
        if self.service.hosted || !self.via.embedded() {
            return Err(not_permitted(format!(
                "{what} is a host job of the service account: run it on the server's host as the account that owns the database (without --server), e.g. from its crontab"
            ))
            .into());
        }
        Ok(())
    }

    /// Check a password or PIN with argon2, outside any transaction.
    pub fn check_secret(&self, user: &UserId, which: Secret, secret: &str) -> anyhow::Result<Checked> {
        signin::check_secret(self.store.conn(), user, which, secret)
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

    /// Run `f` in one transaction. Ok commits. An error that recorded something (a failed
    /// attempt) commits and is then reported; any other error rolls back. Mail queued by `f`
    /// is sent only after a commit, never while the database is locked.
    pub fn transact<T>(&mut self, mode: Mode, f: impl FnOnce(&mut Work<'_>) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let key_file = self.service.key_file.clone();
        // One writer at a time in this process: writers queue here rather than in SQLite's
        // busy handler (which sleeps and polls), and argon2 is refused while it is held.
        let _writer = match mode {
            Mode::Write => Some(Writing::take(&self.service.writer)?),
            Mode::Read => None,
        };
        let tx = match mode {
            Mode::Write => self.store.write()?,
            Mode::Read => self.store.read()?,
        };
        // The time is read once the lock is held, so waiting for it does not age the check.
        let now = self.clock.now();
        let keyed;
        let (result, effects) = {
            let mut w = Work {
                tx,
                now,
                rng: &mut self.rng,
                writable: mode == Mode::Write,
                via: &self.via,
                key_file,
                key: None,
                audit_key: std::cell::OnceCell::new(),
                policy: None,
                effects: Effects::default(),
                keyed_now: std::cell::Cell::new(false),
            };
            let result = f(&mut w);
            let Work { tx, effects, keyed_now, .. } = w;
            keyed = keyed_now.get();
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
        drop(_writer);
        if keyed {
            // The keyed chain just began: its mark goes into the key file now, under the write
            // lock of a transaction of its own (`keys::open`, writable, marks it).
            self.mark_keyed()?;
        }
        // A server's connections live for days: after a large write (an import, a bulk
        // approval) the log is truncated now rather than when the server stops.
        if mode == Mode::Write && self.service.hosted && self.store.wal_bytes() > SERVER_WAL_BYTES {
            self.store.keep_log_small();
        }
        let delivered = self.deliver(effects);
        match (result, delivered) {
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(e),
            (Ok(v), Ok(())) => Ok(v),
        }
    }

    /// Give the key file the mark of a keyed chain begun by the transaction that just committed
    /// (`keys::open` does, when the write lock is held).
    fn mark_keyed(&mut self) -> anyhow::Result<()> {
        let _writer = Writing::take(&self.service.writer)?;
        let tx = self.store.write()?;
        crate::ops::keys::open(&tx, &self.service.key_file, true)?;
        tx.commit()?;
        Ok(())
    }

    /// Run `f` for the signed-in account (one of `roles`) in the call's one transaction. The
    /// session check is inside it. A `Mode::Read` call takes the write lock only when the
    /// session check must write (its idle timer is due, or it has expired).
    pub fn signed_in<T>(
        &mut self,
        roles: &[Role],
        mode: Mode,
        f: impl FnOnce(&mut Work<'_>, &mut Actor) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let token = self.session.clone();
        let token = token.as_ref().map(|t| t.bytes());
        let mode = match mode {
            Mode::Write => Mode::Write,
            Mode::Read if session::needs_write(self.store.conn(), token, self.now())? => Mode::Write,
            Mode::Read => Mode::Read,
        };
        self.transact(mode, |w| {
            let mut actor = session::require(w, token, roles)?;
            f(w, &mut actor)
        })
    }

    /// Run `f` as the exchange operator (signed in), or, with `system` (cron), as the
    /// operating-system account that owns the database files, without a DMS sign-in: that
    /// account can read the database and its key file anyway. Through a server `system` is
    /// refused (a host job). `f` gets the operator's user ID, or None for `system`.
    pub fn operator_or_system<T>(
        &mut self,
        system: bool,
        mode: Mode,
        f: impl FnOnce(&mut Work<'_>, Option<&UserId>) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        if system {
            self.host_job("--system")?;
            return self.transact(mode, |w| f(w, None));
        }
        self.signed_in(&[Role::Operator], mode, |w, op| {
            let id = op.account.id().clone();
            f(w, Some(&id))
        })
    }

    /// Who the session token signs in, if its session is open (asked before a call's
    /// transaction, to know whose secret to check; the transaction checks everything again).
    pub fn peek(&self) -> anyhow::Result<Option<(UserId, Role)>> {
        session::peek(self.store.conn(), self.token(), self.now())
    }

    /// Send committed mail, outside any transaction, all of it in one batch. Then, in one
    /// small transaction: an undeliverable notification is kept in the outbox (the call warns;
    /// `hkex outbox retry` sends it later); an undeliverable OTP is invalidated — never kept,
    /// never counted as a miss — and the call fails saying so.
    fn deliver(&mut self, effects: Effects) -> anyhow::Result<()> {
        if effects.mails.is_empty() && effects.migrated.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let mailer = self.mailer();
        let results = match &mailer {
            Ok(m) => m.send_all(&effects.mails.iter().map(|o| &o.mail).collect::<Vec<_>>(), now),
            Err(e) => vec![Err(format!("{e:#}")); effects.mails.len()],
        };
        let mut notes = Vec::new();
        let mut otps = Vec::new();
        // The migration's holders, a batch of mails at a time.
        const BATCH: usize = 4096;
        for batch in effects.migrated.chunks(BATCH) {
            let mails: Vec<Mail> = batch.iter().map(|(to, uid, srn)| mail::account_migrated(to, uid, srn)).collect();
            let results = match &mailer {
                Ok(m) => m.send_all(&mails.iter().collect::<Vec<_>>(), now),
                Err(e) => vec![Err(format!("{e:#}")); mails.len()],
            };
            notes.extend(mails.into_iter().zip(results).filter_map(|(m, r)| r.err().map(|e| (m, e))));
        }
        for (o, r) in effects.mails.into_iter().zip(results) {
            if let Err(e) = r {
                match o.secret {
                    Some(of) => otps.push((of, e)),
                    None => notes.push((o.mail, e)),
                }
            }
        }
        if notes.is_empty() && otps.is_empty() {
            return Ok(());
        }
        let kept = self.transact(Mode::Write, |w| {
            for (of, e) in &otps {
                let (user, hash) = (&of.user, &of.code_hash);
                let action = match of.what {
                    SecretKind::Otp => {
                        otps::discard_code(&w.tx, user, hash)?;
                        "otp.email.undeliverable"
                    }
                    SecretKind::InitialPin => {
                        crate::storage::pins::remove(&w.tx, user, Some(hash))?;
                        "smartcard.pin.undeliverable"
                    }
                };
                w.audit(&audit::Event {
                    actor: Some(user.as_str()),
                    action,
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
                    self.warnings.push(format!(
                        "{what} could not be sent ({e}); kept in the outbox as {as_ids}: the exchange operator sends {it} with `dms hkex outbox retry`"
                    ))
                }
                Err(k) => self.warnings.push(format!("{what} could not be sent ({e}), nor kept in the outbox: {k:#}")),
            }
        }
        if let Some((of, e)) = otps.into_iter().next() {
            // Not even invalidated: say that first.
            kept?;
            let what = match of.what {
                SecretKind::Otp => "the one-time password could not be e-mailed, so it was invalidated; it does not count as a failed attempt, and a new one can be requested once mail works",
                SecretKind::InitialPin => "the initial smartcard PIN could not be e-mailed to its holder, so it was voided: the card has no PIN that works until it is issued or reset again once mail works",
            };
            return Err(DmsError::new(Kind::Other, format!("{what}: {e}")).into());
        }
        Ok(())
    }

    /// The configured mail transport, ready to send.
    pub fn mailer(&self) -> anyhow::Result<Mailer> {
        let dir = self.service.db.parent().map(Path::to_path_buf).unwrap_or_default();
        let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
        let from = |kind: mail::Sender| {
            let key = kind.setting();
            mail::sender(&self.setting(key)?).map_err(|e| e.context(format!("setting {key}")))
        };
        Ok(Mailer {
            transport: mail::transport(&self.setting("mail")?, &dir)?,
            system: from(mail::Sender::System)?,
            eservice: from(mail::Sender::Eservice)?,
        })
    }
}

/// A transport with the sender address of each kind of mail.
pub struct Mailer {
    transport: Box<dyn mail::Transport>,
    system: mail::Mailbox,
    eservice: mail::Mailbox,
}

impl Mailer {
    /// Send these mails, a batch per sender; one result per mail, in order.
    pub fn send_all(&self, mails: &[&Mail], now: DateTime<Utc>) -> Vec<mail::Delivery> {
        let mut out: Vec<Option<mail::Delivery>> = vec![None; mails.len()];
        for (kind, from) in [(mail::Sender::System, &self.system), (mail::Sender::Eservice, &self.eservice)] {
            let (at, batch): (Vec<usize>, Vec<&Mail>) =
                mails.iter().enumerate().filter(|(_, m)| m.sender == kind).map(|(i, m)| (i, *m)).unzip();
            if batch.is_empty() {
                continue;
            }
            for (i, d) in at.into_iter().zip(self.transport.send_all(from, &batch, now)) {
                out[i] = Some(d);
            }
        }
        out.into_iter().map(|d| d.unwrap_or_else(|| Err("not sent".to_string()))).collect()
    }
}
