//! `logout` and `whoami`.

use crate::commands::{session_token, signed_in, ANYONE};
use crate::context::{Ctx, Mode};
use crate::error::auth;
use crate::ops::session;
use crate::output::time;
use crate::session_file;
use serde_json::json;

pub fn logout(ctx: &mut Ctx) -> anyhow::Result<()> {
    let Some(token) = session_token(ctx)? else {
        return Err(auth("not signed in").into());
    };
    let (user, was_open) = ctx.transact(Mode::Write, |w| session::logout(w, &token))?;
    session_file::remove(&ctx.session_path);
    ctx.out.object(&json!({ "signed_out": user, "session_was_open": was_open }))?;
    Ok(())
}

pub fn whoami(ctx: &mut Ctx) -> anyhow::Result<()> {
    let (me, now) = signed_in(ctx, ANYONE, Mode::Read, |w, me| Ok((me.clone(), w.now)))?;
    ctx.out.object(&json!({
        "user_id": me.account.id(),
        "role": me.role().as_str(),
        "participant_id": me.account.profile.participant_id(),
        "signed_in_at": time(me.created_at),
        "method": me.method.as_str(),
        "idle_expires_at": time(now + session::idle_limit()),
        "session_expires_at": time(me.created_at + session::absolute_limit()),
    }))?;
    Ok(())
}
