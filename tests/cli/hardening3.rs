//! Hardening, round 3 (issue 18): what an attacker found in the new operations, the smartcard
//! paths and the files around the database. Each test failed on the build before its fix.

use crate::harness::*;

/// Issue 18 #10: the `test-clock` flag was a settings row: flipped with sqlite3, a real
/// database accepted DMS_NOW. The key file says whether a database is a test one.
#[test]
fn a_real_database_turned_into_a_test_one_with_sqlite3_still_refuses_a_pinned_clock() {
    let w = World::empty(MONDAY_10);
    let mut real_clock = w.local_command(None, &["--format", "json", "init", "--operator-email", OPERATOR_EMAIL]);
    real_clock.env_remove("DMS_NOW");
    w.run_command(real_clock, None).ok();
    w.sql_write("UPDATE settings SET value = 'on' WHERE key = 'test-clock'");
    w.otp_request(OPERATOR).refused(Exit::Usage, &["DMS_NOW", "--allow-test-clock"]);
    assert!(!w.path("dms-outbox.mbox").exists(), "nothing is sent");
}

/// The byte header of a rollback journal that tells SQLite to play back one page: what
/// `nobody` plants beside the victim's database (issue 18 #2).
fn hot_journal_header() -> Vec<u8> {
    let mut h = vec![0u8; 512];
    h[..8].copy_from_slice(&[0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);
    h[8..12].copy_from_slice(&1u32.to_be_bytes()); // one page
    h[16..20].copy_from_slice(&1u32.to_be_bytes()); // the database's size: 1 page
    h[20..24].copy_from_slice(&512u32.to_be_bytes()); // sector size
    h[24..28].copy_from_slice(&4096u32.to_be_bytes()); // page size
    h
}

/// A database in a folder others may write is refused, and so is a journal, -wal or -shm
/// another user planted beside it: SQLite never sees them (before, a planted one-page journal
/// truncated a 155,648-byte database to 4,096 bytes at the next command).
#[test]
fn a_journal_planted_by_another_user_is_refused_and_never_played_back() {
    use std::os::unix::fs::PermissionsExt as _;
    let w = World::operator();
    w.stop_server();
    let size = std::fs::metadata(w.path("dms.db")).expect("db").len();
    std::fs::write(w.path("dms.db-journal"), hot_journal_header()).expect("plant");
    if crate::harness::is_root() {
        std::os::unix::fs::chown(w.path("dms.db-journal"), Some(65534), Some(65534)).expect("chown to nobody");
    } else {
        std::fs::set_permissions(w.path("dms.db-journal"), std::fs::Permissions::from_mode(0o666)).expect("chmod");
    }
    w.otp_request(OPERATOR).refused(Exit::Invalid, &["dms.db-journal"]);
    assert_eq!(std::fs::metadata(w.path("dms.db")).expect("db").len(), size, "nothing was played back");
    std::fs::remove_file(w.path("dms.db-journal")).expect("remove");
    assert_eq!(w.sql("PRAGMA integrity_check"), "ok");
    w.otp_request(OPERATOR).ok();

    // A folder others may write: refused, whatever is in it (anyone could plant a file there
    // between a look and an open).
    let w = World::operator();
    w.stop_server();
    std::fs::set_permissions(w.dir(), std::fs::Permissions::from_mode(0o1777)).expect("chmod the folder");
    w.otp_request(OPERATOR).refused(Exit::Invalid, &["others may write", "chmod"]);
    std::fs::set_permissions(w.dir(), std::fs::Permissions::from_mode(0o700)).expect("chmod back");
    w.otp_request(OPERATOR).ok();
}

/// A restore refuses a journal (or a folder others may write) at the new path as it refuses
/// a -wal, and a journal planted after it is refused at the next command.
#[test]
fn a_restore_refuses_a_journal_at_the_new_path() {
    let w = World::with_operator();
    w.stop_server();
    w.op_stdin(&["backup", "--out", "b.age", "--password-stdin"], "a-backup-passphrase-here\n").ok();
    std::fs::create_dir(w.path("new")).expect("mkdir");
    std::fs::write(w.path("new/dms.db-journal"), hot_journal_header()).expect("plant");
    w.run(&["--db", "new/dms.db", "restore", "b.age", "--password-stdin"], Some("a-backup-passphrase-here\n"))
        .refused(Exit::Conflict, &["dms.db-journal"]);
    assert!(!w.path("new/dms.db").exists());
}

/// Issue 18 #9: a backup killed after its snapshot left the whole database in plaintext beside
/// it (`.dms.db.tmp-PID-0`), and its half-written archive beside the output, never cleaned.
/// The snapshot is now a file with no name (it cannot outlive the process), and what an
/// earlier version left is removed by the next backup. The killed process is the backup's own:
/// embedded in either mode.
#[test]
fn a_killed_backup_leaves_no_copy_of_the_database_behind() {
    use std::io::BufRead as _;
    let w = World::with_operator();
    w.stop_server();
    let before: Vec<String> = names(&w);
    for stage in ["snapshot-taken", "archive-written"] {
        let mut child = w
            .local_command(Some(OPERATOR), &["--format", "json", "backup", "--out", "killed.age", "--password-stdin"])
            .env("DMS_TEST_PAUSE_AT", stage)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start dms");
        std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), b"a-backup-passphrase-here\n").expect("pass");
        drop(child.stdin.take());
        let mut err = std::io::BufReader::new(child.stderr.take().expect("stderr"));
        let mut line = String::new();
        err.read_line(&mut line).expect("stderr");
        assert!(line.contains(&format!("\"paused\":\"{stage}\"")), "{line}");
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        assert_eq!(names(&w), before, "{stage}: nothing left beside the database or the output");
    }
    // What an earlier dms left (a plaintext copy named as it named them) goes at the next backup.
    std::fs::copy(w.path("dms.db"), w.path(".dms.db.tmp-999999-0")).expect("a leftover");
    w.op_stdin(&["backup", "--out", "b.age", "--password-stdin"], "a-backup-passphrase-here\n").ok();
    assert!(!w.path(".dms.db.tmp-999999-0").exists(), "the leftover was removed");
}

/// The files of a world's folder, sorted (the server's own aside).
fn names(w: &World) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(w.dir())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !["serve.log", "dms.sock", "dms.db.serve.lock"].contains(&n.as_str()))
        .collect();
    v.sort();
    v
}
