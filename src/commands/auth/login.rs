//! `login`: with `--otp` and `--password-stdin`, one transaction; at a terminal, the seed's
//! walk-through (Appendix C): the sign-in notice, a first-time password, an expired password
//! changed, the OTP channel set up, then the code — each step its own transaction, each code
//! checked at the moment it is typed. Nothing traps a person: an OTP already sent is used
//! again, a password that breaks the policy is asked again, an unfinished app registration
//! offers a new QR code, a wrong or replayed code is asked again.

use crate::cli::LoginArgs;
use crate::context::{Ctx, Mode};
use crate::domain::credentials::OtpState;
use crate::domain::gate::Method;
use crate::domain::otp::OtpChannel;
use crate::domain::password_policy;
use crate::domain::user_id::UserId;
use crate::error::{classify, invalid, usage, Kind};
use crate::ops::credentials::{self, NewPassword, SetUp};
use crate::ops::session;
use crate::ops::signin::{self, Checked, Secret, SignedIn};
use crate::output::time;
use crate::prompt::Prompter;
use crate::secrets::Secrets;
use crate::session_file;
use serde_json::json;

/// The seed's notice on the LOG IN screen (Appendix C v).
pub const SIGN_IN_NOTICE: &str = "By signing in, I confirm that the individual(s) whose personal data is disclosed in my use of this application consent to the processing of their personal data.\nUnauthorized access and use are prohibited. HKEX reserves the right to take actions against offenders.";

/// How many times a terminal asks again for a code or a new password before giving up.
const TRIES: usize = 3;

pub fn run(ctx: &mut Ctx, a: LoginArgs) -> anyhow::Result<()> {
    // The session file is judged first: a login that could not write it is refused before
    // anything is asked or recorded.
    let replaces = session_file::prepare(&ctx.session_path)?;
    let replaces = replaces.as_ref().map(|t| t.as_slice());
    let mut secrets = Secrets::new(a.password_stdin)?;
    let user = match a.user {
        Some(u) => u,
        None => UserId::parse(&secrets.ask("User ID", "--user ID is required")?)?,
    };
    if let Some(t) = secrets.term() {
        t.say(SIGN_IN_NOTICE)?;
    }
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
    let signed = match a.otp {
        Some(code) => {
            let password = secrets.existing("password", "Password")?;
            let checked = signin::check_secret(&ctx.store, &user, Secret::Password, &password)?;
            ctx.transact(Mode::Write, |w| signin::login(w, &checked, &code, replaces))?
        }
        None => {
            let term = secrets.term().expect("without --otp there is a terminal: checked above");
            walk_through(ctx, &user, term, replaces)?
        }
    };
    signed_in(ctx, &signed, secrets.term())
}

/// The terminal's steps, in the seed's order.
fn walk_through(ctx: &mut Ctx, user: &UserId, term: &Prompter, replaces: Option<&[u8]>) -> anyhow::Result<SignedIn> {
    if !signin::has_password(&ctx.store, user)? {
        first_time_password(ctx, user, term)?;
    }
    let password = term.password("Password")?;
    let mut checked = signin::check_secret(&ctx.store, user, Secret::Password, &password)?;
    // The password first, so a wrong one is told at once.
    let acct = ctx.transact(Mode::Write, |w| signin::password_step(w, &checked, "login"))?;
    if acct.cred.password_expired(ctx.now()) {
        term.say("Your password has expired (90 days): choose a new one.")?;
        let (new_password, new) = ask_new_password(ctx, user, term)?;
        ctx.transact(Mode::Write, |w| {
            credentials::change_password(w, &checked, &new, credentials::Proof::ExpiredPassword)
        })?;
        checked = signin::check_secret(&ctx.store, user, Secret::Password, &new_password)?;
    }
    match acct.cred.otp() {
        OtpState::None => set_up_channel(ctx, &checked, term)?,
        OtpState::AppPending { .. } => resume_registration(ctx, &checked, term)?,
        OtpState::Email { .. } => {
            let sent = ctx.transact(Mode::Write, |w| credentials::send_logon_otp(w, user))?;
            term.say(if sent {
                "An OTP was sent to your registered e-mail address."
            } else {
                "Use the OTP already sent to your e-mail (valid 5 minutes)."
            })?;
        }
        OtpState::App { .. } => {}
    }
    let channel = ctx.transact(Mode::Read, |w| Ok(signin::load(w, user, "login")?.cred.channel()))?;
    let email = channel == Some(OtpChannel::Email);
    let prompt = if email { "OTP from the e-mail" } else { "Code from your authenticator app" };
    let mut tries = 0;
    loop {
        let code = term.input(prompt)?;
        match ctx.transact(Mode::Write, |w| signin::login(w, &checked, code.trim(), replaces)) {
            Ok(signed) => return Ok(signed),
            Err(e) => {
                tries += 1;
                if !again(term, &e, tries)? {
                    return Err(e);
                }
                // An e-mailed code that expired while the prompt was open is replaced.
                if email && ctx.transact(Mode::Write, |w| credentials::send_logon_otp(w, user))? {
                    term.say("A new OTP was sent to your registered e-mail address.")?;
                }
            }
        }
    }
}

/// After a wrong or replayed code (a failed attempt, already counted) or a mistyped one, say
/// why and whether to try again: up to [`TRIES`] times, never after a lock or anything else.
fn again(term: &Prompter, e: &anyhow::Error, tries: usize) -> anyhow::Result<bool> {
    let (kind, message) = classify(e);
    if !matches!(kind, Kind::Auth | Kind::Invalid) || tries >= TRIES {
        return Ok(false);
    }
    term.say(&format!("{message}. Try again."))?;
    Ok(true)
}

/// A new password, typed twice, asked again while it breaks the policy.
fn ask_new_password(
    ctx: &mut Ctx,
    user: &UserId,
    term: &Prompter,
) -> anyhow::Result<(zeroize::Zeroizing<String>, NewPassword)> {
    let mut tries = 0;
    loop {
        let password = term.new_password("New password")?;
        match super::new_password(ctx, user, &password) {
            Ok(new) => return Ok((password, new)),
            Err(e) if tries + 1 < TRIES && classify(&e).0 == Kind::Invalid => {
                tries += 1;
                term.say(&classify(&e).1)?;
            }
            Err(e) => return Err(e),
        }
    }
}

/// On a terminal, a user with no password yet: an e-mail OTP (the one already sent, if it is
/// still usable), then a new password twice (checked against the policy before anything is
/// changed), then both in one step.
fn first_time_password(ctx: &mut Ctx, user: &UserId, term: &Prompter) -> anyhow::Result<()> {
    term.say(&format!("{user} has no password yet: first-time logon (set a password with an e-mailed OTP)."))?;
    let sent = ctx.transact(Mode::Write, |w| credentials::first_time_otp(w, user))?;
    term.say(&if sent.resumed {
        format!("Use the OTP already e-mailed to you; it is valid until {}.", signin::show_time(sent.valid_until))
    } else {
        format!(
            "If {user} has a registered e-mail address, an 8-digit OTP was sent to it; it is valid until {}.",
            signin::show_time(sent.valid_until)
        )
    })?;
    let (_, new) = ask_new_password(ctx, user, term)?;
    let mut tries = 0;
    loop {
        let code = term.input("OTP from the e-mail")?;
        match ctx.transact(Mode::Write, |w| credentials::password_reset(w, user, code.trim(), &new)) {
            Ok(()) => break,
            Err(e) => {
                tries += 1;
                if !again(term, &e, tries)? {
                    return Err(e);
                }
            }
        }
    }
    term.say("Password set. Now sign in with it.")?;
    Ok(())
}

/// The first logon's OTP channel: register a device (QR code) or skip to e-mail OTP.
fn set_up_channel(ctx: &mut Ctx, checked: &Checked, term: &Prompter) -> anyhow::Result<()> {
    let choice = term.select(
        "Set up your OTP channel",
        &[
            "Register device (authenticator app: recommended, allows self-service password reset)",
            "Skip this step (e-mail OTP; no self-service password reset)",
        ],
        0,
    )?;
    choose(ctx, checked, term, if choice == 0 { OtpChannel::App } else { OtpChannel::Email })
}

/// A device registration that was interrupted after the QR code: show a new one, or go on with
/// the one already scanned, or skip to e-mail OTP.
fn resume_registration(ctx: &mut Ctx, checked: &Checked, term: &Prompter) -> anyhow::Result<()> {
    term.say("Your authenticator app registration was not finished.")?;
    let choice = term.select(
        "How do you want to go on?",
        &[
            "Show a new QR code (register the device again; the earlier code no longer works)",
            "I scanned it already: enter the code the app shows",
            "Skip this step (e-mail OTP; no self-service password reset)",
        ],
        0,
    )?;
    match choice {
        0 => choose(ctx, checked, term, OtpChannel::App),
        1 => Ok(()),
        _ => choose(ctx, checked, term, OtpChannel::Email),
    }
}

fn choose(ctx: &mut Ctx, checked: &Checked, term: &Prompter, channel: OtpChannel) -> anyhow::Result<()> {
    if channel == OtpChannel::Email
        && !term.confirm("With e-mail OTP you cannot reset your own password. Accept?", false)?
    {
        return Err(usage("OTP channel set-up cancelled").into());
    }
    match ctx.transact(Mode::Write, |w| credentials::set_up_channel(w, checked, channel))? {
        SetUp::App { uri } => {
            term.say(&ctx.out.qr_text(&uri))?;
            term.say("Scan the QR code in ForgeRock Authenticator (or any TOTP app), then enter the code it shows.")?;
        }
        SetUp::Email { masked_to } => term.say(&format!("An OTP was sent to {masked_to}."))?,
    }
    Ok(())
}

/// Smartcard sign-in (legacy, until decommissioning; always on the PG access channel).
fn smartcard(ctx: &mut Ctx, user: &UserId, secrets: &mut Secrets, replaces: Option<&[u8]>) -> anyhow::Result<()> {
    let pin = crate::commands::user::read_pin(secrets, "Smartcard PIN")?;
    let checked = signin::check_secret(&ctx.store, user, Secret::SmartcardPin, &pin)?;
    let signed = ctx.transact(Mode::Write, |w| signin::login_smartcard(w, &checked, replaces))?;
    signed_in(ctx, &signed, secrets.term())
}

/// Write the session file and say who is signed in ("Logon Success" at a terminal).
fn signed_in(ctx: &mut Ctx, s: &SignedIn, term: Option<&Prompter>) -> anyhow::Result<()> {
    let a = &s.account;
    session_file::write(&ctx.session_path, a.id().as_str(), &s.token)?;
    let now = ctx.now();
    let two_factor = s.method == Method::TwoFactor;
    let pw_expires = a.cred.password_set_at().map(password_policy::expires_at).filter(|_| two_factor);
    if let Some(t) = term {
        t.say("Logon Success")?;
    }
    ctx.out.object(&json!({
        "user_id": a.id(),
        "role": a.role().as_str(),
        "participant_id": a.profile.participant_id(),
        "method": s.method.as_str(),
        "session_file": ctx.session_path.display().to_string(),
        "idle_timeout_minutes": session::idle_limit().num_minutes(),
        "session_expires_at": time(now + session::absolute_limit()),
        "password_expires_at": pw_expires.map(time),
    }))?;
    if let Some(exp) = pw_expires {
        let days = (exp - now).num_days();
        if days < 14 {
            ctx.out.warn(&format!(
                "your password expires in {days} days ({}): `dms password change`",
                signin::show_time(exp)
            ));
        }
    }
    Ok(())
}
