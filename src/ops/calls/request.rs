//! Maker-checker requests: `request list|show|approve|reject|cancel`. `show` gives the request
//! and what approving it now would do to each profile — the seed's screens (field, current,
//! proposed, in HKD) for a few profiles, a field-by-field table a page at a time for a bulk
//! request, every row in CSV, all of it in JSON. `approve` is a flow: on a terminal the
//! checker sees what it authorises and confirms, then types the authorisation code (its
//! password and a fresh OTP, or its smartcard PIN), the OTP asked again if it was wrong.

use crate::api::{time, DiffRow, Format, ListEnd, ListHead, Part, RequestQuery};
use crate::domain::change::{Change, RequestStatus};
use crate::domain::flow::{Slot, Step};
use crate::domain::role::Role;
use crate::domain::user_id::UserId;
use crate::error::{classify, invalid, not_permitted, usage, Kind};
use crate::ops::calls::auth::pin_shape;
use crate::ops::calls::{screen, ANYONE, READERS};
use crate::ops::flow::{Flow, Given, Progress, TRIES};
use crate::ops::maker_checker::{self, AuthorisationCode, Decision, Shown, View};
use crate::ops::service::Exec;
use crate::ops::signin::{Checked, Secret};
use crate::ops::views;
use crate::ops::work::Mode;
use crate::storage::participants::Participant;
use crate::storage::requests::{self, RequestFilter, RequestRow};
use serde_json::{json, Value};

/// Profiles shown as whole screens (here and when a request is submitted); a request with
/// more is shown as a field table.
pub const SCREENS: usize = 3;
/// Profiles per page of the field table.
pub const PAGE: usize = 50;

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

/// A request as a row of [`REQUEST_COLUMNS`].
pub fn row(r: &RequestRow) -> Vec<Value> {
    let summary = serde_json::from_str::<Change>(&r.payload).map(|c| c.summary()).unwrap_or_default();
    vec![
        json!(r.request_id),
        json!(r.participant.id()),
        json!(r.kind),
        json!(summary),
        json!(r.maker),
        json!(time(r.created_at)),
        json!(time(r.expires_at)),
        json!(r.status.as_str()),
        json!(r.checker),
        json!(r.decided_at.map(time)),
        json!(r.reason),
    ]
}

pub fn list(x: &mut Exec<'_, '_>, q: &RequestQuery) -> anyhow::Result<()> {
    let statuses: Vec<RequestStatus> = match q.status.as_deref().map(str::trim) {
        None => Vec::new(),
        Some(s) if s.eq_ignore_ascii_case("all") => Vec::new(),
        // A stale request is still waiting: the queue shows it, marked STALE.
        Some(s) => match RequestStatus::parse(s).map_err(|e| invalid(format!("--{e} or all")))? {
            RequestStatus::Pending => vec![RequestStatus::Pending, RequestStatus::Stale],
            other => vec![other],
        },
    };
    if let Some(k) = q.kind.as_deref().filter(|k| !Change::KINDS.contains(k)) {
        return Err(invalid(format!("--kind {k:?}: one of {}", Change::KINDS.join(", "))).into());
    }
    let (from, to) = crate::ops::calls::report::hk_period(q.from.as_deref(), q.to.as_deref())?;
    let head = ListHead::new("requests", REQUEST_COLUMNS).table(&[
        "request_id",
        "kind",
        "summary",
        "maker",
        "created_at",
        "status",
        "checker",
    ]);
    let out = &mut *x.out;
    x.db.signed_in(READERS, Mode::Read, |w, me| {
        let scope = views::scope(w, me, q.participant.as_deref(), q.house, true, "lists the requests of")?;
        out.part(Part::List(head))?;
        let filter = RequestFilter {
            participant: scope.as_ref().map(|p| &p.key),
            statuses: &statuses,
            maker: q.maker.as_ref(),
            checker: q.checker.as_ref(),
            kind: q.kind.as_deref(),
            from,
            to,
            subject: q.subject.as_ref(),
        };
        requests::for_each(&w.tx, &filter, w.now, |r| Ok(out.part(Part::Row(row(&r)))?))?;
        Ok(out.part(Part::End(ListEnd::default()))?)
    })?;
    x.flush()
}

pub fn show(x: &mut Exec<'_, '_>, n: i64, page: usize) -> anyhow::Result<()> {
    let v = x.signed_in(READERS, Mode::Read, |w, me| maker_checker::view(w, &me.account, n))?;
    print(x, &v, page)
}

/// One request, as the reader's format asks.
pub fn print(x: &mut Exec<'_, '_>, v: &View, page: usize) -> anyhow::Result<()> {
    match x.format {
        Format::Json | Format::Jsonl => x.object(json_of(v)),
        Format::Csv => match &v.decided {
            Some(d) => x.part(Part::Applied(d.rows.clone())),
            None => x.part(Part::Diff(diff_rows(&v.participant, v.shown.as_deref().unwrap_or_default()))),
        },
        Format::Table => table(x, v, page),
    }
}

/// The request's own fields, as `request list` shows them.
fn header(v: &View) -> Value {
    let r = &v.row;
    json!({
        "request_id": r.request_id, "participant_id": r.participant.id(), "kind": r.kind, "summary": v.change.summary(),
        "maker": r.maker, "created_at": time(r.created_at), "expires_at": time(r.expires_at), "status": r.status.as_str(),
        "checker": r.checker, "decided_at": r.decided_at.map(time), "reason": r.reason,
    })
}

/// JSON: the header, the subjects, the change (public names), and for a pending request that
/// can still be applied, what it does to each subject (`rows`); otherwise why not (`not_applicable`).
fn json_of(v: &View) -> Value {
    let mut doc = header(v);
    let m = doc.as_object_mut().expect("an object");
    m.insert("subjects".into(), json!(v.subjects.iter().map(|s| s.user_id.clone()).collect::<Vec<_>>()));
    m.insert("change".into(), v.change.public());
    match &v.shown {
        Ok(shown) => {
            m.insert("rows".into(), shown.iter().map(|s| screen::shown_json(s, &v.participant)).collect());
        }
        Err(why) => {
            m.insert("not_applicable".into(), json!(why));
        }
    }
    // An approved request: what it did, field by field, and how it was authorised.
    if let Some(d) = &v.decided {
        m.insert("inline".into(), json!(d.inline));
        m.insert("applied".into(), applied_json(&d.rows));
    }
    doc
}

/// `[{user_id, action, diff: {field: {before, after}}}]`, a subject at a time, in order.
fn applied_json(rows: &[DiffRow]) -> Value {
    let mut out: Vec<Value> = Vec::new();
    for r in rows {
        let same = out.last().is_some_and(|l| l["user_id"] == r.user_id.as_str() && l["action"] == r.action.as_str());
        if !same {
            out.push(json!({ "user_id": r.user_id, "action": r.action, "diff": {} }));
        }
        if !r.key.is_empty() {
            if let Some(last) = out.last_mut() {
                last["diff"][&r.key] = json!({ "before": r.current, "after": r.proposed });
            }
        }
    }
    Value::Array(out)
}

fn table(x: &mut Exec<'_, '_>, v: &View, page: usize) -> anyhow::Result<()> {
    let mut head = header(v);
    if let Some(d) = &v.decided {
        head["inline"] = json!(d.inline);
        x.object(head)?;
        x.part(Part::Gap)?;
        let pages = d.rows.len().div_ceil(PAGE * 4).max(1);
        let page = page.clamp(1, pages);
        let on_page = d.rows.iter().skip((page - 1) * PAGE * 4).take(PAGE * 4).cloned().collect();
        x.part(Part::Applied(on_page))?;
        if pages > 1 {
            let id = v.row.request_id;
            x.note(format!(
                "Page {page} of {pages}: `dms request show {id} --page {}`; `--format csv` writes every row.",
                (page % pages) + 1
            ))?;
        }
        return Ok(());
    }
    x.object(head)?;
    let shown = match &v.shown {
        Ok(s) => s,
        Err(why) => return x.note(format!("Nothing to show beside it: {why}.")),
    };
    let id = v.row.request_id;
    print_shown(x, shown, &v.participant, page, Some(&format!("dms request show {id}")))
}

/// What a request does, in a table: the seed's screens for a few profiles, otherwise a page
/// of the field table (`again` is the command that shows it, for the hint to the next page).
pub fn print_shown(
    x: &mut Exec<'_, '_>,
    shown: &[Shown],
    participant: &Participant,
    page: usize,
    again: Option<&str>,
) -> anyhow::Result<()> {
    if shown.len() <= SCREENS {
        for s in shown {
            x.part(Part::Gap)?;
            x.part(Part::Screen(screen::shown(s, participant)))?;
        }
        return Ok(());
    }
    let pages = shown.len().div_ceil(PAGE);
    let page = page.clamp(1, pages);
    let on_page = &shown[(page - 1) * PAGE..(page * PAGE).min(shown.len())];
    x.part(Part::Gap)?;
    x.part(Part::Diff(diff_rows(participant, on_page)))?;
    let next = match again {
        Some(again) if page < pages => format!("`{again} --page {}` shows the next; ", page + 1),
        _ => String::new(),
    };
    x.note(format!("Page {page} of {pages} ({} profiles). {next}`--format csv` writes every row.", shown.len()))
}

/// One row per field that the request sets or changes, per subject.
pub fn diff_rows(participant: &Participant, shown: &[Shown]) -> Vec<DiffRow> {
    let mut out = Vec::new();
    for s in shown {
        let j = screen::shown_json(s, participant);
        let user_id = j["user_id"].as_str().unwrap_or_default().to_string();
        let action = screen::action(s);
        match j["diff"].as_object() {
            Some(d) if !d.is_empty() => {
                for (key, c) in d {
                    // The ID has its own column; a new profile's organisation is the request's.
                    if action == "create" && (matches!(key.as_str(), "user_id" | "organisation" | "internal_external"))
                    {
                        continue;
                    }
                    if action == "create" && c["proposed"].is_null() {
                        continue;
                    }
                    out.push(DiffRow {
                        user_id: user_id.clone(),
                        action: action.to_string(),
                        key: key.clone(),
                        current: c["current"].clone(),
                        proposed: c["proposed"].clone(),
                    });
                }
            }
            // Delete and Unlock/Reset change no field: one row says what happens.
            _ => out.push(DiffRow {
                user_id,
                action: action.to_string(),
                key: String::new(),
                current: Value::Null,
                proposed: Value::Null,
            }),
        }
    }
    out
}

// -- approve -----------------------------------------------------------------------------------

/// `request approve N [N...]`: one authorisation code for the batch.
pub struct Approve {
    ids: Vec<i64>,
    smartcard: bool,
    yes: bool,
    given: Given,
    confirmed: bool,
    /// The checker's password, checked once (an OTP asked again does not hash it again).
    password: Option<Checked>,
    /// The OTP was typed at the terminal (it may be asked again), not given with `--otp`.
    typed: bool,
    tries: usize,
    /// What the requests do, read before they are authorised: a table ends with their
    /// screens and the seed's closing lines.
    views: Option<Vec<View>>,
    /// The requests were found approvable before anything was asked.
    looked: bool,
}

impl Approve {
    pub fn new(ids: Vec<i64>, smartcard: bool, yes: bool) -> Approve {
        Approve {
            ids,
            smartcard,
            yes,
            given: Given::default(),
            confirmed: false,
            password: None,
            typed: false,
            tries: 0,
            views: None,
            looked: false,
        }
    }

    fn otp_step() -> Step {
        Step::text(
            Slot::Otp,
            "Authorisation code - your OTP",
            "--otp CODE is required: the authorisation code is your password and a fresh OTP",
        )
    }
}

/// The signed-in checker, before any secret is read: not signed in, or not a checker, is said
/// at once.
fn checker(x: &mut Exec<'_, '_>) -> anyhow::Result<UserId> {
    let (me, role) = match x.db.peek()? {
        Some(found) => found,
        // Let the full check say why (expired, ended, locked...).
        None => x.signed_in(ANYONE, Mode::Read, |_, a| Ok((a.account.id().clone(), a.role())))?,
    };
    if role != Role::Checker {
        return Err(
            not_permitted(format!("only a DA checker can authorise requests (you are {})", role.label())).into()
        );
    }
    Ok(me)
}

impl Flow for Approve {
    fn step(&mut self, x: &mut Exec<'_, '_>) -> anyhow::Result<Progress> {
        self.given.gather(x);
        let me = checker(x)?;
        // A request that cannot be approved (stale, decided, not this checker's) says so
        // before any question or secret (SPEC §4).
        if !self.looked {
            let ids = self.ids.clone();
            x.signed_in(&[Role::Checker], Mode::Read, |w, c| maker_checker::check_approvable(w, &c.account, &ids))?;
            self.looked = true;
        }
        // On a terminal, show what will change and ask first.
        if x.interactive && !self.yes && x.table() && !self.confirmed {
            match self.given.take_yes() {
                None => {
                    let ids = self.ids.clone();
                    let views = x.signed_in(&[Role::Checker], Mode::Read, |w, c| {
                        ids.iter().map(|n| maker_checker::view(w, &c.account, *n)).collect::<anyhow::Result<Vec<_>>>()
                    })?;
                    for v in &views {
                        print(x, v, 1)?;
                    }
                    self.views = Some(views);
                    return Ok(Progress::Ask(Step::confirm(
                        format!("Authorise {}?", crate::api::count(self.ids.len(), "request", "requests")),
                        false,
                        "--yes",
                    )));
                }
                Some(false) => return Err(usage("not authorised").into()),
                Some(true) => self.confirmed = true,
            }
        }
        let code = if self.smartcard {
            let Some(pin) = self.given.get(Slot::Pin) else {
                return Ok(Progress::Ask(Step::secret(
                    Slot::Pin,
                    "smartcard PIN",
                    "Authorisation code - your smartcard PIN",
                )));
            };
            pin_shape(&pin)?;
            AuthorisationCode::Smartcard { pin: x.db.check_secret(&me, Secret::SmartcardPin, &pin)? }
        } else {
            let password = match &self.password {
                Some(p) => p.clone(),
                None => {
                    let Some(pw) = self.given.get(Slot::Password) else {
                        return Ok(Progress::Ask(Step::secret(
                            Slot::Password,
                            "password",
                            "Authorisation code - your password",
                        )));
                    };
                    let checked = x.db.check_secret(&me, Secret::Password, &pw)?;
                    self.password = Some(checked.clone());
                    checked
                }
            };
            let Some(otp) = self.given.take(Slot::Otp) else {
                self.typed = true;
                return Ok(Progress::Ask(Self::otp_step()));
            };
            AuthorisationCode::TwoFactor { password, otp: otp.to_string() }
        };
        let ids = self.ids.clone();
        if x.table() && self.views.is_none() {
            let views = x.signed_in(&[Role::Checker], Mode::Read, |w, c| {
                ids.iter().map(|n| maker_checker::view(w, &c.account, *n)).collect::<anyhow::Result<Vec<_>>>()
            })?;
            self.views = Some(views);
        }
        match x.signed_in(&[Role::Checker], Mode::Write, |w, c| maker_checker::approve(w, c, &ids, &code)) {
            Ok(done) => {
                match self.views.take().filter(|_| x.table()) {
                    // At a terminal the screens were shown above the question: only the lines.
                    Some(views) => print_decided(x, &views, &done, &me, !self.confirmed)?,
                    None => print_approved(x, &done)?,
                }
                Ok(Progress::Done)
            }
            Err(e) => {
                // At a terminal a wrong or replayed code (counted) is told and asked again; a
                // wrong password is not asked again: only the code can be retyped.
                let (kind, message) = classify(&e);
                let password_ok = self.password.as_ref().is_some_and(|p| p.ok);
                self.tries += 1;
                if !self.typed
                    || !x.interactive
                    || !password_ok
                    || !matches!(kind, Kind::Auth | Kind::Invalid)
                    || self.tries >= TRIES
                {
                    return Err(e);
                }
                x.say(format!("{message}. Try again."))?;
                Ok(Progress::Ask(Self::otp_step()))
            }
        }
    }
}

/// A table: each authorised request's screens (a few profiles; a bulk one's count), closed by
/// the seed's lines with the Checker ID; without the screens when they were just shown.
fn print_decided(
    x: &mut Exec<'_, '_>,
    views: &[View],
    done: &[i64],
    checker: &UserId,
    screens: bool,
) -> anyhow::Result<()> {
    for v in views.iter().filter(|v| done.contains(&v.row.request_id)) {
        let id = v.row.request_id;
        let shown = v.shown.as_deref().unwrap_or_default();
        let closing = screen::closing(RequestStatus::Approved, &v.change, id, Some(checker.as_str()));
        match shown.len() {
            0 => x.note(closing)?,
            _ if !screens => {
                x.part(Part::Gap)?;
                x.note(closing)?
            }
            n if n <= SCREENS => {
                for (i, s) in shown.iter().enumerate() {
                    let mut sc = screen::shown(s, &v.participant);
                    if i + 1 == n {
                        sc.closing = Some(closing.clone());
                    }
                    x.part(Part::Gap)?;
                    x.part(Part::Screen(sc))?;
                }
            }
            n => {
                x.part(Part::Gap)?;
                x.note(format!(
                    "Request {id}: {n} profiles (`dms request show {id}` lists them).\n\n{}",
                    closing.replacen("PROFILE IS", "PROFILES ARE", 1)
                ))?;
            }
        }
    }
    Ok(())
}

fn print_approved(x: &mut Exec<'_, '_>, done: &[i64]) -> anyhow::Result<()> {
    let done: Vec<_> = done.iter().map(|id| json!({ "request_id": id, "status": "APPROVED" })).collect();
    if done.len() == 1 {
        x.object(done[0].clone())
    } else {
        x.object(json!({ "approved": done }))
    }
}

// -- reject and cancel ---------------------------------------------------------------------------

pub fn reject(x: &mut Exec<'_, '_>, n: i64, reason: &str) -> anyhow::Result<()> {
    let reason = crate::domain::profile::free_text("--reason", reason, 500)?;
    decide(x, n, &[Role::Checker], Decision::Reject(reason))
}

/// `request resubmit N`: the maker's stale request made again against today's profiles.
pub fn resubmit(x: &mut Exec<'_, '_>, n: i64) -> anyhow::Result<()> {
    let s = x.signed_in(&[Role::Maker], Mode::Write, |w, me| maker_checker::resubmit(w, me, n))?;
    x.object(json!({
        "request_id": s.request_id, "status": s.status.as_str(), "replaces": n,
        "rows": s.change.subject_ids().len(), "unchanged": s.unchanged,
    }))?;
    x.note(format!(
        "Request {n} is cancelled; request {} replaces it and waits for a DA checker: `dms request approve {}`.",
        s.request_id, s.request_id
    ))
}

pub fn cancel(x: &mut Exec<'_, '_>, n: i64) -> anyhow::Result<()> {
    decide(x, n, &[Role::Maker], Decision::Cancel)
}

fn decide(x: &mut Exec<'_, '_>, n: i64, roles: &[Role], d: Decision) -> anyhow::Result<()> {
    let status = x.signed_in(roles, Mode::Write, |w, me| maker_checker::decide(w, me, n, d))?;
    x.object(json!({ "request_id": n, "status": status.as_str() }))
}
