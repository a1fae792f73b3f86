//! First-time logon (seed Appendix C) with either OTP channel, and on-going logon (SPEC §3).

use crate::support::*;

/// The hex SHA-256 (upper case, as sqlite's `hex()` prints it) of the token in a session file.
fn session_token_hash(d: &Dms, file: &str) -> String {
    let text = std::fs::read_to_string(d.file(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let token = text.lines().find_map(|l| l.strip_prefix("token=")).unwrap_or_else(|| panic!("no token in {text}"));
    sha256sum(&hex_decode(token.trim())).to_uppercase()
}

#[test]
fn first_time_logon_with_app_signs_in() {
    let d = Dms::operator(MONDAY_10);

    let sent = d.ok(&["otp", "request", "--user", OPERATOR], None);
    assert_eq!(sent["user_id"], OPERATOR);
    let otp = d.last_otp();
    assert!(otp.len() == 8 && otp.bytes().all(|b| b.is_ascii_digit()), "e-mail OTP {otp:?}");

    let set =
        d.ok(&["password", "reset", "--user", OPERATOR, "--otp", &otp, "--password-stdin"], Some(&line(PASSWORD)));
    assert_eq!(set["password_set"], true);
    assert_eq!(d.cred(OPERATOR, "password_phc IS NOT NULL"), "1");

    let setup = d.ok(&["otp", "setup", "--user", OPERATOR, "--app", "--password-stdin"], Some(&line(PASSWORD)));
    let uri = setup["otpauth_uri"].as_str().expect("otpauth_uri");
    assert!(uri.starts_with("otpauth://totp/HKEX:HKEXOP01?"), "{uri}");
    assert!(uri.contains("issuer=HKEX"), "{uri}");
    // The device is pending until the first accepted code.
    assert_eq!(d.cred(OPERATOR, "otp_channel || '/' || otp_confirmed"), "app/0");

    let secret = secret_of(uri);
    let r = d.login(None, OPERATOR, PASSWORD, &oathtool(&secret, d.now));
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(r.json()["user_id"], OPERATOR);
    assert_eq!(d.cred(OPERATOR, "otp_channel || '/' || otp_confirmed"), "app/1");

    let who = d.ok(&["whoami"], None);
    assert_eq!(who["user_id"], OPERATOR);
    assert_eq!(who["role"], "operator");

    // The session file is private and holds the token, never the hash the database keeps.
    let file = d.file("dms.db.session");
    assert_eq!(mode(&file), 0o600);
    let text = std::fs::read_to_string(&file).expect("session file");
    let stored = d.sql("SELECT hex(token_hash) FROM sessions WHERE user_id = 'HKEXOP01' AND ended_at IS NULL");
    assert_eq!(stored.len(), 64, "one open session, a SHA-256: {stored:?}");
    assert!(!text.to_uppercase().contains(&stored), "the session file holds the stored hash:\n{text}");
    let token = text.lines().find_map(|l| l.strip_prefix("token=")).expect("token line");
    assert!(token.len() >= 32, "a token of at least 128 bits: {token}");
    assert_eq!(session_token_hash(&d, "dms.db.session"), stored);
}

#[test]
fn first_time_logon_with_email_signs_in() {
    let d = Dms::demo(MONDAY_10);
    d.set_first_password(USER1, PASSWORD);
    let mailed = d.otp_lines().len();

    // Without a terminal, e-mail OTP needs the warning accepted explicitly; nothing happens.
    let msg = d.fails(2, &["otp", "setup", "--user", USER1, "--email", "--password-stdin"], Some(&line(PASSWORD)));
    assert!(msg.contains("--accept-warning"), "{msg}");
    assert_eq!(d.otp_lines().len(), mailed, "no OTP is sent");
    assert_eq!(d.cred(USER1, "otp_channel IS NULL"), "1");

    let v = d.ok(
        &["otp", "setup", "--user", USER1, "--email", "--accept-warning", "--password-stdin"],
        Some(&line(PASSWORD)),
    );
    assert_eq!(v["channel"], "email");
    assert_eq!(d.otp_lines().len(), mailed + 1, "set-up sends an OTP");

    let r = d.login(None, USER1, PASSWORD, &d.last_otp());
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(d.cred(USER1, "otp_channel || '/' || otp_confirmed"), "email/1");
    let who = d.ok(&["whoami"], None);
    assert_eq!(who["user_id"], USER1);
    assert_eq!(who["role"], "user");
}

#[test]
fn ongoing_logon_after_logout_works_with_both_channels() {
    let mut d = Dms::ready();
    let secret = op_secret();

    // Authenticator app.
    assert_eq!(d.login_app(None, OPERATOR, PASSWORD, &secret).code, 0);
    let hash = session_token_hash(&d, "dms.db.session");
    let out = d.ok(&["logout"], None);
    assert_eq!(out["signed_out"], OPERATOR);
    assert!(!d.file("dms.db.session").exists(), "logout removes the session file");
    assert_eq!(d.sql(&format!("SELECT end_reason FROM sessions WHERE hex(token_hash) = '{hash}'")), "logout");
    d.fails(3, &["whoami"], None);
    d.advance(mins(1));
    assert_eq!(d.login_app(None, OPERATOR, PASSWORD, &secret).code, 0);
    assert_eq!(d.ok(&["whoami"], None)["user_id"], OPERATOR);

    // E-mail OTP: each logon asks for a fresh code.
    let s = Some("user.session");
    d.ok(&["otp", "request", "--user", USER1], None);
    assert_eq!(d.login(s, USER1, PASSWORD, &d.last_otp()).code, 0);
    d.ok(&["--session", "user.session", "logout"], None);
    d.fails(3, &["--session", "user.session", "whoami"], None);
    d.advance(mins(5)); // one request per 5 minutes, however that is read
    d.ok(&["otp", "request", "--user", USER1], None);
    assert_eq!(d.login(s, USER1, PASSWORD, &d.last_otp()).code, 0);
    assert_eq!(d.ok(&["--session", "user.session", "whoami"], None)["user_id"], USER1);
    // The operator's session was untouched by the user's.
    assert_eq!(d.ok(&["whoami"], None)["user_id"], OPERATOR);
}
