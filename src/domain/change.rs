//! What a maker-checker request proposes (SPEC §4), with typed fields, and what a change does
//! to a profile. Pure: the engine in `ops::maker_checker` loads the profiles, asks these
//! functions, and writes the result.

use crate::domain::account::UserProfile;
use crate::domain::profile::{self, AccessChannel, Cents, Functions, Groups, ProfileError, UserStatus};
use crate::domain::role::Role;
use crate::domain::user_id::{ParticipantKey, UserId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::fmt;

/// A new business-user profile (Create User Profile, seed 4.3.1). `user_id` is None until the
/// engine generates it inside the write transaction (Generate User ID).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProfile {
    pub user_id: Option<UserId>,
    pub surname: String,
    pub other_names: String,
    pub email: String,
    pub status: UserStatus,
    pub enable_from: Option<NaiveDate>,
    pub disable_after: Option<NaiveDate>,
    pub channel: AccessChannel,
    pub groups: Groups,
    #[serde(rename = "limit_cents")]
    pub limit: Cents,
    /// A request stored before functions existed has none.
    #[serde(default)]
    pub functions: Functions,
}

impl NewProfile {
    /// The profile this creates, once its ID is known.
    pub fn to_profile(&self, user_id: UserId, participant: &ParticipantKey, now: DateTime<Utc>) -> UserProfile {
        UserProfile {
            status: self.status,
            enable_from: self.enable_from,
            disable_after: self.disable_after,
            channel: self.channel,
            limit: self.limit,
            groups: self.groups.clone(),
            functions: self.functions,
            ..UserProfile::new(
                user_id,
                Some(participant.clone()),
                Role::User,
                &self.surname,
                &self.other_names,
                Some(&self.email),
                now,
            )
        }
    }
}

/// A date field change: set, or clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateEdit {
    Set(NaiveDate),
    Clear,
}

impl DateEdit {
    fn value(self) -> Option<NaiveDate> {
        match self {
            DateEdit::Set(d) => Some(d),
            DateEdit::Clear => None,
        }
    }
}

/// The fields Change User Profile may touch; None leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileChanges {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_names: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_from: Option<DateEdit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_after: Option<DateEdit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<AccessChannel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Groups>,
    #[serde(skip_serializing_if = "Option::is_none", rename = "limit_cents")]
    pub limit: Option<Cents>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub functions: Option<Functions>,
}

impl ProfileChanges {
    pub fn is_empty(&self) -> bool {
        *self == ProfileChanges::default()
    }

    /// The profile after the change. Every rule that concerns the fields together is checked
    /// here (Enable From not after Disable After), so submission and approval refuse alike.
    pub fn apply_to(&self, p: &UserProfile) -> Result<UserProfile, ProfileError> {
        let mut n = p.clone();
        if let Some(e) = &self.email {
            n.email = Some(e.clone());
        }
        if let Some(s) = &self.surname {
            n.surname = s.clone();
        }
        if let Some(s) = &self.other_names {
            n.other_names = s.clone();
        }
        if let Some(s) = self.status {
            n.status = s;
        }
        if let Some(d) = self.enable_from {
            n.enable_from = d.value();
        }
        if let Some(d) = self.disable_after {
            n.disable_after = d.value();
        }
        if let Some(c) = self.channel {
            n.channel = c;
        }
        if let Some(g) = &self.groups {
            n.groups = g.clone();
        }
        if let Some(l) = self.limit {
            n.limit = l;
        }
        if let Some(f) = self.functions {
            n.functions = f;
        }
        profile::check_date_window(n.enable_from, n.disable_after)?;
        Ok(n)
    }
}

/// One row of a bulk e-mail registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailRow {
    pub user_id: UserId,
    pub email: String,
}

/// What a request proposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Change {
    CreateUser {
        profile: NewProfile,
    },
    ChangeUser {
        user_id: UserId,
        changes: ProfileChanges,
    },
    DeleteUser {
        user_id: UserId,
    },
    /// Unlock/Reset OTP Device Registration.
    UnlockUser {
        user_id: UserId,
    },
    /// Smartcard Password Reset (seed 4.2.2): a one-time initial PIN mailed to the user.
    ResetSmartcardPin {
        user_id: UserId,
    },
    /// Business user groups for a DA (seed 5.1).
    AssignGroups {
        user_id: UserId,
        groups: Groups,
    },
    /// Bulk e-mail registration: one request, many changes.
    ImportEmails {
        rows: Vec<EmailRow>,
    },
    /// Bulk user creation.
    ImportUsers {
        profiles: Vec<NewProfile>,
    },
}

impl Change {
    /// Every kind, as `kind` names them.
    pub const KINDS: [&'static str; 8] = [
        "create-user",
        "change-user",
        "delete-user",
        "unlock-user",
        "reset-smartcard-pin",
        "assign-groups",
        "import-emails",
        "import-users",
    ];

    pub fn kind(&self) -> &'static str {
        match self {
            Change::CreateUser { .. } => "create-user",
            Change::ChangeUser { .. } => "change-user",
            Change::DeleteUser { .. } => "delete-user",
            Change::UnlockUser { .. } => "unlock-user",
            Change::ResetSmartcardPin { .. } => "reset-smartcard-pin",
            Change::AssignGroups { .. } => "assign-groups",
            Change::ImportEmails { .. } => "import-emails",
            Change::ImportUsers { .. } => "import-users",
        }
    }

    /// Does this request create profiles (and so count against the quota)?
    pub fn creates(&self) -> bool {
        matches!(self, Change::CreateUser { .. } | Change::ImportUsers { .. })
    }

    /// The users this request is about (for a create, once its IDs are known).
    pub fn subject_ids(&self) -> Vec<&UserId> {
        match self {
            Change::CreateUser { profile } => profile.user_id.iter().collect(),
            Change::ChangeUser { user_id, .. }
            | Change::DeleteUser { user_id }
            | Change::UnlockUser { user_id }
            | Change::ResetSmartcardPin { user_id }
            | Change::AssignGroups { user_id, .. } => vec![user_id],
            Change::ImportEmails { rows } => rows.iter().map(|r| &r.user_id).collect(),
            Change::ImportUsers { profiles } => profiles.iter().filter_map(|p| p.user_id.as_ref()).collect(),
        }
    }

    /// The new profiles whose IDs are still to be generated.
    pub fn ungenerated(&mut self) -> Vec<&mut Option<UserId>> {
        match self {
            Change::CreateUser { profile } => vec![&mut profile.user_id],
            Change::ImportUsers { profiles } => profiles.iter_mut().map(|p| &mut p.user_id).collect(),
            _ => Vec::new(),
        }
        .into_iter()
        .filter(|id| id.is_none())
        .collect()
    }

    /// How many rows a bulk request carries (1 for the others).
    pub fn rows(&self) -> usize {
        match self {
            Change::ImportEmails { rows } => rows.len(),
            Change::ImportUsers { profiles } => profiles.len(),
            _ => 1,
        }
    }

    /// The change as scripts read it (`request show`): the stored payload with the public field
    /// names and forms of Enquire and the listing — `transaction_limit_hkd` as `"5000.00"`,
    /// `access_channel`, `user_groups` — never the stored `limit_cents`.
    pub fn public(&self) -> Value {
        public_names(serde_json::to_value(self).unwrap_or_default())
    }

    /// A one-line summary for listings.
    pub fn summary(&self) -> String {
        let id = |o: &Option<UserId>| o.as_ref().map(UserId::to_string).unwrap_or_else(|| "(generated)".into());
        match self {
            Change::CreateUser { profile } => format!("create {}", id(&profile.user_id)),
            Change::ChangeUser { user_id, changes } => {
                let fields: Vec<String> = public_names(serde_json::to_value(changes).unwrap_or_default())
                    .as_object()
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                format!("change {user_id}: {}", fields.join(", "))
            }
            Change::DeleteUser { user_id } => format!("delete {user_id}"),
            Change::UnlockUser { user_id } => format!("unlock/reset OTP device registration of {user_id}"),
            Change::ResetSmartcardPin { user_id } => format!("reset the smartcard PIN of {user_id}"),
            Change::AssignGroups { user_id, groups } => format!("assign groups {} to DA {user_id}", groups.spaced()),
            Change::ImportEmails { rows } => format!("register e-mail addresses of {} users", rows.len()),
            Change::ImportUsers { profiles } => format!("create {} users", profiles.len()),
        }
    }
}

/// Where a request is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestStatus {
    Pending,
    /// Pending, but a subject changed since it was made: it cannot be approved as it is (its
    /// maker resubmits it). Derived as it is read, never stored.
    Stale,
    Approved,
    Rejected,
    Cancelled,
    Expired,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 6] = [
        RequestStatus::Pending,
        RequestStatus::Stale,
        RequestStatus::Approved,
        RequestStatus::Rejected,
        RequestStatus::Cancelled,
        RequestStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "PENDING",
            RequestStatus::Stale => "STALE",
            RequestStatus::Approved => "APPROVED",
            RequestStatus::Rejected => "REJECTED",
            RequestStatus::Cancelled => "CANCELLED",
            RequestStatus::Expired => "EXPIRED",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| format!("status {t:?}: must be PENDING, STALE, APPROVED, REJECTED, CANCELLED or EXPIRED"))
    }
}

impl RequestStatus {
    /// Still waiting for a decision (a stale one too: its maker may cancel or resubmit it).
    pub fn is_open(self) -> bool {
        matches!(self, RequestStatus::Pending | RequestStatus::Stale)
    }
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A profile's fields in their machine form (JSON and CSV: one name and one type per concept).
pub fn fields(p: &UserProfile) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("status".into(), json!(p.status));
    m.insert("surname".into(), json!(p.surname));
    m.insert("other_names".into(), json!(p.other_names));
    m.insert("email".into(), json!(p.email));
    m.insert("enable_from".into(), json!(p.enable_from));
    m.insert("disable_after".into(), json!(p.disable_after));
    m.insert("access_channel".into(), json!(p.channel));
    m.insert("transaction_limit_hkd".into(), json!(p.limit.plain()));
    m.insert("user_groups".into(), json!(p.groups.codes()));
    m.insert("functions".into(), json!(p.functions));
    m
}

/// Field-by-field differences for audit rows, under the public names: `{field: {"before",
/// "after"}}` for each field that differs. A profile created has no before, one deleted no after:
/// every field is given.
pub fn diff(before: Option<&UserProfile>, after: Option<&UserProfile>) -> Value {
    let (a, b) = (before.map(fields).unwrap_or_default(), after.map(fields).unwrap_or_default());
    let keys: Vec<&String> = if a.is_empty() { b.keys().collect() } else { a.keys().collect() };
    let mut m = Map::new();
    for k in keys {
        let (old, new) = (a.get(k).cloned().unwrap_or(Value::Null), b.get(k).cloned().unwrap_or(Value::Null));
        if old != new || a.is_empty() || b.is_empty() {
            m.insert(k.clone(), json!({ "before": old, "after": new }));
        }
    }
    Value::Object(m)
}

/// `{before, after}` of an audit detail; an older row wrote `[before, after]`.
pub fn before_after(v: &Value) -> (Value, Value) {
    match v {
        Value::Array(a) if a.len() == 2 => (a[0].clone(), a[1].clone()),
        Value::Object(m) => {
            (m.get("before").cloned().unwrap_or(Value::Null), m.get("after").cloned().unwrap_or(Value::Null))
        }
        other => (Value::Null, other.clone()),
    }
}

/// Stored field names to public ones, at any depth (see [`Change::public`]).
fn public_names(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| match k.as_str() {
                    "limit_cents" => ("transaction_limit_hkd".to_string(), json!(v.as_i64().map(|c| Cents(c).plain()))),
                    "channel" => ("access_channel".to_string(), v),
                    "groups" => ("user_groups".to_string(), v),
                    _ => (k, public_names(v)),
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(public_names).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user_id::ClearingHouse;

    fn profile() -> UserProfile {
        let pk = ParticipantKey::parse("B01234", ClearingHouse::HkscCp).expect("pk");
        let now = DateTime::parse_from_rfc3339("2026-11-23T02:00:00Z").expect("t").with_timezone(&Utc);
        UserProfile {
            disable_after: NaiveDate::from_ymd_opt(2027, 1, 31),
            ..UserProfile::new(
                UserId::parse("B0123401").expect("id"),
                Some(pk),
                Role::User,
                "CHAN",
                "TAI MAN",
                Some("a@b.hk"),
                now,
            )
        }
    }

    #[test]
    fn a_change_that_puts_enable_from_after_disable_after_is_refused_as_a_whole() {
        let c = ProfileChanges {
            enable_from: NaiveDate::from_ymd_opt(2027, 6, 1).map(DateEdit::Set),
            ..Default::default()
        };
        let e = c.apply_to(&profile()).unwrap_err();
        assert!(matches!(e, ProfileError::DateWindow { .. }), "{e}");
        let both = ProfileChanges {
            enable_from: NaiveDate::from_ymd_opt(2027, 6, 1).map(DateEdit::Set),
            disable_after: Some(DateEdit::Clear),
            ..Default::default()
        };
        assert_eq!(both.apply_to(&profile()).expect("ok").enable_from, NaiveDate::from_ymd_opt(2027, 6, 1));
    }

    #[test]
    fn changes_touch_only_the_named_fields_and_diff_shows_them() {
        let c = ProfileChanges {
            email: Some("new@b.hk".into()),
            limit: Some(Cents(500_000)),
            groups: Some(Groups::parse("A,11").expect("groups")),
            ..Default::default()
        };
        let before = profile();
        let after = c.apply_to(&before).expect("ok");
        assert_eq!(after.surname, before.surname);
        let d = diff(Some(&before), Some(&after));
        assert_eq!(d["email"], json!({ "before": "a@b.hk", "after": "new@b.hk" }));
        assert_eq!(d["transaction_limit_hkd"], json!({ "before": "0.00", "after": "5000.00" }));
        assert_eq!(before_after(&json!(["a", "b"])), (json!("a"), json!("b")), "older rows");
        let created = diff(None, Some(&after));
        assert_eq!(created["email"], json!({ "before": null, "after": "new@b.hk" }));
        assert_eq!(created.as_object().map(|m| m.len()), Some(fields(&after).len()), "the whole profile");
        assert_eq!(d["user_groups"], json!({ "before": [], "after": ["11", "A"] }));
        assert!(d.get("surname").is_none());
    }

    #[test]
    fn payloads_round_trip_and_read_the_old_field_names() {
        let c = Change::ChangeUser {
            user_id: UserId::parse("B0123401").expect("id"),
            changes: ProfileChanges {
                status: Some(UserStatus::Disabled),
                enable_from: Some(DateEdit::Clear),
                ..Default::default()
            },
        };
        let text = serde_json::to_string(&c).expect("json");
        assert_eq!(serde_json::from_str::<Change>(&text).expect("back"), c);
        let old = r#"{"kind":"create-user","profile":{"user_id":"B0123404","surname":"S","other_names":"O","email":"a@b.hk","status":"ENABLED","enable_from":null,"disable_after":null,"channel":"CST","groups":["A","11"],"limit_cents":50000000}}"#;
        let c: Change = serde_json::from_str(old).expect("old payload");
        let Change::CreateUser { profile } = c else { panic!("kind") };
        assert_eq!(profile.limit, Cents(50_000_000));
        assert_eq!(profile.groups.codes(), ["11", "A"]);
        assert!(serde_json::from_str::<Change>(&old.replace("\"A\"", "\"ZZZ\"")).is_err(), "groups are checked");
    }

    #[test]
    fn request_statuses_parse_case_insensitively() {
        assert_eq!(RequestStatus::parse("pending"), Ok(RequestStatus::Pending));
        assert!(RequestStatus::parse("done").is_err());
    }
}
