//! Several processes at once: parallel makers lose nothing and never see "database is
//! locked"; a process killed in the middle of a change leaves the database intact and
//! unchanged (SPEC §9).

use crate::harness::*;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

#[test]
fn parallel_makers_lose_nothing_and_never_see_a_locked_database() {
    let w = World::demo();
    w.first_time_app(MAKER);
    // Eight processes submit at once, each a create request with its own user ID.
    let racers: Vec<Spawned> = (0..8)
        .map(|i| {
            let id = format!("B01234A{i}");
            let email = format!("p{i}@abc.com.hk");
            let mut args = vec!["--format", "json"];
            args.extend(create_args(&id, &email));
            w.spawn(Some(MAKER), &args, None)
        })
        .collect();
    for racer in racers {
        let r = racer.wait();
        let err = r.stderr.to_lowercase();
        assert!(!err.contains("locked") && !err.contains("busy"), "{r}");
        assert_eq!(r.ok().json()["status"], "PENDING");
    }
    let pending = w.request_list(MAKER, Some("PENDING"));
    assert_eq!(pending.len(), 8, "{pending:?}");
    let subjects: BTreeSet<String> = pending
        .iter()
        .flat_map(|row| {
            let id = row["request_id"].as_i64().unwrap_or_else(|| panic!("no request_id in {row}"));
            let shown = w.request_show(MAKER, id);
            shown["subjects"].as_array().unwrap_or_else(|| panic!("no subjects in {shown}")).clone()
        })
        .map(|s| s.as_str().unwrap_or_else(|| panic!("a subject that is not a string: {s}")).to_string())
        .collect();
    assert_eq!(subjects.len(), 8, "{subjects:?}");
    w.assert_audit_ok();
}

#[test]
fn a_killed_import_leaves_the_database_intact_and_unchanged() {
    let w = World::operator();
    w.first_time_app(OPERATOR);
    let mut participants = String::from("id,name,house,max_users,domains\n");
    let mut users = String::from("participant,user_id,surname,other_names,email,role,srn,certificate_expiry\n");
    let alphabet: Vec<char> = "0123456789ABCDEFGHIJKLMNOPQRSTUVW".chars().collect();
    for p in 0..40 {
        let pid = format!("K{p:05}");
        participants.push_str(&format!("{pid},FIRM {p},hkscc-cp,1296,\n"));
        for a in &alphabet {
            for b in &alphabet {
                users.push_str(&format!(
                    "{pid},{pid}{a}{b},CHAN,TAI MAN,u{p}{a}{b}@firm.hk,user,0101101200012AB2,2030-12-31\n"
                ));
            }
        }
    }
    let p = w.write("p.csv", &participants);
    let u = w.write("u.csv", &users);
    w.op(&["hkex", "participant", "import", &p]).ok();
    let total_users = || w.op(&["listing", "--all"]).ok().json()["quota"]["total_users"].clone();
    let before_users = total_users();
    let before_audit = w.count("SELECT COUNT(*) FROM audit");

    let wal = w.path("dms.db-wal");
    let wal_size = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let start = wal_size();
    // The importing process is killed: embedded in either mode (a server killed mid-call is
    // `server::*`'s).
    let mut import = w.spawn_local(Some(OPERATOR), &["hkex", "import-smartcard-users", &u], None);
    // Kill it while it is writing: once the write-ahead log has grown by a megabyte.
    let deadline = Instant::now() + Duration::from_secs(60);
    while wal_size() < start + (1 << 20) {
        assert!(import.running(), "the import finished before it could be killed mid-write");
        assert!(Instant::now() < deadline, "the import never started writing");
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = import.kill();
    assert!(!status.success(), "the import should have been killed before it finished");

    assert_eq!(w.sql("PRAGMA integrity_check"), "ok");
    assert_eq!(total_users(), before_users, "no partial import");
    assert_eq!(w.count("SELECT COUNT(*) FROM audit"), before_audit);
    w.assert_audit_ok();
}
