//! Migration (seed 4.3): the exchange's participants and smartcard-era users arrive as CSV
//! files. Each file is read and validated whole first (errors name the line), then written
//! in one transaction: all of it or nothing.

use crate::commands::hkex::new_participant;
use crate::commands::signed_in;
use crate::context::Ctx;
use crate::crypto;
use crate::domain::profile;
use crate::domain::role::Role;
use crate::domain::user_id::{self, IdKind, ParticipantId, UserId};
use crate::error::{conflict, invalid};
use crate::storage::audit;
use crate::storage::participants::{self, Participant};
use crate::storage::users::{self, UserProfile};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io::IsTerminal as _;
use std::path::Path;

/// Largest migration file accepted (100,000 users is about 12 MB).
const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

struct CsvFile {
    header: Vec<String>,
    records: Vec<(usize, csv::StringRecord)>,
    sha256: String,
}

fn read_csv(path: &Path) -> anyhow::Result<CsvFile> {
    let meta = std::fs::metadata(path).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(invalid(format!("{}: larger than {} MiB", path.display(), MAX_FILE_BYTES >> 20)).into());
    }
    let bytes = std::fs::read(path)?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let mut r = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(bytes.as_slice());
    let header: Vec<String> = r
        .headers()
        .map_err(|e| invalid(format!("{} line 1: {e}", path.display())))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let mut records = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            let what = match e.kind() {
                csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                    format!("{len} fields where the header has {expected_len}")
                }
                csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_string(),
                _ => e.to_string(),
            };
            invalid(format!("{} line {line}: {what}", path.display()))
        })?;
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(records.len() + 2);
        records.push((line, rec));
    }
    if records.is_empty() {
        return Err(invalid(format!("{}: no rows after the header", path.display())).into());
    }
    Ok(CsvFile { header, records, sha256 })
}

fn columns(
    path: &Path,
    header: &[String],
    required: &[&str],
    optional: &[&str],
) -> anyhow::Result<HashMap<String, usize>> {
    let mut map = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        if !required.contains(&h.as_str()) && !optional.contains(&h.as_str()) {
            return Err(invalid(format!(
                "{} line 1: unknown column {h:?} (expected {})",
                path.display(),
                required.join(",")
            ))
            .into());
        }
        if map.insert(h.clone(), i).is_some() {
            return Err(invalid(format!("{} line 1: column {h} appears twice", path.display())).into());
        }
    }
    for r in required {
        if !map.contains_key(*r) {
            return Err(invalid(format!(
                "{} line 1: missing column {r} (header must be {})",
                path.display(),
                required.join(",")
            ))
            .into());
        }
    }
    Ok(map)
}

fn progress(len: usize, what: &str) -> indicatif::ProgressBar {
    if std::io::stderr().is_terminal() {
        let pb = indicatif::ProgressBar::new(len as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} ({eta})") {
            pb.set_style(style);
        }
        pb.set_message(what.to_string());
        pb
    } else {
        indicatif::ProgressBar::hidden()
    }
}

pub fn cmd_participant_import(ctx: &mut Ctx, path: &Path) -> anyhow::Result<()> {
    let op = signed_in(ctx, &[Role::Operator])?;
    let f = read_csv(path)?;
    let col = columns(path, &f.header, &["id", "name", "house", "max_users"], &["domains"])?;
    let mut list: Vec<Participant> = Vec::with_capacity(f.records.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (line, rec) in &f.records {
        let at = |e: anyhow::Error| invalid(format!("{} line {line}: {e:#}", path.display()));
        let max: i64 = rec[col["max_users"]]
            .parse()
            .map_err(|_| at(anyhow::anyhow!("max_users {:?} is not a whole number", &rec[col["max_users"]])))?;
        let domains: Vec<String> = col.get("domains").map(|i| vec![rec[*i].to_string()]).unwrap_or_default();
        let p = new_participant(&rec[col["id"]], &rec[col["name"]], &rec[col["house"]], max, &domains, ctx.now)
            .map_err(at)?;
        if let Some(first) = seen.insert(p.participant_id.clone(), *line) {
            return Err(invalid(format!(
                "{} line {line}: participant {} is listed twice (also line {first})",
                path.display(),
                p.participant_id
            ))
            .into());
        }
        list.push(p);
    }
    let pb = progress(list.len(), "participants");
    let tx = ctx.store.write()?;
    for (p, (line, _)) in list.iter().zip(&f.records) {
        if participants::get(&tx, &p.participant_id)?.is_some() {
            return Err(conflict(format!(
                "{} line {line}: participant {} already exists",
                path.display(),
                p.participant_id
            ))
            .into());
        }
        participants::insert(&tx, p)?;
        pb.inc(1);
    }
    audit::append(
        &tx,
        ctx.now,
        &audit::Event {
            actor: Some(&op.user_id),
            action: "migration.participants",
            detail: json!({ "rows": list.len(), "file_sha256": f.sha256 }).to_string(),
            ..Default::default()
        },
    )?;
    tx.commit()?;
    pb.finish_and_clear();
    ctx.out.object(&json!({ "imported": list.len(), "file_sha256": f.sha256 }))?;
    Ok(())
}

/// "31-Dec-30 23:59:59", "2030-12-31", "2030-12-31T23:59:59" → "2030-12-31 23:59:59".
fn certificate_expiry(s: &str) -> anyhow::Result<String> {
    let s = s.trim();
    let (date, time) = match s.split_once([' ', 'T']) {
        Some((d, t)) => (d, t.trim()),
        None => (s, "23:59:59"),
    };
    let d = profile::parse_date("certificate_expiry", date)?;
    let t = chrono::NaiveTime::parse_from_str(time.trim_end_matches('Z'), "%H:%M:%S")
        .map_err(|_| invalid(format!("certificate_expiry {s:?}: time must be HH:MM:SS")))?;
    Ok(format!("{d} {t}"))
}

fn srn(s: &str) -> anyhow::Result<String> {
    let v = s.trim().to_ascii_uppercase();
    if (8..=32).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(v)
    } else {
        Err(invalid(format!("srn {:?}: 8 to 32 letters and digits", s.chars().take(40).collect::<String>())).into())
    }
}

pub fn cmd_import_smartcard_users(ctx: &mut Ctx, path: &Path) -> anyhow::Result<()> {
    let op = signed_in(ctx, &[Role::Operator])?;
    let f = read_csv(path)?;
    let col = columns(
        path,
        &f.header,
        &["participant", "user_id", "surname", "other_names", "email", "role", "srn", "certificate_expiry"],
        &["pin_phc"],
    )?;
    let now = ctx.now;
    let tx = ctx.store.write()?;
    let parts: HashMap<String, Participant> =
        participants::list(&tx)?.into_iter().map(|p| (p.participant_id.clone(), p)).collect();
    let mut pids: HashMap<String, ParticipantId> = HashMap::new();
    let mut seen: HashSet<String> = HashSet::with_capacity(f.records.len());
    let mut adding: HashMap<String, i64> = HashMap::new();
    let mut rows: Vec<UserProfile> = Vec::with_capacity(f.records.len());
    for (line, rec) in &f.records {
        let at =
            |e: anyhow::Error| -> anyhow::Error { invalid(format!("{} line {line}: {e:#}", path.display())).into() };
        let pid_text = rec[col["participant"]].to_ascii_uppercase();
        let p = parts
            .get(&pid_text)
            .ok_or_else(|| at(anyhow::anyhow!("unknown participant {pid_text:?} (import participants first)")))?;
        let pid = match pids.get(&pid_text) {
            Some(x) => x.clone(),
            None => {
                let x = ParticipantId::parse(&p.participant_id, p.house).map_err(|e| at(e.into()))?;
                pids.insert(pid_text.clone(), x.clone());
                x
            }
        };
        let uid = UserId::parse(&rec[col["user_id"]]).map_err(|e| at(e.into()))?;
        let role: Role = rec[col["role"]].parse().map_err(|e: String| at(anyhow::anyhow!(e)))?;
        let kind = user_id::classify(&uid, &pid, p.house).map_err(|e| at(e.into()))?;
        match (role, kind) {
            (Role::User, IdKind::BusinessUser) | (Role::Maker | Role::Checker, IdKind::DelegatedAdministrator) => {}
            (Role::User, _) => return Err(at(anyhow::anyhow!("{} has a DA user ID but role user", uid.as_str()))),
            (Role::Maker | Role::Checker, _) => {
                return Err(at(anyhow::anyhow!("{} is not a DA user ID (DAs end in X/Y/Z + 1-9)", uid.as_str())))
            }
            _ => return Err(at(anyhow::anyhow!("role must be user, maker or checker"))),
        }
        if !seen.insert(uid.as_str().to_string()) {
            return Err(at(anyhow::anyhow!("user {} is listed twice", uid.as_str())));
        }
        let email = match rec[col["email"]].trim() {
            "" => None,
            e => Some(profile::email(e).map_err(|e| at(e.into()))?),
        };
        let pin_phc = match col.get("pin_phc").map(|i| rec[*i].trim()).filter(|s| !s.is_empty()) {
            Some(phc) if crypto::is_argon2_phc(phc) => Some(phc.to_string()),
            Some(_) => {
                return Err(at(anyhow::anyhow!("pin_phc is not an argon2 PHC string (a clear PIN is never accepted)")))
            }
            None => None,
        };
        *adding.entry(pid_text).or_default() += 1;
        rows.push(UserProfile {
            srn: Some(srn(&rec[col["srn"]]).map_err(at)?),
            cert_expiry: Some(certificate_expiry(&rec[col["certificate_expiry"]]).map_err(at)?),
            pin_phc,
            ..UserProfile::new(
                uid.as_str(),
                Some(&p.participant_id),
                role,
                &profile::person_name("surname", &rec[col["surname"]]).map_err(|e| at(e.into()))?,
                &profile::person_name("other names", &rec[col["other_names"]]).map_err(|e| at(e.into()))?,
                email.as_deref(),
                now,
            )
        });
    }
    for (pid, n) in &adding {
        let c = participants::counts(&tx, pid)?;
        let max = parts.get(pid).map(|p| p.max_users).unwrap_or(0);
        if c.total + n > max {
            return Err(conflict(format!(
                "{}: participant {pid} would hold {} users, more than its maximum {max}",
                path.display(),
                c.total + n
            ))
            .into());
        }
    }
    let pb = progress(rows.len(), "users");
    for (u, (line, _)) in rows.iter().zip(&f.records) {
        if users::id_taken(&tx, &u.user_id)? {
            return Err(conflict(format!(
                "{} line {line}: user ID {} is taken (or was used before)",
                path.display(),
                u.user_id
            ))
            .into());
        }
        users::insert(&tx, u)?;
        pb.inc(1);
    }
    audit::append(
        &tx,
        now,
        &audit::Event {
            actor: Some(&op.user_id),
            action: "migration.smartcard-users",
            detail: json!({ "rows": rows.len(), "participants": adding.len(), "file_sha256": f.sha256 }).to_string(),
            ..Default::default()
        },
    )?;
    tx.commit()?;
    pb.finish_and_clear();
    ctx.out.object(&json!({ "imported": rows.len(), "participants": adding.len(), "file_sha256": f.sha256 }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_expiry_forms() {
        assert_eq!(certificate_expiry("31-Dec-30 23:59:59").expect("seed form"), "2030-12-31 23:59:59");
        assert_eq!(certificate_expiry("2030-12-31").expect("date"), "2030-12-31 23:59:59");
        assert_eq!(certificate_expiry("2030-12-31T08:00:00Z").expect("rfc3339-ish"), "2030-12-31 08:00:00");
        assert!(certificate_expiry("soon").is_err());
        assert_eq!(srn("0101101200012ab2").expect("srn"), "0101101200012AB2");
        assert!(srn("x").is_err() && srn("'; DROP TABLE users;--").is_err());
    }
}
