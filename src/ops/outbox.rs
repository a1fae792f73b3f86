//! The outbox (SPEC §5): notifications that could not be delivered are kept (by
//! `Ctx::deliver`, after the command's commit) and sent again by the exchange operator. Mail
//! is never sent inside a transaction: a retry reads the unsent mails, sends them with no
//! transaction open, then records each attempt. One-time passwords are never kept.
//!
//! Two retries at once may both send a mail (delivery is at least once); the second finds it
//! marked sent and leaves it so.

use crate::domain::user_id::UserId;
use crate::mail::{Delivery, Mail};
use crate::ops::work::Work;
use crate::storage::{audit, outbox};
use serde_json::json;

/// What a retry did.
pub struct Retried {
    pub sent: usize,
    pub failed: usize,
}

/// The mails not sent yet, oldest first.
pub fn unsent(w: &Work<'_>) -> anyhow::Result<Vec<(i64, Mail)>> {
    outbox::unsent(&w.tx)
}

/// Record each attempt of a retry by `by`, and the retry itself in the audit trail.
pub fn record(w: &mut Work<'_>, by: &UserId, outcomes: &[(i64, Delivery)]) -> anyhow::Result<Retried> {
    for (id, result) in outcomes {
        outbox::attempted(&w.tx, *id, w.now, result)?;
    }
    let sent = outcomes.iter().filter(|(_, r)| r.is_ok()).count();
    let done = Retried { sent, failed: outcomes.len() - sent };
    if !outcomes.is_empty() {
        let first_error = outcomes.iter().find_map(|(_, r)| r.as_ref().err());
        w.audit(&audit::Event {
            actor: Some(by.as_str()),
            action: "outbox.retry",
            detail: json!({ "sent": done.sent, "failed": done.failed, "error": first_error }).to_string(),
            ..Default::default()
        })?;
    }
    Ok(done)
}
