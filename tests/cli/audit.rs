//! The keyed audit trail (SPEC §7): someone who can write the database but not read the key
//! file can neither rewrite nor forge rows; checkpoints catch rows cut off the end, a trail
//! emptied or dropped, or rewritten before them; trails from before the keyed chain keep
//! verifying; the trail streams as JSON Lines for a SIEM.

use crate::harness::*;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Grow the trail by `n` sign-in attempts (a wrong password each; the operator has none yet,
/// so nothing locks), a minute apart.
fn grow(w: &World, n: usize) {
    for _ in 0..n {
        w.advance(mins(1));
        w.otp_request(OPERATOR).ok();
        w.advance(mins(6)); // past the e-mail OTP throttle
    }
}

fn rows(w: &World) -> i64 {
    w.count("SELECT COUNT(*) FROM audit")
}

#[test]
fn verify_reports_the_rows_the_head_and_the_keyed_chain() {
    let w = World::operator();
    grow(&w, 2);
    let v = w.ok(&["audit", "verify"], None);
    let n = rows(&w);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["rows"], n, "{v}");
    assert_eq!(v["first_seq"], 1, "{v}");
    assert_eq!(v["last_seq"], n, "{v}");
    assert_eq!(v["legacy_rows"], 0, "a new database has no legacy rows: {v}");
    assert_eq!(v["keyed"], true, "{v}");
    assert_eq!(v["head"], w.sql(&format!("SELECT lower(hex(hash)) FROM audit WHERE seq = {n}")), "{v}");
    assert_eq!(w.count("SELECT COUNT(*) FROM audit WHERE alg <> 2"), 0, "every row of a new database is keyed");
    let secrets = w.sql("SELECT name FROM secrets ORDER BY name");
    assert_eq!(secrets, "audit-key\naudit-legacy-rows");
    let sealed = w.sql("SELECT hex(value) FROM secrets WHERE name = 'audit-key'");
    assert!(sealed.len() > 2 * 32, "the audit key is sealed (nonce, key, tag), not stored bare: {sealed}");
}

#[test]
fn an_edited_row_rechained_with_plain_sha256_is_named() {
    let w = World::operator();
    grow(&w, 3);
    w.assert_audit_ok();
    // Edit row 3 and recompute every link after it, as anyone without the key file can.
    w.sql_write("UPDATE audit SET actor = 'B0123499' WHERE seq = 3");
    w.rechain_sha256(3);
    w.run(&["audit", "verify"], None).refused(Exit::Integrity, &["row 3", "MAC"]);
}

#[test]
fn a_forged_final_row_is_refused_as_keyed_or_as_legacy() {
    let w = World::operator();
    grow(&w, 1);
    let base = w.snapshot(Sessions::Kept);

    let seq = w.forge_row("signin.login", 2);
    w.run(&["audit", "verify"], None).refused(Exit::Integrity, &[&format!("row {seq}"), "MAC"]);

    let w = World::restore(&base);
    let seq = w.forge_row("signin.login", 1);
    w.run(&["audit", "verify"], None).refused(Exit::Integrity, &[&format!("row {seq}"), "legacy"]);
}

#[test]
fn a_keyed_row_downgraded_to_plain_sha256_fails() {
    let w = World::operator();
    grow(&w, 3);
    w.sql_write("UPDATE audit SET alg = 1, action = 'otp.cancelled' WHERE seq = 2");
    w.rechain_sha256(2);
    w.run(&["audit", "verify"], None).refused(Exit::Integrity, &["row 2", "legacy", "0 legacy rows"]);
}

#[test]
fn the_number_of_legacy_rows_cannot_be_raised_or_removed() {
    let w = World::operator();
    grow(&w, 2);
    let base = w.snapshot(Sessions::Kept);
    // Every row rewritten as legacy, and the recorded count raised to cover them.
    w.sql_write(
        "UPDATE audit SET alg = 1; \
         UPDATE secrets SET value = CAST(zeroblob(7) || X'63' || substr(value, 9) AS BLOB) \
         WHERE name = 'audit-legacy-rows'",
    );
    w.rechain_sha256(1);
    w.run(&["audit", "verify"], None).refused(Exit::Integrity, &["legacy rows", "MAC"]);

    let w = World::restore(&base);
    w.sql_write("DELETE FROM secrets WHERE name = 'audit-legacy-rows'");
    w.run(&["audit", "verify"], None).refused(Exit::Integrity, &["legacy rows", "missing"]);
}

#[test]
fn rows_cut_off_the_end_are_caught_by_a_checkpoint() {
    let w = World::operator();
    grow(&w, 3);
    let cp = w.checkpoint("checkpoint.json");
    let n = cp["last_seq"].as_i64().expect("last_seq");
    // The checkpoint is extended by a trail that grew.
    grow(&w, 1);
    let v = w.ok(&["audit", "verify", "--checkpoint", "checkpoint.json"], None);
    assert_eq!(v["checkpoint"], serde_json::json!({ "last_seq": n, "head": cp["head"] }), "{v}");

    w.sql_write(&format!("DELETE FROM audit WHERE seq >= {}", n - 1));
    // Without an anchor outside the database a shorter trail still verifies ...
    assert_eq!(w.ok(&["audit", "verify"], None)["rows"], n - 2);
    // ... with the checkpoint it does not.
    w.run(&["audit", "verify", "--checkpoint", "checkpoint.json"], None)
        .refused(Exit::Integrity, &[&format!("ends at row {}", n - 2), &format!("row {n}"), "cut off"]);
}

#[test]
fn rows_deleted_before_the_checkpoint_fail() {
    let w = World::operator();
    grow(&w, 4);
    let cp = w.checkpoint("checkpoint.json");
    let n = cp["last_seq"].as_i64().expect("last_seq");
    let base = w.snapshot(Sessions::Kept);

    // A row deleted from the middle.
    w.sql_write("DELETE FROM audit WHERE seq = 3");
    w.run(&["audit", "verify"], None).refused(Exit::Integrity, &["row 4", "row 3"]);
    w.run(&["audit", "verify", "--checkpoint", "checkpoint.json"], None).refused(Exit::Integrity, &["row 4"]);

    // The end cut off before the checkpoint, and the trail grown past it again by real commands:
    // every link is valid, but the checkpoint's row is not the same row.
    let w = World::restore(&base);
    w.sql_write("DELETE FROM audit WHERE seq >= 4");
    grow(&w, 4);
    assert!(rows(&w) >= n, "the trail grew past the checkpoint");
    w.assert_audit_ok();
    w.run(&["audit", "verify", "--checkpoint", "checkpoint.json"], None)
        .refused(Exit::Integrity, &[&format!("row {n}"), "checkpoint", "rewritten"]);
}

#[test]
fn an_emptied_or_dropped_trail_fails() {
    let w = World::operator();
    grow(&w, 2);
    w.checkpoint("checkpoint.json");
    let base = w.snapshot(Sessions::Kept);

    w.sql_write("DELETE FROM audit");
    w.run(&["audit", "verify"], None).refused(Exit::Integrity, &["empty"]);
    w.run(&["audit", "verify", "--checkpoint", "checkpoint.json"], None).refused(Exit::Integrity, &["empty"]);

    let w = World::restore(&base);
    w.sql_write("DROP TABLE audit");
    w.run(&["audit", "verify", "--checkpoint", "checkpoint.json"], None).refused(Exit::Integrity, &["audit table"]);
}

#[test]
fn an_empty_trail_on_a_database_with_users_fails_even_without_its_key() {
    let w = World::demo();
    w.sql_write("DELETE FROM audit; DELETE FROM secrets");
    w.run(&["audit", "verify"], None).refused(Exit::Integrity, &["empty", "users"]);
}

#[test]
fn a_legacy_trail_keeps_verifying_after_the_migration_and_new_rows_are_keyed() {
    let w = World::with_operator();
    w.make_pre_keyed();
    let legacy = rows(&w);
    assert!(legacy >= 5, "a trail worth migrating");
    assert_eq!(w.count("PRAGMA user_version"), 2);

    // The first command migrates the database; the old links verify as they are.
    let v = w.ok(&["audit", "verify"], None);
    assert_eq!(v["rows"], legacy, "{v}");
    assert_eq!(v["legacy_rows"], legacy, "{v}");
    assert_eq!(v["keyed"], false, "no row has been written since the migration: {v}");
    let cp = w.checkpoint("checkpoint.json");

    // The next change creates the audit key: the legacy rows are counted, new rows are keyed.
    w.otp_request(USER2).ok();
    let v = w.ok(&["audit", "verify", "--checkpoint", "checkpoint.json"], None);
    assert_eq!(v["legacy_rows"], legacy, "{v}");
    assert_eq!(v["keyed"], true, "{v}");
    assert!(v["rows"].as_i64().expect("rows") > legacy, "{v}");
    assert_eq!(w.count(&format!("SELECT COUNT(*) FROM audit WHERE seq <= {legacy} AND alg = 1")), legacy);
    assert_eq!(w.count(&format!("SELECT COUNT(*) FROM audit WHERE seq > {legacy} AND alg <> 2")), 0);
    assert_eq!(w.sql(&format!("SELECT lower(hex(hash)) FROM audit WHERE seq = {legacy}")), cp["head"]);

    // A legacy row edited and re-linked with SHA-256 is caught by the first keyed row.
    w.sql_write("UPDATE audit SET detail = '{}' WHERE seq = 2");
    w.rechain_sha256(2);
    w.run(&["audit", "verify"], None).refused(Exit::Integrity, &[&format!("row {legacy}"), "legacy"]);
}

#[test]
fn a_legacy_trail_rewritten_before_the_checkpoint_is_caught_by_it() {
    let w = World::with_operator();
    w.make_pre_keyed();
    w.checkpoint("checkpoint.json");
    // Before any keyed row exists, plain SHA-256 is all there is: only the checkpoint,
    // kept outside the database, tells that the trail was rewritten.
    w.sql_write("UPDATE audit SET action = 'nothing.happened' WHERE seq = 3");
    w.rechain_sha256(3);
    assert_eq!(w.ok(&["audit", "verify"], None)["ok"], true);
    w.run(&["audit", "verify", "--checkpoint", "checkpoint.json"], None)
        .refused(Exit::Integrity, &["checkpoint", "rewritten"]);
}

#[test]
fn a_keyed_trail_stripped_of_its_key_and_rechained_fails_even_without_a_checkpoint() {
    // Issue 18 #3: with write access to the database only, every row rechained with the public
    // scheme and the audit key and the legacy record deleted. The key file (which that person
    // cannot write) records that the trail is keyed: it verifies only as keyed.
    let w = World::operator();
    grow(&w, 2);
    w.checkpoint("checkpoint.json");
    w.stop_server();
    w.sql_write("DELETE FROM secrets WHERE name IN ('audit-key', 'audit-legacy-rows'); UPDATE audit SET alg = 1");
    w.rechain_sha256(1);
    w.run(&["audit", "verify"], None).refused(Exit::Integrity, &["key file", "keyed", "audit key"]);
    w.run(&["audit", "verify", "--checkpoint", "checkpoint.json"], None).refused(Exit::Integrity, &["checkpoint"]);
    // ...and no later write blesses it with a fresh audit key.
    w.otp_request(OPERATOR);
    w.run(&["audit", "verify"], None).refused(Exit::Integrity, &["audit key"]);
    // A keyed row left behind gives it away too.
    let w2 = World::operator();
    grow(&w2, 1);
    w2.stop_server();
    w2.sql_write("DELETE FROM secrets");
    w2.run(&["audit", "verify"], None).refused(Exit::Integrity, &["audit key"]);
}

#[test]
fn the_recorded_number_of_legacy_rows_is_bound_to_the_key_file() {
    // A legacy trail, keyed when first changed: the key file records how many rows came before.
    let w = World::operator();
    grow(&w, 2);
    w.stop_server();
    w.make_pre_keyed();
    grow(&w, 1);
    let v = w.ok(&["audit", "verify"], None);
    assert_eq!(v["keyed"], true, "{v}");
    let key = std::fs::read_to_string(w.path("dms.db.key")).expect("the key file");
    assert!(key.lines().any(|l| l.starts_with("audit-keyed ")), "the key file records the keyed chain:\n{key}");
    // Stripped of its key and passed off as legacy again: refused.
    w.stop_server();
    w.sql_write("DELETE FROM secrets WHERE name IN ('audit-key', 'audit-legacy-rows'); UPDATE audit SET alg = 1");
    w.rechain_sha256(1);
    w.run(&["audit", "verify"], None).refused(Exit::Integrity, &["key file"]);
}

#[test]
fn report_audit_jsonl_is_one_object_per_line_and_after_seq_returns_the_rows_after_n() {
    let w = World::with_operator();
    let n = rows(&w);
    let r = w.raw_as(OPERATOR, &["--format", "jsonl", "report", "audit"]).ok();
    assert!(r.stdout.ends_with('\n'), "{r}");
    let lines: Vec<Value> =
        r.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}"))).collect();
    assert_eq!(lines.len() as i64, n, "one line per row, nothing else:\n{r}");
    for (i, v) in lines.iter().enumerate() {
        let o = v.as_object().unwrap_or_else(|| panic!("not an object: {v}"));
        let keys: Vec<&str> = o.keys().map(String::as_str).collect();
        assert_eq!(keys, ["seq", "at", "actor", "action", "subject", "participant_id", "detail", "via"]);
        assert_eq!(o["seq"], i as i64 + 1);
        assert!(o["detail"].is_object() || o["detail"].is_null(), "detail is parsed JSON: {v}");
        // Who called (SPEC §10): the account of the command, or of the server's client.
        assert!(matches!(o["via"]["transport"].as_str(), Some("embedded" | "unix")), "via names the caller: {v}");
    }
    let created = &lines[0];
    assert_eq!(created["action"], "database.created");
    assert_eq!(created["detail"], serde_json::json!({ "test_clock": true }));

    // --after-seq N: exactly the rows after N, in order.
    let after = n - 3;
    let r = w.raw_as(OPERATOR, &["--format", "jsonl", "report", "audit", "--after-seq", &after.to_string()]).ok();
    let seqs: Vec<i64> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json")["seq"].as_i64().expect("seq"))
        .collect();
    assert_eq!(seqs, [after + 1, after + 2, after + 3], "{r}");
    let last = w.raw_as(OPERATOR, &["--format", "jsonl", "report", "audit", "--after-seq", &n.to_string()]).ok();
    assert_eq!(last.stdout, "", "nothing after the last row");
    // The same selection in the other formats, whose shape is unchanged.
    let json = w.op(&["report", "audit", "--after-seq", &after.to_string()]).ok().json();
    let listed = json["audit"].as_array().expect("audit rows");
    assert_eq!(listed.len(), 3);
    assert!(listed[0]["detail"].is_string(), "JSON keeps detail as text: {json}");

    w.op(&["report", "locked", "--after-seq", "1"]).refused(Exit::Usage, &["--after-seq"]);
    // A single object is one compact line.
    let r = w.raw(&["--format", "jsonl", "audit", "verify"]).ok();
    assert_eq!(r.stdout.lines().count(), 1, "{r}");
    assert_eq!(serde_json::from_str::<Value>(&r.stdout).expect("json")["ok"], true);
}

#[test]
fn a_checkpoint_that_is_a_fifo_huge_or_not_one_is_refused_without_hanging() {
    let w = World::operator();
    let fifo = w.path("fifo.json");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let start = Instant::now();
    w.run(&["audit", "verify", "--checkpoint", "fifo.json"], None)
        .refused(Exit::Invalid, &["fifo.json", "not a regular file"]);
    assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());

    let cp = w.checkpoint("checkpoint.json");
    let huge = format!("{}{}", " ".repeat(1 << 20), serde_json::to_string(&cp).expect("json"));
    w.write("huge.json", &huge);
    w.run(&["audit", "verify", "--checkpoint", "huge.json"], None).refused(Exit::Invalid, &["huge.json", "KiB"]);

    w.write("old.json", r#"{"ok": true, "rows": 3}"#);
    w.run(&["audit", "verify", "--checkpoint", "old.json"], None).refused(Exit::Invalid, &["old.json", "head"]);
    w.write("garbage.json", "not json");
    w.run(&["audit", "verify", "--checkpoint", "garbage.json"], None).refused(Exit::Invalid, &["garbage.json"]);
    w.run(&["audit", "verify", "--checkpoint", "missing.json"], None).refused(Exit::Invalid, &["missing.json"]);
}

/// Issue 19 #5: the auditor's questions — `report audit` filtered by actor, action prefix and
/// subject (with the period), and `dms user history ID`: who made each change, who authorised
/// it, from what to what, oldest first, sign-ins summarised; a DA only for its own users.
#[test]
fn report_audit_filters_and_a_users_history_answer_who_changed_what() {
    let w = World::with_das();
    let id = w.submit(MAKER, &["user", "change", USER1, "--email", "wk.new@abc.com.hk"]);
    w.approve(CHECKER, &[id]).ok();
    w.first_time_app(USER1);
    w.login(USER1).ok();
    let rows = |extra: &[&str]| -> Vec<serde_json::Value> {
        let mut args = vec!["report", "audit"];
        args.extend(extra);
        w.as_user(CHECKER2, &args).ok().json()["audit"].as_array().expect("rows").clone()
    };
    let by_checker = rows(&["--actor", &CHECKER.to_lowercase()]);
    assert!(!by_checker.is_empty() && by_checker.iter().all(|r| r["actor"] == CHECKER), "{by_checker:?}");
    let users = rows(&["--action", "user."]);
    assert!(!users.is_empty() && users.iter().all(|r| r["action"].as_str().is_some_and(|a| a.starts_with("user."))));
    let about = rows(&["--subject", USER1, "--from", "2026-11-23", "--to", "2026-11-23"]);
    assert!(!about.is_empty() && about.iter().all(|r| r["subject"] == USER1), "{about:?}");
    assert!(
        rows(&["--subject", USER1, "--action", "user.changed", "--actor", MAKER]).is_empty(),
        "the checker applied it"
    );

    let h = w.as_user(CHECKER2, &["user", "history", USER1]).ok().json();
    let events = h["history"].as_array().expect("history");
    let changed = events.iter().find(|e| e["action"] == "user.changed").expect("the change");
    assert_eq!((changed["actor"].as_str(), changed["request_id"].as_i64()), (Some(CHECKER), Some(id)), "{h:#}");
    assert_eq!(changed["change"], "email: wk.cheung@abc.com.hk -> wk.new@abc.com.hk", "{h:#}");
    let submitted = events.iter().position(|e| e["action"] == "request.submitted").expect("the submission");
    let applied = events.iter().position(|e| e["action"] == "user.changed").expect("applied");
    assert!(submitted < applied, "oldest first: {h:#}");
    assert_eq!(events[submitted]["actor"], MAKER);
    assert!(events.iter().all(|e| !e["action"].as_str().unwrap_or_default().starts_with("signin.")), "summarised");
    assert!(h["sign_ins"]["events"].as_u64().is_some_and(|n| n >= 1), "{h:#}");
    let table = w.raw_as(CHECKER2, &["user", "history", USER1]).ok();
    assert!(table.stdout.contains("wk.cheung@abc.com.hk -> wk.new@abc.com.hk"), "{table}");
    assert!(table.stdout.contains("Sign-in events:") || table.stderr.contains("Sign-in events:"), "{table}");
    let csv = w.raw_as(CHECKER2, &["--format", "csv", "user", "history", USER1]).ok().stdout;
    assert_eq!(csv.lines().next(), Some("seq,at,action,actor,request_id,change,detail"), "{csv}");
    // A business user may not read it (a DA reads its own participant's users only).
    w.as_user(USER1, &["user", "history", USER1]).expect(Exit::NotPermitted);
}

/// Issue 19 #7: a report says what it is — a table starts with its title (the report, whose,
/// the period, when and by whom) and ends with its row count; JSON carries generated_at,
/// generated_by and the filters; CSV stays the header and the rows.
#[test]
fn a_report_says_what_it_is_in_a_table_and_in_json_and_csv_stays_rows() {
    let w = World::with_das();
    let table = w
        .raw_as(CHECKER, &["report", "audit", "--from", "2026-11-23", "--to", "2026-11-23", "--action", "signin."])
        .ok()
        .stdout;
    let first = table.lines().next().unwrap_or_default();
    assert!(
        first
            .starts_with("Audit trail report, participant B01234 ABC SECURITIES, 2026-11-23 to 2026-11-23; generated "),
        "{table}"
    );
    assert!(first.ends_with(&format!("HKT by {CHECKER}")), "{first}");
    let n = w
        .as_user(CHECKER, &["report", "audit", "--from", "2026-11-23", "--to", "2026-11-23", "--action", "signin."])
        .ok()
        .json()["audit"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default();
    assert!(
        table.trim_end().ends_with(&format!("{n} rows")) || (n == 1 && table.trim_end().ends_with("1 row")),
        "{table}"
    );
    let v = w.as_user(CHECKER, &["report", "locked"]).ok().json();
    assert_eq!(
        (v["generated_by"].as_str(), v["filters"]["participant"].as_str()),
        (Some(CHECKER), Some("B01234")),
        "{v}"
    );
    assert!(v["generated_at"].as_str().is_some_and(|t| t.ends_with("+08:00")), "{v}");
    let csv = w.raw_as(CHECKER, &["--format", "csv", "report", "locked"]).ok().stdout;
    assert_eq!(csv.lines().next(), Some("participant_id,user_id,role,locked_at,unlock_by"), "no title in CSV: {csv}");
}

/// Issue 20: `report readiness --all` is accepted as the README writes it (the exchange-wide
/// default, said outright), and not beside --participant.
#[test]
fn a_report_takes_all_as_the_readme_writes_it() {
    let w = World::with_operator();
    let all = w.op(&["report", "readiness", "--all"]).ok().json();
    let default = w.op(&["report", "readiness"]).ok().json();
    assert_eq!(all["findings"], default["findings"]);
    assert!(all["filters"].get("participant").is_none(), "{all}");
    w.op(&["report", "readiness", "--all", "--participant", "B01234"]).expect(Exit::Usage);
}
