//! The exchange operator's side (SPEC §3 smartcard and service hours, §5, §8; seed 4.1, 4.3,
//! 5, 6): eServices DA3 and DA4, `da assign`, service hours as sign-in meets them, smartcard
//! sign-in around decommissioning, migration imports validated whole, and auditor reports.
//!
//! Each test has its own database (see `hkex_support`) and asserts the exit code and the state
//! left behind; a refusal must leave the state exactly as it was.

use crate::hkex_support::{pin_phc, Exchange, OPERATOR, PASSWORD, PIN};
use serde_json::{json, Value};

/// `hkex da3 add` as the operator.
fn da3_add(ex: &Exchange, participant: &str, role: &str, surname: &str, email: &str) -> crate::hkex_support::Out {
    ex.op(&[
        "hkex",
        "da3",
        "add",
        "--participant",
        participant,
        "--role",
        role,
        "--surname",
        surname,
        "--other-names",
        "TEST",
        "--email",
        email,
    ])
}

/// The role column of a user, straight from the database.
fn role_of(ex: &Exchange, user: &str) -> String {
    ex.sql(&format!("SELECT role FROM users WHERE user_id = '{user}'"))
}

fn status_of(ex: &Exchange, user: &str) -> String {
    ex.sql(&format!("SELECT status FROM users WHERE user_id = '{user}'"))
}

// ---------------------------------------------------------------------------------------
// DA3

#[test]
fn da3_add_assigns_the_next_da_ids_with_references_and_a_mail() {
    let ex = Exchange::with_operator();
    let first = da3_add(&ex, "B01234", "checker", "CHOI", "kw.choi@abc.com.hk").ok().json();
    assert_eq!(first, json!({ "da_id": "B01234X4", "reference": "DA3_00000001", "status": "Completed" }));
    let second = da3_add(&ex, "b01234", "maker", "YIP", "sy.yip@abc.com.hk").ok().json();
    assert_eq!(second, json!({ "da_id": "B01234X5", "reference": "DA3_00000002", "status": "Completed" }));

    // Each new DA is told, by e-mail, which eService reference completed and its user ID.
    let mail = ex.mails_to("kw.choi@abc.com.hk");
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0].contains("DA3_00000001") && mail[0].contains("B01234X4"), "{}", mail[0]);
    assert!(mail[0].contains("Completed"), "{}", mail[0]);
    let mail = ex.mails_to("sy.yip@abc.com.hk");
    assert!(mail.len() == 1 && mail[0].contains("DA3_00000002") && mail[0].contains("B01234X5"), "{mail:?}");

    assert_eq!(role_of(&ex, "B01234X4"), "checker");
    assert_eq!(role_of(&ex, "B01234X5"), "maker");
    let (ids, quota) = ex.listing("B01234");
    assert!(ids.contains(&"B01234X4".to_string()) && ids.contains(&"B01234X5".to_string()), "{ids:?}");
    assert_eq!(quota["total_users"], 8);
    assert_eq!(quota["delegated_administrators"], 5);
    assert_eq!(
        ex.sql("SELECT reference, action, subject FROM eservices ORDER BY 1"),
        "DA3_00000001|add|B01234X4\nDA3_00000002|add|B01234X5"
    );

    // A business-user role, an unknown participant, a bad address: refused, nothing added.
    let before = ex.state();
    da3_add(&ex, "B01234", "user", "NG", "ng@abc.com.hk").refused(6, &["maker or checker"]);
    da3_add(&ex, "B09999", "maker", "NG", "ng@abc.com.hk").expect(5);
    da3_add(&ex, "B01234", "maker", "NG", "not-an-address").expect(6);
    assert_eq!(ex.state(), before);
}

#[test]
fn da3_add_on_a_full_quota_is_a_conflict_naming_da4() {
    let ex = Exchange::with_operator();
    ex.op(&[
        "hkex",
        "participant",
        "add",
        "--id",
        "C00001",
        "--name",
        "Small Sec",
        "--house",
        "hkscc-cp",
        "--max-users",
        "1",
    ])
    .ok();
    assert_eq!(da3_add(&ex, "C00001", "maker", "MAN", "man@small.example").ok().json()["da_id"], "C00001X1");

    let before = ex.state();
    da3_add(&ex, "C00001", "checker", "CHAN", "chan@small.example").refused(7, &["quota full", "DA4"]);
    assert_eq!(ex.state(), before, "a refused DA3 add changes nothing (no user, no reference)");
    assert!(ex.mails_to("chan@small.example").is_empty());

    // DA4 grants an account; the same DA3 then goes through, with the next DA3 reference.
    ex.op(&["hkex", "da4", "--participant", "C00001", "--accounts", "1"]).ok();
    let v = da3_add(&ex, "C00001", "checker", "CHAN", "chan@small.example").ok().json();
    assert_eq!(v["da_id"], "C00001X2");
    assert_eq!(v["reference"], "DA3_00000002");
}

#[test]
fn da3_add_follows_the_da_id_pattern_of_each_house_until_it_runs_out() {
    let ex = Exchange::with_operator();
    let add = |id: &str, house: &str| {
        ex.op(&["hkex", "participant", "add", "--id", id, "--name", "Firm", "--house", house, "--max-users", "40"])
            .ok();
    };
    add("HKABC", "hkcc");
    add("BNK999", "hkscc-db");
    assert_eq!(da3_add(&ex, "HKABC", "maker", "A", "a@hkabc.example").ok().json()["da_id"], "HKABC1X1");
    assert_eq!(da3_add(&ex, "BNK999", "maker", "B", "b@bnk.example").ok().json()["da_id"], "BNK999X1");
    // An HKSCC participant has 27 DA IDs (X1-X9, Y1-Y9, Z1-Z9); the 28th DA3 add finds none.
    for n in 2..=27 {
        let v = da3_add(&ex, "BNK999", "checker", "C", "c@bnk.example").ok().json();
        assert_eq!(v["reference"], format!("DA3_{:08}", n + 1));
    }
    assert_eq!(ex.sql("SELECT MAX(user_id) FROM users WHERE participant_id = 'BNK999'"), "BNK999Z9");
    let before = ex.state();
    da3_add(&ex, "BNK999", "checker", "C", "c@bnk.example").refused(7, &["no free DA IDs"]);
    assert_eq!(ex.state(), before);
    ex.op(&[
        "hkex",
        "participant",
        "add",
        "--id",
        "BNK999",
        "--name",
        "Again",
        "--house",
        "hkscc-db",
        "--max-users",
        "1",
    ])
    .refused(7, &["already exists"]);
}

#[test]
fn da3_unlock_of_a_locked_da_makes_the_next_logon_a_first_time_logon() {
    let mut ex = Exchange::with_operator();
    ex.first_time_logon("B01234X1");
    assert_eq!(ex.wrong_passwords("B01234X1", 5), vec![3, 3, 3, 3, 4], "the 5th wrong password locks");
    ex.advance(30);
    ex.login("B01234X1").refused(4, &["locked", "DA3"]);
    let locked = ex.op(&["report", "locked"]).ok().json();
    assert_eq!(locked["locked"][0]["user_id"], "B01234X1", "{locked}");

    let v = ex.op(&["hkex", "da3", "unlock", "B01234X1"]).ok().json();
    assert_eq!(v["reference"], "DA3_00000001");
    assert_eq!(v["status"], "Completed");
    assert_eq!(
        ex.sql("SELECT locked_at IS NULL, password_phc IS NULL FROM credentials WHERE user_id = 'B01234X1'"),
        "1|1"
    );
    let mail = ex.mails_to("tm.chan@abc.com.hk");
    assert!(mail.iter().any(|m| m.contains("DA3_00000001") && m.contains("unlocked")), "{mail:?}");

    // The old password is gone: the next logon is a first-time logon, and it works.
    ex.advance(30);
    ex.login("B01234X1").refused(3, &["no password yet"]);
    ex.advance(30);
    let v = ex.first_time_logon("B01234X1");
    assert_eq!(v["user_id"], "B01234X1");
    ex.as_user("B01234X1", &["whoami"]).ok();
}

#[test]
fn da3_reset_ends_the_session_and_forces_a_first_time_logon() {
    let mut ex = Exchange::with_operator();
    ex.first_time_logon("B01234X2");
    ex.as_user("B01234X2", &["whoami"]).ok();

    ex.op(&["hkex", "da3", "reset", "B01234X2"]).ok();
    ex.as_user("B01234X2", &["whoami"]).refused(3, &["ended"]);
    assert_eq!(
        ex.sql("SELECT password_phc IS NULL, otp_channel IS NULL, otp_confirmed FROM credentials WHERE user_id = 'B01234X2'"),
        "1|1|0"
    );
    ex.advance(30);
    ex.login("B01234X2").refused(3, &["no password yet"]);
    ex.advance(30);
    ex.first_time_logon("B01234X2");
    ex.as_user("B01234X2", &["whoami"]).ok();

    // Reset also unlocks: a locked DA comes back through a first-time logon.
    ex.first_time_logon("B01234X3");
    assert_eq!(ex.wrong_passwords("B01234X3", 5), vec![3, 3, 3, 3, 4]);
    ex.op(&["hkex", "da3", "reset", "B01234X3"]).ok();
    assert_eq!(ex.sql("SELECT locked_at IS NULL FROM credentials WHERE user_id = 'B01234X3'"), "1");
    ex.advance(30);
    ex.login("B01234X3").refused(3, &["no password yet"]);
    ex.first_time_logon("B01234X3");

    // DA3 maintains DAs only.
    let before = ex.state();
    ex.op(&["hkex", "da3", "reset", "B0123401"]).refused(6, &["not a Delegated Administrator"]);
    ex.op(&["hkex", "da3", "unlock", "B01234X9"]).expect(6);
    assert_eq!(ex.state(), before);
}

#[test]
fn da3_disable_keeps_the_da_minimum_and_ends_the_disabled_das_session() {
    let mut ex = Exchange::with_operator();
    ex.first_time_logon("B01234X2");

    let before = ex.state();
    ex.op(&["hkex", "da3", "disable", "B01234X2"]).refused(5, &["two DA checkers"]);
    ex.op(&["hkex", "da3", "disable", "B01234X1"]).refused(5, &["one DA maker"]);
    assert_eq!(ex.state(), before);
    ex.as_user("B01234X2", &["whoami"]).ok();

    assert_eq!(da3_add(&ex, "B01234", "checker", "CHOI", "kw.choi@abc.com.hk").ok().json()["da_id"], "B01234X4");
    let v = ex.op(&["hkex", "da3", "disable", "B01234X2"]).ok().json();
    assert_eq!(v["reference"], "DA3_00000002");
    assert_eq!(status_of(&ex, "B01234X2"), "DISABLED");
    // Its open session ends at once, and it cannot sign in again.
    ex.as_user("B01234X2", &["whoami"]).refused(3, &["ended"]);
    ex.advance(30);
    ex.login("B01234X2").refused(4, &["disabled"]);
    // Disabled DAs do not count: X3 and X4 are now the two checkers, and neither may go.
    ex.op(&["hkex", "da3", "disable", "B01234X3"]).refused(5, &["two DA checkers"]);
    ex.op(&["hkex", "da3", "disable", "B01234X2"]).refused(7, &["already DISABLED"]);

    let v = ex.op(&["hkex", "da3", "enable", "B01234X2"]).ok().json();
    assert_eq!(v["action"], "enable");
    assert_eq!(status_of(&ex, "B01234X2"), "ENABLED");
    ex.op(&["hkex", "da3", "enable", "B01234X2"]).refused(7, &["already ENABLED"]);
    ex.advance(30);
    ex.login("B01234X2").ok();
    ex.as_user("B01234X2", &["whoami"]).ok();
}

#[test]
fn da3_delete_keeps_the_da_minimum_and_never_reuses_the_id() {
    let mut ex = Exchange::with_operator();
    let before = ex.state();
    ex.op(&["hkex", "da3", "delete", "B01234X3"]).refused(5, &["two DA checkers"]);
    ex.op(&["hkex", "da3", "delete", "B01234X1"]).refused(5, &["one DA maker"]);
    assert_eq!(ex.state(), before);

    da3_add(&ex, "B01234", "checker", "CHOI", "kw.choi@abc.com.hk").ok();
    ex.first_time_logon("B01234X3");
    ex.as_user("B01234X3", &["whoami"]).ok();
    let v = ex.op(&["hkex", "da3", "delete", "B01234X3"]).ok().json();
    assert_eq!(v["reference"], "DA3_00000002");
    let (ids, quota) = ex.listing("B01234");
    assert!(!ids.contains(&"B01234X3".to_string()), "{ids:?}");
    assert_eq!(quota["delegated_administrators"], 3);
    assert_eq!(ex.sql("SELECT user_id FROM retired_user_ids"), "B01234X3");
    ex.as_user("B01234X3", &["whoami"]).expect(3);
    ex.advance(30);
    ex.login("B01234X3").refused(3, &["unknown user"]);

    // The deleted ID is never handed out again: the next DA gets X5, not X3.
    assert_eq!(da3_add(&ex, "B01234", "maker", "YIP", "sy.yip@abc.com.hk").ok().json()["da_id"], "B01234X5");
    assert_eq!(da3_add(&ex, "B01234", "maker", "KO", "ko@abc.com.hk").ok().json()["da_id"], "B01234X6");
    ex.op(&["hkex", "da3", "delete", "B01234X3"]).expect(6);
}

#[test]
fn da3_assign_da_only_after_smartcard_decommissioning() {
    let ex = Exchange::with_operator();
    ex.op(&["hkex", "settings", "set", "decommission-date", "2027-01-01"]).ok();
    let before = ex.state();
    ex.op(&["hkex", "da3", "assign-da", "B0123401", "--role", "checker"])
        .refused(5, &["decommissioning", "2027-01-01"]);
    assert_eq!(ex.state(), before);
    assert_eq!(role_of(&ex, "B0123401"), "user");

    // Decommissioning cannot come before the 2FA launch (2023-06-12).
    ex.op(&["hkex", "settings", "set", "decommission-date", "2023-01-01"]).refused(6, &["launch"]);
    ex.op(&["hkex", "settings", "set", "decommission-date", "2023-09-04"]).ok();
    let v = ex.op(&["hkex", "da3", "assign-da", "B0123401", "--role", "checker"]).ok().json();
    assert_eq!(
        v,
        json!({ "user_id": "B0123401", "role": "checker", "reference": "DA3_00000001", "status": "Completed" })
    );
    assert_eq!(role_of(&ex, "B0123401"), "checker");
    let v = ex.op(&["hkex", "participant", "show", "B01234"]).ok().json();
    assert_eq!(v["enabled_da_checkers"], 3);
    // Now a third checker exists, so one of the original two may be disabled.
    ex.op(&["hkex", "da3", "disable", "B01234X2"]).ok();

    ex.op(&["hkex", "da3", "assign-da", "B0123402", "--role", "maker"]).ok();
    assert_eq!(role_of(&ex, "B0123402"), "maker");
    ex.op(&["hkex", "da3", "assign-da", "B0123402", "--role", "checker"]).refused(7, &["already"]);
    ex.op(&["hkex", "da3", "assign-da", "B0123403", "--role", "user"]).expect(6);
    assert_eq!(role_of(&ex, "B0123403"), "user");
}

#[test]
fn only_the_operator_runs_hkex_commands() {
    let mut ex = Exchange::with_operator();
    ex.first_time_logon("B01234X1");
    ex.first_time_logon("B0123401");
    let before = ex.state();
    let attempts: [&[&str]; 6] = [
        &[
            "hkex",
            "da3",
            "add",
            "--participant",
            "B01234",
            "--role",
            "maker",
            "--surname",
            "A",
            "--other-names",
            "B",
            "--email",
            "a@abc.com.hk",
        ],
        &["hkex", "da3", "unlock", "B01234X2"],
        &["hkex", "da4", "--participant", "B01234", "--accounts", "3"],
        &["hkex", "settings", "set", "service-hours", "off"],
        &["hkex", "holiday", "add", "2026-12-25"],
        &["hkex", "participant", "add", "--id", "C00001", "--name", "X", "--house", "hkscc-cp", "--max-users", "5"],
    ];
    for args in attempts {
        ex.as_user("B01234X1", args).refused(5, &["EXCHANGE OPERATOR"]);
        ex.as_user("B0123401", args).expect(5);
        ex.dms(args).expect(3); // nobody signed in
    }
    ex.as_user("B01234X1", &["hkex", "participant", "list"]).expect(5);
    assert_eq!(ex.state(), before);
}

// ---------------------------------------------------------------------------------------
// DA4

#[test]
fn da4_raises_the_maximum_and_records_the_fee() {
    let ex = Exchange::with_operator();
    let v = ex.op(&["hkex", "da4", "--participant", "B01234", "--accounts", "3"]).ok().json();
    assert_eq!(v["reference"], "DA4_00000001");
    assert_eq!(v["max_users"], 73);
    assert_eq!(v["fee_hkd"], 750);
    assert_eq!(v["status"], "Completed");
    assert_eq!(ex.op(&["hkex", "participant", "show", "B01234"]).ok().json()["max_users"], 73);
    assert_eq!(ex.listing("B01234").1["max_users"], 73);
    // The participant's DAs hear that the eService is Completed.
    let mail = ex.mails_to("tm.chan@abc.com.hk");
    assert!(mail.iter().any(|m| m.contains("DA4_00000001") && m.contains("73")), "{mail:?}");

    let v = ex.op(&["hkex", "da4", "--participant", "B01234", "--accounts", "2"]).ok().json();
    assert_eq!(
        (v["reference"].as_str(), v["max_users"].as_i64(), v["fee_hkd"].as_i64()),
        (Some("DA4_00000002"), Some(75), Some(500))
    );

    let fees = ex.op(&["report", "da4-fees"]).ok().json();
    let rows = fees["da4"].as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["reference"], "DA4_00000001");
    assert_eq!(rows[0]["accounts"], 3);
    assert_eq!(fees["total_fee_hkd"], "1,250.00");
    let csv = ex.run(Some(OPERATOR), &["--format", "csv", "report", "da4-fees"], None).ok();
    assert_eq!(csv.stdout.lines().next(), Some("reference,participant_id,accounts,fee_hkd,processed_at"));
    assert_eq!(csv.stdout.lines().count(), 3, "header and two rows, no footer:\n{}", csv.stdout);

    // No accounts, or more than the ID space (1,296 IDs for an HKSCC participant): refused.
    let before = ex.state();
    ex.op(&["hkex", "da4", "--participant", "B01234", "--accounts", "0"]).refused(6, &["--accounts"]);
    ex.op(&["hkex", "da4", "--participant", "B01234", "--accounts=-1"]).expect(6);
    ex.op(&["hkex", "da4", "--participant", "B01234", "--accounts", "1222"]).refused(6, &["1297", "1296"]);
    assert_eq!(ex.state(), before);
    let v = ex.op(&["hkex", "da4", "--participant", "B01234", "--accounts", "1221"]).ok().json();
    assert_eq!(v["max_users"], 1296);
    assert_eq!(v["reference"], "DA4_00000003");
    let before = ex.state();
    ex.op(&["hkex", "da4", "--participant", "B01234", "--accounts", "1"]).expect(6);
    ex.op(&["hkex", "da4", "--participant", "B09999", "--accounts", "1"]).expect(5);
    assert_eq!(ex.state(), before);
    let total = ex.op(&["report", "da4-fees", "--participant", "B01234"]).ok().json()["total_fee_hkd"].clone();
    assert_eq!(total, "306,500.00");
}

#[test]
fn da4_fees_report_periods_are_hong_kong_days() {
    let mut ex = Exchange::with_operator();
    ex.op(&["hkex", "da4", "--participant", "B01234", "--accounts", "1"]).ok();
    // 00:30 on Tuesday in Hong Kong is still Monday in UTC; the operator works at any hour.
    ex.at("2026-11-24T00:30:00+08:00");
    ex.login(OPERATOR).ok();
    ex.op(&["hkex", "da4", "--participant", "B01234", "--accounts", "4"]).ok();
    let refs = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["report", "da4-fees"];
        all.extend_from_slice(args);
        let v = ex.op(&all).ok().json();
        v["da4"].as_array().expect("rows").iter().map(|r| r["reference"].as_str().unwrap_or("").to_string()).collect()
    };
    assert_eq!(refs(&["--to", "2026-11-23"]), vec!["DA4_00000001"]);
    assert_eq!(refs(&["--from", "2026-11-24"]), vec!["DA4_00000002"]);
    assert_eq!(refs(&["--from", "2026-11-23", "--to", "2026-11-24"]).len(), 2);
    let v = ex.op(&["report", "da4-fees", "--from", "2026-11-24"]).ok().json();
    assert_eq!(v["total_fee_hkd"], "1,000.00");
}

// ---------------------------------------------------------------------------------------
// da assign (seed 5.1)

#[test]
fn da_assign_only_after_decommissioning_and_never_by_the_da_concerned() {
    let mut ex = Exchange::with_operator();
    ex.op(&["hkex", "settings", "set", "decommission-date", "2027-01-01"]).ok();
    ex.first_time_logon("B01234X1");
    let before = ex.state();
    ex.as_user("B01234X1", &["da", "assign", "B01234X2", "--groups", "11,A"]).refused(5, &["decommissioning"]);
    assert_eq!(ex.state(), before);

    ex.op(&["hkex", "settings", "set", "decommission-date", "2023-09-04"]).ok();
    let v = ex.as_user("B01234X1", &["da", "assign", "B01234X2", "--groups", "11,A"]).ok().json();
    assert_eq!(v["status"], "PENDING");
    let id = v["request_id"].as_i64().expect("request_id").to_string();

    // The DA concerned cannot authorise its own groups (no one-handed operation).
    ex.first_time_logon("B01234X2");
    ex.advance(30);
    let code = ex.totp_now("B01234X2");
    let pw = format!("{PASSWORD}\n");
    ex.as_user_stdin("B01234X2", &["request", "approve", &id, "--otp", &code, "--password-stdin", "--yes"], &pw)
        .refused(5, &["one-handed"]);
    let groups =
        |ex: &Exchange| ex.as_user("B01234X1", &["user", "enquire", "B01234X2"]).ok().json()["user_groups"].clone();
    assert_eq!(groups(&ex), json!([]));
    // Nor inline, at the maker's terminal.
    ex.advance(30);
    let code = ex.totp_now("B01234X2");
    ex.as_user_stdin(
        "B01234X1",
        &["da", "assign", "B01234X2", "--groups", "C", "--checker", "B01234X2", "--otp", &code, "--password-stdin"],
        &pw,
    )
    .refused(5, &["one-handed"]);

    ex.first_time_logon("B01234X3");
    // The rule is checked again at approval: with decommissioning moved back into the
    // future, the pending request cannot be authorised.
    ex.op(&["hkex", "settings", "set", "decommission-date", "2027-01-01"]).ok();
    ex.advance(30);
    let code = ex.totp_now("B01234X3");
    ex.as_user_stdin("B01234X3", &["request", "approve", &id, "--otp", &code, "--password-stdin", "--yes"], &pw)
        .refused(5, &["decommissioning"]);
    assert_eq!(groups(&ex), json!([]));
    ex.op(&["hkex", "settings", "set", "decommission-date", "2023-09-04"]).ok();
    ex.advance(30);
    let code = ex.totp_now("B01234X3");
    ex.as_user_stdin("B01234X3", &["request", "approve", &id, "--otp", &code, "--password-stdin", "--yes"], &pw).ok();
    assert_eq!(groups(&ex), json!(["11", "A"]));
    let show = ex.as_user("B01234X1", &["request", "show", &id]).ok().json();
    assert_eq!(show["status"], "APPROVED", "{show}");
    assert_eq!(show["checker"], "B01234X3", "{show}");
    ex.as_user("B01234X1", &["da", "assign", "B01234X3", "--groups", "11,QQ"]).expect(6);
    // Business users are not DAs: `da assign` is for DAs only.
    ex.as_user("B01234X1", &["da", "assign", "B0123401", "--groups", "11"]).expect(6);
}

// ---------------------------------------------------------------------------------------
// Service hours (SPEC §3), as sign-in meets them

/// A demo exchange with the operator, business user B0123401 and DA maker B01234X1 through
/// their first-time logons (Monday 10:00). B0123402 and B01234X2 stay uninitialised: their
/// `otp request` is the cheap probe of the hours.
fn hours_exchange() -> Exchange {
    let mut ex = Exchange::with_operator();
    ex.first_time_logon("B0123401");
    ex.first_time_logon("B01234X1");
    ex
}

#[test]
fn weekdays_open_at_seven_for_terminal_and_dms() {
    let mut ex = hours_exchange();
    ex.at("2026-11-24T06:59:59+08:00");
    let before = ex.state();
    ex.otp_request("B0123402").refused(4, &["outside service hours", "Terminal", "reopens Tue 24-Nov-2026 07:00 HKT"]);
    ex.otp_request("B01234X2").refused(4, &["outside service hours", "DMS", "reopens Tue 24-Nov-2026 07:00 HKT"]);
    ex.login("B0123401").refused(4, &["reopens Tue 24-Nov-2026 07:00 HKT"]);
    ex.login("B01234X1").refused(4, &["reopens Tue 24-Nov-2026 07:00 HKT"]);
    assert_eq!(ex.state(), before, "a refusal for the hours counts no failure and changes nothing");

    ex.at("2026-11-24T07:00:00+08:00");
    ex.otp_request("B0123402").ok();
    ex.otp_request("B01234X2").ok();
    assert_eq!(ex.login("B0123401").ok().json()["role"], "user");
    assert_eq!(ex.login("B01234X1").ok().json()["role"], "maker");
}

#[test]
fn dms_closes_at_nineteen_and_the_terminal_at_twenty_one_thirty() {
    let mut ex = hours_exchange();
    ex.at("2026-11-23T18:59:00+08:00");
    ex.login("B01234X1").ok();
    ex.otp_request("B01234X2").ok();
    ex.as_user("B01234X1", &["listing"]).ok();

    ex.at("2026-11-23T19:00:00+08:00");
    ex.login("B01234X1").refused(4, &["DMS", "reopens Tue 24-Nov-2026 07:00 HKT"]);
    ex.otp_request("B01234X3").refused(4, &["reopens Tue 24-Nov-2026 07:00 HKT"]);
    // A DA signed in before closing is held to the hours too.
    ex.as_user("B01234X1", &["listing"]).refused(4, &["outside service hours"]);
    // The terminal is still open for business users.
    ex.login("B0123401").ok();
    ex.otp_request("B0123402").ok();

    ex.at("2026-11-23T21:29:59+08:00");
    ex.otp_request("B0123403").ok();
    ex.at("2026-11-23T21:30:00+08:00");
    ex.login("B0123401").refused(4, &["Terminal", "reopens Tue 24-Nov-2026 07:00 HKT"]);
    ex.at("2026-11-23T21:36:00+08:00");
    ex.otp_request("B0123402").refused(4, &["reopens Tue 24-Nov-2026 07:00 HKT"]);
}

#[test]
fn saturday_dms_is_open_nine_to_one_and_the_terminal_is_closed() {
    let mut ex = hours_exchange();
    ex.at("2026-11-28T08:59:59+08:00");
    ex.login("B01234X1").refused(4, &["reopens Sat 28-Nov-2026 09:00 HKT"]);
    ex.otp_request("B01234X2").refused(4, &["reopens Sat 28-Nov-2026 09:00 HKT"]);
    ex.at("2026-11-28T09:00:00+08:00");
    ex.login("B01234X1").ok();
    ex.otp_request("B01234X2").ok();
    // Business users: closed all Saturday, reopening on Monday.
    ex.login("B0123401").refused(4, &["Terminal", "reopens Mon 30-Nov-2026 07:00 HKT"]);
    ex.otp_request("B0123402").refused(4, &["reopens Mon 30-Nov-2026 07:00 HKT"]);
    ex.at("2026-11-28T12:59:00+08:00");
    ex.login("B01234X1").ok();
    ex.login("B0123401").expect(4);
    ex.at("2026-11-28T13:00:00+08:00");
    ex.login("B01234X1").refused(4, &["DMS", "reopens Mon 30-Nov-2026 07:00 HKT"]);
    ex.otp_request("B01234X3").expect(4);
}

#[test]
fn sunday_is_closed_to_users_and_das_but_not_to_the_operator() {
    let mut ex = hours_exchange();
    ex.at("2026-11-29T10:00:00+08:00");
    ex.login("B0123401").refused(4, &["reopens Mon 30-Nov-2026 07:00 HKT"]);
    ex.login("B01234X1").refused(4, &["reopens Mon 30-Nov-2026 07:00 HKT"]);
    ex.otp_request("B0123402").expect(4);
    ex.otp_request("B01234X2").expect(4);

    // The exchange operator is not bound by service hours.
    assert_eq!(ex.login(OPERATOR).ok().json()["role"], "operator");
    ex.op(&["hkex", "settings", "show"]).ok();
    // ... and may turn enforcement off: then a DA gets in on a Sunday.
    ex.op(&["hkex", "settings", "set", "service-hours", "off"]).ok();
    assert_eq!(ex.op(&["hkex", "settings", "show"]).ok().json()["service-hours"], "off");
    ex.login("B01234X1").ok();
    ex.as_user("B01234X1", &["listing"]).ok();
    ex.login("B0123401").ok();
    ex.op(&["hkex", "settings", "set", "service-hours", "on"]).ok();
    ex.advance(30);
    ex.login("B01234X1").expect(4);
    ex.op(&["hkex", "settings", "set", "service-hours", "sometimes"]).expect(6);
}

#[test]
fn a_holiday_closes_both_services_until_the_next_working_day() {
    let mut ex = hours_exchange();
    let v = ex.op(&["hkex", "holiday", "add", "2026-11-24", "--name", "Test Day"]).ok().json();
    assert_eq!(v["date"], "2026-11-24");
    ex.op(&["hkex", "holiday", "add", "2026-11-24"]).expect(7);
    let list = ex.op(&["hkex", "holiday", "list"]).ok().json();
    assert_eq!(list["holidays"], json!([{ "date": "2026-11-24", "name": "Test Day" }]));

    // The evening before already points past the holiday.
    ex.at("2026-11-23T19:30:00+08:00");
    ex.otp_request("B01234X2").refused(4, &["reopens Wed 25-Nov-2026 07:00 HKT"]);
    ex.at("2026-11-24T10:00:00+08:00");
    ex.login("B01234X1").refused(4, &["reopens Wed 25-Nov-2026 07:00 HKT"]);
    ex.login("B0123401").refused(4, &["reopens Wed 25-Nov-2026 07:00 HKT"]);
    ex.otp_request("B0123402").expect(4);
    // The holiday is a Hong Kong date: 23:30 UTC on Monday is already Tuesday 07:30 there.
    ex.at("2026-11-23T23:30:00Z");
    ex.otp_request("B01234X3").refused(4, &["reopens Wed 25-Nov-2026 07:00 HKT"]);
    ex.at("2026-11-24T10:00:00+08:00");

    // The operator works on holidays, and can take one back.
    ex.login(OPERATOR).ok();
    ex.op(&["hkex", "holiday", "remove", "2026-11-24"]).ok();
    ex.op(&["hkex", "holiday", "remove", "2026-11-24"]).expect(6);
    ex.advance(30);
    ex.login("B01234X1").ok();
    ex.login("B0123401").ok();
}

// ---------------------------------------------------------------------------------------
// Smartcard sign-in and migration (seed 4.3, 5, 6)

/// Participant C00001 (HKSCC CP, 10 users) imported from CSV, and five smartcard-era users
/// with PIN [`PIN`]: maker X1, checkers X2 and X3, users 01 and 02. Decommissioning is set in
/// the future.
fn smartcard_exchange() -> Exchange {
    let ex = Exchange::with_operator();
    ex.op(&["hkex", "settings", "set", "decommission-date", "2027-01-01"]).ok();
    let f = ex.write(
        "participants.csv",
        "id,name,house,max_users,domains\nC00001,Legacy Securities,hkscc-cp,10,legacy.com.hk\n",
    );
    assert_eq!(ex.op(&["hkex", "participant", "import", &f]).ok().json()["imported"], 1);
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
    let f = ex.write("smartcard.csv", &csv);
    let v = ex.op(&["hkex", "import-smartcard-users", &f]).ok().json();
    assert_eq!((v["imported"].as_i64(), v["participants"].as_i64()), (Some(5), Some(1)));
    ex
}

#[test]
fn smartcard_sign_in_works_until_decommissioning() {
    let ex = smartcard_exchange();
    let v = ex.smartcard("C0000101", PIN).ok().json();
    assert_eq!((v["user_id"].as_str(), v["method"].as_str()), (Some("C0000101"), Some("smartcard")));
    assert_eq!(ex.as_user("C0000101", &["whoami"]).ok().json()["user_id"], "C0000101");

    // A DA signs in with its smartcard and enquires: the smartcard fields, not the 2FA ones.
    ex.smartcard("C00001X1", PIN).ok();
    let e = ex.as_user("C00001X1", &["user", "enquire", "C0000101"]).ok().json();
    assert_eq!(e["srn"], "0101101200012AB4");
    assert_eq!(e["certificate_expiry_date"], "2029-06-29 12:00:00");
    assert!(e.get("locked").is_none() && e.get("otp_enabled").is_none(), "{e}");
    let e = ex.op(&["user", "enquire", "C00001X1"]).ok().json();
    assert_eq!(e["certificate_expiry_date"], "2030-12-31 23:59:59");
    // A DA of another participant may not look.
    let mut ex = ex;
    ex.first_time_logon("B01234X1");
    ex.as_user("B01234X1", &["user", "enquire", "C0000101"]).expect(5);

    // A PIN that is not 6-8 digits is bad input, not a failed attempt.
    ex.smartcard("C0000102", "12ab").expect(6);
    assert_eq!(ex.sql("SELECT failures FROM credentials WHERE user_id = 'C0000102'"), "");
}

#[test]
fn wrong_smartcard_pins_lock_the_account_for_smartcard_and_2fa() {
    let mut ex = smartcard_exchange();
    let codes: Vec<i32> = (0..5)
        .map(|_| {
            ex.advance(10);
            ex.smartcard("C0000101", "654321").code
        })
        .collect();
    assert_eq!(codes, vec![3, 3, 3, 3, 4], "the 5th wrong PIN locks");
    ex.smartcard("C0000101", PIN).refused(4, &["locked", "Delegated Administrator"]);
    ex.otp_request("C0000101").refused(4, &["locked"]);
    let locked = ex.op(&["report", "locked"]).ok().json();
    assert_eq!(locked["locked"].as_array().map(|a| a.len()), Some(1), "{locked}");
    assert_eq!(locked["locked"][0]["user_id"], "C0000101");

    // The other way round: locked through 2FA, the smartcard is refused too.
    ex.advance(60);
    ex.first_time_logon("C0000102");
    assert_eq!(ex.wrong_passwords("C0000102", 5), vec![3, 3, 3, 3, 4]);
    ex.smartcard("C0000102", PIN).refused(4, &["locked"]);
}

#[test]
fn after_decommissioning_only_the_pg_channel_keeps_smartcards() {
    let ex = smartcard_exchange();
    ex.sql("UPDATE users SET channel = 'PG' WHERE user_id = 'C0000102'");
    ex.op(&["hkex", "settings", "set", "decommission-date", "2026-11-23"]).ok();

    let before = ex.state();
    ex.smartcard("C0000101", PIN).refused(5, &["decommissioned", "2026-11-23"]);
    ex.smartcard("C00001X1", PIN).expect(5);
    assert_eq!(ex.state(), before);
    assert_eq!(ex.smartcard("C0000102", PIN).ok().json()["method"], "smartcard");

    // Enquire no longer shows the smartcard fields of a CST user...
    let e = ex.op(&["user", "enquire", "C0000101"]).ok().json();
    assert!(e.get("srn").is_none() && e.get("certificate_expiry_date").is_none(), "{e}");
    // ...but a PG user still signs in with its smartcard, so its fields stay.
    let e = ex.op(&["user", "enquire", "C0000102"]).ok().json();
    assert_eq!(e["access_channel"], "PG");
    assert_eq!(e["srn"], "0101101200012AB5", "{e}");
    assert_eq!(e["certificate_expiry_date"], "2029-06-30 23:59:59", "{e}");
}

#[test]
fn a_smartcard_whose_certificate_has_expired_is_refused() {
    let mut ex = smartcard_exchange();
    ex.op(&["hkex", "settings", "set", "decommission-date", "2031-06-30"]).ok();
    // C0000101's certificate is valid to Friday 2029-06-29 12:00:00, Hong Kong time.
    ex.at("2029-06-29T12:00:00+08:00");
    ex.smartcard("C0000101", PIN).ok();
    ex.at("2029-06-29T12:00:01+08:00");
    let before = ex.state();
    ex.smartcard("C0000101", PIN).refused(4, &["certificate", "expired", "2029-06-29 12:00:00"]);
    assert_eq!(ex.state(), before, "an expired certificate is not a wrong PIN: no failure is counted");
    ex.smartcard("C00001X1", PIN).ok(); // valid to 31-Dec-30 23:59:59
}

#[test]
fn users_without_a_smartcard_are_refused_smartcard_sign_in() {
    let ex = smartcard_exchange();
    let before = ex.state();
    // Demo users and DA3 DAs were created after the 2FA launch: no SRN, 2FA only.
    ex.smartcard("B0123401", PIN).refused(5, &["no smartcard"]);
    ex.smartcard("B01234X1", PIN).refused(5, &["no smartcard"]);
    assert_eq!(ex.state(), before);
    da3_add(&ex, "C00001", "checker", "SO", "so@legacy.com.hk").ok();
    ex.smartcard("C00001X4", PIN).refused(5, &["no smartcard"]);
    ex.smartcard("C0000199", PIN).expect(3);
}

#[test]
fn enquire_shows_locked_and_otp_enabled_once_2fa_is_initialised() {
    let mut ex = smartcard_exchange();
    ex.first_time_logon("C0000101");
    let e = ex.op(&["user", "enquire", "C0000101"]).ok().json();
    assert_eq!((e["locked"].as_str(), e["otp_enabled"].as_str()), (Some("No"), Some("Yes")), "{e}");
    assert!(e.get("srn").is_none() && e.get("certificate_expiry_date").is_none(), "{e}");
    // Until decommissioning the smartcard stays in reserve.
    ex.smartcard("C0000101", PIN).ok();
    // An uninitialised neighbour still shows its smartcard fields.
    assert_eq!(ex.op(&["user", "enquire", "C0000102"]).ok().json()["srn"], "0101101200012AB5");
    // Locked shows once it is.
    ex.advance(60);
    ex.wrong_passwords("C0000101", 5);
    assert_eq!(ex.op(&["user", "enquire", "C0000101"]).ok().json()["locked"], "Yes");
}

// ---------------------------------------------------------------------------------------
// Imports are validated whole: one bad line and nothing is imported

fn participant_ids(ex: &Exchange) -> Vec<String> {
    let v = ex.op(&["hkex", "participant", "list"]).ok().json();
    v["participants"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|p| p["participant_id"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn a_participant_file_with_one_bad_line_imports_nothing() {
    let ex = Exchange::with_operator();
    let header = "id,name,house,max_users,domains\n";
    let good = "C00001,Good Securities,hkscc-cp,10,good.example\n";
    let cases: [(&str, i32, &[&str]); 7] = [
        ("C00002,Bad House,hkscc-xx,10,\n", 6, &["line 3", "hkscc-xx"]),
        ("HKAB,Short Code,hkcc,10,\n", 6, &["line 3"]),
        ("C00001,Twice,hkscc-cp,10,\n", 6, &["line 3", "twice", "line 2"]),
        ("C00002,Too Many,hkscc-cp,10,x.example,extra\n", 6, &["line 3", "6 fields"]),
        ("C00002,Huge,hkscc-cp,1297,\n", 6, &["line 3", "1296"]),
        ("C00002,Not A Number,hkscc-cp,ten,\n", 6, &["line 3", "max_users"]),
        ("B01234,Exists Already,hkscc-cp,10,\n", 7, &["line 3", "B01234", "already exists"]),
    ];
    let before = ex.state();
    for (i, (bad, code, parts)) in cases.iter().enumerate() {
        let f = ex.write(&format!("p{i}.csv"), &format!("{header}{good}{bad}"));
        ex.op(&["hkex", "participant", "import", &f]).refused(*code, parts);
        assert_eq!(participant_ids(&ex), vec!["B01234"]);
    }
    let f = ex.write("bad-header.csv", &format!("id,name,house,max_users,colour\n{good}"));
    ex.op(&["hkex", "participant", "import", &f]).refused(6, &["line 1", "colour"]);
    assert_eq!(ex.state(), before);

    let f = ex.write("ok.csv", &format!("{header}{good}HKABC,Futures Co,hkcc,20,\"a.example b.example\"\n"));
    assert_eq!(ex.op(&["hkex", "participant", "import", &f]).ok().json()["imported"], 2);
    assert_eq!(participant_ids(&ex), vec!["B01234", "C00001", "HKABC"]);
    let v = ex.op(&["hkex", "participant", "show", "HKABC"]).ok().json();
    assert_eq!((v["house"].as_str(), v["max_users"].as_i64()), (Some("hkcc"), Some(20)));
    assert_eq!(v["domains"], json!(["a.example", "b.example"]));
}

#[test]
fn a_smartcard_user_file_with_one_bad_line_imports_nothing() {
    let ex = Exchange::with_operator();
    ex.op(&[
        "hkex",
        "participant",
        "add",
        "--id",
        "C00001",
        "--name",
        "Legacy",
        "--house",
        "hkscc-cp",
        "--max-users",
        "3",
    ])
    .ok();
    let phc = pin_phc();
    let header = "participant,user_id,surname,other_names,email,role,srn,certificate_expiry,pin_phc\n";
    let good = format!("C00001,C0000101,PUN,TEST,pun@legacy.com.hk,user,0101101200012AB4,2030-12-31,\"{phc}\"\n");
    let line = |id: &str, role: &str, pin: &str| {
        format!("C00001,{id},NG,TEST,ng@legacy.com.hk,{role},0101101200012AB9,2030-12-31,\"{pin}\"\n")
    };
    let cases: Vec<(String, i32, Vec<&str>)> = vec![
        (line("C00001X1", "user", phc), 6, vec!["line 3", "role user"]),
        (line("C0000102", "maker", phc), 6, vec!["line 3", "not a DA user ID"]),
        (line("C0000102", "auditor", phc), 6, vec!["line 3", "role"]),
        (line("B0123499", "user", phc), 6, vec!["line 3"]),
        (
            "Z99999,Z9999901,NG,TEST,,user,0101101200012AB9,2030-12-31,\n".into(),
            6,
            vec!["line 3", "unknown participant"],
        ),
        (line("C0000101", "user", phc), 6, vec!["line 3", "twice"]),
        (line("C0000102", "user", PIN), 6, vec!["line 3", "clear PIN"]),
        (
            format!("C00001,C0000102,NG,TEST,ng@legacy.com.hk,user,0101101200012AB9,2030-12-31,\"{phc}\",extra\n"),
            6,
            vec!["line 3", "10 fields"],
        ),
        ("C00001,C0000102,NG,TEST,not-an-address,user,0101101200012AB9,2030-12-31,\n".into(), 6, vec!["line 3"]),
        ("C00001,C0000102,NG,TEST,,user,SRN!,2030-12-31,\n".into(), 6, vec!["line 3", "srn"]),
        ("C00001,C0000102,NG,TEST,,user,0101101200012AB9,someday,\n".into(), 6, vec!["line 3", "certificate_expiry"]),
        ("B01234,B0123401,NG,TEST,,user,0101101200012AB9,2030-12-31,\n".into(), 7, vec!["line 3", "B0123401", "taken"]),
        (
            line("C0000102", "user", phc) + &line("C0000103", "user", phc) + &line("C0000104", "user", phc),
            7,
            vec!["C00001", "maximum 3"],
        ),
    ];
    let before = ex.state();
    for (i, (bad, code, parts)) in cases.iter().enumerate() {
        let f = ex.write(&format!("u{i}.csv"), &format!("{header}{good}{bad}"));
        ex.op(&["hkex", "import-smartcard-users", &f]).refused(*code, parts);
        let (ids, quota) = ex.listing("C00001");
        assert!(ids.is_empty(), "case {i}: {ids:?}");
        assert_eq!(quota["total_users"], 0);
    }
    assert_eq!(ex.state(), before);

    // The same file without its bad line goes in whole; an ID retired later is never reused.
    let f = ex.write("ok.csv", &format!("{header}{good}{}", line("C00001X1", "maker", phc)));
    assert_eq!(ex.op(&["hkex", "import-smartcard-users", &f]).ok().json()["imported"], 2);
    assert_eq!(ex.listing("C00001").0, vec!["C0000101", "C00001X1"]);
    // A DA ID retired by DA3 delete is never imported again either.
    da3_add(&ex, "B01234", "checker", "CHOI", "kw.choi@abc.com.hk").ok();
    ex.op(&["hkex", "da3", "delete", "B01234X3"]).ok();
    let f =
        ex.write("again.csv", &format!("{header}B01234,B01234X3,LEE,KA YAN,,checker,0101101200012AB3,2030-12-31,\n"));
    ex.op(&["hkex", "import-smartcard-users", &f]).refused(7, &["line 2", "B01234X3", "used before"]);
}

// ---------------------------------------------------------------------------------------
// Reports for auditors

fn findings(v: &Value) -> Vec<(String, String, String)> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["participant_id"].as_str().unwrap_or("").to_string(),
                f["user_id"].as_str().unwrap_or("").to_string(),
                f["finding"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn readiness_report_names_what_blocks_2fa() {
    let ex = Exchange::with_operator();
    let f = ex.write("p.csv", "id,name,house,max_users,domains\nC00001,Legacy,hkscc-cp,10,legacy.com.hk\n");
    ex.op(&["hkex", "participant", "import", &f]).ok();
    let f = ex.write(
        "u.csv",
        &format!(
            "participant,user_id,surname,other_names,email,role,srn,certificate_expiry,pin_phc\n\
             C00001,C00001X1,MA,KIT,kit.ma@legacy.com.hk,maker,0101101200012AB1,2030-12-31,\"{}\"\n\
             C00001,C0000101,PUN,TEST,,user,0101101200012AB4,2030-12-31,\n",
            pin_phc()
        ),
    );
    ex.op(&["hkex", "import-smartcard-users", &f]).ok();

    let v = ex.op(&["report", "readiness"]).ok().json();
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

    let mine = findings(&ex.op(&["report", "readiness", "--participant", "B01234"]).ok().json());
    assert!(!mine.is_empty() && mine.iter().all(|(p, _, _)| p == "B01234"), "{mine:?}");
}

#[test]
fn locked_and_audit_reports() {
    let mut ex = Exchange::with_operator();
    assert_eq!(ex.op(&["report", "locked"]).ok().json()["locked"], json!([]));
    ex.first_time_logon("B0123401");
    assert_eq!(ex.wrong_passwords("B0123401", 5), vec![3, 3, 3, 3, 4]);
    let v = ex.op(&["report", "locked"]).ok().json();
    assert_eq!(v["locked"].as_array().map(|a| a.len()), Some(1), "{v}");
    assert_eq!(v["locked"][0]["user_id"], "B0123401");
    assert!(v["locked"][0]["unlock_by"].as_str().unwrap_or("").contains("Delegated Administrator"), "{v}");

    da3_add(&ex, "B01234", "checker", "CHOI", "kw.choi@abc.com.hk").ok();
    let audit = ex.op(&["report", "audit", "--from", "2026-11-23", "--to", "2026-11-23"]).ok().json();
    let rows = audit["audit"].as_array().expect("rows");
    let actions: Vec<&str> = rows.iter().filter_map(|r| r["action"].as_str()).collect();
    for a in ["signin.ok", "signin.fail.password", "account.locked", "da3.add"] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    let empty = ex.op(&["report", "audit", "--from", "2026-11-24", "--to", "2026-11-30"]).ok().json();
    assert_eq!(empty["audit"], json!([]));
    ex.op(&["report", "audit", "--from", "2026-11-24", "--to", "2026-11-23"]).expect(6);

    let csv = ex.run(Some(OPERATOR), &["--format", "csv", "report", "audit", "--from", "2026-11-23"], None).ok();
    let mut lines = csv.stdout.lines();
    assert_eq!(lines.next(), Some("seq,at,actor,action,subject,participant_id,detail"));
    assert!(lines.count() >= rows.len(), "{}", csv.stdout);
}

#[test]
fn the_exchange_adds_operators_and_read_only_auditors_and_resets_them() {
    let mut ex = Exchange::with_operator();
    let v = ex
        .op(&[
            "hkex",
            "account",
            "add",
            "--role",
            "auditor",
            "--surname",
            "AUDIT",
            "--other-names",
            "ONE",
            "--email",
            "audit@hkex.example",
        ])
        .ok()
        .json();
    assert_eq!(v["user_id"], "HKEXAU01");
    let v = ex
        .op(&[
            "hkex",
            "account",
            "add",
            "--role",
            "operator",
            "--surname",
            "OPS",
            "--other-names",
            "TWO",
            "--email",
            "ops2@hkex.example",
        ])
        .ok()
        .json();
    assert_eq!(v["user_id"], "HKEXOP02");
    ex.op(&[
        "hkex",
        "account",
        "add",
        "--role",
        "maker",
        "--surname",
        "X",
        "--other-names",
        "Y",
        "--email",
        "x@hkex.example",
    ])
    .refused(6, &["operator or auditor"]);

    // The auditor reads (listing, reports, audit) but changes nothing.
    ex.first_time_logon("HKEXAU01");
    let listing = ex.as_user("HKEXAU01", &["listing", "--participant", "B01234"]).ok().json();
    assert_eq!(listing["quota"]["max_users"], 70);
    ex.as_user("HKEXAU01", &["report", "readiness"]).ok();
    ex.as_user("HKEXAU01", &["hkex", "da4", "--participant", "B01234", "--accounts", "1"]).refused(5, &[]);
    ex.as_user("HKEXAU01", &["hkex", "settings", "set", "service-hours", "off"]).refused(5, &[]);

    // A locked auditor is reset by an operator: its next logon is a first-time logon.
    assert_eq!(ex.wrong_passwords("HKEXAU01", 5).last(), Some(&4));
    ex.op(&["hkex", "account", "reset", OPERATOR]).refused(5, &["one-handed"]);
    ex.op(&["hkex", "account", "reset", "B01234X1"]).refused(6, &["DA3"]);
    ex.op(&["hkex", "account", "reset", "HKEXAU01"]).ok();
    ex.advance(30);
    let login = ex.login("HKEXAU01");
    assert_eq!(login.code, 3, "the old password is gone: {}", login.message());
    ex.first_time_logon("HKEXAU01");
}
