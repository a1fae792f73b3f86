//! Mail after the commit (SPEC §5 "Outbox", §9): an OTP that cannot be delivered is invalidated
//! and counts against no one; a notification that cannot be delivered is kept in the outbox and
//! sent again by `hkex outbox retry`; a command's notifications go out in one batch; and no mail
//! is ever sent for a change that was not committed.

use crate::harness::*;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};

fn chmod(w: &World, name: &str, mode: u32) {
    std::fs::set_permissions(w.path(name), std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Mail to `file:NAME`, an mbox planted with mode 0666 that dms refuses to write to (set
/// behind dms's back: in these worlds no operator is signed in to set it).
fn mail_to_a_refused_mbox(w: &World, name: &str) {
    w.write(name, "");
    chmod(w, name, 0o666);
    w.sql_write(&format!("UPDATE settings SET value = 'file:{name}' WHERE key = 'mail'"));
}

#[test]
fn an_otp_that_cannot_be_mailed_is_invalidated_and_is_not_a_miss() {
    let w = World::ready();
    // USER1 receives OTPs by e-mail; two wrong codes already, so one more miss would count.
    for minute in [0, 1] {
        w.at(MONDAY_10).advance(mins(minute));
        w.login_with(USER1, PASSWORD, "00000000").expect(Exit::Auth);
    }
    assert_eq!(w.cred(USER1, "otp_misses"), "2");
    mail_to_a_refused_mbox(&w, "blocked.mbox");
    let before = w.state_and_credentials();
    let fails = w.count("SELECT COUNT(*) FROM audit WHERE action LIKE 'signin.fail%'");

    w.advance(mins(1));
    let r = w.otp_request(USER1);
    r.refused(
        Exit::Other,
        &["could not be e-mailed", "invalidated", "does not count as a failed attempt", "blocked.mbox", "chmod 600"],
    );
    assert_eq!(w.state_and_credentials(), before, "no miss, no failure, no lock");
    assert_eq!(w.cred(USER1, "otp_misses"), "2");
    assert_eq!(w.count("SELECT COUNT(*) FROM audit WHERE action LIKE 'signin.fail%'"), fails);
    assert_eq!(w.count(&format!("SELECT COUNT(*) FROM email_otps WHERE user_id = '{USER1}' AND used_at IS NULL")), 0);
    assert_eq!(w.count("SELECT COUNT(*) FROM audit WHERE action = 'otp.email.undeliverable'"), 1);
    assert_eq!(w.count("SELECT COUNT(*) FROM outbox"), 0, "an OTP is never kept in the outbox");

    // Mail works again: a new code at once (the failed one does not throttle), and it signs in.
    chmod(&w, "blocked.mbox", 0o600);
    w.otp_request(USER1).ok();
    let code = std::fs::read_to_string(w.path("blocked.mbox"))
        .expect("the mbox")
        .lines()
        .find_map(|l| l.strip_prefix("One Time Password (OTP) for CCASS: "))
        .expect("the OTP")
        .trim()
        .to_string();
    w.login_with(USER1, PASSWORD, &code).ok();
}

/// The rows of `hkex outbox list`.
#[track_caller]
fn outbox(w: &World) -> Vec<Value> {
    let v = w.op(&["hkex", "outbox", "list"]).ok().json();
    v["mails"].as_array().unwrap_or_else(|| panic!("no mails in {v}")).clone()
}

#[test]
fn an_undeliverable_notification_is_kept_listed_and_retried() {
    let w = World::ready();
    w.login(OPERATOR).ok();
    w.write("blocked.mbox", "");
    chmod(&w, "blocked.mbox", 0o666);
    w.setting("mail", "file:blocked.mbox").ok();
    assert!(outbox(&w).is_empty());

    // A password change notifies its owner: the change stands, the mail is kept, the command warns.
    let r =
        w.as_user_stdin(OPERATOR, &["password", "change", "--password-stdin"], &two_lines(NEW_PASSWORD, PASSWORD)).ok();
    let warnings = r.warnings().join("\n");
    assert!(warnings.contains("kept in the outbox as mail 1") && warnings.contains("dms hkex outbox retry"), "{r}");
    let mails = outbox(&w);
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    let keys: Vec<&str> = m.as_object().expect("an object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["mail_id", "created_at", "recipient", "subject", "attempts", "last_error", "sent_at"], "no body");
    assert_eq!(m["mail_id"], 1);
    assert_eq!(m["recipient"], OPERATOR_EMAIL);
    assert_eq!(m["subject"], "CCASS: Password changed");
    assert_eq!(m["attempts"], 1);
    assert!(m["last_error"].as_str().expect("an error").contains("chmod 600"), "{m}");
    assert_eq!(m["sent_at"], Value::Null);
    assert_eq!(w.count("SELECT COUNT(*) FROM audit WHERE action = 'mail.kept'"), 1);

    // An OTP that fails meanwhile is not kept.
    w.otp_request(USER1).expect(Exit::Other);
    assert_eq!(outbox(&w).len(), 1);

    // Still refused: the attempt and its error are recorded.
    assert_eq!(w.op(&["hkex", "outbox", "retry"]).ok().json(), serde_json::json!({ "sent": 0, "failed": 1 }));
    assert_eq!(outbox(&w)[0]["attempts"], 2);

    // Fixed: sent, marked, and never sent twice.
    chmod(&w, "blocked.mbox", 0o600);
    w.advance(mins(1));
    assert_eq!(w.op(&["hkex", "outbox", "retry"]).ok().json(), serde_json::json!({ "sent": 1, "failed": 0 }));
    let m = &outbox(&w)[0];
    assert_eq!(m["attempts"], 3);
    assert_eq!(m["sent_at"], w.now_hk());
    let mbox = std::fs::read_to_string(w.path("blocked.mbox")).expect("the mbox");
    assert!(mbox.contains("Subject: CCASS: Password changed") && mbox.contains(&format!("To: {OPERATOR_EMAIL}")));
    assert_eq!(w.op(&["hkex", "outbox", "retry"]).ok().json(), serde_json::json!({ "sent": 0, "failed": 0 }));
    assert_eq!(std::fs::read_to_string(w.path("blocked.mbox")).expect("the mbox"), mbox, "not sent twice");
    assert_eq!(w.count("SELECT COUNT(*) FROM audit WHERE action = 'outbox.retry'"), 2);

    // The listing in the other formats, and only for the operator.
    let csv = w.raw_as(OPERATOR, &["--format", "csv", "hkex", "outbox", "list"]).ok();
    assert!(csv.stdout.starts_with("mail_id,created_at,recipient,subject,attempts,last_error,sent_at\n"), "{csv}");
    w.raw_as(OPERATOR, &["hkex", "outbox", "list"]).ok();
    w.run(&["hkex", "outbox", "list"], None).expect(Exit::Auth);
}

/// Is strace there and allowed to trace (containers may forbid ptrace)?
fn strace_works() -> bool {
    Command::new("strace")
        .args(["-o", "/dev/null", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_full_participants_bulk_registration_is_mailed_in_one_append() {
    let w = World::with_das();
    w.first_time_app(OPERATOR);
    // The whole ID space: 1,269 business users and the 3 DAs.
    w.op(&["hkex", "da4", "--participant", PARTICIPANT, "--accounts", "1226"]).ok();
    let new_ids = free_user_ids(PARTICIPANT, &[USER1, USER2, USER3]);
    assert_eq!(new_ids.len(), 1266);
    let mut import = String::from("participant,user_id,surname,other_names,email,role,srn,certificate_expiry\n");
    for id in &new_ids {
        import.push_str(&format!(
            "{PARTICIPANT},{id},CHAN,TAI MAN,{}@old.abc.com.hk,user,0101101200012AB2,2030-12-31\n",
            id.to_lowercase()
        ));
    }
    let file = w.write("users.csv", &import);
    w.op(&["hkex", "import-smartcard-users", &file]).ok();

    let all: Vec<String> = [USER1, USER2, USER3].iter().map(|s| s.to_string()).chain(new_ids).collect();
    assert_eq!(all.len(), 1269);
    let mut emails = String::from("user_id,email\n");
    for id in &all {
        emails.push_str(&format!("{id},{}@abc.com.hk\n", id.to_lowercase()));
    }
    let file = w.write("emails.csv", &emails);
    let id = w.submit(MAKER, &["user", "import-emails", &file]);
    let mails_before = w.mails().len();

    // The checker approves under strace, which records every open and sync of the mbox: the
    // process that mails is traced, so the approval runs embedded in either mode (through a
    // server, the server mails; its batching is the same code).
    let code = w.totp(CHECKER);
    let approve = ["--format", "json", "request", "approve", &id.to_string(), "--otp", &code, "--password-stdin"];
    let traced = strace_works();
    let r = if traced {
        let inner = w.local_command(Some(CHECKER), &approve);
        let mut c = Command::new("strace");
        c.env_clear()
            .current_dir(w.dir())
            .env("DMS_NOW", w.now_rfc3339())
            .args(["-f", "-y", "-qq", "-e", "trace=openat,fsync,fdatasync", "-o", "trace.txt"])
            .arg(inner.get_program())
            .args(inner.get_args());
        w.run_command(c, Some(&line(PASSWORD)))
    } else {
        eprintln!("strace cannot trace here: only the mail count is checked");
        w.approve(CHECKER, &[id])
    };
    assert_eq!(r.ok().json()["status"], "APPROVED");

    // Old and new address of every user: 2,538 notifications; and its maker is told it was
    // approved.
    let mails = w.mails();
    assert_eq!(mails.len() - mails_before, 2 * 1269 + 1);
    let someone = all[3].to_lowercase();
    let told_old = w.mails_to(&format!("{someone}@old.abc.com.hk"));
    assert_eq!(told_old.iter().filter(|m| m.contains("address changed")).count(), 1, "the old address is told");
    assert_eq!(w.mails_to(&format!("{someone}@abc.com.hk")).len(), 1, "and the new one");
    if traced {
        let trace = std::fs::read_to_string(w.path("trace.txt")).expect("the trace");
        let on_mbox = |call: &str| trace.lines().filter(|l| l.contains(call) && l.contains("dms-outbox.mbox")).count();
        assert_eq!(on_mbox("openat("), 1, "the mbox is opened once:\n{trace}");
        assert_eq!(on_mbox("fsync(") + on_mbox("fdatasync("), 1, "and synced once");
    }
}

/// `dms ARGS` in a shell that limits the size of any file it writes to `blocks` 512-byte
/// blocks (a full disk, as far as this process can tell), with SIGXFSZ ignored so a write
/// past the limit fails instead of killing it. The limit is the writing process's: embedded
/// in either mode.
fn with_file_size_limit(w: &World, blocks: u32, args: &[&str]) -> Run {
    let inner = w.local_command(None, args);
    let mut c = Command::new("sh");
    c.env_clear()
        .current_dir(w.dir())
        .env("DMS_NOW", w.now_rfc3339())
        .arg("-c")
        .arg(format!("trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\""))
        .arg(inner.get_program())
        .args(inner.get_args());
    w.run_command(c, None)
}

#[test]
fn no_otp_is_mailed_for_a_code_that_could_not_be_committed() {
    let w = World::operator();
    // Another connection keeps the database open, so its -wal and -shm stay in place and this
    // dms fails where it writes its transaction: at the commit.
    let holder = w.hold_open();
    // 2 blocks: an OTP mail fits, a page of the write-ahead log does not.
    let r = with_file_size_limit(&w, 2, &["--format", "json", "otp", "request", "--user", OPERATOR]);
    drop(holder);
    assert_ne!(r.exit(), Exit::Ok, "{r}");
    assert!(!w.path("dms-outbox.mbox").exists(), "an OTP was mailed for a code that was never stored:\n{r}");
    assert_eq!(w.count("SELECT COUNT(*) FROM email_otps"), 0);
    assert_eq!(w.count("SELECT COUNT(*) FROM audit WHERE action = 'otp.email.sent'"), 0);

    // The same request with room to write: stored, then mailed.
    w.otp_request(OPERATOR).ok();
    assert_eq!(w.otps().len(), 1);
    assert_eq!(w.count("SELECT COUNT(*) FROM email_otps"), 1);
}
