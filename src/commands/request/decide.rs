//! `request reject N --reason R` (checker) and `request cancel N` (its maker).

use crate::commands::signed_in;
use crate::context::{Ctx, Mode};
use crate::domain::role::Role;
use crate::error::invalid;
use crate::ops::maker_checker::{self, Decision};
use serde_json::json;

pub fn reject(ctx: &mut Ctx, n: i64, reason: &str) -> anyhow::Result<()> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control) {
        return Err(invalid("--reason: 1 to 500 printable characters").into());
    }
    decide(ctx, n, &[Role::Checker], Decision::Reject(reason.to_string()))
}

pub fn cancel(ctx: &mut Ctx, n: i64) -> anyhow::Result<()> {
    decide(ctx, n, &[Role::Maker], Decision::Cancel)
}

fn decide(ctx: &mut Ctx, n: i64, roles: &[Role], d: Decision) -> anyhow::Result<()> {
    let status = signed_in(ctx, roles, Mode::Write, |w, me| maker_checker::decide(w, me, n, d))?;
    ctx.out.object(&json!({ "request_id": n, "status": status.as_str() }))?;
    Ok(())
}
