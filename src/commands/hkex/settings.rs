//! `hkex settings show|set` and `hkex holiday add|remove|list`.

use crate::commands::signed_in;
use crate::context::{Ctx, Mode};
use crate::domain::profile;
use crate::domain::role::Role;
use crate::ops::exchange;
use crate::storage::{calendar, settings};
use serde_json::json;

pub fn show(ctx: &mut Ctx) -> anyhow::Result<()> {
    let all = signed_in(ctx, &[Role::Operator, Role::Auditor], Mode::Read, |w, _| settings::all(&w.tx))?;
    let m: serde_json::Map<String, serde_json::Value> = all.into_iter().map(|(k, v)| (k, json!(v))).collect();
    ctx.out.object(&serde_json::Value::Object(m))?;
    Ok(())
}

pub fn set(ctx: &mut Ctx, key: &str, value: &str) -> anyhow::Result<()> {
    let (key, value) = signed_in(ctx, &[Role::Operator], Mode::Write, |w, op| {
        let v = exchange::set_setting(w, op.account.id(), key, value)?;
        Ok((key.trim().to_ascii_lowercase(), v))
    })?;
    ctx.out.object(&json!({ "key": key, "value": value }))?;
    Ok(())
}

pub fn holiday_add(ctx: &mut Ctx, date: &str, name: &str) -> anyhow::Result<()> {
    let d = profile::parse_date("date", date)?;
    let name = name.trim();
    signed_in(ctx, &[Role::Operator], Mode::Write, |w, op| exchange::add_holiday(w, op.account.id(), d, name))?;
    ctx.out.object(&json!({ "date": d.to_string(), "name": name }))?;
    Ok(())
}

pub fn holiday_remove(ctx: &mut Ctx, date: &str) -> anyhow::Result<()> {
    let d = profile::parse_date("date", date)?;
    signed_in(ctx, &[Role::Operator], Mode::Write, |w, op| exchange::remove_holiday(w, op.account.id(), d))?;
    ctx.out.object(&json!({ "date": d.to_string(), "removed": true }))?;
    Ok(())
}

pub fn holiday_list(ctx: &mut Ctx) -> anyhow::Result<()> {
    let readers = [Role::Operator, Role::Auditor, Role::Maker, Role::Checker];
    let list = signed_in(ctx, &readers, Mode::Read, |w, _| calendar::list(&w.tx))?;
    let mut rows = ctx.out.rows("holidays", &["date", "name"])?;
    for (d, n) in list {
        rows.push(vec![json!(d), json!(n)])?;
    }
    rows.finish(&[], None)?;
    Ok(())
}
