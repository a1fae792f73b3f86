//! Files (SPEC §9): dms refuses a database, key file, session file or mbox that another user
//! owns or that group or others may read or write, and special files (FIFOs, devices,
//! directories) given as any of them or as an input file — naming the file and the fix, and
//! never hanging. A session file is only ever written over a dms session file, atomically, and
//! never through a symbolic link.

use crate::harness::*;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;
use std::time::{Duration, Instant};

/// Long enough for any refusal; far shorter than a hang (the harness's own limit is 60 s).
const QUICK: Duration = Duration::from_secs(10);

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .status()
        .expect("mkfifo is needed");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Does this test run as root (then it can give a file to another user)?
fn root() -> bool {
    let out = std::process::Command::new("id").arg("-u").output().expect("id");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// A uid that is not ours (nobody).
const OTHER_UID: u32 = 65534;

/// Run, insisting that it ends quickly.
#[track_caller]
fn quick(run: impl FnOnce() -> Run) -> Run {
    let start = Instant::now();
    let r = run();
    assert!(start.elapsed() < QUICK, "took {:?}:\n{r}", start.elapsed());
    r
}

// -- the mbox ------------------------------------------------------------------------------

#[test]
fn a_planted_mbox_that_others_may_read_never_receives_an_otp() {
    let w = World::operator();
    let mbox = w.path("dms-outbox.mbox");
    w.write("dms-outbox.mbox", "");
    chmod(&mbox, 0o666);
    w.otp_request(OPERATOR).refused(Exit::Other, &["dms-outbox.mbox", "chmod 600 ", "invalidated"]);
    assert_eq!(std::fs::read_to_string(&mbox).expect("the mbox"), "", "no OTP was written into it");
    assert_eq!(w.count("SELECT COUNT(*) FROM email_otps"), 0, "the code was invalidated");
    assert_eq!(mode(&mbox), 0o666, "dms does not fix it behind the owner's back");
}

#[test]
fn an_mbox_that_is_a_fifo_or_a_link_is_refused_without_hanging() {
    let w = World::operator();
    mkfifo(&w.path("dms-outbox.mbox"));
    quick(|| w.otp_request(OPERATOR)).refused(Exit::Other, &["dms-outbox.mbox", "FIFO"]);

    let w = World::operator();
    w.write("elsewhere", "precious\n");
    chmod(&w.path("elsewhere"), 0o600);
    std::os::unix::fs::symlink("elsewhere", w.path("dms-outbox.mbox")).expect("symlink");
    w.otp_request(OPERATOR).refused(Exit::Other, &["dms-outbox.mbox", "symbolic link"]);
    assert_eq!(std::fs::read_to_string(w.path("elsewhere")).expect("read"), "precious\n", "nothing written through it");
}

// -- session files -------------------------------------------------------------------------

#[test]
fn a_session_file_that_others_may_read_or_write_is_refused() {
    let w = World::with_operator();
    let session = World::session_file(OPERATOR);
    let fix = format!("chmod 600 {session}");
    for m in [0o666, 0o644, 0o620] {
        chmod(&w.path(&session), m);
        w.op(&["whoami"]).refused(Exit::Invalid, &[&session, &fix, &format!("{m:04o}")]);
    }
    chmod(&w.path(&session), 0o600);
    w.op(&["whoami"]).ok();
}

#[test]
fn files_of_another_user_are_refused_even_to_root() {
    if !root() {
        eprintln!("skipped: only root can give a file to another user");
        return;
    }
    let w = World::with_operator();
    let session = World::session_file(OPERATOR);
    std::os::unix::fs::chown(w.path(&session), Some(OTHER_UID), None).expect("chown");
    w.op(&["whoami"]).refused(Exit::Invalid, &[&session, "another user", &format!("uid {OTHER_UID}")]);
    std::os::unix::fs::chown(w.path(&session), Some(0), None).expect("chown back");
    w.op(&["whoami"]).ok();

    for file in ["dms.db", "dms.db.key"] {
        let w = World::operator();
        std::os::unix::fs::chown(w.path(file), Some(OTHER_UID), None).expect("chown");
        w.otp_request(OPERATOR).refused(Exit::Invalid, &[file, "another user"]);
        assert_eq!(w.mbox(), "", "{file}: nothing sent");
    }
}

#[test]
fn special_files_as_the_session_file_are_refused_at_once() {
    let w = World::with_operator();
    mkfifo(&w.path("fifo.session"));
    std::fs::create_dir(w.path("dir.session")).expect("mkdir");
    for (file, kind) in [("/dev/zero", "character device"), ("fifo.session", "FIFO"), ("dir.session", "directory")] {
        for args in [&["whoami"][..], &["logout"][..]] {
            let r = quick(|| w.run(&[&["--session", file][..], args].concat(), None));
            r.refused(Exit::Invalid, &[file, kind]);
        }
        let r = quick(|| {
            w.run(
                &["--session", file, "login", "--user", OPERATOR, "--password-stdin", "--otp", "123456"],
                Some(&line(PASSWORD)),
            )
        });
        r.refused(Exit::Invalid, &[file, kind]);
    }
    assert_eq!(w.cred(OPERATOR, "failures || '/' || otp_misses"), "/0", "no sign-in was attempted");
}

#[test]
fn a_huge_session_file_is_not_read_whole() {
    let w = World::with_operator();
    let big = w.path("big.session");
    let f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&big).expect("create");
    f.set_len(300 << 20).expect("a 300 MB file");
    drop(f);
    let r = quick(|| w.run(&["--session", "big.session", "whoami"], None));
    r.refused(Exit::Invalid, &["big.session", "larger than 4096 bytes"]);
}

#[test]
fn login_never_overwrites_a_file_that_is_not_a_session_file() {
    let w = World::ready();
    let notes = w.path("notes.txt");
    w.write("notes.txt", "precious notes\n");
    chmod(&notes, 0o600);
    let sessions = w.count("SELECT COUNT(*) FROM sessions");
    let audit = w.count("SELECT COUNT(*) FROM audit");
    let code = w.totp(OPERATOR);
    let r = w.run(
        &["--session", "notes.txt", "login", "--user", OPERATOR, "--password-stdin", "--otp", &code],
        Some(&line(PASSWORD)),
    );
    r.refused(Exit::Invalid, &["notes.txt", "not a dms session file"]);
    assert_eq!(std::fs::read_to_string(&notes).expect("read"), "precious notes\n");
    assert_eq!(w.count("SELECT COUNT(*) FROM sessions"), sessions, "refused before a session was opened");
    assert_eq!(w.count("SELECT COUNT(*) FROM audit"), audit, "nothing was recorded");
}

#[test]
fn login_never_writes_through_a_symbolic_link() {
    let w = World::ready();
    w.write("target.txt", "precious\n");
    chmod(&w.path("target.txt"), 0o600);
    std::os::unix::fs::symlink("target.txt", w.path("link.session")).expect("symlink");
    // A dangling link, too: writing through it would create its target.
    std::os::unix::fs::symlink("created-through-link", w.path("dangling.session")).expect("symlink");
    for file in ["link.session", "dangling.session"] {
        let code = w.totp(OPERATOR);
        let r = w.run(
            &["--session", file, "login", "--user", OPERATOR, "--password-stdin", "--otp", &code],
            Some(&line(PASSWORD)),
        );
        r.refused(Exit::Invalid, &[file, "symbolic link", &format!("rm {file}")]);
    }
    assert_eq!(std::fs::read_to_string(w.path("target.txt")).expect("read"), "precious\n");
    assert!(!w.path("created-through-link").exists());
}

#[test]
fn login_replaces_a_session_file_atomically_and_leaves_no_temp_file() {
    let w = World::ready();
    w.login(OPERATOR).ok();
    let session = w.path(&World::session_file(OPERATOR));
    let first = session_token(&session);
    w.login(OPERATOR).ok();
    assert_ne!(session_token(&session), first, "replaced by the new sign-in");
    assert_eq!(mode(&session), 0o600);
    w.op(&["whoami"]).ok();
    let strays: Vec<String> = std::fs::read_dir(w.dir())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(strays.is_empty(), "temp files left behind: {strays:?}");
}

// -- the database and its key file ---------------------------------------------------------

#[test]
fn an_empty_file_is_never_made_into_a_database() {
    let w = World::empty(MONDAY_10);
    let empty = w.path("empty.db");
    w.write("empty.db", "");
    chmod(&empty, 0o644);
    w.run(&["--db", "empty.db", "whoami"], None).refused(Exit::Invalid, &["empty.db", "chmod 600 empty.db"]);
    chmod(&empty, 0o600);
    w.run(&["--db", "empty.db", "whoami"], None).refused(Exit::Invalid, &["empty.db", "empty", "dms init"]);
    assert_eq!(std::fs::metadata(&empty).expect("meta").len(), 0, "still empty");
    assert_eq!(mode(&empty), 0o600);
    assert!(!w.path("empty.db.key").exists());
}

#[test]
fn a_database_that_others_may_read_is_refused() {
    let w = World::operator();
    chmod(&w.path("dms.db"), 0o644);
    w.otp_request(OPERATOR).refused(Exit::Invalid, &["dms.db", "chmod 600 dms.db"]);
    assert_eq!(w.mbox(), "", "nothing was sent");
    chmod(&w.path("dms.db"), 0o600);
    w.otp_request(OPERATOR).ok();
}

#[test]
fn a_key_file_that_others_may_read_is_refused() {
    let w = World::operator();
    chmod(&w.path("dms.db.key"), 0o644);
    w.otp_request(OPERATOR).refused(Exit::Invalid, &["dms.db.key", "chmod 600 dms.db.key"]);
    assert_eq!(w.mbox(), "", "nothing was sent");
    assert_eq!(w.count("SELECT COUNT(*) FROM email_otps"), 0);
}

#[test]
fn special_files_as_the_database_or_key_file_are_refused_at_once() {
    let w = World::operator();
    mkfifo(&w.path("fifo.db"));
    std::fs::create_dir(w.path("dir.db")).expect("mkdir");
    for (file, kind) in [("/dev/zero", "character device"), ("fifo.db", "FIFO"), ("dir.db", "directory")] {
        quick(|| w.run(&["--db", file, "whoami"], None)).refused(Exit::Invalid, &[file, kind]);
    }
    std::fs::remove_file(w.path("dms.db.key")).expect("rm key");
    mkfifo(&w.path("dms.db.key"));
    quick(|| w.otp_request(OPERATOR)).refused(Exit::Invalid, &["dms.db.key", "FIFO"]);
}

// -- input files ---------------------------------------------------------------------------

#[test]
fn special_files_as_input_are_refused_at_once() {
    let w = World::with_das();
    mkfifo(&w.path("fifo.csv"));
    std::fs::create_dir(w.path("dir.csv")).expect("mkdir");
    for (file, kind) in [("/dev/zero", "character device"), ("fifo.csv", "FIFO"), ("dir.csv", "directory")] {
        for verb in ["import-emails", "import"] {
            quick(|| w.as_user(MAKER, &["user", verb, file])).refused(Exit::Invalid, &[file, kind]);
        }
    }
    let w = World::with_operator();
    mkfifo(&w.path("fifo.csv"));
    quick(|| w.op(&["hkex", "participant", "import", "fifo.csv"])).refused(Exit::Invalid, &["fifo.csv", "FIFO"]);
    quick(|| w.op(&["hkex", "import-smartcard-users", "/dev/zero"])).refused(Exit::Invalid, &["/dev/zero"]);
}

#[test]
fn an_input_file_may_belong_to_someone_else_and_be_readable_by_all() {
    let w = World::with_das();
    w.write("emails.csv", &format!("user_id,email\n{USER2},new.address@abc.com.hk\n"));
    chmod(&w.path("emails.csv"), 0o644);
    if root() {
        std::os::unix::fs::chown(w.path("emails.csv"), Some(OTHER_UID), None).expect("chown");
    }
    w.as_user(MAKER, &["user", "import-emails", "emails.csv", "--dry-run"]).ok();
}
