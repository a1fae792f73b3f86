//! Attempts: multi-step operations held by the service between calls (the sign-in walk,
//! step-up, inline authorisation, a confirmation). A [`Flow`] goes as far as the answers it has
//! let it and either finishes or names the next [`Step`]; the service keeps the flow under a
//! random attempt ID, bound to the caller, for a short while, and the client answers with
//! `flow/next`. Whatever a step proved (a password checked with argon2, say) stays here, on the
//! service's side: the client only prompts.

use crate::api::{Asked, Part, Via};
use crate::domain::flow::{Answers, Slot, Step};
use crate::error::{classify, usage, Kind};
use crate::ops::service::Exec;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// How long an attempt waits for its next answer (a QR code scanned, an e-mail read).
pub const IDLE: Duration = Duration::from_secs(10 * 60);
/// The longest an attempt lives, however busy.
pub const LIFE: Duration = Duration::from_secs(30 * 60);
/// Attempts held at once; the oldest idle one goes first.
const MAX: usize = 1024;
/// How many times a step that failed (a mistyped code, a password against the policy) is asked
/// again before the attempt gives up.
pub const TRIES: usize = 3;

/// Where a flow got to.
pub enum Progress {
    Done,
    /// It waits for this answer.
    Ask(Step),
}

/// A multi-step operation.
pub trait Flow: Send {
    /// Go on from where the flow stands, with the answers the call brought (`x.answers`).
    fn step(&mut self, x: &mut Exec<'_, '_>) -> anyhow::Result<Progress>;
}

struct Attempt {
    owner: String,
    flow: Box<dyn Flow>,
    started: Instant,
    last: Instant,
}

/// The attempts a service holds, by the SHA-256 of their IDs.
#[derive(Default)]
pub struct Attempts(Mutex<HashMap<[u8; 32], Attempt>>);

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Attempts {
    fn insert(&self, owner: &Via, flow: Box<dyn Flow>, started: Instant) -> String {
        let id = hex::encode(crate::crypto::SecureRng::os().bytes::<16>());
        let now = Instant::now();
        if let Ok(mut m) = self.0.lock() {
            m.retain(|_, a| now - a.last < IDLE && now - a.started < LIFE);
            if m.len() >= MAX {
                if let Some(oldest) = m.iter().min_by_key(|(_, a)| a.last).map(|(k, _)| *k) {
                    m.remove(&oldest);
                }
            }
            m.insert(key(&id), Attempt { owner: owner.owner_key(), flow, started, last: now });
        }
        id
    }

    /// Take an attempt to go on with it: only its own caller's, only while it lives.
    fn take(&self, id: &str, owner: &Via) -> anyhow::Result<(Box<dyn Flow>, Instant)> {
        let gone = || {
            usage(
                "this step's attempt is over (finished, failed, or unanswered for 10 minutes): start the command again",
            )
        };
        let mut m = self.0.lock().map_err(|_| anyhow::anyhow!("attempts poisoned"))?;
        let k = key(id);
        let a = m.remove(&k).ok_or_else(gone)?;
        let now = Instant::now();
        if a.owner != owner.owner_key() {
            // Not this caller's: left where it was, and answered as if it did not exist.
            m.insert(k, a);
            return Err(gone().into());
        }
        if now - a.last >= IDLE || now - a.started >= LIFE {
            return Err(gone().into());
        }
        Ok((a.flow, a.started))
    }

    /// How many attempts wait (for tests and the server's log).
    pub fn len(&self) -> usize {
        self.0.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Start a flow: run it as far as it goes; if it waits for an answer, keep it and say so.
pub fn start(x: &mut Exec<'_, '_>, flow: Box<dyn Flow>) -> anyhow::Result<()> {
    drive(x, flow, Instant::now())
}

/// Go on with attempt `id`, with the answers of this call.
pub fn resume(x: &mut Exec<'_, '_>, id: &str) -> anyhow::Result<()> {
    let (flow, started) = x.db.service().attempts.take(id, &x.db.via)?;
    drive(x, flow, started)
}

fn drive(x: &mut Exec<'_, '_>, mut flow: Box<dyn Flow>, started: Instant) -> anyhow::Result<()> {
    match flow.step(x)? {
        Progress::Done => Ok(()),
        Progress::Ask(step) => {
            if !x.interactive {
                // Nobody can be asked: the step says what a script must pass (SPEC §8, exit 2).
                return Err(usage(step.unanswered(x.stdin)).into());
            }
            let via = x.db.via.clone();
            let attempt = x.db.service().attempts.insert(&via, flow, started);
            x.part(Part::Ask(Asked { attempt, step }))
        }
    }
}

/// The answers a flow has been given so far: those of the first call, and each later one's.
#[derive(Default)]
pub struct Given(Answers);

impl Given {
    /// Take in what this call brought.
    pub fn gather(&mut self, x: &mut Exec<'_, '_>) {
        self.0.merge(std::mem::take(&mut x.answers));
    }

    /// An answer, kept for a later run of the same step.
    pub fn get(&self, slot: Slot) -> Option<Zeroizing<String>> {
        let mut copy = self.0.clone();
        copy.take(slot)
    }

    /// An answer, used up (a step asked again needs a new one).
    pub fn take(&mut self, slot: Slot) -> Option<Zeroizing<String>> {
        self.0.take(slot)
    }

    pub fn has(&self, slot: Slot) -> bool {
        self.0.has(slot)
    }

    pub fn take_yes(&mut self) -> Option<bool> {
        self.0.take_yes(Slot::Confirm)
    }

    pub fn take_choice(&mut self, n: usize) -> Option<usize> {
        self.0.take_choice(n)
    }
}

/// After a failed step (a wrong or replayed code, already counted; a mistyped one; a password
/// against the policy): at a terminal, say why and ask again, up to [`TRIES`] times; never
/// after a lock or anything else.
pub fn again(x: &mut Exec<'_, '_>, e: &anyhow::Error, tries: &mut usize) -> anyhow::Result<bool> {
    let (kind, message) = classify(e);
    *tries += 1;
    if !x.interactive || !matches!(kind, Kind::Auth | Kind::Invalid) || *tries >= TRIES {
        return Ok(false);
    }
    x.say(format!("{message}. Try again."))?;
    Ok(true)
}
