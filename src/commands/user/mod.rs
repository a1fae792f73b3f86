//! DMS user maintenance (seed 4.3, Appendix A, D c): Create / Change / Delete / Enquire User
//! Profile, Unlock/Reset OTP Device Registration, bulk e-mail registration, bulk creation,
//! and `da assign`. Every change is a maker-checker request submitted through
//! `ops::maker_checker`.

pub mod assign;
pub mod change;
pub mod create;
pub mod delete;
pub mod enquire;
pub mod import;
pub mod screen;

use crate::cli::InlineArgs;
use crate::commands::signed_in;
use crate::context::{Ctx, Mode};
use crate::domain::change::{Change, NewProfile, RequestStatus};
use crate::domain::profile::{self, AccessChannel, Cents, Groups, UserStatus};
use crate::domain::role::Role;
use crate::domain::user_id::UserId;
use crate::error::invalid;
use crate::ops::maker_checker::{self, AuthorisationCode, Submitted};
use crate::ops::signin::{self, Secret};
use crate::secrets::Secrets;
use serde_json::{json, Value};

/// Read the checker's authorisation code for inline mode: the password (stdin or a prompt),
/// checked now, outside the write lock; the OTP from --otp or a prompt.
pub fn inline_code(ctx: &Ctx, inline: &InlineArgs) -> anyhow::Result<Option<AuthorisationCode>> {
    let Some(checker) = &inline.checker else { return Ok(None) };
    let mut secrets = Secrets::new(inline.password_stdin)?;
    if inline.smartcard {
        let pin = read_pin(&mut secrets, &format!("Authorisation code - smartcard PIN of {checker}"))?;
        let pin = signin::check_secret(&ctx.store, checker, Secret::SmartcardPin, &pin)?;
        return Ok(Some(AuthorisationCode::Smartcard { pin }));
    }
    let password = secrets.existing("checker password", &format!("Authorisation code - password of {checker}"))?;
    let otp = match &inline.otp {
        Some(o) => o.clone(),
        None => secrets.ask(
            &format!("Authorisation code - OTP of {checker}"),
            "--otp CODE (the checker's one-time password) is required with --checker",
        )?,
    };
    let password = signin::check_secret(&ctx.store, checker, Secret::Password, &password)?;
    Ok(Some(AuthorisationCode::TwoFactor { password, otp }))
}

/// A smartcard PIN (6 to 8 digits) from standard input or a hidden prompt.
pub fn read_pin(secrets: &mut Secrets, prompt: &str) -> anyhow::Result<zeroize::Zeroizing<String>> {
    let pin = secrets.existing("smartcard PIN", prompt)?;
    if !(6..=8).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("a smartcard PIN is 6 to 8 digits").into());
    }
    Ok(pin)
}

/// Submit `change` as the signed-in maker (authorised at once with --checker). A checker
/// typing the authorisation code at this terminal first sees what it authorises (seed
/// Appendix A f: the whole profile is on the screen above the Checker ID).
pub fn submit(ctx: &mut Ctx, change: Change, inline: &InlineArgs) -> anyhow::Result<Submitted> {
    if inline.checker.is_some() && !inline.password_stdin && ctx.out.for_person() {
        let preview = change.clone();
        let dry = signed_in(ctx, &[Role::Maker], Mode::Read, |w, me| maker_checker::check(w, me, preview))?;
        for s in &dry.shown {
            ctx.out.screen(&screen::shown(s, &dry.participant))?;
        }
    }
    let code = inline_code(ctx, inline)?;
    signed_in(ctx, &[Role::Maker], Mode::Write, |w, me| maker_checker::submit(w, me, change, code.as_ref()))
}

/// Print a submission. Machine formats: `{"request_id", "status", ...extra}`. A table: the
/// seed's screen of the profile it changes (the first few of a bulk request), closed by the
/// seed's line when it was authorised at once (CHANGED, CREATED, DELETED), or by what
/// happens next.
pub fn print_submitted(ctx: &Ctx, s: &Submitted, extra: &[(&str, Value)]) -> anyhow::Result<()> {
    let done = match s.change {
        Change::CreateUser { .. } | Change::ImportUsers { .. } => "CREATED",
        Change::DeleteUser { .. } => "DELETED",
        _ => "CHANGED",
    };
    warn_all(ctx, &s.warnings);
    if ctx.out.format == crate::output::Format::Table {
        use crate::commands::request::show::SCREENS as SHOWN;
        for (i, shown) in s.shown.iter().take(SHOWN).enumerate() {
            let mut sc = screen::shown(shown, &s.participant);
            if i + 1 == s.shown.len().min(SHOWN) {
                sc.closing = Some(screen::closing(s.status, done, s.request_id));
            }
            ctx.out.screen(&sc)?;
        }
        if s.shown.len() > SHOWN {
            ctx.out.note(&format!(
                "... and {} more profiles in request {}: `dms request show {}` lists them all (`--format csv` for a file).",
                s.shown.len() - SHOWN,
                s.request_id,
                s.request_id
            ));
        }
        return Ok(());
    }
    let mut v = json!({ "request_id": s.request_id, "status": s.status.as_str() });
    if let Some(m) = v.as_object_mut() {
        for (k, x) in extra {
            m.insert(k.to_string(), x.clone());
        }
    }
    ctx.out.object(&v)?;
    if s.status == RequestStatus::Pending {
        ctx.out
            .note(&format!("Request {} waits for a DA checker: `dms request approve {}`.", s.request_id, s.request_id));
    }
    Ok(())
}

/// Warnings about addresses: each one, up to ten, then how many more.
pub fn warn_all(ctx: &Ctx, warnings: &[String]) {
    const SHOWN: usize = 10;
    for w in warnings.iter().take(SHOWN) {
        ctx.out.warn(w);
    }
    if warnings.len() > SHOWN {
        ctx.out.warn(&format!("... and {} more address warnings", warnings.len() - SHOWN));
    }
}

/// The one user ID of a single-profile change, once generated.
pub fn subject(s: &Submitted) -> Value {
    json!(s.change.subject_ids().first())
}

/// A date as typed; empty or "none" is no date.
fn opt_date(field: &'static str, s: Option<&str>) -> anyhow::Result<Option<chrono::NaiveDate>> {
    match s.map(str::trim).filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("none")) {
        Some(d) => Ok(Some(profile::parse_date(field, d)?)),
        None => Ok(None),
    }
}

/// The raw field values of a new profile, from flags or a CSV row.
#[derive(Default)]
pub struct Fields<'a> {
    pub surname: Option<&'a str>,
    pub other_names: Option<&'a str>,
    pub email: Option<&'a str>,
    pub status: Option<&'a str>,
    pub enable_from: Option<&'a str>,
    pub disable_after: Option<&'a str>,
    pub channel: Option<&'a str>,
    pub groups: Option<&'a str>,
    pub limit: Option<&'a str>,
}

/// A value that was given and is not blank.
fn given(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.trim().is_empty())
}

/// Build a new business-user profile: every field parsed into its type.
pub fn new_profile(user_id: Option<UserId>, f: &Fields<'_>) -> anyhow::Result<NewProfile> {
    let surname = profile::person_name("surname", f.surname.ok_or_else(|| invalid("surname is required"))?)?;
    let other_names =
        profile::person_name("other names", f.other_names.ok_or_else(|| invalid("other names is required"))?)?;
    let email = profile::email(f.email.ok_or_else(|| invalid("email is required (it is needed to initialise 2FA)"))?)?;
    let enable_from = opt_date("enable from", f.enable_from)?;
    let disable_after = opt_date("disable after", f.disable_after)?;
    profile::check_date_window(enable_from, disable_after)?;
    Ok(NewProfile {
        user_id,
        surname,
        other_names,
        email,
        status: given(f.status).map(UserStatus::parse).transpose()?.unwrap_or(UserStatus::Enabled),
        enable_from,
        disable_after,
        channel: given(f.channel).map(AccessChannel::parse).transpose()?.unwrap_or(AccessChannel::Cst),
        groups: Groups::parse(f.groups.unwrap_or(""))?,
        limit: given(f.limit).map(Cents::parse).transpose()?.unwrap_or_default(),
    })
}
