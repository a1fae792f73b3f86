//! `hkex key rotate`: a new key file, every sealed value moved to it (see `ops::keys`).

use crate::commands::signed_in;
use crate::context::{Ctx, Mode};
use crate::domain::role::Role;
use crate::ops::keys;
use serde_json::json;

pub fn rotate(ctx: &mut Ctx) -> anyhow::Result<()> {
    let pause = ctx.pause_hook();
    let r = signed_in(ctx, &[Role::Operator], Mode::Write, |w, op| keys::rotate(w, op.account.id(), &pause))?;
    pause("committed");
    ctx.transact(Mode::Write, |w| keys::complete(w, &r.key, &pause))?;
    ctx.out.object(&json!({
        "rotated": r.totp_keys,
        "audit_key": r.audit_key,
        "email_otps_invalidated": r.email_otps_invalidated,
        "key_file": ctx.key_file().display().to_string(),
        "fingerprint": hex::encode(&r.fingerprint[..8]),
    }))?;
    if r.email_otps_invalidated > 0 {
        ctx.out.note("Unused e-mail OTPs were invalidated (their hashes cannot move to a new key): request a new one.");
    }
    Ok(())
}
