//! `user change` (Change User Profile, incl. e-mail registration: seed Appendix A).

use super::{print_submitted, submit};
use crate::cli::{InlineArgs, ProfileArgs};
use crate::context::Ctx;
use crate::domain::change::{Change, DateEdit, ProfileChanges};
use crate::domain::profile::{self, AccessChannel, Cents, Groups, UserStatus};
use crate::domain::user_id::UserId;
use crate::error::invalid;
use serde_json::json;

fn date_edit(field: &'static str, s: &str) -> anyhow::Result<DateEdit> {
    if s.trim().is_empty() || s.trim().eq_ignore_ascii_case("none") {
        Ok(DateEdit::Clear)
    } else {
        Ok(DateEdit::Set(profile::parse_date(field, s)?))
    }
}

pub fn run(ctx: &mut Ctx, uid: UserId, p: ProfileArgs, inline: InlineArgs) -> anyhow::Result<()> {
    let changes = ProfileChanges {
        email: p.email.as_deref().map(profile::email).transpose()?,
        surname: p.surname.as_deref().map(|s| profile::person_name("surname", s)).transpose()?,
        other_names: p.other_names.as_deref().map(|s| profile::person_name("other names", s)).transpose()?,
        status: p.status.as_deref().map(UserStatus::parse).transpose()?,
        enable_from: p.enable_from.as_deref().map(|d| date_edit("enable from", d)).transpose()?,
        disable_after: p.disable_after.as_deref().map(|d| date_edit("disable after", d)).transpose()?,
        channel: p.channel.as_deref().map(AccessChannel::parse).transpose()?,
        groups: p.groups.as_deref().map(Groups::parse).transpose()?,
        limit: p.limit.as_deref().map(Cents::parse).transpose()?,
    };
    if changes.is_empty() {
        return Err(invalid(
            "nothing to change: give at least one of --email --surname --other-names --status --enable-from --disable-after --groups --limit --channel",
        )
        .into());
    }
    let s = submit(ctx, Change::ChangeUser { user_id: uid.clone(), changes }, &inline)?;
    print_submitted(ctx, &s, &[("user_id", json!(uid))])
}
