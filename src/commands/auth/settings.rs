//! `auth settings` (seed Appendix D d).

use crate::commands::{signed_in, ANYONE};
use crate::context::{Ctx, Mode};
use crate::ops::credentials::{self, SettingsChange};
use serde_json::{json, Value};

pub fn run(ctx: &mut Ctx, delete_device: bool, use_email: bool) -> anyhow::Result<()> {
    let change = if delete_device { SettingsChange::DeleteDevice } else { SettingsChange::UseEmail };
    let _ = use_email;
    let me = signed_in(ctx, ANYONE, Mode::Write, |w, me| {
        let keep = me.token_hash.clone();
        credentials::auth_settings(w, &mut me.account, change, &keep)?;
        Ok(me.account.id().clone())
    })?;
    let channel = if delete_device { Value::Null } else { json!("email") };
    ctx.out.object(&json!({ "user_id": me, "otp_channel": channel, "change": change.describe() }))?;
    if delete_device {
        ctx.out.note("Device deleted: your next logon sets up the OTP channel again.");
    }
    Ok(())
}
