//! `da assign`: business user groups for a DA (after smartcard decommissioning, seed 5.1).

use super::{print_submitted, submit};
use crate::cli::InlineArgs;
use crate::context::Ctx;
use crate::domain::change::Change;
use crate::domain::profile::Groups;
use crate::domain::user_id::UserId;
use serde_json::json;

pub fn run(ctx: &mut Ctx, da: UserId, groups: &str, inline: InlineArgs) -> anyhow::Result<()> {
    let groups = Groups::parse(groups)?;
    let s = submit(ctx, Change::AssignGroups { user_id: da.clone(), groups }, &inline)?;
    print_submitted(ctx, &s, &[("da_id", json!(da))])
}
