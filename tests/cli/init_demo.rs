//! `dms init --demo` tells a newcomer who is there to sign in as.

use crate::harness::*;

#[test]
fn init_demo_prints_the_user_ids_it_made() {
    let w = World::empty(MONDAY_10);
    let v = w.ok(&["init", "--allow-test-clock", "--demo", "--operator-email", OPERATOR_EMAIL], None);
    assert_eq!(v["demo_users"], serde_json::json!([MAKER, CHECKER, CHECKER2, USER1, USER2, USER3]), "{v}");
    let w = World::empty(MONDAY_10);
    let r = w.raw(&["init", "--allow-test-clock", "--demo", "--operator-email", OPERATOR_EMAIL]).ok();
    for line in [
        "B01234X1  DA MAKER       CHAN TAI MAN  tm.chan@abc.com.hk",
        "B01234X3  DA CHECKER     LEE KA YAN  ky.lee@abc.com.hk",
        "B0123401  BUSINESS USER  CHEUNG WAI KIN",
        "  dms otp request --user HKEXOP01",
    ] {
        assert!(r.stderr.lines().any(|l| l.contains(line)), "{line:?} not told:\n{r}");
    }
    assert!(!r.stderr.contains("\\n"), "notes are whole lines, not escaped newlines:\n{r}");
}
