//! `request approve N [N...]`: one authorisation code for the batch.

use crate::commands::signed_in;
use crate::context::{Ctx, Mode};
use crate::domain::role::Role;
use crate::error::{not_permitted, usage};
use crate::ops::maker_checker::{self, AuthorisationCode};
use crate::ops::session;
use crate::ops::signin::{self, Secret};
use crate::secrets::Secrets;
use serde_json::json;

pub fn run(
    ctx: &mut Ctx,
    ids: &[i64],
    otp: Option<String>,
    password_stdin: bool,
    smartcard: bool,
    yes: bool,
) -> anyhow::Result<()> {
    let mut secrets = Secrets::new(password_stdin)?;
    let me = checker(ctx)?;
    // On a terminal, show what will change and ask first.
    if secrets.tty() && !yes && ctx.out.for_person() {
        let shown = signed_in(ctx, &[Role::Checker], Mode::Read, |w, c| {
            ids.iter().map(|n| super::show::describe(w, &c.account, *n)).collect::<anyhow::Result<Vec<_>>>()
        })?;
        for v in &shown {
            ctx.out.object(v)?;
        }
        if !dialoguer::Confirm::new()
            .with_prompt(format!("Authorise {} request(s)?", ids.len()))
            .default(false)
            .interact()?
        {
            return Err(usage("not authorised").into());
        }
    }
    let code = if smartcard {
        let pin = crate::commands::user::read_pin(&mut secrets, "Authorisation code - your smartcard PIN")?;
        AuthorisationCode::Smartcard { pin: signin::check_secret(&ctx.store, &me, Secret::SmartcardPin, &pin)? }
    } else {
        let password = secrets.existing("password", "Authorisation code - your password")?;
        let otp = match otp {
            Some(o) => o,
            None if secrets.tty() => {
                dialoguer::Input::new().with_prompt("Authorisation code - your OTP").interact_text()?
            }
            None => {
                return Err(
                    usage("--otp CODE is required: the authorisation code is your password and a fresh OTP").into()
                )
            }
        };
        AuthorisationCode::TwoFactor {
            password: signin::check_secret(&ctx.store, &me, Secret::Password, &password)?,
            otp,
        }
    };
    let done = signed_in(ctx, &[Role::Checker], Mode::Write, |w, c| maker_checker::approve(w, c, ids, &code))?;
    let done: Vec<_> = done.iter().map(|id| json!({ "request_id": id, "status": "APPROVED" })).collect();
    if done.len() == 1 {
        ctx.out.object(&done[0])?;
    } else {
        ctx.out.object(&json!({ "approved": done }))?;
    }
    Ok(())
}

/// The signed-in checker, before any secret is read: not signed in, or not a checker, is said
/// at once.
fn checker(ctx: &mut Ctx) -> anyhow::Result<crate::domain::user_id::UserId> {
    let token = crate::commands::session_token(ctx)?;
    let (me, role) = match session::peek(ctx.store.conn(), token.as_ref().map(|t| t.as_slice()), ctx.now())? {
        Some(found) => found,
        // Let the full check say why (expired, ended, locked...).
        None => signed_in(ctx, crate::commands::ANYONE, Mode::Read, |_, a| Ok((a.account.id().clone(), a.role())))?,
    };
    if role != Role::Checker {
        return Err(
            not_permitted(format!("only a DA checker can authorise requests (you are {})", role.label())).into()
        );
    }
    Ok(me)
}
