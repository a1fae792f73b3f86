//! The exchange operator's calls (SPEC §5): participants, the migration imports, eServices
//! DA3 and DA4, smartcards, settings, holidays, the outbox, key rotation, reminders and the
//! exchange's own accounts.

use crate::api::{time, Call, Da3Action, ListEnd, ListHead, Part, Upload};
use crate::domain::flow::{Slot, Step};
use crate::domain::profile;
use crate::domain::reminder;
use crate::domain::role::Role;
use crate::domain::user_id::{ClearingHouse, UserId};
use crate::error::{invalid, usage};
use crate::mail::{Delivery, Mail};
use crate::ops::exchange::{self, NewDa, ParticipantSummary};
use crate::ops::flow::{self, Flow, Given, Progress};
use crate::ops::migration::{self, Imported};
use crate::ops::reminders::{self, Reminder};
use crate::ops::service::Exec;
use crate::ops::work::Mode;
use crate::ops::{keys, outbox, smartcard};
use crate::output::printable;
use crate::storage::{self, calendar, settings, ts, users};
use serde_json::{json, Map, Value};

const OPERATOR: &[Role] = &[Role::Operator];
const EXCHANGE: &[Role] = &[Role::Operator, Role::Auditor];

pub fn run(x: &mut Exec<'_, '_>, call: Call) -> anyhow::Result<()> {
    match call {
        Call::ParticipantAdd { id, name, house, max_users, domains } => {
            participant_add(x, &id, &name, &house, max_users, &domains)
        }
        Call::ParticipantList => participant_list(x),
        Call::ParticipantShow { id, house } => participant_show(x, &id, house),
        Call::ParticipantImport { file, dry_run } => import(x, Import::Participants, file, dry_run),
        Call::SmartcardUsersImport { file, dry_run } => import(x, Import::SmartcardUsers, file, dry_run),
        Call::Da3Add { participant, house, role, surname, other_names, email } => {
            da3_add(x, &participant, house, &role, &surname, &other_names, &email)
        }
        Call::Da3 { da_id, action, email, yes } => {
            flow::start(x, Box::new(Da3 { da: da_id, action, email, yes, given: Given::default() }))
        }
        Call::Da3ChangeEmail { da_id, email } => da3_change_email(x, da_id, &email),
        Call::Da3AssignDa { user_id, role } => da3_assign_da(x, user_id, &role),
        Call::SmartcardIssue { user_id, srn, certificate_expiry } => {
            smartcard_issue(x, user_id, &srn, &certificate_expiry)
        }
        Call::Scard1ResetPin { user_id } => scard1_reset_pin(x, user_id),
        Call::Da4 { participant, house, accounts } => da4(x, &participant, house, accounts),
        Call::SettingsShow => settings_show(x),
        Call::SettingsSet { key, value } => settings_set(x, &key, &value),
        Call::HolidayAdd { date, name } => holiday_add(x, &date, &name),
        Call::HolidayRemove { date } => holiday_remove(x, &date),
        Call::HolidayList => holiday_list(x),
        Call::OutboxList => outbox_list(x),
        Call::OutboxRetry => outbox_retry(x),
        Call::KeyRotate => key_rotate(x),
        Call::RemindExpiring { days, dry_run, system } => remind_expiring(x, days, dry_run, system),
        Call::RemindNotInitialised { dry_run, system } => remind_not_initialised(x, dry_run, system),
        Call::AccountAdd { role, surname, other_names, email } => account_add(x, &role, &surname, &other_names, &email),
        Call::AccountReset { user_id } => account_reset(x, user_id),
        other => Err(anyhow::anyhow!("call {} reached the exchange's calls", other.op())),
    }
}

/// A list of rows, whole (short lists: participants, holidays, the outbox).
fn list(x: &mut Exec<'_, '_>, head: ListHead, rows: Vec<Vec<Value>>, extras: Map<String, Value>) -> anyhow::Result<()> {
    x.part(Part::List(head))?;
    for r in rows {
        x.part(Part::Row(r))?;
    }
    x.part(Part::End(ListEnd { extras, footer: None }))
}

// -- participants ------------------------------------------------------------------------------

pub fn summary_json(s: &ParticipantSummary) -> Value {
    let p = &s.participant;
    json!({
        "participant_id": p.id(), "name": p.name, "house": p.house().as_str(), "clearing_house": p.house().label(),
        "max_users": p.max_users, "total_users": s.counts.total, "delegated_administrators": s.counts.das,
        "enabled_da_makers": s.das.makers, "enabled_da_checkers": s.das.checkers,
        "da_minimum_met": s.da_minimum_met(),
        "domains": p.domains, "created_at": time(p.created_at),
    })
}

fn participant_add(
    x: &mut Exec<'_, '_>,
    id: &str,
    name: &str,
    house: &str,
    max_users: i64,
    domains: &[String],
) -> anyhow::Result<()> {
    let p = exchange::new_participant(id, name, house, max_users, domains, x.db.now())?;
    let v = x.signed_in(OPERATOR, Mode::Write, |w, op| {
        exchange::add_participant(w, op.account.id(), &p)?;
        Ok(summary_json(&exchange::summary(w, p)?))
    })?;
    x.object(v)
}

fn participant_list(x: &mut Exec<'_, '_>) -> anyhow::Result<()> {
    let cols =
        ["participant_id", "name", "house", "max_users", "total_users", "delegated_administrators", "da_minimum_met"];
    let all = x.signed_in(EXCHANGE, Mode::Read, |w, _| exchange::summaries(w))?;
    let rows = all
        .iter()
        .map(|s| {
            let v = summary_json(s);
            cols.iter().map(|c| v[*c].clone()).collect()
        })
        .collect();
    list(x, ListHead::new("participants", &cols), rows, Map::new())
}

fn participant_show(x: &mut Exec<'_, '_>, id: &str, house: Option<ClearingHouse>) -> anyhow::Result<()> {
    let v = x.signed_in(EXCHANGE, Mode::Read, |w, _| {
        let p = exchange::resolve(w, id, house)?;
        Ok(summary_json(&exchange::summary(w, p)?))
    })?;
    x.object(v)
}

// -- migration ---------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Import {
    Participants,
    SmartcardUsers,
}

/// How many rows between two progress parts (a bar on the client's terminal).
const PROGRESS_EVERY: u64 = 500;

/// Migration (seed 4.3): `hkex participant import` and `hkex import-smartcard-users`, each
/// with `--dry-run` (the import run and rolled back: every check, nothing written).
fn import(x: &mut Exec<'_, '_>, what: Import, file: Upload, dry_run: bool) -> anyhow::Result<()> {
    let out = &mut *x.out;
    let done: Imported = x.db.signed_in(OPERATOR, Mode::Write, |w, op| {
        let op = op.account.id().clone();
        let mut progress = |n: u64| {
            if n % PROGRESS_EVERY == 0 {
                let _ = out.part(Part::Progress(n));
            }
        };
        let run = |w: &mut crate::ops::work::Work<'_>| match what {
            Import::Participants => migration::import_participants(w, &op, file, &mut progress),
            Import::SmartcardUsers => migration::import_smartcard_users(w, &op, file, &mut progress),
        };
        if dry_run {
            w.rehearse(run)
        } else {
            run(w)
        }
    })?;
    x.flush()?;
    let mut v = if dry_run {
        json!({ "dry_run": true, "valid": true, "rows": done.rows })
    } else {
        json!({ "imported": done.rows })
    };
    if what == Import::SmartcardUsers {
        v["participants"] = json!(done.participants);
    }
    v["file_sha256"] = json!(done.sha256);
    x.object(v)?;
    if dry_run {
        x.note("Dry run: the file is valid and fits the database; nothing was written.")?;
    }
    Ok(())
}

// -- DA3 ---------------------------------------------------------------------------------------

fn da_role(role: &str) -> anyhow::Result<Role> {
    let role: Role = role.parse().map_err(invalid)?;
    if !role.is_da() {
        return Err(invalid("--role: maker or checker").into());
    }
    Ok(role)
}

fn da3_add(
    x: &mut Exec<'_, '_>,
    participant: &str,
    house: Option<ClearingHouse>,
    role: &str,
    surname: &str,
    other_names: &str,
    email: &str,
) -> anyhow::Result<()> {
    let da = NewDa {
        role: da_role(role)?,
        surname: profile::person_name("surname", surname)?,
        other_names: profile::person_name("other names", other_names)?,
        email: profile::email(email)?,
    };
    let (id, reference) = x.signed_in(OPERATOR, Mode::Write, |w, op| {
        let p = exchange::resolve(w, participant, house)?;
        exchange::da3_add(w, op, &p, &da)
    })?;
    x.object(json!({ "da_id": id, "reference": reference, "status": "Completed" }))
}

/// DA3 Unlock / Reset (the form names the DA's user ID and registered e-mail address; the old
/// form without it still works, with a deprecation warning, and a terminal asks), Enable,
/// Disable, and Delete (irreversible: a person confirms it, a script says `--yes`; a script
/// from before `--yes` keeps working, with a deprecation warning).
struct Da3 {
    da: UserId,
    action: Da3Action,
    email: Option<String>,
    yes: bool,
    given: Given,
}

impl Flow for Da3 {
    fn step(&mut self, x: &mut Exec<'_, '_>) -> anyhow::Result<Progress> {
        self.given.gather(x);
        let da = self.da.clone();
        let mut deprecated = None;
        match self.action {
            Da3Action::Unlock | Da3Action::Reset if self.email.is_none() => {
                match self.given.take(Slot::Email) {
                    Some(e) => self.email = Some(e.to_string()),
                    None if x.interactive => {
                        return Ok(Progress::Ask(Step::text(
                            Slot::Email,
                            format!("Registered e-mail address of {da}"),
                            "--email",
                        )))
                    }
                    None => {
                        deprecated = Some(format!(
                            "deprecated: `hkex da3 {}` without --email; the eService checks the DA's registered address, give it with --email",
                            self.action.name()
                        ))
                    }
                }
            }
            Da3Action::Delete if !self.yes => {
                if !x.interactive {
                    deprecated = Some(format!(
                        "deprecated: `hkex da3 delete {da}` without --yes; the deletion cannot be undone, so a script should say --yes"
                    ));
                } else {
                    // The session is checked before anyone is asked, and the question names the DA.
                    let who = x.signed_in(OPERATOR, Mode::Read, |w, _| users::get(&w.tx, &da))?;
                    // An ID that is no DA gets the eService's own error from the delete below.
                    if let Some(p) = who.filter(|p| p.role.is_da()) {
                        match self.given.take_yes() {
                            None => {
                                // Check first, ask last: a deletion the rules refuse (the DA
                                // minimum, the launch) says so before the question, from a
                                // rehearsal of the deletion that is rolled back.
                                x.signed_in(OPERATOR, Mode::Write, |w, op| {
                                    w.rehearse(|w| exchange::da3(w, op, &da, Da3Action::Delete, None).map(|_| ()))
                                })?;
                                let of = p.participant.as_ref().map(|k| format!(" of {k}")).unwrap_or_default();
                                let question = format!(
                                    "Delete DA {da} ({} {}, {}{of})? This cannot be undone: the ID is never used again.",
                                    printable(&p.surname),
                                    printable(&p.other_names),
                                    p.role.label()
                                );
                                return Ok(Progress::Ask(Step::confirm(question, false, "--yes")));
                            }
                            Some(false) => return Err(usage(format!("{da} not deleted")).into()),
                            Some(true) => self.yes = true,
                        }
                    }
                }
            }
            _ => {}
        }
        let (action, email) = (self.action, self.email.clone());
        let reference =
            x.signed_in(OPERATOR, Mode::Write, |w, op| exchange::da3(w, op, &da, action, email.as_deref()))?;
        x.object(json!({ "da_id": da, "action": action.name(), "reference": reference, "status": "Completed" }))?;
        if let Some(d) = deprecated {
            x.warn(d)?;
        }
        Ok(Progress::Done)
    }
}

fn da3_change_email(x: &mut Exec<'_, '_>, da: UserId, email: &str) -> anyhow::Result<()> {
    let email = profile::email(email)?;
    let reference = x.signed_in(OPERATOR, Mode::Write, |w, op| exchange::da3_change_email(w, op, &da, &email))?;
    x.object(json!({
        "da_id": da, "action": "change-email", "email": email, "reference": reference, "status": "Completed",
    }))
}

fn da3_assign_da(x: &mut Exec<'_, '_>, user: UserId, role: &str) -> anyhow::Result<()> {
    let role = da_role(role)?;
    let reference = x.signed_in(OPERATOR, Mode::Write, |w, op| exchange::da3_assign_da(w, op, &user, role))?;
    x.object(json!({ "user_id": user, "role": role.as_str(), "reference": reference, "status": "Completed" }))
}

/// `hkex smartcard issue`: a Participant Gateway user's card (the PIN never in argv).
/// `hkex smartcard issue`: a card for a PG user; its one-time initial PIN goes to the holder.
fn smartcard_issue(x: &mut Exec<'_, '_>, user: UserId, srn: &str, expiry: &str) -> anyhow::Result<()> {
    let srn = migration::srn(srn)?;
    let expiry = migration::certificate_expiry(expiry)?;
    let sent = x.signed_in(OPERATOR, Mode::Write, |w, op| smartcard::issue(w, op.account.id(), &user, srn, expiry))?;
    x.object(json!({
        "user_id": user, "srn": sent.srn, "certificate_expiry": expiry.format("%Y-%m-%d %H:%M:%S").to_string(),
        "issued": true, "initial_pin_sent_to": sent.to, "initial_pin_valid_until": time(sent.valid_until),
    }))?;
    x.note("The holder's one-time initial PIN went to its registered address: the first smartcard sign-in with it chooses the holder's own PIN.")
}

/// eService SCard 1 (until decommissioning): a DA's forgotten smartcard PIN reset; its
/// one-time initial PIN goes to the DA.
fn scard1_reset_pin(x: &mut Exec<'_, '_>, user: UserId) -> anyhow::Result<()> {
    let sent = x.signed_in(OPERATOR, Mode::Write, |w, op| smartcard::scard1(w, op.account.id(), &user))?;
    x.object(json!({
        "user_id": user, "srn": sent.srn, "pin_reset": true,
        "initial_pin_sent_to": sent.to, "initial_pin_valid_until": time(sent.valid_until),
    }))?;
    x.note(
        "The DA's one-time initial PIN went to its registered address: its next smartcard sign-in chooses its own PIN.",
    )
}

// -- DA4 ---------------------------------------------------------------------------------------

fn da4(x: &mut Exec<'_, '_>, participant: &str, house: Option<ClearingHouse>, accounts: i64) -> anyhow::Result<()> {
    let (p, g) = x.signed_in(OPERATOR, Mode::Write, |w, op| {
        let p = exchange::resolve(w, participant, house)?;
        let g = exchange::da4(w, op, &p, accounts)?;
        Ok((p, g))
    })?;
    x.object(json!({
        "reference": g.reference, "participant_id": p.id(), "accounts": accounts, "max_users": g.max_users,
        "fee_hkd": g.fee.plain(), "status": "Completed",
    }))
}

// -- settings and holidays ---------------------------------------------------------------------

fn settings_show(x: &mut Exec<'_, '_>) -> anyhow::Result<()> {
    let all = x.signed_in(EXCHANGE, Mode::Read, |w, _| settings::all(&w.tx))?;
    let m: Map<String, Value> = all.into_iter().map(|(k, v)| (k, json!(v))).collect();
    x.object(Value::Object(m))
}

fn settings_set(x: &mut Exec<'_, '_>, key: &str, value: &str) -> anyhow::Result<()> {
    let (key, value) = x.signed_in(OPERATOR, Mode::Write, |w, op| {
        let v = exchange::set_setting(w, op.account.id(), key, value)?;
        Ok((key.trim().to_ascii_lowercase(), v))
    })?;
    x.object(json!({ "key": key, "value": value }))
}

fn holiday_add(x: &mut Exec<'_, '_>, date: &str, name: &str) -> anyhow::Result<()> {
    let d = profile::parse_date("date", date)?;
    let name = name.trim().to_string();
    x.signed_in(OPERATOR, Mode::Write, |w, op| exchange::add_holiday(w, op.account.id(), d, &name))?;
    x.object(json!({ "date": d.to_string(), "name": name }))
}

fn holiday_remove(x: &mut Exec<'_, '_>, date: &str) -> anyhow::Result<()> {
    let d = profile::parse_date("date", date)?;
    x.signed_in(OPERATOR, Mode::Write, |w, op| exchange::remove_holiday(w, op.account.id(), d))?;
    x.object(json!({ "date": d.to_string(), "removed": true }))
}

fn holiday_list(x: &mut Exec<'_, '_>) -> anyhow::Result<()> {
    let readers = [Role::Operator, Role::Auditor, Role::Maker, Role::Checker];
    let all = x.signed_in(&readers, Mode::Read, |w, _| calendar::list(&w.tx))?;
    let rows = all.into_iter().map(|(d, n)| vec![json!(d), json!(n)]).collect();
    list(x, ListHead::new("holidays", &["date", "name"]), rows, Map::new())
}

// -- the outbox --------------------------------------------------------------------------------

const OUTBOX_COLUMNS: &[&str] = &["mail_id", "created_at", "recipient", "subject", "attempts", "last_error", "sent_at"];

fn outbox_list(x: &mut Exec<'_, '_>) -> anyhow::Result<()> {
    let out = &mut *x.out;
    x.db.signed_in(OPERATOR, Mode::Read, |w, _| {
        out.part(Part::List(ListHead::new("mails", OUTBOX_COLUMNS)))?;
        storage::outbox::each(&w.tx, |m| {
            Ok(out.part(Part::Row(vec![
                json!(m.mail_id),
                json!(time(m.created_at)),
                json!(m.recipient),
                json!(m.subject),
                json!(m.attempts),
                json!(m.last_error),
                json!(m.sent_at.map(time)),
            ]))?)
        })?;
        Ok(out.part(Part::End(ListEnd::default()))?)
    })?;
    x.flush()
}

/// Read the unsent mails, send them outside any transaction, record what became of each.
fn outbox_retry(x: &mut Exec<'_, '_>) -> anyhow::Result<()> {
    let pending = x.signed_in(OPERATOR, Mode::Read, |w, _| outbox::unsent(w))?;
    let mails: Vec<&Mail> = pending.iter().map(|(_, m)| m).collect();
    let results = match x.db.mailer() {
        Ok(m) => m.send_all(&mails, x.db.now()),
        Err(e) => vec![Err(format!("{e:#}")); mails.len()],
    };
    let outcomes: Vec<(i64, Delivery)> = pending.iter().map(|(id, _)| *id).zip(results).collect();
    let done = x.signed_in(OPERATOR, Mode::Write, |w, op| outbox::record(w, op.account.id(), &outcomes))?;
    x.object(json!({ "sent": done.sent, "failed": done.failed }))
}

// -- key rotation ------------------------------------------------------------------------------

/// A new key file, every sealed value moved to it (see `ops::keys`).
fn key_rotate(x: &mut Exec<'_, '_>) -> anyhow::Result<()> {
    let pause = x.db.pause_hook();
    let r = x.signed_in(OPERATOR, Mode::Write, |w, op| keys::rotate(w, op.account.id(), &pause))?;
    pause("committed");
    x.transact(Mode::Write, |w| keys::complete(w, &r.key, &pause))?;
    x.object(json!({
        "rotated": r.totp_keys,
        "audit_key": r.audit_key,
        "email_otps_invalidated": r.email_otps_invalidated,
        "initial_pins_reissued": r.initial_pins_reissued,
        "key_file": x.db.key_file().display().to_string(),
        "fingerprint": hex::encode(&r.fingerprint[..8]),
    }))?;
    if r.email_otps_invalidated > 0 {
        x.note("Unused e-mail OTPs were invalidated (their hashes cannot move to a new key): request a new one.")?;
    }
    if r.initial_pins_reissued > 0 {
        x.note("Initial smartcard PINs not yet used were replaced by new ones, mailed to their holders.")?;
    }
    // A backup holds the key it was taken with: the ones taken before now restore only with the
    // old key file (issue 20).
    x.note("Take a new backup now (`dms backup`): backups taken before this hold the old key.")
}

// -- reminders ---------------------------------------------------------------------------------

const REMINDER_COLUMNS: &[&str] = &["user_id", "email", "threshold", "expires_at"];

fn remind_expiring(x: &mut Exec<'_, '_>, days: Option<i64>, dry_run: bool, system: bool) -> anyhow::Result<()> {
    let thresholds: Vec<i64> = match days {
        Some(d) => vec![d],
        None => reminder::EXPIRY_THRESHOLDS.to_vec(),
    };
    let mode = if dry_run { Mode::Read } else { Mode::Write };
    let found = x.db.operator_or_system(system, mode, |w, by| reminders::expiring(w, by, &thresholds, dry_run))?;
    x.flush()?;
    print_reminders(x, reminders::Kind::Expiring, &found, dry_run, json!(thresholds))
}

fn remind_not_initialised(x: &mut Exec<'_, '_>, dry_run: bool, system: bool) -> anyhow::Result<()> {
    let mode = if dry_run { Mode::Read } else { Mode::Write };
    let found = x.db.operator_or_system(system, mode, |w, by| reminders::not_initialised(w, by, dry_run))?;
    x.flush()?;
    print_reminders(x, reminders::Kind::NotInitialised, &found, dry_run, json!(null))
}

/// One row per reminder; the address masked (a cron job's output is mailed and logged).
fn print_reminders(
    x: &mut Exec<'_, '_>,
    kind: reminders::Kind,
    found: &[Reminder],
    dry_run: bool,
    thresholds: Value,
) -> anyhow::Result<()> {
    let rows = found
        .iter()
        .map(|r| {
            vec![
                json!(r.user_id),
                json!(crate::domain::profile::mask_email(&r.email)),
                json!(r.threshold),
                json!(r.expires_at.map(ts)),
            ]
        })
        .collect();
    let sent = if dry_run { 0 } else { found.len() };
    let mut extras = Map::new();
    extras.insert("sent".into(), json!(sent));
    extras.insert("dry_run".into(), json!(dry_run));
    extras.insert("kind".into(), json!(kind.as_str()));
    extras.insert("thresholds".into(), thresholds);
    list(x, ListHead::new("reminders", REMINDER_COLUMNS), rows, extras)
}

// -- the exchange's accounts -------------------------------------------------------------------

fn account_add(x: &mut Exec<'_, '_>, role: &str, surname: &str, other_names: &str, email: &str) -> anyhow::Result<()> {
    let role: Role = role.parse().map_err(invalid)?;
    let surname = profile::person_name("surname", surname)?;
    let other_names = profile::person_name("other names", other_names)?;
    let email = profile::email(email)?;
    let id = x.signed_in(OPERATOR, Mode::Write, |w, op| {
        exchange::add_account(w, op.account.id(), role, &surname, &other_names, &email)
    })?;
    x.object(json!({ "user_id": id, "role": role.as_str() }))
}

fn account_reset(x: &mut Exec<'_, '_>, user: UserId) -> anyhow::Result<()> {
    x.signed_in(OPERATOR, Mode::Write, |w, op| exchange::reset_account(w, op.account.id(), &user))?;
    x.object(json!({ "user_id": user, "reset": true }))
}
