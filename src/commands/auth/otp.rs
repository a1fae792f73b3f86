//! `otp request` and `otp setup`.

use crate::cli::OtpSetupArgs;
use crate::context::{Ctx, Mode};
use crate::domain::otp::OtpChannel;
use crate::domain::user_id::UserId;
use crate::error::usage;
use crate::ops::credentials::{self, SetUp};
use crate::ops::signin::{self, Secret};
use crate::output::time;
use crate::secrets::Secrets;
use serde_json::json;

pub fn request(ctx: &mut Ctx, user: UserId) -> anyhow::Result<()> {
    let sent = ctx.transact(Mode::Write, |w| credentials::request_email_otp(w, &user))?;
    // The same answer whether or not the ID has an account and an address (no enumeration).
    ctx.out.object(&json!({ "user_id": user, "requested": true, "valid_until": time(sent.valid_until) }))?;
    ctx.out.note(&format!(
        "If {user} has a registered e-mail address and receives OTPs by e-mail, an 8-digit OTP is on its way; it is valid for 5 minutes (until {}).",
        signin::show_time(sent.valid_until)
    ));
    Ok(())
}

pub fn setup(ctx: &mut Ctx, a: OtpSetupArgs) -> anyhow::Result<()> {
    let mut secrets = Secrets::new(a.password_stdin)?;
    if a.email && !a.accept_warning {
        let accepted = match secrets.term() {
            Some(t) => t.confirm("With e-mail OTP you cannot reset your own password (a DA, or the exchange for DAs, must reset it). Accept?", false)?,
            None => false,
        };
        if !accepted {
            return Err(usage(
                "--email needs --accept-warning: e-mail OTP users cannot use self-service password reset",
            )
            .into());
        }
    }
    let password = secrets.existing("password", "Password")?;
    let checked = signin::check_secret(&ctx.store, &a.user, Secret::Password, &password)?;
    let channel = if a.app { OtpChannel::App } else { OtpChannel::Email };
    match ctx.transact(Mode::Write, |w| credentials::set_up_channel(w, &checked, channel))? {
        SetUp::App { uri } => show_key(ctx, &uri)?,
        SetUp::Email { masked_to } => {
            ctx.out.object(&json!({ "user_id": a.user, "otp_channel": "email", "sent_to": masked_to }))?;
            ctx.out.note("An OTP was sent by e-mail: sign in with `dms login --otp CODE` within 5 minutes.");
        }
    }
    Ok(())
}

/// Show a new authenticator key: the URI (JSON), and on a terminal the QR code.
pub fn show_key(ctx: &Ctx, uri: &str) -> anyhow::Result<()> {
    ctx.out.object(&json!({ "otpauth_uri": uri }))?;
    if ctx.out.for_person() {
        ctx.out.qr(uri);
    }
    ctx.out.note("Scan the QR code (or enter the key) in ForgeRock Authenticator or any TOTP app, then sign in with `dms login` and the app's code: the first accepted code confirms the device.");
    Ok(())
}
