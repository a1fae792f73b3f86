//! The exchange operator's operations (SPEC §5): participants and quotas, eService DA3 (DA
//! maintenance) and DA4 (additional user accounts), settings, holidays, and the exchange's
//! own accounts. Each is one function on the command's write transaction, with its audit row
//! and its notification queued for after the commit.

use crate::domain::account::{Account, UserProfile};
use crate::domain::maker_checker::{self as mc, DaCounts};
use crate::domain::profile::{self, Cents, UserStatus};
use crate::domain::role::Role;
use crate::domain::user_id::{self, ClearingHouse, ParticipantKey, UserId};
use crate::error::{conflict, invalid, not_permitted, DmsError};
use crate::mail;
use crate::ops::session::Actor;
use crate::ops::signin::hkt;
use crate::ops::work::Work;
use crate::ops::{credentials, maker_checker};
use crate::storage::eservices::{self, Eservice};
use crate::storage::participants::{self, Participant};
use crate::storage::{audit, calendar, sessions, settings, users};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use std::collections::HashMap;

/// Maximum users a participant can ever hold: every business-user ID plus every DA ID.
pub fn id_space(house: ClearingHouse) -> i64 {
    (user_id::business_user_capacity(house) + user_id::da_capacity(house)) as i64
}

fn parse_domains(domains: &[String]) -> anyhow::Result<Vec<String>> {
    domains
        .iter()
        .flat_map(|d| d.split([',', ' ', ';']))
        .filter(|d| !d.trim().is_empty())
        .map(|d| {
            let d = d.trim().to_ascii_lowercase();
            // A domain is valid when an address on it is.
            profile::email(&format!("x@{d}"))
                .map(|_| d.clone())
                .map_err(|_| invalid(format!("--domain {d:?}: not a domain name")).into())
        })
        .collect()
}

/// A participant as registered: every field checked.
pub fn new_participant(
    id: &str,
    name: &str,
    house: &str,
    max_users: i64,
    domains: &[String],
    now: DateTime<Utc>,
) -> anyhow::Result<Participant> {
    let house = ClearingHouse::parse(house)?;
    let key = ParticipantKey::parse(id, house)?;
    let name = profile::free_text("name", name, 80)?;
    if max_users < 0 || max_users > id_space(house) {
        return Err(invalid(format!(
            "max users {max_users}: must be 0 to {} (the ID space of a {} participant)",
            id_space(house),
            house.label()
        ))
        .into());
    }
    Ok(Participant { key, name: name.to_uppercase(), max_users, domains: parse_domains(domains)?, created_at: now })
}

/// Register a participant. A customer code already registered with HKCC may be registered
/// with SEOCH too (and the other way round); any other second registration is a conflict.
pub fn add_participant(w: &mut Work<'_>, op: &UserId, p: &Participant) -> anyhow::Result<()> {
    check_new_participant(w, p)?;
    participants::insert(&w.tx, p)?;
    w.audit(&audit::Event {
        actor: Some(op.as_str()),
        action: "participant.added",
        participant_id: Some(p.id()),
        detail: json!({ "name": p.name, "house": p.house().as_str(), "max_users": p.max_users }).to_string(),
        ..Default::default()
    })
}

/// Is this registration new, and may it sit beside the ones its ID already has?
pub fn check_new_participant(w: &Work<'_>, p: &Participant) -> anyhow::Result<()> {
    for other in participants::find(&w.tx, p.id())? {
        let pair = matches!(
            (other.house(), p.house()),
            (ClearingHouse::Hkcc, ClearingHouse::Seoch) | (ClearingHouse::Seoch, ClearingHouse::Hkcc)
        );
        if !pair {
            return Err(conflict(format!("participant {} already exists ({})", p.id(), other.house().label())).into());
        }
        // The first registration's IDs stay as they are (seed 000 §3.2), so the second house's
        // half of the digits must still be free of them.
        let in_the_way: Vec<String> = {
            let mut ids: Vec<String> = users::ids_of_participant(&w.tx, &other.key)?
                .into_iter()
                .filter(|id| UserId::parse(id).ok().and_then(|u| user_id::generating_house(&u)) == Some(p.house()))
                .collect();
            ids.sort();
            ids
        };
        if !in_the_way.is_empty() {
            const SHOWN: usize = 10;
            let more = in_the_way.len().saturating_sub(SHOWN);
            return Err(conflict(format!(
                "participant {} cannot be registered with {} too: its {} user IDs already have the digits {} ({}'s, so that the two never meet): {}{}",
                p.id(),
                p.house().label(),
                other.house().label(),
                p.house().digits_text(),
                p.house().label(),
                in_the_way[..in_the_way.len().min(SHOWN)].join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() },
            ))
            .into());
        }
    }
    Ok(())
}

/// A new user ID of `key` where its code is registered with the other of HKCC and SEOCH too:
/// it must lie in `key`'s half of the digits ([`user_id::check_beside_other_house`]).
pub fn check_beside_other_house(c: &rusqlite::Connection, id: &UserId, key: &ParticipantKey) -> anyhow::Result<()> {
    let Some(h) = user_id::generating_house(id).filter(|h| *h != key.house) else { return Ok(()) };
    if participants::get(c, &ParticipantKey { id: key.id.clone(), house: h })?.is_some() {
        user_id::check_beside_other_house(id, &key.id, key.house).map_err(|e| conflict(e.to_string()))?;
    }
    Ok(())
}

/// The participant a command names: its ID, and its house where the ID is registered with
/// both HKCC and SEOCH.
pub fn resolve(w: &Work<'_>, id: &str, house: Option<ClearingHouse>) -> anyhow::Result<Participant> {
    let id = id.trim().to_ascii_uppercase();
    let mut found = participants::find(&w.tx, &id)?;
    if let Some(h) = house {
        found.retain(|p| p.house() == h);
    }
    match found.len() {
        0 => Err(invalid(match house {
            Some(h) => format!("no participant {id} in {}", h.label()),
            None => format!("no participant {id}"),
        })
        .into()),
        1 => Ok(found.remove(0)),
        _ => Err(invalid(format!(
            "participant {id} is registered with both HKCC and SEOCH: add --house hkcc or --house seoch"
        ))
        .into()),
    }
}

/// The counts a participant's summary shows.
pub struct ParticipantSummary {
    pub participant: Participant,
    pub counts: participants::Counts,
    /// The DAs able to act today.
    pub das: DaCounts,
    /// Whether they meet today's minimum (one maker and two checkers; one and one before the
    /// 2FA launch).
    pub minimum_met: bool,
}

impl ParticipantSummary {
    pub fn da_minimum_met(&self) -> bool {
        self.minimum_met
    }
}

pub fn summary(w: &Work<'_>, p: Participant) -> anyhow::Result<ParticipantSummary> {
    let (das, minimum_met) = maker_checker::da_counts_today(&w.tx, &p.key, w.now)?;
    Ok(ParticipantSummary { counts: participants::counts(&w.tx, &p.key)?, das, minimum_met, participant: p })
}

pub fn summaries(w: &Work<'_>) -> anyhow::Result<Vec<ParticipantSummary>> {
    participants::list(&w.tx)?.into_iter().map(|p| summary(w, p)).collect()
}

// ------------------------------------------------------------------------------------------
// DA3

/// Record a processed DA3 eService with its audit row; returns the reference
/// (e.g. `DA3_00013361`).
fn record_da3(
    w: &Work<'_>,
    op: &UserId,
    p: &ParticipantKey,
    action: &str,
    subject: &UserId,
    mut detail: serde_json::Value,
) -> anyhow::Result<String> {
    let e = Eservice {
        form: "DA3",
        participant: p,
        action,
        subject: Some(subject.as_str()),
        accounts: None,
        fee_cents: None,
        processed_by: op.as_str(),
    };
    let reference = eservices::record(&w.tx, &e, w.now)?;
    detail["reference"] = json!(reference);
    w.audit(&audit::Event {
        actor: Some(op.as_str()),
        action: &format!("da3.{action}"),
        subject: Some(subject.as_str()),
        participant_id: Some(p.id()),
        detail: detail.to_string(),
    })?;
    Ok(reference)
}

/// A new DA of a participant.
pub struct NewDa {
    pub role: Role,
    pub surname: String,
    pub other_names: String,
    pub email: String,
}

/// The exchange processes the new DA3 request types and DA4 only from the 2FA launch (seed
/// 4.1.1 footnote 3, 4.3.1 footnote 4); `until` says what serves until then.
fn launched(w: &mut Work<'_>, what: &str, until: &str) -> anyhow::Result<()> {
    let timeline = w.policy()?.timeline;
    if !timeline.launched(hkt(w.now).date_naive()) {
        return Err(not_permitted(format!(
            "HKEX processes {what} from the 2FA launch on {} (seed footnotes 3-4); until then {until}",
            timeline.launch
        ))
        .into());
    }
    Ok(())
}

/// What serves DAs before the launch.
const UNTIL_SCARD1: &str = "DAs are maintained through eService SCard 1";

/// DA3 Add: the next DA ID of the participant, within its quota.
pub fn da3_add(w: &mut Work<'_>, op: &Actor, p: &Participant, da: &NewDa) -> anyhow::Result<(UserId, String)> {
    launched(w, "eService DA3 Add DA", UNTIL_SCARD1)?;
    let counts = participants::counts(&w.tx, &p.key)?;
    mc::check_quota(p.max_users, counts.total, 1).map_err(DmsError::from)?;
    let taken = users::ids_of_participant(&w.tx, &p.key)?;
    let id = user_id::next_da_id(&p.key.id, p.house(), &|id| taken.contains(id))
        .ok_or_else(|| conflict(format!("participant {} has no free DA IDs left", p.key)))?;
    let profile = UserProfile::new(
        id.clone(),
        Some(p.key.clone()),
        da.role,
        &da.surname,
        &da.other_names,
        Some(&da.email),
        w.now,
    );
    users::insert(&w.tx, &profile)?;
    let reference = record_da3(w, op.account.id(), &p.key, "add", &id, json!({ "role": da.role.as_str() }))?;
    w.notify(mail::eservice(
        &da.email,
        &reference,
        p.id(),
        mail::DA3_TITLE,
        &format!(
            "Delegated Administrator added: user ID {id} ({}). First-time logon: set a password (Forgot/Reset) and set up the OTP channel.",
            da.role.label()
        ),
    ));
    Ok((id, reference))
}

pub use crate::api::Da3Action;

/// A DA, for a DA3 request about it.
fn load_da(w: &Work<'_>, da: &UserId) -> anyhow::Result<(Account, Participant)> {
    let a = users::account(&w.tx, da)?.ok_or_else(|| invalid(format!("no user {da}")))?;
    if !a.role().is_da() {
        return Err(invalid(format!("{da} is not a Delegated Administrator")).into());
    }
    let key = a.participant().ok_or_else(|| invalid(format!("{da} belongs to no participant")))?.clone();
    let p = participants::get(&w.tx, &key)?.ok_or_else(|| not_permitted(format!("no participant {key}")))?;
    Ok((a, p))
}

/// DA3 Unlock / Reset / Enable / Disable / Delete. Returns the reference. `email` is the
/// address the eService form gave for the DA (Unlock DA Account asks for the user ID *and*
/// the registered address, seed Appendix D c); when given, it must be the registered one.
pub fn da3(
    w: &mut Work<'_>,
    op: &Actor,
    da: &UserId,
    action: Da3Action,
    email: Option<&str>,
) -> anyhow::Result<String> {
    launched(w, &format!("eService DA3 {}", action.name()), UNTIL_SCARD1)?;
    let (mut a, p) = load_da(w, da)?;
    if let Some(given) = email {
        let given = profile::email(given)?;
        let matches = a.profile.email.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(&given));
        if !matches {
            return Err(not_permitted(format!(
                "{given} is not the registered e-mail address of DA {da}: the eService needs the DA's user ID and its registered address"
            ))
            .into());
        }
    }
    if matches!(action, Da3Action::Disable | Da3Action::Delete) && a.profile.active_on(hkt(w.now).date_naive()) {
        let gone = match action {
            Da3Action::Delete => None,
            _ => mc::DaDays::of(&UserProfile { status: UserStatus::Disabled, ..a.profile.clone() }),
        };
        maker_checker::check_da_minimum(w, &p.key, &HashMap::from([(a.id().clone(), gone)]))?;
    }
    let what = match action {
        Da3Action::Unlock | Da3Action::Reset => {
            // Seed Appendix D c: after DA3 the DA's next logon is a first-time logon.
            credentials::reset(w, &mut a, "DA3 unlock/reset")?;
            "unlocked; password and OTP device registration reset: the next logon is a first-time logon"
        }
        Da3Action::Enable | Da3Action::Disable => {
            let status = if action == Da3Action::Enable { UserStatus::Enabled } else { UserStatus::Disabled };
            if a.profile.status == status {
                return Err(conflict(format!("{da} is already {status}")).into());
            }
            let prof = UserProfile { status, ..a.profile.clone() };
            users::update_profile(&w.tx, &prof)?;
            if action == Da3Action::Disable {
                sessions::end_all_for_user(&w.tx, da, None, w.now, "disabled")?;
                "disabled"
            } else {
                "enabled"
            }
        }
        Da3Action::Delete => {
            users::delete(&w.tx, &a.profile, w.now)?;
            "deleted"
        }
    };
    let reference = record_da3(w, op.account.id(), &p.key, action.name(), da, json!({}))?;
    if let Some(e) = &a.profile.email {
        w.notify(mail::eservice(
            e,
            &reference,
            p.id(),
            mail::DA3_TITLE,
            &format!("Delegated Administrator {da}: {what}."),
        ));
    }
    Ok(reference)
}

/// DA3 change of a DA's registered e-mail address (a DA's identity belongs to the exchange,
/// SPEC §4): both the old and the new address are told.
pub fn da3_change_email(w: &mut Work<'_>, op: &Actor, da: &UserId, email: &str) -> anyhow::Result<String> {
    let (a, p) = load_da(w, da)?;
    let old = a.profile.email.clone();
    if old.as_deref().is_some_and(|o| o.eq_ignore_ascii_case(email)) {
        return Err(conflict(format!("{email} is already the registered address of {da}")).into());
    }
    users::update_profile(&w.tx, &UserProfile { email: Some(email.to_string()), ..a.profile.clone() })?;
    let reference = record_da3(w, op.account.id(), &p.key, "change-email", da, json!({ "email": [old, email] }))?;
    let what = format!("The registered e-mail address of Delegated Administrator {da} was changed.");
    for to in old.iter().chain(std::iter::once(&email.to_string())) {
        w.notify(mail::eservice(to, &reference, p.id(), mail::DA3_TITLE, &what));
    }
    Ok(reference)
}

/// DA3 Assign DA role to an existing business user (after smartcard decommissioning, seed 5.1).
pub fn da3_assign_da(w: &mut Work<'_>, op: &Actor, user: &UserId, role: Role) -> anyhow::Result<String> {
    let timeline = w.policy()?.timeline;
    if !timeline.decommissioned(hkt(w.now).date_naive()) {
        return Err(not_permitted(format!(
            "the DA role can be assigned to existing users only after smartcard decommissioning ({})",
            timeline.decommission
        ))
        .into());
    }
    let prof = users::get(&w.tx, user)?.ok_or_else(|| invalid(format!("no user {user}")))?;
    if prof.role != Role::User {
        return Err(conflict(format!("{user} is already a {}", prof.role.label())).into());
    }
    // A DA signs in with 2FA (assignment is after decommissioning): a Participant Gateway user,
    // smartcard only, could not act as one — except on a card the exchange issued it.
    if prof.channel == crate::domain::profile::AccessChannel::Pg {
        return Err(not_permitted(format!(
            "{user} is a Participant Gateway (PG) user, smartcard only: a DA signs in with 2FA, so its DAs first change its access channel to CST under maker-checker"
        ))
        .into());
    }
    let key = prof.participant.clone().ok_or_else(|| invalid(format!("{user} belongs to no participant")))?;
    let updated = UserProfile { role, ..prof.clone() };
    users::update_profile(&w.tx, &updated)?;
    let reference = record_da3(w, op.account.id(), &key, "assign-da", user, json!({ "role": role.as_str() }))?;
    if let Some(e) = &prof.email {
        w.notify(mail::eservice(
            e,
            &reference,
            key.id(),
            mail::DA3_TITLE,
            &format!("User {user} now holds the {} role.", role.label()),
        ));
    }
    Ok(reference)
}

// ------------------------------------------------------------------------------------------
// DA4

/// One-off fee per additional user account (seed 4.3.1).
pub const DA4_FEE: Cents = Cents(25_000);

/// What DA4 granted.
pub struct Da4Granted {
    pub reference: String,
    pub max_users: i64,
    pub fee: Cents,
}

/// DA4: raise the participant's maximum by `accounts`, record the fee, tell its DAs.
pub fn da4(w: &mut Work<'_>, op: &Actor, p: &Participant, accounts: i64) -> anyhow::Result<Da4Granted> {
    launched(
        w,
        "eService DA4 (additional user accounts)",
        "a participant has the user accounts HKEX registered for it (its maximum number of users)",
    )?;
    crate::domain::bounds::DA4_ACCOUNTS.check(accounts).map_err(DmsError::from)?;
    let max = p.max_users + accounts;
    if max > id_space(p.house()) {
        return Err(invalid(format!(
            "{} would hold {max} accounts, more than its ID space allows ({})",
            p.key,
            id_space(p.house())
        ))
        .into());
    }
    participants::set_max_users(&w.tx, &p.key, max)?;
    let fee = Cents(accounts * DA4_FEE.0);
    let reference = eservices::record(
        &w.tx,
        &Eservice {
            form: "DA4",
            participant: &p.key,
            action: "additional-accounts",
            subject: None,
            accounts: Some(accounts),
            fee_cents: Some(fee.0),
            processed_by: op.account.id().as_str(),
        },
        w.now,
    )?;
    w.audit(&audit::Event {
        actor: Some(op.account.id().as_str()),
        action: "da4",
        participant_id: Some(p.id()),
        detail:
            json!({ "reference": reference, "accounts": accounts, "max_users": [p.max_users, max], "fee_cents": fee.0 })
                .to_string(),
        ..Default::default()
    })?;
    // The participant's DAs hear that the eService is Completed.
    for da in users::das(&w.tx, &p.key)?.into_iter().filter(|a| a.profile.enabled()) {
        if let Some(e) = da.profile.email {
            w.notify(mail::eservice(
                &e,
                &reference,
                p.id(),
                mail::DA4_TITLE,
                &format!(
                    "{accounts} additional user account(s) granted: maximum number of users is now {max}. One-off fee HK${}.",
                    fee.display()
                ),
            ));
        }
    }
    Ok(Da4Granted { reference, max_users: max, fee })
}

// ------------------------------------------------------------------------------------------
// Settings and holidays

/// Check a setting's value; returns the value to store.
pub fn validate_setting(key: &str, value: &str) -> anyhow::Result<String> {
    let v = value.trim();
    // No setting holds a character that could end a mail header line, a CSV row or a terminal
    // escape (issue 18 #8: a newline in mail-from added a Bcc to every mail).
    profile::check_chars("value", v).map_err(|e| invalid(format!("{key}: {e}")))?;
    match key {
        "launch-date" | "decommission-date" => Ok(profile::parse_date("date", v)?.to_string()),
        "service-hours" => match v.to_ascii_lowercase().as_str() {
            "on" | "off" => Ok(v.to_ascii_lowercase()),
            _ => Err(invalid("service-hours: on or off").into()),
        },
        "notifications" => match v.to_ascii_lowercase().as_str() {
            "on" | "off" => Ok(v.to_ascii_lowercase()),
            _ => Err(invalid("notifications: on or off (e-mails about pending and decided requests)").into()),
        },
        "mail" if mail::valid_setting(v) => Ok(v.to_string()),
        "mail" => Err(invalid("mail: file:PATH or smtp://HOST:PORT").into()),
        "mail-from" | "mail-from-eservice" => {
            mail::sender(v).map(|m| m.to_string()).map_err(|e| invalid(format!("{key}: {e:#}")).into())
        }
        "request-expiry-hours" => match v.parse::<i64>() {
            Ok(h) if (1..=24 * 365).contains(&h) => Ok(h.to_string()),
            _ => Err(invalid("request-expiry-hours: a whole number of hours, 1 to 8760").into()),
        },
        "test-clock" => Err(not_permitted("test-clock is fixed when the database is created").into()),
        other => Err(invalid(format!(
            "unknown setting {other:?} (launch-date, decommission-date, service-hours, mail, mail-from, mail-from-eservice, request-expiry-hours, notifications)"
        ))
        .into()),
    }
}

/// Set one setting, keeping the launch before decommissioning.
pub fn set_setting(w: &mut Work<'_>, op: &UserId, key: &str, value: &str) -> anyhow::Result<String> {
    let key = key.trim().to_ascii_lowercase();
    let value = validate_setting(&key, value)?;
    let old = settings::get_or_default(&w.tx, &key)?;
    let launch = settings::get_or_default(&w.tx, "launch-date")?;
    let decommission = settings::get_or_default(&w.tx, "decommission-date")?;
    let (l, d) = match key.as_str() {
        "launch-date" => (value.as_str(), decommission.as_str()),
        "decommission-date" => (launch.as_str(), value.as_str()),
        _ => (launch.as_str(), decommission.as_str()),
    };
    if l > d {
        return Err(invalid(format!("the 2FA launch ({l}) must come before smartcard decommissioning ({d})")).into());
    }
    settings::set(&w.tx, &key, &value)?;
    w.audit(&audit::Event {
        actor: Some(op.as_str()),
        action: "setting.changed",
        detail: json!({ "key": key, "value": [old, value] }).to_string(),
        ..Default::default()
    })?;
    Ok(value)
}

pub fn add_holiday(w: &mut Work<'_>, op: &UserId, day: NaiveDate, name: &str) -> anyhow::Result<()> {
    let name = &if name.trim().is_empty() { String::new() } else { profile::free_text("--name", name, 80)? };
    if !calendar::add(&w.tx, day, name)? {
        return Err(conflict(format!("{day} is already a holiday")).into());
    }
    w.audit(&audit::Event {
        actor: Some(op.as_str()),
        action: "holiday.added",
        detail: json!({ "date": day, "name": name }).to_string(),
        ..Default::default()
    })
}

pub fn remove_holiday(w: &mut Work<'_>, op: &UserId, day: NaiveDate) -> anyhow::Result<()> {
    if !calendar::remove(&w.tx, day)? {
        return Err(invalid(format!("{day} is not a holiday")).into());
    }
    w.audit(&audit::Event {
        actor: Some(op.as_str()),
        action: "holiday.removed",
        detail: json!({ "date": day }).to_string(),
        ..Default::default()
    })
}

// ------------------------------------------------------------------------------------------
// The exchange's own accounts

/// Add an operator (HKEXOPnn) or auditor (HKEXAUnn).
pub fn add_account(
    w: &mut Work<'_>,
    op: &UserId,
    role: Role,
    surname: &str,
    other_names: &str,
    email: &str,
) -> anyhow::Result<UserId> {
    let prefix = match role {
        Role::Operator => "HKEXOP",
        Role::Auditor => "HKEXAU",
        _ => {
            return Err(invalid("--role: operator or auditor (participants' DAs come from DA3, users from DMS)").into())
        }
    };
    let mut new_id = None;
    for n in 1..=99 {
        let id = UserId::parse(&format!("{prefix}{n:02}"))?;
        if !users::id_taken(&w.tx, &id)? {
            new_id = Some(id);
            break;
        }
    }
    let id = new_id.ok_or_else(|| conflict(format!("no free {prefix}nn IDs left")))?;
    users::insert(&w.tx, &UserProfile::new(id.clone(), None, role, surname, other_names, Some(email), w.now))?;
    w.audit(&audit::Event {
        actor: Some(op.as_str()),
        action: "account.added",
        subject: Some(id.as_str()),
        detail: json!({ "role": role.as_str() }).to_string(),
        ..Default::default()
    })?;
    w.notify(mail::notification(
        email,
        "Account created",
        &format!(
            "An exchange {} account was created for you. First-time logon: set a password (Forgot/Reset) and set up the OTP channel.",
            role.as_str()
        ),
    ));
    Ok(id)
}

/// Unlock and reset another operator or auditor account (the exchange's counterpart of DA3).
pub fn reset_account(w: &mut Work<'_>, op: &UserId, user: &UserId) -> anyhow::Result<()> {
    if op == user {
        return Err(not_permitted("no one-handed operation: another operator must reset your account").into());
    }
    let mut a = users::account(&w.tx, user)?.ok_or_else(|| invalid(format!("no user {user}")))?;
    if !a.role().is_internal() {
        return Err(invalid(format!(
            "{user} is not an exchange account: DAs are reset through DA3, users by their DAs"
        ))
        .into());
    }
    credentials::reset(w, &mut a, "account reset")?;
    credentials::audit_reset(w, op, &a, "account.reset", json!({}))?;
    if let Some(e) = &a.profile.email {
        w.notify(mail::notification(
            e,
            "Account reset",
            "Your exchange account was unlocked and its password and OTP device registration reset: your next logon is a first-time logon.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_may_be_listed_with_commas_spaces_or_semicolons() {
        let d = parse_domains(&["ABC.com.hk;def.hk".to_string(), "x.hk, y.hk".to_string()]).expect("valid");
        assert_eq!(d, ["abc.com.hk", "def.hk", "x.hk", "y.hk"]);
        assert!(parse_domains(&["not a domain!".to_string()]).is_err());
    }

    #[test]
    fn settings_are_validated() {
        assert_eq!(validate_setting("service-hours", "OFF").expect("ok"), "off");
        assert_eq!(validate_setting("launch-date", "12/06/23").expect("ok"), "2023-06-12");
        assert!(validate_setting("request-expiry-hours", "0").is_err());
        assert!(validate_setting("test-clock", "on").is_err());
        assert!(validate_setting("mail", "ftp://x").is_err());
    }

    #[test]
    fn the_id_space_of_each_house() {
        assert_eq!(id_space(ClearingHouse::HkscCp), 1269 + 27);
        assert_eq!(id_space(ClearingHouse::Hkcc), 2 * (1269 + 27), "HKCC owns digits 1 and 3");
        assert_eq!(id_space(ClearingHouse::Seoch), id_space(ClearingHouse::Hkcc));
    }
}
