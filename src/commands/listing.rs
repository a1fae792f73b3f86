//! User Profile Listing (seed 3.2 a, 4.3.1), ending with the quota footer.

use crate::cli::ListingArgs;
use crate::commands::{signed_in, READERS};
use crate::context::{Ctx, Mode};
use crate::domain::profile::{Cents, UserStatus};
use crate::ops::views;
use crate::storage::participants;
use crate::storage::users::{self, ListingFilter, ListingRow};
use serde_json::{json, Value};

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
    // Each text moves into its Value (json!() would copy it): 100,000 rows, 16 cells each.
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
    ]
}

pub fn run(ctx: &mut Ctx, a: ListingArgs) -> anyhow::Result<()> {
    let status = a.status.as_deref().map(UserStatus::parse).transpose()?.map(|s| s.as_str());
    let roles: &[&str] = match a.role.as_str() {
        "user" => &["user"],
        "da" => &["maker", "checker"],
        _ => &[],
    };
    let printer = ctx.out.clone();
    let (out, footer) = signed_in(ctx, READERS, Mode::Read, |w, me| {
        let scope = views::scope(w, me, a.participant.as_deref(), a.house, a.all, "lists")?;
        let mut out = printer.rows("users", COLUMNS)?.table_columns(&COLUMNS[..TABLE_COLUMNS]).profile_labels();
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
        let filter = ListingFilter {
            participant: scope.as_ref().map(|p| &p.key),
            roles,
            status,
            search: a.search.as_deref().map(str::trim).filter(|s| !s.is_empty()),
            name: None,
            locked: a.locked,
            otp: a.otp.as_deref(),
            inactive_since: a.inactive_days.map(|d| w.now - chrono::Duration::days(d.into())),
        };
        users::for_each_listing_row(&w.tx, &filter, |r| Ok(out.push(row(r))?))?;
        Ok((out, footer))
    })?;
    out.finish(&[("quota", footer.json())], Some(&footer.text()))?;
    Ok(())
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
