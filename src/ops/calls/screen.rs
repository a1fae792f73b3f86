//! The seed's DMS screens for a profile (SPEC §2; seed 4.3, Appendix A, D c): the heading, the
//! fields under the seed's labels in the seed's order (those that apply to the profile's
//! state), the Selected / Deleted User Groups, and the closing line of a decided change. The
//! same screen serves Enquire, Create, Change, Delete and Unlock/Reset, and the checker's view
//! before the authorisation code is typed. Values are machine forms: `output` shows them the
//! seed's way in a table and as they are in JSON.

use crate::api::{time, Screen, ScreenField};
use crate::domain::account::UserProfile;
use crate::domain::change::{Change, RequestStatus};
use crate::domain::profile::AccessChannel;
use crate::domain::role::Role;
use crate::ops::maker_checker::{Shown, ShownState};
use crate::ops::views::Enquiry;
use crate::storage::participants::Participant;
use serde_json::{json, Map, Value};

pub const END_USER: &str = "This is an end-user profile";
pub const DELEGATED_ADMINISTRATOR: &str = "This is a Delegated Administrator profile";
pub const WILL_UNLOCK: &str = "Will Unlock/Reset OTP Device Registration";
pub const WILL_RESET_PIN: &str = "Will reset the PIN: a one-time initial PIN goes to the registered address";

pub fn heading(role: Role) -> &'static str {
    if role.is_da() {
        DELEGATED_ADMINISTRATOR
    } else {
        END_USER
    }
}

/// The seed's closing lines for a decided request — the Checker ID who authorised it, the
/// authorisation code masked, and `THE ABOVE USER PROFILE IS CHANGED SUCCESSFULLY` (App A f,
/// App D c d) — or what happens next for a pending one.
pub fn closing(status: RequestStatus, change: &Change, request_id: i64, checker: Option<&str>) -> String {
    match status {
        RequestStatus::Approved => {
            let by =
                checker.map(|c| format!("Checker ID          {c}\nAuthorisation Code  *****\n\n")).unwrap_or_default();
            format!(
                "{by}THE ABOVE USER PROFILE IS {} SUCCESSFULLY\n(request {request_id}, authorised)",
                done_word(change)
            )
        }
        _ => format!("Request {request_id} waits for a DA checker: `dms request approve {request_id}`."),
    }
}

/// The word of the seed's closing line for what a request did.
pub fn done_word(change: &Change) -> &'static str {
    match change {
        Change::CreateUser { .. } | Change::ImportUsers { .. } => "CREATED",
        Change::DeleteUser { .. } => "DELETED",
        _ => "CHANGED",
    }
}

/// The code of a DMS function, for the line atop its screens (the seed shows `DUPC` on Change
/// User Profile; the others follow its pattern: DMS User Profile + the function's letter).
pub fn function_code(title: &str) -> Option<&'static str> {
    Some(match title {
        "Enquire User Profile" => "DUPE",
        "Create User Profile" => "DUPA",
        "Delete User Profile" => "DUPD",
        "Change User Profile"
        | "Change DA Profile"
        | "Unlock/Reset OTP Device Registration"
        | "Smartcard Password Reset" => "DUPC",
        "User Profile Listing" => "DUPL",
        _ => return None,
    })
}

/// The line atop a screen: `DUPC 01 15-Apr-23 12:56:56` (Hong Kong time).
pub fn function_line(code: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    format!("{code} 01 {}", crate::domain::hours::hong_kong(now).format("%d-%b-%y %H:%M:%S"))
}

/// A profile's fields in the seed's order, as machine values: exactly the fields that apply
/// to its state. Locked and OTP Enabled once 2FA is initialised; SRN and Certificate Expiry
/// Date until then, while the smartcard is in use.
pub fn fields(
    p: &UserProfile,
    participant: Option<&Participant>,
    state: Option<&ShownState>,
) -> Vec<(&'static str, Value)> {
    let organisation = match participant {
        Some(pt) => format!("{} {}", pt.id(), pt.name),
        None if p.participant.is_none() => "HKEX".to_string(),
        None => p.participant_id().unwrap_or_default().to_string(),
    };
    let mut f: Vec<(&'static str, Value)> = vec![
        ("organisation", json!(organisation)),
        ("internal_external", json!(if p.role.is_internal() { "INTERNAL" } else { "EXTERNAL" })),
        ("user_id", json!(p.user_id)),
        ("status", json!(p.status)),
        ("surname", json!(p.surname)),
        ("other_names", json!(p.other_names)),
        ("email", json!(p.email)),
        ("enable_from", json!(p.enable_from)),
        ("disable_after", json!(p.disable_after)),
    ];
    if let Some(s) = state {
        if s.cred.initialised() {
            f.push(("locked", json!(s.cred.locked())));
            f.push(("otp_enabled", json!(true)));
        } else if let Some(card) = p.smartcard.as_ref().filter(|_| !s.decommissioned || p.channel == AccessChannel::Pg)
        {
            f.push(("srn", json!(card.srn)));
            f.push(("certificate_expiry", json!(card_expiry(card.cert_expiry))));
        }
    }
    if let Some(pt) = participant {
        f.push(("clearing_house_options", json!(pt.house().clearing_house_option())));
    }
    f.push(("access_channel", json!(p.channel)));
    f.push(("transaction_limit_hkd", json!(p.limit.plain())));
    f.push(("user_groups", json!(p.groups.codes())));
    f.push(("functions", json!(p.functions)));
    f
}

/// A certificate's expiry (Hong Kong time, as the seed shows it) with its offset.
fn card_expiry(t: chrono::NaiveDateTime) -> String {
    let hk = crate::domain::hours::hkt();
    t.and_local_timezone(hk).single().map(|t| t.to_rfc3339()).unwrap_or_else(|| t.to_string())
}

/// Enquire User Profile: the screen, and its JSON (the fields plus role and OTP channel).
pub fn enquiry(e: &Enquiry) -> Screen {
    let p = &e.account.profile;
    let state = ShownState { cred: e.account.cred.clone(), decommissioned: e.decommissioned };
    let fields = fields(p, e.participant.as_ref(), Some(&state));
    let mut json: Map<String, Value> = fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    json.insert("role".into(), json!(p.role));
    if e.account.cred.initialised() {
        json.insert("otp_channel".into(), json!(e.account.cred.channel().map(|c| c.as_str())));
    }
    Screen {
        function: None,
        functions: None,
        title: Some("Enquire User Profile".to_string()),
        heading: Some(heading(p.role).to_string()),
        fields: fields.into_iter().map(|(k, v)| field(k, v, None)).collect(),
        groups: None,
        closing: None,
        json: Value::Object(json),
    }
}

fn field(key: &str, current: Value, proposed: Option<Value>) -> ScreenField {
    ScreenField { key: key.to_string(), current, proposed, note: None }
}

/// What a request does to one profile: a new profile (Create), each field current and proposed
/// (Change), the profile going (Delete), or the Unlock/Reset note beside Locked.
pub fn shown(s: &Shown, participant: &Participant) -> Screen {
    let state = s.state.as_ref();
    let role = s.before.as_ref().or(s.after.as_ref()).map(|p| p.role).unwrap_or(Role::User);
    let title = match action(s) {
        "create" => "Create User Profile",
        "delete" => "Delete User Profile",
        "unlock-reset" => "Unlock/Reset OTP Device Registration",
        "smartcard-reset" => "Smartcard Password Reset",
        _ if role.is_da() => "Change DA Profile",
        _ => "Change User Profile",
    };
    let mut screen =
        Screen { title: Some(title.to_string()), heading: Some(heading(role).to_string()), ..Screen::default() };
    match (&s.before, &s.after) {
        (None, Some(after)) => {
            screen.fields =
                fields(after, Some(participant), None).into_iter().map(|(k, v)| field(k, v, None)).collect();
            screen.groups = Some((after.groups.codes().to_vec(), Vec::new()));
            screen.functions = Some(after.functions.into());
        }
        (Some(before), Some(after)) if !s.reset => {
            let old = fields(before, Some(participant), None);
            let new = fields(after, Some(participant), None);
            screen.fields = old
                .into_iter()
                .zip(new)
                .map(|((k, was), (_, now))| {
                    let proposed = (was != now).then_some(now);
                    field(k, was, proposed)
                })
                .collect();
            screen.groups = Some((after.groups.codes().to_vec(), before.groups.minus(&after.groups)));
            screen.functions = Some(after.functions.into());
        }
        (Some(before), _) => {
            let mut fields: Vec<ScreenField> =
                fields(before, Some(participant), state).into_iter().map(|(k, v)| field(k, v, None)).collect();
            if s.pin_reset {
                if let Some(f) = fields.iter_mut().find(|f| f.key == "srn") {
                    f.note = Some(WILL_RESET_PIN.into());
                }
            } else if s.reset {
                match fields.iter_mut().find(|f| f.key == "locked") {
                    Some(f) => f.note = Some(WILL_UNLOCK.into()),
                    None => {
                        let locked = state.is_some_and(|st| st.cred.locked());
                        let at = fields.iter().position(|f| f.key == "disable_after").map_or(fields.len(), |i| i + 1);
                        fields.insert(
                            at,
                            ScreenField {
                                key: "locked".into(),
                                current: json!(locked),
                                proposed: None,
                                note: Some(WILL_UNLOCK.into()),
                            },
                        );
                    }
                }
            }
            screen.fields = fields;
        }
        (None, None) => {}
    }
    screen
}

/// The machine form of what a request does to one subject: `{user_id, change: {field:
/// {current, proposed}}}` — the same names and types as Enquire's.
pub fn shown_json(s: &Shown, participant: &Participant) -> Value {
    let id = s.before.as_ref().or(s.after.as_ref()).map(|p| p.user_id.to_string());
    let obj = |p: &UserProfile| -> Map<String, Value> {
        fields(p, Some(participant), None).into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    };
    let mut diff = Map::new();
    match (&s.before, &s.after) {
        (Some(b), Some(a)) if !s.reset => {
            let (old, new) = (obj(b), obj(a));
            for (k, was) in old {
                if let Some(now) = new.get(&k).filter(|n| **n != was) {
                    diff.insert(k, json!({ "current": was, "proposed": now }));
                }
            }
        }
        (None, Some(a)) => {
            for (k, v) in obj(a) {
                diff.insert(k, json!({ "current": null, "proposed": v }));
            }
        }
        _ => {}
    }
    json!({ "user_id": id, "action": action(s), "diff": diff })
}

/// What the request does to the subject, in one word.
pub fn action(s: &Shown) -> &'static str {
    match (&s.before, &s.after, s.reset) {
        _ if s.pin_reset => "smartcard-reset",
        (_, _, true) => "unlock-reset",
        (None, _, _) => "create",
        (_, None, _) => "delete",
        _ => "change",
    }
}

/// When something was decided, as machine text.
pub fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    json!(t.map(time))
}
