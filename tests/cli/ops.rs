//! Operations (SPEC §5, §8): encrypted online backups and verified restores, key rotation that
//! survives SIGKILL at any stage, reminders sent once per threshold, and the notices of
//! maker-checker requests.

use crate::harness::*;
use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const PASSPHRASE: &str = "correct horse battery staple 2026";
/// Everyone with an authenticator app in [`everyone`].
const APP_USERS: [&str; 4] = [OPERATOR, MAKER, CHECKER, CHECKER2];

/// The demo with the operator and the three DAs through first-time logon (app), each signed in
/// (made once per test run).
fn everyone() -> World {
    static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
    World::restore(SNAPSHOT.get_or_init(|| {
        let w = World::with_das();
        w.first_time_app(OPERATOR);
        w.snapshot(Sessions::Kept)
    }))
}

fn backup(w: &World, out: &str) -> Run {
    w.as_user_stdin(OPERATOR, &["backup", "--out", out, "--password-stdin"], &line(PASSPHRASE))
}

/// `dms --db PATH restore FILE --password-stdin` run in `w`'s folder.
fn restore(w: &World, db: &std::path::Path, file: &str, passphrase: &str) -> Run {
    let db = db.to_str().expect("a UTF-8 path");
    w.run(&["--db", db, "restore", file, "--password-stdin"], Some(&line(passphrase)))
}

/// The names in a folder, sorted.
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("the folder")
        .map(|e| e.expect("an entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[track_caller]
fn every_app_user_signs_in(w: &World) {
    for u in APP_USERS {
        w.advance(secs(1));
        let r = w.login(u);
        assert_eq!(r.exit(), Exit::Ok, "{u} signs in with the same authenticator app:\n{r}");
    }
}

// -- backup and restore ----------------------------------------------------------------------

#[test]
fn a_backup_taken_while_a_maker_submits_restores_the_same_users_and_requests_and_the_key() {
    let w = everyone();
    // A maker submitting in another process, in a loop, while the backup runs.
    let commands: Vec<std::process::Command> = (10..40)
        .map(|n| {
            let id = format!("B01234{n}");
            let email = format!("u{n}@abc.com.hk");
            let mut args = vec!["--format", "json"];
            args.extend(create_args(&id, &email));
            let mut c = w.command(Some(MAKER), &args);
            c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
            c
        })
        .collect();
    let maker = std::thread::spawn(move || {
        commands.into_iter().map(|mut c| c.status().expect("dms ran").success()).filter(|ok| *ok).count()
    });
    // Each submission tells the two checkers (read from the mbox: the sqlite3 shell has no
    // busy timeout).
    let start = Instant::now();
    let mails = w.mails().len();
    while w.mails().len() < mails + 6 {
        assert!(start.elapsed() < Duration::from_secs(60), "the maker submits");
        std::thread::sleep(Duration::from_millis(10));
    }
    let made = backup(&w, "dms.age").ok().json();
    let submitted = maker.join().expect("the maker's loop");
    assert_eq!(submitted, 30, "the maker was never held up by the backup");

    assert_eq!(mode(&w.path("dms.age")), 0o600);
    let in_backup = made["rows"]["requests"].as_i64().expect("rows.requests");
    assert!((3..=30).contains(&in_backup), "{made}");
    assert_eq!(made["rows"]["users"], 7, "{made}");
    assert!(made["bytes"].as_i64().expect("bytes") > 0);
    assert!(!std::fs::read(w.path("dms.age")).expect("the file").windows(15).any(|x| x == b"SQLite format 3"));

    let r = w.beside();
    let restored = restore(&w, &r.path("dms.db"), "dms.age", PASSPHRASE).ok().json();
    assert_eq!(restored["rows"]["requests"], in_backup, "{restored}");
    assert_eq!(restored["rows"]["users"], 7);
    assert_eq!(restored["audit"]["ok"], true);
    assert_eq!(mode(&r.path("dms.db")), 0o600);
    assert_eq!(mode(&r.path("dms.db.key")), 0o600);
    assert_eq!(std::fs::read(r.path("dms.db.key")).expect("key"), std::fs::read(w.path("dms.db.key")).expect("key"));
    assert_eq!(names(r.dir()), ["dms.db", "dms.db.key"], "nothing else is left behind");

    // The same users, and the requests of the snapshot: the first ones, unchanged.
    assert_eq!(r.sql("SELECT * FROM users ORDER BY 1"), w.sql("SELECT * FROM users ORDER BY 1"));
    let first = format!("SELECT * FROM requests WHERE request_id <= {in_backup} ORDER BY 1");
    assert_eq!(r.sql(&first), w.sql(&first));
    let v = r.run(&["audit", "verify"], None).ok().json();
    assert_eq!(v["head"], restored["audit"]["head"], "the restore printed the head `audit verify` finds");
    assert_eq!(r.sql("SELECT action FROM audit ORDER BY seq DESC LIMIT 1"), "database.restored");

    // Every session of the backup ended; the key travelled: a DA signs in with the same app.
    std::fs::copy(w.path("B01234X2.session"), r.path("B01234X2.session")).expect("copy the session file");
    r.as_user(CHECKER, &["whoami"]).expect(Exit::Auth);
    r.steps_from(&w);
    every_app_user_signs_in(&r);
    r.as_user(CHECKER, &["request", "list"]).ok();
}

#[test]
fn a_wrong_passphrase_or_a_damaged_or_truncated_backup_writes_nothing() {
    let w = everyone();
    backup(&w, "dms.age").ok();
    let r = w.beside();
    let target = r.path("dms.db");
    restore(&w, &target, "dms.age", "not the passphrase at all!").refused(Exit::Auth, &["wrong passphrase"]);
    assert!(names(r.dir()).is_empty(), "nothing written: {:?}", names(r.dir()));

    let bytes = std::fs::read(w.path("dms.age")).expect("the backup");
    std::fs::write(w.path("cut.age"), &bytes[..bytes.len() - 1000]).expect("write");
    restore(&w, &target, "cut.age", PASSPHRASE).refused(Exit::Invalid, &["damaged or truncated"]);
    assert!(names(r.dir()).is_empty(), "nothing written: {:?}", names(r.dir()));

    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    std::fs::write(w.path("flipped.age"), &flipped).expect("write");
    restore(&w, &target, "flipped.age", PASSPHRASE).refused(Exit::Invalid, &["damaged or truncated"]);
    std::fs::write(w.path("plain.txt"), "not a backup\n").expect("write");
    restore(&w, &target, "plain.txt", PASSPHRASE).refused(Exit::Invalid, &["not a dms backup"]);
    assert!(names(r.dir()).is_empty(), "nothing written: {:?}", names(r.dir()));
    assert!(!names(w.dir()).iter().any(|n| n.contains("restore")), "no working folder left: {:?}", names(w.dir()));

    restore(&w, &target, "dms.age", PASSPHRASE).ok();
}

#[test]
fn restore_never_writes_over_a_database_or_a_key_file_and_backup_never_over_a_file() {
    let w = everyone();
    backup(&w, "dms.age").ok();
    backup(&w, "dms.age").refused(Exit::Conflict, &["already there"]);
    w.as_user_stdin(OPERATOR, &["backup", "--out", "short.age", "--password-stdin"], &line("too short"))
        .refused(Exit::Invalid, &["at least 16"]);
    assert!(!w.path("short.age").exists());
    w.as_user(MAKER, &["backup", "--out", "x.age", "--password-stdin"]).expect(Exit::NotPermitted);

    let before = w.sql("SELECT COUNT(*) FROM audit");
    restore(&w, &w.path("dms.db"), "dms.age", PASSPHRASE).refused(Exit::Conflict, &["restore to a new path"]);
    assert_eq!(w.sql("SELECT COUNT(*) FROM audit"), before, "the live database untouched");
    let r = w.beside();
    std::fs::write(r.path("dms.db.key"), "left behind\n").expect("write");
    restore(&w, &r.path("dms.db"), "dms.age", PASSPHRASE).refused(Exit::Conflict, &["dms.db.key"]);
    assert_eq!(names(r.dir()), ["dms.db.key"]);
}

#[test]
fn a_backup_from_cron_runs_without_a_session_as_the_files_owner() {
    let w = everyone();
    let v = w.ok(&["backup", "--system", "--out", "cron.age", "--password-stdin"], Some(&line(PASSPHRASE)));
    assert_eq!(v["file"], "cron.age");
    assert_eq!(
        w.sql("SELECT actor IS NULL, detail LIKE '%\"by\":\"system\"%' FROM audit WHERE action = 'database.backed-up'"),
        "1|1"
    );
    // Without --system, a session is needed (here: none).
    w.run(&["backup", "--out", "nobody.age", "--password-stdin"], Some(&line(PASSPHRASE))).expect(Exit::Auth);
    assert!(!w.path("nobody.age").exists());
}

// -- key rotation ----------------------------------------------------------------------------

#[test]
fn a_rotated_key_keeps_every_app_working_and_the_old_key_file_no_longer_opens_the_database() {
    let w = everyone();
    w.otp_request(USER1).ok();
    let old_otp = w.last_otp();
    let old_key = std::fs::read(w.path("dms.db.key")).expect("the key file");
    let sealed = w.sql("SELECT hex(totp_key) FROM credentials WHERE totp_key IS NOT NULL ORDER BY user_id");

    let v = w.op(&["hkex", "key", "rotate"]).ok().json();
    assert_eq!(v["rotated"], 4, "{v}");
    assert_eq!(v["audit_key"], true);
    assert_eq!(v["email_otps_invalidated"], 1);
    assert_ne!(std::fs::read(w.path("dms.db.key")).expect("the key file"), old_key);
    assert_eq!(mode(&w.path("dms.db.key")), 0o600);
    assert!(!w.path("dms.db.key.new").exists());
    assert_ne!(w.sql("SELECT hex(totp_key) FROM credentials WHERE totp_key IS NOT NULL ORDER BY user_id"), sealed);
    w.assert_audit_ok();
    every_app_user_signs_in(&w);
    // A table says to take a new backup: the ones before hold the old key (issue 20).
    let r = w.raw_as(OPERATOR, &["hkex", "key", "rotate"]).ok();
    assert!(r.stderr.contains("Take a new backup now"), "{r}");
    // The OTP mailed before the rotation is no longer any use.
    w.run(&["password", "reset", "--user", USER1, "--otp", &old_otp, "--password-stdin"], Some(&line(PASSWORD)))
        .expect(Exit::Auth);

    // The old key file does not open the database any more.
    let new_key = std::fs::read(w.path("dms.db.key")).expect("the key file");
    std::fs::write(w.path("dms.db.key"), &old_key).expect("put the old key back");
    w.run(&["audit", "verify"], None).refused(Exit::Other, &["does not belong to this database"]);
    w.advance(secs(30));
    let code = w.totp(CHECKER);
    w.login_with(CHECKER, PASSWORD, &code).refused(Exit::Other, &["does not belong to this database"]);
    std::fs::write(w.path("dms.db.key"), &new_key).expect("the new key again");
    every_app_user_signs_in(&w);

    // A second rotation, and a backup after it, still restore to a working pair.
    w.op(&["hkex", "key", "rotate"]).ok();
    backup(&w, "after.age").ok();
    let r = w.beside();
    restore(&w, &r.path("dms.db"), "after.age", PASSPHRASE).ok();
    r.steps_from(&w);
    every_app_user_signs_in(&r);
}

/// `hkex key rotate` as the operator, stopped at `stage` (DMS_TEST_PAUSE_AT) and killed there.
/// The process doing the rotation is killed: embedded in either mode (a server killed
/// mid-call is `server::*`'s).
fn kill_rotation_at(w: &World, stage: &str) {
    let mut child = w
        .local_command(Some(OPERATOR), &["--format", "json", "hkex", "key", "rotate"])
        .env("DMS_TEST_PAUSE_AT", stage)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dms");
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    err.read_line(&mut line).expect("read stderr");
    assert!(line.contains(&format!("\"paused\":\"{stage}\"")), "stopped at {stage}: {line}");
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
}

#[test]
fn a_rotation_killed_at_any_stage_leaves_a_key_that_opens_the_database() {
    let base = everyone().snapshot(Sessions::Kept);
    for stage in ["new-key-written", "resealed", "committed", "key-replaced"] {
        let w = World::restore(&base);
        let old_key = std::fs::read(w.path("dms.db.key")).expect("the key file");
        kill_rotation_at(&w, stage);
        let rotated = w.count("SELECT COUNT(*) FROM secrets WHERE name = 'key-fingerprint'") == 1;
        assert_eq!(rotated, stage == "committed" || stage == "key-replaced", "{stage}: committed or not");
        // A read-only command first (it must not need to touch the files), then sign-ins.
        w.assert_audit_ok();
        every_app_user_signs_in(&w);
        w.assert_audit_ok();
        let key_now = std::fs::read(w.path("dms.db.key")).expect("the key file");
        assert_eq!(key_now == old_key, !rotated, "{stage}: the key in place is the one the database needs");
        // Another rotation finishes cleanly from there.
        w.op(&["hkex", "key", "rotate"]).ok();
        assert!(!w.path("dms.db.key.new").exists(), "{stage}");
        every_app_user_signs_in(&w);
        w.assert_audit_ok();
    }
}

#[test]
fn rotations_killed_at_moments_spread_over_their_run_always_leave_a_working_pair() {
    let w = everyone();
    // Killed mid-rotation: the rotating process itself, so embedded in either mode.
    let rotate = || {
        w.local_command(Some(OPERATOR), &["--format", "json", "hkex", "key", "rotate"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dms")
    };
    // How long a whole rotation takes here, process start included; then kills spread over it.
    let start = Instant::now();
    assert!(rotate().wait().expect("a rotation").success());
    let whole = start.elapsed();
    for i in 0..10u32 {
        let mut child = rotate();
        std::thread::sleep(whole * i / 10);
        let _ = child.kill();
        child.wait().expect("reaped");
        w.assert_audit_ok();
        every_app_user_signs_in(&w);
    }
}

// -- reminders -------------------------------------------------------------------------------

fn remind(w: &World, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["hkex", "remind"];
    all.extend_from_slice(args);
    all.push("--system");
    w.ok(&all, None)
}

fn listed(v: &serde_json::Value) -> Vec<(String, i64)> {
    v["reminders"]
        .as_array()
        .unwrap_or_else(|| panic!("no reminders in {v}"))
        .iter()
        .map(|r| (r["user_id"].as_str().expect("user_id").to_string(), r["threshold"].as_i64().unwrap_or(0)))
        .collect()
}

#[test]
fn password_expiry_reminders_go_once_per_threshold_and_a_dry_run_only_lists_them() {
    // Passwords set at FIXTURE_TIME: the operator's, B0123401's and B01234X1's.
    let w = World::ready();
    let set = time(FIXTURE_TIME);
    w.set_now(set + chrono::Duration::days(77)); // 13 days left
    let dry = remind(&w, &["expiring", "--dry-run"]);
    let mut sorted = vec![(MAKER.to_string(), 14), (USER1.to_string(), 14), (OPERATOR.to_string(), 14)];
    sorted.sort();
    let mut got = listed(&dry);
    got.sort();
    assert_eq!(got, sorted, "{dry}");
    assert_eq!(dry["sent"], 0);
    assert_eq!(dry["reminders"][0]["email"].as_str().map(|e| e.contains("***@")), Some(true), "masked: {dry}");
    assert_eq!(w.count("SELECT COUNT(*) FROM reminders"), 0, "a dry run records nothing");
    let mails = w.mails().len();

    let v = remind(&w, &["expiring"]);
    assert_eq!(v["sent"], 3, "{v}");
    let to_user = w.mails_to("wk.cheung@abc.com.hk");
    let last = to_user.last().expect("a reminder to B0123401");
    assert!(last.contains("Subject: CCASS: Your password expires soon"), "{last}");
    assert!(last.contains("in 13 days"), "{last}");
    assert!(!last.contains(USER1) && !last.contains("http") && !last.contains("://"), "no user ID, no link: {last}");
    assert_eq!(w.mails().len(), mails + 3);
    assert_eq!(remind(&w, &["expiring"])["sent"], 0, "the same threshold is never sent twice");
    assert_eq!(w.mails().len(), mails + 3);

    w.advance(chrono::Duration::days(7)); // 6 days left: the 7-day threshold
    let v = remind(&w, &["expiring"]);
    assert_eq!(listed(&v).iter().map(|(_, t)| *t).collect::<Vec<_>>(), [7, 7, 7], "{v}");
    assert_eq!(remind(&w, &["expiring"])["sent"], 0);
    w.advance(chrono::Duration::days(5) + chrono::Duration::hours(12)); // half a day left
    assert_eq!(remind(&w, &["expiring"])["sent"], 3);
    assert_eq!(remind(&w, &["expiring", "--dry-run"])["sent"], 0);
    assert_eq!(w.count("SELECT COUNT(*) FROM reminders WHERE kind = 'expiring'"), 9);
    assert_eq!(w.count("SELECT COUNT(*) FROM audit WHERE action = 'reminders.sent'"), 5, "every run audited");

    // A single threshold with --days, crossed already: one mail for a user who crossed two.
    let w = World::ready();
    w.set_now(set + chrono::Duration::days(85)); // 5 days left: 14 and 7 crossed at once
    let v = remind(&w, &["expiring"]);
    assert_eq!(listed(&v).iter().map(|(_, t)| *t).collect::<Vec<_>>(), [7, 7, 7], "{v}");
    assert_eq!(w.count("SELECT COUNT(*) FROM reminders"), 6, "both thresholds recorded");
    assert_eq!(w.mails_to("wk.cheung@abc.com.hk").iter().filter(|m| m.contains("expires soon")).count(), 1);
}

/// Issue 18 #7: each distinct `--days N` was a new threshold, so ten runs with 80 … 89 sent
/// seven mails to every user. At most one reminder of a kind per user per Hong Kong day.
#[test]
fn one_reminder_of_a_kind_per_user_per_day_whatever_the_days_asked() {
    let w = World::ready();
    w.set_now(time(FIXTURE_TIME) + chrono::Duration::days(5)); // 85 days left
    let mails = w.mails().len();
    let sent: Vec<i64> =
        (80..90).map(|d| remind(&w, &["expiring", "--days", &d.to_string()])["sent"].as_i64().unwrap()).collect();
    assert_eq!(sent, [0, 0, 0, 0, 0, 3, 0, 0, 0, 0], "one run sends, the rest of the day nothing");
    assert_eq!(w.mails().len(), mails + 3);
    assert_eq!(w.mails_to("wk.cheung@abc.com.hk").iter().filter(|m| m.contains("expires soon")).count(), 1);
    // The next day a reminder may go again (the default thresholds are not crossed yet).
    w.advance(chrono::Duration::days(1));
    assert_eq!(remind(&w, &["expiring", "--days", "89"])["sent"], 3);
    assert_eq!(remind(&w, &["expiring"])["sent"], 0);
}

#[test]
fn not_initialised_reminders_go_once_and_name_no_user() {
    let w = World::demo();
    let dry = remind(&w, &["not-initialised", "--dry-run"]);
    let mut who: Vec<String> = listed(&dry).into_iter().map(|(u, _)| u).collect();
    who.sort();
    let mut all = [OPERATOR, USER1, USER2, USER3, MAKER, CHECKER, CHECKER2].map(String::from).to_vec();
    all.sort();
    assert_eq!(who, all, "{dry}");
    assert_eq!(w.mails().len(), 0);
    let v = remind(&w, &["not-initialised"]);
    assert_eq!(v["sent"], 7, "{v}");
    let m = w.mails_to("ml.ho@abc.com.hk").pop().expect("a reminder");
    assert!(m.contains("Subject: CCASS: Set up two-factor authentication"), "{m}");
    assert!(!m.contains(USER2) && !m.contains("://"), "{m}");
    assert_eq!(remind(&w, &["not-initialised"])["sent"], 0, "once");
    assert!(listed(&remind(&w, &["not-initialised", "--dry-run"])).is_empty());
}

// -- notifications ---------------------------------------------------------------------------

/// The subjects of the request notices among `mails`.
fn subjects(mails: &[String]) -> Vec<String> {
    mails
        .iter()
        .filter_map(|m| m.lines().find_map(|l| l.strip_prefix("Subject: ")).map(str::to_string))
        .filter(|s| s.starts_with("CCASS: Request "))
        .collect()
}

const MAKER_EMAIL: &str = "tm.chan@abc.com.hk";
const CHECKER_EMAIL: &str = "sm.wong@abc.com.hk";
const CHECKER2_EMAIL: &str = "ky.lee@abc.com.hk";

#[test]
fn checkers_are_told_a_request_waits_and_its_maker_how_it_ended() {
    let w = World::with_das();
    let id = w.submit(MAKER, &create_args("B0123410", "new.user@abc.com.hk"));
    for to in [CHECKER_EMAIL, CHECKER2_EMAIL] {
        let m = w.mails_to(to);
        assert_eq!(subjects(&m), [format!("CCASS: Request {id} waits for authorisation")], "{to}");
        let body = m.last().expect("the notice");
        assert!(body.contains("Create User Profile"), "{body}");
        assert!(!body.contains("B0123410") && !body.contains("new.user") && !body.contains("://"), "{body}");
    }
    assert!(subjects(&w.mails_to(MAKER_EMAIL)).is_empty(), "the maker is not told of its own request");
    w.approve(CHECKER, &[id]).ok();
    assert_eq!(subjects(&w.mails_to(MAKER_EMAIL)), [format!("CCASS: Request {id} approved")]);

    let id2 = w.submit(MAKER, &create_args("B0123411", "other.user@abc.com.hk"));
    w.as_user(CHECKER2, &["request", "reject", &id2.to_string(), "--reason", "wrong department"]).ok();
    let m = w.mails_to(MAKER_EMAIL).pop().expect("told of the rejection");
    assert!(m.contains(&format!("Subject: CCASS: Request {id2} rejected")) && m.contains("wrong department"), "{m}");

    let id3 = w.submit(MAKER, &create_args("B0123412", "third.user@abc.com.hk"));
    w.advance(chrono::Duration::hours(73));
    w.login(MAKER).ok();
    w.submit(MAKER, &create_args("B0123413", "fourth.user@abc.com.hk"));
    let m = w.mails_to(MAKER_EMAIL).pop().expect("told of the expiry");
    assert!(m.contains(&format!("Subject: CCASS: Request {id3} expired")), "{m}");

    // Inline: approved at the maker's terminal, nobody waits, nobody is told.
    let before = subjects(&w.mails()).len();
    w.login(CHECKER).ok();
    w.inline(MAKER, &create_args("B0123414", "fifth.user@abc.com.hk"), CHECKER, PASSWORD).ok();
    assert_eq!(subjects(&w.mails()).len(), before);

    // A request about a checker is not told to that checker.
    let id4 = w.submit(MAKER, &["da", "assign", CHECKER, "--groups", "11"]);
    let waiting = format!("CCASS: Request {id4} waits for authorisation");
    assert!(!subjects(&w.mails_to(CHECKER_EMAIL)).contains(&waiting));
    assert!(subjects(&w.mails_to(CHECKER2_EMAIL)).contains(&waiting));
}

#[test]
fn the_notifications_setting_turns_request_notices_off() {
    let w = everyone();
    w.setting("notifications", "maybe").refused(Exit::Invalid, &["on or off"]);
    w.setting("notifications", "off").ok();
    assert_eq!(w.op(&["hkex", "settings", "show"]).ok().json()["notifications"], "off");
    let before = w.mails().len();
    let id = w.submit(MAKER, &create_args("B0123410", "new.user@abc.com.hk"));
    w.approve(CHECKER, &[id]).ok();
    assert_eq!(w.mails().len(), before, "no notice");
    w.setting("notifications", "on").ok();
    w.submit(MAKER, &create_args("B0123411", "other.user@abc.com.hk"));
    assert_eq!(w.mails().len(), before + 2, "both checkers told again");
}
