//! `request list`.

use crate::commands::{signed_in, READERS};
use crate::context::{Ctx, Mode};
use crate::domain::change::RequestStatus;
use crate::domain::user_id::ClearingHouse;
use crate::error::invalid;
use crate::ops::views;
use crate::storage::requests;

pub fn run(
    ctx: &mut Ctx,
    status: Option<String>,
    participant: Option<String>,
    house: Option<ClearingHouse>,
) -> anyhow::Result<()> {
    let status = status.as_deref().map(RequestStatus::parse).transpose().map_err(|e| invalid(format!("--{e}")))?;
    let printer = ctx.out.clone();
    let rows = signed_in(ctx, READERS, Mode::Read, |w, me| {
        let scope = views::scope(w, me, participant.as_deref(), house, true, "lists the requests of")?;
        let mut rows = printer.rows("requests", super::REQUEST_COLUMNS)?.table_columns(&[
            "request_id",
            "kind",
            "summary",
            "maker",
            "created_at",
            "status",
            "checker",
        ]);
        requests::for_each(&w.tx, scope.as_ref().map(|p| &p.key), status, w.now, |r| Ok(rows.push(super::row(&r))?))?;
        Ok(rows)
    })?;
    rows.finish(&[], None)?;
    Ok(())
}
