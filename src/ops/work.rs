//! What one transaction works with ([`Work`]): the open transaction, the time it started,
//! randomness, the key file (loaded when first needed), the day's policy, who called (for the
//! audit rows), and the mail to send once it has committed. Every rule in `ops` runs on a
//! `Work`; `ops::service::Db::transact` makes one.

use crate::api::Via;
use crate::crypto::{MasterKey, SecureRng};
use crate::domain::gate::Policy;
use crate::domain::user_id::UserId;
use crate::error::usage;
use crate::mail::Mail;
use crate::storage::{audit, settings};
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use rusqlite::Transaction;
use std::path::{Path, PathBuf};

/// The TOTP sealing key lives beside the database: `dms.db` → `dms.db.key`.
pub fn key_path(db: &Path) -> PathBuf {
    sibling(db, "key")
}

/// Default session file: `dms.db` → `dms.db.session` (override with --session / DMS_SESSION).
pub fn default_session_path(db: &Path) -> PathBuf {
    sibling(db, "session")
}

/// `dms.db` → `dms.db.EXT`.
pub fn sibling(db: &Path, ext: &str) -> PathBuf {
    let mut s = db.as_os_str().to_os_string();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// The one clock of a call, read whenever a check happens.
#[derive(Debug, Clone)]
pub enum Clock {
    System,
    /// `DMS_NOW=2026-11-23T10:00:00+08:00` (forwarded by the client): for tests and the demo.
    Pinned(DateTime<Utc>),
}

impl Clock {
    /// The clock a call runs on: the client's pinned time (a test clock: honoured only on a
    /// database made with `--allow-test-clock`), or the system's.
    pub fn for_call(now: Option<&str>, allowed: bool) -> anyhow::Result<Clock> {
        match now.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(Clock::System),
            Some(_) if !allowed => Err(usage(
                "DMS_NOW is set, but this database was not created with --allow-test-clock: unset DMS_NOW (the clock of a real database cannot be moved)",
            )
            .into()),
            Some(v) => Ok(Clock::Pinned(parse_now(v)?)),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Pinned(t) => *t,
        }
    }
}

/// An RFC 3339 time, as `DMS_NOW` gives it.
pub fn parse_now(v: &str) -> anyhow::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(v.trim())
        .map_err(|_| {
            usage(format!(
                "DMS_NOW {:?}: not an RFC 3339 time such as 2026-11-23T10:00:00+08:00",
                v.chars().take(64).collect::<String>()
            ))
        })?
        .with_timezone(&Utc))
}

/// Randomness of a call: seeded by the client's `DMS_SEED` only where the test clock is allowed.
pub fn rng_for_call(seed: Option<u64>, allowed: bool) -> anyhow::Result<SecureRng> {
    match seed {
        None => Ok(SecureRng::os()),
        Some(_) if !allowed => {
            Err(usage("DMS_SEED is set, but this database was not created with --allow-test-clock: unset DMS_SEED")
                .into())
        }
        Some(s) => Ok(SecureRng::seeded(s)),
    }
}

/// Does a transaction write, or only read?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// BEGIN IMMEDIATE: the write lock is taken up front, so two writers queue instead of
    /// deadlocking on an upgrade.
    Write,
    /// A consistent snapshot; writes nothing.
    Read,
}

/// What one transaction works with (see the module head).
pub struct Work<'a> {
    pub tx: Transaction<'a>,
    pub now: DateTime<Utc>,
    pub rng: &'a mut SecureRng,
    pub writable: bool,
    /// Who called: written into every audit row beside the dms user.
    pub via: &'a Via,
    pub(crate) key_file: PathBuf,
    pub(crate) key: Option<MasterKey>,
    /// The audit key, opened (or, the first time, created) by the first audit row.
    pub(crate) audit_key: std::cell::OnceCell<audit::AuditKey>,
    pub(crate) policy: Option<Policy>,
    pub effects: Effects,
    /// This transaction started the keyed chain (a database from before it, changed): the key
    /// file is marked once it has committed.
    pub(crate) keyed_now: std::cell::Cell<bool>,
}

impl Work<'_> {
    /// Rehearse `f`: in the command's own transaction, inside a savepoint that is always rolled
    /// back, so every check it makes (a file whole, then the database: participants, quotas,
    /// IDs taken, the DA minimum) is made exactly as it would be, and nothing is kept — no row,
    /// no audit row, no mail. An import's dry run; the check before a question (check first,
    /// ask last).
    pub fn rehearse<T>(&mut self, f: impl FnOnce(&mut Work<'_>) -> anyhow::Result<T>) -> anyhow::Result<T> {
        crate::storage::savepoint(&self.tx, "rehearsal")?;
        let (queued, holders) = (self.effects.mails.len(), self.effects.migrated.len());
        let result = f(self);
        crate::storage::rollback_to(&self.tx, "rehearsal")?;
        // Nor is anyone told of what was not done.
        self.effects.mails.truncate(queued);
        self.effects.migrated.truncate(holders);
        result
    }

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
                let existed = audit::load_key(&self.tx, master)?.is_some();
                let k = audit::key(&self.tx, master, &mut SecureRng::os())?;
                self.keyed_now.set(!existed);
                self.audit_key.get_or_init(|| k)
            }
        };
        let via = serde_json::to_string(self.via)?;
        audit::append(&self.tx, self.now, key, e, Some(&via))?;
        Ok(())
    }

    /// Send this mail once the transaction has committed.
    /// Tell each holder the migration registered, once the transaction has committed
    /// ([`crate::mail::account_migrated`]).
    pub fn notify_migrated(&mut self, holders: Vec<(String, String, String)>) {
        self.effects.migrated.extend(holders);
    }

    pub fn notify(&mut self, mail: Mail) {
        self.effects.mails.push(Outgoing { mail, secret: None });
    }

    /// Send this OTP mail once the transaction has committed; if it cannot be delivered, the
    /// code (`code_hash`, as stored) is invalidated: an OTP nobody received must not stay
    /// usable or count as a miss. It is never kept in the outbox.
    pub fn send_otp(&mut self, user: &UserId, code_hash: &[u8], mail: Mail) {
        let secret = Some(Carries { what: SecretKind::Otp, user: user.clone(), code_hash: code_hash.to_vec() });
        self.effects.mails.push(Outgoing { mail, secret });
    }

    /// Send this mail of a one-time initial smartcard PIN once the transaction has committed;
    /// if it cannot be delivered, the initial PIN is voided (nobody received it) and the call
    /// fails saying so. It is never kept in the outbox.
    pub fn send_initial_pin(&mut self, user: &UserId, code_hash: &[u8], mail: Mail) {
        let secret = Some(Carries { what: SecretKind::InitialPin, user: user.clone(), code_hash: code_hash.to_vec() });
        self.effects.mails.push(Outgoing { mail, secret });
    }
}

/// Mail waiting for the commit.
#[derive(Debug, Default)]
pub struct Effects {
    pub mails: Vec<Outgoing>,
    /// The migration's mail to each holder it registered (address, user ID, SRN): kept this
    /// small and made into mails a batch at a time as they are sent (a migration registers
    /// 100,000 accounts).
    pub migrated: Vec<(String, String, String)>,
}

#[derive(Debug)]
pub struct Outgoing {
    pub mail: Mail,
    /// The secret this mail carries, if any: never kept in the outbox.
    pub secret: Option<Carries>,
}

/// A one-time secret a mail carries: whose, and the stored hash of it.
#[derive(Debug)]
pub struct Carries {
    pub what: SecretKind,
    pub user: UserId,
    pub code_hash: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// An e-mail OTP.
    Otp,
    /// A one-time initial smartcard PIN.
    InitialPin,
}
