//! `user delete` (Delete User Profile) and `user unlock` (Unlock/Reset OTP Device
//! Registration, seed Appendix D c).

use super::{print_submitted, submit};
use crate::cli::InlineArgs;
use crate::context::Ctx;
use crate::domain::change::Change;
use crate::domain::user_id::UserId;
use serde_json::json;

pub fn delete(ctx: &mut Ctx, uid: UserId, inline: InlineArgs) -> anyhow::Result<()> {
    let s = submit(ctx, Change::DeleteUser { user_id: uid.clone() }, &inline)?;
    print_submitted(ctx, &s, &[("user_id", json!(uid))])
}

pub fn unlock(ctx: &mut Ctx, uid: UserId, inline: InlineArgs) -> anyhow::Result<()> {
    let s = submit(ctx, Change::UnlockUser { user_id: uid.clone() }, &inline)?;
    print_submitted(ctx, &s, &[("user_id", json!(uid))])
}
