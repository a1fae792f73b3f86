//! Exchange operator functions (SPEC §5): participants and quotas, eService DA3 (DA
//! maintenance) and DA4 (additional user accounts), timeline settings, holidays, migration.

use crate::commands::signed_in;
use crate::context::Ctx;
use crate::domain::maker_checker as mc;
use crate::domain::profile;
use crate::domain::role::Role;
use crate::domain::user_id::{self, ClearingHouse, ParticipantId};
use crate::error::{conflict, invalid};
use crate::mail;
use crate::requests;
use crate::storage::eservices::{self, Eservice};
use crate::storage::participants::{self, Participant};
use crate::storage::users::{self, UserProfile};
use crate::storage::{audit, ts};
use serde_json::json;

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

pub fn new_participant(
    id: &str,
    name: &str,
    house: &str,
    max_users: i64,
    domains: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Participant> {
    let house = ClearingHouse::parse(house)?;
    let pid = ParticipantId::parse(id, house)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(invalid("name: 1 to 80 printable characters").into());
    }
    if max_users < 0 || max_users > id_space(house) {
        return Err(invalid(format!(
            "max users {max_users}: must be 0 to {} (the ID space of a {} participant)",
            id_space(house),
            house.label()
        ))
        .into());
    }
    Ok(Participant {
        participant_id: pid.as_str().to_string(),
        name: name.to_uppercase(),
        house,
        max_users,
        domains: parse_domains(domains)?,
        created_at: now,
    })
}

fn participant_json(c: &rusqlite::Connection, p: &Participant) -> anyhow::Result<serde_json::Value> {
    let counts = participants::counts(c, &p.participant_id)?;
    let das = users::da_counts(c, &p.participant_id)?;
    Ok(json!({
        "participant_id": p.participant_id, "name": p.name, "house": p.house.as_str(), "clearing_house": p.house.label(),
        "max_users": p.max_users, "total_users": counts.total, "delegated_administrators": counts.das,
        "enabled_da_makers": das.makers, "enabled_da_checkers": das.checkers,
        "da_minimum_met": das.makers >= mc::MIN_MAKERS && das.checkers >= mc::MIN_CHECKERS,
        "domains": p.domains, "created_at": ts(p.created_at),
    }))
}

pub fn cmd_participant_add(
    ctx: &mut Ctx,
    id: &str,
    name: &str,
    house: &str,
    max_users: i64,
    domains: &[String],
) -> anyhow::Result<()> {
    let op = signed_in(ctx, &[Role::Operator])?;
    let p = new_participant(id, name, house, max_users, domains, ctx.now)?;
    let tx = ctx.store.write()?;
    if participants::get(&tx, &p.participant_id)?.is_some() {
        return Err(conflict(format!("participant {} already exists", p.participant_id)).into());
    }
    participants::insert(&tx, &p)?;
    audit::append(
        &tx,
        ctx.now,
        &audit::Event {
            actor: Some(&op.user_id),
            action: "participant.added",
            participant_id: Some(&p.participant_id),
            detail: json!({ "name": p.name, "house": p.house.as_str(), "max_users": p.max_users }).to_string(),
            ..Default::default()
        },
    )?;
    let v = participant_json(&tx, &p)?;
    tx.commit()?;
    ctx.out.object(&v)?;
    Ok(())
}

pub fn cmd_participant_list(ctx: &mut Ctx) -> anyhow::Result<()> {
    signed_in(ctx, &[Role::Operator, Role::Auditor])?;
    let tx = ctx.store.read()?;
    let cols =
        ["participant_id", "name", "house", "max_users", "total_users", "delegated_administrators", "da_minimum_met"];
    let mut rows = ctx.out.rows("participants", &cols)?;
    for p in participants::list(&tx)? {
        let v = participant_json(&tx, &p)?;
        rows.push(cols.iter().map(|c| v[*c].clone()).collect())?;
    }
    drop(tx);
    rows.finish(&[], None)?;
    Ok(())
}

pub fn cmd_participant_show(ctx: &mut Ctx, id: &str) -> anyhow::Result<()> {
    signed_in(ctx, &[Role::Operator, Role::Auditor])?;
    let tx = ctx.store.read()?;
    let p =
        participants::get(&tx, &id.trim().to_uppercase())?.ok_or_else(|| invalid(format!("no participant {id}")))?;
    let v = participant_json(&tx, &p)?;
    drop(tx);
    ctx.out.object(&v)?;
    Ok(())
}

/// The e-mail that tells a participant its eService is Completed (seed Appendix D c).
pub fn eservice_mail(to: &str, reference: &str, participant: &str, form_title: &str, what: &str) -> mail::Mail {
    mail::Mail {
        to: to.to_string(),
        subject: format!("{form_title} ({reference} from {participant})"),
        body: format!(
            "For reference: the eService is Completed\n\nReference Number      {reference}\nWorkflow Status       Completed\n\
             Notification Type     For reference\nJust Processed By     HKEX\nRequire action from   Nil\n\n{what}\n"
        ),
    }
}

/// Record a processed DA3 eService with its audit row, in the caller's transaction; returns
/// the reference (e.g. `DA3_00013361`).
fn record_da3(
    c: &rusqlite::Connection,
    now: chrono::DateTime<chrono::Utc>,
    operator: &str,
    participant_id: &str,
    action: &str,
    subject: &str,
    mut detail: serde_json::Value,
) -> anyhow::Result<String> {
    let e = Eservice {
        form: "DA3",
        participant_id,
        action,
        subject: Some(subject),
        accounts: None,
        fee_cents: None,
        processed_by: operator,
    };
    let reference = eservices::record(c, &e, now)?;
    detail["reference"] = json!(reference);
    let audit_action = format!("da3.{action}");
    let event = audit::Event {
        actor: Some(operator),
        action: &audit_action,
        subject: Some(subject),
        participant_id: Some(participant_id),
        detail: detail.to_string(),
    };
    audit::append(c, now, &event)?;
    Ok(reference)
}

pub const DA3_TITLE: &str = "DA 3 - CCASS/ CCMS Delegated Administrator Application/ Maintenance Form";

pub fn cmd_da3_add(
    ctx: &mut Ctx,
    participant: &str,
    role: &str,
    surname: &str,
    other_names: &str,
    email: &str,
) -> anyhow::Result<()> {
    let op = signed_in(ctx, &[Role::Operator])?;
    let role: Role = role.parse().map_err(invalid)?;
    if !role.is_da() {
        return Err(invalid("--role: maker or checker").into());
    }
    let surname = profile::person_name("surname", surname)?;
    let other_names = profile::person_name("other names", other_names)?;
    let email = profile::email(email)?;
    let now = ctx.now;
    let tx = ctx.store.write()?;
    let p = requests::participant(&tx, &participant.trim().to_uppercase())?;
    let pid = requests::participant_id(&p)?;
    let counts = participants::counts(&tx, &p.participant_id)?;
    mc::check_quota(p.max_users, counts.total, 1).map_err(requests::refused)?;
    let taken = users::ids_of_participant(&tx, &p.participant_id)?;
    let da_id = user_id::next_da_id(&pid, p.house, &|id| taken.contains(id))
        .ok_or_else(|| conflict(format!("participant {} has no free DA IDs left", p.participant_id)))?;
    let da = da_id.as_str().to_string();
    users::insert(
        &tx,
        &UserProfile::new(&da, Some(&p.participant_id), role, &surname, &other_names, Some(&email), now),
    )?;
    let reference = record_da3(&tx, now, &op.user_id, &p.participant_id, "add", &da, json!({ "role": role.as_str() }))?;
    tx.commit()?;
    ctx.notify(&eservice_mail(&email, &reference, &p.participant_id, DA3_TITLE, &format!("Delegated Administrator added: user ID {da} ({}). First-time logon: set a password (Forgot/Reset) and set up the OTP channel.", role.label())));
    ctx.out.object(&json!({ "da_id": da, "reference": reference, "status": "Completed" }))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// DA3 maintenance

/// Load a DA for a DA3 action, with its participant.
fn load_da(c: &rusqlite::Connection, da: &str) -> anyhow::Result<(crate::signin::Account, Participant)> {
    let a = crate::signin::load(c, da)?.ok_or_else(|| invalid(format!("no user {da}")))?;
    if !a.profile.role.is_da() {
        return Err(invalid(format!("{da} is not a Delegated Administrator")).into());
    }
    let p = requests::participant(c, a.participant().unwrap_or_default())?;
    Ok((a, p))
}

/// What a DA3 action does to a DA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Da3Action {
    Unlock,
    Reset,
    Enable,
    Disable,
    Delete,
}

impl Da3Action {
    fn name(self) -> &'static str {
        match self {
            Da3Action::Unlock => "unlock",
            Da3Action::Reset => "reset",
            Da3Action::Enable => "enable",
            Da3Action::Disable => "disable",
            Da3Action::Delete => "delete",
        }
    }
}

pub fn cmd_da3(ctx: &mut Ctx, da: &str, action: Da3Action) -> anyhow::Result<()> {
    let op = signed_in(ctx, &[Role::Operator])?;
    let now = ctx.now;
    let tx = ctx.store.write()?;
    let (a, p) = load_da(&tx, da)?;
    let leaves = matches!(action, Da3Action::Disable | Da3Action::Delete) && a.profile.enabled();
    if leaves {
        let before = users::da_counts(&tx, &p.participant_id)?;
        let mut after = before;
        if a.profile.role == Role::Maker {
            after.makers -= 1;
        } else {
            after.checkers -= 1;
        }
        mc::check_da_minimum(before, after).map_err(requests::refused)?;
    }
    let what = match action {
        Da3Action::Unlock | Da3Action::Reset => {
            // Seed Appendix D c: after DA3 the DA's next logon is a first-time logon.
            requests::reset_credentials(&tx, da, now, "DA3 unlock/reset")?;
            users::bump_version(&tx, da)?;
            "unlocked; password and OTP device registration reset: the next logon is a first-time logon"
        }
        Da3Action::Enable | Da3Action::Disable => {
            let mut prof = a.profile.clone();
            prof.status = if action == Da3Action::Enable { "ENABLED" } else { "DISABLED" }.into();
            if prof.status == a.profile.status {
                return Err(conflict(format!("{da} is already {}", prof.status)).into());
            }
            users::update_profile(&tx, &prof)?;
            if action == Da3Action::Disable {
                crate::storage::sessions::end_all_for_user(&tx, da, None, now, "disabled")?;
            }
            if action == Da3Action::Enable {
                "enabled"
            } else {
                "disabled"
            }
        }
        Da3Action::Delete => {
            users::delete(&tx, da, Some(&p.participant_id), now)?;
            "deleted"
        }
    };
    let reference = record_da3(&tx, now, &op.user_id, &p.participant_id, action.name(), da, json!({}))?;
    tx.commit()?;
    if let Some(e) = &a.profile.email {
        ctx.notify(&eservice_mail(
            e,
            &reference,
            &p.participant_id,
            DA3_TITLE,
            &format!("Delegated Administrator {da}: {what}."),
        ));
    }
    ctx.out.object(&json!({ "da_id": da, "action": action.name(), "reference": reference, "status": "Completed" }))?;
    Ok(())
}

pub fn cmd_da3_assign_da(ctx: &mut Ctx, user: &str, role: &str) -> anyhow::Result<()> {
    let op = signed_in(ctx, &[Role::Operator])?;
    let role: Role = role.parse().map_err(invalid)?;
    if !role.is_da() {
        return Err(invalid("--role: maker or checker").into());
    }
    let now = ctx.now;
    let tx = ctx.store.write()?;
    let decommission = crate::storage::settings::get_or_default(&tx, "decommission-date")?;
    if crate::signin::hkt(now).date_naive().to_string() < decommission {
        return Err(crate::error::not_permitted(format!(
            "the DA role can be assigned to existing users only after smartcard decommissioning ({decommission})"
        ))
        .into());
    }
    let mut prof = users::get(&tx, user)?.ok_or_else(|| invalid(format!("no user {user}")))?;
    if prof.role != Role::User {
        return Err(conflict(format!("{user} is already a {}", prof.role.label())).into());
    }
    let pid = prof.participant_id.clone().unwrap_or_default();
    prof.role = role;
    users::update_profile(&tx, &prof)?;
    let reference = record_da3(&tx, now, &op.user_id, &pid, "assign-da", user, json!({ "role": role.as_str() }))?;
    tx.commit()?;
    if let Some(e) = &prof.email {
        ctx.notify(&eservice_mail(
            e,
            &reference,
            &pid,
            DA3_TITLE,
            &format!("User {user} now holds the {} role.", role.label()),
        ));
    }
    ctx.out
        .object(&json!({ "user_id": user, "role": role.as_str(), "reference": reference, "status": "Completed" }))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// DA4

/// One-off fee per additional user account (seed 4.3.1), in cents.
pub const DA4_FEE_CENTS: i64 = 25_000;

pub fn cmd_da4(ctx: &mut Ctx, participant: &str, accounts: i64) -> anyhow::Result<()> {
    let op = signed_in(ctx, &[Role::Operator])?;
    if !(1..=5_000).contains(&accounts) {
        return Err(invalid("--accounts: 1 to 5000").into());
    }
    let now = ctx.now;
    let tx = ctx.store.write()?;
    let p = requests::participant(&tx, &participant.trim().to_uppercase())?;
    let max = p.max_users + accounts;
    if max > id_space(p.house) {
        return Err(invalid(format!(
            "{} would hold {max} accounts, more than its ID space allows ({})",
            p.participant_id,
            id_space(p.house)
        ))
        .into());
    }
    participants::set_max_users(&tx, &p.participant_id, max)?;
    let fee = accounts * DA4_FEE_CENTS;
    let reference = eservices::record(
        &tx,
        &Eservice {
            form: "DA4",
            participant_id: &p.participant_id,
            action: "additional-accounts",
            subject: None,
            accounts: Some(accounts),
            fee_cents: Some(fee),
            processed_by: &op.user_id,
        },
        now,
    )?;
    audit::append(&tx, now, &audit::Event { actor: Some(&op.user_id), action: "da4", participant_id: Some(&p.participant_id), detail: json!({ "reference": reference, "accounts": accounts, "max_users": [p.max_users, max], "fee_cents": fee }).to_string(), ..Default::default() })?;
    // The participant's DAs hear that the eService is Completed.
    let mut to = Vec::new();
    users::for_each_listing_row(
        &tx,
        &users::ListingFilter {
            participant: Some(&p.participant_id),
            roles: &["maker", "checker"],
            status: Some("ENABLED"),
        },
        |r| {
            if let Some(e) = r.email {
                to.push(e);
            }
            Ok(())
        },
    )?;
    tx.commit()?;
    for e in to {
        ctx.notify(&eservice_mail(&e, &reference, &p.participant_id, "DA 4 - CCASS / CCMS User Account Application Form", &format!("{accounts} additional user account(s) granted: maximum number of users is now {max}. One-off fee HK${}.", profile::format_cents(fee))));
    }
    ctx.out.object(&json!({ "reference": reference, "participant_id": p.participant_id, "accounts": accounts, "max_users": max, "fee_hkd": fee / 100, "status": "Completed" }))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Settings and holidays

pub fn cmd_settings_show(ctx: &mut Ctx) -> anyhow::Result<()> {
    signed_in(ctx, &[Role::Operator, Role::Auditor])?;
    let all = crate::storage::settings::all(ctx.store.conn())?;
    let mut m = serde_json::Map::new();
    for (k, v) in all {
        m.insert(k, json!(v));
    }
    ctx.out.object(&serde_json::Value::Object(m))?;
    Ok(())
}

/// Check a setting's value; returns the value to store.
pub fn validate_setting(key: &str, value: &str) -> anyhow::Result<String> {
    let v = value.trim();
    match key {
        "launch-date" | "decommission-date" => Ok(profile::parse_date("date", v)?.to_string()),
        "service-hours" => match v.to_ascii_lowercase().as_str() {
            "on" | "off" => Ok(v.to_ascii_lowercase()),
            _ => Err(invalid("service-hours: on or off").into()),
        },
        "mail" if mail::valid_setting(v) => Ok(v.to_string()),
        "mail" => Err(invalid("mail: file:PATH or smtp://HOST:PORT").into()),
        "mail-from" => profile::email(v.rsplit('<').next().unwrap_or(v).trim_end_matches('>')).map(|_| v.to_string()).map_err(|e| invalid(format!("mail-from: {e}")).into()),
        "request-expiry-hours" => match v.parse::<i64>() {
            Ok(h) if (1..=24 * 365).contains(&h) => Ok(h.to_string()),
            _ => Err(invalid("request-expiry-hours: a whole number of hours, 1 to 8760").into()),
        },
        "test-clock" => Err(crate::error::not_permitted("test-clock is fixed when the database is created").into()),
        other => Err(invalid(format!("unknown setting {other:?} (launch-date, decommission-date, service-hours, mail, mail-from, request-expiry-hours)")).into()),
    }
}

pub fn cmd_settings_set(ctx: &mut Ctx, key: &str, value: &str) -> anyhow::Result<()> {
    let op = signed_in(ctx, &[Role::Operator])?;
    let key = key.trim().to_ascii_lowercase();
    let value = validate_setting(&key, value)?;
    let tx = ctx.store.write()?;
    let old = crate::storage::settings::get_or_default(&tx, &key)?;
    let launch = crate::storage::settings::get_or_default(&tx, "launch-date")?;
    let decommission = crate::storage::settings::get_or_default(&tx, "decommission-date")?;
    let (l, d) = match key.as_str() {
        "launch-date" => (value.as_str(), decommission.as_str()),
        "decommission-date" => (launch.as_str(), value.as_str()),
        _ => (launch.as_str(), decommission.as_str()),
    };
    if l > d {
        return Err(invalid(format!("the 2FA launch ({l}) must come before smartcard decommissioning ({d})")).into());
    }
    crate::storage::settings::set(&tx, &key, &value)?;
    audit::append(
        &tx,
        ctx.now,
        &audit::Event {
            actor: Some(&op.user_id),
            action: "setting.changed",
            detail: json!({ "key": key, "value": [old, value] }).to_string(),
            ..Default::default()
        },
    )?;
    tx.commit()?;
    ctx.out.object(&json!({ "key": key, "value": value }))?;
    Ok(())
}

fn holiday_date(s: &str) -> anyhow::Result<chrono::NaiveDate> {
    Ok(profile::parse_date("date", s)?)
}

pub fn cmd_holiday_add(ctx: &mut Ctx, date: &str, name: &str) -> anyhow::Result<()> {
    let op = signed_in(ctx, &[Role::Operator])?;
    let d = holiday_date(date)?;
    let name = name.trim();
    if name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(invalid("--name: at most 80 printable characters").into());
    }
    let tx = ctx.store.write()?;
    if !crate::storage::calendar::add(&tx, d, name)? {
        return Err(conflict(format!("{d} is already a holiday")).into());
    }
    audit::append(
        &tx,
        ctx.now,
        &audit::Event {
            actor: Some(&op.user_id),
            action: "holiday.added",
            detail: json!({ "date": d, "name": name }).to_string(),
            ..Default::default()
        },
    )?;
    tx.commit()?;
    ctx.out.object(&json!({ "date": d.to_string(), "name": name }))?;
    Ok(())
}

pub fn cmd_holiday_remove(ctx: &mut Ctx, date: &str) -> anyhow::Result<()> {
    let op = signed_in(ctx, &[Role::Operator])?;
    let d = holiday_date(date)?;
    let tx = ctx.store.write()?;
    if !crate::storage::calendar::remove(&tx, d)? {
        return Err(invalid(format!("{d} is not a holiday")).into());
    }
    audit::append(
        &tx,
        ctx.now,
        &audit::Event {
            actor: Some(&op.user_id),
            action: "holiday.removed",
            detail: json!({ "date": d }).to_string(),
            ..Default::default()
        },
    )?;
    tx.commit()?;
    ctx.out.object(&json!({ "date": d.to_string(), "removed": true }))?;
    Ok(())
}

pub fn cmd_holiday_list(ctx: &mut Ctx) -> anyhow::Result<()> {
    signed_in(ctx, &[Role::Operator, Role::Auditor, Role::Maker, Role::Checker])?;
    let list = crate::storage::calendar::list(ctx.store.conn())?;
    let mut rows = ctx.out.rows("holidays", &["date", "name"])?;
    for (d, n) in list {
        rows.push(vec![json!(d), json!(n)])?;
    }
    rows.finish(&[], None)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The exchange's own accounts

pub fn cmd_account_add(ctx: &mut Ctx, role: &str, surname: &str, other_names: &str, email: &str) -> anyhow::Result<()> {
    let op = signed_in(ctx, &[Role::Operator])?;
    let role: Role = role.parse().map_err(invalid)?;
    let prefix = match role {
        Role::Operator => "HKEXOP",
        Role::Auditor => "HKEXAU",
        _ => {
            return Err(invalid("--role: operator or auditor (participants' DAs come from DA3, users from DMS)").into())
        }
    };
    let surname = profile::person_name("surname", surname)?;
    let other_names = profile::person_name("other names", other_names)?;
    let email = profile::email(email)?;
    let now = ctx.now;
    let tx = ctx.store.write()?;
    let mut new_id = None;
    for n in 1..=99 {
        let id = format!("{prefix}{n:02}");
        if !users::id_taken(&tx, &id)? {
            new_id = Some(id);
            break;
        }
    }
    let id = new_id.ok_or_else(|| conflict(format!("no free {prefix}nn IDs left")))?;
    users::insert(&tx, &UserProfile::new(&id, None, role, &surname, &other_names, Some(&email), now))?;
    audit::append(
        &tx,
        now,
        &audit::Event {
            actor: Some(&op.user_id),
            action: "account.added",
            subject: Some(&id),
            detail: json!({ "role": role.as_str() }).to_string(),
            ..Default::default()
        },
    )?;
    tx.commit()?;
    ctx.notify(&mail::notification(&email, "Account created", &format!("An exchange {} account was created for you. First-time logon: set a password (Forgot/Reset) and set up the OTP channel.", role.as_str())));
    ctx.out.object(&json!({ "user_id": id, "role": role.as_str() }))?;
    Ok(())
}

/// Unlock and reset an operator or auditor account (the exchange's counterpart of DA3 unlock).
pub fn cmd_account_reset(ctx: &mut Ctx, user: &str) -> anyhow::Result<()> {
    let op = signed_in(ctx, &[Role::Operator])?;
    if op.user_id == user {
        return Err(
            crate::error::not_permitted("no one-handed operation: another operator must reset your account").into()
        );
    }
    let now = ctx.now;
    let tx = ctx.store.write()?;
    let p = users::get(&tx, user)?.ok_or_else(|| invalid(format!("no user {user}")))?;
    if !p.role.is_internal() {
        return Err(invalid(format!(
            "{user} is not an exchange account: DAs are reset through DA3, users by their DAs"
        ))
        .into());
    }
    requests::reset_credentials(&tx, user, now, "account reset")?;
    users::bump_version(&tx, user)?;
    audit::append(
        &tx,
        now,
        &audit::Event { actor: Some(&op.user_id), action: "account.reset", subject: Some(user), ..Default::default() },
    )?;
    tx.commit()?;
    if let Some(e) = &p.email {
        ctx.notify(&mail::notification(e, "Account reset", "Your exchange account was unlocked and its password and OTP device registration reset: your next logon is a first-time logon."));
    }
    ctx.out.object(&json!({ "user_id": user, "reset": true }))?;
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
}
