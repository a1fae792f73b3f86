//! Sessions: the CLI's form of a signed-in terminal (SPEC §3, beyond the seed).
//!
//! `dms login` draws a 256-bit random token, writes it to the session file and stores only its
//! SHA-256. Every command that needs an identity checks the token inside its own transaction:
//! the limits (15 minutes idle, 8 hours absolute), then the account behind it through the gate
//! (lock, status, dates, what the timeline allows the sign-in method, service hours). No argon2
//! runs here. The idle timer is written at most once a minute, so a burst of read commands does
//! not take the write lock.

use crate::crypto;
use crate::domain::account::Account;
use crate::domain::gate::{self, Act, Method};
use crate::domain::role::Role;
use crate::domain::user_id::UserId;
use crate::error::{auth, not_permitted, DmsError};
use crate::ops::work::Work;
use crate::storage::{sessions, users};
use chrono::{DateTime, Duration, Utc};

pub fn idle_limit() -> Duration {
    Duration::minutes(15)
}

pub fn absolute_limit() -> Duration {
    Duration::hours(8)
}

/// How stale the recorded last activity may get before a command writes it again.
pub fn touch_interval() -> Duration {
    Duration::minutes(1)
}

/// Who is signed in, checked for this command.
#[derive(Debug, Clone)]
pub struct Actor {
    pub account: Account,
    pub token_hash: Vec<u8>,
    pub method: Method,
    pub created_at: DateTime<Utc>,
}

impl Actor {
    pub fn role(&self) -> Role {
        self.account.role()
    }
}

fn not_signed_in() -> DmsError {
    auth("not signed in: run `dms login` first (or name another --session file)")
}

/// Would checking this session now write (end it, or refresh its idle timer)? Asked before
/// the transaction starts, so a read-only command takes the write lock only when it must.
pub fn needs_write(c: &rusqlite::Connection, token: Option<&[u8]>, now: DateTime<Utc>) -> anyhow::Result<bool> {
    let Some(token) = token else { return Ok(false) };
    Ok(match sessions::get(c, &crypto::token_hash(token))? {
        Some(row) if !row.ended => {
            now - row.created_at >= absolute_limit()
                || now - row.last_seen_at >= idle_limit()
                || now - row.last_seen_at >= touch_interval()
        }
        _ => false,
    })
}

/// Check the session `token` (from the session file) and the account behind it, for a command
/// that any of `roles` may run.
pub fn require(w: &mut Work<'_>, token: Option<&[u8]>, roles: &[Role]) -> anyhow::Result<Actor> {
    let actor = authenticate(w, token)?;
    if !roles.contains(&actor.role()) {
        let msg = if actor.role() == Role::User {
            "business users cannot use DMS functions".to_string()
        } else {
            let allowed: Vec<&str> = roles.iter().map(|r| r.label()).collect();
            format!("this needs the role {} (you are {})", allowed.join(" or "), actor.role().label())
        };
        return Err(not_permitted(msg).into());
    }
    Ok(actor)
}

/// Check the session and the account behind it (any role).
pub fn authenticate(w: &mut Work<'_>, token: Option<&[u8]>) -> anyhow::Result<Actor> {
    let token = token.ok_or_else(not_signed_in)?;
    let hash = crypto::token_hash(token);
    let row = sessions::get(&w.tx, &hash)?.ok_or_else(not_signed_in)?;
    if row.ended {
        // A lock, a disable or dates moved ahead end the account's sessions; when the account
        // cannot act now, say why as sign-in would (the gate's refusal: exit 4 and who can
        // help) rather than only that the session ended, whatever raced with whom.
        if let Some(a) = users::account(&w.tx, &row.user_id)? {
            let now = w.now;
            gate::may_act(&a, Act::Session(row.method), w.policy()?, now).map_err(DmsError::from)?;
        }
        return Err(auth(
            "this session has ended (logged out, password or device changed, account reset or disabled): sign in again",
        )
        .into());
    }
    let expired = if w.now - row.created_at >= absolute_limit() {
        Some("8-hour limit")
    } else if w.now - row.last_seen_at >= idle_limit() {
        Some("15 minutes idle")
    } else {
        None
    };
    if let Some(why) = expired {
        let e = auth(format!("session expired ({why}): sign in again"));
        if w.writable {
            sessions::end(&w.tx, &hash, w.now, why)?;
            return Err(e.recorded().into());
        }
        return Err(e.into());
    }
    let account = users::account(&w.tx, &row.user_id)?.ok_or_else(|| auth("the signed-in user no longer exists"))?;
    let now = w.now;
    gate::may_act(&account, Act::Session(row.method), w.policy()?, now).map_err(DmsError::from)?;
    if w.writable && now - row.last_seen_at >= touch_interval() {
        sessions::touch(&w.tx, &hash, now)?;
    }
    Ok(Actor { account, token_hash: hash, method: row.method, created_at: row.created_at })
}

/// Who a session file signs in, if its session is open and within its limits (asked before a
/// command's transaction, to know whose password to check and whether the role may run it; the
/// transaction checks everything again).
pub fn peek(
    c: &rusqlite::Connection,
    token: Option<&[u8]>,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<(UserId, Role)>> {
    let Some(token) = token else { return Ok(None) };
    let row = sessions::get(c, &crypto::token_hash(token))?
        .filter(|r| !r.ended && now - r.created_at < absolute_limit() && now - r.last_seen_at < idle_limit());
    match row {
        Some(r) => Ok(users::get(c, &r.user_id)?.map(|p| (r.user_id, p.role))),
        None => Ok(None),
    }
}

/// End the session of this token; returns whose it was and whether it was still open.
pub fn logout(w: &mut Work<'_>, token: &[u8]) -> anyhow::Result<(Option<UserId>, bool)> {
    let hash = crypto::token_hash(token);
    let row = sessions::get(&w.tx, &hash)?;
    let ended = sessions::end(&w.tx, &hash, w.now, "logout")?;
    if let Some(r) = &row {
        w.audit(&crate::storage::audit::Event {
            actor: Some(r.user_id.as_str()),
            action: "signout",
            subject: Some(r.user_id.as_str()),
            ..Default::default()
        })?;
    }
    Ok((row.map(|r| r.user_id), ended))
}
