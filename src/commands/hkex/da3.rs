//! eService DA3: `hkex da3 add|unlock|reset|enable|disable|delete|change-email|assign-da`.

use crate::commands::signed_in;
use crate::context::{Ctx, Mode};
use crate::domain::profile;
use crate::domain::role::Role;
use crate::domain::user_id::{ClearingHouse, UserId};
use crate::error::{invalid, usage};
use crate::ops::exchange::{self, Da3Action, NewDa};
use crate::output::printable;
use crate::storage::users;
use serde_json::json;

fn da_role(role: &str) -> anyhow::Result<Role> {
    let role: Role = role.parse().map_err(invalid)?;
    if !role.is_da() {
        return Err(invalid("--role: maker or checker").into());
    }
    Ok(role)
}

pub fn add(
    ctx: &mut Ctx,
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
    let (id, reference) = signed_in(ctx, &[Role::Operator], Mode::Write, |w, op| {
        let p = exchange::resolve(w, participant, house)?;
        exchange::da3_add(w, op, &p, &da)
    })?;
    ctx.out.object(&json!({ "da_id": id, "reference": reference, "status": "Completed" }))?;
    Ok(())
}

/// Unlock DA Account / Reset: the form names the DA's user ID and registered e-mail address.
/// The old form without `--email` still works, with a deprecation warning (a terminal asks).
pub fn unlock(ctx: &mut Ctx, da: UserId, action: Da3Action, email: Option<String>) -> anyhow::Result<()> {
    let email = match email {
        Some(e) => Some(e),
        None => match crate::prompt::Prompter::open() {
            Some(t) => Some(t.input(&format!("Registered e-mail address of {da}"))?),
            None => None,
        },
    };
    run(ctx, da, action, email.as_deref())?;
    if email.is_none() {
        ctx.out.warn(&format!(
            "deprecated: `hkex da3 {}` without --email; the eService checks the DA's registered address, give it with --email",
            action.name()
        ));
    }
    Ok(())
}

/// Delete DA: irreversible (a user ID is never reused), so a person at a terminal confirms it
/// and a script says so with `--yes`. A script written before `--yes` existed keeps working on
/// a pipe, with a deprecation warning (SPEC §8: the contract changes only by deprecation).
pub fn delete(ctx: &mut Ctx, da: UserId, yes: bool) -> anyhow::Result<()> {
    let mut deprecated = false;
    if !yes {
        match crate::prompt::Prompter::open() {
            Some(t) => {
                // The session is checked before anyone is asked, and the question names the DA.
                let who = signed_in(ctx, &[Role::Operator], Mode::Read, |w, _| users::get(&w.tx, &da))?;
                // An ID that is no DA gets the eService's own error from the delete below.
                if let Some(p) = who.filter(|p| p.role.is_da()) {
                    let of = p.participant.as_ref().map(|k| format!(" of {k}")).unwrap_or_default();
                    let question = format!(
                        "Delete DA {da} ({} {}, {}{of})? This cannot be undone: the ID is never used again.",
                        printable(&p.surname),
                        printable(&p.other_names),
                        p.role.label()
                    );
                    if !t.confirm(&question, false)? {
                        return Err(usage(format!("{da} not deleted")).into());
                    }
                }
            }
            None => deprecated = true,
        }
    }
    run(ctx, da.clone(), Da3Action::Delete, None)?;
    if deprecated {
        ctx.out.warn(&format!(
            "deprecated: `hkex da3 delete {da}` without --yes; the deletion cannot be undone, so a script should say --yes"
        ));
    }
    Ok(())
}

pub fn action(ctx: &mut Ctx, da: UserId, action: Da3Action) -> anyhow::Result<()> {
    run(ctx, da, action, None)
}

fn run(ctx: &mut Ctx, da: UserId, action: Da3Action, email: Option<&str>) -> anyhow::Result<()> {
    let reference = signed_in(ctx, &[Role::Operator], Mode::Write, |w, op| exchange::da3(w, op, &da, action, email))?;
    ctx.out.object(&json!({ "da_id": da, "action": action.name(), "reference": reference, "status": "Completed" }))?;
    Ok(())
}

pub fn change_email(ctx: &mut Ctx, da: UserId, email: &str) -> anyhow::Result<()> {
    let email = profile::email(email)?;
    let reference =
        signed_in(ctx, &[Role::Operator], Mode::Write, |w, op| exchange::da3_change_email(w, op, &da, &email))?;
    ctx.out.object(&json!({
        "da_id": da, "action": "change-email", "email": email, "reference": reference, "status": "Completed",
    }))?;
    Ok(())
}

pub fn assign_da(ctx: &mut Ctx, user: UserId, role: &str) -> anyhow::Result<()> {
    let role = da_role(role)?;
    let reference =
        signed_in(ctx, &[Role::Operator], Mode::Write, |w, op| exchange::da3_assign_da(w, op, &user, role))?;
    ctx.out
        .object(&json!({ "user_id": user, "role": role.as_str(), "reference": reference, "status": "Completed" }))?;
    Ok(())
}
