//! Signing in (SPEC §3, contract §8): `otp request`, `password reset`, `otp setup`, `login`,
//! `logout`, `whoami`, `password change`, `auth settings`.
//!
//! Each step is its own transaction. A failed attempt is recorded and committed, then
//! reported. Interactive prompts happen between transactions, never while one is open.

use crate::cli::{LoginArgs, OtpSetupArgs};
use crate::context::Ctx;
use crate::crypto;
use crate::domain::otp::{self, OtpChannel};
use crate::domain::password_policy;
use crate::domain::user_id::UserId;
use crate::error::{auth, conflict, invalid, not_permitted, usage, DmsError};
use crate::mail;
use crate::secrets::Secrets;
use crate::session;
use crate::signin::{self, Account, Factor, Outcome};
use crate::storage::{audit, otps, sessions, users};
use chrono::{DateTime, Utc};
use serde_json::json;
use zeroize::Zeroizing;

/// Run `f` in a write transaction, commit whatever it recorded, then return its outcome.
fn step<T>(
    ctx: &mut Ctx,
    f: impl FnOnce(&rusqlite::Connection, &mut StepEnv<'_>) -> anyhow::Result<Outcome<T>>,
) -> anyhow::Result<T> {
    let now = ctx.now;
    let key = ctx.key()?;
    let mailer = ctx.mailer()?;
    let tx = ctx.store.write()?;
    let mut env = StepEnv { now, key: &key, rng: &mut ctx.rng, mail: None };
    let outcome = f(&tx, &mut env)?;
    // A code is delivered before it is committed: if the mail cannot be sent, nothing is kept.
    if let Some(m) = env.mail.take() {
        mailer.send(&m, now)?;
    }
    tx.commit()?;
    outcome.map_err(|e: DmsError| e.into())
}

/// What a step may use besides the transaction.
struct StepEnv<'a> {
    now: DateTime<Utc>,
    key: &'a crypto::MasterKey,
    rng: &'a mut crypto::SecureRng,
    /// An OTP mail to send before committing.
    mail: Option<mail::Mail>,
}

/// Load the account and pass the gate (lock, status, dates, hours).
fn open_account(
    c: &rusqlite::Connection,
    user: &str,
    now: DateTime<Utc>,
    what: &str,
) -> anyhow::Result<Outcome<Account>> {
    let a = match signin::load_for_signin(c, user, now, what)? {
        Ok(a) => a,
        Err(e) => return Ok(Err(e)),
    };
    if let Err(e) = signin::gate(c, &a, now)? {
        a.audit(c, now, "signin.refused", json!({ "step": what, "reason": e.message }))?;
        return Ok(Err(e));
    }
    Ok(Ok(a))
}

macro_rules! tri {
    ($e:expr) => {
        match $e? {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        }
    };
}

fn check_code_shape(code: &str, channel: OtpChannel) -> anyhow::Result<()> {
    let digits = match channel {
        OtpChannel::App => otp::TOTP_DIGITS as usize,
        OtpChannel::Email => otp::EMAIL_OTP_DIGITS,
    };
    if otp::is_code_shaped(code, digits) {
        Ok(())
    } else {
        let from = if channel == OtpChannel::App { "the authenticator app" } else { "the e-mail" };
        Err(invalid(format!("--otp: a one-time password from {from} is {digits} digits")).into())
    }
}

// ---------------------------------------------------------------------------------------
// otp request

pub fn cmd_otp_request(ctx: &mut Ctx, user: UserId) -> anyhow::Result<()> {
    let (to, valid_until) = request_email_otp(ctx, &user)?;
    ctx.out
        .object(&json!({ "user_id": user.as_str(), "sent_to": to, "valid_until": crate::storage::ts(valid_until) }))?;
    ctx.out.note(&format!(
        "An 8-digit OTP was sent to {to}; it is valid for 5 minutes ({}).",
        signin::show_time(valid_until)
    ));
    Ok(())
}

/// Send an e-mail OTP on request (throttled); returns the masked address and its expiry.
fn request_email_otp(ctx: &mut Ctx, user: &UserId) -> anyhow::Result<(String, DateTime<Utc>)> {
    step(ctx, |c, env| {
        let a = tri!(open_account(c, user.as_str(), env.now, "otp request"));
        let Some(email) = a.profile.email.clone() else {
            return Ok(Err(not_permitted(format!(
                "{} has no registered e-mail address: ask your Delegated Administrator to register one",
                a.id()
            ))));
        };
        if a.cred.otp_confirmed && a.cred.otp_channel == Some(OtpChannel::App) {
            return Ok(Err(not_permitted(format!(
                "{} uses an authenticator app: enter the code the app shows (no e-mail OTP is sent)",
                a.id()
            ))));
        }
        let prev = otps::get(c, a.id())?;
        if let Err(next) = otp::may_request_email_otp(prev.as_ref().map(|p| &p.issued), env.now) {
            return Ok(Err(conflict(format!(
                "an OTP was requested less than 5 minutes ago and is still valid: use it, or request a new one from {}",
                signin::show_time(next)
            ))));
        }
        env.mail = Some(signin::issue_email_otp(c, env.key, env.rng, &a, env.now, true)?);
        Ok(Ok((signin::mask_email(&email), env.now + otp::email_otp_validity())))
    })
}

// ---------------------------------------------------------------------------------------
// password reset (Forgot/Reset)

pub fn cmd_password_reset(
    ctx: &mut Ctx,
    user: UserId,
    code: Option<String>,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let mut secrets = Secrets::new(password_stdin)?;
    // Which proof does this user give? Read-only look first, so prompts come before any write.
    let channel = {
        let tx = ctx.store.read()?;
        let a = signin::load(&tx, user.as_str())?;
        match a {
            Some(a) if a.cred.otp_confirmed && a.cred.otp_channel == Some(OtpChannel::App) => OtpChannel::App,
            _ => OtpChannel::Email,
        }
    };
    let code = match code {
        Some(c) => c,
        None if secrets.tty() => {
            if channel == OtpChannel::Email {
                ctx.out.note("Enter the OTP from the e-mail (`dms otp request --user ID` sends one).");
            }
            dialoguer::Input::<String>::new()
                .with_prompt(if channel == OtpChannel::App {
                    "Code from your authenticator app"
                } else {
                    "OTP from the e-mail"
                })
                .interact_text()?
        }
        None => {
            return Err(usage(
                "--otp CODE is required: an e-mail OTP (first-time logon) or the code of your authenticator app",
            )
            .into())
        }
    };
    let new_password = secrets.new_password("New password")?;
    password_policy::check(&new_password)?;
    let uid = user.as_str().to_string();
    let mut notify_to = None;
    step(ctx, |c, env| {
        let mut a = tri!(open_account(c, &uid, env.now, "password reset"));
        let channel = match (a.cred.otp_confirmed, a.cred.otp_channel) {
            (true, Some(OtpChannel::Email)) => {
                let who = if a.profile.role.is_da() {
                    "your firm must submit eService DA3 to the exchange to reset your OTP device registration"
                } else if a.profile.role.is_internal() {
                    "another exchange operator must reset it"
                } else {
                    "ask a Delegated Administrator to run Unlock/Reset OTP Device Registration"
                };
                return Ok(Err(not_permitted(format!(
                    "{} receives OTPs by e-mail and cannot reset the password itself: {who}",
                    a.id()
                ))));
            }
            (true, Some(OtpChannel::App)) => OtpChannel::App,
            _ => OtpChannel::Email,
        };
        check_code_shape(&code, channel)?;
        if channel == OtpChannel::Email && a.profile.email.is_none() {
            return Ok(Err(not_permitted(format!("{} has no registered e-mail address", a.id()))));
        }
        if signin::password_matches(&a, &new_password) {
            return Ok(Err(invalid("the new password must differ from the current one")));
        }
        if !signin::check_otp(c, env.key, &mut a, channel, &code, env.now)? {
            return Ok(Err(signin::fail(c, &mut a, env.now, Factor::Otp, "password reset")?));
        }
        a.cred.password_phc = Some(crypto::hash_secret(&new_password, env.rng)?);
        a.cred.password_set_at = Some(env.now);
        a.cred.failures.otp_misses = 0;
        users::save_credentials(c, a.id(), &a.cred)?;
        let ended = sessions::end_all_for_user(c, a.id(), None, env.now, "password reset")?;
        let kind = if a.initialised() { "self-service" } else { "first-time" };
        a.audit(
            c,
            env.now,
            "password.reset",
            json!({ "kind": kind, "proof": channel.as_str(), "sessions_ended": ended }),
        )?;
        notify_to = a.profile.email.clone();
        Ok(Ok(()))
    })?;
    if let Some(to) = notify_to {
        ctx.notify(&mail::notification(
            &to,
            "Password changed",
            "The password of your CCASS/CCMS account was set or reset, and its other sessions were signed out.",
        ));
    }
    ctx.out.object(&json!({ "user_id": uid, "password_set": true, "password_expires_at": crate::storage::ts(password_policy::expires_at(ctx.now)) }))?;
    ctx.out.note("Password set. Next: `dms login` (a first logon sets up the OTP channel).");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// otp setup

pub fn cmd_otp_setup(ctx: &mut Ctx, a: OtpSetupArgs) -> anyhow::Result<()> {
    let mut secrets = Secrets::new(a.password_stdin)?;
    if a.email && !a.accept_warning {
        let accepted = secrets.tty()
            && dialoguer::Confirm::new()
                .with_prompt("With e-mail OTP you cannot reset your own password (a DA, or the exchange for DAs, must reset it). Accept?")
                .default(false)
                .interact()?;
        if !accepted {
            return Err(usage(
                "--email needs --accept-warning: e-mail OTP users cannot use self-service password reset",
            )
            .into());
        }
    }
    let password = secrets.existing("password", "Password")?;
    let channel = if a.app { OtpChannel::App } else { OtpChannel::Email };
    let uid = a.user.as_str().to_string();
    let result = step(ctx, |c, env| {
        let mut acct = tri!(open_account(c, &uid, env.now, "otp setup"));
        if acct.cred.password_phc.is_none() {
            return Ok(Err(not_permitted(format!(
                "{uid} has no password yet: set one first (`dms otp request` then `dms password reset`)"
            ))));
        }
        let uri = tri!(set_up_channel(c, env, &mut acct, &password, channel));
        Ok(Ok((uri, acct.profile.email.clone())))
    })?;
    match result {
        (Some(uri), _) => {
            ctx.out.object(&json!({ "otpauth_uri": uri.as_str() }))?;
            if ctx.out.for_person() {
                ctx.out.qr(&uri);
            }
            ctx.out.note("Scan the QR code (or enter the key) in ForgeRock Authenticator or any TOTP app, then sign in with `dms login` and the app's code: the first accepted code confirms the device.");
        }
        (None, email) => {
            let to = email.as_deref().map(signin::mask_email).unwrap_or_default();
            ctx.out.object(&json!({ "user_id": uid, "channel": "email", "sent_to": to }))?;
            ctx.out.note("An OTP was sent by e-mail: sign in with `dms login --otp CODE` within 5 minutes.");
        }
    }
    Ok(())
}

/// Set up the OTP channel of an account (seed Appendix C h-s): check the password (a wrong
/// one counts), then register an app (key URI returned) or choose e-mail (an OTP is sent).
fn set_up_channel(
    c: &rusqlite::Connection,
    env: &mut StepEnv<'_>,
    acct: &mut Account,
    password: &str,
    channel: OtpChannel,
) -> anyhow::Result<Outcome<Option<Zeroizing<String>>>> {
    let uid = acct.id().to_string();
    if acct.cred.otp_confirmed {
        return Ok(Err(conflict(format!(
            "{uid} already has an OTP channel ({}); change it with `dms auth settings` after signing in",
            acct.cred.otp_channel.map(|c| c.as_str()).unwrap_or("?")
        ))));
    }
    if !signin::password_matches(acct, password) {
        return Ok(Err(signin::fail(c, acct, env.now, Factor::Password, "otp setup")?));
    }
    let uri = match channel {
        OtpChannel::App => Some(acct.begin_app_registration(env.key, env.rng)?),
        OtpChannel::Email => {
            if acct.profile.email.is_none() {
                return Ok(Err(not_permitted(format!("{uid} has no registered e-mail address"))));
            }
            acct.cred.totp_key = None;
            acct.cred.totp_last_step = None;
            acct.cred.otp_channel = Some(OtpChannel::Email);
            acct.cred.otp_confirmed = false;
            env.mail = Some(signin::issue_email_otp(c, env.key, env.rng, acct, env.now, false)?);
            None
        }
    };
    users::save_credentials(c, &uid, &acct.cred)?;
    acct.audit(c, env.now, "otp.setup", json!({ "channel": channel.as_str(), "confirmed": false }))?;
    Ok(Ok(uri))
}

// ---------------------------------------------------------------------------------------
// login

pub fn cmd_login(ctx: &mut Ctx, a: LoginArgs) -> anyhow::Result<()> {
    let mut secrets = Secrets::new(a.password_stdin)?;
    let user = match a.user {
        Some(u) => u,
        None if secrets.tty() => {
            let s: String = dialoguer::Input::new().with_prompt("User ID").interact_text()?;
            UserId::parse(&s)?
        }
        None => return Err(usage("--user ID is required").into()),
    };
    let uid = user.as_str().to_string();
    if a.smartcard {
        return login_smartcard(ctx, &uid, &mut secrets);
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
    if secrets.tty() && !a.password_stdin {
        let tx = ctx.store.read()?;
        let has_password = signin::load(&tx, &uid)?.is_some_and(|acct| acct.cred.password_phc.is_some());
        drop(tx);
        if !has_password {
            first_time_password(ctx, &user, &mut secrets)?;
        }
    }

    let password = secrets.existing("password", "Password")?;

    // Step 1: the password.
    let acct = step(ctx, |c, env| {
        let mut acct = tri!(open_account(c, &uid, env.now, "login"));
        if acct.cred.password_phc.is_none() {
            return Ok(Err(auth(format!(
                "{uid} has no password yet: first-time logon starts with `dms otp request --user {uid}` and `dms password reset --user {uid} --otp CODE`"
            ))));
        }
        if !signin::password_matches(&acct, &password) {
            return Ok(Err(signin::fail(c, &mut acct, env.now, Factor::Password, "login")?));
        }
        Ok(Ok(acct))
    })?;

    // Expired password: change it first (on a terminal), or say how.
    if let Some(set_at) = acct.cred.password_set_at {
        if password_policy::is_expired(set_at, ctx.now) {
            if !secrets.tty() {
                return Err(crate::error::locked(format!(
                    "the password of {uid} expired on {}: change it first with `dms password change --user {uid} --password-stdin` (new password, then the current one)",
                    signin::show_time(password_policy::expires_at(set_at))
                ))
                .into());
            }
            ctx.out.note("Your password has expired (90 days): choose a new one.");
            let new_password = secrets.new_password("New password")?;
            change_password(ctx, &uid, &password, &new_password, None)?;
        }
    }

    // Step 2: the OTP channel, set up on a terminal if there is none.
    let mut channel = acct.cred.otp_channel;
    if channel.is_none() {
        if !secrets.tty() {
            return Err(not_permitted(format!(
                "{uid} has no OTP channel yet: run `dms otp setup --user {uid} --app` (authenticator app) or `--email --accept-warning`"
            ))
            .into());
        }
        channel = Some(interactive_setup(ctx, &uid, &password)?);
    }
    let channel = channel.unwrap_or(OtpChannel::Email);

    // Step 3: the OTP.
    let code = match a.otp {
        Some(c) => c,
        None => {
            if channel == OtpChannel::Email {
                send_login_otp(ctx, &uid)?;
            }
            let prompt =
                if channel == OtpChannel::App { "Code from your authenticator app" } else { "OTP from the e-mail" };
            dialoguer::Input::<String>::new().with_prompt(prompt).interact_text()?
        }
    };
    check_code_shape(&code, channel)?;
    let session_path = ctx.session_path.clone();
    let old_token = session::read_token(&session_path)?;
    let (token, role, participant, set_at) = step(ctx, |c, env| {
        let mut acct = tri!(open_account(c, &uid, env.now, "login otp"));
        let Some(ch) = acct.cred.otp_channel else {
            return Ok(Err(not_permitted(format!("{uid} has no OTP channel yet: run `dms otp setup`"))));
        };
        if !signin::check_otp(c, env.key, &mut acct, ch, &code, env.now)? {
            return Ok(Err(signin::fail(c, &mut acct, env.now, Factor::Otp, "login")?));
        }
        let first = !acct.cred.otp_confirmed;
        acct.cred.otp_confirmed = true;
        acct.cred.failures.reset();
        acct.cred.last_login_at = Some(env.now);
        users::save_credentials(c, &uid, &acct.cred)?;
        if first {
            acct.audit(c, env.now, "otp.confirmed", json!({ "channel": ch.as_str() }))?;
        }
        if let Some(old) = &old_token {
            sessions::end(c, &crypto::token_hash(old), env.now, "replaced by a new sign-in")?;
        }
        let token = session::open(c, env.rng, &uid, env.now)?;
        acct.audit(c, env.now, "signin.ok", json!({ "channel": ch.as_str(), "first_time": first }))?;
        Ok(Ok((token, acct.profile.role, acct.profile.participant_id.clone(), acct.cred.password_set_at)))
    })?;
    session::write_file(&session_path, &uid, &token)?;
    let pw_expires = set_at.map(password_policy::expires_at);
    ctx.out.object(&json!({
        "user_id": uid,
        "role": role.as_str(),
        "participant_id": participant,
        "session_file": session_path.display().to_string(),
        "idle_timeout_minutes": session::idle_limit().num_minutes(),
        "session_expires_at": crate::storage::ts(ctx.now + session::absolute_limit()),
        "password_expires_at": pw_expires.map(crate::storage::ts),
    }))?;
    if let Some(exp) = pw_expires {
        let days = (exp - ctx.now).num_days();
        if days < 14 {
            ctx.out.warn(&format!(
                "your password expires in {days} days ({}): `dms password change`",
                signin::show_time(exp)
            ));
        }
    }
    Ok(())
}

/// On a terminal, a user with no password yet: e-mail OTP, then a new password twice.
fn first_time_password(ctx: &mut Ctx, user: &UserId, secrets: &mut Secrets) -> anyhow::Result<()> {
    ctx.out.note(&format!(
        "{} has no password yet: first-time logon. An OTP will be sent to the registered e-mail address.",
        user.as_str()
    ));
    let (to, valid_until) = request_email_otp(ctx, user)?;
    ctx.out.note(&format!("An 8-digit OTP was sent to {to}; it is valid until {}.", signin::show_time(valid_until)));
    let code: String = dialoguer::Input::new().with_prompt("OTP from the e-mail").interact_text()?;
    let new_password = secrets.new_password("New password")?;
    password_policy::check(&new_password)?;
    let uid = user.as_str().to_string();
    step(ctx, |c, env| {
        let mut a = tri!(open_account(c, &uid, env.now, "first-time password"));
        check_code_shape(&code, OtpChannel::Email)?;
        if !signin::check_otp(c, env.key, &mut a, OtpChannel::Email, &code, env.now)? {
            return Ok(Err(signin::fail(c, &mut a, env.now, Factor::Otp, "first-time password")?));
        }
        a.cred.password_phc = Some(crypto::hash_secret(&new_password, env.rng)?);
        a.cred.password_set_at = Some(env.now);
        users::save_credentials(c, &uid, &a.cred)?;
        a.audit(c, env.now, "password.reset", json!({ "kind": "first-time", "proof": "email" }))?;
        Ok(Ok(()))
    })?;
    ctx.out.note("Password set. Now sign in with it.");
    Ok(())
}

/// On a terminal: register a device (QR code) or skip to e-mail OTP.
fn interactive_setup(ctx: &mut Ctx, uid: &str, password: &str) -> anyhow::Result<OtpChannel> {
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
    let shown = step(ctx, |c, env| {
        let mut acct = tri!(open_account(c, uid, env.now, "otp setup"));
        set_up_channel(c, env, &mut acct, password, channel)
    })?;
    if let Some(uri) = shown {
        ctx.out.qr(&uri);
        ctx.out.note("Scan the QR code in ForgeRock Authenticator (or any TOTP app), then enter the code it shows.");
    }
    Ok(channel)
}

/// E-mail users on a terminal: send an OTP unless a usable one is outstanding.
fn send_login_otp(ctx: &mut Ctx, uid: &str) -> anyhow::Result<()> {
    let sent = step(ctx, |c, env| {
        let a = tri!(open_account(c, uid, env.now, "login otp"));
        let prev = otps::get(c, uid)?;
        if otp::email_otp_usable(prev.as_ref().map(|p| &p.issued), env.now).is_ok() {
            return Ok(Ok(false));
        }
        env.mail = Some(signin::issue_email_otp(c, env.key, env.rng, &a, env.now, false)?);
        Ok(Ok(true))
    })?;
    ctx.out.note(if sent {
        "An OTP was sent to your registered e-mail address."
    } else {
        "Use the OTP already sent to your e-mail (valid 5 minutes)."
    });
    Ok(())
}

// ---------------------------------------------------------------------------------------
// logout, whoami

pub fn cmd_logout(ctx: &mut Ctx) -> anyhow::Result<()> {
    let Some(token) = session::read_token(&ctx.session_path)? else {
        return Err(auth("not signed in").into());
    };
    let hash = crypto::token_hash(&token);
    let now = ctx.now;
    let tx = ctx.store.write()?;
    let row = sessions::get(&tx, &hash)?;
    let ended = sessions::end(&tx, &hash, now, "logout")?;
    if let Some(r) = &row {
        audit::append(
            &tx,
            now,
            &audit::Event {
                actor: Some(&r.user_id),
                action: "signout",
                subject: Some(&r.user_id),
                ..Default::default()
            },
        )?;
    }
    tx.commit()?;
    session::remove_file(&ctx.session_path);
    ctx.out.object(&json!({ "signed_out": row.map(|r| r.user_id), "session_was_open": ended }))?;
    Ok(())
}

pub fn cmd_whoami(ctx: &mut Ctx) -> anyhow::Result<()> {
    let id = session::require(&mut ctx.store, &ctx.session_path, ctx.now)?;
    ctx.out.object(&json!({
        "user_id": id.user_id,
        "role": id.role.as_str(),
        "participant_id": id.participant_id,
        "signed_in_at": crate::storage::ts(id.created_at),
        "idle_expires_at": crate::storage::ts(ctx.now + session::idle_limit()),
        "session_expires_at": crate::storage::ts(id.created_at + session::absolute_limit()),
    }))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// password change

pub fn cmd_password_change(ctx: &mut Ctx, user: Option<UserId>, password_stdin: bool) -> anyhow::Result<()> {
    let mut secrets = Secrets::new(password_stdin)?;
    let signed_in = {
        let tx = ctx.store.write()?;
        let r = session::authenticate(&tx, &ctx.session_path, ctx.now)?;
        tx.commit()?;
        r.ok()
    };
    let (uid, keep) = match (&signed_in, &user) {
        (Some(id), Some(u)) if id.user_id != u.as_str() => {
            return Err(
                not_permitted(format!("signed in as {}: you can change only your own password", id.user_id)).into()
            );
        }
        (Some(id), _) => (id.user_id.clone(), Some(id.token_hash.clone())),
        (None, Some(u)) => (u.as_str().to_string(), None),
        (None, None) => {
            return Err(auth("not signed in: sign in, or name --user ID (e.g. to change an expired password)").into())
        }
    };
    let new_password = secrets.new_password("New password")?;
    let current = secrets.existing("current password", "Current password")?;
    password_policy::check(&new_password)?;
    change_password(ctx, &uid, &current, &new_password, keep)?;
    ctx.out.object(&json!({ "user_id": uid, "password_changed": true, "password_expires_at": crate::storage::ts(password_policy::expires_at(ctx.now)) }))?;
    Ok(())
}

/// Check the current password, set the new one, end the user's other sessions, notify.
fn change_password(
    ctx: &mut Ctx,
    uid: &str,
    current: &str,
    new_password: &str,
    keep: Option<Vec<u8>>,
) -> anyhow::Result<()> {
    password_policy::check(new_password)?;
    let mut notify_to = None;
    step(ctx, |c, env| {
        let mut a = tri!(open_account(c, uid, env.now, "password change"));
        if !signin::password_matches(&a, current) {
            return Ok(Err(signin::fail(c, &mut a, env.now, Factor::Password, "password change")?));
        }
        if current == new_password {
            return Ok(Err(invalid("the new password must differ from the current one")));
        }
        a.cred.password_phc = Some(crypto::hash_secret(new_password, env.rng)?);
        a.cred.password_set_at = Some(env.now);
        users::save_credentials(c, uid, &a.cred)?;
        let ended = sessions::end_all_for_user(c, uid, keep.as_deref(), env.now, "password changed")?;
        a.audit(c, env.now, "password.change", json!({ "sessions_ended": ended }))?;
        notify_to = a.profile.email.clone();
        Ok(Ok(()))
    })?;
    if let Some(to) = notify_to {
        ctx.notify(&mail::notification(
            &to,
            "Password changed",
            "The password of your CCASS/CCMS account was changed, and its other sessions were signed out.",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// auth settings

pub fn cmd_auth_settings(ctx: &mut Ctx, delete_device: bool, use_email: bool) -> anyhow::Result<()> {
    let id = session::require(&mut ctx.store, &ctx.session_path, ctx.now)?;
    let uid = id.user_id.clone();
    let mut notify_to = None;
    let what = if delete_device { "device deleted" } else { "switched to e-mail OTP" };
    step(ctx, |c, env| {
        let mut a = tri!(open_account(c, &uid, env.now, "auth settings"));
        if !(a.cred.otp_confirmed && a.cred.otp_channel == Some(OtpChannel::App)) {
            return Ok(Err(not_permitted(
                "authentication settings are for users with a registered mobile device; e-mail OTP users ask their DA (or the exchange via DA3) to reset the OTP device registration",
            )));
        }
        if use_email && a.profile.email.is_none() {
            return Ok(Err(not_permitted("no registered e-mail address to receive OTPs")));
        }
        a.cred.totp_key = None;
        a.cred.totp_last_step = None;
        if delete_device {
            a.cred.otp_channel = None;
            a.cred.otp_confirmed = false;
        } else {
            a.cred.otp_channel = Some(OtpChannel::Email);
            a.cred.otp_confirmed = true;
        }
        users::save_credentials(c, &uid, &a.cred)?;
        let ended = sessions::end_all_for_user(c, &uid, Some(&id.token_hash), env.now, "OTP device changed")?;
        a.audit(
            c,
            env.now,
            if delete_device { "otp.device.deleted" } else { "otp.channel.email" },
            json!({ "sessions_ended": ended }),
        )?;
        notify_to = a.profile.email.clone();
        Ok(Ok(()))
    })?;
    if let Some(to) = notify_to {
        ctx.notify(&mail::notification(
            &to,
            "Authentication settings changed",
            &format!("The OTP settings of your CCASS/CCMS account were changed: {what}."),
        ));
    }
    ctx.out.object(&json!({ "user_id": uid, "otp_channel": if delete_device { serde_json::Value::Null } else { json!("email") }, "change": what }))?;
    if delete_device {
        ctx.out.note("Device deleted: your next logon sets up the OTP channel again.");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// smartcard (legacy, until decommissioning; always on the PG access channel)

fn login_smartcard(ctx: &mut Ctx, uid: &str, secrets: &mut Secrets) -> anyhow::Result<()> {
    let pin = secrets.existing("smartcard PIN", "Smartcard PIN")?;
    if !(6..=8).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("a smartcard PIN is 6 to 8 digits").into());
    }
    let session_path = ctx.session_path.clone();
    let old_token = session::read_token(&session_path)?;
    let (token, role, participant) = step(ctx, |c, env| {
        let mut a = tri!(open_account(c, uid, env.now, "smartcard"));
        let decommission = crate::storage::settings::get_or_default(c, "decommission-date")?;
        let today = signin::hkt(env.now).date_naive().to_string();
        if today >= decommission && a.profile.channel != "PG" {
            return Ok(Err(not_permitted(format!(
                "smartcard sign-in was decommissioned on {decommission}: sign in with 2FA (password and OTP); only the Participant Gateway (PG) keeps smartcards"
            ))));
        }
        let Some(phc) = a.profile.pin_phc.clone().filter(|_| a.profile.srn.is_some()) else {
            return Ok(Err(not_permitted(format!(
                "no smartcard is registered for {uid}: users created after the 2FA launch sign in with 2FA only"
            ))));
        };
        // The certificate is valid to its expiry date and time (Hong Kong time, as the seed
        // shows it); after that the card no longer authenticates, whatever the PIN.
        let hk_now = signin::hkt(env.now).format("%Y-%m-%d %H:%M:%S").to_string();
        if let Some(expiry) = a.profile.cert_expiry.as_deref().filter(|e| hk_now.as_str() > *e) {
            return Ok(Err(crate::error::locked(format!(
                "the smartcard certificate of {uid} expired on {expiry} HKT: sign in with 2FA (password and OTP)"
            ))));
        }
        if !crypto::verify_secret(&pin, &phc) {
            return Ok(Err(signin::fail(c, &mut a, env.now, Factor::Password, "smartcard")?));
        }
        a.cred.failures.reset();
        a.cred.last_login_at = Some(env.now);
        users::save_credentials(c, uid, &a.cred)?;
        if let Some(old) = &old_token {
            sessions::end(c, &crypto::token_hash(old), env.now, "replaced by a new sign-in")?;
        }
        let token = session::open(c, env.rng, uid, env.now)?;
        a.audit(c, env.now, "signin.ok", json!({ "method": "smartcard", "access_channel": a.profile.channel }))?;
        Ok(Ok((token, a.profile.role, a.profile.participant_id.clone())))
    })?;
    session::write_file(&session_path, uid, &token)?;
    ctx.out.object(&json!({
        "user_id": uid,
        "role": role.as_str(),
        "participant_id": participant,
        "method": "smartcard",
        "session_file": session_path.display().to_string(),
        "session_expires_at": crate::storage::ts(ctx.now + session::absolute_limit()),
    }))?;
    Ok(())
}
