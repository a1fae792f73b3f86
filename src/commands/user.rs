//! DMS user maintenance (seed 4.3, Appendix A, D c): Create / Change / Delete / Enquire User
//! Profile, Unlock/Reset OTP Device Registration, bulk e-mail registration, bulk creation,
//! and `da assign`. Every change is a maker-checker request.

use crate::cli::{InlineArgs, ProfileArgs};
use crate::commands::request::{print_submitted, submit};
use crate::commands::{signed_in, READERS};
use crate::context::Ctx;
use crate::domain::profile::{self, AccessChannel, UserStatus};
use crate::domain::role::Role;
use crate::domain::user_id::UserId;
use crate::error::{invalid, not_permitted};
use crate::requests::{self, Change, DateEdit, EmailRow, NewProfile, ProfileChanges};
use crate::signin;
use crate::storage::{participants, settings};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;

fn date_edit(field: &'static str, s: &str) -> anyhow::Result<DateEdit> {
    if s.trim().is_empty() || s.trim().eq_ignore_ascii_case("none") {
        Ok(DateEdit::Clear)
    } else {
        Ok(DateEdit::Set(profile::parse_date(field, s)?))
    }
}

fn opt_date(field: &'static str, s: Option<&str>) -> anyhow::Result<Option<chrono::NaiveDate>> {
    match s.map(str::trim).filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("none")) {
        Some(d) => Ok(Some(profile::parse_date(field, d)?)),
        None => Ok(None),
    }
}

/// Build a new business-user profile from raw field values (CLI flags or a CSV row).
#[allow(clippy::too_many_arguments)] // one per profile field
fn new_profile(
    user_id: String,
    surname: Option<&str>,
    other_names: Option<&str>,
    email: Option<&str>,
    status: Option<&str>,
    enable_from: Option<&str>,
    disable_after: Option<&str>,
    channel: Option<&str>,
    groups: Option<&str>,
    limit: Option<&str>,
) -> anyhow::Result<NewProfile> {
    let surname = profile::person_name("surname", surname.ok_or_else(|| invalid("surname is required"))?)?;
    let other_names =
        profile::person_name("other names", other_names.ok_or_else(|| invalid("other names is required"))?)?;
    let email = profile::email(email.ok_or_else(|| invalid("email is required (it is needed to initialise 2FA)"))?)?;
    let status =
        status.filter(|s| !s.trim().is_empty()).map(UserStatus::parse).transpose()?.unwrap_or(UserStatus::Enabled);
    let enable_from = opt_date("enable from", enable_from)?;
    let disable_after = opt_date("disable after", disable_after)?;
    profile::check_date_window(enable_from, disable_after)?;
    let channel =
        channel.filter(|s| !s.trim().is_empty()).map(AccessChannel::parse).transpose()?.unwrap_or(AccessChannel::Cst);
    let groups = profile::parse_groups(groups.unwrap_or(""))?;
    let limit_cents = limit.filter(|s| !s.trim().is_empty()).map(profile::money_cents).transpose()?.unwrap_or(0);
    Ok(NewProfile {
        user_id,
        surname,
        other_names,
        email: Some(email),
        status: status.as_str().to_string(),
        enable_from,
        disable_after,
        channel: channel.as_str().to_string(),
        groups,
        limit_cents,
    })
}

/// The maker's participant, for commands that need it before submitting.
fn maker_participant(ctx: &Ctx, id: &crate::session::Identity) -> anyhow::Result<participants::Participant> {
    let pid = id
        .participant_id
        .as_deref()
        .ok_or_else(|| not_permitted("only a DA maker of a participant submits DMS requests"))?;
    requests::participant(ctx.store.conn(), pid)
}

/// Warnings a DA should see about an address (beyond: seed 3.1 advice).
fn email_warnings(ctx: &Ctx, participant: &participants::Participant, email: &str) {
    if profile::looks_like_group_address(email) {
        ctx.out.warn(&format!("{email} looks like a group address: the OTP authenticates one individual (seed 3.1)"));
    }
    let domain = profile::email_domain(email);
    if !participant.domains.is_empty() && !participant.domains.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
        ctx.out.warn(&format!(
            "{email} is not on a corporate domain of {} ({})",
            participant.participant_id,
            participant.domains.join(", ")
        ));
    }
}

pub fn cmd_user_create(
    ctx: &mut Ctx,
    user_id: Option<UserId>,
    generate: bool,
    channel: String,
    p: ProfileArgs,
    inline: InlineArgs,
) -> anyhow::Result<()> {
    let id = signed_in(ctx, &[Role::Maker])?;
    let participant = maker_participant(ctx, &id)?;
    let uid = match (user_id, generate) {
        (Some(u), _) => u.as_str().to_string(),
        (None, _) => requests::generate_ids(ctx.store.conn(), &participant, 1)?.remove(0),
    };
    let np = new_profile(
        uid,
        p.surname.as_deref(),
        p.other_names.as_deref(),
        p.email.as_deref(),
        p.status.as_deref(),
        p.enable_from.as_deref(),
        p.disable_after.as_deref(),
        Some(&channel),
        p.groups.as_deref(),
        p.limit.as_deref(),
    )?;
    if let Some(e) = &np.email {
        email_warnings(ctx, &participant, e);
    }
    let user = np.user_id.clone();
    let s = submit(ctx, &id, Change::CreateUser { profile: np }, &inline)?;
    print_submitted(ctx, &s, &[("user_id", json!(user))])
}

pub fn cmd_user_change(ctx: &mut Ctx, uid: UserId, p: ProfileArgs, inline: InlineArgs) -> anyhow::Result<()> {
    let id = signed_in(ctx, &[Role::Maker])?;
    let changes = ProfileChanges {
        email: p.email.as_deref().map(profile::email).transpose()?,
        surname: p.surname.as_deref().map(|s| profile::person_name("surname", s)).transpose()?,
        other_names: p.other_names.as_deref().map(|s| profile::person_name("other names", s)).transpose()?,
        status: p.status.as_deref().map(UserStatus::parse).transpose()?.map(|s| s.as_str().to_string()),
        enable_from: p.enable_from.as_deref().map(|d| date_edit("enable from", d)).transpose()?,
        disable_after: p.disable_after.as_deref().map(|d| date_edit("disable after", d)).transpose()?,
        groups: p.groups.as_deref().map(profile::parse_groups).transpose()?,
        limit_cents: p.limit.as_deref().map(profile::money_cents).transpose()?,
    };
    if changes.is_empty() {
        return Err(invalid("nothing to change: give at least one of --email --surname --other-names --status --enable-from --disable-after --groups --limit").into());
    }
    if let Some(e) = &changes.email {
        let participant = maker_participant(ctx, &id)?;
        email_warnings(ctx, &participant, e);
    }
    let s = submit(ctx, &id, Change::ChangeUser { user_id: uid.as_str().to_string(), changes }, &inline)?;
    print_submitted(ctx, &s, &[("user_id", json!(uid.as_str()))])
}

pub fn cmd_user_delete(ctx: &mut Ctx, uid: UserId, inline: InlineArgs) -> anyhow::Result<()> {
    let id = signed_in(ctx, &[Role::Maker])?;
    let s = submit(ctx, &id, Change::DeleteUser { user_id: uid.as_str().to_string() }, &inline)?;
    print_submitted(ctx, &s, &[("user_id", json!(uid.as_str()))])
}

pub fn cmd_user_unlock(ctx: &mut Ctx, uid: UserId, inline: InlineArgs) -> anyhow::Result<()> {
    let id = signed_in(ctx, &[Role::Maker])?;
    let s = submit(ctx, &id, Change::UnlockUser { user_id: uid.as_str().to_string() }, &inline)?;
    print_submitted(ctx, &s, &[("user_id", json!(uid.as_str()))])
}

pub fn cmd_da_assign(ctx: &mut Ctx, da: UserId, groups: &str, inline: InlineArgs) -> anyhow::Result<()> {
    let id = signed_in(ctx, &[Role::Maker])?;
    let groups = profile::parse_groups(groups)?;
    let s = submit(ctx, &id, Change::AssignGroups { user_id: da.as_str().to_string(), groups }, &inline)?;
    print_submitted(ctx, &s, &[("da_id", json!(da.as_str()))])
}

/// Enquire User Profile: exactly the fields that apply to the profile's state (seed 4.3).
pub fn cmd_user_enquire(ctx: &mut Ctx, uid: UserId) -> anyhow::Result<()> {
    let id = signed_in(ctx, READERS)?;
    let tx = ctx.store.read()?;
    let a = signin::load(&tx, uid.as_str())?.ok_or_else(|| invalid(format!("no user {}", uid.as_str())))?;
    if id.participant_id.is_some() && id.participant_id != a.profile.participant_id {
        return Err(not_permitted(format!("{} is not a user of your participant", uid.as_str())).into());
    }
    let participant = match a.participant() {
        Some(p) => participants::get(&tx, p)?,
        None => None,
    };
    let decommission = settings::get_or_default(&tx, "decommission-date")?;
    drop(tx);
    let decommissioned = signin::hkt(ctx.now).date_naive().to_string() >= decommission;
    ctx.out.object(&enquiry(&a, participant.as_ref(), decommissioned))?;
    Ok(())
}

pub fn enquiry(a: &signin::Account, participant: Option<&participants::Participant>, decommissioned: bool) -> Value {
    let p = &a.profile;
    let mut m = serde_json::Map::new();
    let organisation = match participant {
        Some(pt) => format!("{} {}", pt.participant_id, pt.name),
        None => "HKEX".to_string(),
    };
    m.insert("organisation".into(), json!(organisation));
    m.insert("internal_external".into(), json!(if p.role.is_internal() { "INTERNAL" } else { "EXTERNAL" }));
    m.insert("user_id".into(), json!(p.user_id));
    m.insert("role".into(), json!(p.role.label()));
    m.insert("user_status".into(), json!(p.status));
    m.insert("surname".into(), json!(p.surname));
    m.insert("other_names".into(), json!(p.other_names));
    m.insert("email".into(), json!(p.email));
    m.insert("enable_from".into(), json!(p.enable_from.map(profile::format_date)));
    m.insert("disable_after".into(), json!(p.disable_after.map(profile::format_date)));
    if a.initialised() {
        // Seed 4.3: once 2FA is initialised, Locked and OTP Enabled appear...
        m.insert("locked".into(), json!(if a.cred.locked_at.is_some() { "Yes" } else { "No" }));
        m.insert("otp_enabled".into(), json!("Yes"));
        m.insert("otp_channel".into(), json!(a.cred.otp_channel.map(|c| c.as_str())));
    } else if p.srn.is_some() && (!decommissioned || p.channel == "PG") {
        // ...and until then the smartcard fields stay; on the PG channel the smartcard outlives
        // decommissioning (SPEC §2), so its fields do too.
        m.insert("srn".into(), json!(p.srn));
        m.insert("certificate_expiry_date".into(), json!(p.cert_expiry));
    }
    if let Some(pt) = participant {
        m.insert("clearing_house_options".into(), json!(pt.house.clearing_house_option()));
    }
    m.insert("access_channel".into(), json!(p.channel));
    m.insert("transaction_limit_hkd".into(), json!(profile::format_cents(p.limit_cents)));
    m.insert("user_groups".into(), json!(p.groups.split_whitespace().collect::<Vec<_>>()));
    Value::Object(m)
}

// ---------------------------------------------------------------------------------------
// Bulk files: validated whole, then one request.

/// Largest bulk file accepted.
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
const MAX_ROWS: usize = 20_000;

fn open_csv(path: &Path) -> anyhow::Result<(Vec<String>, csv::Reader<std::fs::File>)> {
    let meta = std::fs::metadata(path).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(invalid(format!("{}: larger than {} MiB", path.display(), MAX_FILE_BYTES / 1024 / 1024)).into());
    }
    let f = std::fs::File::open(path)?;
    let mut r = csv::ReaderBuilder::new().has_headers(true).flexible(false).trim(csv::Trim::All).from_reader(f);
    let header: Vec<String> = r
        .headers()
        .map_err(|e| invalid(format!("{} line 1: {e}", path.display())))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase())
        .collect();
    Ok((header, r))
}

/// Read every record, naming the line of the first bad one.
fn records(
    path: &Path,
    mut r: csv::Reader<std::fs::File>,
    mut each: impl FnMut(usize, &csv::StringRecord) -> anyhow::Result<()>,
) -> anyhow::Result<usize> {
    let mut n = 0;
    for rec in r.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            invalid(format!("{} line {line}: {}", path.display(), e.kind_text()))
        })?;
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(n + 2);
        n += 1;
        if n > MAX_ROWS {
            return Err(invalid(format!("{}: more than {MAX_ROWS} rows", path.display())).into());
        }
        each(line, &rec).map_err(|e| invalid(format!("{} line {line}: {e:#}", path.display())))?;
    }
    if n == 0 {
        return Err(invalid(format!("{}: no rows after the header", path.display())).into());
    }
    Ok(n)
}

trait KindText {
    fn kind_text(&self) -> String;
}

impl KindText for csv::Error {
    fn kind_text(&self) -> String {
        match self.kind() {
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                format!("{len} fields where the header has {expected_len}")
            }
            csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".into(),
            _ => self.to_string(),
        }
    }
}

pub fn cmd_user_import_emails(ctx: &mut Ctx, path: &Path, dry_run: bool, inline: InlineArgs) -> anyhow::Result<()> {
    let id = signed_in(ctx, &[Role::Maker])?;
    let participant = maker_participant(ctx, &id)?;
    let (header, r) = open_csv(path)?;
    if header != ["user_id", "email"] {
        return Err(invalid(format!(
            "{} line 1: the header must be user_id,email (found {})",
            path.display(),
            header.join(",")
        ))
        .into());
    }
    let mut rows = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    records(path, r, |line, rec| {
        let uid = UserId::parse(&rec[0])?;
        let email = profile::email(&rec[1])?;
        if let Some(first) = seen.insert(uid.as_str().to_string(), line) {
            return Err(invalid(format!("user {} is listed twice (also line {first})", uid.as_str())).into());
        }
        rows.push(EmailRow { user_id: uid.as_str().to_string(), email });
        Ok(())
    })?;
    let warnings = rows.iter().filter(|r| profile::looks_like_group_address(&r.email)).count();
    if warnings > 0 {
        ctx.out.warn(&format!("{warnings} address(es) look like group addresses (seed 3.1 advises against them)"));
    }
    let n = rows.len();
    let change = Change::ImportEmails { rows };
    if dry_run {
        return dry_run_report(ctx, &participant, &change, n).map_err(|e| with_line(path, &seen, e));
    }
    let s = submit(ctx, &id, change, &inline).map_err(|e| with_line(path, &seen, e))?;
    print_submitted(ctx, &s, &[("rows", json!(n))])
}

pub fn cmd_user_import(ctx: &mut Ctx, path: &Path, dry_run: bool, inline: InlineArgs) -> anyhow::Result<()> {
    let id = signed_in(ctx, &[Role::Maker])?;
    let participant = maker_participant(ctx, &id)?;
    let (header, r) = open_csv(path)?;
    const REQUIRED: [&str; 4] = ["user_id", "surname", "other_names", "email"];
    const OPTIONAL: [&str; 6] = ["status", "enable_from", "disable_after", "channel", "groups", "limit"];
    for (i, h) in header.iter().enumerate() {
        if !REQUIRED.contains(&h.as_str()) && !OPTIONAL.contains(&h.as_str()) {
            return Err(invalid(format!(
                "{} line 1: unknown column {h:?} (columns: {}, optional {})",
                path.display(),
                REQUIRED.join(","),
                OPTIONAL.join(",")
            ))
            .into());
        }
        if header[..i].contains(h) {
            return Err(invalid(format!("{} line 1: column {h} appears twice", path.display())).into());
        }
    }
    for req in REQUIRED {
        if !header.iter().any(|h| h == req) {
            return Err(invalid(format!("{} line 1: missing column {req}", path.display())).into());
        }
    }
    let col = |name: &str| header.iter().position(|h| h == name);
    let mut parsed: Vec<(usize, Option<String>, NewProfile)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    records(path, r, |line, rec| {
        let get = |name: &str| col(name).map(|i| &rec[i]);
        let given =
            get("user_id").filter(|s| !s.is_empty()).map(UserId::parse).transpose()?.map(|u| u.as_str().to_string());
        if let Some(u) = &given {
            if let Some(first) = seen.insert(u.clone(), line) {
                return Err(invalid(format!("user {u} is listed twice (also line {first})")).into());
            }
        }
        let p = new_profile(
            given.clone().unwrap_or_default(),
            get("surname"),
            get("other_names"),
            get("email"),
            get("status"),
            get("enable_from"),
            get("disable_after"),
            get("channel"),
            get("groups"),
            get("limit"),
        )?;
        parsed.push((line, given, p));
        Ok(())
    })?;
    // Empty user IDs are generated, skipping the IDs the file names itself.
    let blanks = parsed.iter().filter(|(_, g, _)| g.is_none()).count();
    if blanks > 0 {
        let named: std::collections::HashSet<String> = parsed.iter().filter_map(|(_, g, _)| g.clone()).collect();
        let mut fresh = requests::generate_ids(ctx.store.conn(), &participant, blanks + named.len())?
            .into_iter()
            .filter(|id| !named.contains(id));
        for (line, given, p) in parsed.iter_mut() {
            if given.is_none() {
                p.user_id = fresh
                    .next()
                    .ok_or_else(|| invalid(format!("{} line {line}: no free user ID left", path.display())))?;
            }
        }
    }
    let n = parsed.len();
    let change = Change::ImportUsers { profiles: parsed.into_iter().map(|(_, _, p)| p).collect() };
    if dry_run {
        return dry_run_report(ctx, &participant, &change, n).map_err(|e| with_line(path, &seen, e));
    }
    let s = submit(ctx, &id, change, &inline).map_err(|e| with_line(path, &seen, e))?;
    print_submitted(ctx, &s, &[("rows", json!(n))])
}

/// The database checks of a request (unknown user, ID taken, another participant's user)
/// name the user ID a row fails on; add that row's line of the file (SPEC §9).
fn with_line(path: &Path, lines: &HashMap<String, usize>, e: anyhow::Error) -> anyhow::Error {
    let (kind, message) = crate::error::classify(&e);
    if kind == crate::error::Kind::Other {
        return e;
    }
    match lines.iter().filter(|(id, _)| message.contains(id.as_str())).map(|(_, line)| *line).min() {
        Some(line) => crate::error::DmsError::new(kind, format!("{} line {line}: {message}", path.display())).into(),
        None => e,
    }
}

/// Check a bulk request against the database as submission would, and submit nothing.
fn dry_run_report(
    ctx: &mut Ctx,
    participant: &participants::Participant,
    change: &Change,
    n: usize,
) -> anyhow::Result<()> {
    let tx = ctx.store.read()?;
    requests::check(&tx, participant, change, None, signin::hkt(ctx.now).date_naive())?;
    let counts = participants::counts(&tx, &participant.participant_id)?;
    drop(tx);
    let ids: Vec<&str> = change.subject_ids();
    ctx.out.object(&json!({ "dry_run": true, "valid": true, "rows": n, "kind": change.kind(), "user_ids": ids, "quota": { "max_users": participant.max_users, "total_users": counts.total } }))?;
    ctx.out.note("Dry run: the file is valid and nothing was submitted.");
    Ok(())
}
