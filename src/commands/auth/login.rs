//! `login`: with `--otp` and `--password-stdin`, one transaction; on a terminal, the seed's
//! walk-through (Appendix C): a first-time password, an expired password changed, the OTP
//! channel set up, then the code — each step its own transaction, and the code checked at the
//! moment it is typed.

use crate::cli::LoginArgs;
use crate::context::{Ctx, Mode};
use crate::domain::otp::OtpChannel;
use crate::domain::password_policy;
use crate::domain::user_id::UserId;
use crate::error::{invalid, usage};
use crate::ops::credentials::{self, SetUp};
use crate::ops::session;
use crate::ops::signin::{self, Checked, Secret, SignedIn};
use crate::secrets::Secrets;
use crate::session_file;
use crate::storage::ts;
use serde_json::json;

pub fn run(ctx: &mut Ctx, a: LoginArgs) -> anyhow::Result<()> {
    // The session file is judged first: a login that could not write it is refused before
    // anything is asked or recorded.
    let replaces = session_file::prepare(&ctx.session_path)?;
    let mut secrets = Secrets::new(a.password_stdin)?;
    let user = match a.user {
        Some(u) => u,
        None if secrets.tty() => {
            let s: String = dialoguer::Input::new().with_prompt("User ID").interact_text()?;
            UserId::parse(&s)?
        }
        None => return Err(usage("--user ID is required").into()),
    };
    if a.smartcard {
        return smartcard(ctx, &user, &mut secrets, replaces);
    }
    if a.otp.is_none() && !secrets.tty() {
        return Err(usage(
            "--otp CODE is required without a terminal (e-mail OTP users: `dms otp request --user ID` sends one)",
        )
        .into());
    }
    if let Some(code) = &a.otp {
        if !code.trim().bytes().all(|b| b.is_ascii_digit()) || code.trim().is_empty() {
            return Err(invalid("--otp: a one-time password is 6 digits (app) or 8 digits (e-mail)").into());
        }
    }
    // First-time logon on a terminal without a password yet: walk through Forgot/Reset.
    if secrets.tty() && !a.password_stdin && !signin::has_password(&ctx.store, &user)? {
        first_time_password(ctx, &user, &mut secrets)?;
    }
    let password = secrets.existing("password", "Password")?;
    let mut checked = signin::check_secret(&ctx.store, &user, Secret::Password, &password)?;
    let code = match a.otp {
        Some(code) => code,
        None => {
            checked = walk_through(ctx, checked, &mut secrets)?;
            let channel = ctx.transact(Mode::Read, |w| Ok(signin::load(w, &user, "login")?.cred.channel()))?;
            let prompt = match channel {
                Some(OtpChannel::App) => "Code from your authenticator app",
                _ => "OTP from the e-mail",
            };
            dialoguer::Input::<String>::new().with_prompt(prompt).interact_text()?
        }
    };
    let signed =
        ctx.transact(Mode::Write, |w| signin::login(w, &checked, &code, replaces.as_ref().map(|t| t.as_slice())))?;
    signed_in(ctx, &signed)
}

/// The terminal's steps before the code: the password (told at once if wrong), an expired
/// password changed, the OTP channel set up or an e-mail OTP sent. Returns the password check
/// to sign in with (a new one after a change).
fn walk_through(ctx: &mut Ctx, checked: Checked, secrets: &mut Secrets) -> anyhow::Result<Checked> {
    let user = checked.user_id.clone();
    let acct = ctx.transact(Mode::Write, |w| signin::password_step(w, &checked, "login"))?;
    let mut checked = checked;
    if acct.cred.password_expired(ctx.now()) {
        ctx.out.note("Your password has expired (90 days): choose a new one.");
        let new_password = secrets.new_password("New password")?;
        let new = super::new_password(ctx, &user, &new_password)?;
        ctx.transact(Mode::Write, |w| {
            credentials::change_password(w, &checked, &new, credentials::Proof::ExpiredPassword)
        })?;
        checked = signin::check_secret(&ctx.store, &user, Secret::Password, &new_password)?;
    }
    match acct.cred.channel() {
        None => interactive_setup(ctx, &checked)?,
        Some(OtpChannel::Email) => {
            let sent = ctx.transact(Mode::Write, |w| credentials::send_logon_otp(w, &user))?;
            ctx.out.note(if sent {
                "An OTP was sent to your registered e-mail address."
            } else {
                "Use the OTP already sent to your e-mail (valid 5 minutes)."
            });
        }
        Some(OtpChannel::App) => {}
    }
    Ok(checked)
}

/// On a terminal, a user with no password yet: e-mail OTP, then a new password twice.
fn first_time_password(ctx: &mut Ctx, user: &UserId, secrets: &mut Secrets) -> anyhow::Result<()> {
    ctx.out.note(&format!(
        "{user} has no password yet: first-time logon. An OTP will be sent to the registered e-mail address."
    ));
    let sent = ctx.transact(Mode::Write, |w| credentials::request_email_otp(w, user))?;
    ctx.out.note(&format!(
        "If {user} has a registered e-mail address, an 8-digit OTP was sent to it; it is valid until {}.",
        signin::show_time(sent.valid_until)
    ));
    let code: String = dialoguer::Input::new().with_prompt("OTP from the e-mail").interact_text()?;
    let password = secrets.new_password("New password")?;
    let new = super::new_password(ctx, user, &password)?;
    ctx.transact(Mode::Write, |w| credentials::password_reset(w, user, &code, &new))?;
    ctx.out.note("Password set. Now sign in with it.");
    Ok(())
}

/// On a terminal: register a device (QR code) or skip to e-mail OTP.
fn interactive_setup(ctx: &mut Ctx, checked: &Checked) -> anyhow::Result<()> {
    let choice = dialoguer::Select::new()
        .with_prompt("Set up your OTP channel")
        .items([
            "Register device (authenticator app: recommended, allows self-service password reset)",
            "Skip this step (e-mail OTP; no self-service password reset)",
        ])
        .default(0)
        .interact()?;
    let channel = if choice == 0 { OtpChannel::App } else { OtpChannel::Email };
    if channel == OtpChannel::Email
        && !dialoguer::Confirm::new()
            .with_prompt("With e-mail OTP you cannot reset your own password. Accept?")
            .default(false)
            .interact()?
    {
        return Err(usage("OTP channel set-up cancelled").into());
    }
    match ctx.transact(Mode::Write, |w| credentials::set_up_channel(w, checked, channel))? {
        SetUp::App { uri } => {
            ctx.out.qr(&uri);
            ctx.out
                .note("Scan the QR code in ForgeRock Authenticator (or any TOTP app), then enter the code it shows.");
        }
        SetUp::Email { masked_to } => ctx.out.note(&format!("An OTP was sent to {masked_to}.")),
    }
    Ok(())
}

/// Smartcard sign-in (legacy, until decommissioning; always on the PG access channel).
fn smartcard(
    ctx: &mut Ctx,
    user: &UserId,
    secrets: &mut Secrets,
    replaces: Option<zeroize::Zeroizing<Vec<u8>>>,
) -> anyhow::Result<()> {
    let pin = crate::commands::user::read_pin(secrets, "Smartcard PIN")?;
    let checked = signin::check_secret(&ctx.store, user, Secret::SmartcardPin, &pin)?;
    let signed =
        ctx.transact(Mode::Write, |w| signin::login_smartcard(w, &checked, replaces.as_ref().map(|t| t.as_slice())))?;
    signed_in(ctx, &signed)
}

/// Write the session file and say who is signed in.
fn signed_in(ctx: &mut Ctx, s: &SignedIn) -> anyhow::Result<()> {
    let a = &s.account;
    session_file::write(&ctx.session_path, a.id().as_str(), &s.token)?;
    let now = ctx.now();
    let pw_expires = a.cred.password_set_at().map(password_policy::expires_at);
    ctx.out.object(&json!({
        "user_id": a.id(),
        "role": a.role().as_str(),
        "participant_id": a.profile.participant_id(),
        "method": s.method.as_str(),
        "session_file": ctx.session_path.display().to_string(),
        "idle_timeout_minutes": session::idle_limit().num_minutes(),
        "session_expires_at": ts(now + session::absolute_limit()),
        "password_expires_at": pw_expires.filter(|_| s.method == crate::domain::gate::Method::TwoFactor).map(ts),
    }))?;
    if let Some(exp) = pw_expires {
        let days = (exp - now).num_days();
        if days < 14 && s.method == crate::domain::gate::Method::TwoFactor {
            ctx.out.warn(&format!(
                "your password expires in {days} days ({}): `dms password change`",
                signin::show_time(exp)
            ));
        }
    }
    Ok(())
}
