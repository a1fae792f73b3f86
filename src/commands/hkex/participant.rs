//! `hkex participant add|list|show`.

use crate::commands::signed_in;
use crate::context::{Ctx, Mode};
use crate::domain::role::Role;
use crate::domain::user_id::ClearingHouse;
use crate::ops::exchange::{self, ParticipantSummary};
use crate::output::time;
use serde_json::{json, Value};

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

pub fn add(ctx: &mut Ctx, id: &str, name: &str, house: &str, max_users: i64, domains: &[String]) -> anyhow::Result<()> {
    let p = exchange::new_participant(id, name, house, max_users, domains, ctx.now())?;
    let v = signed_in(ctx, &[Role::Operator], Mode::Write, |w, op| {
        exchange::add_participant(w, op.account.id(), &p)?;
        Ok(summary_json(&exchange::summary(w, p)?))
    })?;
    ctx.out.object(&v)?;
    Ok(())
}

pub fn list(ctx: &mut Ctx) -> anyhow::Result<()> {
    let cols =
        ["participant_id", "name", "house", "max_users", "total_users", "delegated_administrators", "da_minimum_met"];
    let all = signed_in(ctx, &[Role::Operator, Role::Auditor], Mode::Read, |w, _| exchange::summaries(w))?;
    let mut rows = ctx.out.rows("participants", &cols)?;
    for s in &all {
        let v = summary_json(s);
        rows.push(cols.iter().map(|c| v[*c].clone()).collect())?;
    }
    rows.finish(&[], None)?;
    Ok(())
}

pub fn show(ctx: &mut Ctx, id: &str, house: Option<ClearingHouse>) -> anyhow::Result<()> {
    let v = signed_in(ctx, &[Role::Operator, Role::Auditor], Mode::Read, |w, _| {
        let p = exchange::resolve(w, id, house)?;
        Ok(summary_json(&exchange::summary(w, p)?))
    })?;
    ctx.out.object(&v)?;
    Ok(())
}
