//! Mail through a real SMTP server: Python's aiosmtpd on loopback writes what it receives to a
//! Maildir, and the OTP read from there is the one dms accepts (SPEC §8 "Mail").

use crate::harness::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The SMTP sink, stopped when dropped.
struct Sink(Child);

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_sink(maildir: &Path) -> (Sink, u16) {
    let port = free_port();
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

/// A loopback port nothing listens on (once the listener that found it is dropped).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}

/// Mail through `smtp://127.0.0.1:PORT` (set behind dms's back: no one is signed in to set it).
fn mail_through(w: &World, port: u16) {
    w.sql_write(&format!("UPDATE settings SET value = 'smtp://127.0.0.1:{port}' WHERE key = 'mail'"));
}

#[test]
fn otp_mail_goes_through_a_real_smtp_server_and_its_code_works() {
    let w = World::operator();
    let maildir = w.path("Maildir");
    let (_sink, port) = start_sink(&maildir);
    mail_through(&w, port);

    w.otp_request(OPERATOR).ok();
    assert!(!w.path("dms-outbox.mbox").exists(), "the mbox is not used when SMTP is set");

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
    assert!(message.contains(&format!("To: {OPERATOR_EMAIL}")), "{message}");
    let (headers, body) = message.split_once("\n\n").or_else(|| message.split_once("\r\n\r\n")).expect("a body");
    assert!(!body.contains(OPERATOR) && !body.contains("http"), "no user ID, no URL: {body}");
    assert!(!headers.contains(OPERATOR), "{headers}");
    let code = body
        .lines()
        .find_map(|l| l.trim().strip_prefix("One Time Password (OTP) for CCASS: "))
        .expect("the OTP line")
        .trim()
        .to_string();
    assert_eq!(code.len(), 8);

    // The code delivered by SMTP works.
    w.run(&["password", "reset", "--user", OPERATOR, "--otp", &code, "--password-stdin"], Some(&line(PASSWORD))).ok();
}

#[test]
fn an_unreachable_smtp_server_keeps_no_otp() {
    let w = World::operator();
    mail_through(&w, free_port());
    w.otp_request(OPERATOR).refused(Exit::Other, &[]);
    assert_eq!(w.sql("SELECT COUNT(*) FROM email_otps"), "0", "an undelivered code is not kept");
    // ... so a new request is not throttled: still unreachable, still not a Conflict.
    w.otp_request(OPERATOR).refused(Exit::Other, &[]);
}

/// A mail server that accepts connections and never says a word, for as long as the test
/// runs (the connections are kept open by its thread).
fn silent_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("its address").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    port
}

#[test]
fn a_mail_server_that_never_answers_delays_only_the_command_that_sends() {
    let w = World::with_das();
    mail_through(&w, silent_server());
    let before = w.state_and_credentials();

    let start = Instant::now();
    let mut request = w.spawn(None, &["--format", "json", "otp", "request", "--user", USER2], None);
    // Meanwhile another process signs-in-checks, lists and reads: none of it waits for the mail.
    std::thread::sleep(Duration::from_millis(300));
    for args in [&["whoami"][..], &["request", "list"][..], &["user", "enquire", USER2][..]] {
        let t = Instant::now();
        w.as_user(MAKER, args).ok();
        assert!(t.elapsed() < Duration::from_secs(2), "{args:?} waited {:?} for the mail", t.elapsed());
    }
    assert!(request.running(), "the request is still waiting for the mail server");

    let r = request.wait();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(5 + 10), "the mail server held the command for {took:?}");
    assert!(took >= Duration::from_secs(4), "it did wait for the connect timeout: {took:?}");
    r.refused(Exit::Other, &["did not answer in time", "invalidated", "does not count as a failed attempt"]);
    assert_eq!(w.count(&format!("SELECT COUNT(*) FROM email_otps WHERE user_id = '{USER2}'")), 0);
    assert_eq!(w.state_and_credentials(), before, "nothing counted against anyone");
}
