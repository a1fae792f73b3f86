//! First-time logon (seed Appendix C) with either OTP channel, and on-going logon (SPEC §3).
//! These tests use the default session file (`dms.db.session`, no `--session`) on purpose.

use crate::harness::*;

/// The hex SHA-256 (upper case, as sqlite's `hex()` prints it) of the token in a session file.
fn session_token_hash(w: &World, file: &str) -> String {
    sha256sum(&hex_decode(&session_token(&w.path(file)))).to_uppercase()
}

/// `login` into the default session file.
fn login_default(w: &World, user: &str, otp: &str) -> Run {
    w.run(&["login", "--user", user, "--password-stdin", "--otp", otp], Some(&line(PASSWORD)))
}

#[test]
fn first_time_logon_with_app_signs_in() {
    let w = World::operator();

    let sent = w.otp_request(OPERATOR).ok().json();
    assert_eq!(sent["user_id"], OPERATOR);
    let otp = w.last_otp();

    let set =
        w.ok(&["password", "reset", "--user", OPERATOR, "--otp", &otp, "--password-stdin"], Some(&line(PASSWORD)));
    assert_eq!(set["password_set"], true);
    assert_eq!(w.cred(OPERATOR, "password_phc IS NOT NULL"), "1");

    let setup = w.ok(&["otp", "setup", "--user", OPERATOR, "--app", "--password-stdin"], Some(&line(PASSWORD)));
    let uri = setup["otpauth_uri"].as_str().expect("otpauth_uri");
    assert!(uri.starts_with("otpauth://totp/HKEX:HKEXOP01?"), "{uri}");
    assert!(uri.contains("issuer=HKEX"), "{uri}");
    // The device is pending until the first accepted code.
    assert_eq!(w.cred(OPERATOR, "otp_channel || '/' || otp_confirmed"), "app/0");

    let secret = secret_of(uri);
    let r = login_default(&w, OPERATOR, &oathtool(&secret, w.now())).ok();
    assert_eq!(r.json()["user_id"], OPERATOR);
    assert_eq!(w.cred(OPERATOR, "otp_channel || '/' || otp_confirmed"), "app/1");

    let who = w.ok(&["whoami"], None);
    assert_eq!(who["user_id"], OPERATOR);
    assert_eq!(who["role"], "operator");

    // The session file is private and holds the token, never the hash the database keeps.
    let file = w.path("dms.db.session");
    assert_eq!(mode(&file), 0o600);
    let text = std::fs::read_to_string(&file).expect("session file");
    let stored = w.sql("SELECT hex(token_hash) FROM sessions WHERE user_id = 'HKEXOP01' AND ended_at IS NULL");
    assert_eq!(stored.len(), 64, "one open session, a SHA-256: {stored:?}");
    assert!(!text.to_uppercase().contains(&stored), "the session file holds the stored hash:\n{text}");
    let token = session_token(&file);
    assert!(token.len() >= 32, "a token of at least 128 bits: {token}");
    assert_eq!(session_token_hash(&w, "dms.db.session"), stored);
}

#[test]
fn first_time_logon_with_email_signs_in() {
    let w = World::demo();
    w.set_first_password(USER1);
    let mailed = w.otps().len();

    // Without a terminal, e-mail OTP needs the warning accepted explicitly; nothing happens.
    let msg =
        w.fails(Exit::Usage, &["otp", "setup", "--user", USER1, "--email", "--password-stdin"], Some(&line(PASSWORD)));
    assert!(msg.contains("--accept-warning"), "{msg}");
    assert_eq!(w.otps().len(), mailed, "no OTP is sent");
    assert_eq!(w.cred(USER1, "otp_channel IS NULL"), "1");

    let v = w.ok(
        &["otp", "setup", "--user", USER1, "--email", "--accept-warning", "--password-stdin"],
        Some(&line(PASSWORD)),
    );
    assert_eq!(v["otp_channel"], "email");
    assert_eq!(w.otps().len(), mailed + 1, "set-up sends an OTP");

    login_default(&w, USER1, &w.last_otp()).ok();
    assert_eq!(w.cred(USER1, "otp_channel || '/' || otp_confirmed"), "email/1");
    let who = w.ok(&["whoami"], None);
    assert_eq!(who["user_id"], USER1);
    assert_eq!(who["role"], "user");
}

#[test]
fn ongoing_logon_after_logout_works_with_both_channels() {
    let w = World::ready();

    // Authenticator app.
    login_default(&w, OPERATOR, &w.totp(OPERATOR)).ok();
    let hash = session_token_hash(&w, "dms.db.session");
    let out = w.ok(&["logout"], None);
    assert_eq!(out["signed_out"], OPERATOR);
    assert!(!w.path("dms.db.session").exists(), "logout removes the session file");
    assert_eq!(w.sql(&format!("SELECT end_reason FROM sessions WHERE hex(token_hash) = '{hash}'")), "logout");
    w.fails(Exit::Auth, &["whoami"], None);
    w.advance(mins(1));
    login_default(&w, OPERATOR, &w.totp(OPERATOR)).ok();
    assert_eq!(w.ok(&["whoami"], None)["user_id"], OPERATOR);

    // E-mail OTP: each logon asks for a fresh code.
    w.otp_request(USER1).ok();
    w.login_with(USER1, PASSWORD, &w.last_otp()).ok();
    w.as_user(USER1, &["logout"]).ok();
    w.as_user(USER1, &["whoami"]).refused(Exit::Auth, &[]);
    w.advance(mins(5)); // one request per 5 minutes, however that is read
    w.otp_request(USER1).ok();
    w.login_with(USER1, PASSWORD, &w.last_otp()).ok();
    assert_eq!(w.as_user(USER1, &["whoami"]).ok().json()["user_id"], USER1);
    // The operator's session was untouched by the user's.
    assert_eq!(w.ok(&["whoami"], None)["user_id"], OPERATOR);
}
