//! `user create` (Create User Profile, seed 4.3.1).

use super::{new_profile, print_submitted, subject, submit, Fields};
use crate::cli::{InlineArgs, ProfileArgs};
use crate::context::Ctx;
use crate::domain::change::Change;
use crate::domain::user_id::UserId;

pub fn run(ctx: &mut Ctx, user_id: Option<UserId>, p: ProfileArgs, inline: InlineArgs) -> anyhow::Result<()> {
    // Without --user-id the ID is generated inside the write transaction (Generate User ID).
    let profile = new_profile(
        user_id,
        &Fields {
            surname: p.surname.as_deref(),
            other_names: p.other_names.as_deref(),
            email: p.email.as_deref(),
            status: p.status.as_deref(),
            enable_from: p.enable_from.as_deref(),
            disable_after: p.disable_after.as_deref(),
            channel: p.channel.as_deref(),
            groups: p.groups.as_deref(),
            limit: p.limit.as_deref(),
        },
    )?;
    let s = submit(ctx, Change::CreateUser { profile }, &inline)?;
    print_submitted(ctx, &s, &[("user_id", subject(&s))])
}
