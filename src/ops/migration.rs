//! Migration (seed 4.3): the exchange's participants and smartcard-era users arrive as CSV
//! files. Each file is read once, validated (every fault named with its line) and written in
//! one transaction: all of it or nothing.

use crate::api::Upload;
use crate::bulk;
use crate::crypto;
use crate::domain::account::{Smartcard, UserProfile};
use crate::domain::maker_checker;
use crate::domain::profile::{self, AccessChannel};
use crate::domain::role::Role;
use crate::domain::user_id::{self, IdKind, ParticipantKey, UserId};
use crate::error::{conflict, invalid, Faults};
use crate::ops::exchange;
use crate::ops::work::Work;
use crate::storage::participants::{self, Participant};
use crate::storage::{audit, users};
use chrono::NaiveDateTime;
use serde_json::json;
use std::collections::HashMap;

/// Largest migration file accepted (100,000 users is about 12 MB).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
const MAX_ROWS: usize = 2_000_000;

/// What an import wrote.
pub struct Imported {
    pub rows: usize,
    pub participants: usize,
    pub sha256: String,
}

/// Optional progress: called with the number of rows written so far.
pub type Progress<'a> = &'a mut dyn FnMut(u64);

/// `hkex participant import FILE` (header `id,name,house,max_users,domains`).
pub fn import_participants(
    w: &mut Work<'_>,
    op: &UserId,
    file: Upload,
    progress: Progress<'_>,
) -> anyhow::Result<Imported> {
    let file = bulk::open(file, MAX_FILE_BYTES, &["id", "name", "house", "max_users"], &["domains"])?;
    let shown = file.path.clone();
    let mut list: Vec<(usize, Participant)> = Vec::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let now = w.now;
    let summary = file.for_each(MAX_ROWS, |r| {
        let max: i64 = r
            .req("max_users")
            .parse()
            .map_err(|_| invalid(format!("max_users {:?} is not a whole number", r.req("max_users"))))?;
        let domains: Vec<String> = r.get("domains").map(|d| vec![d.to_string()]).unwrap_or_default();
        let p = exchange::new_participant(r.req("id"), r.req("name"), r.req("house"), max, &domains, now)?;
        if let Some(first) = seen.insert((p.id().to_string(), p.house().as_str().to_string()), r.line) {
            return Err(invalid(format!("participant {} is listed twice (also line {first})", p.id())).into());
        }
        list.push((r.line, p));
        Ok(())
    })?;
    for (i, (line, p)) in list.iter().enumerate() {
        exchange::check_new_participant(w, p).map_err(|e| bulk::at_line(&shown, *line, e))?;
        participants::insert(&w.tx, p)?;
        progress(i as u64 + 1);
    }
    w.audit(&audit::Event {
        actor: Some(op.as_str()),
        action: "migration.participants",
        detail: json!({ "rows": list.len(), "file_sha256": summary.sha256 }).to_string(),
        ..Default::default()
    })?;
    Ok(Imported { rows: list.len(), participants: list.len(), sha256: summary.sha256 })
}

/// "31-Dec-30 23:59:59", "2030-12-31", "2030-12-31T23:59:59" → 2030-12-31 23:59:59.
pub fn certificate_expiry(s: &str) -> anyhow::Result<NaiveDateTime> {
    let s = s.trim();
    // The time follows a space, or a T right after a digit (not the T of "31-OCT-30").
    let at = s.char_indices().find(|&(i, c)| c == ' ' || (c == 'T' && s[..i].ends_with(|p: char| p.is_ascii_digit())));
    let (date, time) = match at {
        Some((i, _)) => (&s[..i], s[i + 1..].trim()),
        None => (s, "23:59:59"),
    };
    let d = profile::parse_date("certificate_expiry", date)?;
    let time = time.trim_end_matches('Z');
    // "23:59:59" read directly (chrono parses its format string on every call: 1.5 % of a
    // 100,000-user migration); any other shape is chrono's to accept or refuse, as before.
    let t = hh_mm_ss(time).or_else(|| chrono::NaiveTime::parse_from_str(time, "%H:%M:%S").ok()).ok_or_else(|| {
        invalid(format!("certificate_expiry {:?}: time must be HH:MM:SS", s.chars().take(40).collect::<String>()))
    })?;
    Ok(d.and_time(t))
}

/// Exactly two digits, a colon, two digits, a colon, two digits, and a valid time.
fn hh_mm_ss(s: &str) -> Option<chrono::NaiveTime> {
    let b = s.as_bytes();
    let two = |i: usize| -> Option<u32> {
        let (h, l) = (*b.get(i)?, *b.get(i + 1)?);
        (h.is_ascii_digit() && l.is_ascii_digit()).then(|| u32::from(h - b'0') * 10 + u32::from(l - b'0'))
    };
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    chrono::NaiveTime::from_hms_opt(two(0)?, two(3)?, two(6)?)
}

/// A smartcard serial number: 8 to 32 letters and digits, upper-cased.
pub fn srn(s: &str) -> anyhow::Result<String> {
    let v = s.trim().to_ascii_uppercase();
    if (8..=32).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(v)
    } else {
        Err(invalid(format!("srn {:?}: 8 to 32 letters and digits", s.chars().take(40).collect::<String>())).into())
    }
}

/// `hkex import-smartcard-users FILE` (header
/// `participant,user_id,surname,other_names,email,role,srn,certificate_expiry` and optional
/// `pin_phc`, `access_channel`).
///
/// One pass over the file inside the command's one transaction: each row is validated and,
/// while the file has no fault yet, inserted at once; a faulty row is recorded and reading goes
/// on, so every fault is reported, and any fault rolls the whole transaction back. Nothing of
/// the file is held but the IDs seen (for duplicates) and a count per participant (for the
/// quota, checked at the end against the counts read at the start): 100,000 users fit in a
/// few MiB. What the database already holds is read once, set-wise: the participants, the IDs
/// ever used, the users per participant.
pub fn import_smartcard_users(
    w: &mut Work<'_>,
    op: &UserId,
    file: Upload,
    progress: Progress<'_>,
) -> anyhow::Result<Imported> {
    let file = bulk::open(
        file,
        MAX_FILE_BYTES,
        &["participant", "user_id", "surname", "other_names", "email", "role", "srn", "certificate_expiry"],
        &["pin_phc", "access_channel"],
    )?;
    let shown = file.path.clone();
    let mut by_code: HashMap<String, Vec<Participant>> = HashMap::new();
    for p in participants::list(&w.tx)? {
        by_code.entry(p.id().to_string()).or_default().push(p);
    }
    let taken = users::all_ids_ever(&w.tx)?;
    let held = participants::all_counts(&w.tx)?;
    let timeline = w.policy()?.timeline;
    let launched = timeline.launched(crate::ops::signin::hkt(w.now).date_naive());
    // Per participant, the IDs the file creates (its audit row names them); and the holders
    // told, after the commit.
    let mut created: HashMap<ParticipantKey, Vec<String>> = HashMap::new();
    let mut told: Vec<(String, String, String)> = Vec::new();
    // Per participant: the first line that adds to it, and how many the file adds.
    let mut adding: HashMap<ParticipantKey, (usize, i64, i64)> = HashMap::new();
    let mut seen: HashMap<UserId, usize> = HashMap::new();
    let mut faulty = false;
    let mut written = 0u64;
    let now = w.now;
    let mut insert = users::Inserter::new(&w.tx)?;
    let summary = file.for_each(MAX_ROWS, |r| {
        let row =
            smartcard_user(r, &by_code, now, launched.then_some(timeline.launch)).and_then(|(profile, max_users)| {
                let uid = &profile.user_id;
                if let Some(first) = seen.insert(uid.clone(), r.line) {
                    return Err(invalid(format!("user {uid} is listed twice (also line {first})")).into());
                }
                if taken.contains(uid.as_str()) {
                    return Err(conflict(format!("user ID {uid} is taken (or was used before)")).into());
                }
                Ok((profile, max_users))
            });
        let (profile, max_users) = row.inspect_err(|_| faulty = true)?;
        let key = profile.participant.clone().ok_or_else(|| anyhow::anyhow!("an imported user without participant"))?;
        adding.entry(key.clone()).or_insert((r.line, 0, max_users)).1 += 1;
        // Once the file has a fault it will be rolled back: validate the rest, write nothing.
        if !faulty {
            insert.insert(&profile)?;
            created.entry(key).or_default().push(profile.user_id.to_string());
            if let (Some(e), Some(card)) = (&profile.email, &profile.smartcard) {
                told.push((e.clone(), profile.user_id.to_string(), card.srn.clone()));
            }
            written += 1;
            progress(written);
        }
        Ok(())
    })?;
    drop(insert);
    let mut quota = Faults::default();
    let mut over: Vec<_> = adding.iter().collect();
    over.sort_by_key(|(_, (line, _, _))| *line);
    for (key, (first_line, n, max)) in over {
        let before = held.get(key).copied().unwrap_or(0);
        quota.check(
            maker_checker::check_quota(*max, before, *n)
                .map_err(|r| conflict(format!("line {first_line}: participant {key}: {r}")).into()),
        )?;
    }
    quota.finish(&shown)?;
    let rows = seen.len();
    w.audit(&audit::Event {
        actor: Some(op.as_str()),
        action: "migration.smartcard-users",
        detail: json!({ "rows": rows, "participants": adding.len(), "file_sha256": summary.sha256 }).to_string(),
        ..Default::default()
    })?;
    // Each participant's own audit report shows the accounts the exchange created for it.
    let mut firms: Vec<_> = created.into_iter().collect();
    firms.sort_by(|a, b| a.0.id().cmp(b.0.id()));
    for (key, ids) in firms {
        w.audit(&audit::Event {
            actor: Some(op.as_str()),
            action: "migration.users-created",
            participant_id: Some(key.id()),
            detail: json!({ "house": key.house.as_str(), "count": ids.len(), "user_ids": ids, "file_sha256": summary.sha256 })
                .to_string(),
            ..Default::default()
        })?;
    }
    w.notify_migrated(told);
    Ok(Imported { rows, participants: adding.len(), sha256: summary.sha256 })
}

/// One row of the smartcard users' file as a profile, with its participant's maximum.
/// `after_launch`: the launch date, once it has come — then a file adds no DA (DAs come only
/// from eService DA3) and sets no PIN (a smartcard's PIN is its holder's: `hkex smartcard
/// issue` mails a one-time initial one).
fn smartcard_user(
    r: &bulk::Record<'_>,
    by_code: &HashMap<String, Vec<Participant>>,
    now: chrono::DateTime<chrono::Utc>,
    after_launch: Option<chrono::NaiveDate>,
) -> anyhow::Result<(UserProfile, i64)> {
    let code = r.req("participant").to_ascii_uppercase();
    let uid = UserId::parse(r.req("user_id"))?;
    let candidates = by_code
        .get(&code)
        .ok_or_else(|| invalid(format!("unknown participant {code:?} (import participants first)")))?;
    // An ID migrates as it is, whatever its digit (seed 000 §3.2); a code in both HKCC and
    // SEOCH: the digit says which house (1/3 HKCC, 2/4 SEOCH, as registering both requires).
    let p = match candidates.as_slice() {
        [one] => one,
        both => both
            .iter()
            .find(|p| user_id::generating_house(&uid) == Some(p.house()))
            .ok_or_else(|| invalid(format!("user ID {uid} is not an ID of participant {code}")))?,
    };
    let role: Role = r.req("role").parse().map_err(invalid)?;
    let kind = user_id::classify(&uid, &p.key.id, p.house())?;
    match (role, kind) {
        (Role::User, IdKind::BusinessUser) | (Role::Maker | Role::Checker, IdKind::DelegatedAdministrator) => {}
        (Role::User, _) => return Err(invalid(format!("{uid} has a DA user ID but role user")).into()),
        (Role::Maker | Role::Checker, _) => {
            return Err(invalid(format!("{uid} is not a DA user ID (DAs end in X/Y/Z + 1-9)")).into())
        }
        _ => return Err(invalid("role must be user, maker or checker").into()),
    }
    if let (Some(launch), true) = (after_launch, role.is_da()) {
        return Err(crate::error::not_permitted(format!(
            "{uid} is a DA: from the 2FA launch ({launch}) DAs come only from eService DA3 (`hkex da3 add`), never from an import"
        ))
        .into());
    }
    let email = match r.req("email").trim() {
        "" => None,
        e => Some(profile::email(e)?),
    };
    let pin_phc = match r.get("pin_phc").map(str::trim).filter(|s| !s.is_empty()) {
        Some(_) if after_launch.is_some() => {
            return Err(crate::error::not_permitted(
                "pin_phc: from the 2FA launch a smartcard's PIN is its holder's, never set by an import: leave it empty and issue the card with `hkex smartcard issue` (the holder is mailed a one-time initial PIN)",
            )
            .into())
        }
        Some(phc) => Some(crypto::imported_pin_phc(phc).map_err(|why| invalid(format!("pin_phc: {why}")))?),
        None => None,
    };
    // A DA migrates with the smartcard identity it has: its card and its PIN.
    if role.is_da() && pin_phc.is_none() {
        return Err(invalid(format!("{uid} is a DA: pin_phc (its smartcard PIN's argon2id hash) is required")).into());
    }
    let channel = match r.get("access_channel").map(str::trim).filter(|s| !s.is_empty()) {
        Some(c) => AccessChannel::parse(c)?,
        None => AccessChannel::Cst,
    };
    let profile = UserProfile {
        channel,
        smartcard: Some(Smartcard {
            srn: srn(r.req("srn"))?,
            cert_expiry: certificate_expiry(r.req("certificate_expiry"))?,
            pin_phc,
            initial_pin: false,
        }),
        ..UserProfile::new(
            uid,
            Some(p.key.clone()),
            role,
            &profile::person_name("surname", r.req("surname"))?,
            &profile::person_name("other names", r.req("other_names"))?,
            email.as_deref(),
            now,
        )
    };
    Ok((profile, p.max_users))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_expiry_forms() {
        let t = |s: &str| certificate_expiry(s).map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string());
        assert_eq!(t("31-Dec-30 23:59:59").expect("seed form"), "2030-12-31 23:59:59");
        assert_eq!(t("2030-12-31").expect("date"), "2030-12-31 23:59:59");
        assert_eq!(t("2030-12-31T08:00:00Z").expect("rfc3339-ish"), "2030-12-31 08:00:00");
        // The direct reading and chrono agree: one-digit parts are chrono's, impossible times
        // are refused by both.
        assert_eq!(t("2030-12-31 8:05:09").expect("one-digit hour"), "2030-12-31 08:05:09");
        for bad in ["2030-12-31 24:00:00", "2030-12-31 23:60:00", "2030-12-31 2a:00:00", "2030-12-31 23:59"] {
            assert!(certificate_expiry(bad).is_err(), "{bad}");
        }
        assert_eq!(hh_mm_ss("07:08:09"), chrono::NaiveTime::from_hms_opt(7, 8, 9));
        assert_eq!(hh_mm_ss("7:08:09"), None);
        assert!(certificate_expiry("soon").is_err());
        assert_eq!(srn("0101101200012ab2").expect("srn"), "0101101200012AB2");
        assert!(srn("x").is_err() && srn("'; DROP TABLE users;--").is_err());
    }
}
