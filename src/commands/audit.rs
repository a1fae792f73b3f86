//! `dms audit verify`.

use crate::context::Ctx;
use crate::error::DmsError;
use crate::error::Kind;
use crate::storage::audit;
use serde_json::json;

pub fn cmd_audit_verify(ctx: &mut Ctx) -> anyhow::Result<()> {
    let tx = ctx.store.read()?;
    let v = audit::verify(&tx)?;
    drop(tx);
    match v.first_bad {
        None => {
            ctx.out.object(&json!({ "ok": true, "rows": v.rows }))?;
            Ok(())
        }
        Some((seq, why)) => {
            ctx.out.object(&json!({ "ok": false, "rows_verified": v.rows, "first_bad_row": seq, "reason": why }))?;
            Err(DmsError::new(Kind::Other, format!("audit trail broken at row {seq}: {why}")).into())
        }
    }
}
