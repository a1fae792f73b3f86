//! `dms init`: create the database, its key file and the first exchange operator.

use crate::cli::{Global, InitArgs};
use crate::client::{now_from_env, seed_from_env};
use crate::crypto::{KeyMarks, MasterKey};
use crate::domain::account::UserProfile;
use crate::domain::profile;
use crate::domain::role::Role;
use crate::domain::user_id::FIRST_OPERATOR_ID;
use crate::domain::user_id::{ClearingHouse, ParticipantKey, UserId};
use crate::error::conflict;
use crate::ops::work::{key_path, rng_for_call, Clock};
use crate::output::Output;
use crate::storage::{audit, settings, users, Store};
use serde_json::json;

/// The participant `dms init --demo` loads (`commands::demo::seed_demo_data`).
const DEMO_PARTICIPANT: &str = "B01234";

/// The accounts the demo participant was given: DA makers, DA checkers, then business users.
fn demo_accounts(c: &rusqlite::Connection) -> anyhow::Result<Vec<UserProfile>> {
    let key = ParticipantKey::parse(DEMO_PARTICIPANT, ClearingHouse::HkscCp)?;
    let mut ids: Vec<String> = users::ids_of_participant(c, &key)?.into_iter().collect();
    ids.sort();
    let mut people = Vec::new();
    for id in ids {
        if let Some(p) = users::get(c, &UserId::parse(&id)?)? {
            people.push(p);
        }
    }
    people.sort_by_key(|p| (!p.role.is_da(), p.role != Role::Maker, p.user_id.to_string()));
    Ok(people)
}

pub fn run(g: &Global, a: InitArgs) -> anyhow::Result<()> {
    let out = Output::new(g.format);
    // Everything that can be refused is checked before a file is created.
    let now = Clock::for_call(now_from_env()?.as_deref(), a.allow_test_clock)?.now();
    let mut rng = rng_for_call(seed_from_env()?, a.allow_test_clock)?;
    let operator_email = a.operator_email.as_deref().map(profile::email).transpose()?;
    let key_file = key_path(&g.db);
    if key_file.exists() && !g.db.exists() {
        return Err(conflict(format!(
            "{} exists without its database: remove it (it belongs to a deleted database) or restore the database",
            key_file.display()
        ))
        .into());
    }
    let mut store = Store::create(&g.db)?;
    let mut demo_people: Vec<UserProfile> = Vec::new();
    let made = (|| -> anyhow::Result<()> {
        // The key file records that this trail is keyed from its first row, and whether this is
        // a test database: facts a database edit cannot forge.
        let marks = KeyMarks { audit_keyed: Some((0, audit::GENESIS)), test_clock: a.allow_test_clock };
        let master = MasterKey::create(&key_file, &mut rng, marks)?;
        let tx = store.write()?;
        let via = serde_json::to_string(&crate::api::Via::this_process())?;
        // The keyed audit chain starts with the database: no legacy rows.
        let audit_key = audit::key(&tx, &master, &mut rng)?;
        for (k, v) in settings::DEFAULTS {
            settings::set(&tx, k, v)?;
        }
        settings::set(&tx, "test-clock", if a.allow_test_clock { "on" } else { "off" })?;
        audit::append(
            &tx,
            now,
            &audit_key,
            &audit::Event {
                action: "database.created",
                detail: json!({ "test_clock": a.allow_test_clock }).to_string(),
                ..Default::default()
            },
            Some(&via),
        )?;
        if let Some(email) = &operator_email {
            let id = UserId::parse(FIRST_OPERATOR_ID)?;
            users::insert(&tx, &UserProfile::new(id, None, Role::Operator, "HKEX", "OPERATOR", Some(email), now))?;
            audit::append(
                &tx,
                now,
                &audit_key,
                &audit::Event { action: "operator.created", subject: Some(FIRST_OPERATOR_ID), ..Default::default() },
                Some(&via),
            )?;
        }
        if a.demo {
            crate::commands::demo::seed_demo_data(&tx, now, &audit_key, &via)?;
            demo_people = demo_accounts(&tx)?;
        }
        tx.commit()?;
        Ok(())
    })();
    if let Err(e) = made {
        // Leave nothing half-made behind.
        drop(store);
        let _ = std::fs::remove_file(&g.db);
        let _ = std::fs::remove_file(&key_file);
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut p = g.db.as_os_str().to_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
        return Err(e);
    }
    out.object(&json!({
        "db": g.db.display().to_string(),
        "key_file": key_file.display().to_string(),
        "operator": operator_email.as_ref().map(|_| FIRST_OPERATOR_ID),
        "test_clock": a.allow_test_clock,
        "demo_data": a.demo,
        "demo_users": demo_people.iter().map(|p| p.user_id.as_str()).collect::<Vec<_>>(),
    }))?;
    // One note per line: a note is shown with control characters (newlines too) escaped.
    if let Some(first) = demo_people.first() {
        let participant = first.participant.as_ref().map(|k| k.to_string()).unwrap_or_default();
        out.note(&format!("The demo participant {participant} (no one has a password yet):"));
        for p in &demo_people {
            out.note(&format!(
                "  {}  {:<13}  {} {}  {}",
                p.user_id,
                p.role.label(),
                p.surname,
                p.other_names,
                p.email.as_deref().unwrap_or("")
            ));
        }
    }
    if operator_email.is_some() {
        out.note("Next: the operator's first-time logon (the OTP arrives in dms-outbox.mbox beside the database) -");
        out.note(&format!("  dms otp request --user {FIRST_OPERATOR_ID}"));
        out.note(&format!("  dms password reset --user {FIRST_OPERATOR_ID} --otp CODE"));
        out.note(&format!("  dms login --user {FIRST_OPERATOR_ID}"));
        if a.demo {
            out.note("The DAs and users of the demo participant sign in for the first time the same way.");
            out.note("Outside service hours (DMS: 07:00-19:00 Mon-Fri, 09:00-13:00 Sat, Hong Kong time) only the operator can sign in; it can turn them off: dms hkex settings set service-hours off");
        }
    }
    out.note(&format!(
        "Keep {} with the database: without it, registered authenticator apps cannot be verified.",
        key_file.display()
    ));
    Ok(())
}
