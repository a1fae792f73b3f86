//! `hkex outbox list|retry`: the notifications that could not be delivered (SPEC §5 "Outbox").

use crate::commands::signed_in;
use crate::context::{Ctx, Mode};
use crate::domain::role::Role;
use crate::mail::{Delivery, Mail};
use crate::ops::outbox;
use crate::output::time;
use crate::storage;
use serde_json::json;

const COLUMNS: &[&str] = &["mail_id", "created_at", "recipient", "subject", "attempts", "last_error", "sent_at"];

pub fn list(ctx: &mut Ctx) -> anyhow::Result<()> {
    let printer = ctx.out.clone();
    let rows = signed_in(ctx, &[Role::Operator], Mode::Read, |w, _| {
        let mut rows = printer.rows("mails", COLUMNS)?;
        storage::outbox::each(&w.tx, |m| {
            Ok(rows.push(vec![
                json!(m.mail_id),
                json!(time(m.created_at)),
                json!(m.recipient),
                json!(m.subject),
                json!(m.attempts),
                json!(m.last_error),
                json!(m.sent_at.map(time)),
            ])?)
        })?;
        Ok(rows)
    })?;
    rows.finish(&[], None)?;
    Ok(())
}

/// Read the unsent mails, send them outside any transaction, record what became of each.
pub fn retry(ctx: &mut Ctx) -> anyhow::Result<()> {
    let pending = signed_in(ctx, &[Role::Operator], Mode::Read, |w, _| outbox::unsent(w))?;
    let mails: Vec<&Mail> = pending.iter().map(|(_, m)| m).collect();
    let results = match ctx.mailer() {
        Ok(m) => m.send_all(&mails, ctx.now()),
        Err(e) => vec![Err(format!("{e:#}")); mails.len()],
    };
    let outcomes: Vec<(i64, Delivery)> = pending.iter().map(|(id, _)| *id).zip(results).collect();
    let done = signed_in(ctx, &[Role::Operator], Mode::Write, |w, op| outbox::record(w, op.account.id(), &outcomes))?;
    ctx.out.object(&json!({ "sent": done.sent, "failed": done.failed }))?;
    Ok(())
}
