//! Reading profiles: Enquire User Profile (seed 4.3: exactly the fields that apply to the
//! profile's state, on the seed's screen), the seed's Enquire → List by user name, and the User
//! Profile Listing (seed 3.2 a, 4.3.1) ending with the quota footer. Rows stream from storage
//! into the reply; nothing holds a whole listing.

use crate::api::{ListEnd, ListHead, ListingQuery, Part};
use crate::domain::profile::{Cents, UserStatus};
use crate::domain::user_id::{ClearingHouse, UserId};
use crate::error::invalid;
use crate::ops::calls::{screen, READERS};
use crate::ops::service::Exec;
use crate::ops::views;
use crate::ops::work::Mode;
use crate::storage::participants;
use crate::storage::users::{self, ListingFilter, ListingRow};
use serde_json::{json, Map, Value};

/// `user groups`: the catalogue `--groups` takes, in its order. The same for everyone signed
/// in (it is no secret; a DA needs it to fill in a profile).
pub fn groups(x: &mut Exec<'_, '_>) -> anyhow::Result<()> {
    x.signed_in(READERS, Mode::Read, |_, _| Ok(()))?;
    x.part(Part::List(ListHead::new("groups", &["code"])))?;
    for g in crate::domain::profile::GROUP_CATALOGUE {
        x.part(Part::Row(vec![json!(g)]))?;
    }
    x.part(Part::End(ListEnd::default()))?;
    x.note(format!("{} user groups.", crate::domain::profile::GROUP_CATALOGUE.len()))
}

pub fn enquire(x: &mut Exec<'_, '_>, uid: &UserId) -> anyhow::Result<()> {
    let e = x.signed_in(READERS, Mode::Read, |w, me| views::enquire(w, me, uid))?;
    x.part(Part::Screen(screen::enquiry(&e)))
}

/// The columns of the List (seed 3.2: user ID and user name), with what a DA picks by next.
pub const LIST_COLUMNS: &[&str] = &["user_id", "surname", "other_names", "role", "status", "participant_id"];

pub fn find(
    x: &mut Exec<'_, '_>,
    name: &str,
    participant: Option<&str>,
    house: Option<ClearingHouse>,
    all: bool,
) -> anyhow::Result<()> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("--name needs some text to look for").into());
    }
    let out = &mut *x.out;
    let n = x.db.signed_in(READERS, Mode::Read, |w, me| {
        let scope = views::scope(w, me, participant, house, all, "searches")?;
        out.part(Part::List(ListHead::new("users", LIST_COLUMNS).seed_labels()))?;
        let filter =
            ListingFilter { participant: scope.as_ref().map(|p| &p.key), name: Some(name), ..Default::default() };
        let mut n = 0usize;
        users::for_each_listing_row(&w.tx, &filter, |r| {
            n += 1;
            Ok(out.part(Part::Row(vec![
                json!(r.user_id),
                json!(r.surname),
                json!(r.other_names),
                json!(r.role),
                json!(r.status),
                json!(r.participant_id),
            ]))?)
        })?;
        out.part(Part::End(ListEnd::default()))?;
        Ok(n)
    })?;
    x.note(format!("{}. `dms user enquire ID` shows one.", crate::api::count(n, "profile matches", "profiles match")))
}

/// The table (for a person at a terminal) shows the first columns, up to `otp`; CSV and JSON
/// carry them all.
const TABLE_COLUMNS: usize = 8;

pub const COLUMNS: &[&str] = &[
    "user_id",
    "surname",
    "other_names",
    "email",
    "status",
    "role",
    "locked",
    "otp",
    "participant_id",
    "enable_from",
    "disable_after",
    "access_channel",
    "transaction_limit_hkd",
    "user_groups",
    "created_at",
    "last_login_at",
    // Added after the first release: at the end, so that existing columns keep their place.
    "functions",
];

/// The quota footer (seed 4.3.1), exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaFooter {
    pub max_users: i64,
    pub total_users: i64,
    pub delegated_administrators: i64,
}

impl QuotaFooter {
    pub fn text(&self) -> String {
        let line = |label: &str, n: i64| format!("{label:<52}: {n}\n");
        [
            line("MAX. NO. OF USERS", self.max_users),
            line("TOTAL NO. OF USERS", self.total_users),
            line("TOTAL NO. OF DELEGATED ADMINISTRATORS", self.delegated_administrators),
            line(
                "TOTAL NO. OF USERS EXCEPT DELEGATED ADMINISTRATORS",
                self.total_users - self.delegated_administrators,
            ),
            "*** END OF REPORT ***\n".to_string(),
        ]
        .concat()
    }

    pub fn json(&self) -> Value {
        json!({
            "max_users": self.max_users,
            "total_users": self.total_users,
            "delegated_administrators": self.delegated_administrators,
            "users_except_delegated_administrators": self.total_users - self.delegated_administrators,
        })
    }
}

fn row(r: ListingRow) -> Vec<Value> {
    // Each text moves into its Value (json!() would copy it): 100,000 rows, 17 cells each.
    let otp = if r.otp_confirmed { r.otp_channel.unwrap_or_default() } else { "none".to_string() };
    let groups: Vec<Value> = r.groups.split_whitespace().map(|g| Value::String(g.to_string())).collect();
    vec![
        Value::String(r.user_id),
        Value::String(r.surname),
        Value::String(r.other_names),
        Value::from(r.email),
        Value::String(r.status),
        Value::String(r.role),
        Value::Bool(r.locked),
        Value::String(otp),
        Value::from(r.participant_id),
        Value::from(r.enable_from),
        Value::from(r.disable_after),
        Value::String(r.channel),
        Value::String(Cents(r.limit_cents).plain()),
        Value::Array(groups),
        Value::String(r.created_at),
        Value::from(r.last_login_at),
        Value::Array(r.functions.split_whitespace().map(|f| Value::String(f.to_string())).collect()),
    ]
}

pub fn listing(x: &mut Exec<'_, '_>, a: &ListingQuery) -> anyhow::Result<()> {
    let status = a.status.as_deref().map(UserStatus::parse).transpose()?.map(|s| s.as_str());
    let roles: &[&str] = match a.role.as_deref().unwrap_or("all") {
        "user" => &["user"],
        "da" => &["maker", "checker"],
        "all" => &[],
        other => return Err(invalid(format!("--role {other:?}: user, da or all")).into()),
    };
    if let Some(o) = a.otp.as_deref().filter(|o| !matches!(*o, "app" | "email" | "none")) {
        return Err(invalid(format!("--otp {o:?}: app, email or none")).into());
    }
    let out = &mut *x.out;
    x.db.signed_in(READERS, Mode::Read, |w, me| {
        let scope = views::scope(w, me, a.participant.as_deref(), a.house, a.all, "lists")?;
        let footer = match &scope {
            Some(p) => {
                let c = participants::counts(&w.tx, &p.key)?;
                QuotaFooter { max_users: p.max_users, total_users: c.total, delegated_administrators: c.das }
            }
            None => {
                let (max, c) = participants::totals(&w.tx)?;
                QuotaFooter { max_users: max, total_users: c.total, delegated_administrators: c.das }
            }
        };
        out.part(Part::List(ListHead::new("users", COLUMNS).table(&COLUMNS[..TABLE_COLUMNS]).seed_labels()))?;
        let filter = ListingFilter {
            participant: scope.as_ref().map(|p| &p.key),
            roles,
            status,
            search: a.search.as_deref().map(str::trim).filter(|s| !s.is_empty()),
            name: None,
            locked: a.locked,
            otp: a.otp.as_deref(),
            inactive_since: a.inactive_days.map(|d| w.now - chrono::Duration::days(d)),
        };
        users::for_each_listing_row(&w.tx, &filter, |r| Ok(out.part(Part::Row(row(r)))?))?;
        let mut extras = Map::new();
        extras.insert("quota".into(), footer.json());
        Ok(out.part(Part::End(ListEnd { extras, footer: Some(footer.text()) }))?)
    })?;
    x.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footer_matches_the_seed_character_for_character() {
        let f = QuotaFooter { max_users: 70, total_users: 47, delegated_administrators: 22 };
        assert_eq!(
            f.text(),
            "MAX. NO. OF USERS                                   : 70\n\
             TOTAL NO. OF USERS                                  : 47\n\
             TOTAL NO. OF DELEGATED ADMINISTRATORS               : 22\n\
             TOTAL NO. OF USERS EXCEPT DELEGATED ADMINISTRATORS  : 25\n\
             *** END OF REPORT ***\n"
        );
        assert_eq!(f.json()["users_except_delegated_administrators"], 25);
    }
}
