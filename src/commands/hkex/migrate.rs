//! Migration (seed 4.3): `hkex participant import FILE` and `hkex import-smartcard-users FILE`,
//! each with `--dry-run` (the import run and rolled back: every check, nothing written).

use crate::commands::signed_in;
use crate::context::{Ctx, Mode};
use crate::domain::role::Role;
use crate::ops::migration::{self, Imported};
use serde_json::json;
use std::io::IsTerminal as _;
use std::path::Path;

/// A progress bar on a terminal (stderr), nothing otherwise.
fn progress(what: &str) -> indicatif::ProgressBar {
    if std::io::stderr().is_terminal() {
        let pb = indicatif::ProgressBar::new_spinner();
        if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} {pos} rows written ({elapsed})") {
            pb.set_style(style);
        }
        pb.set_message(what.to_string());
        pb
    } else {
        indicatif::ProgressBar::hidden()
    }
}

pub fn participants(ctx: &mut Ctx, path: &Path, dry_run: bool) -> anyhow::Result<()> {
    let pb = progress(if dry_run { "participants checked (dry run)" } else { "participants" });
    let done = signed_in(ctx, &[Role::Operator], Mode::Write, |w, op| {
        let (op, progress) = (op.account.id(), &|n| pb.set_position(n));
        if dry_run {
            migration::dry_run(w, |w| migration::import_participants(w, op, path, progress))
        } else {
            migration::import_participants(w, op, path, progress)
        }
    });
    pb.finish_and_clear();
    let done = done?;
    if dry_run {
        ctx.out.object(&json!({ "dry_run": true, "valid": true, "rows": done.rows, "file_sha256": done.sha256 }))?;
        ctx.out.note("Dry run: the file is valid and fits the database; nothing was written.");
    } else {
        ctx.out.object(&json!({ "imported": done.rows, "file_sha256": done.sha256 }))?;
    }
    Ok(())
}

pub fn smartcard_users(ctx: &mut Ctx, path: &Path, dry_run: bool) -> anyhow::Result<()> {
    let pb = progress(if dry_run { "users checked (dry run)" } else { "users" });
    let done: anyhow::Result<Imported> = signed_in(ctx, &[Role::Operator], Mode::Write, |w, op| {
        let (op, progress) = (op.account.id(), &|n| pb.set_position(n));
        if dry_run {
            migration::dry_run(w, |w| migration::import_smartcard_users(w, op, path, progress))
        } else {
            migration::import_smartcard_users(w, op, path, progress)
        }
    });
    pb.finish_and_clear();
    let done = done?;
    if dry_run {
        ctx.out.object(&json!({
            "dry_run": true, "valid": true, "rows": done.rows, "participants": done.participants,
            "file_sha256": done.sha256,
        }))?;
        ctx.out.note("Dry run: the file is valid and fits the database; nothing was written.");
    } else {
        ctx.out
            .object(&json!({ "imported": done.rows, "participants": done.participants, "file_sha256": done.sha256 }))?;
    }
    Ok(())
}
