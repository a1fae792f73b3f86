//! `hkex account add|reset`: the exchange's own operators and auditors.

use crate::commands::signed_in;
use crate::context::{Ctx, Mode};
use crate::domain::profile;
use crate::domain::role::Role;
use crate::domain::user_id::UserId;
use crate::error::invalid;
use crate::ops::exchange;
use serde_json::json;

pub fn add(ctx: &mut Ctx, role: &str, surname: &str, other_names: &str, email: &str) -> anyhow::Result<()> {
    let role: Role = role.parse().map_err(invalid)?;
    let surname = profile::person_name("surname", surname)?;
    let other_names = profile::person_name("other names", other_names)?;
    let email = profile::email(email)?;
    let id = signed_in(ctx, &[Role::Operator], Mode::Write, |w, op| {
        exchange::add_account(w, op.account.id(), role, &surname, &other_names, &email)
    })?;
    ctx.out.object(&json!({ "user_id": id, "role": role.as_str() }))?;
    Ok(())
}

pub fn reset(ctx: &mut Ctx, user: UserId) -> anyhow::Result<()> {
    signed_in(ctx, &[Role::Operator], Mode::Write, |w, op| exchange::reset_account(w, op.account.id(), &user))?;
    ctx.out.object(&json!({ "user_id": user, "reset": true }))?;
    Ok(())
}
