//! The service (SPEC §10): `dms serve` owns the database, every person's `dms` is its client.
//! These tests start a server of their own in either mode of the suite. Another person is
//! real: the client runs as `nobody` (setpriv) and the server as this test's account.

use crate::harness::*;
use serde_json::Value;
use std::io::{Read as _, Write as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The account the other person's client runs as.
const NOBODY: u32 = 65534;

fn root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// These tests need root (to run a client as another account); without it they fail loudly
/// rather than pass unseen.
#[track_caller]
fn need_root() {
    assert!(root(), "the service tests run a client as another account (setpriv): run the suite as root");
}

/// `dms serve ARGS` as this world's server; its ready line as JSON.
#[track_caller]
fn serve(w: &World, extra: &[&str]) -> Value {
    let mut args = vec!["serve".to_string()];
    args.extend(extra.iter().map(|a| a.to_string()));
    let ready =
        w.start_server(args).unwrap_or_else(|a| panic!("dms {} did not start:\n{}", a.join(" "), w.server_log()));
    serde_json::from_str(&ready).unwrap_or_else(|e| panic!("the ready line is one JSON object ({e}): {ready}"))
}

/// `dms --server unix:dms.sock [--session NAME.session] --format json ARGS` with `stdin`,
/// whatever the suite's mode.
fn client(w: &World, session: Option<&str>, args: &[&str], stdin: Option<&str>) -> Run {
    let mut all = vec!["--server".to_string(), "unix:dms.sock".to_string()];
    if let Some(s) = session {
        all.extend(["--session".to_string(), World::session_file(s)]);
    }
    all.extend(["--format".to_string(), "json".to_string()]);
    all.extend(args.iter().map(|a| a.to_string()));
    w.run_command(w.client_command(all), stdin)
}

#[test]
fn a_da_on_another_unix_account_works_through_the_socket_and_cannot_open_the_database() {
    need_root();
    let w = World::demo();
    let ready = serve(&w, &["--socket-group", "nogroup"]);
    assert!(
        ready["listening"][0].as_str().is_some_and(|l| l.starts_with("unix:") && l.ends_with("dms.sock")),
        "{ready}"
    );
    assert!(ready["pid"].as_u64().is_some() && ready["db"].as_str().is_some_and(|d| d.ends_with("dms.db")), "{ready}");
    w.clients_as(NOBODY, NOBODY);
    // The DAs' first-time logons, a submission and its approval: all as nobody, through the socket.
    for da in [MAKER, CHECKER] {
        w.first_time_app(da);
    }
    let id = w.submit(MAKER, &create_args("B0123404", "km.cheung@abc.com.hk"));
    assert_eq!(w.approve(CHECKER, &[id]).ok().json()["status"], "APPROVED");
    assert_eq!(w.as_user(CHECKER, &["user", "enquire", "B0123404"]).ok().json()["email"], "km.cheung@abc.com.hk");

    // nobody can read neither the database nor its key file, with dms or without it.
    let as_nobody = |prog: &str, args: &[&str]| {
        Command::new("setpriv")
            .args([&format!("--reuid={NOBODY}"), &format!("--regid={NOBODY}"), "--clear-groups", prog])
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .current_dir(w.path("client"))
            .output()
            .expect("setpriv")
    };
    let db = w.path("dms.db").display().to_string();
    let key = w.path("dms.db.key").display().to_string();
    let sql = as_nobody("sqlite3", &[&db, "UPDATE users SET email = 'evil@evil.example' WHERE user_id = 'B01234X2'"]);
    assert!(!sql.status.success(), "nobody wrote the database with sqlite3");
    let cat = as_nobody("cat", &[&key]);
    assert!(!cat.status.success() && String::from_utf8_lossy(&cat.stderr).contains("Permission denied"));
    let embedded = as_nobody(&dms_bin().display().to_string(), &["--format", "json", "--db", &db, "whoami"]);
    assert!(!embedded.status.success(), "nobody opened the database embedded");
    let said = String::from_utf8_lossy(&embedded.stderr);
    assert!(said.contains("belongs to another user") || said.contains("ermission denied"), "{said}");
    assert_eq!(w.sql("SELECT email FROM users WHERE user_id = 'B01234X2'"), "sm.wong@abc.com.hk");

    // Every row the calls wrote names the account that made them, and `report audit` shows it.
    let vias =
        w.sql("SELECT DISTINCT via FROM audit WHERE action IN ('request.submitted', 'request.approved', 'signin.ok')");
    assert_eq!(vias, format!(r#"{{"transport":"unix","uid":{NOBODY},"user":"nobody"}}"#), "{vias}");
    w.assert_audit_ok();
    let report = w.as_user(CHECKER, &["report", "audit"]).ok().json();
    let approved = report["audit"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["action"] == "request.approved")
        .expect("the approval")
        .clone();
    assert_eq!(approved["via"]["uid"], NOBODY, "{approved}");
    assert_eq!(approved["via"]["transport"], "unix");
}

#[test]
fn a_server_killed_during_a_1200_row_bulk_approval_leaves_all_of_it_or_nothing() {
    let w = World::with_das();
    w.first_time_app(OPERATOR);
    w.op(&["hkex", "da4", "--participant", PARTICIPANT, "--accounts", "1200"]).ok();
    let ids: Vec<String> = free_user_ids(PARTICIPANT, &[USER1, USER2, USER3]).into_iter().take(1200).collect();
    let mut import = String::from("participant,user_id,surname,other_names,email,role,srn,certificate_expiry\n");
    let mut emails = String::from("user_id,email\n");
    for id in &ids {
        import.push_str(&format!(
            "{PARTICIPANT},{id},CHAN,TAI MAN,{}@old.abc.com.hk,user,0101101200012AB2,2030-12-31\n",
            id.to_lowercase()
        ));
        emails.push_str(&format!("{id},{}@abc.com.hk\n", id.to_lowercase()));
    }
    let file = w.write("users.csv", &import);
    w.op(&["hkex", "import-smartcard-users", &file]).ok();
    let file = w.write("emails.csv", &emails);
    let request = w.submit(MAKER, &["user", "import-emails", &file]);
    w.stop_server();
    serve(&w, &[]);

    let wal = w.path("dms.db-wal");
    let wal_size = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let start = wal_size();
    let code = w.totp(CHECKER);
    let args: Vec<String> =
        ["--server", "unix:dms.sock", "--session", "B01234X2.session", "--format", "json", "request", "approve"]
            .iter()
            .map(|s| s.to_string())
            .chain([request.to_string(), "--otp".into(), code, "--password-stdin".into()])
            .collect();
    let mut cmd = w.client_command(args);
    let mut approve = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("approve");
    approve.stdin.take().expect("stdin").write_all(line(PASSWORD).as_bytes()).expect("password");
    let deadline = Instant::now() + Duration::from_secs(60);
    while wal_size() < start + (256 << 10) {
        assert!(approve.try_wait().expect("poll").is_none(), "the approval finished before the server could be killed");
        assert!(Instant::now() < deadline, "the approval never started writing");
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut server = w.take_server().expect("the server");
    server.kill().expect("SIGKILL the server");
    server.wait().expect("reaped");
    let out = approve.wait_with_output().expect("the client ends");
    assert_eq!(out.status.code(), Some(Exit::Unreachable.code()), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("may have been done"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // All of it or nothing: the database is whole, the request and every address agree.
    assert_eq!(w.sql("PRAGMA integrity_check"), "ok");
    let changed = 1200 - w.count("SELECT COUNT(*) FROM users WHERE email LIKE '%@old.abc.com.hk'");
    let status = w.sql(&format!("SELECT status FROM requests WHERE request_id = {request}"));
    match status.as_str() {
        "PENDING" => assert_eq!(changed, 0, "a pending request changed nothing"),
        "APPROVED" => assert_eq!(changed, 1200, "an approved request changed every row"),
        other => panic!("request {request} is {other}"),
    }
    serve(&w, &[]);
    w.assert_audit_ok();
}

#[test]
fn sigterm_lets_a_call_in_flight_finish_then_the_server_exits_0_and_removes_its_socket() {
    let w = World::with_operator();
    let mut participants = String::from("id,name,house,max_users,domains\n");
    let mut users = String::from("participant,user_id,surname,other_names,email,role,srn,certificate_expiry\n");
    for p in 0..40 {
        let pid = format!("C{p:05}");
        participants.push_str(&format!("{pid},FIRM {p},hkscc-cp,1000,firm{p}.hk\n"));
        for (u, id) in free_user_ids(&pid, &[]).into_iter().take(500).enumerate() {
            users.push_str(&format!("{pid},{id},CHAN,TAI MAN,u{u}@firm{p}.hk,user,0101101200012AB2,2030-12-31\n"));
        }
    }
    let p = w.write("p.csv", &participants);
    let u = w.write("u.csv", &users);
    w.op(&["hkex", "participant", "import", &p]).ok();
    w.stop_server();
    serve(&w, &[]);
    let args: Vec<String> = [
        "--server",
        "unix:dms.sock",
        "--session",
        "HKEXOP01.session",
        "--format",
        "json",
        "hkex",
        "import-smartcard-users",
        &u,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let wal = w.path("dms.db-wal");
    let wal_size = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let start = wal_size();
    let import = w
        .client_command(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("import");
    let deadline = Instant::now() + Duration::from_secs(60);
    while wal_size() < start + (256 << 10) {
        assert!(Instant::now() < deadline, "the import never started writing");
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut server = w.take_server().expect("the server");
    Command::new("kill").args(["-TERM", &server.id().to_string()]).status().expect("kill -TERM");
    let out = import.wait_with_output().expect("the client ends");
    assert!(out.status.success(), "the call in flight finished: {}", String::from_utf8_lossy(&out.stderr));
    let done: Value = serde_json::from_slice(&out.stdout).expect("its reply");
    assert_eq!(done["imported"], 20_000, "{done}");
    let status = server.wait().expect("the server ends");
    assert_eq!(status.code(), Some(0), "a stopped server exits 0");
    assert!(!w.path("dms.db.serve.lock").exists() || !w.path("dms.sock").exists(), "the socket is removed");
    assert!(!w.path("dms.sock").exists(), "the socket is removed");
    assert!(w.server_log().contains("\"stopped\""));
}

#[test]
fn a_reply_lost_with_its_connection_is_asked_again_and_the_call_is_done_once() {
    let w = World::with_das();
    w.stop_server();
    serve(&w, &[]);
    let mut all = vec!["--server", "unix:dms.sock", "--session", "B01234X1.session", "--format", "json"];
    let create = create_args("B0123404", "km.cheung@abc.com.hk");
    all.extend(create.iter());
    let mut cmd = w.client_command(all.iter().map(|s| s.to_string()).collect());
    cmd.env("DMS_TEST_DROP_REPLY", "1");
    let r = w.run_command(cmd, None).ok();
    assert_eq!(r.json()["status"], "PENDING");
    let id = r.request_id();
    let list = w.as_user(MAKER, &["request", "list"]).ok().json();
    let requests: Vec<i64> =
        list["requests"].as_array().expect("rows").iter().map(|r| r["request_id"].as_i64().expect("id")).collect();
    assert_eq!(requests, vec![id], "one request, though the call was sent twice");
    assert_eq!(w.count("SELECT COUNT(*) FROM audit WHERE action = 'request.submitted'"), 1);
    let log = w.server_log();
    let call = log.lines().filter(|l| l.contains("\"call\":\"user/create\"")).count();
    assert_eq!(call, 1, "the call ran once, the second was answered from the first reply:\n{log}");
}

#[test]
fn without_a_server_a_command_fails_with_exit_9_at_once() {
    let w = World::with_das();
    w.stop_server();
    // Nothing at the path, then a socket left behind that no server listens on.
    for leftover in [false, true] {
        if leftover {
            let l = std::os::unix::net::UnixListener::bind(w.path("dms.sock")).expect("a socket");
            drop(l);
        }
        let start = Instant::now();
        let r = client(&w, Some(MAKER), &["whoami"], None);
        assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
        let m = r.refused(Exit::Unreachable, &["unix:dms.sock", "the call was not done"]).message();
        assert!(!m.contains("may have been done"), "{m}");
    }
}

#[test]
fn a_second_server_on_the_same_database_is_refused() {
    let w = World::operator();
    let first = serve(&w, &[]);
    let r = w.run(&["serve", "--socket", "other.sock"], None).expect(Exit::Conflict);
    let m = r.message();
    assert!(m.contains("already runs") && m.contains(&first["pid"].to_string()), "{m}");
    assert!(!w.path("other.sock").exists());
}

#[test]
fn a_call_larger_than_32_mib_is_refused_and_changes_nothing() {
    let w = World::with_operator();
    w.stop_server();
    serve(&w, &[]);
    let mut big = String::from("id,name,house,max_users,domains\n");
    let row = format!("C00001,{},hkscc-cp,10,x.hk\n", "N".repeat(1000));
    while big.len() < (33 << 20) {
        big.push_str(&row);
    }
    let f = w.write("big.csv", &big);
    let before = w.count("SELECT COUNT(*) FROM participants");
    client(&w, Some(OPERATOR), &["hkex", "participant", "import", &f], None)
        .refused(Exit::Invalid, &["larger than the server accepts", "32 MiB", "nothing was done"]);
    assert_eq!(w.count("SELECT COUNT(*) FROM participants"), before);
    // The server still answers.
    client(&w, Some(OPERATOR), &["whoami"], None).ok();
}

#[test]
fn a_connection_that_sends_nothing_is_closed_after_30_seconds_and_delays_nobody() {
    let w = World::with_operator();
    w.stop_server();
    serve(&w, &[]);
    let mut idle = std::os::unix::net::UnixStream::connect(w.path("dms.sock")).expect("connect");
    let opened = Instant::now();
    // Another client meanwhile is answered (how much later, with 200 of them, is measured in
    // benches/: this test holds no timing bar on a busy machine).
    client(&w, Some(OPERATOR), &["whoami"], None).ok();
    idle.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    let mut buf = [0u8; 64];
    // (A signal to this test process — another test's child — may interrupt the wait.)
    let read = loop {
        match idle.read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => break other,
        }
    };
    let closed_after = opened.elapsed();
    assert!(matches!(read, Ok(0)), "the server closed it without a word: {read:?} after {closed_after:?}");
    assert!(closed_after >= Duration::from_secs(29), "closed too early: {closed_after:?}");
}

/// A certificate authority and a server certificate for 127.0.0.1 that it signed, and another
/// authority that signed nothing: (server cert PEM, server key PEM, its CA PEM, the other CA PEM).
fn certificates() -> (String, String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let authority = || {
        let key = KeyPair::generate().expect("a key");
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = p.self_signed(&key).expect("a CA");
        (cert, key)
    };
    let (ca, ca_key) = authority();
    let (other, _) = authority();
    let key = KeyPair::generate().expect("a key");
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .expect("params")
        .signed_by(&key, &ca, &ca_key)
        .expect("the server's certificate");
    (cert.pem(), key.serialize_pem(), ca.pem(), other.pem())
}

fn write_private(w: &World, name: &str, text: &str) -> String {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(w.path(name))
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .expect("write");
    name.to_string()
}

#[test]
fn over_tls_the_servers_authority_is_trusted_and_any_other_refused() {
    let w = World::operator();
    let (cert, key, ca, other) = certificates();
    let (cert, key, ca, other) = (
        write_private(&w, "cert.pem", &cert),
        write_private(&w, "key.pem", &key),
        write_private(&w, "ca.pem", &ca),
        write_private(&w, "other.pem", &other),
    );
    let ready = serve(&w, &["--listen", "127.0.0.1:0", "--tls-cert", &cert, "--tls-key", &key]);
    let url = ready["listening"][1].as_str().expect("an https:// address").to_string();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let over = |ca: Option<&str>| {
        let mut args = vec!["--server".to_string(), url.clone()];
        if let Some(ca) = ca {
            args.extend(["--ca-file".to_string(), ca.to_string()]);
        }
        args.extend(["--format", "json", "otp", "request", "--user", OPERATOR].map(String::from));
        w.run_command(w.client_command(args), None)
    };
    over(Some(&ca)).ok();
    let via = w.sql("SELECT via FROM audit WHERE action = 'otp.email.sent'");
    assert!(via.contains(r#""transport":"tls""#) && via.contains(r#""peer":"127.0.0.1:"#), "{via}");
    over(Some(&other)).refused(Exit::Unreachable, &["TLS", "--ca-file", "not done"]);
    over(None).refused(Exit::Unreachable, &["TLS"]);
    assert_eq!(w.otps().len(), 1, "only the trusted client's call was done");
}

#[test]
fn plain_tcp_is_refused_on_both_sides() {
    let w = World::operator();
    w.stop_server();
    w.run(&["serve", "--listen", "127.0.0.1:0"], None).refused(Exit::Usage, &["plain TCP is refused", "--tls-cert"]);
    let mut args: Vec<String> =
        ["--server", "http://127.0.0.1:8080", "--format", "json", "whoami"].map(String::from).to_vec();
    let r = w.run_command(w.client_command(std::mem::take(&mut args)), None);
    r.refused(Exit::Usage, &["plain HTTP is refused"]);
}

#[test]
fn host_jobs_and_host_local_commands_never_run_through_a_server() {
    let w = World::with_operator();
    w.stop_server();
    serve(&w, &[]);
    client(&w, Some(OPERATOR), &["backup", "--out", "b.age", "--password-stdin"], Some("a-backup-passphrase-here\n"))
        .refused(Exit::NotPermitted, &["host job", "server's host"]);
    assert!(!w.path("b.age").exists());
    client(&w, None, &["hkex", "remind", "expiring", "--system"], None).refused(Exit::NotPermitted, &["host job"]);
    for verb in [&["init"][..], &["restore", "b.age"][..]] {
        client(&w, None, verb, None).refused(Exit::Usage, &["takes no --server"]);
    }
    let mut args: Vec<String> =
        ["--server", "unix:dms.sock", "--db", "dms.db", "--format", "json", "whoami"].map(String::from).to_vec();
    w.run_command(w.client_command(std::mem::take(&mut args)), None).refused(Exit::Usage, &["--db and --server"]);
}

/// One HTTP/1.1 request on the socket, by hand (what `curl --unix-socket` does).
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
    let w = World::with_operator();
    w.stop_server();
    serve(&w, &[]);
    let health = http(&w, "GET /v1/health HTTP/1.1\r\nHost: dms\r\nConnection: close\r\n\r\n");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let body: Value = serde_json::from_str(health.split("\r\n\r\n").nth(1).unwrap_or_default()).expect("JSON");
    assert_eq!(body["ok"], true);
    assert!(body["schema"].as_i64().is_some_and(|s| s >= 6) && body["version"].is_string(), "{body}");

    // A call: its envelope POSTed to its path, its reply JSON lines ending with "done".
    let envelope = r#"{"call_id":"0a1b2c","format":"json","now":"2026-11-23T10:00:00+08:00","user":"B0123401"}"#;
    let req = format!(
        "POST /v1/otp/request HTTP/1.1\r\nHost: dms\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{envelope}",
        envelope.len()
    );
    // The body ends with its last line: an HTTP client (curl, a load tool) is not kept waiting
    // (the server once held every reply open up to 5 s after "done").
    let started = std::time::Instant::now();
    let reply = http(&w, &req);
    assert!(started.elapsed() < Duration::from_secs(2), "the reply took {:?}", started.elapsed());
    assert!(reply.starts_with("HTTP/1.1 200") && reply.contains("application/x-ndjson"), "{reply}");
    assert!(reply.contains(r#"{"object":{"user_id":"B0123401","requested":true"#), "{reply}");
    assert!(reply.contains("\"done\""), "{reply}");
    for (path, status) in [("/v1/no/such/call", "400"), ("/elsewhere", "404")] {
        let req = format!("POST {path} HTTP/1.1\r\nHost: dms\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}");
        assert!(http(&w, &req).starts_with(&format!("HTTP/1.1 {status}")), "{path}");
    }
    // One JSON line per call on stderr: when, who, what, how it ended, how long; no secret.
    let log = w.server_log();
    let line: Value =
        serde_json::from_str(log.lines().find(|l| l.contains("otp/request")).expect("the call's line")).expect("JSON");
    for key in ["time", "caller", "call", "call_id", "exit", "ms"] {
        assert!(line.get(key).is_some(), "{key} in {line}");
    }
    assert_eq!(line["caller"], "unix:root(0)");
}

#[test]
fn a_database_opened_to_others_while_the_server_runs_is_refused_at_the_next_call() {
    use std::os::unix::fs::PermissionsExt as _;
    let w = World::with_operator();
    w.stop_server();
    serve(&w, &[]);
    client(&w, Some(OPERATOR), &["whoami"], None).ok();
    std::fs::set_permissions(w.path("dms.db"), std::fs::Permissions::from_mode(0o644)).expect("chmod");
    client(&w, Some(OPERATOR), &["whoami"], None).refused(Exit::Invalid, &["dms.db", "chmod 600"]);
    std::fs::set_permissions(w.path("dms.db"), std::fs::Permissions::from_mode(0o600)).expect("chmod");
    client(&w, Some(OPERATOR), &["whoami"], None).ok();
}
