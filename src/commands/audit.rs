//! `dms audit verify [--checkpoint FILE]`.

use crate::context::{Ctx, Mode};
use crate::error::invalid;
use crate::ops;
use crate::storage::audit::Checkpoint;
use serde_json::json;
use std::io::Read as _;
use std::path::Path;

/// A checkpoint is a small JSON document; anything larger is not one.
const MAX_CHECKPOINT: u64 = 64 * 1024;

pub fn verify(ctx: &mut Ctx, checkpoint: Option<&Path>) -> anyhow::Result<()> {
    let checkpoint = checkpoint.map(read_checkpoint).transpose()?;
    // A failure prints nothing on stdout: the error names the first bad row or the reason.
    let v = ctx.transact(Mode::Read, |w| ops::audit::verify(w, checkpoint))?;
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
    ctx.out.object(&doc)?;
    Ok(())
}

/// Read a checkpoint file: a regular file (a FIFO or device would block or never end), at most
/// [`MAX_CHECKPOINT`] bytes, holding what an earlier `audit verify` printed.
fn read_checkpoint(path: &Path) -> anyhow::Result<Checkpoint> {
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
    Checkpoint::from_json(&text).map_err(|e| invalid(format!("checkpoint {shown}: {e}")).into())
}
