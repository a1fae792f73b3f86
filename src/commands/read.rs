//! Reading: the User Profile Listing, the auditors' reports, `audit verify`.

use crate::api::{Call, ListingQuery, ReportKind, ReportQuery};
use crate::cli::{self, AuditCommand, ListingArgs, ReportArgs};
use crate::client::Client;
use crate::commands::simple;
use crate::error::invalid;
use std::io::Read as _;
use std::path::Path;

pub fn listing(client: &mut Client, a: ListingArgs) -> anyhow::Result<()> {
    let q = ListingQuery {
        role: Some(a.role),
        status: a.status,
        participant: a.participant,
        all: a.all,
        house: a.house,
        search: a.search,
        locked: a.locked,
        otp: a.otp,
        inactive_days: a.inactive_days,
    };
    simple(client, Call::Listing(q))
}

pub fn report(client: &mut Client, a: ReportArgs) -> anyhow::Result<()> {
    let kind = match a.kind {
        cli::ReportKind::Readiness => ReportKind::Readiness,
        cli::ReportKind::Locked => ReportKind::Locked,
        cli::ReportKind::Expiring => ReportKind::Expiring,
        cli::ReportKind::Dormant => ReportKind::Dormant,
        cli::ReportKind::Requests => ReportKind::Requests,
        cli::ReportKind::Audit => ReportKind::Audit,
        cli::ReportKind::Da4Fees => ReportKind::Da4Fees,
    };
    let q = ReportQuery {
        kind,
        from: a.from,
        to: a.to,
        days: a.days,
        participant: a.participant,
        house: a.house,
        after_seq: a.after_seq,
        actor: a.actor,
        action: a.action,
        subject: a.subject,
    };
    simple(client, Call::Report(q))
}

/// A checkpoint is a small JSON document; anything larger is not one.
const MAX_CHECKPOINT: u64 = 64 * 1024;

pub fn audit(client: &mut Client, c: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::Verify { checkpoint } = c;
    let (checkpoint, checkpoint_name) = match checkpoint {
        Some(p) => (Some(read_checkpoint(&p)?), Some(p.display().to_string())),
        None => (None, None),
    };
    simple(client, Call::AuditVerify { checkpoint, checkpoint_name })
}

/// Read a checkpoint file: a regular file (a FIFO or device would block or never end), at most
/// [`MAX_CHECKPOINT`] bytes, holding JSON (what an earlier `audit verify` printed: the service
/// checks its members).
fn read_checkpoint(path: &Path) -> anyhow::Result<serde_json::Value> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| invalid(format!("checkpoint {shown}: {e}")))?;
    if !meta.is_file() {
        return Err(invalid(format!(
            "checkpoint {shown}: not a regular file (save the JSON of `dms audit verify` to a file)"
        ))
        .into());
    }
    let too_big =
        || invalid(format!("checkpoint {shown}: larger than {} KiB, so not a checkpoint", MAX_CHECKPOINT >> 10));
    if meta.len() > MAX_CHECKPOINT {
        return Err(too_big().into());
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CHECKPOINT + 1).read_to_string(&mut text))
        .map_err(|e| invalid(format!("checkpoint {shown}: {e}")))?;
    if text.len() as u64 > MAX_CHECKPOINT {
        return Err(too_big().into());
    }
    serde_json::from_str(&text)
        .map_err(|e| invalid(format!("checkpoint {shown}: not the JSON of `dms audit verify` ({e})")).into())
}
