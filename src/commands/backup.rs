//! `dms backup` (operator, or `--system` from cron) and `dms --db NEWPATH restore FILE`.

use crate::cli::{BackupArgs, Global, RestoreArgs};
use crate::commands::operator_or_system;
use crate::context::{Ctx, Mode};
use crate::ops::backup;
use crate::output::Output;
use crate::secrets::Secrets;
use serde_json::json;

pub fn backup(ctx: &mut Ctx, a: BackupArgs) -> anyhow::Result<()> {
    // Who, first: nothing is asked of someone who may not back up.
    let by = operator_or_system(ctx, a.system, Mode::Read, |_, by| Ok(by.cloned()))?;
    let passphrase = Secrets::new(a.password_stdin)?.new_password("Backup passphrase")?;
    let made = backup::backup(ctx, by.as_ref(), &a.out, &passphrase)?;
    ctx.out.object(&json!({
        "file": made.file.display().to_string(),
        "rows": backup::rows_object(&made.rows),
        "bytes": made.bytes,
        "database_bytes": made.database_bytes,
        "audit": made.audit.map(|c| json!({ "last_seq": c.last_seq, "head": hex::encode(c.head) })),
    }))?;
    ctx.out.note("Keep the passphrase apart from the file: the file holds the key file too.");
    Ok(())
}

pub fn restore(g: &Global, a: RestoreArgs) -> anyhow::Result<()> {
    let out = Output::new(g.format);
    let passphrase = Secrets::new(a.password_stdin)?.existing("passphrase", "Backup passphrase")?;
    let r = backup::restore(g, &a.file, &passphrase)?;
    out.object(&json!({
        "db": r.db.display().to_string(),
        "key_file": r.key_file.display().to_string(),
        "rows": backup::rows_object(&r.rows),
        "audit": {
            "ok": true,
            "rows": r.audit.rows,
            "head": hex::encode(r.audit.head),
            "last_seq": r.audit.last_seq,
        },
        "sessions_ended": r.sessions_ended,
        "backup_created_at": r.created_at,
    }))?;
    out.note("Restored and verified. Every session in the backup was ended: sign in again.");
    Ok(())
}
