//! `hkex remind expiring|not-initialised` (operator, or `--system` from cron).

use crate::commands::operator_or_system;
use crate::context::{Ctx, Mode};
use crate::domain::reminder;
use crate::ops::reminders::{self, Reminder};
use crate::storage::ts;
use serde_json::json;

const COLUMNS: &[&str] = &["user_id", "email", "threshold", "expires_at"];

pub fn expiring(ctx: &mut Ctx, days: Option<i64>, dry_run: bool, system: bool) -> anyhow::Result<()> {
    let thresholds: Vec<i64> = match days {
        Some(d) => vec![d],
        None => reminder::EXPIRY_THRESHOLDS.to_vec(),
    };
    let mode = if dry_run { Mode::Read } else { Mode::Write };
    let list = operator_or_system(ctx, system, mode, |w, by| reminders::expiring(w, by, &thresholds, dry_run))?;
    print(ctx, reminders::Kind::Expiring, &list, dry_run, json!(thresholds))
}

pub fn not_initialised(ctx: &mut Ctx, dry_run: bool, system: bool) -> anyhow::Result<()> {
    let mode = if dry_run { Mode::Read } else { Mode::Write };
    let list = operator_or_system(ctx, system, mode, |w, by| reminders::not_initialised(w, by, dry_run))?;
    print(ctx, reminders::Kind::NotInitialised, &list, dry_run, json!(null))
}

/// One row per reminder; the address masked (a cron job's output is mailed and logged).
fn print(
    ctx: &Ctx,
    kind: reminders::Kind,
    list: &[Reminder],
    dry_run: bool,
    thresholds: serde_json::Value,
) -> anyhow::Result<()> {
    let mut rows = ctx.out.rows("reminders", COLUMNS)?;
    for r in list {
        rows.push(vec![
            json!(r.user_id),
            json!(reminder::masked(&r.email)),
            json!(r.threshold),
            json!(r.expires_at.map(ts)),
        ])?;
    }
    let sent = if dry_run { 0 } else { list.len() };
    rows.finish(
        &[
            ("sent", json!(sent)),
            ("dry_run", json!(dry_run)),
            ("kind", json!(kind.as_str())),
            ("thresholds", thresholds),
        ],
        None,
    )?;
    Ok(())
}
