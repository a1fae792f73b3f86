//! Maker-checker requests: what a request proposes (`Change`), how it is checked against the
//! database (at submission and again at approval), and how it is applied — all of it or
//! nothing, with its audit rows, inside the caller's transaction.

use crate::domain::maker_checker::{self as mc, DaCounts, Party, Refusal};
use crate::domain::profile;
use crate::domain::role::Role;
use crate::domain::user_id::{self, ParticipantId, UserId};
use crate::error::{conflict, not_permitted, DmsError};
use crate::storage::participants::{self, Participant};
use crate::storage::requests::{self as store, Subject};
use crate::storage::users::{self, UserProfile};
use crate::storage::{audit, otps, sessions};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A new business-user profile (Create User Profile, seed 4.3.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewProfile {
    pub user_id: String,
    pub surname: String,
    pub other_names: String,
    pub email: Option<String>,
    pub status: String,
    pub enable_from: Option<NaiveDate>,
    pub disable_after: Option<NaiveDate>,
    pub channel: String,
    pub groups: Vec<String>,
    pub limit_cents: i64,
}

/// A date field change: set, or clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateEdit {
    Set(NaiveDate),
    Clear,
}

/// The fields Change User Profile may touch; None leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileChanges {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_names: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_from: Option<DateEdit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_after: Option<DateEdit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_cents: Option<i64>,
}

impl ProfileChanges {
    pub fn is_empty(&self) -> bool {
        *self == ProfileChanges::default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailRow {
    pub user_id: String,
    pub email: String,
}

/// What a request proposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Change {
    CreateUser {
        profile: NewProfile,
    },
    ChangeUser {
        user_id: String,
        changes: ProfileChanges,
    },
    DeleteUser {
        user_id: String,
    },
    /// Unlock/Reset OTP Device Registration.
    UnlockUser {
        user_id: String,
    },
    /// Business user groups for a DA (seed 5.1).
    AssignGroups {
        user_id: String,
        groups: Vec<String>,
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
    pub fn kind(&self) -> &'static str {
        match self {
            Change::CreateUser { .. } => "create-user",
            Change::ChangeUser { .. } => "change-user",
            Change::DeleteUser { .. } => "delete-user",
            Change::UnlockUser { .. } => "unlock-user",
            Change::AssignGroups { .. } => "assign-groups",
            Change::ImportEmails { .. } => "import-emails",
            Change::ImportUsers { .. } => "import-users",
        }
    }

    /// The users this request is about.
    pub fn subject_ids(&self) -> Vec<&str> {
        match self {
            Change::CreateUser { profile } => vec![profile.user_id.as_str()],
            Change::ChangeUser { user_id, .. }
            | Change::DeleteUser { user_id }
            | Change::UnlockUser { user_id }
            | Change::AssignGroups { user_id, .. } => vec![user_id.as_str()],
            Change::ImportEmails { rows } => rows.iter().map(|r| r.user_id.as_str()).collect(),
            Change::ImportUsers { profiles } => profiles.iter().map(|p| p.user_id.as_str()).collect(),
        }
    }

    /// Profiles this request creates.
    fn creates(&self) -> bool {
        matches!(self, Change::CreateUser { .. } | Change::ImportUsers { .. })
    }

    /// A one-line summary for listings.
    pub fn summary(&self) -> String {
        match self {
            Change::CreateUser { profile } => format!("create {}", profile.user_id),
            Change::ChangeUser { user_id, changes } => {
                let fields: Vec<String> = serde_json::to_value(changes)
                    .ok()
                    .and_then(|v| v.as_object().map(|m| m.keys().cloned().collect()))
                    .unwrap_or_default();
                format!("change {user_id}: {}", fields.join(", "))
            }
            Change::DeleteUser { user_id } => format!("delete {user_id}"),
            Change::UnlockUser { user_id } => format!("unlock/reset OTP device registration of {user_id}"),
            Change::AssignGroups { user_id, groups } => format!("assign groups {} to DA {user_id}", groups.join(" ")),
            Change::ImportEmails { rows } => format!("register e-mail addresses of {} users", rows.len()),
            Change::ImportUsers { profiles } => format!("create {} users", profiles.len()),
        }
    }
}

/// A maker-checker refusal as the user sees it.
pub fn refused(r: Refusal) -> DmsError {
    if r.is_conflict() {
        conflict(r.to_string())
    } else {
        not_permitted(r.to_string())
    }
}

pub fn party(p: &UserProfile, locked: bool) -> Party<'_> {
    Party {
        user_id: &p.user_id,
        role: p.role,
        participant_id: p.participant_id.as_deref(),
        enabled: p.enabled(),
        locked,
    }
}

/// Load a participant for a request, with its ID type.
pub fn participant(c: &Connection, id: &str) -> anyhow::Result<Participant> {
    participants::get(c, id)?.ok_or_else(|| anyhow::Error::from(not_permitted(format!("no participant {id}"))))
}

pub fn participant_id(p: &Participant) -> anyhow::Result<ParticipantId> {
    Ok(ParticipantId::parse(&p.participant_id, p.house)?)
}

/// Check a request against the database. `subjects` are the versions recorded at submission
/// (None at submission time: they are read now). Returns the subjects with their versions.
pub fn check(
    c: &Connection,
    participant: &Participant,
    change: &Change,
    recorded: Option<&[Subject]>,
    today: NaiveDate,
) -> anyhow::Result<Vec<Subject>> {
    if let Change::AssignGroups { .. } = change {
        // Seed 5.1: DAs get business user groups only once smartcards are decommissioned.
        let decommission = crate::storage::settings::get_or_default(c, "decommission-date")?;
        if today.to_string() < decommission {
            return Err(not_permitted(format!(
                "DAs can be assigned business user groups only after smartcard decommissioning ({decommission})"
            ))
            .into());
        }
    }
    let pid = participant_id(participant)?;
    let mut subjects = Vec::new();
    let mut das_removed = DaCounts { makers: 0, checkers: 0 };
    let new_ids_reserved =
        if recorded.is_none() { store::pending_new_ids(c, &participant.participant_id)? } else { Default::default() };
    let recorded_versions: Option<std::collections::HashMap<&str, Option<i64>>> =
        recorded.map(|r| r.iter().map(|s| (s.user_id.as_str(), s.version)).collect());
    for id in change.subject_ids() {
        let current = users::get(c, id)?;
        if change.creates() {
            let uid = UserId::parse(id)?;
            user_id::check_business_user_id(&uid, &pid, participant.house)?;
            if current.is_some() || users::id_taken(c, id)? {
                return Err(conflict(format!(
                    "user ID {id} is taken (user IDs are never reused, even after deletion)"
                ))
                .into());
            }
            if new_ids_reserved.contains(id) {
                return Err(conflict(format!("user ID {id} is already proposed by another pending request")).into());
            }
            subjects.push(Subject { user_id: id.to_string(), version: None });
            continue;
        }
        let Some(p) = current else {
            return Err(if recorded.is_some() {
                conflict(format!("stale request: user {id} no longer exists; resubmit"))
            } else {
                crate::error::invalid(format!("no user {id}"))
            }
            .into());
        };
        if p.participant_id.as_deref() != Some(participant.participant_id.as_str()) {
            return Err(not_permitted(format!(
                "user {id} is not a user of participant {}",
                participant.participant_id
            ))
            .into());
        }
        if let Some(rec) = &recorded_versions {
            if rec.get(id).copied().flatten() != Some(p.version) {
                return Err(conflict(format!(
                    "stale request: user {id} has changed since the request was made; resubmit it"
                ))
                .into());
            }
        }
        match change {
            Change::DeleteUser { .. } | Change::UnlockUser { .. } if p.role.is_da() => {
                return Err(not_permitted(format!(
                    "{id} is a Delegated Administrator: DAs are deleted, unlocked and reset by the exchange through eService DA3"
                ))
                .into());
            }
            Change::AssignGroups { .. } if !p.role.is_da() => {
                return Err(crate::error::invalid(format!(
                    "{id} is not a Delegated Administrator (da assign is for DAs)"
                ))
                .into());
            }
            _ => {}
        }
        let leaves = match change {
            Change::DeleteUser { .. } => p.enabled(),
            Change::ChangeUser { changes, .. } => p.enabled() && changes.status.as_deref() == Some("DISABLED"),
            _ => false,
        };
        if leaves {
            match p.role {
                Role::Maker => das_removed.makers += 1,
                Role::Checker => das_removed.checkers += 1,
                _ => {}
            }
        }
        subjects.push(Subject { user_id: id.to_string(), version: Some(p.version) });
    }
    if das_removed.makers + das_removed.checkers > 0 {
        let before = users::da_counts(c, &participant.participant_id)?;
        let after =
            DaCounts { makers: before.makers - das_removed.makers, checkers: before.checkers - das_removed.checkers };
        mc::check_da_minimum(before, after).map_err(refused)?;
    }
    if change.creates() {
        let counts = participants::counts(c, &participant.participant_id)?;
        mc::check_quota(participant.max_users, counts.total, subjects.len() as i64).map_err(refused)?;
    }
    Ok(subjects)
}

fn new_profile(p: &NewProfile, participant: &str, now: DateTime<Utc>) -> UserProfile {
    UserProfile {
        user_id: p.user_id.clone(),
        participant_id: Some(participant.to_string()),
        role: Role::User,
        status: p.status.clone(),
        surname: p.surname.clone(),
        other_names: p.other_names.clone(),
        email: p.email.clone(),
        enable_from: p.enable_from,
        disable_after: p.disable_after,
        channel: p.channel.clone(),
        limit_cents: p.limit_cents,
        groups: p.groups.join(" "),
        srn: None,
        cert_expiry: None,
        pin_phc: None,
        created_at: now,
        version: 1,
    }
}

/// The notifications an applied change sends (after commit).
pub type Notices = Vec<crate::mail::Mail>;

/// Apply an approved change. The caller has run `check` in the same transaction.
pub fn apply(
    c: &Connection,
    participant: &Participant,
    change: &Change,
    request_id: i64,
    checker: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Notices> {
    let pid = participant.participant_id.as_str();
    let mut notices = Vec::new();
    let ev = |action: &'static str, subject: &str, detail: serde_json::Value| -> anyhow::Result<()> {
        audit::append(
            c,
            now,
            &audit::Event {
                actor: Some(checker),
                action,
                subject: Some(subject),
                participant_id: Some(pid),
                detail: json!({ "request_id": request_id, "change": detail }).to_string(),
            },
        )?;
        Ok(())
    };
    match change {
        Change::CreateUser { profile } => {
            users::insert(c, &new_profile(profile, pid, now))?;
            ev("user.created", &profile.user_id, json!({ "email": profile.email, "groups": profile.groups }))?;
        }
        Change::ImportUsers { profiles } => {
            for p in profiles {
                users::insert(c, &new_profile(p, pid, now))?;
                ev("user.created", &p.user_id, json!({ "email": p.email, "bulk": true }))?;
            }
        }
        Change::ChangeUser { user_id, changes } => {
            let mut p = users::get(c, user_id)?.ok_or_else(|| conflict(format!("user {user_id} no longer exists")))?;
            let before = p.clone();
            if let Some(e) = &changes.email {
                p.email = Some(e.clone());
            }
            if let Some(s) = &changes.surname {
                p.surname = s.clone();
            }
            if let Some(s) = &changes.other_names {
                p.other_names = s.clone();
            }
            if let Some(s) = &changes.status {
                p.status = s.clone();
            }
            if let Some(d) = changes.enable_from {
                p.enable_from = match d {
                    DateEdit::Set(d) => Some(d),
                    DateEdit::Clear => None,
                };
            }
            if let Some(d) = changes.disable_after {
                p.disable_after = match d {
                    DateEdit::Set(d) => Some(d),
                    DateEdit::Clear => None,
                };
            }
            if let Some(g) = &changes.groups {
                p.groups = g.join(" ");
            }
            if let Some(l) = changes.limit_cents {
                p.limit_cents = l;
            }
            profile::check_date_window(p.enable_from, p.disable_after)?;
            users::update_profile(c, &p)?;
            if p.status == "DISABLED" && before.status == "ENABLED" {
                sessions::end_all_for_user(c, user_id, None, now, "disabled")?;
            }
            ev("user.changed", user_id, diff(&before, &p))?;
        }
        Change::ImportEmails { rows } => {
            for r in rows {
                let mut p = users::get(c, &r.user_id)?
                    .ok_or_else(|| conflict(format!("user {} no longer exists", r.user_id)))?;
                let old = p.email.replace(r.email.clone());
                users::update_profile(c, &p)?;
                ev("user.changed", &r.user_id, json!({ "email": [old, r.email], "bulk": true }))?;
            }
        }
        Change::AssignGroups { user_id, groups } => {
            let mut p = users::get(c, user_id)?.ok_or_else(|| conflict(format!("user {user_id} no longer exists")))?;
            let old = std::mem::replace(&mut p.groups, groups.join(" "));
            users::update_profile(c, &p)?;
            ev("da.groups.assigned", user_id, json!({ "groups": [old, groups.join(" ")] }))?;
        }
        Change::DeleteUser { user_id } => {
            let p = users::get(c, user_id)?.ok_or_else(|| conflict(format!("user {user_id} no longer exists")))?;
            users::delete(c, user_id, p.participant_id.as_deref(), now)?;
            ev("user.deleted", user_id, json!({ "surname": p.surname, "other_names": p.other_names }))?;
        }
        Change::UnlockUser { user_id } => {
            let p = users::get(c, user_id)?.ok_or_else(|| conflict(format!("user {user_id} no longer exists")))?;
            reset_credentials(c, user_id, now, "OTP device registration reset")?;
            users::bump_version(c, user_id)?;
            ev("user.unlocked-reset", user_id, json!({ "next_logon": "first-time" }))?;
            if let Some(e) = &p.email {
                notices.push(crate::mail::notification(
                    e,
                    "Account unlocked and OTP device registration reset",
                    "Your CCASS/CCMS account was unlocked and its password and OTP device registration were reset. \
                     Your next logon is a first-time logon: set a password (Forgot/Reset) and set up the OTP channel again.",
                ));
            }
        }
    }
    Ok(notices)
}

/// Unlock/Reset: the next logon is a first-time logon (password and OTP channel again).
pub fn reset_credentials(c: &Connection, user_id: &str, now: DateTime<Utc>, why: &str) -> anyhow::Result<()> {
    users::save_credentials(c, user_id, &users::Credentials::default())?;
    otps::discard(c, user_id)?;
    sessions::end_all_for_user(c, user_id, None, now, why)?;
    Ok(())
}

/// Field-by-field differences, [old, new], for audit rows and the approval screen.
pub fn diff(a: &UserProfile, b: &UserProfile) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, x: serde_json::Value, y: serde_json::Value| {
        if x != y {
            m.insert(k.to_string(), json!([x, y]));
        }
    };
    put("status", json!(a.status), json!(b.status));
    put("surname", json!(a.surname), json!(b.surname));
    put("other_names", json!(a.other_names), json!(b.other_names));
    put("email", json!(a.email), json!(b.email));
    put("enable_from", json!(a.enable_from), json!(b.enable_from));
    put("disable_after", json!(a.disable_after), json!(b.disable_after));
    put("groups", json!(a.groups), json!(b.groups));
    put("limit", json!(profile::format_cents(a.limit_cents)), json!(profile::format_cents(b.limit_cents)));
    serde_json::Value::Object(m)
}

/// Does the participant's ID space allow the IDs a request names? (Used by Generate User ID.)
pub fn generate_ids(c: &Connection, participant: &Participant, n: usize) -> anyhow::Result<Vec<String>> {
    let pid = participant_id(participant)?;
    let mut taken = users::ids_of_participant(c, &participant.participant_id)?;
    taken.extend(store::pending_new_ids(c, &participant.participant_id)?);
    let out: Vec<String> = user_id::business_user_id_candidates(&pid, participant.house)
        .filter(|id| !taken.contains(id.as_str()))
        .take(n)
        .map(|id| id.as_str().to_string())
        .collect();
    if out.len() < n {
        return Err(conflict(format!(
            "participant {} has no free business-user IDs left ({} in its ID space)",
            participant.participant_id,
            user_id::business_user_capacity(participant.house)
        ))
        .into());
    }
    Ok(out)
}
