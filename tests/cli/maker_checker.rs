//! Maker-checker (SPEC §4, §5, §8): requests submitted by the DA maker B01234X1 and authorised
//! by a DA checker, queued or inline; every refusal with its exit code and no change of state.

use crate::mc_support::*;
use chrono::Duration;
use serde_json::Value;

fn create_args<'a>(id: &'a str, email: &'a str) -> Vec<&'a str> {
    vec!["user", "create", "--user-id", id, "--surname", "Chan", "--other-names", "Siu Ming", "--email", email]
}

fn user_exists(mc: &Mc, id: &str) -> bool {
    mc.count(&format!("SELECT COUNT(*) FROM users WHERE user_id = '{id}'")) == 1
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().expect("an object").keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[test]
fn queued_create_is_listed_pending_then_approved_and_enquire_shows_the_state_fields() {
    let mc = Mc::with_das();
    let mut args = create_args("b0123404", "sm.chan@abc.com.hk");
    args.extend(["--groups", "11,a", "--limit", "1000.50", "--disable-after", "2027-12-31"]);
    let o = mc.as_user(MAKER, &args);
    o.ok();
    let v = o.json();
    assert_eq!(v["status"], "PENDING");
    assert_eq!(v["user_id"], "B0123404", "input is normalised to upper case");
    let id = o.request_id();
    assert!(!user_exists(&mc, "B0123404"), "a queued request changes no profile");
    mc.as_user(MAKER, &["user", "enquire", "B0123404"]).code(6);

    let list = mc.as_user(CHECKER, &["request", "list", "--status", "PENDING"]);
    list.ok();
    let rows = list.json()["requests"].as_array().expect("requests").clone();
    assert_eq!(rows.len(), 1, "{list}");
    assert_eq!(rows[0]["request_id"], id);
    assert_eq!(rows[0]["status"], "PENDING");
    assert_eq!(rows[0]["maker"], MAKER);
    assert_eq!(rows[0]["kind"], "create-user");
    let shown = mc.request(CHECKER, id);
    assert_eq!(shown["subjects"], serde_json::json!(["B0123404"]));
    assert_eq!(shown["change"]["profile"]["limit_cents"], 100050);

    let a = mc.approve(CHECKER, &[id]);
    a.ok();
    assert_eq!(a.json(), serde_json::json!({ "request_id": id, "status": "APPROVED" }));
    let shown = mc.request(MAKER, id);
    assert_eq!(shown["status"], "APPROVED");
    assert_eq!(shown["checker"], CHECKER);
    assert!(mc.as_user(CHECKER, &["request", "list", "--status", "PENDING"]).json()["requests"]
        .as_array()
        .is_some_and(Vec::is_empty));

    // Before 2FA is initialised: no Locked / OTP fields, and no smartcard fields either
    // (a user created after the 2FA launch never had a smartcard).
    let e = mc.enquire("B0123404");
    assert_eq!(
        keys(&e),
        [
            "access_channel",
            "clearing_house_options",
            "disable_after",
            "email",
            "enable_from",
            "internal_external",
            "organisation",
            "other_names",
            "role",
            "surname",
            "transaction_limit_hkd",
            "user_groups",
            "user_id",
            "user_status",
        ],
        "{e:#}"
    );
    assert_eq!(e["organisation"], "B01234 ABC SECURITIES");
    assert_eq!(e["internal_external"], "EXTERNAL");
    assert_eq!(e["user_status"], "ENABLED");
    assert_eq!(e["surname"], "Chan");
    assert_eq!(e["other_names"], "Siu Ming");
    assert_eq!(e["email"], "sm.chan@abc.com.hk");
    assert_eq!(e["enable_from"], Value::Null);
    assert_eq!(e["clearing_house_options"], "Cash");
    assert_eq!(e["access_channel"], "CST");
    assert_eq!(e["transaction_limit_hkd"], "1,000.50");
    assert_eq!(e["user_groups"], serde_json::json!(["11", "A"]));
    assert!(e["disable_after"].as_str().is_some_and(|d| !d.is_empty()), "{e:#}");

    // Once 2FA is initialised (the maker's own profile), Locked and OTP Enabled appear.
    let x1 = mc.enquire(MAKER);
    assert_eq!(x1["locked"], "No");
    assert_eq!(x1["otp_enabled"], "Yes");
    assert_eq!(x1["otp_channel"], "app");
    mc.assert_audit_ok();
}

#[test]
fn inline_authorisation_applies_at_once() {
    let mc = Mc::with_das();
    let o = mc.inline(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk"), CHECKER, PW);
    o.ok();
    assert_eq!(o.json()["status"], "APPROVED");
    assert!(user_exists(&mc, "B0123404"));
    let shown = mc.request(MAKER, o.request_id());
    assert_eq!(shown["status"], "APPROVED");
    assert_eq!(shown["checker"], CHECKER);

    let o = mc.inline(MAKER, &["user", "change", USER1, "--email", "wk.cheung2@abc.com.hk"], CHECKER2, PW);
    o.ok();
    assert_eq!(o.json()["status"], "APPROVED");
    assert_eq!(mc.enquire(USER1)["email"], "wk.cheung2@abc.com.hk");
    assert_eq!(mc.count("SELECT COUNT(*) FROM requests WHERE status = 'PENDING'"), 0);
    mc.assert_audit_ok();
}

#[test]
fn a_wrong_authorisation_code_creates_nothing_and_counts_against_the_checker() {
    let mc = Mc::with_das();
    let before = mc.state();
    for attempt in 1..=4 {
        let o = mc.inline(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk"), CHECKER, WRONG_PW);
        o.code(3);
        assert!(o.message().contains("authorisation code"), "attempt {attempt}: {}", o.message());
        assert_eq!(mc.state(), before, "attempt {attempt} changed something");
        mc.advance(Duration::minutes(1));
    }
    assert_eq!(mc.sql(&format!("SELECT locked_at IS NULL FROM credentials WHERE user_id = '{CHECKER}'")), "1");
    let o = mc.inline(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk"), CHECKER, WRONG_PW);
    o.code(4);
    let m = o.message();
    assert!(m.contains("locked") && m.contains("DA3"), "the lock message says who unlocks a DA: {m}");
    assert_eq!(mc.state(), before);
    assert_eq!(mc.sql(&format!("SELECT locked_at IS NOT NULL FROM credentials WHERE user_id = '{CHECKER}'")), "1");
    assert!(!user_exists(&mc, "B0123404"));
    assert_eq!(mc.requests(), 0);

    // Locked: even the right code is refused, and the checker's session has ended.
    let o = mc.inline(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk"), CHECKER, PW);
    o.code(4);
    assert!(o.message().contains("locked") && o.message().contains("DA3"), "{o}");
    assert_eq!(mc.state(), before);
    let o = mc.as_user(CHECKER, &["request", "list"]);
    o.code(3);
    assert!(o.message().contains("session has ended"), "{o}");
    // The other checker still works.
    mc.inline(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk"), CHECKER2, PW).ok();
    assert!(user_exists(&mc, "B0123404"));
    mc.assert_audit_ok();
}

#[test]
fn a_queued_approval_needs_the_password_and_a_fresh_otp() {
    let mc = Mc::with_das();
    let a = mc.as_user(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk")).request_id();
    let b = mc.as_user(MAKER, &create_args("B0123405", "k.ho@abc.com.hk")).request_id();
    let before = mc.state();
    let code = mc.totp(CHECKER);
    let o = mc.approve_with(CHECKER, &[a], &code, WRONG_PW);
    o.code(3);
    assert!(o.message().contains("wrong authorisation code"), "{o}");
    let wrong_otp = if code == "000000" { "000001" } else { "000000" };
    mc.approve_with(CHECKER, &[a], wrong_otp, PW).code(3);
    mc.approve_with(CHECKER, &[a], "12345", PW).code(6);
    mc.run(Some(CHECKER), &["--format", "json", "request", "approve", &a.to_string(), "--otp", &code], None).code(2);
    assert_eq!(mc.state(), before);
    assert_eq!(mc.count(&format!("SELECT failures != '' FROM credentials WHERE user_id = '{CHECKER}'")), 1);

    mc.approve_with(CHECKER, &[a], &code, PW).ok();
    assert!(user_exists(&mc, "B0123404"));
    // The same code again is a replay: refused, and b stays pending.
    let after_a = mc.state();
    mc.approve_with(CHECKER, &[b], &code, PW).code(3);
    assert_eq!(mc.state(), after_a);
    mc.approve(CHECKER, &[b]).ok();
    assert!(user_exists(&mc, "B0123405"));
    // A successful authorisation resets the failure count.
    assert_eq!(mc.sql(&format!("SELECT failures FROM credentials WHERE user_id = '{CHECKER}'")), "");
}

#[test]
fn the_checker_must_not_be_the_maker() {
    let mc = Mc::with_das();
    let before = mc.state();
    let o = mc.inline(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk"), MAKER, PW);
    o.code(5);
    assert!(o.message().contains("different DA from the maker"), "{o}");
    assert_eq!(mc.state(), before);

    // Queued: the maker cannot approve (or reject) the maker's own request.
    let id = mc.as_user(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk")).request_id();
    let queued = mc.state();
    let o = mc.approve(MAKER, &[id]);
    o.code(5);
    assert!(o.message().contains("only a DA checker"), "{o}");
    mc.as_user(MAKER, &["request", "reject", &id.to_string(), "--reason", "mine"]).code(5);
    assert_eq!(mc.state(), queued);
    assert_eq!(mc.request(MAKER, id)["status"], "PENDING");
}

#[test]
fn the_checker_must_not_be_the_subject() {
    let mc = Mc::with_das();
    let o = mc.as_user(MAKER, &["user", "change", CHECKER, "--email", "siuming.wong@abc.com.hk"]);
    o.ok();
    let id = o.request_id();
    let queued = mc.state();

    let o = mc.approve(CHECKER, &[id]);
    o.code(5);
    assert!(o.message().contains("no one-handed operation"), "{o}");
    assert_eq!(mc.state(), queued);
    assert_eq!(mc.enquire(CHECKER)["email"], "sm.wong@abc.com.hk");

    // Inline, too.
    let o = mc.inline(MAKER, &["user", "change", CHECKER, "--surname", "Wang"], CHECKER, PW);
    o.code(5);
    assert_eq!(mc.state(), queued);

    // Nor may the subject reject it.
    let o = mc.as_user(CHECKER, &["request", "reject", &id.to_string(), "--reason", "not me"]);
    o.code(5);
    assert!(o.message().contains("no one-handed operation"), "{o}");
    assert_eq!(mc.state(), queued);

    mc.approve(CHECKER2, &[id]).ok();
    assert_eq!(mc.enquire(CHECKER)["email"], "siuming.wong@abc.com.hk");
    assert_eq!(mc.request(MAKER, id)["checker"], CHECKER2);
}

#[test]
fn business_users_and_checkers_cannot_submit() {
    let mc = Mc::with_das();
    mc.logon(USER1);
    let id = mc.as_user(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk")).request_id();
    let before = mc.state();

    for args in [
        create_args("B0123405", "a.b@abc.com.hk"),
        vec!["user", "change", USER2, "--email", "x.y@abc.com.hk"],
        vec!["request", "list"],
        vec!["user", "enquire", USER2],
        vec!["listing"],
    ] {
        let o = mc.as_user(USER1, &args);
        o.code(5);
        assert!(o.message().contains("business users cannot use DMS functions"), "{o}");
    }
    let o = mc.approve(USER1, &[id]);
    o.code(5);
    assert_eq!(mc.state(), before);

    // A checker authorises; it does not submit.
    for args in [
        create_args("B0123405", "a.b@abc.com.hk"),
        vec!["user", "delete", USER2],
        vec!["user", "unlock", USER2],
        vec!["request", "cancel", "1"],
    ] {
        mc.as_user(CHECKER, &args).code(5);
    }
    assert_eq!(mc.state(), before);
    assert_eq!(mc.request(MAKER, id)["status"], "PENDING");
}

/// The operator registers C05678 and its three DAs through DA3; C05678X2 signs in.
fn second_participant(mc: &Mc) {
    mc.logon(OPERATOR);
    mc.as_user(
        OPERATOR,
        &[
            "hkex",
            "participant",
            "add",
            "--id",
            "C05678",
            "--name",
            "XYZ Brokers",
            "--house",
            "hkscc-cp",
            "--max-users",
            "10",
        ],
    )
    .ok();
    for (role, email) in [("maker", "m@xyz.com.hk"), ("checker", "c1@xyz.com.hk"), ("checker", "c2@xyz.com.hk")] {
        let args = [
            "hkex",
            "da3",
            "add",
            "--participant",
            "C05678",
            "--role",
            role,
            "--surname",
            "Ho",
            "--other-names",
            "Ka",
            "--email",
            email,
        ];
        mc.as_user(OPERATOR, &args).ok();
    }
    mc.logon("C05678X2");
}

#[test]
fn a_da_of_another_participant_cannot_see_or_authorise() {
    let mc = Mc::with_das();
    second_participant(&mc);
    let id = mc.as_user(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk")).request_id();
    let before = mc.state();
    let other = "C05678X2";
    let n = id.to_string();

    mc.as_user(other, &["request", "show", &n]).code(5);
    let o = mc.approve(other, &[id]);
    o.code(5);
    assert!(o.message().contains("another participant"), "{o}");
    mc.as_user(other, &["request", "reject", &n, "--reason", "not ours"]).code(5);
    mc.as_user(other, &["request", "list", "--participant", "B01234"]).code(5);
    let list = mc.as_user(other, &["request", "list"]);
    list.ok();
    assert_eq!(list.json()["requests"], serde_json::json!([]), "{list}");
    mc.as_user(other, &["user", "enquire", USER1]).code(5);
    mc.as_user(other, &["listing", "--participant", "B01234"]).code(5);
    // Nor inline, named by B01234's maker.
    let o = mc.inline(MAKER, &create_args("B0123405", "a.b@abc.com.hk"), other, PW);
    o.code(5);
    assert!(o.message().contains("not a DA of participant B01234"), "{o}");
    assert_eq!(mc.state(), before);
    mc.approve(CHECKER, &[id]).ok();
}

#[test]
fn the_participant_keeps_one_maker_and_two_checkers() {
    let mc = Mc::with_das();
    let before = mc.state();
    let o = mc.as_user(MAKER, &["user", "change", CHECKER2, "--status", "disabled"]);
    o.code(5);
    assert!(o.message().contains("at least one DA maker and two DA checkers"), "{o}");
    let o = mc.as_user(MAKER, &["user", "delete", CHECKER2]);
    o.code(5);
    assert!(o.message().contains("DA3"), "DAs are deleted by the exchange: {o}");
    let o = mc.inline(MAKER, &["user", "change", CHECKER2, "--status", "disabled"], CHECKER, PW);
    o.code(5);
    assert_eq!(mc.state(), before);
    assert_eq!(mc.enquire(CHECKER2)["user_status"], "ENABLED");

    // With a third checker one may go, but the rule is checked again at approval.
    mc.logon(OPERATOR);
    let args = [
        "hkex",
        "da3",
        "add",
        "--participant",
        "B01234",
        "--role",
        "checker",
        "--surname",
        "Ng",
        "--other-names",
        "Wing",
        "--email",
        "w.ng@abc.com.hk",
    ];
    assert_eq!(mc.as_user(OPERATOR, &args).json()["da_id"], "B01234X4");
    let first = mc.as_user(MAKER, &["user", "change", CHECKER2, "--status", "disabled"]).request_id();
    let second = mc.as_user(MAKER, &["user", "change", "B01234X4", "--status", "disabled"]).request_id();
    mc.approve(CHECKER, &[first]).ok();
    assert_eq!(mc.enquire(CHECKER2)["user_status"], "DISABLED");
    let queued = mc.state();
    let o = mc.approve(CHECKER, &[second]);
    o.code(5);
    assert!(o.message().contains("at least one DA maker and two DA checkers"), "{o}");
    assert_eq!(mc.state(), queued);
    assert_eq!(mc.enquire("B01234X4")["user_status"], "ENABLED");
    // The disabled checker's session ended with the change, and signing in is refused.
    mc.as_user(CHECKER2, &["request", "list"]).code(3);
    mc.login(CHECKER2).code(4);
}

#[test]
fn a_full_quota_refuses_creation_and_names_da4() {
    let mc = Mc::with_das();
    mc.sql("UPDATE participants SET max_users = 6 WHERE participant_id = 'B01234'");
    let before = mc.state();
    let o = mc.as_user(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk"));
    o.code(7);
    assert!(o.message().contains("DA4"), "{o}");
    let mut gen =
        vec!["user", "create", "--generate", "--surname", "Ho", "--other-names", "Ka", "--email", "k@abc.com.hk"];
    mc.as_user(MAKER, &gen).code(7);
    assert_eq!(mc.state(), before);

    // Changes are still allowed at a full quota, and room made by DA4 is used at once.
    mc.as_user(MAKER, &["user", "change", USER1, "--surname", "Cheung"]).ok();
    mc.sql("UPDATE participants SET max_users = 7 WHERE participant_id = 'B01234'");
    gen.extend(["--checker", CHECKER]);
    let code = mc.totp(CHECKER);
    gen.extend(["--otp", &code, "--password-stdin"]);
    let o = mc.as_user_stdin(MAKER, &gen, Some(&line(PW)));
    o.ok();
    assert_eq!(o.json()["user_id"], "B0123404");
}

#[test]
fn a_full_quota_is_checked_again_at_approval() {
    let mc = Mc::with_das();
    let id = mc.as_user(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk")).request_id();
    mc.sql("UPDATE participants SET max_users = 6 WHERE participant_id = 'B01234'");
    let before = mc.state();
    let o = mc.approve(CHECKER, &[id]);
    o.code(7);
    assert!(o.message().contains("DA4"), "{o}");
    assert_eq!(mc.state(), before);
}

#[test]
fn a_user_id_is_taken_once_and_never_reused() {
    let mc = Mc::with_das();
    let before = mc.state();
    let o = mc.as_user(MAKER, &create_args(USER1, "sm.chan@abc.com.hk"));
    o.code(7);
    assert!(o.message().contains("taken"), "{o}");
    mc.as_user(MAKER, &create_args("B01234X5", "sm.chan@abc.com.hk")).code(6); // a DA suffix
    mc.as_user(MAKER, &create_args("C0567801", "sm.chan@abc.com.hk")).code(6); // another participant's
    assert_eq!(mc.state(), before);

    // A pending create reserves its ID.
    mc.as_user(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk")).ok();
    mc.as_user(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk")).code(7);

    // Delete B0123403: its ID is retired.
    let del = mc.as_user(MAKER, &["user", "delete", USER3]).request_id();
    mc.approve(CHECKER, &[del]).ok();
    mc.as_user(MAKER, &["user", "enquire", USER3]).code(6);
    assert_eq!(mc.count("SELECT COUNT(*) FROM retired_user_ids WHERE user_id = 'B0123403'"), 1);
    let after_delete = mc.state();
    let o = mc.as_user(MAKER, &create_args(USER3, "sm.chan@abc.com.hk"));
    o.code(7);
    assert!(o.message().contains("never reused"), "{o}");
    assert_eq!(mc.state(), after_delete);

    // Generate User ID skips the retired B0123403 and the reserved B0123404.
    let gen = ["user", "create", "--generate", "--surname", "Ho", "--other-names", "Ka", "--email", "k@abc.com.hk"];
    let o = mc.as_user(MAKER, &gen);
    o.ok();
    assert_eq!(o.json()["user_id"], "B0123405");
}

#[test]
fn a_stale_request_is_refused_and_the_first_change_stays() {
    let mc = Mc::with_das();
    let first = mc.as_user(MAKER, &["user", "change", USER1, "--email", "first@abc.com.hk"]).request_id();
    let second = mc
        .as_user(MAKER, &["user", "change", USER1, "--email", "second@abc.com.hk", "--surname", "Zhang"])
        .request_id();
    mc.approve(CHECKER, &[first]).ok();
    let after_first = mc.state();
    let o = mc.approve(CHECKER2, &[second]);
    o.code(7);
    assert!(o.message().contains("stale"), "{o}");
    assert_eq!(mc.state(), after_first);
    let e = mc.enquire(USER1);
    assert_eq!(e["email"], "first@abc.com.hk");
    assert_eq!(e["surname"], "CHEUNG");
    assert_eq!(mc.request(MAKER, second)["status"], "PENDING");
}

#[test]
fn approving_several_is_all_or_nothing() {
    let mc = Mc::with_das();
    let good = mc.as_user(MAKER, &["user", "change", USER2, "--email", "good@abc.com.hk"]).request_id();
    let first = mc.as_user(MAKER, &["user", "change", USER1, "--email", "first@abc.com.hk"]).request_id();
    let stale = mc.as_user(MAKER, &["user", "change", USER1, "--surname", "Zhang"]).request_id();
    mc.approve(CHECKER, &[first]).ok();
    let before = mc.state();
    mc.approve(CHECKER, &[good, stale]).code(7);
    assert_eq!(mc.state(), before);
    assert_eq!(mc.enquire(USER2)["email"], "ml.ho@abc.com.hk");
    let o = mc.approve(CHECKER, &[good]);
    o.ok();
    assert_eq!(mc.enquire(USER2)["email"], "good@abc.com.hk");
}

#[test]
fn a_request_expires() {
    let mc = Mc::with_das();
    mc.sql("INSERT OR REPLACE INTO settings (key, value) VALUES ('request-expiry-hours', '1')");
    let id = mc.as_user(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk")).request_id();
    mc.advance(Duration::minutes(61));
    mc.login(CHECKER).ok(); // the old session is 61 minutes idle
    let list = mc.as_user(CHECKER, &["request", "list", "--status", "EXPIRED"]);
    list.ok();
    let rows = list.json()["requests"].as_array().expect("requests").clone();
    assert_eq!(rows.len(), 1, "{list}");
    assert_eq!(rows[0]["request_id"], id);
    assert_eq!(rows[0]["status"], "EXPIRED");
    let before = mc.state();
    let o = mc.approve(CHECKER, &[id]);
    o.code(7);
    assert!(o.message().contains("EXPIRED"), "{o}");
    assert_eq!(mc.state(), before);
    assert!(!user_exists(&mc, "B0123404"));
    // An expired request frees its reserved ID.
    mc.login(MAKER).ok();
    mc.as_user(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk")).ok();
    mc.assert_audit_ok();
}

#[test]
fn reject_with_a_reason_and_cancel_by_the_maker() {
    let mc = Mc::with_das();
    let rejected = mc.as_user(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk")).request_id();
    let cancelled = mc.as_user(MAKER, &create_args("B0123405", "k.ho@abc.com.hk")).request_id();
    let kept = mc.as_user(MAKER, &create_args("B0123406", "w.ng@abc.com.hk")).request_id();

    mc.as_user(CHECKER, &["request", "reject", &rejected.to_string(), "--reason", "   "]).code(6);
    let o = mc.as_user(CHECKER, &["request", "reject", &rejected.to_string(), "--reason", "wrong surname"]);
    o.ok();
    assert_eq!(o.json()["status"], "REJECTED");
    let r = mc.request(MAKER, rejected);
    assert_eq!(r["status"], "REJECTED");
    assert_eq!(r["reason"], "wrong surname");
    assert_eq!(r["checker"], CHECKER);

    // Only its maker cancels: not a checker, not another maker.
    mc.as_user(CHECKER, &["request", "cancel", &cancelled.to_string()]).code(5);
    mc.logon(OPERATOR);
    let args = [
        "hkex",
        "da3",
        "add",
        "--participant",
        "B01234",
        "--role",
        "maker",
        "--surname",
        "Ng",
        "--other-names",
        "Wing",
        "--email",
        "w.ng@abc.com.hk",
    ];
    mc.as_user(OPERATOR, &args).ok();
    mc.logon("B01234X4");
    let o = mc.as_user("B01234X4", &["request", "cancel", &cancelled.to_string()]);
    o.code(5);
    assert!(o.message().contains("only its maker"), "{o}");
    assert_eq!(mc.request(MAKER, cancelled)["status"], "PENDING");
    let o = mc.as_user(MAKER, &["request", "cancel", &cancelled.to_string()]);
    o.ok();
    assert_eq!(o.json()["status"], "CANCELLED");

    let before = mc.state();
    for id in [rejected, cancelled] {
        let o = mc.approve(CHECKER2, &[id]);
        o.code(7);
        assert!(o.message().contains("already"), "{o}");
        mc.as_user(MAKER, &["request", "cancel", &id.to_string()]).code(7);
        mc.as_user(CHECKER2, &["request", "reject", &id.to_string(), "--reason", "again"]).code(7);
    }
    assert_eq!(mc.state(), before);
    assert!(!user_exists(&mc, "B0123404") && !user_exists(&mc, "B0123405"));
    mc.approve(CHECKER2, &[kept]).ok();
    assert!(user_exists(&mc, "B0123406"));
    mc.assert_audit_ok();
}

#[test]
fn two_checkers_racing_on_one_request_exactly_one_wins() {
    let mc = Mc::with_das();
    let id = mc.as_user(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk")).request_id();
    let n = id.to_string();
    let racers: Vec<_> = [CHECKER, CHECKER2]
        .iter()
        .map(|checker| {
            let code = mc.totp(checker);
            let args = ["--format", "json", "request", "approve", &n, "--otp", &code, "--password-stdin"];
            mc.spawn(Some(checker), &args, &line(PW))
        })
        .collect();
    let outs: Vec<Out> = racers.into_iter().map(|(args, child)| Mc::wait(args, child)).collect();
    let mut codes: Vec<i32> = outs.iter().map(|o| o.code).collect();
    codes.sort_unstable();
    assert_eq!(codes, [0, 7], "{}\n{}", outs[0], outs[1]);
    let loser = outs.iter().find(|o| o.code == 7).expect("a loser");
    let m = loser.message();
    assert!(m.contains("already APPROVED") || m.contains("decided by someone else"), "the loser is told why: {loser}");
    let winner = outs.iter().find(|o| o.code == 0).expect("a winner");
    assert_eq!(winner.json()["status"], "APPROVED");
    assert_eq!(mc.count("SELECT COUNT(*) FROM users WHERE user_id = 'B0123404'"), 1);
    assert_eq!(mc.count("SELECT COUNT(*) FROM audit WHERE action = 'request.approved'"), 1);
    assert_eq!(mc.count("SELECT COUNT(*) FROM audit WHERE action = 'user.created'"), 1);
    mc.assert_audit_ok();
}

#[test]
fn unlock_reset_makes_the_next_logon_a_first_time_logon() {
    let mc = Mc::with_das();
    mc.logon(USER2);
    for attempt in 1..=5 {
        mc.advance(Duration::minutes(1));
        let o = mc.json(&["login", "--user", USER2, "--password-stdin", "--otp", "123456"], Some(&line(WRONG_PW)));
        o.code(if attempt < 5 { 3 } else { 4 });
    }
    let e = mc.enquire(USER2);
    assert_eq!(e["locked"], "Yes", "{e:#}");
    let o = mc.json(&["login", "--user", USER2, "--password-stdin", "--otp", "123456"], Some(&line(PW)));
    o.code(4);
    assert!(o.message().contains("Delegated Administrator"), "the lock message says who unlocks: {o}");

    let id = mc.as_user(MAKER, &["user", "unlock", USER2]).request_id();
    assert_eq!(mc.enquire(USER2)["locked"], "Yes", "queued: nothing yet");
    mc.approve(CHECKER, &[id]).ok();
    let e = mc.enquire(USER2);
    assert!(e.get("locked").is_none() && e.get("otp_enabled").is_none(), "2FA is no longer initialised: {e:#}");
    assert!(mc.mbox().contains("Account unlocked and OTP device registration reset"));

    // The old password is gone: first-time logon again (e-mail OTP, password, OTP channel).
    mc.advance(Duration::minutes(5));
    let o = mc.json(&["login", "--user", USER2, "--password-stdin", "--otp", "123456"], Some(&line(PW)));
    o.code(3);
    assert!(o.message().contains("first-time logon"), "a hint: {o}");
    mc.logon(USER2);
    assert_eq!(mc.enquire(USER2)["locked"], "No");
    mc.assert_audit_ok();
}

#[test]
fn da_assign_gives_a_da_business_user_groups_after_decommissioning() {
    let mc = Mc::with_das();
    mc.sql("INSERT OR REPLACE INTO settings (key, value) VALUES ('decommission-date', '2026-12-01')");
    let before = mc.state();
    let o = mc.as_user(MAKER, &["da", "assign", CHECKER, "--groups", "11,A"]);
    o.code(5);
    assert!(o.message().contains("decommissioning"), "{o}");
    assert_eq!(mc.state(), before);

    mc.sql("INSERT OR REPLACE INTO settings (key, value) VALUES ('decommission-date', '2023-09-04')");
    mc.as_user(MAKER, &["da", "assign", USER1, "--groups", "11"]).code(6); // not a DA
    mc.as_user(MAKER, &["da", "assign", CHECKER, "--groups", "11,NOPE"]).code(6); // not in the catalogue
    assert_eq!(mc.state(), before);
    let o = mc.as_user(MAKER, &["da", "assign", CHECKER, "--groups", "11,a"]);
    o.ok();
    assert_eq!(o.json()["da_id"], CHECKER);
    let id = o.request_id();
    mc.approve(CHECKER, &[id]).code(5); // the subject
    mc.approve(CHECKER2, &[id]).ok();
    assert_eq!(mc.enquire(CHECKER)["user_groups"], serde_json::json!(["11", "A"]));
}

// ---------------------------------------------------------------------------------------
// Bulk files

#[test]
fn bulk_email_registration_is_one_request() {
    let mc = Mc::with_das();
    let f = mc.file(
        "emails.csv",
        "user_id,email\nB0123401,wk.cheung@new.abc.com.hk\nb0123402,ml.ho@new.abc.com.hk\nB0123403,cf.lau@abc.com.hk\n",
    );
    let before = mc.state();
    let o = mc.as_user(MAKER, &["user", "import-emails", &f, "--dry-run"]);
    o.ok();
    assert_eq!(o.json()["dry_run"], true);
    assert_eq!(o.json()["rows"], 3);
    assert_eq!(mc.state(), before, "--dry-run submits nothing");

    let o = mc.as_user(MAKER, &["user", "import-emails", &f]);
    o.ok();
    assert_eq!(o.json()["status"], "PENDING");
    assert_eq!(o.json()["rows"], 3);
    assert_eq!(mc.requests(), 1);
    let shown = mc.request(CHECKER, o.request_id());
    assert_eq!(shown["subjects"].as_array().map(Vec::len), Some(3));
    mc.approve(CHECKER, &[o.request_id()]).ok();
    assert_eq!(mc.enquire(USER1)["email"], "wk.cheung@new.abc.com.hk");
    assert_eq!(mc.enquire(USER2)["email"], "ml.ho@new.abc.com.hk");
    assert_eq!(mc.enquire(USER3)["email"], "cf.lau@abc.com.hk");
    mc.assert_audit_ok();
}

#[test]
fn a_malformed_bulk_email_file_is_refused_whole_naming_the_line() {
    let mc = Mc::with_das();
    let good = "B0123401,a@abc.com.hk\nB0123402,b@abc.com.hk\n";
    let cases: [(&str, String, &str); 7] = [
        ("bad e-mail", format!("user_id,email\n{good}B0123403,not-an-email\n"), "line 4"),
        ("bad e-mail on line 3", "user_id,email\nB0123401,a@abc.com.hk\nB0123402,b@@abc\n".into(), "line 3"),
        ("unknown user", format!("user_id,email\n{good}B0123409,c@abc.com.hk\n"), "line 4"),
        ("duplicate user", format!("user_id,email\n{good}b0123401,c@abc.com.hk\n"), "line 4"),
        ("wrong header", format!("user,email\n{good}"), "line 1"),
        ("too many fields", format!("user_id,email\n{good}B0123403,c@abc.com.hk,extra\n"), "line 4"),
        (
            "SQL-looking string",
            format!("user_id,email\n{good}B0123403,\"x'); DROP TABLE users; --@abc.com.hk\"\n"),
            "line 4",
        ),
    ];
    let before = mc.state();
    for (what, contents, line_no) in cases {
        let f = mc.file("bad.csv", &contents);
        for dry in [false, true] {
            let mut args = vec!["user", "import-emails", f.as_str()];
            if dry {
                args.push("--dry-run");
            }
            let o = mc.as_user(MAKER, &args);
            o.code(6);
            assert!(o.message().contains(line_no), "{what}: the message names {line_no}: {o}");
            assert_eq!(mc.state(), before, "{what} changed something");
        }
    }
    assert_eq!(mc.requests(), 0);
    assert_eq!(mc.count("SELECT COUNT(*) FROM users"), 7, "the users table is intact");
}

#[test]
fn a_bulk_email_row_of_another_participant_is_refused_naming_the_line() {
    let mc = Mc::with_das();
    second_participant(&mc);
    let f = mc.file("emails.csv", "user_id,email\nB0123401,a@abc.com.hk\nC05678X1,b@abc.com.hk\n");
    let before = mc.state();
    let o = mc.as_user(MAKER, &["user", "import-emails", &f]);
    o.code(5);
    assert!(o.message().contains("line 3"), "{o}");
    assert_eq!(mc.state(), before);
}

#[test]
fn bulk_creation_generates_empty_ids_and_an_over_quota_file_is_refused_whole() {
    let mc = Mc::with_das();
    let f = mc.file(
        "users.csv",
        "user_id,surname,other_names,email,groups,limit\n\
         ,Chan,Tai Wai,tw.chan@abc.com.hk,11,100\n\
         B0123405,Ho,Ka Ming,km.ho@abc.com.hk,,\n\
         ,Lee,Wing,w.lee@abc.com.hk,A C,2500.75\n",
    );
    // Rows the database refuses are named by line, like the rest.
    let before = mc.state();
    for (contents, code) in [
        ("user_id,surname,other_names,email\n,A,B,a@abc.com.hk\nB0123401,C,D,c@abc.com.hk\n", 7), // taken
        ("user_id,surname,other_names,email\n,A,B,a@abc.com.hk\nB01234X7,C,D,c@abc.com.hk\n", 6), // a DA's
    ] {
        let bad = mc.file("bad.csv", contents);
        let o = mc.as_user(MAKER, &["user", "import", &bad]);
        o.code(code);
        assert!(o.message().contains("line 3"), "{o}");
    }
    assert_eq!(mc.state(), before);

    let o = mc.as_user(MAKER, &["user", "import", &f]);
    o.ok();
    assert_eq!(o.json()["rows"], 3);
    let id = o.request_id();
    let subjects = mc.request(CHECKER, id)["subjects"].clone();
    assert_eq!(subjects, serde_json::json!(["B0123404", "B0123405", "B0123406"]), "generated IDs skip the file's own");
    mc.approve(CHECKER, &[id]).ok();
    assert_eq!(mc.enquire("B0123404")["surname"], "Chan");
    assert_eq!(mc.enquire("B0123406")["transaction_limit_hkd"], "2,500.75");
    assert_eq!(mc.enquire("B0123406")["user_groups"], serde_json::json!(["A", "C"]));

    // 9 users now; a file of 3 more against a maximum of 11 is refused whole.
    mc.sql("UPDATE participants SET max_users = 11 WHERE participant_id = 'B01234'");
    let f = mc.file(
        "more.csv",
        "user_id,surname,other_names,email\n,A,B,a@abc.com.hk\n,C,D,c@abc.com.hk\n,E,F,e@abc.com.hk\n",
    );
    let before = mc.state();
    for dry in [true, false] {
        let mut args = vec!["user", "import", f.as_str()];
        if dry {
            args.push("--dry-run");
        }
        let o = mc.as_user(MAKER, &args);
        o.code(7);
        assert!(o.message().contains("DA4"), "{o}");
    }
    assert_eq!(mc.state(), before);
    let listed = mc.as_user(MAKER, &["listing"]).json();
    assert_eq!(listed["quota"]["total_users"], 9);
}
