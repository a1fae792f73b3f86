//! Smartcard PINs after the launch (issue 18 #1, issue 21 #1; SPEC §3): a PIN is chosen by its
//! holder. Issuing a card, eService SCard 1 (a DA's forgotten PIN) and Smartcard Password Reset
//! (a user's, by the DAs) each mail the holder a one-time initial PIN; the holder's next
//! smartcard sign-in with it chooses its own. Nobody who issues or resets a card knows the PIN
//! that then works — before, the operator chose PINs and signed in as DAs with them.

use crate::exchange::smartcard_exchange;
use crate::harness::*;

const KIT_MA: &str = "kit.ma@legacy.com.hk";
const PUN: &str = "pun@legacy.com.hk";
const OWN: &str = "24681357";

/// Issue 21 #1: SCard 1 resets a DA's forgotten PIN until decommissioning: the DA is mailed an
/// initial PIN, the old PIN stops working at once, the lock it led to is lifted, the DA chooses
/// its own PIN, and the firm's audit report shows it.
#[test]
fn scard1_resets_a_das_forgotten_pin_and_the_da_chooses_its_own() {
    let w = smartcard_exchange();
    for _ in 0..5 {
        w.advance(secs(10));
        let _ = w.smartcard("C00001X1", "654321").exit();
    }
    w.smartcard("C00001X1", PIN).refused(Exit::Locked, &["locked"]);

    let v = w.op(&["hkex", "scard1", "reset-pin", "C00001X1"]).ok().json();
    assert_eq!((v["pin_reset"].as_bool(), v["initial_pin_sent_to"].as_str()), (Some(true), Some("k***@legacy.com.hk")));
    let initial = w.initial_pin(KIT_MA);
    assert!(!w.op(&["report", "audit"]).ok().stdout.contains(&initial), "the PIN is in no audit row");
    // The PIN it had no longer works, and the initial one opens nothing by itself.
    w.smartcard("C00001X1", PIN).refused(Exit::Auth, &["wrong smartcard PIN"]);
    w.smartcard("C00001X1", &initial).refused(Exit::Usage, &["choose your own PIN"]);
    w.smartcard_first("C00001X1", &initial, OWN).ok();
    w.smartcard("C00001X1", OWN).ok();
    let report = w.as_user("C00001X1", &["report", "audit"]).ok().json();
    let rows = report["audit"].as_array().expect("rows");
    assert!(rows.iter().any(|r| r["action"] == "smartcard.pin.reset" && r["subject"] == "C00001X1"), "{report}");
    assert!(rows.iter().any(|r| r["action"] == "smartcard.pin.chosen"), "{report}");

    // SCard 1 is for DAs, and ends with smartcards.
    w.op(&["hkex", "scard1", "reset-pin", "C0000101"]).refused(Exit::NotPermitted, &["not a Delegated Administrator"]);
    w.setting("decommission-date", "2026-11-23").ok();
    w.op(&["hkex", "scard1", "reset-pin", "C00001X2"])
        .refused(Exit::NotPermitted, &["until smartcard decommissioning"]);
}

/// Issue 21 #1: a user's forgotten PIN is reset by a DA maker and checker (maker-checker, as
/// every DMS function); the user chooses its own.
#[test]
fn smartcard_password_reset_by_the_das_mails_the_user_an_initial_pin() {
    let w = smartcard_exchange();
    w.smartcard("C00001X1", PIN).ok();
    w.smartcard("C00001X2", PIN).ok();
    let id = w.submit("C00001X1", &["user", "smartcard-reset", "C0000101"]);
    let shown = w.request_show("C00001X2", id);
    assert_eq!(shown["kind"], "reset-smartcard-pin", "{shown}");
    let screen = w.raw_as("C00001X2", &["request", "show", &id.to_string()]).ok().stdout;
    assert!(screen.contains("Smartcard Password Reset") && screen.contains("one-time initial PIN"), "{screen}");
    w.smartcard("C0000101", PIN).ok();
    w.as_user_stdin(
        "C00001X2",
        &["request", "approve", &id.to_string(), "--smartcard", "--password-stdin"],
        &line(PIN),
    )
    .ok();
    // The user's session ended with the reset; its old PIN is gone.
    w.as_user("C0000101", &["whoami"]).expect(Exit::Auth);
    w.smartcard("C0000101", PIN).refused(Exit::Auth, &["wrong smartcard PIN"]);
    let initial = w.initial_pin(PUN);
    w.smartcard_first("C0000101", &initial, OWN).ok();
    // A DA's PIN is the exchange's to reset (SCard 1).
    w.as_user("C00001X1", &["user", "smartcard-reset", "C00001X3"]).refused(Exit::NotPermitted, &["SCard 1"]);
}

/// Issue 18 #1b, #1c: a DA is never given a card after the launch (before, a DA moved to PG got
/// a card with a PIN the operator chose, and the operator signed in as it), and a PG user is
/// never made a DA.
#[test]
fn no_da_is_given_a_card_after_the_launch_and_no_gateway_user_becomes_a_da() {
    let w = World::with_das();
    w.first_time_app(OPERATOR);
    let before = w.state_and_credentials();
    w.sql_write("UPDATE users SET channel = 'PG' WHERE user_id = 'B01234X3'");
    let issue =
        ["hkex", "smartcard", "issue", CHECKER2, "--srn", "0101101200099ZZ1", "--certificate-expiry", "2030-12-31"];
    w.op(&issue).refused(Exit::NotPermitted, &["never given a smartcard after it"]);
    w.sql_write("UPDATE users SET channel = 'PG' WHERE user_id = 'B0123401'");
    w.op(&["hkex", "da3", "assign-da", USER1, "--role", "checker"])
        .refused(Exit::NotPermitted, &["Participant Gateway", "CST"]);
    w.sql_write("UPDATE users SET channel = 'CST' WHERE user_id IN ('B01234X3', 'B0123401')");
    assert_eq!(w.state_and_credentials(), before);
}

/// An initial PIN that cannot be mailed is voided and the command fails (it never goes to the
/// outbox); one not used within 7 days no longer works; a key rotation mails a new one.
#[test]
fn an_initial_pin_is_voided_when_undeliverable_expires_and_survives_a_key_rotation() {
    let w = World::with_das();
    w.first_time_app(OPERATOR);
    w.sql_write("UPDATE users SET channel = 'PG' WHERE user_id = 'B0123402'");
    let to = w.enquire(MAKER, USER2)["email"].as_str().expect("an address").to_string();
    let issue =
        ["hkex", "smartcard", "issue", USER2, "--srn", "0101101200099ZZ1", "--certificate-expiry", "2030-12-31"];

    w.write("blocked.mbox", "");
    std::fs::set_permissions(w.path("blocked.mbox"), std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .expect("chmod");
    w.setting("mail", "file:blocked.mbox").ok();
    let r = w.op(&issue).expect(Exit::Other);
    assert!(r.message().contains("could not be e-mailed") && r.message().contains("voided"), "{r}");
    assert_eq!(w.count("SELECT COUNT(*) FROM initial_pins"), 0);
    assert_eq!(w.count("SELECT COUNT(*) FROM outbox"), 0, "a PIN never waits in the outbox");
    w.setting("mail", "file:dms-outbox.mbox").ok();

    w.op(&issue).ok();
    let first = w.initial_pin(&to);
    let v = w.op(&["hkex", "key", "rotate"]).ok().json();
    assert_eq!(v["initial_pins_reissued"], 1, "{v}");
    let second = w.initial_pin(&to);
    assert_ne!(first, second);
    w.smartcard_first(USER2, &first, OWN).refused(Exit::Auth, &["wrong smartcard PIN"]);

    w.advance(chrono::Duration::days(7));
    w.smartcard_first(USER2, &second, OWN).refused(Exit::Locked, &["expired", "Smartcard Password Reset"]);
}

/// Issue 21 #8: before the launch the smartcard refusals do not speak of "after the launch":
/// a card-less account is told the exchange issues cards, and the exchange may re-issue a
/// terminal (CST) user's lost card, since smartcards are how everyone signs in until then.
#[test]
fn before_the_launch_a_lost_card_is_reissued_to_anyone() {
    let w = World::with_operator();
    w.before_launch(|| {
        let r = w
            .smartcard(USER1, PIN)
            .refused(Exit::NotPermitted, &["no smartcard is registered", "hkex smartcard issue"]);
        assert!(!r.stderr.contains("after the"), "{r}");
        let issue =
            ["hkex", "smartcard", "issue", USER1, "--srn", "0101101200099ZZ3", "--certificate-expiry", "2030-12-31"];
        let v = w.op(&issue).ok().json();
        assert_eq!(v["user_id"], USER1, "{v}");
    });
    let email = w.enquire(OPERATOR, USER1)["email"].as_str().expect("an address").to_string();
    let initial = w.initial_pin(&email);
    w.before_launch(|| {
        w.smartcard_first(USER1, &initial, OWN).ok();
        w.smartcard(USER1, OWN).ok();
    });
    // From the launch the same issue is refused: only PG users get cards.
    let issue =
        ["hkex", "smartcard", "issue", USER1, "--srn", "0101101200099ZZ4", "--certificate-expiry", "2030-12-31"];
    w.op(&issue).refused(Exit::NotPermitted, &["after the launch", "PG"]);
}
