//! `user enquire ID` (Enquire User Profile, seed 4.3): exactly the fields that apply to the
//! profile's state, on the seed's screen. `user enquire --name TEXT`: the seed's Enquire →
//! List, the profiles whose user name matches.

use super::screen;
use crate::commands::{signed_in, READERS};
use crate::context::{Ctx, Mode};
use crate::domain::user_id::{ClearingHouse, UserId};
use crate::error::invalid;
use crate::ops::views;
use crate::storage::users::{self, ListingFilter};
use serde_json::json;

pub fn run(ctx: &mut Ctx, uid: UserId) -> anyhow::Result<()> {
    let e = signed_in(ctx, READERS, Mode::Read, |w, me| views::enquire(w, me, &uid))?;
    ctx.out.screen(&screen::enquiry(&e))?;
    Ok(())
}

/// The columns of the List (seed 3.2: user ID and user name), with what a DA picks by next.
pub const LIST_COLUMNS: &[&str] = &["user_id", "surname", "other_names", "role", "status", "participant_id"];

pub fn list(
    ctx: &mut Ctx,
    name: &str,
    participant: Option<&str>,
    house: Option<ClearingHouse>,
    all: bool,
) -> anyhow::Result<()> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("--name needs some text to look for").into());
    }
    let printer = ctx.out.clone();
    let (out, n) = signed_in(ctx, READERS, Mode::Read, |w, me| {
        let scope = views::scope(w, me, participant, house, all, "searches")?;
        let mut out = printer.rows("users", LIST_COLUMNS)?.profile_labels();
        let filter =
            ListingFilter { participant: scope.as_ref().map(|p| &p.key), name: Some(name), ..Default::default() };
        let mut n = 0usize;
        users::for_each_listing_row(&w.tx, &filter, |r| {
            n += 1;
            Ok(out.push(vec![
                json!(r.user_id),
                json!(r.surname),
                json!(r.other_names),
                json!(r.role),
                json!(r.status),
                json!(r.participant_id),
            ])?)
        })?;
        Ok((out, n))
    })?;
    out.finish(&[], None)?;
    ctx.out.note(&format!("{n} profile(s) match. `dms user enquire ID` shows one."));
    Ok(())
}
