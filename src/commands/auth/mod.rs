//! Signing in (SPEC §3, contract §8): `login`, `logout`, `whoami`, `otp request|setup`,
//! `password reset|change`, `auth settings`. Secrets are read and hashed before the one
//! transaction of each step; a terminal walk-through is a few such steps, never a transaction
//! held open across a prompt.

pub mod login;
pub mod otp;
pub mod password;
pub mod session;
pub mod settings;

use crate::context::Ctx;
use crate::crypto;
use crate::domain::password_policy;
use crate::domain::user_id::UserId;
use crate::ops::credentials::NewPassword;
use crate::ops::signin::{self, Secret};

/// A new password for `user`: the policy, then (outside the write lock) whether it equals the
/// current one and its argon2id hash.
pub fn new_password(ctx: &mut Ctx, user: &UserId, password: &str) -> anyhow::Result<NewPassword> {
    password_policy::check(password)?;
    let same_as_current = signin::check_secret(&ctx.store, user, Secret::Password, password)?;
    let phc = crypto::hash_secret(password, &mut ctx.rng)?;
    Ok(NewPassword { phc, same_as_current })
}
