//! `password reset` (Forgot/Reset) and `password change`.

use crate::commands::session_token;
use crate::context::{Ctx, Mode};
use crate::domain::otp::OtpChannel;
use crate::domain::password_policy;
use crate::domain::user_id::UserId;
use crate::error::{auth, not_permitted, usage};
use crate::ops::credentials::{self, Proof};
use crate::ops::session;
use crate::ops::signin::{self, Secret};
use crate::output::time;
use crate::secrets::Secrets;
use serde_json::json;

pub fn reset(ctx: &mut Ctx, user: UserId, code: Option<String>, password_stdin: bool) -> anyhow::Result<()> {
    let mut secrets = Secrets::new(password_stdin)?;
    let code = match code {
        Some(c) => c,
        None if secrets.tty() => {
            let proof = ctx.transact(Mode::Read, |w| credentials::reset_proof_of(w, &user))?;
            if proof == OtpChannel::Email {
                ctx.out.note("Enter the OTP from the e-mail (`dms otp request --user ID` sends one).");
            }
            let prompt =
                if proof == OtpChannel::App { "Code from your authenticator app" } else { "OTP from the e-mail" };
            secrets.ask(prompt, "--otp CODE is required")?
        }
        None => {
            return Err(usage(
                "--otp CODE is required: an e-mail OTP (first-time logon) or the code of your authenticator app",
            )
            .into())
        }
    };
    let password = secrets.new_password("New password")?;
    let new = super::new_password(ctx, &user, &password)?;
    ctx.transact(Mode::Write, |w| credentials::password_reset(w, &user, &code, &new))?;
    let now = ctx.now();
    ctx.out.object(
        &json!({ "user_id": user, "password_set": true, "password_expires_at": time(password_policy::expires_at(now)) }),
    )?;
    ctx.out.note("Password set. Next: `dms login` (a first logon sets up the OTP channel).");
    Ok(())
}

pub fn change(ctx: &mut Ctx, user: Option<UserId>, password_stdin: bool) -> anyhow::Result<()> {
    let mut secrets = Secrets::new(password_stdin)?;
    let token = session_token(ctx)?;
    let signed_in = session::peek(ctx.store.conn(), token.as_ref().map(|t| t.as_slice()), ctx.now())?.map(|(u, _)| u);
    let uid = match (&signed_in, user) {
        (Some(me), Some(u)) if *me != u => {
            return Err(not_permitted(format!("signed in as {me}: you can change only your own password")).into());
        }
        (Some(me), _) => me.clone(),
        (None, Some(u)) => u,
        (None, None) => {
            return Err(auth("not signed in: sign in, or name --user ID (e.g. to change an expired password)").into())
        }
    };
    let new_password = secrets.new_password("New password")?;
    let current = secrets.existing("current password", "Current password")?;
    let new = super::new_password(ctx, &uid, &new_password)?;
    let current = signin::check_secret(&ctx.store, &uid, Secret::Password, &current)?;
    ctx.transact(Mode::Write, |w| match signed_in {
        Some(_) => {
            let me = session::authenticate(w, token.as_ref().map(|t| t.as_slice()))?;
            credentials::change_password(w, &current, &new, Proof::Session(&me.token_hash))
        }
        None => credentials::change_password(w, &current, &new, Proof::ExpiredPassword),
    })?;
    let now = ctx.now();
    ctx.out.object(&json!({ "user_id": uid, "password_changed": true, "password_expires_at": time(password_policy::expires_at(now)) }))?;
    Ok(())
}
