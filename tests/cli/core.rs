//! The enforcement core (issue 7): one maker-checker engine for inline, queued and batch
//! approval, one account gate for every command, a clock read when a check happens, and IDs
//! generated inside the write transaction. Each test here failed on the main branch before the
//! core was rebuilt.

use crate::harness::*;
use std::collections::BTreeSet;

/// Fill the demo participant (max 70, 6 users) to `total` users through one approved bulk
/// creation with generated IDs.
fn fill_to(w: &World, total: usize) {
    let mut csv = String::from("user_id,surname,other_names,email\n");
    for i in 0..total - 6 {
        csv.push_str(&format!(",FILL,USER {i},fill{i}@abc.com.hk\n"));
    }
    let f = w.write("fill.csv", &csv);
    let id = w.submit(MAKER, &["user", "import", &f]);
    w.approve(CHECKER, &[id]).ok();
}

/// The demo participant's TOTAL NO. OF USERS, from its DA maker's listing.
fn total_users(w: &World) -> serde_json::Value {
    w.as_user(MAKER, &["listing"]).ok().json()["quota"]["total_users"].clone()
}

fn pending_ids(w: &World) -> Vec<i64> {
    let mut ids: Vec<i64> =
        w.request_list(MAKER, Some("PENDING")).iter().filter_map(|r| r["request_id"].as_i64()).collect();
    ids.sort_unstable();
    ids
}

#[test]
fn a_batch_approval_checks_the_quota_against_what_the_requests_before_it_leave() {
    let w = World::with_das();
    fill_to(&w, 68);
    let ids: Vec<i64> = ["B01234Q1", "B01234Q2", "B01234Q3"]
        .iter()
        .enumerate()
        .map(|(i, id)| w.submit(MAKER, &create_args(id, &format!("q{i}@abc.com.hk"))))
        .collect();
    let before = w.state();
    let r = w.approve(CHECKER, &ids).refused(Exit::Conflict, &["quota full", &format!("request {}", ids[2])]);
    assert!(r.message().contains("70"), "{r}");
    assert_eq!(w.state(), before, "none of the batch is applied");
    assert_eq!(pending_ids(&w), ids, "all three still wait");
    assert_eq!(total_users(&w), 68);
    // One at a time, the same rule: two fit, the third is refused.
    w.approve(CHECKER, &ids[..2]).ok();
    w.approve(CHECKER, &ids[2..]).refused(Exit::Conflict, &["quota full"]);
    assert_eq!(total_users(&w), 70);
    w.assert_audit_ok();
}

#[test]
fn a_batch_with_two_changes_of_one_user_made_at_the_same_version_applies_neither() {
    let w = World::with_das();
    let first = w.submit(MAKER, &["user", "change", USER2, "--surname", "FIRST"]);
    let second = w.submit(MAKER, &["user", "change", USER2, "--other-names", "SECOND"]);
    let before = w.state();
    w.approve(CHECKER, &[first, second]).refused(Exit::Conflict, &["stale", USER2, &format!("request {second}")]);
    assert_eq!(w.state(), before);
    let e = w.enquire(MAKER, USER2);
    assert_eq!((e["surname"].as_str(), e["other_names"].as_str()), (Some("HO"), Some("MEI LING")));
    // The first alone goes through; the second is then stale on its own too.
    w.approve(CHECKER, &[first]).ok();
    w.approve(CHECKER, &[second]).refused(Exit::Conflict, &["stale"]);
    assert_eq!(w.enquire(MAKER, USER2)["surname"], "FIRST");
}

#[test]
fn the_same_request_twice_in_a_batch_is_invalid_input() {
    let w = World::with_das();
    let id = w.submit(MAKER, &create_args("B01234Q1", "q1@abc.com.hk"));
    let before = w.state();
    let code = w.totp(CHECKER);
    w.approve_with(CHECKER, &[id, id], &code, PASSWORD)
        .refused(Exit::Invalid, &[&format!("request {id} is named twice")]);
    assert_eq!(w.state(), before);
    // The code was not spent: the same code still authorises.
    w.approve_with(CHECKER, &[id], &code, PASSWORD).ok();
}

#[test]
fn a_change_that_could_never_be_approved_is_refused_at_submission() {
    let w = World::with_das();
    let id = w.submit(MAKER, &["user", "change", USER2, "--disable-after", "2027-01-31"]);
    w.approve(CHECKER, &[id]).ok();
    let requests = w.request_list(MAKER, None).len();
    let m = w.as_user(MAKER, &["user", "change", USER2, "--enable-from", "2027-06-01"]).expect(Exit::Invalid).message();
    assert!(m.contains("enable from") && m.contains("disable after"), "{m}");
    assert_eq!(w.request_list(MAKER, None).len(), requests, "no request that can never be approved");
    // Moving both together is fine.
    w.submit(MAKER, &["user", "change", USER2, "--enable-from", "2027-06-01", "--disable-after", "none"]);
}

#[test]
fn parallel_makers_generating_ids_never_collide() {
    let w = World::with_das();
    let racers: Vec<Spawned> = (0..48)
        .map(|i| {
            let surname = format!("RACER{i}");
            let email = format!("r{i}@abc.com.hk");
            let args = [
                "--format",
                "json",
                "user",
                "create",
                "--generate",
                "--surname",
                &surname,
                "--other-names",
                "GEN",
                "--email",
                &email,
            ];
            w.spawn(Some(MAKER), &args, None)
        })
        .collect();
    let mut ids = BTreeSet::new();
    for racer in racers {
        let r = racer.wait().ok();
        let v = r.json();
        assert_eq!(v["status"], "PENDING", "{r}");
        ids.insert(v["user_id"].as_str().unwrap_or_else(|| panic!("no user_id: {r}")).to_string());
    }
    assert_eq!(ids.len(), 48, "48 distinct generated IDs: {ids:?}");
    assert_eq!(pending_ids(&w).len(), 48);
    assert!(ids.iter().all(|id| id.starts_with("B01234") && id.len() == 8));
    w.assert_audit_ok();
}

#[test]
fn a_session_is_refused_once_enable_from_moves_into_the_future() {
    let w = World::with_das();
    w.first_time_app(USER1);
    w.as_user(USER1, &["whoami"]).ok();
    let id = w.submit(MAKER, &["user", "change", USER1, "--enable-from", "2026-11-24"]);
    w.approve(CHECKER, &[id]).ok();
    // The change ended the session it made useless, and the session says why, as sign-in
    // does: the account cannot act before its Enable From (exit 4, not "sign in again").
    let m = w.as_user(USER1, &["whoami"]).expect(Exit::Locked).message();
    assert!(m.contains("24-Nov-26") && !m.contains("sign in again"), "{m}");
    let m = w.login(USER1).expect(Exit::Locked).message();
    assert!(m.contains("24-Nov-26") && m.contains(USER1), "{m}");
    // The next day a new sign-in works again.
    w.at("2026-11-24T10:00:00+08:00");
    w.login(USER1).ok();
    w.as_user(USER1, &["whoami"]).ok();
}

#[test]
fn a_checker_locked_while_its_session_is_open_is_told_it_is_locked() {
    let w = World::with_das();
    let id = w.submit(MAKER, &create_args("B01234Q1", "q1@abc.com.hk"));
    // The checker's own password, mistyped five times in another shell, locks it.
    for _ in 0..5 {
        w.advance(secs(5));
        w.sign_in("elsewhere", CHECKER, WRONG_PASSWORD, "000000");
    }
    let r = w.approve(CHECKER, &[id]).refused(Exit::Locked, &["locked", "DA3"]);
    assert!(!r.message().contains("session has ended"), "{r}");
    w.as_user(CHECKER, &["request", "list"]).refused(Exit::Locked, &["locked"]);
    assert_eq!(pending_ids(&w), vec![id]);
}

#[test]
fn inline_and_queued_approval_refuse_alike() {
    // The same refusal, word for word, whether the checker types the code at the maker's
    // terminal or approves from the queue: one engine.
    let w = World::with_das();
    let inline = w.inline(MAKER, &["user", "change", CHECKER, "--surname", "SELF"], CHECKER, PASSWORD);
    let inline = inline.expect(Exit::NotPermitted).message();
    let id = w.submit(MAKER, &["user", "change", CHECKER, "--surname", "SELF"]);
    let queued = w.approve(CHECKER, &[id]).expect(Exit::NotPermitted).message();
    assert!(inline.contains("no one-handed operation"), "{inline}");
    assert_eq!(queued, format!("request {id}: {inline}"));
}
