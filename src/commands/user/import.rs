//! Bulk files (seed 3.1, Appendix A): `user import-emails FILE` (header `user_id,email`) and
//! `user import FILE` (bulk creation). Each file is validated whole, then becomes one request.

use super::{new_profile, print_submitted, screen, submit, warn_all, Fields};
use crate::bulk;
use crate::cli::InlineArgs;
use crate::commands::request::show;
use crate::commands::signed_in;
use crate::context::{Ctx, Mode};
use crate::domain::change::{Change, EmailRow};
use crate::domain::profile;
use crate::domain::role::Role;
use crate::domain::user_id::UserId;
use crate::error::{classify, invalid, DmsError, Kind};
use crate::ops::maker_checker;
use crate::output::Format;
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;

/// Largest bulk file accepted, and most rows (a participant holds at most ~1,300 users).
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
const MAX_ROWS: usize = 20_000;

/// A bulk file read and checked row by row: the one request it becomes, how many rows it
/// had, and the line each given user ID is on (to name the line of a database refusal).
pub struct BulkFile {
    pub change: Change,
    pub rows: usize,
    pub lines: HashMap<String, usize>,
}

pub fn emails(ctx: &mut Ctx, path: &Path, dry_run: bool, inline: InlineArgs) -> anyhow::Result<()> {
    let f = read_emails(path)?;
    finish(ctx, path, f.change, f.rows, &f.lines, dry_run, inline)
}

pub fn users(ctx: &mut Ctx, path: &Path, dry_run: bool, inline: InlineArgs) -> anyhow::Result<()> {
    let f = read_users(path)?;
    finish(ctx, path, f.change, f.rows, &f.lines, dry_run, inline)
}

/// An e-mail registration file (header `user_id,email`), every row checked: no database yet.
pub fn read_emails(path: &Path) -> anyhow::Result<BulkFile> {
    let file = bulk::open(path, MAX_FILE_BYTES, &["user_id", "email"], &[])?;
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

/// A bulk creation file (header `user_id,surname,other_names,email` and optional profile
/// columns), every row parsed into a new profile: no database yet.
pub fn read_users(path: &Path) -> anyhow::Result<BulkFile> {
    let file = bulk::open(
        path,
        MAX_FILE_BYTES,
        &["user_id", "surname", "other_names", "email"],
        &["status", "enable_from", "disable_after", "channel", "groups", "limit"],
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
            },
        )?);
        Ok(())
    })?;
    Ok(BulkFile { rows: profiles.len(), change: Change::ImportUsers { profiles }, lines })
}

/// Submit the file's one request, or (dry run) check it as submission would.
fn finish(
    ctx: &mut Ctx,
    path: &Path,
    change: Change,
    n: usize,
    lines: &HashMap<String, usize>,
    dry_run: bool,
    inline: InlineArgs,
) -> anyhow::Result<()> {
    if dry_run {
        let checked = signed_in(ctx, &[Role::Maker], Mode::Read, |w, me| maker_checker::check(w, me, change))
            .map_err(|e| with_line(path, lines, e))?;
        let p = &checked.participant;
        let summary = json!({
            "dry_run": true, "valid": true, "rows": n, "kind": checked.change.kind(),
            "user_ids": checked.change.subject_ids(),
            "quota": { "max_users": p.max_users, "total_users": checked.quota.total },
        });
        match ctx.out.format {
            // Machine formats: every row's old and new values, and the warnings.
            Format::Json | Format::Jsonl => {
                let mut doc = summary;
                doc["changes"] = checked.shown.iter().map(|s| screen::shown_json(s, p)).collect();
                doc["warnings"] = json!(checked.warnings);
                ctx.out.object(&doc)?;
            }
            Format::Csv => ctx.out.diff(&show::diff_rows(p, &checked.shown))?,
            Format::Table => {
                warn_all(ctx, &checked.warnings);
                ctx.out.object(&json!({
                    "rows": n, "kind": checked.change.kind(),
                    "users_after_approval": format!("{} of {}", checked.quota.total + created(&checked.change) as i64, p.max_users),
                }))?;
                show::print_shown(ctx, &checked.shown, p, 1, None)?;
            }
        }
        ctx.out.note("Dry run: the file is valid and nothing was submitted.");
        return Ok(());
    }
    let s = submit(ctx, change, &inline).map_err(|e| with_line(path, lines, e))?;
    print_submitted(ctx, &s, &[("rows", json!(n))])
}

/// The database checks of a request (unknown user, ID taken, another participant's user)
/// name the user ID a row fails on; add that row's line of the file (SPEC §9), to each fault
/// when there are several, in file order.
pub fn with_line(path: &Path, lines: &HashMap<String, usize>, e: anyhow::Error) -> anyhow::Error {
    let line_of = |text: &str| lines.iter().filter(|(id, _)| text.contains(id.as_str())).map(|(_, l)| *l).min();
    let d = match e.downcast::<DmsError>() {
        Ok(d) => d,
        Err(e) => match classify(&e) {
            (Kind::Other, _) => return e,
            (kind, message) => DmsError::new(kind, message),
        },
    };
    let shown = path.display().to_string();
    if d.faults.is_empty() {
        let message = match line_of(&d.message) {
            Some(line) => format!("{shown} line {line}: {}", d.message),
            None => d.message,
        };
        return DmsError { message, ..d }.into();
    }
    let mut faults: Vec<(Option<usize>, String)> = d.faults.iter().map(|f| (line_of(f), f.clone())).collect();
    faults.sort_by_key(|f| f.0.unwrap_or(usize::MAX));
    let n = faults.len();
    let faults =
        faults.into_iter().map(|(line, f)| (d.kind, line.map_or(f.clone(), |l| format!("line {l}: {f}")))).collect();
    DmsError::several(&shown, faults, n).into()
}

/// How many profiles a change creates.
fn created(c: &Change) -> usize {
    match c {
        Change::ImportUsers { profiles } => profiles.len(),
        Change::CreateUser { .. } => 1,
        _ => 0,
    }
}
