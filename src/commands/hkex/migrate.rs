//! Migration (seed 4.3): `hkex participant import FILE` and `hkex import-smartcard-users FILE`.

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

pub fn participants(ctx: &mut Ctx, path: &Path) -> anyhow::Result<()> {
    let pb = progress("participants");
    let done = signed_in(ctx, &[Role::Operator], Mode::Write, |w, op| {
        migration::import_participants(w, op.account.id(), path, &|n| pb.set_position(n))
    });
    pb.finish_and_clear();
    let done = done?;
    ctx.out.object(&json!({ "imported": done.rows, "file_sha256": done.sha256 }))?;
    Ok(())
}

pub fn smartcard_users(ctx: &mut Ctx, path: &Path) -> anyhow::Result<()> {
    let pb = progress("users");
    let done: anyhow::Result<Imported> = signed_in(ctx, &[Role::Operator], Mode::Write, |w, op| {
        migration::import_smartcard_users(w, op.account.id(), path, &|n| pb.set_position(n))
    });
    pb.finish_and_clear();
    let done = done?;
    ctx.out.object(&json!({ "imported": done.rows, "participants": done.participants, "file_sha256": done.sha256 }))?;
    Ok(())
}
