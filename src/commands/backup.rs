//! `dms backup` (a host job: operator, or `--system` from cron; through a server it is refused)
//! and `dms --db NEWPATH restore FILE` (host-local).

use crate::api::Call;
use crate::cli::{BackupArgs, Global, RestoreArgs};
use crate::client::Client;
use crate::commands::with_input;
use crate::domain::flow::Slot;
use crate::ops::backup;
use crate::output::Output;
use crate::secrets::Input;
use serde_json::json;

pub fn backup(client: &mut Client, a: BackupArgs) -> anyhow::Result<()> {
    let input = Input::new(a.password_stdin, &[Slot::Passphrase])?;
    with_input(client, Call::Backup { out: a.out.display().to_string(), system: a.system }, input)
}

pub fn restore(g: &Global, a: RestoreArgs) -> anyhow::Result<()> {
    let out = Output::new(g.format);
    let mut input = Input::new(a.password_stdin, &[Slot::Passphrase])?;
    let passphrase = match input.answers.take(Slot::Passphrase) {
        Some(p) => p,
        None => match &input.term {
            Some(t) => t.password("Backup passphrase")?,
            None => return Err(crate::error::usage(crate::domain::flow::missing_secret("passphrase")).into()),
        },
    };
    let now = crate::client::now_from_env()?;
    let r = backup::restore(&g.db, now.as_deref(), &a.file, &passphrase)?;
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
