//! Secrets at rest (SPEC §3) and the hash-chained audit trail (SPEC §7).

use crate::support::*;

#[test]
fn secrets_at_rest_are_hashed_or_sealed_and_the_files_are_private() {
    let d = Dms::operator(MONDAY_10);
    assert_eq!(mode(&d.file("dms.db")), 0o600);
    assert_eq!(mode(&d.file("dms.db.key")), 0o600);

    let secret = d.first_time_app(OPERATOR, PASSWORD);
    let first_otp = d.otp_lines()[0].clone();
    for f in ["dms.db", "dms.db.key", "dms.db.session", "dms-outbox.mbox"] {
        assert_eq!(mode(&d.file(f)), 0o600, "{f}");
    }

    let phcs = d.sql("SELECT password_phc FROM credentials WHERE password_phc IS NOT NULL");
    assert_eq!(phcs.lines().count(), 1);
    for phc in phcs.lines() {
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    }

    let dump = d.sql(".dump");
    assert!(dump.contains("CREATE TABLE credentials"), "a real dump");
    let upper = dump.to_uppercase();
    assert!(!dump.contains(PASSWORD), "the clear password is stored");
    assert!(!upper.contains(&secret), "the TOTP key is stored in base32");
    assert!(!upper.contains(&upper_hex(&base32_decode(&secret))), "the TOTP key is stored in the clear");
    assert!(!dump.contains(&first_otp), "the e-mail OTP is stored in the clear");
    let session = std::fs::read_to_string(d.file("dms.db.session")).expect("session");
    let token = session.lines().find_map(|l| l.strip_prefix("token=")).expect("token");
    assert!(!upper.contains(&token.to_uppercase()), "the session token is stored in the clear");
}

#[test]
fn audit_verify_passes_then_names_an_edited_row() {
    let d = Dms::operator(MONDAY_10);
    d.ok(&["otp", "request", "--user", OPERATOR], None);
    let v = d.ok(&["audit", "verify"], None);
    assert_eq!(v["ok"], true);
    assert!(v["rows"].as_u64().expect("rows") >= 3, "{v}");

    d.sql_write("UPDATE audit SET action = 'x' WHERE seq = 3");
    let r = d.run(&["audit", "verify"], None);
    assert_ne!(r.code, 0, "{r}");
    assert!(r.stderr.contains("row 3"), "{r}");
    assert!(r.stdout.trim().is_empty(), "a failure prints nothing on stdout: {r}");
}
