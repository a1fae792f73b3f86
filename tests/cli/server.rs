//! `dms serve` (SPEC §10), before its client: the service owns the database and answers HTTP
//! on its Unix socket, as `curl --unix-socket` would speak to it.

use crate::harness::*;
use serde_json::Value;
use std::io::{BufRead as _, Read as _, Write as _};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `dms serve ARGS` in `w`'s folder; the process and its ready line.
fn serve(w: &World, args: &[&str]) -> (Child, Value) {
    let mut child = Command::new(dms_bin())
        .env_clear()
        .current_dir(w.dir())
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(w.path("serve.log")).expect("log"))
        .spawn()
        .expect("dms serve");
    let mut ready = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut ready).expect("ready");
    let v = serde_json::from_str(&ready).unwrap_or_else(|e| panic!("a ready line ({e}): {ready}"));
    (child, v)
}

fn stop(mut child: Child) {
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert_eq!(child.wait().expect("reaped").code(), Some(0), "SIGTERM: exit 0");
}

/// One HTTP/1.1 request on the socket, by hand.
fn http(w: &World, request: &str) -> String {
    let mut s = std::os::unix::net::UnixStream::connect(w.path("dms.sock")).expect("connect");
    s.write_all(request.as_bytes()).expect("send");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn the_api_answers_plain_http_health_and_calls_as_documented() {
    let w = World::operator();
    let (child, ready) = serve(&w, &[]);
    assert!(ready["listening"][0].as_str().is_some_and(|l| l.starts_with("unix:") && l.ends_with("dms.sock")));
    let health = http(&w, "GET /v1/health HTTP/1.1\r\nHost: dms\r\nConnection: close\r\n\r\n");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let body: Value = serde_json::from_str(health.split("\r\n\r\n").nth(1).unwrap_or_default()).expect("JSON");
    assert_eq!(body["ok"], true);
    let envelope = r#"{"call_id":"0a1b2c","format":"json","now":"2026-11-23T10:00:00+08:00","user":"HKEXOP01"}"#;
    let req = format!(
        "POST /v1/otp/request HTTP/1.1\r\nHost: dms\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{envelope}",
        envelope.len()
    );
    let reply = http(&w, &req);
    assert!(
        reply.contains(r#"{"object":{"user_id":"HKEXOP01","requested":true"#) && reply.contains("\"done\""),
        "{reply}"
    );
    assert_eq!(w.otps().len(), 1, "the call was done");
    stop(child);
    assert!(!w.path("dms.sock").exists(), "the socket is removed");
}

#[test]
fn one_server_per_database_and_never_plain_tcp() {
    let w = World::operator();
    let (child, first) = serve(&w, &[]);
    let r = w.run(&["serve", "--socket", "other.sock"], None).expect(Exit::Conflict);
    assert!(r.message().contains(&first["pid"].to_string()), "{r}");
    w.run(&["serve", "--listen", "127.0.0.1:0"], None).refused(Exit::Usage, &["plain TCP is refused"]);
    stop(child);
}
