//! What each reader may see: a DA sees its own participant, the exchange's operators and
//! auditors see any (naming it, or all). Read-only operations on the command's snapshot.

use crate::domain::account::Account;
use crate::domain::user_id::{ClearingHouse, UserId};
use crate::error::{invalid, not_permitted, usage};
use crate::ops::exchange;
use crate::ops::session::Actor;
use crate::ops::signin::hkt;
use crate::ops::work::Work;
use crate::storage::participants::{self, Participant};
use crate::storage::users;

/// A profile as Enquire User Profile shows it (seed 4.3).
pub struct Enquiry {
    pub account: Account,
    pub participant: Option<Participant>,
    /// Smartcards are decommissioned (their fields show only on the PG channel).
    pub decommissioned: bool,
}

pub fn enquire(w: &mut Work<'_>, me: &Actor, id: &UserId) -> anyhow::Result<Enquiry> {
    let account = users::account(&w.tx, id)?.ok_or_else(|| invalid(format!("no user {id}")))?;
    if me.account.participant().is_some() && me.account.participant() != account.participant() {
        return Err(not_permitted(format!("{id} is not a user of your participant")).into());
    }
    let participant = match account.participant() {
        Some(k) => participants::get(&w.tx, k)?,
        None => None,
    };
    let today = hkt(w.now).date_naive();
    let decommissioned = w.policy()?.timeline.decommissioned(today);
    Ok(Enquiry { account, participant, decommissioned })
}

/// Which participant a listing or report covers: a DA's own; for the exchange, the one named
/// (`None` for all of them, when `all` is allowed).
pub fn scope(
    w: &Work<'_>,
    me: &Actor,
    named: Option<&str>,
    house: Option<ClearingHouse>,
    all: bool,
    what: &str,
) -> anyhow::Result<Option<Participant>> {
    match (me.account.participant(), named) {
        (Some(own), Some(p)) if !p.trim().eq_ignore_ascii_case(own.id()) || house.is_some_and(|h| h != own.house) => {
            Err(not_permitted(format!("a DA {what} only its own participant ({own})")).into())
        }
        (Some(own), _) => Ok(participants::get(&w.tx, own)?),
        (None, Some(p)) => Ok(Some(exchange::resolve(w, p, house)?)),
        (None, None) if all => Ok(None),
        (None, None) => Err(usage("name --participant P or --all").into()),
    }
}
