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
        .flat_map(|d| d.split([',', ' ']))
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
        &UserProfile {
            user_id: da.clone(),
            participant_id: Some(p.participant_id.clone()),
            role,
            status: "ENABLED".into(),
            surname,
            other_names,
            email: Some(email.clone()),
            enable_from: None,
            disable_after: None,
            channel: "CST".into(),
            limit_cents: 0,
            groups: String::new(),
            srn: None,
            cert_expiry: None,
            pin_phc: None,
            created_at: now,
            version: 1,
        },
    )?;
    let reference = eservices::record(
        &tx,
        &Eservice {
            form: "DA3",
            participant_id: &p.participant_id,
            action: "add",
            subject: Some(&da),
            accounts: None,
            fee_cents: None,
            processed_by: &op.user_id,
        },
        now,
    )?;
    audit::append(
        &tx,
        now,
        &audit::Event {
            actor: Some(&op.user_id),
            action: "da3.add",
            subject: Some(&da),
            participant_id: Some(&p.participant_id),
            detail: json!({ "reference": reference, "role": role.as_str() }).to_string(),
        },
    )?;
    tx.commit()?;
    ctx.notify(&eservice_mail(&email, &reference, &p.participant_id, DA3_TITLE, &format!("Delegated Administrator added: user ID {da} ({}). First-time logon: set a password (Forgot/Reset) and set up the OTP channel.", role.label())));
    ctx.out.object(&json!({ "da_id": da, "reference": reference, "status": "Completed" }))?;
    Ok(())
}
