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
