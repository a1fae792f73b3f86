//! Irreversible operator commands: `hkex da3 delete` is confirmed at a terminal and said with
//! `--yes` by a script (the old form keeps working on a pipe, deprecated: SPEC §8); the
//! migration importers check a whole file against the database with `--dry-run` and write
//! nothing.

use crate::harness::*;

/// The operator signed in, and a fourth DA (checker B01234X4) that may be deleted without
/// breaking the DA minimum.
fn with_a_spare_checker() -> World {
    let w = World::with_operator();
    assert_eq!(w.da3_add(PARTICIPANT, "checker", "CHOI", "kw.choi@abc.com.hk").ok().json()["da_id"], "B01234X4");
    w
}

#[test]
fn da3_delete_with_yes_or_y_deletes_without_a_question() {
    let w = with_a_spare_checker();
    let r = w.op(&["hkex", "da3", "delete", "B01234X4", "--yes"]).ok();
    assert_eq!(r.json()["action"], "delete");
    assert!(r.warnings().is_empty(), "{r}");
    assert!(!w.listing(PARTICIPANT).0.contains(&"B01234X4".to_string()));

    w.da3_add(PARTICIPANT, "checker", "YIP", "sy.yip@abc.com.hk").ok();
    let r = w.op(&["hkex", "da3", "delete", "B01234X5", "-y"]).ok();
    assert!(r.warnings().is_empty(), "{r}");
    assert_eq!(w.sql("SELECT group_concat(user_id, ' ') FROM retired_user_ids"), "B01234X4 B01234X5");
}

#[test]
fn da3_delete_without_yes_on_a_pipe_still_works_with_a_deprecation_warning() {
    let w = with_a_spare_checker();
    let r = w.op(&["hkex", "da3", "delete", "B01234X4"]).ok();
    assert_eq!(r.json()["status"], "Completed");
    let warnings = r.warnings();
    assert!(warnings.iter().any(|m| m.contains("deprecated") && m.contains("--yes")), "{r}");
    assert_eq!(w.sql("SELECT user_id FROM retired_user_ids"), "B01234X4");
}

#[test]
fn da3_delete_refusals_are_unchanged_by_yes() {
    let w = World::with_operator();
    let before = w.state_and_credentials();
    w.op(&["hkex", "da3", "delete", "B01234X3", "--yes"]).refused(Exit::NotPermitted, &["two DA checkers"]);
    assert_eq!(w.state_and_credentials(), before);
}

// -- migration --dry-run -----------------------------------------------------------------

const PARTICIPANTS_HEADER: &str = "id,name,house,max_users,domains\n";
const USERS_HEADER: &str = "participant,user_id,surname,other_names,email,role,srn,certificate_expiry\n";

#[test]
fn participant_import_dry_run_checks_the_whole_file_and_writes_nothing() {
    let w = World::with_operator();
    let f = w.write(
        "participants.csv",
        &format!("{PARTICIPANTS_HEADER}C00001,Legacy Securities,hkscc-cp,10,legacy.com.hk\nHKXYZ,XYZ,hkcc,5,\n"),
    );
    let before = w.state();
    let audit_rows = w.count("SELECT COUNT(*) FROM audit");
    let v = w.op(&["hkex", "participant", "import", &f, "--dry-run"]).ok().json();
    assert_eq!(v["dry_run"], true, "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["rows"], 2, "{v}");
    assert_eq!(v["file_sha256"].as_str().map(str::len), Some(64), "{v}");
    assert_eq!(w.state(), before, "a dry run writes nothing");
    assert_eq!(w.count("SELECT COUNT(*) FROM audit"), audit_rows, "not even an audit row");

    // It checks against the database as the import does: B01234 is registered already.
    let f = w.write("again.csv", &format!("{PARTICIPANTS_HEADER}C00002,Two,hkscc-cp,10,\nB01234,Again,hkscc-cp,5,\n"));
    let dry = w.op(&["hkex", "participant", "import", &f, "--dry-run"]);
    let real = w.op(&["hkex", "participant", "import", &f]);
    assert_eq!(dry.exit(), real.exit(), "the same answer:\n{dry}\n{real}");
    assert_eq!(dry.message(), real.message());
    assert_eq!(w.state(), before);

    // And the real import of the first file then does what the dry run said.
    assert_eq!(w.op(&["hkex", "participant", "import", "participants.csv"]).ok().json()["imported"], 2);
}

#[test]
fn smartcard_user_import_dry_run_reports_the_counts_and_the_same_errors_as_the_import() {
    let w = World::with_operator();
    w.participant_add("C00001", "Legacy", "hkscc-cp", 3).ok();
    let row =
        |id: &str, role: &str| format!("C00001,{id},PUN,TEST,pun@legacy.com.hk,{role},0101101200012AB4,2030-12-31\n");
    let good = w.write("good.csv", &format!("{USERS_HEADER}{}{}", row("C0000101", "user"), row("C0000105", "user")));
    let before = w.state_and_credentials();
    let v = w.op(&["hkex", "import-smartcard-users", &good, "--dry-run"]).ok().json();
    assert_eq!(
        (v["dry_run"].as_bool(), v["rows"].as_i64(), v["participants"].as_i64()),
        (Some(true), Some(2), Some(1))
    );
    assert_eq!(w.state_and_credentials(), before, "a dry run writes nothing");
    assert!(w.listing("C00001").0.is_empty());
    assert!(w.mails_to("pun@legacy.com.hk").is_empty(), "and tells no holder of accounts it did not make");

    // A bad line, a taken ID, a full quota: the dry run answers as the import would.
    let cases = [
        ("bad.csv", format!("{USERS_HEADER}{}{}", row("C0000101", "user"), row("C00001X1", "user")), Exit::Invalid),
        (
            "taken.csv",
            format!("{USERS_HEADER}B01234,B0123401,NG,TEST,,user,0101101200012AB9,2030-12-31\n"),
            Exit::Conflict,
        ),
        (
            "full.csv",
            format!(
                "{USERS_HEADER}{}{}{}{}",
                row("C0000101", "user"),
                row("C0000102", "user"),
                row("C0000103", "user"),
                row("C0000104", "user")
            ),
            Exit::Conflict,
        ),
    ];
    for (name, text, exit) in cases {
        let f = w.write(name, &text);
        let dry = w.op(&["hkex", "import-smartcard-users", &f, "--dry-run"]).expect(exit);
        let real = w.op(&["hkex", "import-smartcard-users", &f]).expect(exit);
        assert_eq!(dry.message(), real.message(), "{name}");
    }
    assert_eq!(w.state_and_credentials(), before);
    assert_eq!(w.op(&["hkex", "import-smartcard-users", &good]).ok().json()["imported"], 2);
    assert_eq!(w.mails_to("pun@legacy.com.hk").len(), 2, "the import tells each holder it registered");
}
