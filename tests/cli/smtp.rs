//! Mail through a real SMTP server: Python's aiosmtpd on loopback writes what it receives to a
//! Maildir, and the OTP read from there is the one dms accepts (SPEC §8 "Mail").

use assert_cmd::cargo::CommandCargoExt as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NOW: &str = "2026-11-23T10:00:00+08:00";

/// The SMTP sink, stopped when dropped.
struct Sink(Child);

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_sink(maildir: &Path) -> (Sink, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port();
    let child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .args(["-l", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed");
    let mut sink = Sink(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = sink.0.try_wait().expect("poll") {
            let mut err = String::new();
            if let Some(mut e) = sink.0.stderr.take() {
                use std::io::Read as _;
                let _ = e.read_to_string(&mut err);
            }
            panic!("the SMTP sink exited ({status}): {err}\n(aiosmtpd is needed: pip install aiosmtpd)");
        }
        assert!(Instant::now() < deadline, "the SMTP sink did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    (sink, port)
}

fn dms(dir: &Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut c = Command::cargo_bin("dms").expect("the dms binary is built");
    c.env_clear().current_dir(dir).env("DMS_NOW", NOW).args(args);
    c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn dms");
    let mut pipe = child.stdin.take().expect("stdin");
    if let Some(s) = stdin {
        pipe.write_all(s.as_bytes()).expect("write");
    }
    drop(pipe);
    child.wait_with_output().expect("wait")
}

#[test]
fn otp_mail_goes_through_a_real_smtp_server_and_its_code_works() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let maildir = dir.join("Maildir");
    let (_sink, port) = start_sink(&maildir);

    let out = dms(dir, &["init", "--allow-test-clock", "--operator-email", "ops@hkex.example"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let set = Command::new("sqlite3")
        .arg(dir.join("dms.db"))
        .arg(format!("UPDATE settings SET value = 'smtp://127.0.0.1:{port}' WHERE key = 'mail'"))
        .status()
        .expect("sqlite3 is needed");
    assert!(set.success());

    let out = dms(dir, &["otp", "request", "--user", "HKEXOP01"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!dir.join("dms-outbox.mbox").exists(), "the mbox is not used when SMTP is set");

    // aiosmtpd delivers into Maildir/new.
    let deadline = Instant::now() + Duration::from_secs(10);
    let message = loop {
        let found = std::fs::read_dir(maildir.join("new"))
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .map(|e| std::fs::read_to_string(e.path()).expect("read mail"));
        if let Some(m) = found {
            break m;
        }
        assert!(Instant::now() < deadline, "no mail arrived at the SMTP sink");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(message.contains("Subject: CCASS: One Time Password"), "{message}");
    assert!(message.contains("To: ops@hkex.example"), "{message}");
    let (headers, body) = message.split_once("\n\n").or_else(|| message.split_once("\r\n\r\n")).expect("a body");
    assert!(!body.contains("HKEXOP01") && !body.contains("http"), "no user ID, no URL: {body}");
    assert!(!headers.contains("HKEXOP01"), "{headers}");
    let code = body
        .lines()
        .find_map(|l| l.trim().strip_prefix("One Time Password (OTP) for CCASS: "))
        .expect("the OTP line")
        .trim()
        .to_string();
    assert_eq!(code.len(), 8);

    let out = dms(
        dir,
        &["--format", "json", "password", "reset", "--user", "HKEXOP01", "--otp", &code, "--password-stdin"],
        Some("Demo-Passw0rd!2026(HK)\n"),
    );
    assert!(out.status.success(), "the code delivered by SMTP works: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn an_unreachable_smtp_server_keeps_no_otp() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let out = dms(dir, &["init", "--allow-test-clock", "--operator-email", "ops@hkex.example"], None);
    assert!(out.status.success());
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let set = Command::new("sqlite3")
        .arg(dir.join("dms.db"))
        .arg(format!("UPDATE settings SET value = 'smtp://127.0.0.1:{port}' WHERE key = 'mail'"))
        .status()
        .expect("sqlite3");
    assert!(set.success());
    let out = dms(dir, &["otp", "request", "--user", "HKEXOP01"], None);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let n = Command::new("sqlite3")
        .arg(dir.join("dms.db"))
        .arg("SELECT COUNT(*) FROM email_otps")
        .output()
        .expect("sqlite3");
    assert_eq!(String::from_utf8_lossy(&n.stdout).trim(), "0", "an undelivered code is not kept");
    // ... so a new request is not throttled.
    let out = dms(dir, &["otp", "request", "--user", "HKEXOP01"], None);
    assert_eq!(out.status.code(), Some(1), "still unreachable, still not a throttle (7)");
}
