//! `request approve N [N...]`: one authorisation code for the batch.

use crate::commands::signed_in;
use crate::context::{Ctx, Mode};
use crate::domain::role::Role;
use crate::error::{classify, not_permitted, usage, Kind};
use crate::ops::maker_checker::{self, AuthorisationCode};
use crate::ops::session;
use crate::ops::signin::{self, Secret};
use crate::prompt::Prompter;
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
        let views = signed_in(ctx, &[Role::Checker], Mode::Read, |w, c| {
            ids.iter().map(|n| maker_checker::view(w, &c.account, *n)).collect::<anyhow::Result<Vec<_>>>()
        })?;
        for v in &views {
            super::show::print(ctx, v, 1)?;
        }
        let confirmed = match secrets.term() {
            Some(t) => t.confirm(&format!("Authorise {} request(s)?", ids.len()), false)?,
            None => false,
        };
        if !confirmed {
            return Err(usage("not authorised").into());
        }
    }
    let code = if smartcard {
        let pin = crate::commands::user::read_pin(&mut secrets, "Authorisation code - your smartcard PIN")?;
        AuthorisationCode::Smartcard { pin: signin::check_secret(&ctx.store, &me, Secret::SmartcardPin, &pin)? }
    } else {
        let password = secrets.existing("password", "Authorisation code - your password")?;
        let password = signin::check_secret(&ctx.store, &me, Secret::Password, &password)?;
        match (otp, secrets.term()) {
            (Some(otp), _) => AuthorisationCode::TwoFactor { password, otp },
            // At a terminal a wrong or replayed code (counted) is told and asked again.
            (None, Some(term)) => return approve_at_terminal(ctx, ids, password, term),
            (None, None) => {
                return Err(
                    usage("--otp CODE is required: the authorisation code is your password and a fresh OTP").into()
                )
            }
        }
    };
    let done = signed_in(ctx, &[Role::Checker], Mode::Write, |w, c| maker_checker::approve(w, c, ids, &code))?;
    print(ctx, &done)
}

/// The OTP part of the code asked at the terminal, again after a wrong or replayed one.
fn approve_at_terminal(ctx: &mut Ctx, ids: &[i64], password: signin::Checked, term: &Prompter) -> anyhow::Result<()> {
    let mut tries = 0;
    loop {
        let otp = term.input("Authorisation code - your OTP")?;
        let code = AuthorisationCode::TwoFactor { password: password.clone(), otp };
        match signed_in(ctx, &[Role::Checker], Mode::Write, |w, c| maker_checker::approve(w, c, ids, &code)) {
            Ok(done) => return print(ctx, &done),
            Err(e) => {
                tries += 1;
                let (kind, message) = classify(&e);
                // A wrong password is not asked again: only the code can be retyped.
                if !password.ok || !matches!(kind, Kind::Auth | Kind::Invalid) || tries >= 3 {
                    return Err(e);
                }
                term.say(&format!("{message}. Try again."))?;
            }
        }
    }
}

fn print(ctx: &Ctx, done: &[i64]) -> anyhow::Result<()> {
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
