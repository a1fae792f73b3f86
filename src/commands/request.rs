//! Maker-checker requests: submission (queued or inline) and `request list|show|approve|
//! reject|cancel`.

use crate::cli::InlineArgs;
use crate::commands::{signed_in, READERS};
use crate::context::Ctx;
use crate::domain::maker_checker as mc;
use crate::domain::role::Role;
use crate::error::{conflict, invalid, not_permitted, usage, DmsError};
use crate::requests::{self, Change};
use crate::secrets::Secrets;
use crate::session::Identity;
use crate::signin::{self, PasswordCheck};
use crate::storage::requests::{self as store, RequestRow};
use crate::storage::{audit, settings, ts, users};
use chrono::Duration;
use serde_json::{json, Value};

/// Read the checker's authorisation code for inline mode: password (stdin or prompt) checked
/// now, outside the write lock; OTP from --otp or a prompt.
fn inline_code(ctx: &mut Ctx, inline: &InlineArgs) -> anyhow::Result<Option<(PasswordCheck, String)>> {
    let Some(checker) = &inline.checker else { return Ok(None) };
    let mut secrets = Secrets::new(inline.password_stdin)?;
    let password =
        secrets.existing("checker password", &format!("Authorisation code - password of {}", checker.as_str()))?;
    let otp = match &inline.otp {
        Some(o) => o.clone(),
        None if secrets.tty() => dialoguer::Input::new()
            .with_prompt(format!("Authorisation code - OTP of {}", checker.as_str()))
            .interact_text()?,
        None => return Err(usage("--otp CODE (the checker's one-time password) is required with --checker").into()),
    };
    Ok(Some((signin::check_password_unlocked(&mut ctx.store, checker.as_str(), &password)?, otp)))
}

fn expiry_hours(c: &rusqlite::Connection) -> anyhow::Result<i64> {
    let v = settings::get_or_default(c, "request-expiry-hours")?;
    v.parse().map_err(|_| anyhow::anyhow!("setting request-expiry-hours {v:?} is not a number"))
}

/// What a submission printed.
pub struct Submitted {
    pub request_id: i64,
    pub status: &'static str,
}

/// Submit a request as the signed-in maker; with --checker, authorise and apply it at once.
pub fn submit(ctx: &mut Ctx, maker: &Identity, change: Change, inline: &InlineArgs) -> anyhow::Result<Submitted> {
    let code = inline_code(ctx, inline)?;
    let key = ctx.key()?;
    let now = ctx.now;
    let tx = ctx.store.write()?;
    let expired = store::expire_due(&tx, now)?;
    note_expired(&tx, &expired, now)?;
    let Some(maker_acct) = signin::load(&tx, &maker.user_id)? else {
        return Err(crate::error::auth("the signed-in maker no longer exists").into());
    };
    let pid = maker_acct
        .participant()
        .ok_or_else(|| not_permitted("only a DA maker of a participant submits DMS requests"))?
        .to_string();
    mc::check_maker(&requests::party(&maker_acct.profile, maker_acct.cred.locked_at.is_some()), &pid)
        .map_err(requests::refused)?;
    let participant = requests::participant(&tx, &pid)?;
    let subjects = requests::check(&tx, &participant, &change, None, signin::hkt(now).date_naive())?;
    let subject_ids: Vec<&str> = change.subject_ids();

    let mut checker_id = None;
    if let Some((pw, otp)) = &code {
        // Who may authorise is checked before the code, so a refused checker spends no OTP.
        if let Some(ch) = signin::load(&tx, &pw.user_id)? {
            // A locked checker of the participant hears so, and who can unlock (SPEC §3), exit 4.
            if ch.cred.locked_at.is_some() && ch.participant() == Some(pid.as_str()) {
                return Err(crate::error::locked(signin::locked_message(&ch)).into());
            }
            if !ch.profile.enabled() && ch.participant() == Some(pid.as_str()) {
                return Err(crate::error::locked(format!("checker {} is disabled", ch.id())).into());
            }
            mc::check_checker(
                &requests::party(&ch.profile, ch.cred.locked_at.is_some()),
                &maker.user_id,
                &pid,
                &subject_ids,
            )
            .map_err(requests::refused)?;
        }
        match signin::authorise(&tx, &key, pw, otp, now)? {
            Ok(a) => checker_id = Some(a.id().to_string()),
            Err(e) => {
                // The failed code is recorded; the request itself is not kept.
                tx.commit()?;
                return Err(e.into());
            }
        }
    }

    let payload = serde_json::to_string(&change)?;
    let expires = now + Duration::hours(expiry_hours(&tx)?);
    let id = store::insert(&tx, &pid, change.kind(), &payload, &maker.user_id, now, expires, &subjects)?;
    audit::append(
        &tx,
        now,
        &audit::Event {
            actor: Some(&maker.user_id),
            action: "request.submitted",
            subject: subject_ids.first().copied().filter(|_| subject_ids.len() == 1),
            participant_id: Some(&pid),
            detail: json!({ "request_id": id, "kind": change.kind(), "subjects": subject_ids.len(), "summary": change.summary() }).to_string(),
        },
    )?;
    let mut notices = Vec::new();
    let status = if let Some(checker) = checker_id {
        notices = requests::apply(&tx, &participant, &change, id, &checker, now)?;
        if !store::decide(&tx, id, "APPROVED", Some(&checker), now, None)? {
            return Err(conflict(format!("request {id} was decided by someone else")).into());
        }
        audit::append(
            &tx,
            now,
            &audit::Event {
                actor: Some(&checker),
                action: "request.approved",
                participant_id: Some(&pid),
                detail: json!({ "request_id": id, "inline": true }).to_string(),
                ..Default::default()
            },
        )?;
        "APPROVED"
    } else {
        "PENDING"
    };
    tx.commit()?;
    for n in &notices {
        ctx.notify(n);
    }
    Ok(Submitted { request_id: id, status })
}

pub fn print_submitted(ctx: &Ctx, s: &Submitted, extra: &[(&str, Value)]) -> anyhow::Result<()> {
    let mut v = json!({ "request_id": s.request_id, "status": s.status });
    if let Some(m) = v.as_object_mut() {
        for (k, x) in extra {
            m.insert(k.to_string(), x.clone());
        }
    }
    ctx.out.object(&v)?;
    if s.status == "PENDING" {
        ctx.out
            .note(&format!("Request {} waits for a DA checker: `dms request approve {}`.", s.request_id, s.request_id));
    }
    Ok(())
}

fn note_expired(
    c: &rusqlite::Connection,
    expired: &[(i64, String)],
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    for (id, pid) in expired {
        audit::append(
            c,
            now,
            &audit::Event {
                action: "request.expired",
                participant_id: Some(pid),
                detail: json!({ "request_id": id }).to_string(),
                ..Default::default()
            },
        )?;
    }
    Ok(())
}

/// Which participant's requests may this identity see?
fn scope(id: &Identity, participant: Option<String>) -> anyhow::Result<Option<String>> {
    match (&id.participant_id, participant) {
        (Some(own), Some(p)) if *own != p.to_uppercase() => {
            Err(not_permitted(format!("you can see only the requests of {own}")).into())
        }
        (Some(own), _) => Ok(Some(own.clone())),
        (None, p) => Ok(p.map(|p| p.trim().to_uppercase())),
    }
}

fn row_json(r: &RequestRow) -> Vec<Value> {
    let summary = serde_json::from_str::<Change>(&r.payload).map(|c| c.summary()).unwrap_or_default();
    vec![
        json!(r.request_id),
        json!(r.participant_id),
        json!(r.kind),
        json!(summary),
        json!(r.maker),
        json!(ts(r.created_at)),
        json!(ts(r.expires_at)),
        json!(r.status),
        json!(r.checker),
        json!(r.decided_at.map(ts)),
        json!(r.reason),
    ]
}

pub const REQUEST_COLUMNS: &[&str] = &[
    "request_id",
    "participant_id",
    "kind",
    "summary",
    "maker",
    "created_at",
    "expires_at",
    "status",
    "checker",
    "decided_at",
    "reason",
];

pub fn cmd_request_list(ctx: &mut Ctx, status: Option<String>, participant: Option<String>) -> anyhow::Result<()> {
    let id = signed_in(ctx, READERS)?;
    let scope = scope(&id, participant)?;
    let status = status.map(|s| s.trim().to_uppercase());
    if let Some(s) = &status {
        if !["PENDING", "APPROVED", "REJECTED", "CANCELLED", "EXPIRED"].contains(&s.as_str()) {
            return Err(
                invalid(format!("--status {s:?}: must be PENDING, APPROVED, REJECTED, CANCELLED or EXPIRED")).into()
            );
        }
    }
    let now = ctx.now;
    let tx = ctx.store.write()?;
    let expired = store::expire_due(&tx, now)?;
    note_expired(&tx, &expired, now)?;
    let mut rows = ctx.out.rows("requests", REQUEST_COLUMNS)?.table_columns(&[
        "request_id",
        "kind",
        "summary",
        "maker",
        "created_at",
        "status",
        "checker",
    ]);
    store::for_each(&tx, scope.as_deref(), status.as_deref(), |r| Ok(rows.push(row_json(&r))?))?;
    tx.commit()?;
    rows.finish(&[], None)?;
    Ok(())
}

fn load_visible(tx: &rusqlite::Connection, id: &Identity, n: i64) -> anyhow::Result<RequestRow> {
    let r = store::get(tx, n)?.ok_or_else(|| invalid(format!("no request {n}")))?;
    if id.participant_id.as_ref().is_some_and(|p| *p != r.participant_id) {
        return Err(not_permitted(format!("request {n} belongs to another participant")).into());
    }
    Ok(r)
}

/// The request with, for profile changes, each field's current and proposed value.
fn describe(tx: &rusqlite::Connection, r: &RequestRow) -> anyhow::Result<Value> {
    let change: Change = serde_json::from_str(&r.payload)?;
    let mut proposed = serde_json::to_value(&change)?;
    if let (Change::ChangeUser { user_id, changes }, Some(obj)) = (&change, proposed.as_object_mut()) {
        if let Some(current) = users::get(tx, user_id)? {
            let cur = json!({
                "email": current.email, "surname": current.surname, "other_names": current.other_names,
                "status": current.status, "enable_from": current.enable_from, "disable_after": current.disable_after,
                "groups": current.groups, "limit": crate::domain::profile::format_cents(current.limit_cents),
            });
            let mut diff = serde_json::Map::new();
            if let Value::Object(ch) = serde_json::to_value(changes)? {
                for (k, v) in ch {
                    let key = if k == "limit_cents" { "limit".to_string() } else { k.clone() };
                    diff.insert(
                        key.clone(),
                        json!({ "current": cur.get(&key).cloned().unwrap_or(Value::Null), "proposed": v }),
                    );
                }
            }
            obj.insert("diff".into(), Value::Object(diff));
        }
    }
    let subjects = store::subjects(tx, r.request_id)?;
    Ok(json!({
        "request_id": r.request_id, "participant_id": r.participant_id, "kind": r.kind, "summary": change.summary(),
        "maker": r.maker, "created_at": ts(r.created_at), "expires_at": ts(r.expires_at), "status": r.status,
        "checker": r.checker, "decided_at": r.decided_at.map(ts), "reason": r.reason,
        "subjects": subjects.iter().map(|s| s.user_id.clone()).collect::<Vec<_>>(),
        "change": proposed,
    }))
}

pub fn cmd_request_show(ctx: &mut Ctx, n: i64) -> anyhow::Result<()> {
    let id = signed_in(ctx, READERS)?;
    let tx = ctx.store.read()?;
    let r = load_visible(&tx, &id, n)?;
    let v = describe(&tx, &r)?;
    drop(tx);
    ctx.out.object(&v)?;
    Ok(())
}

pub fn cmd_request_approve(
    ctx: &mut Ctx,
    ids: &[i64],
    otp: Option<String>,
    password_stdin: bool,
    yes: bool,
) -> anyhow::Result<()> {
    let id = signed_in(ctx, &[Role::Checker, Role::Maker, Role::User, Role::Operator, Role::Auditor])?;
    if id.role != Role::Checker {
        return Err(
            not_permitted(format!("only a DA checker can authorise requests (you are {})", id.role.label())).into()
        );
    }
    let mut secrets = Secrets::new(password_stdin)?;
    // On a terminal, show what will change and ask first.
    if secrets.tty() && !yes && ctx.out.for_person() {
        let tx = ctx.store.read()?;
        for n in ids {
            let r = load_visible(&tx, &id, *n)?;
            ctx.out.object(&describe(&tx, &r)?)?;
        }
        drop(tx);
        if !dialoguer::Confirm::new()
            .with_prompt(format!("Authorise {} request(s)?", ids.len()))
            .default(false)
            .interact()?
        {
            return Err(usage("not authorised").into());
        }
    }
    let password = secrets.existing("password", "Authorisation code - your password")?;
    let otp = match otp {
        Some(o) => o,
        None if secrets.tty() => {
            dialoguer::Input::new().with_prompt("Authorisation code - your OTP").interact_text()?
        }
        None => {
            return Err(usage("--otp CODE is required: the authorisation code is your password and a fresh OTP").into())
        }
    };
    let pw = signin::check_password_unlocked(&mut ctx.store, &id.user_id, &password)?;
    let key = ctx.key()?;
    let now = ctx.now;
    let tx = ctx.store.write()?;
    let expired = store::expire_due(&tx, now)?;
    note_expired(&tx, &expired, now)?;
    // Load and check every request first, so a refusal spends no OTP and changes nothing.
    let mut work = Vec::new();
    for n in ids {
        let r = load_visible(&tx, &id, *n)?;
        if r.status != "PENDING" {
            return Err(conflict(format!("request {n} is already {}", r.status)).into());
        }
        let change: Change = serde_json::from_str(&r.payload)?;
        let participant = requests::participant(&tx, &r.participant_id)?;
        let maker = users::get(&tx, &r.maker)?
            .ok_or_else(|| conflict(format!("request {n}: its maker {} no longer exists", r.maker)))?;
        let maker_locked = users::credentials(&tx, &r.maker)?.is_some_and(|c| c.locked_at.is_some());
        mc::check_maker(&requests::party(&maker, maker_locked), &r.participant_id)
            .map_err(|e| with_request(*n, requests::refused(e)))?;
        let checker = signin::load(&tx, &id.user_id)?.ok_or_else(|| crate::error::auth("unknown checker"))?;
        mc::check_checker(
            &requests::party(&checker.profile, checker.cred.locked_at.is_some()),
            &r.maker,
            &r.participant_id,
            &change.subject_ids(),
        )
        .map_err(|e| with_request(*n, requests::refused(e)))?;
        let recorded = store::subjects(&tx, *n)?;
        requests::check(&tx, &participant, &change, Some(&recorded), signin::hkt(now).date_naive()).map_err(
            |e| match e.downcast::<DmsError>() {
                Ok(d) => anyhow::Error::from(with_request(*n, d)),
                Err(e) => e,
            },
        )?;
        work.push((r, change, participant));
    }
    if let Err(e) = signin::authorise(&tx, &key, &pw, &otp, now)? {
        tx.commit()?;
        return Err(e.into());
    }
    let mut notices = Vec::new();
    let mut done = Vec::new();
    for (r, change, participant) in &work {
        notices.extend(requests::apply(&tx, participant, change, r.request_id, &id.user_id, now)?);
        if !store::decide(&tx, r.request_id, "APPROVED", Some(&id.user_id), now, None)? {
            return Err(conflict(format!("request {} was decided by someone else", r.request_id)).into());
        }
        audit::append(
            &tx,
            now,
            &audit::Event {
                actor: Some(&id.user_id),
                action: "request.approved",
                participant_id: Some(&r.participant_id),
                detail: json!({ "request_id": r.request_id }).to_string(),
                ..Default::default()
            },
        )?;
        done.push(json!({ "request_id": r.request_id, "status": "APPROVED" }));
    }
    tx.commit()?;
    for n in &notices {
        ctx.notify(n);
    }
    if done.len() == 1 {
        ctx.out.object(&done[0])?;
    } else {
        ctx.out.object(&json!({ "approved": done }))?;
    }
    Ok(())
}

fn with_request(n: i64, e: DmsError) -> DmsError {
    DmsError::new(e.kind, format!("request {n}: {}", e.message))
}

pub fn cmd_request_reject(ctx: &mut Ctx, n: i64, reason: &str) -> anyhow::Result<()> {
    let id = signed_in(ctx, &[Role::Checker])?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control) {
        return Err(invalid("--reason: 1 to 500 printable characters").into());
    }
    decide(ctx, &id, n, "REJECTED", Some(reason))
}

pub fn cmd_request_cancel(ctx: &mut Ctx, n: i64) -> anyhow::Result<()> {
    let id = signed_in(ctx, &[Role::Maker])?;
    decide(ctx, &id, n, "CANCELLED", None)
}

fn decide(ctx: &mut Ctx, id: &Identity, n: i64, status: &str, reason: Option<&str>) -> anyhow::Result<()> {
    let now = ctx.now;
    let tx = ctx.store.write()?;
    let expired = store::expire_due(&tx, now)?;
    note_expired(&tx, &expired, now)?;
    let r = load_visible(&tx, id, n)?;
    if r.status != "PENDING" {
        return Err(conflict(format!("request {n} is already {}", r.status)).into());
    }
    if status == "CANCELLED" && r.maker != id.user_id {
        return Err(not_permitted(format!("only its maker {} can cancel request {n}", r.maker)).into());
    }
    if status == "REJECTED" {
        // The same rules as approval: a decision is the checker's, never about the checker.
        if r.maker == id.user_id {
            return Err(not_permitted("the maker cannot decide their own request").into());
        }
        if store::subjects(&tx, n)?.iter().any(|s| s.user_id == id.user_id) {
            return Err(requests::refused(mc::Refusal::CheckerIsSubject(id.user_id.clone())).into());
        }
    }
    let checker = (status == "REJECTED").then_some(id.user_id.as_str());
    if !store::decide(&tx, n, status, checker, now, reason)? {
        return Err(conflict(format!("request {n} was decided by someone else")).into());
    }
    let action = if status == "REJECTED" { "request.rejected" } else { "request.cancelled" };
    audit::append(
        &tx,
        now,
        &audit::Event {
            actor: Some(&id.user_id),
            action,
            participant_id: Some(&r.participant_id),
            detail: json!({ "request_id": n, "reason": reason }).to_string(),
            ..Default::default()
        },
    )?;
    tx.commit()?;
    ctx.out.object(&json!({ "request_id": n, "status": status }))?;
    Ok(())
}
