//! eService DA4: `hkex da4 --participant P --accounts N` (HK$250 each, one-off).

use crate::commands::signed_in;
use crate::context::{Ctx, Mode};
use crate::domain::role::Role;
use crate::domain::user_id::ClearingHouse;
use crate::ops::exchange;
use serde_json::json;

pub fn run(ctx: &mut Ctx, participant: &str, house: Option<ClearingHouse>, accounts: i64) -> anyhow::Result<()> {
    let (p, g) = signed_in(ctx, &[Role::Operator], Mode::Write, |w, op| {
        let p = exchange::resolve(w, participant, house)?;
        let g = exchange::da4(w, op, &p, accounts)?;
        Ok((p, g))
    })?;
    ctx.out.object(&json!({
        "reference": g.reference, "participant_id": p.id(), "accounts": accounts, "max_users": g.max_users,
        "fee_hkd": g.fee.plain(), "status": "Completed",
    }))?;
    Ok(())
}
