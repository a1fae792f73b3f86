//! `hkex smartcard issue USER_ID --srn SRN --certificate-expiry DATE --password-stdin`: a
//! Participant Gateway user's card (the PIN on standard input, never in argv).

use crate::commands::signed_in;
use crate::context::{Ctx, Mode};
use crate::crypto;
use crate::domain::role::Role;
use crate::domain::user_id::UserId;
use crate::ops::{exchange, migration};
use crate::secrets::Secrets;
use serde_json::json;

pub fn issue(ctx: &mut Ctx, user: UserId, srn: &str, expiry: &str, password_stdin: bool) -> anyhow::Result<()> {
    let srn = migration::srn(srn)?;
    let expiry = migration::certificate_expiry(expiry)?;
    let mut secrets = Secrets::new(password_stdin)?;
    let pin = crate::commands::user::read_pin(&mut secrets, "Smartcard PIN (6-8 digits)")?;
    let phc = crypto::hash_secret(&pin, &mut ctx.rng)?;
    signed_in(ctx, &[Role::Operator], Mode::Write, |w, op| {
        exchange::issue_smartcard(w, op, &user, srn.clone(), expiry, phc)
    })?;
    ctx.out.object(&json!({
        "user_id": user, "srn": srn, "certificate_expiry": expiry.format("%Y-%m-%d %H:%M:%S").to_string(), "issued": true,
    }))?;
    Ok(())
}
