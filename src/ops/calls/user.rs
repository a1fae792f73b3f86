//! DMS user maintenance (seed 4.3, Appendix A, D c): Create / Change / Delete User Profile,
//! Unlock/Reset OTP Device Registration, `da assign`, bulk e-mail registration and bulk
//! creation. Every change is a maker-checker request submitted through `ops::maker_checker`;
//! with `--checker` the checker types the authorisation code at the maker's terminal
//! ([`Submit`], a flow: the screens first, then the checker's password and OTP).

use crate::api::{Format, Inline, Part, ProfileFields, Upload};
use crate::bulk;
use crate::domain::change::{Change, DateEdit, EmailRow, NewProfile, ProfileChanges, RequestStatus};
use crate::domain::flow::{Slot, Step};
use crate::domain::profile::{self, AccessChannel, Cents, Functions, Groups, UserStatus};
use crate::domain::role::Role;
use crate::domain::user_id::UserId;
use crate::error::{classify, invalid, DmsError, Kind};
use crate::ops::calls::auth::pin_shape;
use crate::ops::calls::{request, screen};
use crate::ops::flow::{self, Flow, Given, Progress};
use crate::ops::maker_checker::{self, AuthorisationCode, Submitted};
use crate::ops::service::Exec;
use crate::ops::signin::Secret;
use crate::ops::work::Mode;
use serde_json::json;
use std::collections::HashMap;

/// Largest bulk file accepted, and most rows (a participant holds at most ~1,300 users).
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
const MAX_ROWS: usize = 20_000;

/// A date as typed; empty or "none" is no date.
fn opt_date(field: &'static str, s: Option<&str>) -> anyhow::Result<Option<chrono::NaiveDate>> {
    match s.map(str::trim).filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("none")) {
        Some(d) => Ok(Some(profile::parse_date(field, d)?)),
        None => Ok(None),
    }
}

fn date_edit(field: &'static str, s: &str) -> anyhow::Result<DateEdit> {
    if s.trim().is_empty() || s.trim().eq_ignore_ascii_case("none") {
        Ok(DateEdit::Clear)
    } else {
        Ok(DateEdit::Set(profile::parse_date(field, s)?))
    }
}

/// The raw field values of a new profile, from a call or a CSV row.
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
    pub functions: Option<&'a str>,
}

impl<'a> Fields<'a> {
    fn of(p: &'a ProfileFields) -> Fields<'a> {
        Fields {
            surname: p.surname.as_deref(),
            other_names: p.other_names.as_deref(),
            email: p.email.as_deref(),
            status: p.status.as_deref(),
            enable_from: p.enable_from.as_deref(),
            disable_after: p.disable_after.as_deref(),
            channel: p.channel.as_deref(),
            groups: p.groups.as_deref(),
            limit: p.limit.as_deref(),
            functions: p.functions.as_deref(),
        }
    }
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
        functions: Functions::parse(f.functions.unwrap_or(""))?,
    })
}

pub fn create(
    x: &mut Exec<'_, '_>,
    user_id: Option<UserId>,
    p: &ProfileFields,
    inline: Option<Inline>,
) -> anyhow::Result<()> {
    // Without a user ID it is generated inside the write transaction (Generate User ID).
    let profile = new_profile(user_id, &Fields::of(p))?;
    submit(x, Change::CreateUser { profile }, inline, Reply::Subject("user_id"))
}

pub fn change(x: &mut Exec<'_, '_>, uid: UserId, p: &ProfileFields, inline: Option<Inline>) -> anyhow::Result<()> {
    let changes = ProfileChanges {
        email: p.email.as_deref().map(profile::email).transpose()?,
        surname: p.surname.as_deref().map(|s| profile::person_name("surname", s)).transpose()?,
        other_names: p.other_names.as_deref().map(|s| profile::person_name("other names", s)).transpose()?,
        status: p.status.as_deref().map(UserStatus::parse).transpose()?,
        enable_from: p.enable_from.as_deref().map(|d| date_edit("enable from", d)).transpose()?,
        disable_after: p.disable_after.as_deref().map(|d| date_edit("disable after", d)).transpose()?,
        channel: p.channel.as_deref().map(AccessChannel::parse).transpose()?,
        groups: p.groups.as_deref().map(Groups::parse).transpose()?,
        limit: p.limit.as_deref().map(Cents::parse).transpose()?,
        functions: p.functions.as_deref().map(Functions::parse).transpose()?,
    };
    if changes.is_empty() {
        return Err(invalid(
            "nothing to change: give at least one of --email --surname --other-names --status --enable-from --disable-after --groups --limit --channel --functions",
        )
        .into());
    }
    submit(x, Change::ChangeUser { user_id: uid, changes }, inline, Reply::Subject("user_id"))
}

pub fn delete(x: &mut Exec<'_, '_>, uid: UserId, inline: Option<Inline>) -> anyhow::Result<()> {
    submit(x, Change::DeleteUser { user_id: uid }, inline, Reply::Subject("user_id"))
}

pub fn unlock(x: &mut Exec<'_, '_>, uid: UserId, inline: Option<Inline>) -> anyhow::Result<()> {
    submit(x, Change::UnlockUser { user_id: uid }, inline, Reply::Subject("user_id"))
}

pub fn smartcard_reset(x: &mut Exec<'_, '_>, uid: UserId, inline: Option<Inline>) -> anyhow::Result<()> {
    submit(x, Change::ResetSmartcardPin { user_id: uid }, inline, Reply::Subject("user_id"))
}

pub fn assign(x: &mut Exec<'_, '_>, da: UserId, groups: &str, inline: Option<Inline>) -> anyhow::Result<()> {
    let groups = Groups::parse(groups)?;
    submit(x, Change::AssignGroups { user_id: da, groups }, inline, Reply::Subject("da_id"))
}

/// What a submission's machine reply carries beside `request_id` and `status`.
#[derive(Clone)]
enum Reply {
    /// The one subject's ID under this name.
    Subject(&'static str),
    /// A bulk file's row count.
    Rows(usize),
}

/// Submit `change` as the signed-in maker; with `inline`, as a flow that asks for the
/// checker's authorisation code.
fn submit(x: &mut Exec<'_, '_>, change: Change, inline: Option<Inline>, reply: Reply) -> anyhow::Result<()> {
    let s = Submit { change, inline, reply, file: None, given: Given::default(), previewed: false };
    flow::start(x, Box::new(s))
}

/// A submission, authorised inline when a checker is named (seed Appendix A f: the whole
/// profile is on the screen above the Checker ID).
struct Submit {
    change: Change,
    inline: Option<Inline>,
    reply: Reply,
    /// A bulk file: its name and the line of each user ID, to name the line of a refusal.
    file: Option<(String, HashMap<String, usize>)>,
    given: Given,
    previewed: bool,
}

impl Submit {
    fn lines(&self, e: anyhow::Error) -> anyhow::Error {
        match &self.file {
            Some((name, lines)) => with_line(name, lines, e),
            None => e,
        }
    }
}

impl Flow for Submit {
    fn step(&mut self, x: &mut Exec<'_, '_>) -> anyhow::Result<Progress> {
        self.given.gather(x);
        let code = match &self.inline {
            None => None,
            Some(inline) => {
                let checker = inline.checker.clone();
                // A checker typing the code at this terminal first sees what it authorises.
                if x.interactive && x.table() && !self.previewed {
                    let preview = self.change.clone();
                    let dry = x
                        .signed_in(&[Role::Maker], Mode::Read, |w, me| maker_checker::check(w, me, preview))
                        .map_err(|e| self.lines(e))?;
                    for s in &dry.shown {
                        x.part(Part::Screen(screen::shown(s, &dry.participant)))?;
                    }
                    self.previewed = true;
                }
                if inline.smartcard {
                    let Some(pin) = self.given.get(Slot::CheckerPin) else {
                        return Ok(Progress::Ask(Step::secret(
                            Slot::CheckerPin,
                            "smartcard PIN",
                            format!("Authorisation code - smartcard PIN of {checker}"),
                        )));
                    };
                    pin_shape(&pin)?;
                    Some(AuthorisationCode::Smartcard { pin: x.db.check_secret(&checker, Secret::SmartcardPin, &pin)? })
                } else {
                    let Some(password) = self.given.get(Slot::CheckerPassword) else {
                        return Ok(Progress::Ask(Step::secret(
                            Slot::CheckerPassword,
                            "checker password",
                            format!("Authorisation code - password of {checker}"),
                        )));
                    };
                    let Some(otp) = self.given.get(Slot::CheckerOtp) else {
                        return Ok(Progress::Ask(Step::text(
                            Slot::CheckerOtp,
                            format!("Authorisation code - OTP of {checker}"),
                            "--otp CODE (the checker's one-time password) is required with --checker",
                        )));
                    };
                    let password = x.db.check_secret(&checker, Secret::Password, &password)?;
                    Some(AuthorisationCode::TwoFactor { password, otp: otp.to_string() })
                }
            }
        };
        let change = self.change.clone();
        let s = x
            .signed_in(&[Role::Maker], Mode::Write, |w, me| maker_checker::submit(w, me, change, code.as_ref()))
            .map_err(|e| self.lines(e))?;
        let checker = self.inline.as_ref().map(|i| i.checker.to_string());
        print_submitted(x, &s, &self.reply, checker.as_deref())?;
        Ok(Progress::Done)
    }
}

/// A submission's reply. Machine formats: `{"request_id", "status", ...}`. A table: the seed's
/// screen of the profile it changes (the first few of a bulk request), closed by the seed's
/// line when it was authorised at once (CHANGED, CREATED, DELETED), or by what happens next.
fn print_submitted(x: &mut Exec<'_, '_>, s: &Submitted, reply: &Reply, checker: Option<&str>) -> anyhow::Result<()> {
    warn_all(x, &s.warnings)?;
    if x.table() {
        use crate::ops::calls::request::SCREENS as SHOWN;
        for (i, shown) in s.shown.iter().take(SHOWN).enumerate() {
            let mut sc = screen::shown(shown, &s.participant);
            if i + 1 == s.shown.len().min(SHOWN) {
                sc.closing = Some(screen::closing(s.status, &s.change, s.request_id, checker));
            }
            x.part(Part::Screen(sc))?;
        }
        if s.shown.len() > SHOWN {
            x.note(format!(
                "... and {} more profiles in request {}: `dms request show {}` lists them all (`--format csv` for a file).",
                s.shown.len() - SHOWN,
                s.request_id,
                s.request_id
            ))?;
        }
        return Ok(());
    }
    let mut v = json!({ "request_id": s.request_id, "status": s.status.as_str() });
    match reply {
        Reply::Subject(key) => v[*key] = json!(s.change.subject_ids().first()),
        Reply::Rows(n) => {
            v["rows"] = json!(n - s.unchanged);
            v["unchanged"] = json!(s.unchanged);
            // A bulk creation says the IDs it made (generated ones included), in file order.
            if let Change::ImportUsers { .. } = s.change {
                v["user_ids"] = json!(s.change.subject_ids());
            }
        }
    }
    x.object(v)?;
    if s.unchanged > 0 {
        x.note(unchanged_note(s.unchanged))?;
    }
    if s.status == RequestStatus::Pending {
        x.note(format!("Request {} waits for a DA checker: `dms request approve {}`.", s.request_id, s.request_id))?;
    }
    Ok(())
}

/// Warnings about addresses: each one, up to ten, then how many more.
pub fn warn_all(x: &mut Exec<'_, '_>, warnings: &[String]) -> anyhow::Result<()> {
    const SHOWN: usize = 10;
    for w in warnings.iter().take(SHOWN) {
        x.warn(w.clone())?;
    }
    if warnings.len() > SHOWN {
        x.warn(format!("... and {} more address warnings", warnings.len() - SHOWN))?;
    }
    Ok(())
}

// -- bulk files --------------------------------------------------------------------------------

/// Which bulk file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkKind {
    /// `user import-emails` (header `user_id,email`).
    Emails,
    /// `user import` (header `user_id,surname,other_names,email` and optional profile columns).
    Users,
}

/// A bulk file read and checked row by row: the one request it becomes, how many rows it
/// had, and the line each given user ID is on (to name the line of a database refusal).
pub struct BulkFile {
    pub change: Change,
    pub rows: usize,
    pub lines: HashMap<String, usize>,
}

/// An e-mail registration file, every row checked: no database yet.
pub fn read_emails(file: Upload) -> anyhow::Result<BulkFile> {
    let file = bulk::open(file, MAX_FILE_BYTES, &["user_id", "email"], &[])?;
    let mut rows = Vec::new();
    let mut lines: HashMap<String, usize> = HashMap::new();
    file.for_each(MAX_ROWS, |r| {
        let uid = UserId::parse(r.req("user_id"))?;
        let email = profile::email(r.req("email"))?;
        if let Some(first) = lines.insert(uid.to_string(), r.line) {
            return Err(invalid(format!("user {uid} is listed twice (also line {first})")).into());
        }
        rows.push(EmailRow { user_id: uid, email });
        Ok(())
    })?;
    Ok(BulkFile { rows: rows.len(), change: Change::ImportEmails { rows }, lines })
}

/// A bulk creation file, every row parsed into a new profile: no database yet.
pub fn read_users(file: Upload) -> anyhow::Result<BulkFile> {
    let file = bulk::open(
        file,
        MAX_FILE_BYTES,
        &["user_id", "surname", "other_names", "email"],
        &["status", "enable_from", "disable_after", "channel", "groups", "limit", "functions"],
    )?;
    let mut profiles = Vec::new();
    let mut lines: HashMap<String, usize> = HashMap::new();
    file.for_each(MAX_ROWS, |r| {
        // An empty user_id is generated inside the write transaction.
        let given = r.get("user_id").filter(|s| !s.is_empty()).map(UserId::parse).transpose()?;
        if let Some(u) = &given {
            if let Some(first) = lines.insert(u.to_string(), r.line) {
                return Err(invalid(format!("user {u} is listed twice (also line {first})")).into());
            }
        }
        profiles.push(new_profile(
            given,
            &Fields {
                surname: r.get("surname"),
                other_names: r.get("other_names"),
                email: r.get("email"),
                status: r.get("status"),
                enable_from: r.get("enable_from"),
                disable_after: r.get("disable_after"),
                channel: r.get("channel"),
                groups: r.get("groups"),
                limit: r.get("limit"),
                functions: r.get("functions"),
            },
        )?);
        Ok(())
    })?;
    Ok(BulkFile { rows: profiles.len(), change: Change::ImportUsers { profiles }, lines })
}

/// `user import-emails` / `user import`: the file checked whole, then one request (or, dry
/// run, checked as submission would).
pub fn import(
    x: &mut Exec<'_, '_>,
    kind: BulkKind,
    file: Upload,
    dry_run: Option<usize>,
    inline: Option<Inline>,
) -> anyhow::Result<()> {
    let name = file.name.clone();
    let f = match kind {
        BulkKind::Emails => read_emails(file)?,
        BulkKind::Users => read_users(file)?,
    };
    if let Some(page) = dry_run {
        return dry(x, &name, f, page);
    }
    let s = Submit {
        change: f.change,
        inline,
        reply: Reply::Rows(f.rows),
        file: Some((name, f.lines)),
        given: Given::default(),
        previewed: false,
    };
    flow::start(x, Box::new(s))
}

/// What a bulk file's reply says of its rows that change nothing.
fn unchanged_note(n: usize) -> String {
    if n == 1 {
        "1 row of the file changes nothing (the address is already the user's) and is not in the request.".into()
    } else {
        format!(
            "{n} rows of the file change nothing (the addresses are already the users') and are not in the request."
        )
    }
}

fn dry(x: &mut Exec<'_, '_>, name: &str, f: BulkFile, page: usize) -> anyhow::Result<()> {
    let change = f.change;
    let checked = x
        .signed_in(&[Role::Maker], Mode::Read, |w, me| maker_checker::check(w, me, change))
        .map_err(|e| with_line(name, &f.lines, e))?;
    let p = &checked.participant;
    let n = f.rows - checked.unchanged;
    let summary = json!({
        "dry_run": true, "valid": true, "rows": n, "unchanged": checked.unchanged, "kind": checked.change.kind(),
        "user_ids": checked.change.subject_ids(),
        "quota": { "max_users": p.max_users, "total_users": checked.quota.total },
    });
    match x.format {
        // Machine formats: every row's old and new values, and the warnings.
        Format::Json | Format::Jsonl => {
            let mut doc = summary;
            doc["changes"] = checked.shown.iter().map(|s| screen::shown_json(s, p)).collect();
            doc["warnings"] = json!(checked.warnings);
            x.object(doc)?;
        }
        Format::Csv => x.part(Part::Diff(request::diff_rows(p, &checked.shown)))?,
        Format::Table => {
            warn_all(x, &checked.warnings)?;
            x.object(json!({
                "rows": n, "unchanged": checked.unchanged, "kind": checked.change.kind(),
                "users_after_approval": format!("{} of {}", checked.quota.total + created(&checked.change) as i64, p.max_users),
            }))?;
            if checked.unchanged > 0 {
                x.note(unchanged_note(checked.unchanged))?;
            }
            let verb = if matches!(checked.change, Change::ImportEmails { .. }) { "import-emails" } else { "import" };
            request::print_shown(x, &checked.shown, p, page, Some(&format!("dms user {verb} {name} --dry-run")))?;
        }
    }
    x.note("Dry run: the file is valid and nothing was submitted.")
}

/// The database checks of a request (unknown user, ID taken, another participant's user)
/// name the user ID a row fails on; add that row's line of the file (SPEC §9), to each fault
/// when there are several, in file order.
pub fn with_line(name: &str, lines: &HashMap<String, usize>, e: anyhow::Error) -> anyhow::Error {
    let line_of = |text: &str| lines.iter().filter(|(id, _)| text.contains(id.as_str())).map(|(_, l)| *l).min();
    let d = match e.downcast::<DmsError>() {
        Ok(d) => d,
        Err(e) => match classify(&e) {
            (Kind::Other, _) => return e,
            (kind, message) => DmsError::new(kind, message),
        },
    };
    if d.faults.is_empty() {
        let message = match line_of(&d.message) {
            Some(line) => format!("{name} line {line}: {}", d.message),
            None => d.message,
        };
        return DmsError { message, ..d }.into();
    }
    let mut faults: Vec<(Option<usize>, String)> = d.faults.iter().map(|f| (line_of(f), f.clone())).collect();
    faults.sort_by_key(|f| f.0.unwrap_or(usize::MAX));
    let n = faults.len();
    let faults =
        faults.into_iter().map(|(line, f)| (d.kind, line.map_or(f.clone(), |l| format!("line {l}: {f}")))).collect();
    DmsError::several(name, faults, n).into()
}

/// How many profiles a change creates.
fn created(c: &Change) -> usize {
    match c {
        Change::ImportUsers { profiles } => profiles.len(),
        Change::CreateUser { .. } => 1,
        _ => 0,
    }
}
