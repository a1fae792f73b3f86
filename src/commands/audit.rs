//! `dms audit verify`.

use crate::context::{Ctx, Mode};
use crate::error::DmsError;
use crate::error::Kind;
use crate::storage::audit;
use serde_json::json;

pub fn verify(ctx: &mut Ctx) -> anyhow::Result<()> {
    let v = ctx.transact(Mode::Read, |w| audit::verify(&w.tx))?;
    match v.first_bad {
        None => {
            ctx.out.object(&json!({ "ok": true, "rows": v.rows }))?;
            Ok(())
        }
        // A failure prints nothing on stdout: the error names the first bad row.
        Some((seq, why)) => Err(DmsError::new(
            Kind::Other,
            format!("audit trail broken at row {seq}: {why} ({} rows before it verify)", v.rows),
        )
        .into()),
    }
}
