//! Reminders for cron (SPEC §5 "Reminders"; FreeIPA's Expiring Password Notification):
//!
//! - **expiring**: to users whose password expires within a threshold (14, 7 and 1 days by
//!   default, or the one `--days N`), one mail per user per threshold and password: a user
//!   who crossed two thresholds since the last run gets one mail, and both are recorded; a new
//!   password starts afresh.
//! - **not-initialised**: to users who have not set up 2FA, once per registered address (a
//!   new address gets its own reminder); participants' users and DAs from the 2FA launch on
//!   (before it they cannot set it up), the exchange's own accounts at any time.
//!
//! At most one reminder of a kind reaches a user on one Hong Kong day, whatever thresholds a
//! run names (`domain::reminder::may_remind`).
//!
//! Each reminder sent is recorded (`reminders`) in the run's transaction, with one audit row
//! per run; the mail goes after the commit (an undeliverable one to the outbox). A dry run
//! lists the same reminders and writes nothing. Only enabled users with a registered address
//! on the terminal channel are reminded. The mails carry no user ID, no link and no secret.

use crate::domain::reminder;
use crate::domain::user_id::UserId;
use crate::mail;
use crate::ops::signin::hkt;
use crate::ops::work::Work;
use crate::storage::{audit, reminders};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

/// What a run reminds about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Expiring,
    NotInitialised,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Expiring => "expiring",
            Kind::NotInitialised => "not-initialised",
        }
    }
}

/// One reminder, sent or (dry run) to be sent.
#[derive(Debug, Clone)]
pub struct Reminder {
    pub user_id: String,
    pub email: String,
    /// expiring: the smallest threshold this reminder is for; not-initialised: None.
    pub threshold: Option<i64>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Remind the users whose password expires within one of `thresholds` days (see the module
/// head). `dry_run`: list them, send and record nothing.
pub fn expiring(
    w: &mut Work<'_>,
    by: Option<&UserId>,
    thresholds: &[i64],
    dry_run: bool,
) -> anyhow::Result<Vec<Reminder>> {
    let Some(widest) = thresholds.iter().copied().max() else { return Ok(Vec::new()) };
    let kind = Kind::Expiring;
    let window = Duration::days(crate::domain::password_policy::EXPIRY_DAYS);
    let candidates = reminders::passwords_set_between(&w.tx, w.now - window, w.now - window + Duration::days(widest))?;
    let mut out = Vec::new();
    for c in candidates {
        let set_at = crate::storage::parse_ts(&c.cycle)?;
        let sent = reminders::sent(&w.tx, &c.user_id, kind.as_str(), &c.cycle)?;
        let due: Vec<i64> =
            reminder::crossed(set_at, w.now, thresholds).into_iter().filter(|t| !sent.contains(t)).collect();
        let Some(&smallest) = due.first() else { continue };
        if !reminder::may_remind(reminders::last_sent(&w.tx, &c.user_id, kind.as_str())?, w.now) {
            continue;
        }
        let expiry = crate::domain::password_policy::expires_at(set_at);
        if !dry_run {
            for t in &due {
                reminders::record(&w.tx, &c.user_id, kind.as_str(), &c.cycle, *t, w.now)?;
            }
            let on = hkt(expiry).format("%d-%b-%y %H:%M").to_string();
            w.notify(mail::password_expiring(&c.email, &on, reminder::days_left(expiry, w.now)));
        }
        out.push(Reminder { user_id: c.user_id, email: c.email, threshold: Some(smallest), expires_at: Some(expiry) });
    }
    finish(w, by, kind, json!(thresholds), &out, dry_run)?;
    Ok(out)
}

/// Remind the users who have not set up 2FA (see the module head).
pub fn not_initialised(w: &mut Work<'_>, by: Option<&UserId>, dry_run: bool) -> anyhow::Result<Vec<Reminder>> {
    let kind = Kind::NotInitialised;
    let today = hkt(w.now).date_naive();
    let launched = w.policy()?.timeline.launch <= today;
    let mut out = Vec::new();
    for c in reminders::not_initialised(&w.tx, launched)? {
        if !reminders::sent(&w.tx, &c.user_id, kind.as_str(), &c.cycle)?.is_empty()
            || !reminder::may_remind(reminders::last_sent(&w.tx, &c.user_id, kind.as_str())?, w.now)
        {
            continue;
        }
        if !dry_run {
            reminders::record(&w.tx, &c.user_id, kind.as_str(), &c.cycle, 0, w.now)?;
            w.notify(mail::set_up_2fa(&c.email));
        }
        out.push(Reminder { user_id: c.user_id, email: c.email, threshold: None, expires_at: None });
    }
    finish(w, by, kind, json!(null), &out, dry_run)?;
    Ok(out)
}

/// One audit row per run that sends (a dry run writes nothing).
fn finish(
    w: &mut Work<'_>,
    by: Option<&UserId>,
    kind: Kind,
    thresholds: serde_json::Value,
    sent: &[Reminder],
    dry_run: bool,
) -> anyhow::Result<()> {
    if dry_run {
        return Ok(());
    }
    w.audit(&audit::Event {
        actor: by.map(UserId::as_str),
        action: "reminders.sent",
        detail: json!({
            "by": if by.is_some() { "operator" } else { "system" },
            "kind": kind.as_str(),
            "thresholds": thresholds,
            "sent": sent.len(),
        })
        .to_string(),
        ..Default::default()
    })
}
