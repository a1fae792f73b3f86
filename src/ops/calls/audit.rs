//! `audit verify [--checkpoint FILE]` and `backup` (a host job of the service account).

use crate::domain::flow::{missing_secret, Slot, Step};
use crate::error::invalid;
use crate::ops::backup;
use crate::ops::flow::{Flow, Given, Progress};
use crate::ops::service::Exec;
use crate::ops::work::Mode;
use crate::storage::audit::Checkpoint;
use serde_json::{json, Value};
use std::path::PathBuf;

pub fn verify(x: &mut Exec<'_, '_>, checkpoint: Option<Value>, name: Option<String>) -> anyhow::Result<()> {
    let checkpoint = match checkpoint {
        None => None,
        Some(v) => {
            let shown = name.unwrap_or_else(|| "the checkpoint".into());
            Some(Checkpoint::from_json(&v.to_string()).map_err(|e| invalid(format!("checkpoint {shown}: {e}")))?)
        }
    };
    // A failure prints nothing on stdout: the error names the first bad row or the reason.
    let v = x.transact(Mode::Read, |w| crate::ops::audit::verify(w, checkpoint))?;
    let mut doc = json!({
        "ok": true,
        "rows": v.rows,
        "head": hex::encode(v.head),
        "first_seq": v.first_seq,
        "last_seq": v.last_seq,
        "legacy_rows": v.legacy_rows,
        "keyed": v.keyed,
    });
    if let Some(cp) = v.checkpoint {
        doc["checkpoint"] = json!({ "last_seq": cp.last_seq, "head": hex::encode(cp.head) });
    }
    x.object(doc)
}

/// `dms backup`: who first (nothing is asked of someone who may not back up), then the
/// passphrase, then the backup.
pub struct Backup {
    out: String,
    system: bool,
    given: Given,
}

impl Backup {
    pub fn new(out: String, system: bool) -> Backup {
        Backup { out, system, given: Given::default() }
    }
}

impl Flow for Backup {
    fn step(&mut self, x: &mut Exec<'_, '_>) -> anyhow::Result<Progress> {
        self.given.gather(x);
        x.db.host_job("backup")?;
        let by = x.db.operator_or_system(self.system, Mode::Read, |_, by| Ok(by.cloned()))?;
        let Some(passphrase) = self.given.get(Slot::Passphrase) else {
            return Ok(Progress::Ask(Step {
                missing: missing_secret("backup passphrase"),
                ..Step::new_secret(Slot::Passphrase, "backup passphrase", "Backup passphrase")
            }));
        };
        let out = PathBuf::from(&self.out);
        let made = backup::backup(&mut x.db, by.as_ref(), &out, &passphrase)?;
        x.flush()?;
        x.object(json!({
            "file": made.file.display().to_string(),
            "rows": backup::rows_object(&made.rows),
            "bytes": made.bytes,
            "database_bytes": made.database_bytes,
            "audit": made.audit.map(|c| json!({ "last_seq": c.last_seq, "head": hex::encode(c.head) })),
        }))?;
        x.note("Keep the passphrase apart from the file: the file holds the key file too.")?;
        Ok(Progress::Done)
    }
}
