//! User Profile Listing (seed 3.2 a, 4.3.1), ending with the quota footer.

use crate::cli::ListingArgs;
use crate::commands::{signed_in, READERS};
use crate::context::Ctx;
use crate::domain::profile::{self, UserStatus};
use crate::error::{invalid, not_permitted, usage};
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
    let otp = if r.otp_confirmed { r.otp_channel.unwrap_or_default() } else { "none".to_string() };
    vec![
        json!(r.user_id),
        json!(r.surname),
        json!(r.other_names),
        json!(r.email),
        json!(r.status),
        json!(r.role),
        json!(if r.locked { "Yes" } else { "No" }),
        json!(otp),
        json!(r.participant_id),
        json!(r.enable_from),
        json!(r.disable_after),
        json!(r.channel),
        json!(profile::format_cents(r.limit_cents)),
        json!(r.groups),
        json!(r.created_at),
        json!(r.last_login_at),
    ]
}

pub fn cmd_listing(ctx: &mut Ctx, a: ListingArgs) -> anyhow::Result<()> {
    let id = signed_in(ctx, READERS)?;
    let participant: Option<String> = match (&id.participant_id, a.participant, a.all) {
        (Some(own), None, false) => Some(own.clone()),
        (Some(own), Some(p), false) if p.trim().eq_ignore_ascii_case(own) => Some(own.clone()),
        (Some(own), _, _) => return Err(not_permitted(format!("a DA lists only its own participant ({own})")).into()),
        (None, Some(p), _) => Some(p.trim().to_uppercase()),
        (None, None, true) => None,
        (None, None, false) => return Err(usage("name --participant P or --all").into()),
    };
    let status = a.status.as_deref().map(UserStatus::parse).transpose()?.map(|s| s.as_str());
    let roles: &[&str] = match a.role.as_str() {
        "user" => &["user"],
        "da" => &["maker", "checker"],
        _ => &[],
    };
    let tx = ctx.store.read()?;
    let footer = match &participant {
        Some(p) => {
            let pt = participants::get(&tx, p)?.ok_or_else(|| invalid(format!("no participant {p}")))?;
            let c = participants::counts(&tx, p)?;
            QuotaFooter { max_users: pt.max_users, total_users: c.total, delegated_administrators: c.das }
        }
        None => {
            let mut f = QuotaFooter { max_users: 0, total_users: 0, delegated_administrators: 0 };
            for pt in participants::list(&tx)? {
                let c = participants::counts(&tx, &pt.participant_id)?;
                f.max_users += pt.max_users;
                f.total_users += c.total;
                f.delegated_administrators += c.das;
            }
            f
        }
    };
    let mut out = ctx.out.rows("users", COLUMNS)?.table_columns(&COLUMNS[..TABLE_COLUMNS]);
    let filter = ListingFilter { participant: participant.as_deref(), roles, status };
    users::for_each_listing_row(&tx, &filter, |r| Ok(out.push(row(r))?))?;
    drop(tx);
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
