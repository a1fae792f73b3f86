//! The exchange operator's side (SPEC §3 smartcard and service hours, §5, §8; seed 4.1, 4.3,
//! 5, 6): eServices DA3 and DA4, `da assign`, service hours as sign-in meets them, smartcard
//! sign-in around decommissioning, migration imports validated whole, and auditor reports.
//!
//! Each test has its own database (see `harness`) and asserts the exit code and the state
//! left behind; a refusal must leave the state exactly as it was.

use crate::harness::*;
use serde_json::{json, Value};

/// Five wrong passwords in a row: the fifth locks.
const LOCK_ON_THE_FIFTH: [Exit; 5] = [Exit::Auth, Exit::Auth, Exit::Auth, Exit::Auth, Exit::Locked];

/// A user's row in the operator's listing of its participant (a user ID is the participant's
/// ID and two characters).
fn listed(w: &World, user: &str) -> Value {
    w.listed(&user[..user.len() - 2], user)
}

/// A user's role as the operator's listing shows it (maker, checker or user).
fn role_of(w: &World, user: &str) -> Value {
    listed(w, user)["role"].clone()
}

/// A user's status as the operator's listing shows it.
fn status_of(w: &World, user: &str) -> Value {
    listed(w, user)["status"].clone()
}

// ---------------------------------------------------------------------------------------
// DA3

#[test]
fn da3_add_assigns_the_next_da_ids_with_references_and_a_mail() {
    let w = World::with_operator();
    let first = w.da3_add("B01234", "checker", "CHOI", "kw.choi@abc.com.hk").ok().json();
    assert_eq!(first, json!({ "da_id": "B01234X4", "reference": "DA3_00000001", "status": "Completed" }));
    let second = w.da3_add("b01234", "maker", "YIP", "sy.yip@abc.com.hk").ok().json();
    assert_eq!(second, json!({ "da_id": "B01234X5", "reference": "DA3_00000002", "status": "Completed" }));

    // Each new DA is told, by e-mail, which eService reference completed and its user ID.
    let mail = w.mails_to("kw.choi@abc.com.hk");
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0].contains("DA3_00000001") && mail[0].contains("B01234X4"), "{}", mail[0]);
    assert!(mail[0].contains("Completed"), "{}", mail[0]);
    let mail = w.mails_to("sy.yip@abc.com.hk");
    assert!(mail.len() == 1 && mail[0].contains("DA3_00000002") && mail[0].contains("B01234X5"), "{mail:?}");

    assert_eq!(role_of(&w, "B01234X4"), "checker");
    assert_eq!(role_of(&w, "B01234X5"), "maker");
    let (ids, quota) = w.listing("B01234");
    assert!(ids.contains(&"B01234X4".to_string()) && ids.contains(&"B01234X5".to_string()), "{ids:?}");
    assert_eq!(quota["total_users"], 8);
    assert_eq!(quota["delegated_administrators"], 5);
    // No command lists the eServices themselves.
    assert_eq!(
        w.sql("SELECT reference, action, subject FROM eservices ORDER BY 1"),
        "DA3_00000001|add|B01234X4\nDA3_00000002|add|B01234X5"
    );

    // A business-user role, an unknown participant, a bad address: refused, nothing added.
    let before = w.state_and_credentials();
    w.da3_add("B01234", "user", "NG", "ng@abc.com.hk").refused(Exit::Invalid, &["maker or checker"]);
    // An unknown participant is invalid input, as everywhere a participant is named.
    w.da3_add("B09999", "maker", "NG", "ng@abc.com.hk").refused(Exit::Invalid, &["no participant B09999"]);
    w.da3_add("B01234", "maker", "NG", "not-an-address").expect(Exit::Invalid);
    assert_eq!(w.state_and_credentials(), before);
}

#[test]
fn da3_add_on_a_full_quota_is_a_conflict_naming_da4() {
    let w = World::with_operator();
    w.participant_add("C00001", "Small Sec", "hkscc-cp", 1).ok();
    assert_eq!(w.da3_add("C00001", "maker", "MAN", "man@small.example").ok().json()["da_id"], "C00001X1");

    let before = w.state_and_credentials();
    w.da3_add("C00001", "checker", "CHAN", "chan@small.example").refused(Exit::Conflict, &["quota full", "DA4"]);
    assert_eq!(w.state_and_credentials(), before, "a refused DA3 add changes nothing (no user, no reference)");
    assert!(w.mails_to("chan@small.example").is_empty());

    // DA4 grants an account; the same DA3 then goes through, with the next DA3 reference.
    w.op(&["hkex", "da4", "--participant", "C00001", "--accounts", "1"]).ok();
    let v = w.da3_add("C00001", "checker", "CHAN", "chan@small.example").ok().json();
    assert_eq!(v["da_id"], "C00001X2");
    assert_eq!(v["reference"], "DA3_00000002");
}

#[test]
fn da3_add_follows_the_da_id_pattern_of_each_house_until_it_runs_out() {
    let w = World::with_operator();
    w.participant_add("HKABC", "Firm", "hkcc", 40).ok();
    w.participant_add("BNK999", "Firm", "hkscc-db", 40).ok();
    assert_eq!(w.da3_add("HKABC", "maker", "A", "a@hkabc.example").ok().json()["da_id"], "HKABC1X1");
    assert_eq!(w.da3_add("BNK999", "maker", "B", "b@bnk.example").ok().json()["da_id"], "BNK999X1");
    // An HKSCC participant has 27 DA IDs (X1-X9, Y1-Y9, Z1-Z9); the 28th DA3 add finds none.
    for n in 2..=27 {
        let v = w.da3_add("BNK999", "checker", "C", "c@bnk.example").ok().json();
        assert_eq!(v["reference"], format!("DA3_{:08}", n + 1));
    }
    assert_eq!(w.listing("BNK999").0.into_iter().max().as_deref(), Some("BNK999Z9"));
    let before = w.state_and_credentials();
    w.da3_add("BNK999", "checker", "C", "c@bnk.example").refused(Exit::Conflict, &["no free DA IDs"]);
    assert_eq!(w.state_and_credentials(), before);
    w.participant_add("BNK999", "Again", "hkscc-db", 1).refused(Exit::Conflict, &["already exists"]);
}

#[test]
fn da3_unlock_of_a_locked_da_makes_the_next_logon_a_first_time_logon() {
    let w = World::with_operator();
    w.first_time_app("B01234X1");
    assert_eq!(w.wrong_passwords("B01234X1", 5), LOCK_ON_THE_FIFTH, "the 5th wrong password locks");
    w.advance(secs(30));
    w.login("B01234X1").refused(Exit::Locked, &["locked", "DA3"]);
    let locked = w.op(&["report", "locked"]).ok().json();
    assert_eq!(locked["locked"][0]["user_id"], "B01234X1", "{locked}");

    let v = w.op(&["hkex", "da3", "unlock", "B01234X1"]).ok().json();
    assert_eq!(v["reference"], "DA3_00000001");
    assert_eq!(v["status"], "Completed");
    assert_eq!(
        w.sql("SELECT locked_at IS NULL, password_phc IS NULL FROM credentials WHERE user_id = 'B01234X1'"),
        "1|1"
    );
    let mail = w.mails_to("tm.chan@abc.com.hk");
    assert!(mail.iter().any(|m| m.contains("DA3_00000001") && m.contains("unlocked")), "{mail:?}");

    // The old password is gone: the next logon is a first-time logon, and it works.
    w.advance(secs(30));
    w.login("B01234X1").refused(Exit::Auth, &["wrong password"]);
    w.advance(secs(30));
    let v = w.first_time_app("B01234X1");
    assert_eq!(v["user_id"], "B01234X1");
    w.as_user("B01234X1", &["whoami"]).ok();
}

#[test]
fn da3_reset_ends_the_session_and_forces_a_first_time_logon() {
    let w = World::with_operator();
    w.first_time_app("B01234X2");
    w.as_user("B01234X2", &["whoami"]).ok();

    w.op(&["hkex", "da3", "reset", "B01234X2"]).ok();
    w.as_user("B01234X2", &["whoami"]).refused(Exit::Auth, &["ended"]);
    assert_eq!(
        w.sql("SELECT password_phc IS NULL, otp_channel IS NULL, otp_confirmed FROM credentials WHERE user_id = 'B01234X2'"),
        "1|1|0"
    );
    w.advance(secs(30));
    w.login("B01234X2").refused(Exit::Auth, &["wrong password"]);
    w.advance(secs(30));
    w.first_time_app("B01234X2");
    w.as_user("B01234X2", &["whoami"]).ok();

    // Reset also unlocks: a locked DA comes back through a first-time logon.
    w.first_time_app("B01234X3");
    assert_eq!(w.wrong_passwords("B01234X3", 5), LOCK_ON_THE_FIFTH);
    w.op(&["hkex", "da3", "reset", "B01234X3"]).ok();
    let locked = w.op(&["report", "locked"]).ok().json();
    assert_eq!(locked["locked"], json!([]), "unlocked too");
    w.advance(secs(30));
    w.login("B01234X3").refused(Exit::Auth, &["wrong password"]);
    w.first_time_app("B01234X3");

    // DA3 maintains DAs only.
    let before = w.state_and_credentials();
    w.op(&["hkex", "da3", "reset", "B0123401"]).refused(Exit::Invalid, &["not a Delegated Administrator"]);
    w.op(&["hkex", "da3", "unlock", "B01234X9"]).expect(Exit::Invalid);
    assert_eq!(w.state_and_credentials(), before);
}

#[test]
fn da3_disable_keeps_the_da_minimum_and_ends_the_disabled_das_session() {
    let w = World::with_operator();
    w.first_time_app("B01234X2");

    let before = w.state_and_credentials();
    w.op(&["hkex", "da3", "disable", "B01234X2"]).refused(Exit::NotPermitted, &["two DA checkers"]);
    w.op(&["hkex", "da3", "disable", "B01234X1"]).refused(Exit::NotPermitted, &["one DA maker"]);
    assert_eq!(w.state_and_credentials(), before);
    w.as_user("B01234X2", &["whoami"]).ok();

    assert_eq!(w.da3_add("B01234", "checker", "CHOI", "kw.choi@abc.com.hk").ok().json()["da_id"], "B01234X4");
    let v = w.op(&["hkex", "da3", "disable", "B01234X2"]).ok().json();
    assert_eq!(v["reference"], "DA3_00000002");
    assert_eq!(status_of(&w, "B01234X2"), "DISABLED");
    // Its open session ends at once and says why (exit 4, as sign-in), and it cannot sign in again.
    w.as_user("B01234X2", &["whoami"]).refused(Exit::Locked, &["disabled", "DA3"]);
    w.advance(secs(30));
    w.login("B01234X2").refused(Exit::Locked, &["disabled"]);
    // Disabled DAs do not count: X3 and X4 are now the two checkers, and neither may go.
    w.op(&["hkex", "da3", "disable", "B01234X3"]).refused(Exit::NotPermitted, &["two DA checkers"]);
    w.op(&["hkex", "da3", "disable", "B01234X2"]).refused(Exit::Conflict, &["already DISABLED"]);

    let v = w.op(&["hkex", "da3", "enable", "B01234X2"]).ok().json();
    assert_eq!(v["action"], "enable");
    assert_eq!(status_of(&w, "B01234X2"), "ENABLED");
    w.op(&["hkex", "da3", "enable", "B01234X2"]).refused(Exit::Conflict, &["already ENABLED"]);
    w.advance(secs(30));
    w.login("B01234X2").ok();
    w.as_user("B01234X2", &["whoami"]).ok();
}

#[test]
fn da3_delete_keeps_the_da_minimum_and_never_reuses_the_id() {
    let w = World::with_operator();
    let before = w.state_and_credentials();
    w.op(&["hkex", "da3", "delete", "B01234X3"]).refused(Exit::NotPermitted, &["two DA checkers"]);
    w.op(&["hkex", "da3", "delete", "B01234X1"]).refused(Exit::NotPermitted, &["one DA maker"]);
    assert_eq!(w.state_and_credentials(), before);

    w.da3_add("B01234", "checker", "CHOI", "kw.choi@abc.com.hk").ok();
    w.first_time_app("B01234X3");
    w.as_user("B01234X3", &["whoami"]).ok();
    let v = w.op(&["hkex", "da3", "delete", "B01234X3"]).ok().json();
    assert_eq!(v["reference"], "DA3_00000002");
    let (ids, quota) = w.listing("B01234");
    assert!(!ids.contains(&"B01234X3".to_string()), "{ids:?}");
    assert_eq!(quota["delegated_administrators"], 3);
    // No command lists the retired IDs.
    assert_eq!(w.sql("SELECT user_id FROM retired_user_ids"), "B01234X3");
    w.as_user("B01234X3", &["whoami"]).expect(Exit::Auth);
    w.advance(secs(30));
    // Answered as a wrong password (SPEC §3: an unknown ID is not told apart).
    w.login("B01234X3").refused(Exit::Auth, &["wrong password"]);

    // The deleted ID is never handed out again: the next DA gets X5, not X3.
    assert_eq!(w.da3_add("B01234", "maker", "YIP", "sy.yip@abc.com.hk").ok().json()["da_id"], "B01234X5");
    assert_eq!(w.da3_add("B01234", "maker", "KO", "ko@abc.com.hk").ok().json()["da_id"], "B01234X6");
    w.op(&["hkex", "da3", "delete", "B01234X3"]).expect(Exit::Invalid);
}

#[test]
fn da3_assign_da_only_after_smartcard_decommissioning() {
    let w = World::with_operator();
    w.setting("decommission-date", "2027-01-01").ok();
    let before = w.state_and_credentials();
    w.op(&["hkex", "da3", "assign-da", "B0123401", "--role", "checker"])
        .refused(Exit::NotPermitted, &["decommissioning", "2027-01-01"]);
    assert_eq!(w.state_and_credentials(), before);
    assert_eq!(role_of(&w, "B0123401"), "user");

    // Decommissioning cannot come before the 2FA launch (2023-06-12).
    w.setting("decommission-date", "2023-01-01").refused(Exit::Invalid, &["launch"]);
    w.setting("decommission-date", "2023-09-04").ok();
    let v = w.op(&["hkex", "da3", "assign-da", "B0123401", "--role", "checker"]).ok().json();
    assert_eq!(
        v,
        json!({ "user_id": "B0123401", "role": "checker", "reference": "DA3_00000001", "status": "Completed" })
    );
    assert_eq!(role_of(&w, "B0123401"), "checker");
    let v = w.op(&["hkex", "participant", "show", "B01234"]).ok().json();
    assert_eq!(v["enabled_da_checkers"], 3);
    // Now a third checker exists, so one of the original two may be disabled.
    w.op(&["hkex", "da3", "disable", "B01234X2"]).ok();

    w.op(&["hkex", "da3", "assign-da", "B0123402", "--role", "maker"]).ok();
    assert_eq!(role_of(&w, "B0123402"), "maker");
    w.op(&["hkex", "da3", "assign-da", "B0123402", "--role", "checker"]).refused(Exit::Conflict, &["already"]);
    w.op(&["hkex", "da3", "assign-da", "B0123403", "--role", "user"]).expect(Exit::Invalid);
    assert_eq!(role_of(&w, "B0123403"), "user");
}

#[test]
fn only_the_operator_runs_hkex_commands() {
    let w = World::with_operator();
    w.first_time_app("B01234X1");
    w.first_time_app("B0123401");
    let before = w.state_and_credentials();
    let da3 = da3_add_args(PARTICIPANT, "maker", "A", "a@abc.com.hk");
    let attempts: [&[&str]; 6] = [
        &da3,
        &["hkex", "da3", "unlock", "B01234X2"],
        &["hkex", "da4", "--participant", "B01234", "--accounts", "3"],
        &["hkex", "settings", "set", "service-hours", "off"],
        &["hkex", "holiday", "add", "2026-12-25"],
        &["hkex", "participant", "add", "--id", "C00001", "--name", "X", "--house", "hkscc-cp", "--max-users", "5"],
    ];
    for args in attempts {
        w.as_user("B01234X1", args).refused(Exit::NotPermitted, &["EXCHANGE OPERATOR"]);
        w.as_user("B0123401", args).expect(Exit::NotPermitted);
        w.run(args, None).expect(Exit::Auth); // nobody signed in
    }
    w.as_user("B01234X1", &["hkex", "participant", "list"]).expect(Exit::NotPermitted);
    assert_eq!(w.state_and_credentials(), before);
}

// ---------------------------------------------------------------------------------------
// DA4

#[test]
fn da4_raises_the_maximum_and_records_the_fee() {
    let w = World::with_operator();
    let v = w.op(&["hkex", "da4", "--participant", "B01234", "--accounts", "3"]).ok().json();
    assert_eq!(v["reference"], "DA4_00000001");
    assert_eq!(v["max_users"], 73);
    assert_eq!(v["fee_hkd"], "750.00");
    assert_eq!(v["status"], "Completed");
    assert_eq!(w.op(&["hkex", "participant", "show", "B01234"]).ok().json()["max_users"], 73);
    assert_eq!(w.listing("B01234").1["max_users"], 73);
    // The participant's DAs hear that the eService is Completed.
    let mail = w.mails_to("tm.chan@abc.com.hk");
    assert!(mail.iter().any(|m| m.contains("DA4_00000001") && m.contains("73")), "{mail:?}");

    let v = w.op(&["hkex", "da4", "--participant", "B01234", "--accounts", "2"]).ok().json();
    assert_eq!(
        (v["reference"].as_str(), v["max_users"].as_i64(), v["fee_hkd"].as_str()),
        (Some("DA4_00000002"), Some(75), Some("500.00"))
    );

    let fees = w.op(&["report", "da4-fees"]).ok().json();
    let rows = fees["da4"].as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["reference"], "DA4_00000001");
    assert_eq!(rows[0]["accounts"], 3);
    assert_eq!(fees["total_fee_hkd"], "1250.00");
    let csv = w.raw_as(OPERATOR, &["--format", "csv", "report", "da4-fees"]).ok();
    assert_eq!(csv.stdout.lines().next(), Some("reference,participant_id,accounts,fee_hkd,processed_at"));
    assert_eq!(csv.stdout.lines().count(), 3, "header and two rows, no footer:\n{}", csv.stdout);

    // No accounts, or more than the ID space (1,296 IDs for an HKSCC participant): refused.
    let before = w.state_and_credentials();
    w.op(&["hkex", "da4", "--participant", "B01234", "--accounts", "0"]).refused(Exit::Invalid, &["--accounts"]);
    w.op(&["hkex", "da4", "--participant", "B01234", "--accounts=-1"]).expect(Exit::Invalid);
    w.op(&["hkex", "da4", "--participant", "B01234", "--accounts", "1222"]).refused(Exit::Invalid, &["1297", "1296"]);
    assert_eq!(w.state_and_credentials(), before);
    let v = w.op(&["hkex", "da4", "--participant", "B01234", "--accounts", "1221"]).ok().json();
    assert_eq!(v["max_users"], 1296);
    assert_eq!(v["reference"], "DA4_00000003");
    let before = w.state_and_credentials();
    w.op(&["hkex", "da4", "--participant", "B01234", "--accounts", "1"]).expect(Exit::Invalid);
    w.op(&["hkex", "da4", "--participant", "B09999", "--accounts", "1"])
        .refused(Exit::Invalid, &["no participant B09999"]);
    assert_eq!(w.state_and_credentials(), before);
    let total = w.op(&["report", "da4-fees", "--participant", "B01234"]).ok().json()["total_fee_hkd"].clone();
    assert_eq!(total, "306500.00");
}

#[test]
fn da4_fees_report_periods_are_hong_kong_days() {
    let w = World::with_operator();
    w.op(&["hkex", "da4", "--participant", "B01234", "--accounts", "1"]).ok();
    // 00:30 on Tuesday in Hong Kong is still Monday in UTC; the operator works at any hour.
    w.at("2026-11-24T00:30:00+08:00");
    w.login(OPERATOR).ok();
    w.op(&["hkex", "da4", "--participant", "B01234", "--accounts", "4"]).ok();
    let refs = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["report", "da4-fees"];
        all.extend_from_slice(args);
        let v = w.op(&all).ok().json();
        v["da4"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r["reference"].as_str().expect("a reference").to_string())
            .collect()
    };
    assert_eq!(refs(&["--to", "2026-11-23"]), vec!["DA4_00000001"]);
    assert_eq!(refs(&["--from", "2026-11-24"]), vec!["DA4_00000002"]);
    assert_eq!(refs(&["--from", "2026-11-23", "--to", "2026-11-24"]).len(), 2);
    let v = w.op(&["report", "da4-fees", "--from", "2026-11-24"]).ok().json();
    assert_eq!(v["total_fee_hkd"], "1000.00");
}

// ---------------------------------------------------------------------------------------
// da assign (seed 5.1)

#[test]
fn da_assign_only_after_decommissioning_and_never_by_the_da_concerned() {
    let w = World::with_operator();
    w.setting("decommission-date", "2027-01-01").ok();
    w.first_time_app("B01234X1");
    let before = w.state_and_credentials();
    w.as_user("B01234X1", &["da", "assign", "B01234X2", "--groups", "11,A"])
        .refused(Exit::NotPermitted, &["decommissioning"]);
    assert_eq!(w.state_and_credentials(), before);

    w.setting("decommission-date", "2023-09-04").ok();
    let r = w.as_user(MAKER, &["da", "assign", CHECKER, "--groups", "11,A"]).ok();
    assert_eq!(r.json()["status"], "PENDING");
    let id = r.request_id();

    // The DA concerned cannot authorise its own groups (no one-handed operation).
    w.first_time_app(CHECKER);
    w.approve(CHECKER, &[id]).refused(Exit::NotPermitted, &["one-handed"]);
    let groups = || w.enquire(MAKER, CHECKER)["user_groups"].clone();
    assert_eq!(groups(), json!([]));
    // Nor inline, at the maker's terminal.
    w.inline(MAKER, &["da", "assign", CHECKER, "--groups", "C"], CHECKER, PASSWORD)
        .refused(Exit::NotPermitted, &["one-handed"]);

    w.first_time_app(CHECKER2);
    // The rule is checked again at approval: with decommissioning moved back into the
    // future, the pending request cannot be authorised.
    w.setting("decommission-date", "2027-01-01").ok();
    w.approve(CHECKER2, &[id]).refused(Exit::NotPermitted, &["decommissioning"]);
    assert_eq!(groups(), json!([]));
    w.setting("decommission-date", "2023-09-04").ok();
    // `--yes` skips the confirmation a terminal would ask for.
    let code = w.totp(CHECKER2);
    let approve = ["request", "approve", &id.to_string(), "--otp", &code, "--password-stdin", "--yes"];
    w.as_user_stdin(CHECKER2, &approve, &line(PASSWORD)).ok();
    assert_eq!(groups(), json!(["11", "A"]));
    let show = w.request_show(MAKER, id);
    assert_eq!(show["status"], "APPROVED", "{show}");
    assert_eq!(show["checker"], "B01234X3", "{show}");
    w.as_user("B01234X1", &["da", "assign", "B01234X3", "--groups", "11,QQ"]).expect(Exit::Invalid);
    // Business users are not DAs: `da assign` is for DAs only.
    w.as_user("B01234X1", &["da", "assign", "B0123401", "--groups", "11"]).expect(Exit::Invalid);
}

// ---------------------------------------------------------------------------------------
// Service hours (SPEC §3), as sign-in meets them

/// A demo exchange with the operator, business user B0123401 and DA maker B01234X1 through
/// their first-time logons (Monday 10:00). B0123402 and B01234X2 stay uninitialised: their
/// `otp request` is the cheap probe of the hours.
fn hours_exchange() -> World {
    let w = World::with_operator();
    w.first_time_app("B0123401");
    w.first_time_app("B01234X1");
    w
}

#[test]
fn weekdays_open_at_seven_for_terminal_and_dms() {
    let w = hours_exchange();
    w.at("2026-11-24T06:59:59+08:00");
    let before = w.state_and_credentials();
    w.otp_request("B0123402")
        .refused(Exit::Locked, &["outside service hours", "Terminal", "reopens Tue 24-Nov-2026 07:00 HKT"]);
    w.otp_request("B01234X2")
        .refused(Exit::Locked, &["outside service hours", "DMS", "reopens Tue 24-Nov-2026 07:00 HKT"]);
    w.login("B0123401").refused(Exit::Locked, &["reopens Tue 24-Nov-2026 07:00 HKT"]);
    w.login("B01234X1").refused(Exit::Locked, &["reopens Tue 24-Nov-2026 07:00 HKT"]);
    assert_eq!(w.state_and_credentials(), before, "a refusal for the hours counts no failure and changes nothing");

    w.at("2026-11-24T07:00:00+08:00");
    w.otp_request("B0123402").ok();
    w.otp_request("B01234X2").ok();
    assert_eq!(w.login("B0123401").ok().json()["role"], "user");
    assert_eq!(w.login("B01234X1").ok().json()["role"], "maker");
}

#[test]
fn dms_closes_at_nineteen_and_the_terminal_at_twenty_one_thirty() {
    let w = hours_exchange();
    w.at("2026-11-23T18:59:00+08:00");
    w.login("B01234X1").ok();
    w.otp_request("B01234X2").ok();
    w.as_user("B01234X1", &["listing"]).ok();

    w.at("2026-11-23T19:00:00+08:00");
    w.login("B01234X1").refused(Exit::Locked, &["DMS", "reopens Tue 24-Nov-2026 07:00 HKT"]);
    w.otp_request("B01234X3").refused(Exit::Locked, &["reopens Tue 24-Nov-2026 07:00 HKT"]);
    // A DA signed in before closing is held to the hours too.
    w.as_user("B01234X1", &["listing"]).refused(Exit::Locked, &["outside service hours"]);
    // The terminal is still open for business users.
    w.login("B0123401").ok();
    w.otp_request("B0123402").ok();

    w.at("2026-11-23T21:29:59+08:00");
    w.otp_request("B0123403").ok();
    w.at("2026-11-23T21:30:00+08:00");
    w.login("B0123401").refused(Exit::Locked, &["Terminal", "reopens Tue 24-Nov-2026 07:00 HKT"]);
    w.at("2026-11-23T21:36:00+08:00");
    w.otp_request("B0123402").refused(Exit::Locked, &["reopens Tue 24-Nov-2026 07:00 HKT"]);
}

#[test]
fn saturday_dms_is_open_nine_to_one_and_the_terminal_is_closed() {
    let w = hours_exchange();
    w.at("2026-11-28T08:59:59+08:00");
    w.login("B01234X1").refused(Exit::Locked, &["reopens Sat 28-Nov-2026 09:00 HKT"]);
    w.otp_request("B01234X2").refused(Exit::Locked, &["reopens Sat 28-Nov-2026 09:00 HKT"]);
    w.at("2026-11-28T09:00:00+08:00");
    w.login("B01234X1").ok();
    w.otp_request("B01234X2").ok();
    // Business users: closed all Saturday, reopening on Monday.
    w.login("B0123401").refused(Exit::Locked, &["Terminal", "reopens Mon 30-Nov-2026 07:00 HKT"]);
    w.otp_request("B0123402").refused(Exit::Locked, &["reopens Mon 30-Nov-2026 07:00 HKT"]);
    w.at("2026-11-28T12:59:00+08:00");
    w.login("B01234X1").ok();
    w.login("B0123401").expect(Exit::Locked);
    w.at("2026-11-28T13:00:00+08:00");
    w.login("B01234X1").refused(Exit::Locked, &["DMS", "reopens Mon 30-Nov-2026 07:00 HKT"]);
    w.otp_request("B01234X3").expect(Exit::Locked);
}

#[test]
fn sunday_is_closed_to_users_and_das_but_not_to_the_operator() {
    let w = hours_exchange();
    w.at("2026-11-29T10:00:00+08:00");
    w.login("B0123401").refused(Exit::Locked, &["reopens Mon 30-Nov-2026 07:00 HKT"]);
    w.login("B01234X1").refused(Exit::Locked, &["reopens Mon 30-Nov-2026 07:00 HKT"]);
    w.otp_request("B0123402").expect(Exit::Locked);
    w.otp_request("B01234X2").expect(Exit::Locked);

    // The exchange operator is not bound by service hours.
    assert_eq!(w.login(OPERATOR).ok().json()["role"], "operator");
    w.op(&["hkex", "settings", "show"]).ok();
    // ... and may turn enforcement off: then a DA gets in on a Sunday.
    w.setting("service-hours", "off").ok();
    assert_eq!(w.op(&["hkex", "settings", "show"]).ok().json()["service-hours"], "off");
    w.login("B01234X1").ok();
    w.as_user("B01234X1", &["listing"]).ok();
    w.login("B0123401").ok();
    w.setting("service-hours", "on").ok();
    w.advance(secs(30));
    w.login("B01234X1").expect(Exit::Locked);
    w.setting("service-hours", "sometimes").expect(Exit::Invalid);
}

#[test]
fn a_holiday_closes_both_services_until_the_next_working_day() {
    let w = hours_exchange();
    let v = w.op(&["hkex", "holiday", "add", "2026-11-24", "--name", "Test Day"]).ok().json();
    assert_eq!(v["date"], "2026-11-24");
    w.op(&["hkex", "holiday", "add", "2026-11-24"]).expect(Exit::Conflict);
    let list = w.op(&["hkex", "holiday", "list"]).ok().json();
    assert_eq!(list["holidays"], json!([{ "date": "2026-11-24", "name": "Test Day" }]));

    // The evening before already points past the holiday.
    w.at("2026-11-23T19:30:00+08:00");
    w.otp_request("B01234X2").refused(Exit::Locked, &["reopens Wed 25-Nov-2026 07:00 HKT"]);
    w.at("2026-11-24T10:00:00+08:00");
    w.login("B01234X1").refused(Exit::Locked, &["reopens Wed 25-Nov-2026 07:00 HKT"]);
    w.login("B0123401").refused(Exit::Locked, &["reopens Wed 25-Nov-2026 07:00 HKT"]);
    w.otp_request("B0123402").expect(Exit::Locked);
    // The holiday is a Hong Kong date: 23:30 UTC on Monday is already Tuesday 07:30 there.
    w.at("2026-11-23T23:30:00Z");
    w.otp_request("B01234X3").refused(Exit::Locked, &["reopens Wed 25-Nov-2026 07:00 HKT"]);
    w.at("2026-11-24T10:00:00+08:00");

    // The operator works on holidays, and can take one back.
    w.login(OPERATOR).ok();
    w.op(&["hkex", "holiday", "remove", "2026-11-24"]).ok();
    w.op(&["hkex", "holiday", "remove", "2026-11-24"]).expect(Exit::Invalid);
    w.advance(secs(30));
    w.login("B01234X1").ok();
    w.login("B0123401").ok();
}

// ---------------------------------------------------------------------------------------
// Smartcard sign-in and migration (seed 4.3, 5, 6)

/// Participant C00001 (HKSCC CP, 10 users) imported from CSV, and five smartcard-era users
/// with PIN [`PIN`]: maker X1, checkers X2 and X3, users 01 and 02 — migrated before the
/// launch, as a migration is (from the launch an import adds no DA and sets no PIN). Then the
/// parallel run: launched, decommissioning in the future.
pub(crate) fn smartcard_exchange() -> World {
    let w = World::with_operator();
    w.setting("decommission-date", "2027-01-01").ok();
    let f = w.write(
        "participants.csv",
        "id,name,house,max_users,domains\nC00001,Legacy Securities,hkscc-cp,10,legacy.com.hk\n",
    );
    assert_eq!(w.op(&["hkex", "participant", "import", &f]).ok().json()["imported"], 1);
    let phc = pin_phc();
    let rows = [
        ("C00001X1", "MA", "kit.ma@legacy.com.hk", "maker", "0101101200012AB1", "31-Dec-30 23:59:59"),
        ("C00001X2", "NG", "ng@legacy.com.hk", "checker", "0101101200012AB2", "2030-12-31"),
        ("C00001X3", "OR", "or@legacy.com.hk", "checker", "0101101200012AB3", "2030-12-31"),
        ("C0000101", "PUN", "pun@legacy.com.hk", "user", "0101101200012AB4", "2029-06-29 12:00:00"),
        ("C0000102", "QIU", "qiu@legacy.com.hk", "user", "0101101200012AB5", "2029-06-30"),
    ];
    let mut csv = String::from("participant,user_id,surname,other_names,email,role,srn,certificate_expiry,pin_phc\n");
    for (id, surname, email, role, srn, exp) in rows {
        csv.push_str(&format!("C00001,{id},{surname},TEST,{email},{role},{srn},{exp},\"{phc}\"\n"));
    }
    let f = w.write("smartcard.csv", &csv);
    let v = w.before_launch(|| w.op(&["hkex", "import-smartcard-users", &f]).ok().json());
    assert_eq!((v["imported"].as_i64(), v["participants"].as_i64()), (Some(5), Some(1)));
    w
}

/// Seed 000 §3.2, "The User ID will remain unchanged": an HKCC-only firm's existing IDs migrate
/// whatever their digit (the seed's 1/2/3/4), a typed ID is accepted where it collides with
/// nothing, and registering SEOCH on the same code names exactly the IDs in the way.
#[test]
fn hkcc_ids_migrate_as_they_exist_and_name_what_is_in_the_way() {
    let w = World::with_operator();
    w.setting("decommission-date", "2027-01-01").ok();
    let f = w.write("participants.csv", "id,name,house,max_users,domains\nHKXYZ,XYZ FUTURES,hkcc,20,\n");
    assert_eq!(w.op(&["hkex", "participant", "import", &f]).ok().json()["imported"], 1);
    let phc = pin_phc();
    let mut csv = String::from("participant,user_id,surname,other_names,email,role,srn,certificate_expiry,pin_phc\n");
    for (id, role, srn, pin) in [
        ("HKXYZ2X1", "maker", "0101101200012AC1", phc),
        ("HKXYZ1X2", "checker", "0101101200012AC2", phc),
        ("HKXYZ3X3", "checker", "0101101200012AC3", phc),
        ("HKXYZ201", "user", "0101101200012AC4", ""),
        ("HKXYZ401", "user", "0101101200012AC5", ""),
    ] {
        let email = format!("{}@xyz.hk", id.to_lowercase());
        csv.push_str(&format!("HKXYZ,{id},CHAN,TAI MAN,{email},{role},{srn},2030-12-31,\"{pin}\"\n"));
    }
    let f = w.write("smartcard.csv", &csv);
    let v = w.before_launch(|| w.op(&["hkex", "import-smartcard-users", &f]).ok().json());
    assert_eq!(v["imported"], 5, "{v}");
    assert_eq!(w.listing("HKXYZ").0, ["HKXYZ1X2", "HKXYZ201", "HKXYZ2X1", "HKXYZ3X3", "HKXYZ401"]);

    // A DA types an ID with the digit 4: nothing collides with it, so it is accepted.
    w.smartcard("HKXYZ2X1", PIN).ok();
    let r = w.as_user("HKXYZ2X1", &create_args("HKXYZ402", "lee@xyz.hk")).ok().json();
    assert_eq!((r["user_id"].as_str(), r["status"].as_str()), (Some("HKXYZ402"), Some("PENDING")), "{r}");
    // Generated IDs keep to HKCC's half, so that a SEOCH registration could still come.
    let gen = ["user", "create", "--generate", "--surname", "HO", "--other-names", "B", "--email", "ho@xyz.hk"];
    assert_eq!(w.as_user("HKXYZ2X1", &gen).ok().json()["user_id"], "HKXYZ101");

    // SEOCH on the same code: the IDs in the way are named, and nothing is registered.
    let before = w.state_and_credentials();
    w.participant_add("HKXYZ", "XYZ OPTIONS", "seoch", 20)
        .refused(Exit::Conflict, &["HKXYZ", "SEOCH CP", "2 and 4", "HKXYZ201, HKXYZ2X1, HKXYZ401"]);
    assert_eq!(w.state_and_credentials(), before);
}

#[test]
fn smartcard_sign_in_works_until_decommissioning() {
    let w = smartcard_exchange();
    let v = w.smartcard("C0000101", PIN).ok().json();
    assert_eq!((v["user_id"].as_str(), v["method"].as_str()), (Some("C0000101"), Some("smartcard")));
    assert_eq!(w.as_user("C0000101", &["whoami"]).ok().json()["user_id"], "C0000101");

    // A DA signs in with its smartcard and enquires: the smartcard fields, not the 2FA ones.
    w.smartcard("C00001X1", PIN).ok();
    let e = w.enquire("C00001X1", "C0000101");
    assert_eq!(e["srn"], "0101101200012AB4");
    assert_eq!(e["certificate_expiry"], "2029-06-29T12:00:00+08:00");
    assert!(e.get("locked").is_none() && e.get("otp_enabled").is_none(), "{e}");
    let e = w.enquire(OPERATOR, "C00001X1");
    assert_eq!(e["certificate_expiry"], "2030-12-31T23:59:59+08:00");
    // A DA of another participant may not look.
    w.first_time_app("B01234X1");
    w.as_user("B01234X1", &["user", "enquire", "C0000101"]).expect(Exit::NotPermitted);

    // A PIN that is not 6-8 digits is bad input, not a failed attempt.
    w.smartcard("C0000102", "12ab").expect(Exit::Invalid);
    assert_eq!(w.sql("SELECT failures FROM credentials WHERE user_id = 'C0000102'"), "");
}

#[test]
fn wrong_smartcard_pins_lock_the_account_for_smartcard_and_2fa() {
    let w = smartcard_exchange();
    let exits: Vec<Exit> = (0..5)
        .map(|_| {
            w.advance(secs(10));
            w.smartcard("C0000101", "654321").exit()
        })
        .collect();
    assert_eq!(exits, LOCK_ON_THE_FIFTH, "the 5th wrong PIN locks");
    w.smartcard("C0000101", PIN).refused(Exit::Locked, &["locked", "Delegated Administrator"]);
    w.otp_request("C0000101").refused(Exit::Locked, &["locked"]);
    let locked = w.op(&["report", "locked"]).ok().json();
    assert_eq!(locked["locked"].as_array().map(|a| a.len()), Some(1), "{locked}");
    assert_eq!(locked["locked"][0]["user_id"], "C0000101");

    // The other way round: locked through 2FA, the smartcard is refused too.
    w.advance(secs(60));
    w.first_time_app("C0000102");
    assert_eq!(w.wrong_passwords("C0000102", 5), LOCK_ON_THE_FIFTH);
    w.smartcard("C0000102", PIN).refused(Exit::Locked, &["locked"]);
}

#[test]
fn after_decommissioning_only_the_pg_channel_keeps_smartcards() {
    let w = smartcard_exchange();
    // No command moves an existing user to another access channel.
    w.sql_write("UPDATE users SET channel = 'PG' WHERE user_id = 'C0000102'");
    w.setting("decommission-date", "2026-11-23").ok();

    let before = w.state_and_credentials();
    w.smartcard("C0000101", PIN).refused(Exit::NotPermitted, &["decommissioned", "2026-11-23"]);
    w.smartcard("C00001X1", PIN).expect(Exit::NotPermitted);
    assert_eq!(w.state_and_credentials(), before);
    assert_eq!(w.smartcard("C0000102", PIN).ok().json()["method"], "smartcard");

    // Enquire no longer shows the smartcard fields of a CST user...
    let e = w.enquire(OPERATOR, "C0000101");
    assert!(e.get("srn").is_none() && e.get("certificate_expiry_date").is_none(), "{e}");
    // ...but a PG user still signs in with its smartcard, so its fields stay.
    let e = w.enquire(OPERATOR, "C0000102");
    assert_eq!(e["access_channel"], "PG");
    assert_eq!(e["srn"], "0101101200012AB5", "{e}");
    assert_eq!(e["certificate_expiry"], "2029-06-30T23:59:59+08:00", "{e}");
}

#[test]
fn a_smartcard_whose_certificate_has_expired_is_refused() {
    let w = smartcard_exchange();
    w.setting("decommission-date", "2031-06-30").ok();
    // C0000101's certificate is valid to Friday 2029-06-29 12:00:00, Hong Kong time.
    w.at("2029-06-29T12:00:00+08:00");
    w.smartcard("C0000101", PIN).ok();
    w.at("2029-06-29T12:00:01+08:00");
    let before = w.state_and_credentials();
    w.smartcard("C0000101", PIN).refused(Exit::Locked, &["certificate", "expired", "2029-06-29 12:00:00"]);
    assert_eq!(w.state_and_credentials(), before, "an expired certificate is not a wrong PIN: no failure is counted");
    w.smartcard("C00001X1", PIN).ok(); // valid to 31-Dec-30 23:59:59
}

#[test]
fn users_without_a_smartcard_are_refused_smartcard_sign_in() {
    let w = smartcard_exchange();
    let before = w.state_and_credentials();
    // Demo users and DA3 DAs were created after the 2FA launch: no SRN, 2FA only.
    w.smartcard("B0123401", PIN).refused(Exit::NotPermitted, &["no smartcard"]);
    w.smartcard("B01234X1", PIN).refused(Exit::NotPermitted, &["no smartcard"]);
    assert_eq!(w.state_and_credentials(), before);
    w.da3_add("C00001", "checker", "SO", "so@legacy.com.hk").ok();
    w.smartcard("C00001X4", PIN).refused(Exit::NotPermitted, &["no smartcard"]);
    w.smartcard("C0000199", PIN).expect(Exit::Auth);
}

#[test]
fn enquire_shows_locked_and_otp_enabled_once_2fa_is_initialised() {
    let w = smartcard_exchange();
    w.first_time_app("C0000101");
    let e = w.enquire(OPERATOR, "C0000101");
    assert_eq!((e["locked"].as_bool(), e["otp_enabled"].as_bool()), (Some(false), Some(true)), "{e}");
    assert!(e.get("srn").is_none() && e.get("certificate_expiry").is_none(), "{e}");
    // Until decommissioning the smartcard stays in reserve.
    w.smartcard("C0000101", PIN).ok();
    // An uninitialised neighbour still shows its smartcard fields.
    assert_eq!(w.enquire(OPERATOR, "C0000102")["srn"], "0101101200012AB5");
    // Locked shows once it is.
    w.advance(secs(60));
    w.wrong_passwords("C0000101", 5);
    assert_eq!(w.enquire(OPERATOR, "C0000101")["locked"], true);
}

// ---------------------------------------------------------------------------------------
// Imports are validated whole: one bad line and nothing is imported

fn participant_ids(w: &World) -> Vec<String> {
    let v = w.op(&["hkex", "participant", "list"]).ok().json();
    v["participants"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|p| p["participant_id"].as_str().expect("a participant_id").to_string())
        .collect()
}

#[test]
fn a_participant_file_with_one_bad_line_imports_nothing() {
    let w = World::with_operator();
    let header = "id,name,house,max_users,domains\n";
    let good = "C00001,Good Securities,hkscc-cp,10,good.example\n";
    let cases: [(&str, Exit, &[&str]); 7] = [
        ("C00002,Bad House,hkscc-xx,10,\n", Exit::Invalid, &["line 3", "hkscc-xx"]),
        ("HKAB,Short Code,hkcc,10,\n", Exit::Invalid, &["line 3"]),
        ("C00001,Twice,hkscc-cp,10,\n", Exit::Invalid, &["line 3", "twice", "line 2"]),
        ("C00002,Too Many,hkscc-cp,10,x.example,extra\n", Exit::Invalid, &["line 3", "6 fields"]),
        ("C00002,Huge,hkscc-cp,1297,\n", Exit::Invalid, &["line 3", "1296"]),
        ("C00002,Not A Number,hkscc-cp,ten,\n", Exit::Invalid, &["line 3", "max_users"]),
        ("B01234,Exists Already,hkscc-cp,10,\n", Exit::Conflict, &["line 3", "B01234", "already exists"]),
    ];
    let before = w.state_and_credentials();
    for (i, (bad, exit, parts)) in cases.iter().enumerate() {
        let f = w.write(&format!("p{i}.csv"), &format!("{header}{good}{bad}"));
        w.op(&["hkex", "participant", "import", &f]).refused(*exit, parts);
        assert_eq!(participant_ids(&w), vec!["B01234"]);
    }
    let f = w.write("bad-header.csv", &format!("id,name,house,max_users,colour\n{good}"));
    w.op(&["hkex", "participant", "import", &f]).refused(Exit::Invalid, &["line 1", "colour"]);
    assert_eq!(w.state_and_credentials(), before);

    let f = w.write("ok.csv", &format!("{header}{good}HKABC,Futures Co,hkcc,20,\"a.example b.example\"\n"));
    assert_eq!(w.op(&["hkex", "participant", "import", &f]).ok().json()["imported"], 2);
    assert_eq!(participant_ids(&w), vec!["B01234", "C00001", "HKABC"]);
    let v = w.op(&["hkex", "participant", "show", "HKABC"]).ok().json();
    assert_eq!((v["house"].as_str(), v["max_users"].as_i64()), (Some("hkcc"), Some(20)));
    assert_eq!(v["domains"], json!(["a.example", "b.example"]));
}

#[test]
fn a_smartcard_user_file_with_one_bad_line_imports_nothing() {
    let w = World::with_operator();
    w.participant_add("C00001", "Legacy", "hkscc-cp", 3).ok();
    let phc = pin_phc();
    let header = "participant,user_id,surname,other_names,email,role,srn,certificate_expiry,pin_phc\n";
    let good = format!("C00001,C0000101,PUN,TEST,pun@legacy.com.hk,user,0101101200012AB4,2030-12-31,\"{phc}\"\n");
    let row = |id: &str, role: &str, pin: &str| {
        format!("C00001,{id},NG,TEST,ng@legacy.com.hk,{role},0101101200012AB9,2030-12-31,\"{pin}\"\n")
    };
    let cases: Vec<(String, Exit, Vec<&str>)> = vec![
        (row("C00001X1", "user", phc), Exit::Invalid, vec!["line 3", "role user"]),
        (row("C0000102", "maker", phc), Exit::Invalid, vec!["line 3", "not a DA user ID"]),
        (row("C0000102", "auditor", phc), Exit::Invalid, vec!["line 3", "role"]),
        (row("B0123499", "user", phc), Exit::Invalid, vec!["line 3"]),
        (
            "Z99999,Z9999901,NG,TEST,,user,0101101200012AB9,2030-12-31,\n".into(),
            Exit::Invalid,
            vec!["line 3", "unknown participant"],
        ),
        (row("C0000101", "user", phc), Exit::Invalid, vec!["line 3", "twice"]),
        (row("C0000102", "user", PIN), Exit::Invalid, vec!["line 3", "clear PIN"]),
        (
            format!("C00001,C0000102,NG,TEST,ng@legacy.com.hk,user,0101101200012AB9,2030-12-31,\"{phc}\",extra\n"),
            Exit::Invalid,
            vec!["line 3", "10 fields"],
        ),
        (
            "C00001,C0000102,NG,TEST,not-an-address,user,0101101200012AB9,2030-12-31,\n".into(),
            Exit::Invalid,
            vec!["line 3"],
        ),
        ("C00001,C0000102,NG,TEST,,user,SRN!,2030-12-31,\n".into(), Exit::Invalid, vec!["line 3", "srn"]),
        (
            "C00001,C0000102,NG,TEST,,user,0101101200012AB9,someday,\n".into(),
            Exit::Invalid,
            vec!["line 3", "certificate_expiry"],
        ),
        (
            "B01234,B0123401,NG,TEST,,user,0101101200012AB9,2030-12-31,\n".into(),
            Exit::Conflict,
            vec!["line 3", "B0123401", "taken"],
        ),
        (
            row("C0000102", "user", phc) + &row("C0000103", "user", phc) + &row("C0000104", "user", phc),
            Exit::Conflict,
            vec!["C00001", "quota full", "0 of 3 user accounts", "adds 4"],
        ),
    ];
    let before = w.state_and_credentials();
    for (i, (bad, exit, parts)) in cases.iter().enumerate() {
        let f = w.write(&format!("u{i}.csv"), &format!("{header}{good}{bad}"));
        w.before_launch(|| w.op(&["hkex", "import-smartcard-users", &f]).refused(*exit, parts));
        let (ids, quota) = w.listing("C00001");
        assert!(ids.is_empty(), "case {i}: {ids:?}");
        assert_eq!(quota["total_users"], 0);
    }
    assert_eq!(w.state_and_credentials(), before);

    // The same file without its bad line goes in whole; an ID retired later is never reused.
    let f = w.write("ok.csv", &format!("{header}{good}{}", row("C00001X1", "maker", phc)));
    assert_eq!(w.before_launch(|| w.op(&["hkex", "import-smartcard-users", &f]).ok().json())["imported"], 2);
    assert_eq!(w.listing("C00001").0, vec!["C0000101", "C00001X1"]);
    // A DA ID retired by DA3 delete is never imported again either.
    w.da3_add("B01234", "checker", "CHOI", "kw.choi@abc.com.hk").ok();
    w.op(&["hkex", "da3", "delete", "B01234X3"]).ok();
    let f = w.write(
        "again.csv",
        &format!("{header}B01234,B01234X3,LEE,KA YAN,,checker,0101101200012AB3,2030-12-31,\"{phc}\"\n"),
    );
    w.before_launch(|| {
        w.op(&["hkex", "import-smartcard-users", &f]).refused(Exit::Conflict, &["line 2", "B01234X3", "used before"])
    });
}

/// Issue 18 #1a: from the launch an import adds no DA and sets no PIN — before, the operator
/// imported a maker and a checker with PINs it chose and approved its own requests through
/// them — and every account it creates is told to its holder and named in its participant's
/// own audit report.
#[test]
fn from_the_launch_an_import_adds_no_da_and_sets_no_pin_and_tells_each_holder() {
    let w = World::with_operator();
    let header = "participant,user_id,surname,other_names,email,role,srn,certificate_expiry,pin_phc,access_channel\n";
    let row = |id: &str, role: &str, pin: &str| {
        format!(
            "B01234,{id},NG,TEST,{}@abc.com.hk,{role},0101101200012AB9,2030-12-31,\"{pin}\",PG\n",
            id.to_lowercase()
        )
    };
    let before = w.state_and_credentials();
    let f = w.write("da.csv", &format!("{header}{}{}", row("B01234Y1", "maker", ""), row("B01234Y2", "checker", "")));
    w.op(&["hkex", "import-smartcard-users", &f])
        .refused(Exit::NotPermitted, &["line 2", "DAs come only from eService DA3"]);
    let f = w.write("pin.csv", &format!("{header}{}", row("B0123420", "user", pin_phc())));
    w.op(&["hkex", "import-smartcard-users", &f]).refused(Exit::NotPermitted, &["line 2", "pin_phc", "its holder's"]);
    assert_eq!(w.state_and_credentials(), before, "nothing imported");

    // Without a PIN a PG user may still be migrated: the holder is told, the firm's report says so.
    let f = w.write("ok.csv", &format!("{header}{}{}", row("B0123420", "user", ""), row("B0123421", "user", "")));
    assert_eq!(w.op(&["hkex", "import-smartcard-users", &f]).ok().json()["imported"], 2);
    for id in ["b0123420", "b0123421"] {
        let mail = w.mails_to(&format!("{id}@abc.com.hk"));
        assert!(mail.len() == 1 && mail[0].contains("registered your CCASS/CCMS account"), "{mail:?}");
    }
    w.first_time_app(MAKER);
    let report = w.as_user(MAKER, &["report", "audit"]).ok().json();
    let rows = report["audit"].as_array().expect("audit rows");
    let created = rows.iter().find(|e| e["action"] == "migration.users-created").expect("the participant's row");
    assert!(
        created["detail"].to_string().contains("B0123420") && created["detail"].to_string().contains("B0123421"),
        "{created}"
    );
}

#[test]
fn a_migration_file_reports_every_fault_with_its_line_and_imports_nothing() {
    let w = World::with_operator();
    w.participant_add("C00001", "Legacy", "hkscc-cp", 2).ok();
    let header = "participant,user_id,surname,other_names,email,role,srn,certificate_expiry\r\n";
    let rows = [
        "C00001,C0000101,PUN,TEST,,user,0101101200012AB4,2030-12-31",
        "C00001,C0000102,NG,TEST,not-an-address,user,0101101200012AB9,2030-12-31",
        "C00001,C0000103,OR,TEST,,user,0101101200012AB8,someday",
        "C00001,C0000101,PUN,TEST,,user,0101101200012AB4,2030-12-31",
        "B01234,B0123401,NG,TEST,,user,0101101200012AB9,2030-12-31",
        "C00001,C0000104,LI,TEST,,user,0101101200012AB7,2030-12-31",
        "C00001,C0000105,LI,TEST,,user,0101101200012AB6,2030-12-31",
    ];
    let f = w.write("faults.csv", &format!("{header}{}\r\n", rows.join("\r\n")));
    let before = w.state_and_credentials();
    let r = w.op(&["hkex", "import-smartcard-users", &f]).expect(Exit::Invalid);
    let err: Value = serde_json::from_str(r.stderr.lines().last().expect("an error")).expect("JSON");
    let faults: Vec<&str> =
        err["error"]["faults"].as_array().expect("faults").iter().filter_map(Value::as_str).collect();
    let lines: Vec<&str> = faults.iter().map(|f| f.split(':').next().unwrap_or_default()).collect();
    assert_eq!(lines, ["line 3", "line 4", "line 5", "line 6"], "{faults:#?}");
    assert!(faults[2].contains("twice (also line 2)") && faults[3].contains("taken"), "{faults:#?}");
    assert_eq!(w.state_and_credentials(), before, "nothing imported");
    // Without those rows, the quota of 2 is the one fault left, named with its first line.
    let f = w.write("over.csv", &format!("{header}{}\r\n{}\r\n{}\r\n", rows[0], rows[5], rows[6]));
    w.op(&["hkex", "import-smartcard-users", &f])
        .refused(Exit::Conflict, &["line 2", "C00001", "quota full", "of 2 user accounts", "adds 3", "DA4"]);
    assert_eq!(w.state_and_credentials(), before);
}

// ---------------------------------------------------------------------------------------
// Reports for auditors

/// A JSON string, or "" for null; anything else fails.
#[track_caller]
fn text_or_null(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        _ => panic!("neither a string nor null: {v}"),
    }
}

fn findings(v: &Value) -> Vec<(String, String, String)> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                text_or_null(&f["participant_id"]),
                text_or_null(&f["user_id"]), // null: a finding about the participant itself
                text_or_null(&f["finding"]),
            )
        })
        .collect()
}

#[test]
fn readiness_report_names_what_blocks_2fa() {
    let w = World::with_operator();
    let f = w.write("p.csv", "id,name,house,max_users,domains\nC00001,Legacy,hkscc-cp,10,legacy.com.hk\n");
    w.op(&["hkex", "participant", "import", &f]).ok();
    let f = w.write(
        "u.csv",
        &format!(
            "participant,user_id,surname,other_names,email,role,srn,certificate_expiry,pin_phc\n\
             C00001,C00001X1,MA,KIT,kit.ma@legacy.com.hk,maker,0101101200012AB1,2030-12-31,\"{}\"\n\
             C00001,C0000101,PUN,TEST,,user,0101101200012AB4,2030-12-31,\n",
            pin_phc()
        ),
    );
    w.before_launch(|| w.op(&["hkex", "import-smartcard-users", &f]).ok());

    let v = w.op(&["report", "readiness"]).ok().json();
    let all = findings(&v);
    let has = |p: &str, u: &str, f: &str| all.contains(&(p.to_string(), u.to_string(), f.to_string()));
    assert!(has("B01234", "B0123403", "group-address"), "{all:?}");
    assert!(has("C00001", "C0000101", "no-email"), "{all:?}");
    assert!(has("C00001", "C0000101", "smartcard-only"), "{all:?}");
    assert!(has("C00001", "C00001X1", "smartcard-only"), "{all:?}");
    assert!(has("C00001", "", "da-minimum-not-met"), "{all:?}");
    assert!(!has("B01234", "", "da-minimum-not-met"), "B01234 has a maker and two checkers: {all:?}");
    assert!(has("B01234", "B0123401", "not-initialised"), "{all:?}");
    assert_eq!(v["summary"]["no-email"], 1, "{v}");

    let mine = findings(&w.op(&["report", "readiness", "--participant", "B01234"]).ok().json());
    assert!(!mine.is_empty() && mine.iter().all(|(p, _, _)| p == "B01234"), "{mine:?}");
}

#[test]
fn locked_and_audit_reports() {
    let w = World::with_operator();
    assert_eq!(w.op(&["report", "locked"]).ok().json()["locked"], json!([]));
    w.first_time_app("B0123401");
    assert_eq!(w.wrong_passwords("B0123401", 5), LOCK_ON_THE_FIFTH);
    let v = w.op(&["report", "locked"]).ok().json();
    assert_eq!(v["locked"].as_array().map(|a| a.len()), Some(1), "{v}");
    assert_eq!(v["locked"][0]["user_id"], "B0123401");
    assert!(v["locked"][0]["unlock_by"].as_str().is_some_and(|u| u.contains("Delegated Administrator")), "{v}");

    w.da3_add("B01234", "checker", "CHOI", "kw.choi@abc.com.hk").ok();
    let audit = w.op(&["report", "audit", "--from", "2026-11-23", "--to", "2026-11-23"]).ok().json();
    let rows = audit["audit"].as_array().expect("rows");
    let actions: Vec<&str> = rows.iter().filter_map(|r| r["action"].as_str()).collect();
    for a in ["signin.ok", "signin.fail.password", "account.locked", "da3.add"] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    let empty = w.op(&["report", "audit", "--from", "2026-11-24", "--to", "2026-11-30"]).ok().json();
    assert_eq!(empty["audit"], json!([]));
    w.op(&["report", "audit", "--from", "2026-11-24", "--to", "2026-11-23"]).expect(Exit::Invalid);

    let csv = w.raw_as(OPERATOR, &["--format", "csv", "report", "audit", "--from", "2026-11-23"]).ok();
    let mut lines = csv.stdout.lines();
    assert_eq!(lines.next(), Some("seq,at,actor,action,subject,participant_id,detail,via"));
    assert!(lines.count() >= rows.len(), "{}", csv.stdout);
}

#[test]
fn the_exchange_adds_operators_and_read_only_auditors_and_resets_them() {
    let w = World::with_operator();
    assert_eq!(w.account_add("auditor", "AUDIT", "ONE", "audit@hkex.example").ok().json()["user_id"], "HKEXAU01");
    assert_eq!(w.account_add("operator", "OPS", "TWO", "ops2@hkex.example").ok().json()["user_id"], "HKEXOP02");
    w.account_add("maker", "X", "Y", "x@hkex.example").refused(Exit::Invalid, &["operator or auditor"]);

    // The auditor reads (listing, reports, audit) but changes nothing.
    w.first_time_app("HKEXAU01");
    let listing = w.as_user("HKEXAU01", &["listing", "--participant", "B01234"]).ok().json();
    assert_eq!(listing["quota"]["max_users"], 70);
    w.as_user("HKEXAU01", &["report", "readiness"]).ok();
    w.as_user("HKEXAU01", &["hkex", "da4", "--participant", "B01234", "--accounts", "1"])
        .refused(Exit::NotPermitted, &[]);
    w.as_user("HKEXAU01", &["hkex", "settings", "set", "service-hours", "off"]).refused(Exit::NotPermitted, &[]);

    // A locked auditor is reset by an operator: its next logon is a first-time logon.
    assert_eq!(w.wrong_passwords("HKEXAU01", 5).last(), Some(&Exit::Locked));
    w.op(&["hkex", "account", "reset", OPERATOR]).refused(Exit::NotPermitted, &["one-handed"]);
    w.op(&["hkex", "account", "reset", "B01234X1"]).refused(Exit::Invalid, &["DA3"]);
    w.op(&["hkex", "account", "reset", "HKEXAU01"]).ok();
    w.advance(secs(30));
    // The old password is gone.
    w.login("HKEXAU01").refused(Exit::Auth, &["wrong password"]);
    w.first_time_app("HKEXAU01");
}
