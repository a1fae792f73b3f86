//! Maker-checker (SPEC §4, §5, §8): requests submitted by the DA maker B01234X1 and authorised
//! by a DA checker, queued or inline; every refusal with its exit code and no change of state.

use crate::harness::*;
use serde_json::{json, Value};

/// Whether the maker's `user enquire` finds the profile (Invalid: there is none).
#[track_caller]
fn user_exists(w: &World, id: &str) -> bool {
    let r = w.as_user(MAKER, &["user", "enquire", id]);
    match r.exit() {
        Exit::Ok => {
            assert_eq!(r.json()["user_id"], id, "{r}");
            true
        }
        Exit::Invalid => false,
        _ => panic!("user enquire {id}:\n{r}"),
    }
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().expect("an object").keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

/// ARGS, and `--dry-run` when `dry`.
fn dry_run<'a>(args: &[&'a str], dry: bool) -> Vec<&'a str> {
    let mut all = args.to_vec();
    if dry {
        all.push("--dry-run");
    }
    all
}

/// The usual new user B0123404 (Chan Siu Ming).
fn create_0404() -> Vec<&'static str> {
    create_args("B0123404", "sm.chan@abc.com.hk")
}

#[test]
fn queued_create_is_listed_pending_then_approved_and_enquire_shows_the_state_fields() {
    let w = World::with_das();
    let mut args = create_args("b0123404", "sm.chan@abc.com.hk");
    args.extend(["--groups", "11,a", "--limit", "1000.50", "--disable-after", "2027-12-31"]);
    let r = w.as_user(MAKER, &args).ok();
    let v = r.json();
    assert_eq!(v["status"], "PENDING");
    assert_eq!(v["user_id"], "B0123404", "input is normalised to upper case");
    let id = r.request_id();
    assert!(!user_exists(&w, "B0123404"), "a queued request changes no profile");

    let rows = w.request_list(CHECKER, Some("PENDING"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["request_id"], id);
    assert_eq!(rows[0]["status"], "PENDING");
    assert_eq!(rows[0]["maker"], MAKER);
    assert_eq!(rows[0]["kind"], "create-user");
    let shown = w.request_show(CHECKER, id);
    assert_eq!(shown["subjects"], json!(["B0123404"]));
    assert_eq!(shown["change"]["profile"]["transaction_limit_hkd"], "1000.50");

    let a = w.approve(CHECKER, &[id]).ok();
    assert_eq!(a.json(), json!({ "request_id": id, "status": "APPROVED" }));
    let shown = w.request_show(MAKER, id);
    assert_eq!(shown["status"], "APPROVED");
    assert_eq!(shown["checker"], CHECKER);
    assert!(w.request_list(CHECKER, Some("PENDING")).is_empty());

    // Before 2FA is initialised: no Locked / OTP fields, and no smartcard fields either
    // (a user created after the 2FA launch never had a smartcard).
    let e = w.enquire(MAKER, "B0123404");
    assert_eq!(
        keys(&e),
        [
            "access_channel",
            "clearing_house_options",
            "disable_after",
            "email",
            "enable_from",
            "functions",
            "internal_external",
            "organisation",
            "other_names",
            "role",
            "status",
            "surname",
            "transaction_limit_hkd",
            "user_groups",
            "user_id",
        ],
        "{e:#}"
    );
    assert_eq!(e["organisation"], "B01234 ABC SECURITIES");
    assert_eq!(e["internal_external"], "EXTERNAL");
    assert_eq!(e["status"], "ENABLED");
    assert_eq!(e["surname"], "Chan");
    assert_eq!(e["other_names"], "Siu Ming");
    assert_eq!(e["email"], "sm.chan@abc.com.hk");
    assert_eq!(e["enable_from"], Value::Null);
    assert_eq!(e["clearing_house_options"], "Cash");
    assert_eq!(e["access_channel"], "CST");
    assert_eq!(e["transaction_limit_hkd"], "1000.50");
    assert_eq!(e["user_groups"], json!(["11", "A"]));
    assert!(e["disable_after"].as_str().is_some_and(|d| !d.is_empty()), "{e:#}");

    // Once 2FA is initialised (the maker's own profile), Locked and OTP Enabled appear.
    let x1 = w.enquire(MAKER, MAKER);
    assert_eq!(x1["locked"], false);
    assert_eq!(x1["otp_enabled"], true);
    assert_eq!(x1["otp_channel"], "app");
    w.assert_audit_ok();
}

#[test]
fn inline_authorisation_applies_at_once() {
    let w = World::with_das();
    let r = w.inline(MAKER, &create_0404(), CHECKER, PASSWORD).ok();
    assert_eq!(r.json()["status"], "APPROVED");
    assert!(user_exists(&w, "B0123404"));
    let shown = w.request_show(MAKER, r.request_id());
    assert_eq!(shown["status"], "APPROVED");
    assert_eq!(shown["checker"], CHECKER);

    let r = w.inline(MAKER, &["user", "change", USER1, "--email", "wk.cheung2@abc.com.hk"], CHECKER2, PASSWORD).ok();
    assert_eq!(r.json()["status"], "APPROVED");
    assert_eq!(w.enquire(MAKER, USER1)["email"], "wk.cheung2@abc.com.hk");
    assert!(w.request_list(MAKER, Some("PENDING")).is_empty());
    w.assert_audit_ok();
}

#[test]
fn a_wrong_authorisation_code_creates_nothing_and_counts_against_the_checker() {
    let w = World::with_das();
    let before = w.state();
    for attempt in 1..=4 {
        let r = w.inline(MAKER, &create_0404(), CHECKER, WRONG_PASSWORD).expect(Exit::Auth);
        assert!(r.message().contains("authorisation code"), "attempt {attempt}: {r}");
        assert_eq!(w.state(), before, "attempt {attempt} changed something");
        w.advance(mins(1));
    }
    assert_eq!(w.enquire(MAKER, CHECKER)["locked"], false);
    // The lock message says who unlocks a DA.
    w.inline(MAKER, &create_0404(), CHECKER, WRONG_PASSWORD).refused(Exit::Locked, &["locked", "DA3"]);
    assert_eq!(w.state(), before);
    assert_eq!(w.enquire(MAKER, CHECKER)["locked"], true);
    assert!(!user_exists(&w, "B0123404"));
    assert!(w.request_list(MAKER, None).is_empty());

    // Locked: even the right code is refused, and the checker's session says it is locked
    // (the lock ended it) and who unlocks.
    w.inline(MAKER, &create_0404(), CHECKER, PASSWORD).refused(Exit::Locked, &["locked", "DA3"]);
    assert_eq!(w.state(), before);
    w.as_user(CHECKER, &["request", "list"]).refused(Exit::Locked, &["locked", "DA3"]);
    assert_eq!(w.count(&format!("SELECT COUNT(*) FROM sessions WHERE user_id = '{CHECKER}' AND ended_at IS NULL")), 0);
    // The other checker still works.
    w.inline(MAKER, &create_0404(), CHECKER2, PASSWORD).ok();
    assert!(user_exists(&w, "B0123404"));
    w.assert_audit_ok();
}

#[test]
fn a_queued_approval_needs_the_password_and_a_fresh_otp() {
    let w = World::with_das();
    let a = w.submit(MAKER, &create_0404());
    let b = w.submit(MAKER, &create_args("B0123405", "k.ho@abc.com.hk"));
    let before = w.state();
    let code = w.totp(CHECKER);
    w.approve_with(CHECKER, &[a], &code, WRONG_PASSWORD).refused(Exit::Auth, &["wrong authorisation code"]);
    let wrong_otp = if code == "000000" { "000001" } else { "000000" };
    w.approve_with(CHECKER, &[a], wrong_otp, PASSWORD).expect(Exit::Auth);
    w.approve_with(CHECKER, &[a], "12345", PASSWORD).expect(Exit::Invalid);
    w.as_user(CHECKER, &["request", "approve", &a.to_string(), "--otp", &code]).expect(Exit::Usage);
    assert_eq!(w.state(), before);
    assert_eq!(w.cred(CHECKER, "failures != ''"), "1");

    w.approve_with(CHECKER, &[a], &code, PASSWORD).ok();
    assert!(user_exists(&w, "B0123404"));
    // The same code again is a replay: refused, and b stays pending.
    let after_a = w.state();
    w.approve_with(CHECKER, &[b], &code, PASSWORD).expect(Exit::Auth);
    assert_eq!(w.state(), after_a);
    w.approve(CHECKER, &[b]).ok();
    assert!(user_exists(&w, "B0123405"));
    // A successful authorisation resets the failure count.
    assert_eq!(w.cred(CHECKER, "failures"), "");
}

#[test]
fn the_checker_must_not_be_the_maker() {
    let w = World::with_das();
    let before = w.state();
    w.inline(MAKER, &create_0404(), MAKER, PASSWORD).refused(Exit::NotPermitted, &["different DA from the maker"]);
    assert_eq!(w.state(), before);

    // Queued: the maker cannot approve (or reject) the maker's own request.
    let id = w.submit(MAKER, &create_0404());
    let queued = w.state();
    w.approve(MAKER, &[id]).refused(Exit::NotPermitted, &["only a DA checker"]);
    w.as_user(MAKER, &["request", "reject", &id.to_string(), "--reason", "mine"])
        .refused(Exit::NotPermitted, &["needs the role DA CHECKER"]);
    assert_eq!(w.state(), queued);
    assert_eq!(w.request_show(MAKER, id)["status"], "PENDING");
}

#[test]
fn the_checker_must_not_be_the_subject() {
    let w = World::with_das();
    let id = w.submit(MAKER, &["user", "change", CHECKER, "--limit", "1000"]);
    let queued = w.state();

    w.approve(CHECKER, &[id]).refused(Exit::NotPermitted, &["no one-handed operation"]);
    assert_eq!(w.state(), queued);
    assert_eq!(w.enquire(MAKER, CHECKER)["transaction_limit_hkd"], "0.00");

    // Inline, too.
    w.inline(MAKER, &["user", "change", CHECKER, "--surname", "Wang"], CHECKER, PASSWORD).expect(Exit::NotPermitted);
    assert_eq!(w.state(), queued);

    // Nor may the subject reject it.
    w.as_user(CHECKER, &["request", "reject", &id.to_string(), "--reason", "not me"])
        .refused(Exit::NotPermitted, &["no one-handed operation"]);
    assert_eq!(w.state(), queued);

    w.approve(CHECKER2, &[id]).ok();
    assert_eq!(w.enquire(MAKER, CHECKER)["transaction_limit_hkd"], "1000.00");
    assert_eq!(w.request_show(MAKER, id)["checker"], CHECKER2);
}

#[test]
fn business_users_and_checkers_cannot_submit() {
    let w = World::with_das();
    w.first_time_app(USER1);
    let id = w.submit(MAKER, &create_0404());
    let before = w.state();

    for args in [
        create_args("B0123405", "a.b@abc.com.hk"),
        vec!["user", "change", USER2, "--email", "x.y@abc.com.hk"],
        vec!["request", "list"],
        vec!["user", "enquire", USER2],
        vec!["listing"],
    ] {
        w.as_user(USER1, &args).refused(Exit::NotPermitted, &["business users cannot use DMS functions"]);
    }
    w.approve(USER1, &[id]).expect(Exit::NotPermitted);
    assert_eq!(w.state(), before);

    // A checker authorises; it does not submit.
    for args in [
        create_args("B0123405", "a.b@abc.com.hk"),
        vec!["user", "delete", USER2],
        vec!["user", "unlock", USER2],
        vec!["request", "cancel", "1"],
    ] {
        w.as_user(CHECKER, &args).expect(Exit::NotPermitted);
    }
    assert_eq!(w.state(), before);
    assert_eq!(w.request_show(MAKER, id)["status"], "PENDING");
}

/// The operator registers C05678 and its three DAs through DA3; C05678X2 signs in.
fn second_participant(w: &World) {
    w.first_time_app(OPERATOR);
    w.participant_add("C05678", "XYZ Brokers", "hkscc-cp", 10).ok();
    for (role, email) in [("maker", "m@xyz.com.hk"), ("checker", "c1@xyz.com.hk"), ("checker", "c2@xyz.com.hk")] {
        w.da3_add("C05678", role, "Ho", email).ok();
    }
    w.first_time_app("C05678X2");
}

#[test]
fn a_da_of_another_participant_cannot_see_or_authorise() {
    let w = World::with_das();
    second_participant(&w);
    let id = w.submit(MAKER, &create_0404());
    let before = w.state();
    let other = "C05678X2";
    let n = id.to_string();

    w.as_user(other, &["request", "show", &n]).expect(Exit::NotPermitted);
    w.approve(other, &[id]).refused(Exit::NotPermitted, &["another participant"]);
    w.as_user(other, &["request", "reject", &n, "--reason", "not ours"]).expect(Exit::NotPermitted);
    w.as_user(other, &["request", "list", "--participant", PARTICIPANT]).expect(Exit::NotPermitted);
    assert_eq!(w.request_list(other, None), Vec::<Value>::new());
    w.as_user(other, &["user", "enquire", USER1]).expect(Exit::NotPermitted);
    w.as_user(other, &["listing", "--participant", PARTICIPANT]).expect(Exit::NotPermitted);
    // Nor inline, named by B01234's maker.
    w.inline(MAKER, &create_args("B0123405", "a.b@abc.com.hk"), other, PASSWORD)
        .refused(Exit::NotPermitted, &["not a DA of participant B01234"]);
    assert_eq!(w.state(), before);
    w.approve(CHECKER, &[id]).ok();
}

#[test]
fn the_participant_keeps_one_maker_and_two_checkers() {
    let w = World::with_das();
    let before = w.state();
    // A DA's status is DA3's; DMS can still take it out by its dates (yesterday was its last).
    w.as_user(MAKER, &["user", "change", CHECKER2, "--status", "disabled"]).refused(Exit::NotPermitted, &["DA3"]);
    let disable_x3 = ["user", "change", CHECKER2, "--disable-after", "2026-11-22"];
    w.as_user(MAKER, &disable_x3).refused(Exit::NotPermitted, &["at least one DA maker and two DA checkers"]);
    // DAs are deleted by the exchange.
    w.as_user(MAKER, &["user", "delete", CHECKER2]).refused(Exit::NotPermitted, &["DA3"]);
    w.inline(MAKER, &disable_x3, CHECKER, PASSWORD).expect(Exit::NotPermitted);
    assert_eq!(w.state(), before);
    assert_eq!(w.enquire(MAKER, CHECKER2)["disable_after"], serde_json::Value::Null);

    // With a third checker one may go, but the rule is checked again at approval.
    w.first_time_app(OPERATOR);
    assert_eq!(w.da3_add(PARTICIPANT, "checker", "Ng", "w.ng@abc.com.hk").ok().json()["da_id"], "B01234X4");
    let first = w.submit(MAKER, &disable_x3);
    let second = w.submit(MAKER, &["user", "change", "B01234X4", "--disable-after", "2026-11-22"]);
    w.approve(CHECKER, &[first]).ok();
    assert_eq!(w.enquire(MAKER, CHECKER2)["disable_after"], "2026-11-22");
    let queued = w.state();
    w.approve(CHECKER, &[second]).refused(Exit::NotPermitted, &["at least one DA maker and two DA checkers"]);
    assert_eq!(w.state(), queued);
    assert_eq!(w.enquire(MAKER, "B01234X4")["disable_after"], serde_json::Value::Null);
    // The disabled checker's session ended with the change and says why (exit 4, as
    // signing in does).
    let m = w.as_user(CHECKER2, &["request", "list"]).expect(Exit::Locked).message();
    assert!(m.contains("until 22-Nov-26") && !m.contains("from -"), "{m}");
    w.login(CHECKER2).expect(Exit::Locked);
}

#[test]
fn a_full_quota_refuses_creation_and_names_da4() {
    let w = World::with_das();
    w.sql_write("UPDATE participants SET max_users = 6 WHERE participant_id = 'B01234'");
    let before = w.state();
    w.as_user(MAKER, &create_0404()).refused(Exit::Conflict, &["DA4"]);
    let gen = ["user", "create", "--generate", "--surname", "Ho", "--other-names", "Ka", "--email", "k@abc.com.hk"];
    w.as_user(MAKER, &gen).expect(Exit::Conflict);
    assert_eq!(w.state(), before);

    // Changes are still allowed at a full quota, and room made by DA4 is used at once.
    w.as_user(MAKER, &["user", "change", USER1, "--surname", "Cheung"]).ok();
    w.sql_write("UPDATE participants SET max_users = 7 WHERE participant_id = 'B01234'");
    let r = w.inline(MAKER, &gen, CHECKER, PASSWORD).ok();
    assert_eq!(r.json()["user_id"], "B0123404");
}

#[test]
fn a_full_quota_is_checked_again_at_approval() {
    let w = World::with_das();
    let id = w.submit(MAKER, &create_0404());
    w.sql_write("UPDATE participants SET max_users = 6 WHERE participant_id = 'B01234'");
    let before = w.state();
    w.approve(CHECKER, &[id]).refused(Exit::Conflict, &["DA4"]);
    assert_eq!(w.state(), before);
}

#[test]
fn a_user_id_is_taken_once_and_never_reused() {
    let w = World::with_das();
    let before = w.state();
    w.as_user(MAKER, &create_args(USER1, "sm.chan@abc.com.hk")).refused(Exit::Conflict, &["taken"]);
    w.as_user(MAKER, &create_args("B01234X5", "sm.chan@abc.com.hk")).expect(Exit::Invalid); // a DA suffix
    w.as_user(MAKER, &create_args("C0567801", "sm.chan@abc.com.hk")).expect(Exit::Invalid); // another participant's
    assert_eq!(w.state(), before);

    // A pending create reserves its ID.
    w.as_user(MAKER, &create_0404()).ok();
    w.as_user(MAKER, &create_0404()).expect(Exit::Conflict);

    // Delete B0123403: its ID is retired.
    let del = w.submit(MAKER, &["user", "delete", USER3]);
    w.approve(CHECKER, &[del]).ok();
    assert!(!user_exists(&w, USER3));
    // No command lists the retired IDs.
    assert_eq!(w.count("SELECT COUNT(*) FROM retired_user_ids WHERE user_id = 'B0123403'"), 1);
    let after_delete = w.state();
    w.as_user(MAKER, &create_args(USER3, "sm.chan@abc.com.hk")).refused(Exit::Conflict, &["never reused"]);
    assert_eq!(w.state(), after_delete);

    // Generate User ID skips the retired B0123403 and the reserved B0123404.
    let gen = ["user", "create", "--generate", "--surname", "Ho", "--other-names", "Ka", "--email", "k@abc.com.hk"];
    assert_eq!(w.as_user(MAKER, &gen).ok().json()["user_id"], "B0123405");
}

#[test]
fn a_stale_request_is_refused_and_the_first_change_stays() {
    let w = World::with_das();
    let first = w.submit(MAKER, &["user", "change", USER1, "--email", "first@abc.com.hk"]);
    let second = w.submit(MAKER, &["user", "change", USER1, "--email", "second@abc.com.hk", "--surname", "Zhang"]);
    w.approve(CHECKER, &[first]).ok();
    let after_first = w.state();
    w.approve(CHECKER2, &[second]).refused(Exit::Conflict, &["stale"]);
    assert_eq!(w.state(), after_first);
    let e = w.enquire(MAKER, USER1);
    assert_eq!(e["email"], "first@abc.com.hk");
    assert_eq!(e["surname"], "CHEUNG");
    assert_eq!(w.request_show(MAKER, second)["status"], "STALE");
}

/// Issue 19 #1, #2 (SPEC §4): a stale bulk request end to end. A file row that changes nothing
/// is counted, not queued; once a subject changes, the request is STALE in the list and in
/// show, an approval is refused at once — before any secret is read — naming every stale
/// request and the subject that changed, and its maker resubmits it against today's profiles.
#[test]
fn a_stale_bulk_request_says_so_before_any_secret_and_is_resubmitted() {
    let w = World::with_das();
    let file = w.write(
        "emails.csv",
        "user_id,email\nB0123401,wk.new@abc.com.hk\nB0123402,ml.new@abc.com.hk\nB0123403,settlement@abc.com.hk\n",
    );
    let dry = w.as_user(MAKER, &["user", "import-emails", &file, "--dry-run", "--page", "1"]).ok().json();
    assert_eq!((dry["rows"].as_i64(), dry["unchanged"].as_i64()), (Some(2), Some(1)), "{dry}");
    let r = w.as_user(MAKER, &["user", "import-emails", &file]).ok();
    let v = r.json();
    assert_eq!((v["rows"].as_i64(), v["unchanged"].as_i64()), (Some(2), Some(1)), "{v}");
    let bulk = v["request_id"].as_i64().expect("an ID");
    assert_eq!(w.request_show(CHECKER, bulk)["subjects"], json!(["B0123401", "B0123402"]), "only the changing rows");
    let other = w.submit(MAKER, &["user", "change", USER1, "--surname", "ZHANG"]);

    // Request `first` changes B0123402: the bulk request is stale now, and says so.
    let first = w.submit(MAKER, &["user", "change", USER2, "--email", "ml.new@abc.com.hk"]);
    w.approve(CHECKER, &[first]).ok();
    let listed = w.request_list(CHECKER, Some("pending"));
    let status_of = |id: i64| listed.iter().find(|r| r["request_id"] == id).map(|r| r["status"].clone());
    assert_eq!(status_of(bulk), Some(json!("STALE")), "{listed:?}");
    assert_eq!(status_of(other), Some(json!("PENDING")));
    assert_eq!(w.request_list(CHECKER, Some("stale")).len(), 1);
    let shown = w.request_show(CHECKER, bulk);
    assert_eq!(shown["status"], "STALE");
    assert!(
        shown["not_applicable"].as_str().is_some_and(|t| t.contains("B0123402") && t.contains("resubmit")),
        "{shown}"
    );

    // Refused at once: without any secret on the command line, it is still the stale error
    // (exit 7), not a request for the password (exit 2); nothing is counted against the checker.
    let before = w.state_and_credentials();
    w.as_user(CHECKER, &["request", "approve", &bulk.to_string()])
        .refused(Exit::Conflict, &[&format!("request {bulk} is stale"), "B0123402", "resubmit"]);
    // A batch names every stale request.
    let also = w.submit(MAKER, &["user", "change", USER3, "--surname", "LAU-LI"]);
    let direct = w.submit(MAKER, &["user", "change", USER3, "--surname", "LAU-HO"]);
    w.approve(CHECKER2, &[direct]).ok();
    let before_batch = w.state_and_credentials();
    let r = w.approve(CHECKER, &[other, bulk, also]).refused(Exit::Conflict, &[&format!("request {bulk} is stale")]);
    assert!(r.message().contains(&format!("request {also} is stale")), "{r}");
    assert_eq!(w.state_and_credentials(), before_batch, "nothing applied, no failure counted");
    assert_ne!(before, before_batch);

    // Its maker resubmits it: the row that now changes nothing is dropped, the old one cancelled.
    w.as_user(CHECKER, &["request", "resubmit", &bulk.to_string()]).expect(Exit::NotPermitted);
    w.as_user(MAKER, &["request", "resubmit", &other.to_string()]).refused(Exit::Conflict, &["not stale"]);
    let v = w.as_user(MAKER, &["request", "resubmit", &bulk.to_string()]).ok().json();
    let again = v["request_id"].as_i64().expect("a new request");
    assert_eq!(
        (v["replaces"].as_i64(), v["rows"].as_i64(), v["unchanged"].as_i64()),
        (Some(bulk), Some(1), Some(1)),
        "{v}"
    );
    assert_eq!(w.request_show(MAKER, bulk)["status"], "CANCELLED");
    w.approve(CHECKER, &[again]).ok();
    assert_eq!(w.enquire(MAKER, USER1)["email"], "wk.new@abc.com.hk");
}

#[test]
fn approving_several_is_all_or_nothing() {
    let w = World::with_das();
    let good = w.submit(MAKER, &["user", "change", USER2, "--email", "good@abc.com.hk"]);
    let first = w.submit(MAKER, &["user", "change", USER1, "--email", "first@abc.com.hk"]);
    let stale = w.submit(MAKER, &["user", "change", USER1, "--surname", "Zhang"]);
    w.approve(CHECKER, &[first]).ok();
    let before = w.state();
    w.approve(CHECKER, &[good, stale]).expect(Exit::Conflict);
    assert_eq!(w.state(), before);
    assert_eq!(w.enquire(MAKER, USER2)["email"], "ml.ho@abc.com.hk");
    w.approve(CHECKER, &[good]).ok();
    assert_eq!(w.enquire(MAKER, USER2)["email"], "good@abc.com.hk");
}

#[test]
fn a_request_expires() {
    let w = World::with_das();
    w.sql_write("INSERT OR REPLACE INTO settings (key, value) VALUES ('request-expiry-hours', '1')");
    let id = w.submit(MAKER, &create_0404());
    w.advance(mins(61));
    w.login(CHECKER).ok(); // the old session is 61 minutes idle
    let rows = w.request_list(CHECKER, Some("EXPIRED"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["request_id"], id);
    assert_eq!(rows[0]["status"], "EXPIRED");
    let before = w.state();
    w.approve(CHECKER, &[id]).refused(Exit::Conflict, &["EXPIRED"]);
    assert_eq!(w.state(), before);
    // An expired request frees its reserved ID.
    w.login(MAKER).ok();
    assert!(!user_exists(&w, "B0123404"));
    w.as_user(MAKER, &create_0404()).ok();
    w.assert_audit_ok();
}

#[test]
fn reject_with_a_reason_and_cancel_by_the_maker() {
    let w = World::with_das();
    let rejected = w.submit(MAKER, &create_0404());
    let cancelled = w.submit(MAKER, &create_args("B0123405", "k.ho@abc.com.hk"));
    let kept = w.submit(MAKER, &create_args("B0123406", "w.ng@abc.com.hk"));

    w.as_user(CHECKER, &["request", "reject", &rejected.to_string(), "--reason", "   "]).expect(Exit::Invalid);
    let r = w.as_user(CHECKER, &["request", "reject", &rejected.to_string(), "--reason", "wrong surname"]).ok();
    assert_eq!(r.json()["status"], "REJECTED");
    let shown = w.request_show(MAKER, rejected);
    assert_eq!(shown["status"], "REJECTED");
    assert_eq!(shown["reason"], "wrong surname");
    assert_eq!(shown["checker"], CHECKER);

    // Only its maker cancels: not a checker, not another maker.
    w.as_user(CHECKER, &["request", "cancel", &cancelled.to_string()]).expect(Exit::NotPermitted);
    w.first_time_app(OPERATOR);
    w.da3_add(PARTICIPANT, "maker", "Ng", "w.ng@abc.com.hk").ok();
    w.first_time_app("B01234X4");
    w.as_user("B01234X4", &["request", "cancel", &cancelled.to_string()])
        .refused(Exit::NotPermitted, &["only its maker"]);
    assert_eq!(w.request_show(MAKER, cancelled)["status"], "PENDING");
    let r = w.as_user(MAKER, &["request", "cancel", &cancelled.to_string()]).ok();
    assert_eq!(r.json()["status"], "CANCELLED");

    let before = w.state();
    for id in [rejected, cancelled] {
        w.approve(CHECKER2, &[id]).refused(Exit::Conflict, &["already"]);
        w.as_user(MAKER, &["request", "cancel", &id.to_string()]).expect(Exit::Conflict);
        w.as_user(CHECKER2, &["request", "reject", &id.to_string(), "--reason", "again"]).expect(Exit::Conflict);
    }
    assert_eq!(w.state(), before);
    assert!(!user_exists(&w, "B0123404") && !user_exists(&w, "B0123405"));
    w.approve(CHECKER2, &[kept]).ok();
    assert!(user_exists(&w, "B0123406"));
    w.assert_audit_ok();
}

#[test]
fn two_checkers_racing_on_one_request_exactly_one_wins() {
    let w = World::with_das();
    let id = w.submit(MAKER, &create_0404());
    let n = id.to_string();
    let racers: Vec<Spawned> = [CHECKER, CHECKER2]
        .iter()
        .map(|checker| {
            let code = w.totp(checker);
            let args = ["--format", "json", "request", "approve", &n, "--otp", &code, "--password-stdin"];
            w.spawn(Some(checker), &args, Some(&line(PASSWORD)))
        })
        .collect();
    let runs: Vec<Run> = racers.into_iter().map(Spawned::wait).collect();
    let mut exits: Vec<Exit> = runs.iter().map(Run::exit).collect();
    exits.sort_unstable();
    assert_eq!(exits, [Exit::Ok, Exit::Conflict], "{}\n{}", runs[0], runs[1]);
    let loser = runs.iter().find(|r| r.exit() == Exit::Conflict).expect("a loser");
    let m = loser.message();
    assert!(m.contains("already APPROVED") || m.contains("decided by someone else"), "the loser is told why: {loser}");
    let winner = runs.iter().find(|r| r.exit() == Exit::Ok).expect("a winner");
    assert_eq!(winner.json()["status"], "APPROVED");
    assert!(user_exists(&w, "B0123404"));
    // The audit trail has no command of its own for counting.
    assert_eq!(w.count("SELECT COUNT(*) FROM audit WHERE action = 'request.approved'"), 1);
    assert_eq!(w.count("SELECT COUNT(*) FROM audit WHERE action = 'user.created'"), 1);
    w.assert_audit_ok();
}

#[test]
fn unlock_reset_makes_the_next_logon_a_first_time_logon() {
    let w = World::with_das();
    w.first_time_app(USER2);
    for attempt in 1..=5 {
        w.advance(mins(1));
        let r = w.login_with(USER2, WRONG_PASSWORD, "123456");
        assert_eq!(r.exit(), if attempt < 5 { Exit::Auth } else { Exit::Locked }, "attempt {attempt}:\n{r}");
    }
    let e = w.enquire(MAKER, USER2);
    assert_eq!(e["locked"], true, "{e:#}");
    // The lock message says who unlocks.
    w.login_with(USER2, PASSWORD, "123456").refused(Exit::Locked, &["Delegated Administrator"]);

    let id = w.submit(MAKER, &["user", "unlock", USER2]);
    assert_eq!(w.enquire(MAKER, USER2)["locked"], true, "queued: nothing yet");
    w.approve(CHECKER, &[id]).ok();
    let e = w.enquire(MAKER, USER2);
    assert!(e.get("locked").is_none() && e.get("otp_enabled").is_none(), "2FA is no longer initialised: {e:#}");
    assert!(w
        .mails_to("ml.ho@abc.com.hk")
        .iter()
        .any(|m| m.contains("Account unlocked and OTP device registration reset")));

    // The old password is gone: first-time logon again (e-mail OTP, password, OTP channel).
    w.advance(mins(5));
    w.login_with(USER2, PASSWORD, "123456").refused(Exit::Auth, &["wrong password"]);
    assert!(w
        .sql("SELECT detail FROM audit WHERE action = 'signin.unmatched' ORDER BY seq DESC LIMIT 1")
        .contains("no password yet"));
    w.first_time_app(USER2);
    assert_eq!(w.enquire(MAKER, USER2)["locked"], false);
    w.assert_audit_ok();
}

#[test]
fn da_assign_gives_a_da_business_user_groups_after_decommissioning() {
    let w = World::with_das();
    w.sql_write("INSERT OR REPLACE INTO settings (key, value) VALUES ('decommission-date', '2026-12-01')");
    let before = w.state();
    w.as_user(MAKER, &["da", "assign", CHECKER, "--groups", "11,A"]).refused(Exit::NotPermitted, &["decommissioning"]);
    assert_eq!(w.state(), before);

    w.sql_write("INSERT OR REPLACE INTO settings (key, value) VALUES ('decommission-date', '2023-09-04')");
    let before = w.state();
    w.as_user(MAKER, &["da", "assign", USER1, "--groups", "11"]).expect(Exit::Invalid); // not a DA
    w.as_user(MAKER, &["da", "assign", CHECKER, "--groups", "11,NOPE"]).expect(Exit::Invalid); // not in the catalogue
    assert_eq!(w.state(), before);
    let r = w.as_user(MAKER, &["da", "assign", CHECKER, "--groups", "11,a"]).ok();
    assert_eq!(r.json()["da_id"], CHECKER);
    let id = r.request_id();
    w.approve(CHECKER, &[id]).expect(Exit::NotPermitted); // the subject
    w.approve(CHECKER2, &[id]).ok();
    assert_eq!(w.enquire(MAKER, CHECKER)["user_groups"], json!(["11", "A"]));
}

// ---------------------------------------------------------------------------------------
// Bulk files

#[test]
fn bulk_email_registration_is_one_request() {
    let w = World::with_das();
    let f = w.write(
        "emails.csv",
        "user_id,email\nB0123401,wk.cheung@new.abc.com.hk\nb0123402,ml.ho@new.abc.com.hk\nB0123403,cf.lau@abc.com.hk\n",
    );
    let before = w.state();
    let v = w.as_user(MAKER, &dry_run(&["user", "import-emails", &f], true)).ok().json();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["rows"], 3);
    assert_eq!(w.state(), before, "--dry-run submits nothing");

    let r = w.as_user(MAKER, &["user", "import-emails", &f]).ok();
    assert_eq!(r.json()["status"], "PENDING");
    assert_eq!(r.json()["rows"], 3);
    assert_eq!(w.request_list(MAKER, None).len(), 1);
    let shown = w.request_show(CHECKER, r.request_id());
    assert_eq!(shown["subjects"].as_array().map(Vec::len), Some(3));
    w.approve(CHECKER, &[r.request_id()]).ok();
    assert_eq!(w.enquire(MAKER, USER1)["email"], "wk.cheung@new.abc.com.hk");
    assert_eq!(w.enquire(MAKER, USER2)["email"], "ml.ho@new.abc.com.hk");
    assert_eq!(w.enquire(MAKER, USER3)["email"], "cf.lau@abc.com.hk");
    w.assert_audit_ok();
}

#[test]
fn a_malformed_bulk_email_file_is_refused_whole_naming_the_line() {
    let w = World::with_das();
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
    let before = w.state();
    for (what, contents, line_no) in cases {
        let f = w.write("bad.csv", &contents);
        for dry in [false, true] {
            let r = w.as_user(MAKER, &dry_run(&["user", "import-emails", &f], dry)).expect(Exit::Invalid);
            assert!(r.message().contains(line_no), "{what}: the message names {line_no}: {r}");
            assert_eq!(w.state(), before, "{what} changed something");
        }
    }
    assert!(w.request_list(MAKER, None).is_empty());
    // The users table is intact.
    let listed = w.as_user(MAKER, &["listing"]).ok().json();
    assert_eq!(listed["quota"]["total_users"], 6, "{listed}");
    assert_eq!(w.count("SELECT COUNT(*) FROM users"), 7, "the six of B01234 and the operator");
}

#[test]
fn a_bulk_email_row_of_another_participant_is_refused_naming_the_line() {
    let w = World::with_das();
    second_participant(&w);
    let f = w.write("emails.csv", "user_id,email\nB0123401,a@abc.com.hk\nC05678X1,b@abc.com.hk\n");
    let before = w.state();
    w.as_user(MAKER, &["user", "import-emails", &f]).refused(Exit::NotPermitted, &["line 3"]);
    assert_eq!(w.state(), before);
}

#[test]
fn bulk_creation_generates_empty_ids_and_an_over_quota_file_is_refused_whole() {
    let w = World::with_das();
    let f = w.write(
        "users.csv",
        "user_id,surname,other_names,email,groups,limit\n\
         ,Chan,Tai Wai,tw.chan@abc.com.hk,11,100\n\
         B0123405,Ho,Ka Ming,km.ho@abc.com.hk,,\n\
         ,Lee,Wing,w.lee@abc.com.hk,A C,2500.75\n",
    );
    // Rows the database refuses are named by line, like the rest.
    let before = w.state();
    for (contents, exit) in [
        ("user_id,surname,other_names,email\n,A,B,a@abc.com.hk\nB0123401,C,D,c@abc.com.hk\n", Exit::Conflict), // taken
        ("user_id,surname,other_names,email\n,A,B,a@abc.com.hk\nB01234X7,C,D,c@abc.com.hk\n", Exit::Invalid),  // a DA's
    ] {
        let bad = w.write("bad.csv", contents);
        w.as_user(MAKER, &["user", "import", &bad]).refused(exit, &["line 3"]);
    }
    assert_eq!(w.state(), before);

    let r = w.as_user(MAKER, &["user", "import", &f]).ok();
    assert_eq!(r.json()["rows"], 3);
    // The reply names the IDs it made, generated ones included, in the file's order (issue 20).
    assert_eq!(r.json()["user_ids"], json!(["B0123404", "B0123405", "B0123406"]), "{r}");
    let id = r.request_id();
    let subjects = w.request_show(CHECKER, id)["subjects"].clone();
    assert_eq!(subjects, json!(["B0123404", "B0123405", "B0123406"]), "generated IDs skip the file's own");
    w.approve(CHECKER, &[id]).ok();
    assert_eq!(w.enquire(MAKER, "B0123404")["surname"], "Chan");
    assert_eq!(w.enquire(MAKER, "B0123406")["transaction_limit_hkd"], "2500.75");
    assert_eq!(w.enquire(MAKER, "B0123406")["user_groups"], json!(["A", "C"]));

    // 9 users now; a file of 3 more against a maximum of 11 is refused whole.
    w.sql_write("UPDATE participants SET max_users = 11 WHERE participant_id = 'B01234'");
    let f = w.write(
        "more.csv",
        "user_id,surname,other_names,email\n,A,B,a@abc.com.hk\n,C,D,c@abc.com.hk\n,E,F,e@abc.com.hk\n",
    );
    let before = w.state();
    for dry in [true, false] {
        w.as_user(MAKER, &dry_run(&["user", "import", &f], dry)).refused(Exit::Conflict, &["DA4"]);
    }
    assert_eq!(w.state(), before);
    let listed = w.as_user(MAKER, &["listing"]).ok().json();
    assert_eq!(listed["quota"]["total_users"], 9);
}

/// Issue 19 #4: the queue's filters — maker, checker, kind, the period (Hong Kong days) and the
/// subject — each narrowing `request list`; a kind that is not one is refused naming the kinds.
#[test]
fn request_list_filters_by_maker_checker_kind_period_and_subject() {
    let w = World::with_das();
    let a = w.submit(MAKER, &["user", "change", USER1, "--surname", "ZHANG"]);
    let b = w.submit(MAKER, &["user", "delete", USER3]);
    w.approve(CHECKER, &[a]).ok();
    let ids = |extra: &[&str]| -> Vec<i64> {
        let mut args = vec!["request", "list"];
        args.extend(extra);
        let v = w.as_user(CHECKER2, &args).ok().json();
        v["requests"].as_array().expect("requests").iter().filter_map(|r| r["request_id"].as_i64()).collect()
    };
    assert_eq!(ids(&[]), [b, a], "all, newest first");
    assert_eq!(ids(&["--maker", MAKER]), [b, a]);
    assert!(ids(&["--maker", CHECKER]).is_empty());
    assert_eq!(ids(&["--checker", CHECKER]), [a]);
    assert_eq!(ids(&["--kind", "delete-user"]), [b]);
    assert_eq!(ids(&["--subject", USER1]), [a]);
    assert_eq!(ids(&["--status", "pending", "--kind", "change-user"]), Vec::<i64>::new());
    assert_eq!(ids(&["--from", "2026-11-23", "--to", "2026-11-23"]), [b, a], "the fixture's day");
    assert!(ids(&["--from", "2026-11-24"]).is_empty());
    assert!(ids(&["--to", "2026-11-22"]).is_empty());
    w.as_user(CHECKER2, &["request", "list", "--kind", "rename"]).refused(Exit::Invalid, &["--kind", "import-emails"]);
    w.as_user(CHECKER2, &["request", "list", "--status", "done"]).refused(Exit::Invalid, &["STALE", "all"]);
}

/// Issue 19 #3, #5 (SPEC §4 "what was decided stays visible"): an approved request shows, in
/// every format, each field it changed — the value it replaced and the value it set — with its
/// maker, checker, decision time and whether it was authorised inline; the audit rows use the
/// public names and `{before, after}`, and a created profile is recorded whole.
#[test]
fn an_approved_request_keeps_what_it_changed_from_and_to() {
    let w = World::with_das();
    let id = w.submit(MAKER, &["user", "change", USER1, "--email", "wk.new@abc.com.hk", "--limit", "2000"]);
    w.approve(CHECKER, &[id]).ok();
    let v = w.request_show(CHECKER2, id);
    assert_eq!(
        (v["status"].as_str(), v["maker"].as_str(), v["checker"].as_str()),
        (Some("APPROVED"), Some(MAKER), Some(CHECKER))
    );
    assert!(v["decided_at"].is_string() && v["inline"] == json!(false), "{v:#}");
    let applied = v["applied"].as_array().expect("applied");
    assert_eq!(applied.len(), 1, "{v:#}");
    assert_eq!((applied[0]["user_id"].as_str(), applied[0]["action"].as_str()), (Some(USER1), Some("change")));
    assert_eq!(applied[0]["diff"]["email"], json!({ "before": "wk.cheung@abc.com.hk", "after": "wk.new@abc.com.hk" }));
    assert_eq!(applied[0]["diff"]["transaction_limit_hkd"], json!({ "before": "1000000.00", "after": "2000.00" }));
    let csv = w.raw_as(CHECKER2, &["--format", "csv", "request", "show", &id.to_string()]).ok().stdout;
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("user_id,action,field,before,after"), "{csv}");
    assert!(csv.contains("B0123401,change,email,wk.cheung@abc.com.hk,wk.new@abc.com.hk"), "{csv}");
    let table = w.raw_as(CHECKER2, &["request", "show", &id.to_string()]).ok().stdout;
    assert!(table.contains("Before") && table.contains("After") && table.contains("wk.new@abc.com.hk"), "{table}");

    // Inline, created whole: every field of the profile, before null.
    let mut create = create_args("B0123404", "sm.chan@abc.com.hk");
    let code = w.totp(CHECKER);
    create.extend(["--checker", CHECKER, "--otp", &code, "--password-stdin"]);
    let made = w.as_user_stdin(MAKER, &create, &line(PASSWORD)).ok().json();
    let created = w.request_show(CHECKER2, made["request_id"].as_i64().expect("id"));
    assert_eq!(created["inline"], json!(true), "{created:#}");
    let diff = &created["applied"][0]["diff"];
    assert_eq!(created["applied"][0]["action"], "create");
    assert_eq!(diff["surname"], json!({ "before": null, "after": "Chan" }), "{created:#}");
    assert!(diff.get("user_groups").is_some() && diff.get("access_channel").is_some(), "{created:#}");
    let audit = w.as_user(CHECKER2, &["report", "audit"]).ok().json();
    let row = audit["audit"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["action"] == "user.changed")
        .cloned()
        .expect("a change row");
    let detail: Value =
        serde_json::from_str(row["detail"].as_str().unwrap_or("{}")).unwrap_or_else(|_| row["detail"].clone());
    assert_eq!(detail["change"]["email"]["before"], "wk.cheung@abc.com.hk", "{row}");
}

/// Issue 20, the CSV round trip: dms's CSV writes `'+x@…` for an address a spreadsheet would
/// run as a formula; that cell fed back to a bulk file is the address itself, not one with a
/// quote (a `'` before anything else stays the value's own).
#[test]
fn a_formula_guarded_cell_reads_back_as_the_value_dms_wrote() {
    let w = World::with_das();
    let f = w.write("in.csv", "user_id,email\nB0123401,'+wk.new@abc.com.hk\n");
    let id = w.submit(MAKER, &["user", "import-emails", &f]);
    w.approve(CHECKER, &[id]).ok();
    assert_eq!(w.enquire(MAKER, USER1)["email"], "+wk.new@abc.com.hk");
    // Exported, then imported again: the same address, so the row changes nothing.
    let csv = w.raw_as(MAKER, &["--format", "csv", "listing"]).ok().stdout;
    let row = csv.lines().find(|l| l.starts_with("B0123401,")).expect("the row");
    assert!(row.contains(",'+wk.new@abc.com.hk,"), "guarded on the way out: {row}");
    let email = row.split(',').nth(3).expect("the email column");
    let back = w.write("back.csv", &format!("user_id,email\nB0123401,{email}\n"));
    w.as_user(MAKER, &["user", "import-emails", &back, "--dry-run"]).refused(Exit::Invalid, &["nothing to change"]);
}
