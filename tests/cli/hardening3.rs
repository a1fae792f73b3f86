//! Hardening, round 3 (issue 18): what an attacker found in the new operations, the smartcard
//! paths and the files around the database. Each test failed on the build before its fix.

use crate::harness::*;

/// Issue 18 #10: the `test-clock` flag was a settings row: flipped with sqlite3, a real
/// database accepted DMS_NOW. The key file says whether a database is a test one.
#[test]
fn a_real_database_turned_into_a_test_one_with_sqlite3_still_refuses_a_pinned_clock() {
    let w = World::empty(MONDAY_10);
    let mut real_clock = w.local_command(None, &["--format", "json", "init", "--operator-email", OPERATOR_EMAIL]);
    real_clock.env_remove("DMS_NOW");
    w.run_command(real_clock, None).ok();
    w.sql_write("UPDATE settings SET value = 'on' WHERE key = 'test-clock'");
    w.otp_request(OPERATOR).refused(Exit::Usage, &["DMS_NOW", "--allow-test-clock"]);
    assert!(!w.path("dms-outbox.mbox").exists(), "nothing is sent");
}
