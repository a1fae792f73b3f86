//! Several processes at once: parallel makers lose nothing and never see "database is
//! locked"; a process killed in the middle of a change leaves the database intact and
//! unchanged (SPEC §9).

use assert_cmd::cargo::CommandCargoExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const NOW: &str = "2026-11-23T10:00:00+08:00";
const PW: &str = "Demo-Passw0rd!2026(HK)\n";

fn dms(dir: &Path, now: &str) -> Command {
    let mut c = Command::cargo_bin("dms").expect("the dms binary is built");
    c.env_clear().current_dir(dir).env("DMS_NOW", now).env("NO_COLOR", "1");
    c
}

fn run_ok(dir: &Path, now: &str, args: &[&str], stdin: Option<&str>) -> String {
    let mut c = dms(dir, now);
    c.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn dms");
    if let Some(s) = stdin {
        use std::io::Write as _;
        child.stdin.take().expect("stdin").write_all(s.as_bytes()).expect("write stdin");
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "dms {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn last_otp(dir: &Path) -> String {
    let mbox = std::fs::read_to_string(dir.join("dms-outbox.mbox")).expect("outbox");
    mbox.lines()
        .rev()
        .find_map(|l| l.strip_prefix("One Time Password (OTP) for CCASS: "))
        .expect("an OTP mail")
        .to_string()
}

fn totp(secret: &str, unix: i64) -> String {
    let out = Command::new("oathtool")
        .args(["--totp", "-b", secret, "--now", &format!("@{unix}")])
        .output()
        .expect("oathtool is needed (apt-get install oathtool): the independent TOTP implementation");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// First-time logon with an app for `user`, into the session file `<user>.session`.
fn sign_in(dir: &Path, user: &str) {
    run_ok(dir, NOW, &["otp", "request", "--user", user], None);
    let otp = last_otp(dir);
    run_ok(dir, NOW, &["password", "reset", "--user", user, "--otp", &otp, "--password-stdin"], Some(PW));
    let setup =
        run_ok(dir, NOW, &["--format", "json", "otp", "setup", "--user", user, "--app", "--password-stdin"], Some(PW));
    let v: serde_json::Value = serde_json::from_str(&setup).expect("json");
    let uri = v["otpauth_uri"].as_str().expect("uri");
    let secret = uri.split("secret=").nth(1).and_then(|r| r.split('&').next()).expect("secret");
    let unix = chrono::DateTime::parse_from_rfc3339(NOW).expect("time").timestamp();
    let code = totp(secret, unix);
    let session = format!("{user}.session");
    run_ok(dir, NOW, &["--session", &session, "login", "--user", user, "--password-stdin", "--otp", &code], Some(PW));
}

fn count(dir: &Path, sql: &str) -> i64 {
    let conn = rusqlite_free_count(dir, sql);
    conn.trim().parse().expect("a number")
}

/// Ask the sqlite3 shell (an independent reader of the file).
fn rusqlite_free_count(dir: &Path, sql: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(dir.join("dms.db"))
        .arg(sql)
        .output()
        .expect("sqlite3 is needed (apt-get install sqlite3)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn parallel_makers_lose_nothing_and_never_see_a_locked_database() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    run_ok(dir, NOW, &["init", "--allow-test-clock", "--demo", "--operator-email", "ops@hkex.example"], None);
    sign_in(dir, "B01234X1");
    // Eight processes submit at once, each a create request with its own user ID.
    let children: Vec<_> = (0..8)
        .map(|i| {
            let id = format!("B01234A{i}");
            let email = format!("p{i}@abc.com.hk");
            let mut c = dms(dir, NOW);
            c.args(["--session", "B01234X1.session", "--format", "json", "user", "create", "--user-id", &id])
                .args(["--surname", "PARALLEL", "--other-names", "MAKER", "--email", &email])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            c.spawn().expect("spawn")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.to_lowercase().contains("locked") && !err.contains("busy"), "{err}");
        assert!(out.status.success(), "{err}");
    }
    assert_eq!(count(dir, "SELECT COUNT(*) FROM requests WHERE status = 'PENDING'"), 8);
    assert_eq!(count(dir, "SELECT COUNT(DISTINCT user_id) FROM request_subjects"), 8);
    let verify = run_ok(dir, NOW, &["--format", "json", "audit", "verify"], None);
    assert!(verify.contains("\"ok\": true"), "{verify}");
}

#[test]
fn a_killed_import_leaves_the_database_intact_and_unchanged() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    run_ok(dir, NOW, &["init", "--allow-test-clock", "--operator-email", "ops@hkex.example"], None);
    sign_in(dir, "HKEXOP01");
    let op = ["--session", "HKEXOP01.session"];
    let mut participants = String::from("id,name,house,max_users,domains\n");
    let mut users = String::from("participant,user_id,surname,other_names,email,role,srn,certificate_expiry\n");
    let alphabet: Vec<char> = "0123456789ABCDEFGHIJKLMNOPQRSTUVW".chars().collect();
    for p in 0..40 {
        let pid = format!("K{p:05}");
        participants.push_str(&format!("{pid},FIRM {p},hkscc-cp,1296,\n"));
        for a in &alphabet {
            for b in &alphabet {
                users.push_str(&format!(
                    "{pid},{pid}{a}{b},CHAN,TAI MAN,u{p}{a}{b}@firm.hk,user,0101101200012AB2,2030-12-31\n"
                ));
            }
        }
    }
    std::fs::write(dir.join("p.csv"), participants).expect("write");
    std::fs::write(dir.join("u.csv"), users).expect("write");
    run_ok(dir, NOW, &[&op[..], &["hkex", "participant", "import", "p.csv"]].concat(), None);
    let before_users = count(dir, "SELECT COUNT(*) FROM users");
    let before_audit = count(dir, "SELECT COUNT(*) FROM audit");

    let mut c = dms(dir, NOW);
    c.args(op)
        .args(["hkex", "import-smartcard-users", "u.csv"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let wal = dir.join("dms.db-wal");
    let wal_size = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let start = wal_size();
    let mut child = c.spawn().expect("spawn");
    // Kill it while it is writing: once the write-ahead log has grown by a megabyte.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while wal_size() < start + (1 << 20) {
        assert!(child.try_wait().expect("poll").is_none(), "the import finished before it could be killed mid-write");
        assert!(std::time::Instant::now() < deadline, "the import never started writing");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("kill");
    let status = child.wait().expect("wait");
    assert!(!status.success(), "the import should have been killed before it finished");

    assert_eq!(rusqlite_free_count(dir, "PRAGMA integrity_check").trim(), "ok");
    assert_eq!(count(dir, "SELECT COUNT(*) FROM users"), before_users, "no partial import");
    assert_eq!(count(dir, "SELECT COUNT(*) FROM audit"), before_audit);
    let verify = run_ok(dir, NOW, &["--format", "json", "audit", "verify"], None);
    assert!(verify.contains("\"ok\": true"), "{verify}");
}
