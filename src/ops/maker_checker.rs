//! The maker-checker engine (SPEC §4, seed Appendix A e-f): one path for every request.
//!
//! ```text
//! submit:   maker rule → IDs generated → plan (every rule, nothing written) → insert
//!           └─ inline --checker: authorise(this one request), in the same transaction
//! approve:  load the batch (no duplicates, visible, pending) → authorise(batch)
//! authorise: checker rules for each request → the checker's gate → SAVEPOINT →
//!           for each request in order: maker rule → plan against the state the ones before
//!           it left → apply → the authorisation code → RELEASE → decide → audit
//! ```
//!
//! Inline, queued, batch and bulk approvals all run [`authorise`]. A plan is where every rule
//! about the subjects lives (participant, stale version, DA rules, dates, DA minimum, quota,
//! IDs), so submission refuses exactly what approval would. A refusal anywhere rolls the
//! savepoint back and names the request; a wrong code rolls it back and is then recorded
//! against the checker. All of it happens in the command's one write transaction.

use crate::api::DiffRow;
use crate::domain::account::{Account, UserProfile};
use crate::domain::change::{self, Change, RequestStatus};
use crate::domain::credentials::{Credential, Factor};
use crate::domain::gate::{Act, Method};
use crate::domain::maker_checker::{self as mc, DaCounts, DaDays, Party};
use crate::domain::role::Role;
use crate::domain::user_id::{self, ParticipantKey, UserId};
use crate::error::{auth, conflict, invalid, not_permitted, DmsError, Faults};
use crate::mail;
use crate::ops::credentials;
use crate::ops::session::Actor;
use crate::ops::signin::{self, Checked};
use crate::ops::work::Work;
use crate::storage::participants::{self, Participant};
use crate::storage::requests::{self, NewRequest, RequestRow, Subject};
use crate::storage::{audit, sessions, settings, users};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// The checker's authorisation code (seed Appendix A f): its credentials at that moment.
pub enum AuthorisationCode {
    /// A checker with 2FA: its password (checked beforehand) and a fresh OTP.
    TwoFactor { password: Checked, otp: String },
    /// A smartcard-era checker: its smartcard PIN (checked beforehand).
    Smartcard { pin: Checked },
}

impl AuthorisationCode {
    pub fn checker(&self) -> &UserId {
        match self {
            AuthorisationCode::TwoFactor { password, .. } => &password.user_id,
            AuthorisationCode::Smartcard { pin } => &pin.user_id,
        }
    }

    fn method(&self) -> Method {
        match self {
            AuthorisationCode::TwoFactor { .. } => Method::TwoFactor,
            AuthorisationCode::Smartcard { .. } => Method::Smartcard,
        }
    }
}

/// A submitted request.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub request_id: i64,
    pub status: RequestStatus,
    /// The change as stored, with generated user IDs filled in.
    pub change: Change,
    /// What the maker should know about the addresses it registers (never a refusal).
    pub warnings: Vec<String>,
    /// What the request does to each subject, for the screens.
    pub shown: Vec<Shown>,
    pub participant: Participant,
    /// Rows of a bulk file that would change nothing: counted, not queued.
    pub unchanged: usize,
}

/// What a request does to one subject, as the screens show it: the profile before and after
/// (a create has no before, a delete no after).
#[derive(Debug, Clone)]
pub struct Shown {
    pub before: Option<UserProfile>,
    pub after: Option<UserProfile>,
    /// Unlock/Reset OTP Device Registration, or (with `pin_reset`) Smartcard Password Reset:
    /// the profile stays, shown by its state.
    pub reset: bool,
    pub pin_reset: bool,
    /// For Delete and the resets, which show the profile by its state (seed 4.3: Locked and
    /// OTP Enabled once 2FA is initialised, the smartcard fields until then).
    pub state: Option<ShownState>,
}

/// The sign-in state a Delete or Unlock/Reset screen shows.
#[derive(Debug, Clone)]
pub struct ShownState {
    pub cred: Credential,
    /// Smartcards are decommissioned (their fields show only on the PG channel).
    pub decommissioned: bool,
}

/// What the planned writes do, as the screens show it: read before anything is written.
fn shown_of(w: &mut Work<'_>, writes: &[Write]) -> anyhow::Result<Vec<Shown>> {
    let today = signin::hkt(w.now).date_naive();
    let mut out = Vec::with_capacity(writes.len());
    for write in writes {
        out.push(match write {
            Write::Create(p) => {
                Shown { before: None, after: Some(p.clone()), reset: false, pin_reset: false, state: None }
            }
            Write::Update { before, after, .. } => Shown {
                before: Some((**before).clone()),
                after: Some((**after).clone()),
                reset: false,
                pin_reset: false,
                state: None,
            },
            Write::Delete(p) | Write::Reset(p) | Write::PinReset(p) => {
                let pin_reset = matches!(write, Write::PinReset(_));
                let reset = matches!(write, Write::Reset(_)) || pin_reset;
                let decommissioned = w.policy()?.timeline.decommissioned(today);
                let state = users::account(&w.tx, &p.user_id)?.map(|a| ShownState { cred: a.cred, decommissioned });
                Shown { before: Some(p.clone()), after: reset.then(|| p.clone()), reset, pin_reset, state }
            }
        });
    }
    Ok(out)
}

/// The seed's advice on every address a change registers (seed 3.1): group addresses,
/// addresses off the participant's domains, and addresses shared with another user. Read
/// before the change is applied.
fn warnings(w: &Work<'_>, p: &Participant, change: &Change) -> anyhow::Result<Vec<String>> {
    let id = |u: &Option<UserId>| u.as_ref().map(UserId::to_string).unwrap_or_default();
    let emails: Vec<(String, String)> = match change {
        Change::CreateUser { profile } => vec![(id(&profile.user_id), profile.email.clone())],
        Change::ImportUsers { profiles } => profiles.iter().map(|p| (id(&p.user_id), p.email.clone())).collect(),
        Change::ChangeUser { user_id, changes } => {
            changes.email.iter().map(|e| (user_id.to_string(), e.clone())).collect()
        }
        Change::ImportEmails { rows } => rows.iter().map(|r| (r.user_id.to_string(), r.email.clone())).collect(),
        _ => Vec::new(),
    };
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    let mut out: Vec<String> =
        emails.iter().flat_map(|(_, e)| crate::domain::profile::email_warnings(e, &p.domains)).collect();
    let existing = users::emails_of_participant(&w.tx, &p.key)?;
    out.extend(crate::domain::profile::shared_address_warnings(&emails, &existing));
    Ok(out)
}

/// One pending request of a batch.
struct Item {
    id: i64,
    participant: Participant,
    maker: UserId,
    change: Change,
    recorded: Vec<Subject>,
}

fn party(a: &Account) -> Party<'_> {
    Party {
        user_id: a.id().as_str(),
        role: a.role(),
        participant: a.participant(),
        enabled: a.profile.enabled(),
        locked: a.cred.locked(),
    }
}

fn refused(r: mc::Refusal) -> anyhow::Error {
    DmsError::from(r).into()
}

/// Name the request an error is about.
fn about(id: i64, e: anyhow::Error) -> anyhow::Error {
    match e.downcast::<DmsError>() {
        Ok(d) => d.prefixed(&format!("request {id}")).into(),
        Err(e) => e,
    }
}

fn participant(w: &Work<'_>, key: &ParticipantKey) -> anyhow::Result<Participant> {
    participants::get(&w.tx, key)?.ok_or_else(|| not_permitted(format!("no participant {key}")).into())
}

/// The maker's participant, and the maker rule.
fn maker_participant(w: &Work<'_>, maker: &Account) -> anyhow::Result<Participant> {
    let key =
        maker.participant().ok_or_else(|| not_permitted("only a DA maker of a participant submits DMS requests"))?;
    mc::check_maker(&party(maker), key).map_err(refused)?;
    participant(w, key)
}

/// Record the expiry of every pending request past its time (write transactions only; reads
/// show them as EXPIRED already).
pub fn expire_due(w: &mut Work<'_>) -> anyhow::Result<()> {
    if !w.writable {
        return Ok(());
    }
    for e in requests::expire_due(&w.tx, w.now)? {
        w.audit(&audit::Event {
            action: "request.expired",
            participant_id: Some(e.participant.id()),
            detail: json!({ "request_id": e.request_id, "maker": e.maker }).to_string(),
            ..Default::default()
        })?;
        tell_maker(w, &e.maker, e.request_id, &e.kind, mail::Outcome::Expired)?;
    }
    Ok(())
}

/// Generate User ID for every new profile of `change` that has none, inside the write
/// transaction, so parallel makers never pick the same ID. IDs in use, retired, or reserved by
/// a pending request are skipped, as are the IDs the change names itself.
fn generate_ids(w: &Work<'_>, p: &Participant, change: &mut Change) -> anyhow::Result<()> {
    let named: HashSet<String> = change.subject_ids().into_iter().map(UserId::to_string).collect();
    let mut slots = change.ungenerated();
    if slots.is_empty() {
        return Ok(());
    }
    let mut taken = users::ids_of_participant(&w.tx, &p.key)?;
    taken.extend(requests::pending_new_ids(&w.tx, &p.key)?);
    taken.extend(named);
    let mut free = user_id::business_user_id_candidates(&p.key.id, p.house()).filter(|id| !taken.contains(id.as_str()));
    for slot in slots.iter_mut() {
        **slot = Some(free.next().ok_or_else(|| {
            conflict(format!(
                "participant {} has no free business-user IDs left ({} in its ID space)",
                p.key,
                user_id::business_user_capacity(p.house())
            ))
        })?);
    }
    Ok(())
}

/// Check a change as submission would (for `--dry-run`): the maker rule, generated IDs and
/// every rule of the plan. Nothing is written. Returns the change with its IDs.
pub fn check(w: &mut Work<'_>, maker: &Actor, mut change: Change) -> anyhow::Result<DryRun> {
    let p = maker_participant(w, &maker.account)?;
    generate_ids(w, &p, &mut change)?;
    let unchanged = drop_unchanged(w, &p, &mut change)?;
    let planned = plan(w, &p, &change, None)?;
    let shown = shown_of(w, &planned.writes)?;
    let quota = participants::counts(&w.tx, &p.key)?;
    Ok(DryRun { warnings: warnings(w, &p, &change)?, change, participant: p, quota, shown, unchanged })
}

/// What a dry run found: the change with its IDs, and where the participant's quota stands.
pub struct DryRun {
    pub change: Change,
    pub participant: Participant,
    pub quota: participants::Counts,
    pub warnings: Vec<String>,
    /// What submitting and approving it would do to each subject.
    pub shown: Vec<Shown>,
    /// Rows that would change nothing (not queued).
    pub unchanged: usize,
}

/// Submit a request as the signed-in maker; with `inline`, authorise and apply it at once.
pub fn submit(
    w: &mut Work<'_>,
    maker: &Actor,
    mut change: Change,
    inline: Option<&AuthorisationCode>,
) -> anyhow::Result<Submitted> {
    expire_due(w)?;
    let p = maker_participant(w, &maker.account)?;
    generate_ids(w, &p, &mut change)?;
    let unchanged = drop_unchanged(w, &p, &mut change)?;
    let planned = plan(w, &p, &change, None)?;
    let shown = shown_of(w, &planned.writes)?;
    let warnings = warnings(w, &p, &change)?;
    let subjects = planned.subjects;
    let p_for_warnings = p.clone();
    let mut checker = match inline {
        Some(code) => {
            let mut c = users::account(&w.tx, code.checker())?
                .ok_or_else(|| auth(format!("unknown checker ID {}", code.checker())))?;
            let subject_ids = change.subject_ids();
            checker_may_authorise(w, &mut c, code, maker.account.id(), &p.key, &subject_ids)?;
            Some(c)
        }
        None => None,
    };
    savepoint(w, "submit")?;
    let expires = w.now + Duration::hours(expiry_hours(w)?);
    let id = requests::insert(
        &w.tx,
        &NewRequest {
            participant: &p.key,
            change: &change,
            maker: maker.account.id(),
            created_at: w.now,
            expires_at: expires,
            subjects: &subjects,
        },
    )?;
    let subject_ids = change.subject_ids();
    w.audit(&audit::Event {
        actor: Some(maker.account.id().as_str()),
        action: "request.submitted",
        subject: subject_ids.first().map(|s| s.as_str()).filter(|_| subject_ids.len() == 1),
        participant_id: Some(p.id()),
        detail: json!({ "request_id": id, "kind": change.kind(), "subjects": subject_ids.len(), "summary": change.summary() })
            .to_string(),
    })?;
    let status = match (inline, checker.as_mut()) {
        (Some(code), Some(c)) => {
            let item = Item {
                id,
                participant: p,
                maker: maker.account.id().clone(),
                change: change.clone(),
                recorded: subjects,
            };
            // Planned above in this transaction; since then only the request and its audit
            // row were written, which no rule reads for the request itself.
            let ready = Plan { writes: planned.writes, subjects: Vec::new() };
            authorise(w, c, code, std::slice::from_ref(&item), "submit", true, Some(ready))?;
            RequestStatus::Approved
        }
        _ => {
            release(w, "submit")?;
            tell_checkers(w, &p.key, id, change.kind(), &subject_ids)?;
            RequestStatus::Pending
        }
    };
    Ok(Submitted { request_id: id, status, change, warnings, shown, participant: p_for_warnings, unchanged })
}

/// A bulk e-mail registration holds only the rows that change something (SPEC §4): a row whose
/// address is already the user's is dropped and counted. A file of nothing but such rows
/// changes nothing and is refused.
fn drop_unchanged(w: &Work<'_>, p: &Participant, change: &mut Change) -> anyhow::Result<usize> {
    let Change::ImportEmails { rows } = change else { return Ok(0) };
    let now: HashMap<String, String> = users::emails_of_participant(&w.tx, &p.key)?.into_iter().collect();
    let before = rows.len();
    rows.retain(|r| now.get(r.user_id.as_str()) != Some(&r.email));
    let unchanged = before - rows.len();
    if rows.is_empty() {
        return Err(invalid(format!(
            "nothing to change: every one of the {before} row(s) has the address its user already has"
        ))
        .into());
    }
    Ok(unchanged)
}

/// `request approve N [N...]`: one authorisation for the batch, by the signed-in checker.
pub fn approve(
    w: &mut Work<'_>,
    checker: &mut Actor,
    ids: &[i64],
    code: &AuthorisationCode,
) -> anyhow::Result<Vec<i64>> {
    expire_due(w)?;
    if code.checker() != checker.account.id() {
        return Err(auth("the authorisation code must be the signed-in checker's own").into());
    }
    let items = approvable(w, &checker.account, ids)?;
    signin::gate(w, &checker.account, Act::Authorise(code.method()), "authorisation")?;
    savepoint(w, "approve")?;
    authorise(w, &mut checker.account, code, &items, "approve", false, None)?;
    Ok(ids.to_vec())
}

/// Can `checker` authorise these requests now, as far as can be told before its code is typed?
/// Each is visible to it and pending — every stale one named, with the subjects that changed —
/// and the checker rules hold. The approval flow asks this before any confirmation or secret;
/// `approve` asks it again inside its transaction.
fn approvable(w: &mut Work<'_>, checker: &Account, ids: &[i64]) -> anyhow::Result<Vec<Item>> {
    let mut seen = HashSet::new();
    if let Some(dup) = ids.iter().find(|id| !seen.insert(**id)) {
        return Err(invalid(format!("request {dup} is named twice")).into());
    }
    let mut items = Vec::with_capacity(ids.len());
    let mut stale = Vec::new();
    for &id in ids {
        let r = visible(w, checker, id)?;
        if r.status == RequestStatus::Stale {
            stale.push(stale_text(w, id)?);
            continue;
        }
        pending(&r)?;
        let change = r.change()?;
        let recorded = requests::subjects(&w.tx, id)?;
        items.push(Item { id, participant: participant(w, &r.participant)?, maker: r.maker, change, recorded });
    }
    if !stale.is_empty() {
        return Err(conflict(format!("{}; its maker can `dms request resubmit` it", stale.join("; "))).into());
    }
    for it in &items {
        let subject_ids = it.change.subject_ids();
        mc::check_checker(&party(checker), &it.maker, &it.participant.key, &subject_ids)
            .map_err(|r| about(it.id, refused(r)))?;
    }
    Ok(items)
}

/// The approval flow's first look (a read): `Err` says why the checker need type nothing.
pub fn check_approvable(w: &mut Work<'_>, checker: &Account, ids: &[i64]) -> anyhow::Result<()> {
    approvable(w, checker, ids).map(|_| ())
}

/// "request 11 is stale: user B0999905 has changed since it was made" (the first few named).
fn stale_text(w: &Work<'_>, id: i64) -> anyhow::Result<String> {
    const SHOWN: usize = 5;
    let changed = requests::changed_subjects(&w.tx, id)?;
    let names: Vec<String> = changed.iter().take(SHOWN).map(ToString::to_string).collect();
    let more = changed.len().saturating_sub(SHOWN);
    let who = match (names.len(), more) {
        (1, _) => format!("user {}", names[0]),
        (_, 0) => format!("users {}", names.join(", ")),
        _ => format!("users {} and {more} more", names.join(", ")),
    };
    let verb = if changed.len() == 1 { "has" } else { "have" };
    Ok(format!("request {id} is stale: {who} {verb} changed since it was made"))
}

/// The checker rules for an inline checker, then its gate, before anything is written.
fn checker_may_authorise(
    w: &mut Work<'_>,
    checker: &mut Account,
    code: &AuthorisationCode,
    maker: &UserId,
    p: &ParticipantKey,
    subjects: &[&UserId],
) -> anyhow::Result<()> {
    mc::check_checker(&party(checker), maker, p, subjects).map_err(refused)?;
    signin::gate(w, checker, Act::Authorise(code.method()), "authorisation")
}

/// The shared core: inside savepoint `sp` (already open), apply each request in order against
/// the state the ones before it left, then check the authorisation code. On any refusal the
/// savepoint is rolled back; a wrong code is then recorded against the checker. On success the
/// requests are decided APPROVED with their audit rows. `ready` is the plan of an inline
/// request made at its submission in this same transaction, so it is not made twice.
fn authorise(
    w: &mut Work<'_>,
    checker: &mut Account,
    code: &AuthorisationCode,
    items: &[Item],
    sp: &str,
    inline: bool,
    mut ready: Option<Plan>,
) -> anyhow::Result<()> {
    let mut outcome = || -> anyhow::Result<Result<Option<u64>, WrongCode>> {
        for it in items {
            let maker = users::account(&w.tx, &it.maker)?
                .ok_or_else(|| about(it.id, conflict(format!("its maker {} no longer exists", it.maker)).into()))?;
            mc::check_maker(&party(&maker), &it.participant.key).map_err(|r| about(it.id, refused(r)))?;
            let plan = match ready.take() {
                Some(ready) => ready,
                None => plan(w, &it.participant, &it.change, Some(&it.recorded)).map_err(|e| about(it.id, e))?,
            };
            apply(w, &it.participant, plan, it.id, checker.id())?;
        }
        check_code(w, checker, code)
    };
    let outcome = outcome();
    match outcome {
        Ok(Ok(step)) => {
            release(w, sp)?;
            checker.cred.accept_authorisation(step);
            users::save_credential(&w.tx, checker.id(), &checker.cred)?;
            for it in items {
                if !requests::decide(&w.tx, it.id, RequestStatus::Approved, Some(checker.id()), w.now, None)? {
                    return Err(decided_elsewhere(it.id));
                }
                let mut detail = json!({ "request_id": it.id });
                if inline {
                    detail["inline"] = json!(true);
                }
                w.audit(&audit::Event {
                    actor: Some(checker.id().as_str()),
                    action: "request.approved",
                    participant_id: Some(it.participant.id()),
                    detail: detail.to_string(),
                    ..Default::default()
                })?;
                // An inline maker saw it approved at its own terminal.
                if !inline {
                    tell_maker(w, &it.maker, it.id, it.change.kind(), mail::Outcome::Approved)?;
                }
            }
            Ok(())
        }
        Ok(Err((factor, says))) => {
            rollback_to(w, sp)?;
            Err(signin::fail_saying(w, checker, factor, "authorisation", says)?)
        }
        Err(e) => {
            rollback_to(w, sp)?;
            Err(e)
        }
    }
}

/// A request decided by another checker between reading it and deciding it.
fn decided_elsewhere(id: i64) -> anyhow::Error {
    conflict(format!("request {id} was decided by someone else")).into()
}

/// What was wrong with an authorisation code, and what the checker is told.
type WrongCode = (Factor, &'static str);

/// Check the authorisation code at this moment, without recording a failure (the caller
/// does, once the batch is rolled back). Ok(Err(..)) names what was wrong.
fn check_code(
    w: &mut Work<'_>,
    checker: &Account,
    code: &AuthorisationCode,
) -> anyhow::Result<Result<Option<u64>, WrongCode>> {
    let wrong = || (Factor::AuthorisationCode, Factor::AuthorisationCode.wrong());
    match code {
        AuthorisationCode::TwoFactor { password, otp } => {
            if !password.current(checker) {
                return Err(conflict("the checker's password changed while authorising: try again").into());
            }
            if !password.ok {
                return Ok(Err(wrong()));
            }
            let channel = signin::channel(checker)?;
            signin::check_code_shape(otp, channel)?;
            Ok(signin::check_otp(w, checker, channel, otp)?.map_err(|miss| (Factor::Otp, miss.says())))
        }
        AuthorisationCode::Smartcard { pin } => {
            if !pin.current(checker) {
                return Err(conflict("the checker's smartcard PIN changed while authorising: try again").into());
            }
            Ok(if pin.ok { Ok(None) } else { Err(wrong()) })
        }
    }
}

/// A request visible to `who`: its participant's DAs (the exchange and auditors see all).
fn visible(w: &Work<'_>, who: &Account, id: i64) -> anyhow::Result<RequestRow> {
    let r = requests::get(&w.tx, id, w.now)?.ok_or_else(|| invalid(format!("no request {id}")))?;
    if who.participant().is_some_and(|p| *p != r.participant) {
        return Err(not_permitted(format!("request {id} belongs to another participant")).into());
    }
    Ok(r)
}

fn pending(r: &RequestRow) -> anyhow::Result<()> {
    match r.status {
        RequestStatus::Pending => Ok(()),
        s => Err(conflict(format!("request {} is already {s}", r.request_id)).into()),
    }
}

/// A request as a reader sees it, for `request show`.
pub fn view(w: &mut Work<'_>, who: &Account, id: i64) -> anyhow::Result<View> {
    let r = visible(w, who, id)?;
    let change = r.change()?;
    let subjects = requests::subjects(&w.tx, id)?;
    // What it would do now, if it is still pending and can still be applied; otherwise why not.
    let p = participant(w, &r.participant)?;
    let shown = match r.status {
        RequestStatus::Pending => match plan(w, &p, &change, Some(&subjects)) {
            Ok(planned) => Ok(shown_of(w, &planned.writes)?),
            Err(e) => Err(crate::error::classify(&e).1),
        },
        RequestStatus::Stale => Err(format!("{}; its maker can `dms request resubmit {id}` it", stale_text(w, id)?)),
        s => Err(format!("request {id} is {s}")),
    };
    let decided = match (r.status, r.decided_at) {
        (RequestStatus::Approved, Some(at)) => Some(decided(w, id, at)?),
        _ => None,
    };
    Ok(View { row: r, change, subjects, shown, participant: p, decided })
}

/// What an approved request did, from the audit rows its approval wrote (SPEC §4: "who changed
/// what, from what, to what, approved by whom"): per subject and field, the value it replaced
/// and the value it set; and whether it was authorised inline.
fn decided(w: &Work<'_>, id: i64, at: DateTime<Utc>) -> anyhow::Result<Decided> {
    let mut out = Decided::default();
    for row in audit::of_request(&w.tx, at, id)? {
        let detail: serde_json::Value = serde_json::from_str(&row.detail).unwrap_or_default();
        if row.action == "request.approved" {
            out.inline = detail["inline"].as_bool().unwrap_or(false);
            continue;
        }
        // The writes' rows carry the change; the request's own (submitted, notices) do not.
        let (Some(user_id), Some(_)) = (row.subject, detail.get("change")) else { continue };
        let action = match row.action.as_str() {
            "user.created" => "create",
            "user.deleted" => "delete",
            "user.unlocked-reset" => "unlock-reset",
            "smartcard.pin.reset" => "smartcard-reset",
            _ => "change",
        };
        let fields = detail["change"].as_object().cloned().unwrap_or_default();
        // A row that changed no field (an unlock, a reset; an older row's short detail) is
        // one line that says what was done.
        let profile_fields: Vec<_> = fields.iter().filter(|(_, v)| v.is_object() || v.is_array()).collect();
        if profile_fields.is_empty() {
            out.rows.push(DiffRow {
                user_id,
                action: action.into(),
                key: String::new(),
                current: json!(null),
                proposed: json!(null),
            });
            continue;
        }
        for (key, v) in profile_fields {
            let (before, after) = change::before_after(v);
            out.rows.push(DiffRow {
                user_id: user_id.clone(),
                action: action.into(),
                key: key.clone(),
                current: before,
                proposed: after,
            });
        }
    }
    Ok(out)
}

/// What an approved request did (`current`: the value it replaced, `proposed`: the value it set).
#[derive(Debug, Clone, Default)]
pub struct Decided {
    pub inline: bool,
    pub rows: Vec<DiffRow>,
}

/// A request as a reader sees it.
pub struct View {
    pub row: RequestRow,
    pub change: Change,
    pub subjects: Vec<Subject>,
    /// What approving it now would do to each subject, or why it cannot be applied now (a
    /// stale or decided request).
    pub shown: Result<Vec<Shown>, String>,
    pub participant: Participant,
    /// An approved request: what it did.
    pub decided: Option<Decided>,
}

/// The current profile of a subject (for showing a change beside what it replaces).
pub fn current(w: &Work<'_>, id: &UserId) -> anyhow::Result<Option<UserProfile>> {
    users::get(&w.tx, id)
}

/// How a decision other than approval ends a request.
#[derive(Debug, Clone)]
pub enum Decision {
    /// The checker rejects it, with a reason.
    Reject(String),
    /// Its maker withdraws it.
    Cancel,
}

/// `request resubmit N`: a stale request of `maker`'s, planned again against today's profiles
/// as a new pending request (rows that now change nothing dropped and counted), the old one
/// cancelled, in one transaction. A request that is not stale can be approved as it is.
pub fn resubmit(w: &mut Work<'_>, maker: &Actor, id: i64) -> anyhow::Result<Submitted> {
    expire_due(w)?;
    let r = visible(w, &maker.account, id)?;
    if r.maker != *maker.account.id() {
        return Err(not_permitted(format!("only its maker {} can resubmit request {id}", r.maker)).into());
    }
    match r.status {
        RequestStatus::Stale => {}
        RequestStatus::Pending => {
            return Err(conflict(format!("request {id} is not stale: it can be approved as it is")).into())
        }
        s => return Err(conflict(format!("request {id} is already {s}")).into()),
    }
    let change = r.change()?;
    let s = submit(w, maker, change, None)?;
    if !requests::decide(
        &w.tx,
        id,
        RequestStatus::Cancelled,
        None,
        w.now,
        Some(&format!("resubmitted as request {}", s.request_id)),
    )? {
        return Err(decided_elsewhere(id));
    }
    w.audit(&audit::Event {
        actor: Some(maker.account.id().as_str()),
        action: "request.resubmitted",
        participant_id: Some(r.participant.id()),
        detail: json!({ "request_id": id, "new_request_id": s.request_id, "unchanged": s.unchanged }).to_string(),
        ..Default::default()
    })?;
    Ok(s)
}

/// Reject (checker) or cancel (its maker) a pending request.
pub fn decide(w: &mut Work<'_>, who: &Actor, id: i64, d: Decision) -> anyhow::Result<RequestStatus> {
    expire_due(w)?;
    let me = who.account.id();
    let r = visible(w, &who.account, id)?;
    // A stale request is still open: its maker may cancel it, a checker reject it.
    if r.status != RequestStatus::Stale {
        pending(&r)?;
    }
    let (status, checker, reason, action) = match &d {
        Decision::Cancel => {
            if r.maker != *me {
                return Err(not_permitted(format!("only its maker {} can cancel request {id}", r.maker)).into());
            }
            (RequestStatus::Cancelled, None, None, "request.cancelled")
        }
        Decision::Reject(reason) => {
            // The same rules as approval: a decision is a checker's of that participant, never
            // the maker's and never about the checker.
            let subjects = requests::subjects(&w.tx, id)?;
            let subject_ids: Vec<&UserId> = subjects.iter().map(|s| &s.user_id).collect();
            mc::check_checker(&party(&who.account), &r.maker, &r.participant, &subject_ids).map_err(refused)?;
            (RequestStatus::Rejected, Some(me), Some(reason.as_str()), "request.rejected")
        }
    };
    if !requests::decide(&w.tx, id, status, checker, w.now, reason)? {
        return Err(decided_elsewhere(id));
    }
    w.audit(&audit::Event {
        actor: Some(me.as_str()),
        action,
        participant_id: Some(r.participant.id()),
        detail: json!({ "request_id": id, "reason": reason }).to_string(),
        ..Default::default()
    })?;
    if let Decision::Reject(reason) = &d {
        tell_maker(w, &r.maker, id, &r.kind, mail::Outcome::Rejected(reason.clone()))?;
    }
    Ok(status)
}

// ------------------------------------------------------------------------------------------
// Notices (SPEC §4 "Notifications"), each sent from one place: a queued request to the
// checkers who may decide it, its end to its maker. The number and kind of the request only:
// no user ID, no link, nothing of the change. The setting `notifications off` stops them.

/// A participant's DAs (any status) as the DA minimum counts them.
pub fn da_days(c: &rusqlite::Connection, p: &ParticipantKey) -> anyhow::Result<Vec<(UserId, DaDays)>> {
    Ok(users::das(c, p)?.into_iter().filter_map(|a| DaDays::of(&a.profile).map(|d| (a.profile.user_id, d))).collect())
}

/// The DAs able to act today, and whether they meet today's minimum.
pub fn da_counts_today(
    c: &rusqlite::Connection,
    p: &ParticipantKey,
    now: DateTime<Utc>,
) -> anyhow::Result<(DaCounts, bool)> {
    let (today, t) = (signin::hkt(now).date_naive(), settings::timeline(c)?);
    let das: Vec<DaDays> = da_days(c, p)?.into_iter().map(|(_, d)| d).collect();
    let counts = mc::counts_on(&das, today, &t);
    Ok((counts, counts.meet(today, &t)))
}

/// Check the DA minimum on every day ahead, for a change that turns each DA named in
/// `changed` into its new state (None: it is gone).
pub fn check_da_minimum(
    w: &Work<'_>,
    p: &ParticipantKey,
    changed: &HashMap<UserId, Option<DaDays>>,
) -> anyhow::Result<()> {
    let all = da_days(&w.tx, p)?;
    let before: Vec<DaDays> = all.iter().map(|(_, d)| *d).collect();
    let mut after: Vec<DaDays> = all.iter().filter(|(id, _)| !changed.contains_key(id)).map(|(_, d)| *d).collect();
    after.extend(changed.values().flatten().copied());
    let today = signin::hkt(w.now).date_naive();
    mc::check_da_minimum(&before, &after, today, &settings::timeline(&w.tx)?).map_err(refused)
}

fn notices_on(w: &Work<'_>) -> anyhow::Result<bool> {
    Ok(crate::storage::settings::get_or_default(&w.tx, "notifications")? == "on")
}

/// A request now waits: the participant's enabled DA checkers with an address are told,
/// except its subjects (they may not decide it), each address once.
fn tell_checkers(
    w: &mut Work<'_>,
    p: &ParticipantKey,
    id: i64,
    kind: &str,
    subjects: &[&UserId],
) -> anyhow::Result<()> {
    if !notices_on(w)? {
        return Ok(());
    }
    let mut told = HashSet::new();
    let (today, t) = (signin::hkt(w.now).date_naive(), settings::timeline(&w.tx)?);
    for a in users::das(&w.tx, p)? {
        // Only a checker who could decide it: not locked, and able to act today (enabled,
        // within its dates, not a gateway DA past decommissioning).
        let able = !a.cred.locked() && DaDays::of(&a.profile).is_some_and(|d| d.counts_on(today, &t));
        if a.role() != Role::Checker || !able || subjects.contains(&a.id()) {
            continue;
        }
        let Some(email) = &a.profile.email else { continue };
        if told.insert(email.to_lowercase()) {
            w.notify(mail::request_waiting(email, id, kind));
        }
    }
    Ok(())
}

/// A request ended (approved by a checker elsewhere, rejected, expired): its maker is told.
fn tell_maker(w: &mut Work<'_>, maker: &UserId, id: i64, kind: &str, outcome: mail::Outcome) -> anyhow::Result<()> {
    if !notices_on(w)? {
        return Ok(());
    }
    if let Some(email) = users::get(&w.tx, maker)?.and_then(|m| m.email) {
        w.notify(mail::request_decided(&email, id, kind, &outcome));
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Plans: every rule about a request's subjects, checked against the database as it is now.

/// One write a change makes.
enum Write {
    Create(UserProfile),
    Update {
        before: Box<UserProfile>,
        after: Box<UserProfile>,
        action: &'static str,
    },
    Delete(UserProfile),
    /// Unlock/Reset OTP Device Registration.
    Reset(UserProfile),
    /// Smartcard Password Reset.
    PinReset(UserProfile),
}

struct Plan {
    writes: Vec<Write>,
    subjects: Vec<Subject>,
}

/// Check `change` against the current state and say what applying it writes. `recorded` are
/// the subject versions seen at submission (None while submitting). Every rule that can fail
/// at approval is here, so submission checks it too.
fn plan(w: &mut Work<'_>, p: &Participant, change: &Change, recorded: Option<&[Subject]>) -> anyhow::Result<Plan> {
    if let Change::AssignGroups { .. } = change {
        // Seed 5.1: DAs get business user groups only once smartcards are decommissioned.
        let today = signin::hkt(w.now).date_naive();
        let timeline = w.policy()?.timeline;
        if !timeline.decommissioned(today) {
            return Err(not_permitted(format!(
                "DAs can be assigned business user groups only after smartcard decommissioning ({})",
                timeline.decommission
            ))
            .into());
        }
    }
    if change.creates() {
        // Seed 4.2.1: before the launch users are created by HKEX.
        let today = signin::hkt(w.now).date_naive();
        mc::check_da_may_create(&w.policy()?.timeline, today).map_err(not_permitted)?;
    }
    let mut planner = Planner {
        w,
        p,
        recorded: recorded.map(|r| r.iter().map(|s| (s.user_id.clone(), s.version)).collect()),
        reserved: HashSet::new(),
        seen: HashSet::new(),
        read_ahead: HashMap::new(),
        plan: Plan { writes: Vec::new(), subjects: Vec::new() },
        das_changed: HashMap::new(),
    };
    if recorded.is_none() && change.creates() {
        planner.reserved = requests::pending_new_ids(&planner.w.tx, &p.key)?;
    }
    match change {
        Change::CreateUser { profile } => planner.create(profile)?,
        // Every row of a bulk request is checked, and all of its faults reported at once.
        Change::ImportUsers { profiles } => {
            let mut faults = Faults::default();
            for np in profiles {
                faults.check(planner.create(np))?;
            }
            faults.finish("the file's rows")?;
        }
        Change::ChangeUser { user_id, changes } => {
            let before = planner.existing(user_id)?;
            if before.role.is_da() && (changes.email.is_some() || changes.status.is_some()) {
                return Err(da3_identity(user_id).into());
            }
            let after = changes.apply_to(&before)?;
            planner.update(before, after, "user.changed")?;
        }
        Change::DeleteUser { user_id } => {
            let before = planner.existing(user_id)?;
            if before.role.is_da() {
                return Err(da3_only(user_id).into());
            }
            planner.plan.writes.push(Write::Delete(before));
        }
        Change::UnlockUser { user_id } => {
            let before = planner.existing(user_id)?;
            if before.role.is_da() {
                return Err(da3_only(user_id).into());
            }
            planner.plan.writes.push(Write::Reset(before));
        }
        Change::ResetSmartcardPin { user_id } => {
            let before = planner.existing(user_id)?;
            // Checked at submission as at approval (one path): who, the card, the timeline.
            let (t, today) = (planner.w.policy()?.timeline, signin::hkt(planner.w.now).date_naive());
            crate::domain::smartcard::may_reset(&before, crate::domain::smartcard::ResetBy::Das, &t, today)
                .map_err(DmsError::from)?;
            planner.plan.writes.push(Write::PinReset(before));
        }
        Change::AssignGroups { user_id, groups } => {
            let before = planner.existing(user_id)?;
            if !before.role.is_da() {
                return Err(
                    invalid(format!("{user_id} is not a Delegated Administrator (da assign is for DAs)")).into()
                );
            }
            let after = UserProfile { groups: groups.clone(), ..before.clone() };
            planner.update(before, after, "da.groups.assigned")?;
        }
        Change::ImportEmails { rows } => {
            planner.read_ahead = users::get_many(&planner.w.tx, rows.iter().map(|r| &r.user_id))?;
            let mut faults = Faults::default();
            for r in rows {
                faults.check((|| {
                    let before = planner.existing(&r.user_id)?;
                    if before.role.is_da() {
                        return Err(da3_identity(&r.user_id).into());
                    }
                    let after = UserProfile { email: Some(r.email.clone()), ..before.clone() };
                    planner.update(before, after, "user.changed")
                })())?;
            }
            faults.finish("the file's rows")?;
        }
    }
    let Planner { w, das_changed, plan, .. } = planner;
    if !das_changed.is_empty() {
        check_da_minimum(w, &p.key, &das_changed)?;
    }
    let creates = plan.writes.iter().filter(|x| matches!(x, Write::Create(_))).count() as i64;
    if creates > 0 {
        let counts = participants::counts(&w.tx, &p.key)?;
        mc::check_quota(p.max_users, counts.total, creates).map_err(refused)?;
    }
    Ok(plan)
}

/// A DA's identity belongs to the exchange (seed 3.1, 4.1.1; SPEC §4): otherwise a maker could
/// point a new checker's e-mail at itself, do its first-time logon, and authorise its own
/// requests.
fn da3_identity(id: &UserId) -> DmsError {
    not_permitted(format!(
        "{id} is a Delegated Administrator: a DA's e-mail address and User Status change only through eService DA3 (the exchange); DMS maintains its other fields"
    ))
}

fn da3_only(id: &UserId) -> DmsError {
    not_permitted(format!(
        "{id} is a Delegated Administrator: DAs are deleted, unlocked and reset by the exchange through eService DA3"
    ))
}

struct Planner<'w, 'a, 'p> {
    w: &'w mut Work<'a>,
    p: &'p Participant,
    recorded: Option<HashMap<UserId, Option<i64>>>,
    reserved: HashSet<String>,
    seen: HashSet<UserId>,
    /// Subjects' profiles read ahead in one statement (a bulk request's rows).
    read_ahead: HashMap<UserId, UserProfile>,
    plan: Plan,
    /// DAs whose role, status, dates or channel the change sets: the DA minimum is checked on
    /// every day ahead with them.
    das_changed: HashMap<UserId, Option<DaDays>>,
}

impl Planner<'_, '_, '_> {
    fn once(&mut self, id: &UserId) -> anyhow::Result<()> {
        if !self.seen.insert(id.clone()) {
            return Err(invalid(format!("user {id} appears twice in the request")).into());
        }
        Ok(())
    }

    fn create(&mut self, np: &change::NewProfile) -> anyhow::Result<()> {
        let id = np.user_id.clone().ok_or_else(|| anyhow::anyhow!("a new profile without its user ID"))?;
        self.once(&id)?;
        user_id::check_business_user_id(&id, &self.p.key.id, self.p.house())?;
        crate::ops::exchange::check_beside_other_house(&self.w.tx, &id, &self.p.key)?;
        if users::id_taken(&self.w.tx, &id)? {
            return Err(
                conflict(format!("user ID {id} is taken (user IDs are never reused, even after deletion)")).into()
            );
        }
        if self.reserved.contains(id.as_str()) {
            return Err(conflict(format!("user ID {id} is already proposed by another pending request")).into());
        }
        self.plan.subjects.push(Subject { user_id: id.clone(), version: None });
        self.plan.writes.push(Write::Create(np.to_profile(id, &self.p.key, self.w.now)));
        Ok(())
    }

    /// A subject that must exist, belong to the participant and (at approval) be unchanged
    /// since submission.
    fn existing(&mut self, id: &UserId) -> anyhow::Result<UserProfile> {
        self.once(id)?;
        let found = match self.read_ahead.remove(id) {
            Some(p) => Some(p),
            None => users::get(&self.w.tx, id)?,
        };
        let Some(p) = found else {
            return Err(match self.recorded {
                Some(_) => conflict(format!("stale request: user {id} no longer exists; resubmit")),
                None => invalid(format!("no user {id}")),
            }
            .into());
        };
        if p.participant.as_ref() != Some(&self.p.key) {
            return Err(not_permitted(format!("user {id} is not a user of participant {}", self.p.key)).into());
        }
        if let Some(rec) = &self.recorded {
            if rec.get(id).copied().flatten() != Some(p.version) {
                return Err(conflict(format!(
                    "stale request: user {id} has changed since the request was made; resubmit it"
                ))
                .into());
            }
        }
        self.plan.subjects.push(Subject { user_id: id.clone(), version: Some(p.version) });
        Ok(p)
    }

    fn update(&mut self, before: UserProfile, after: UserProfile, action: &'static str) -> anyhow::Result<()> {
        // A DA's dates and channel (DMS maintains them; its status is DA3's) can take the
        // participant below the minimum on some day ahead as surely as disabling it.
        let (was, will) = (DaDays::of(&before), DaDays::of(&after));
        if was.is_some() && was != will {
            self.das_changed.insert(before.user_id.clone(), will);
        }
        self.plan.writes.push(Write::Update { before: Box::new(before), after: Box::new(after), action });
        Ok(())
    }
}

/// Write a plan, with an audit row per subject, in the caller's transaction.
fn apply(w: &mut Work<'_>, p: &Participant, plan: Plan, request_id: i64, checker: &UserId) -> anyhow::Result<()> {
    let bulk = plan.writes.len() > 1;
    let ev = |w: &Work<'_>, action: &str, subject: &UserId, detail: serde_json::Value| {
        let mut d = json!({ "request_id": request_id, "change": detail });
        if bulk {
            d["bulk"] = json!(true);
        }
        w.audit(&audit::Event {
            actor: Some(checker.as_str()),
            action,
            subject: Some(subject.as_str()),
            participant_id: Some(p.id()),
            detail: d.to_string(),
        })
    };
    for write in plan.writes {
        match write {
            Write::Create(profile) => {
                users::insert(&w.tx, &profile)?;
                // The whole profile as created (it holds no secret).
                ev(w, "user.created", &profile.user_id, change::diff(None, Some(&profile)))?;
            }
            Write::Update { before, after, action } => {
                users::update_profile(&w.tx, &after)?;
                let today = signin::hkt(w.now).date_naive();
                if before.active_on(today) && !after.active_on(today) {
                    sessions::end_all_for_user(&w.tx, &after.user_id, None, w.now, "disabled")?;
                }
                if before.email != after.email {
                    email_changed(w, before.email.as_deref(), after.email.as_deref());
                }
                ev(w, action, &after.user_id, change::diff(Some(&before), Some(&after)))?;
            }
            Write::Delete(profile) => {
                users::delete(&w.tx, &profile, w.now)?;
                ev(w, "user.deleted", &profile.user_id, change::diff(Some(&profile), None))?;
            }
            Write::Reset(profile) => {
                let mut a = users::account(&w.tx, &profile.user_id)?
                    .ok_or_else(|| conflict(format!("user {} no longer exists", profile.user_id)))?;
                credentials::reset(w, &mut a, "OTP device registration reset")?;
                ev(w, "user.unlocked-reset", &profile.user_id, json!({ "next_logon": "first-time" }))?;
                if let Some(e) = &profile.email {
                    w.notify(mail::notification(
                        e,
                        "Account unlocked and OTP device registration reset",
                        "Your CCASS/CCMS account was unlocked and its password and OTP device registration were reset. \
                         Your next logon is a first-time logon: set a password (Forgot/Reset) and set up the OTP channel again.",
                    ));
                }
            }
            Write::PinReset(profile) => {
                let (_, detail) =
                    crate::ops::smartcard::reset(w, &profile.user_id, crate::domain::smartcard::ResetBy::Das)?;
                ev(w, "smartcard.pin.reset", &profile.user_id, detail)?;
            }
        }
    }
    Ok(())
}

/// Every change of an address is told to the old address as well as the new one (SPEC §4):
/// no user ID, no link, no secret.
fn email_changed(w: &mut Work<'_>, old: Option<&str>, new: Option<&str>) {
    if let Some(old) = old {
        w.notify(mail::notification(
            old,
            "Registered e-mail address changed",
            "The e-mail address registered for your CCASS/CCMS account was changed to another address by your firm's Delegated Administrators. One-time passwords and notices now go there.",
        ));
    }
    if let Some(new) = new {
        w.notify(mail::notification(
            new,
            "E-mail address registered",
            "This address is now registered for a CCASS/CCMS account by your firm's Delegated Administrators: one-time passwords and notices for it will come here.",
        ));
    }
}

fn expiry_hours(w: &Work<'_>) -> anyhow::Result<i64> {
    let v = crate::storage::settings::get_or_default(&w.tx, "request-expiry-hours")?;
    v.parse().map_err(|_| anyhow::anyhow!("setting request-expiry-hours {v:?} is not a number"))
}

fn savepoint(w: &Work<'_>, name: &str) -> anyhow::Result<()> {
    crate::storage::savepoint(&w.tx, name)
}

fn release(w: &Work<'_>, name: &str) -> anyhow::Result<()> {
    crate::storage::release(&w.tx, name)
}

fn rollback_to(w: &Work<'_>, name: &str) -> anyhow::Result<()> {
    crate::storage::rollback_to(&w.tx, name)
}
