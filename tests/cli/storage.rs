//! Secrets at rest (SPEC §3) and the hash-chained audit trail (SPEC §7).

use crate::harness::*;

#[test]
fn secrets_at_rest_are_hashed_or_sealed_and_the_files_are_private() {
    let w = World::operator();
    assert_eq!(mode(&w.path("dms.db")), 0o600);
    assert_eq!(mode(&w.path("dms.db.key")), 0o600);

    w.first_time_app(OPERATOR);
    let secret = w.key(OPERATOR);
    let first_otp = w.otps()[0].clone();
    let session = World::session_file(OPERATOR);
    // The write-ahead log files are kept between commands (not made and unlinked by each one),
    // private like the database.
    for f in ["dms.db", "dms.db.key", session.as_str(), "dms-outbox.mbox", "dms.db-wal", "dms.db-shm"] {
        assert_eq!(mode(&w.path(f)), 0o600, "{f}");
    }

    let phcs = w.sql("SELECT password_phc FROM credentials WHERE password_phc IS NOT NULL");
    assert_eq!(phcs.lines().count(), 1);
    for phc in phcs.lines() {
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    }

    let dump = w.sql(".dump");
    assert!(dump.contains("CREATE TABLE credentials"), "a real dump");
    let upper = dump.to_uppercase();
    assert!(!dump.contains(PASSWORD), "the clear password is stored");
    assert!(!upper.contains(&secret), "the TOTP key is stored in base32");
    assert!(!upper.contains(&upper_hex(&base32_decode(&secret))), "the TOTP key is stored in the clear");
    assert!(!dump.contains(&first_otp), "the e-mail OTP is stored in the clear");
    let token = session_token(&w.path(&session));
    assert!(!upper.contains(&token.to_uppercase()), "the session token is stored in the clear");
}

#[test]
fn audit_verify_passes_then_names_an_edited_row() {
    let w = World::operator();
    w.otp_request(OPERATOR).ok();
    let v = w.ok(&["audit", "verify"], None);
    assert_eq!(v["ok"], true);
    assert!(v["rows"].as_u64().expect("rows") >= 3, "{v}");

    w.sql_write("UPDATE audit SET action = 'x' WHERE seq = 3");
    // A failure prints nothing on stdout (checked by `refused`): the error names the row.
    w.run(&["audit", "verify"], None).refused(Exit::Integrity, &["row 3"]);
}

/// The exchange's migration, in miniature of rows but not of size: 100 participants of 1,000
/// users each (100,000 rows, a 26 MB write-ahead log before issue 17).
fn migrate_100000(w: &World) {
    let mut participants = String::from("id,name,house,max_users,domains\n");
    let mut users = String::from("participant,user_id,surname,other_names,email,role,srn,certificate_expiry\n");
    for p in 0..100 {
        let pid = format!("C{p:05}");
        participants.push_str(&format!("{pid},FIRM {p},hkscc-cp,1000,firm{p}.hk\n"));
        for (u, id) in free_user_ids(&pid, &[]).into_iter().take(1000).enumerate() {
            users.push_str(&format!("{pid},{id},CHAN,TAI MAN,u{u}@firm{p}.hk,user,0101101200012AB2,2030-12-31\n"));
        }
    }
    let p = w.write("participants.csv", &participants);
    let u = w.write("users.csv", &users);
    w.op(&["hkex", "participant", "import", &p]).ok();
    assert_eq!(w.op(&["hkex", "import-smartcard-users", &u]).ok().json()["imported"], 100_000);
}

/// Issue 17: every later command paid ~50 ms reading a 26 MB write-ahead log left by the import
/// (12,566 reads of `whoami`). The log is checkpointed and truncated when a command that grew it
/// past 256 KiB is done, so what the next process reads is bounded: at most 64 pages.
#[test]
fn after_a_100000_row_import_the_log_left_is_small_so_the_next_command_reads_little() {
    let w = World::with_operator();
    migrate_100000(&w);
    let wal = || std::fs::metadata(w.path("dms.db-wal")).map(|m| m.len()).unwrap_or(0);
    assert!(wal() <= 256 << 10, "the import left a {}-byte log", wal());
    w.op(&["whoami"]).ok();
    w.op(&["listing", "--participant", "C00042"]).ok();
    assert!(wal() <= 256 << 10, "{} bytes", wal());
    assert_eq!(w.count("SELECT COUNT(*) FROM users WHERE participant_id LIKE 'C%'"), 100_000, "nothing lost");
    w.assert_audit_ok();
}

/// A reader elsewhere holds the log: the truncation waits for a later command, nothing fails.
#[test]
fn a_log_held_by_another_reader_is_kept_and_truncated_later() {
    let w = World::with_operator();
    let holder = w.hold_open();
    migrate_100000(&w);
    w.op(&["whoami"]).ok();
    drop(holder);
    w.op(&["hkex", "holiday", "add", "2026-12-25", "--name", "Christmas Day"]).ok();
    assert!(std::fs::metadata(w.path("dms.db-wal")).map(|m| m.len()).unwrap_or(0) <= 256 << 10);
}
