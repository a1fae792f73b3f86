//! `auth settings --delete-device | --use-email` (seed Appendix D d): signed in, and proven
//! again with the current password and a current code of the registered app.

use crate::commands::{session_token, signed_in, ANYONE};
use crate::context::{Ctx, Mode};
use crate::error::auth;
use crate::ops::credentials::{self, SettingsChange};
use crate::ops::session;
use crate::ops::signin::{self, Secret};
use crate::secrets::Secrets;
use serde_json::{json, Value};

pub fn run(ctx: &mut Ctx, delete_device: bool, otp: Option<String>, password_stdin: bool) -> anyhow::Result<()> {
    let change = if delete_device { SettingsChange::DeleteDevice } else { SettingsChange::UseEmail };
    let token = session_token(ctx)?;
    let (me, _) = session::peek(ctx.store.conn(), token.as_ref().map(|t| t.as_slice()), ctx.now())?
        .ok_or_else(|| auth("not signed in: run `dms login` first (or name another --session file)"))?;
    let mut secrets = Secrets::new(password_stdin)?;
    let password = secrets.existing("current password", "Current password")?;
    let code = match otp {
        Some(c) => c,
        None => secrets.ask(
            "Code from your authenticator app",
            "--otp CODE is required: a current code of your authenticator app",
        )?,
    };
    let password = signin::check_secret(&ctx.store, &me, Secret::Password, &password)?;
    let me = signed_in(ctx, ANYONE, Mode::Write, |w, me| {
        let keep = me.token_hash.clone();
        credentials::auth_settings(w, &mut me.account, &password, &code, change, &keep)?;
        Ok(me.account.id().clone())
    })?;
    let channel = if delete_device { Value::Null } else { json!("email") };
    ctx.out.object(&json!({ "user_id": me, "otp_channel": channel, "change": change.describe() }))?;
    if delete_device {
        ctx.out.note("Device deleted: your next logon sets up the OTP channel again.");
    }
    Ok(())
}
