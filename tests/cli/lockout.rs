//! Lockout (SPEC §3): 5 consecutive unsuccessful logins within 30 minutes (sliding window),
//! 3 wrong OTPs = 1 unsuccessful login, a success resets both counts, and a locked account is
//! refused everywhere with a message naming who can unlock it.

use crate::harness::*;

/// `login` at MONDAY_10 + `minute`.
fn login_at(w: &World, minute: i64, user: &str, password: &str, code: &str) -> Run {
    w.at(MONDAY_10).advance(mins(minute));
    w.login_with(user, password, code)
}

/// A wrong app code for the operator at MONDAY_10 + `minute`, with the right password.
fn wrong_code_at(w: &World, minute: i64) -> Run {
    w.at(MONDAY_10).advance(mins(minute));
    w.login_with(OPERATOR, PASSWORD, &w.wrong_totp(OPERATOR))
}

/// Four wrong passwords of the operator, at minutes 0 to 3: one more failure locks.
fn four_wrong_passwords(w: &World) {
    for minute in 0..4 {
        login_at(w, minute, OPERATOR, WRONG_PASSWORD, "123456").expect(Exit::Auth);
    }
}

#[test]
fn five_wrong_passwords_in_29_minutes_lock_a_business_user() {
    let w = World::ready();
    let phc = w.cred(USER1, "password_phc");
    for minute in [0, 7, 14, 21] {
        let r = login_at(&w, minute, USER1, WRONG_PASSWORD, "12345678");
        assert_eq!(r.exit(), Exit::Auth, "failure at minute {minute} does not lock yet:\n{r}");
    }
    assert_eq!(w.cred(USER1, "locked_at IS NULL"), "1");

    login_at(&w, 29, USER1, WRONG_PASSWORD, "12345678").refused(Exit::Locked, &["locked", "Delegated Administrator"]);
    assert_eq!(w.cred(USER1, "locked_at IS NOT NULL"), "1");

    // Locked: the right password, an OTP request and a self-service reset are all refused.
    w.advance(mins(1));
    let mailed = w.otps().len();
    w.login_with(USER1, PASSWORD, "12345678").refused(Exit::Locked, &["Delegated Administrator"]);
    w.otp_request(USER1).refused(Exit::Locked, &["locked"]);
    let msg = w.fails(
        Exit::Locked,
        &["password", "reset", "--user", USER1, "--otp", "12345678", "--password-stdin"],
        Some(&line(NEW_PASSWORD)),
    );
    assert!(msg.contains("locked"), "{msg}");
    assert_eq!(w.otps().len(), mailed, "no OTP is sent to a locked account");
    assert_eq!(w.cred(USER1, "password_phc"), phc, "the password is unchanged");
}

#[test]
fn a_locked_da_is_told_to_go_through_the_exchange_with_da3() {
    let w = World::ready();
    for minute in 0..4 {
        login_at(&w, minute, MAKER, WRONG_PASSWORD, "123456").expect(Exit::Auth);
    }
    login_at(&w, 4, MAKER, WRONG_PASSWORD, "123456").refused(Exit::Locked, &["locked", "DA3"]);
    assert_eq!(w.cred(MAKER, "locked_at IS NOT NULL"), "1");
}

#[test]
fn failures_ten_minutes_apart_do_not_lock() {
    let w = World::ready();
    for minute in [0, 10, 20, 30, 40] {
        let r = login_at(&w, minute, OPERATOR, WRONG_PASSWORD, "123456");
        assert_eq!(r.exit(), Exit::Auth, "failure at minute {minute}:\n{r}");
    }
    assert_eq!(w.cred(OPERATOR, "locked_at IS NULL"), "1");
    w.at(MONDAY_10).advance(mins(41));
    let r = w.login(OPERATOR);
    assert_eq!(r.exit(), Exit::Ok, "the sixth attempt, right password and OTP, signs in:\n{r}");
}

#[test]
fn three_wrong_otps_count_as_one_failed_login() {
    let w = World::ready();
    four_wrong_passwords(&w);
    // The right password with a wrong code: two misses are not yet a failed login...
    for minute in [4, 5] {
        let r = wrong_code_at(&w, minute);
        assert_eq!(r.exit(), Exit::Auth, "wrong OTP at minute {minute}:\n{r}");
    }
    assert_eq!(w.cred(OPERATOR, "otp_misses"), "2");
    assert_eq!(w.cred(OPERATOR, "locked_at IS NULL"), "1");
    // ...the third is, and it is the fifth within 30 minutes.
    wrong_code_at(&w, 6).refused(Exit::Locked, &["locked"]);
    assert_eq!(w.cred(OPERATOR, "locked_at IS NOT NULL"), "1");
}

#[test]
fn a_successful_logon_resets_the_counts() {
    let w = World::ready();
    four_wrong_passwords(&w);
    for minute in [4, 5] {
        wrong_code_at(&w, minute).expect(Exit::Auth);
    }
    w.at(MONDAY_10).advance(mins(6));
    w.login(OPERATOR).ok();
    assert_eq!(w.cred(OPERATOR, "failures || '/' || otp_misses"), "/0");

    // Without the reset, this wrong OTP would be the third miss and the fifth failure...
    wrong_code_at(&w, 7).expect(Exit::Auth);
    // ...and this wrong password the fifth failure within 30 minutes.
    login_at(&w, 8, OPERATOR, WRONG_PASSWORD, "123456").expect(Exit::Auth);
    assert_eq!(w.cred(OPERATOR, "locked_at IS NULL"), "1");
    assert_eq!(w.cred(OPERATOR, "otp_misses"), "1");
    assert_eq!(w.cred(OPERATOR, "failures"), "2026-11-23T02:08:00Z");
}

#[test]
fn ten_wrong_passwords_at_once_count_five_failures_and_the_rest_are_told_locked() {
    let w = World::ready();
    // Ten processes at once, each with its own session file, all at the same moment.
    let racers: Vec<Spawned> = (0..10)
        .map(|i| {
            let session = format!("racer{i}");
            let args = ["--format", "json", "login", "--user", USER1, "--password-stdin", "--otp", "12345678"];
            w.spawn(Some(&session), &args, Some(&line(WRONG_PASSWORD)))
        })
        .collect();
    let mut exits = std::collections::BTreeMap::new();
    for racer in racers {
        let r = racer.wait();
        let message = r.message();
        match r.exit() {
            Exit::Auth => assert!(message.contains("wrong password"), "{r}"),
            Exit::Locked => assert!(message.contains("locked"), "{r}"),
            other => panic!("a racer ended {other}:\n{r}"),
        }
        *exits.entry(r.exit()).or_insert(0) += 1;
    }
    // Four plain failures; the fifth failure locks (and says so); five more find it locked.
    assert_eq!(exits, [(Exit::Auth, 4), (Exit::Locked, 6)].into_iter().collect(), "{exits:?}");
    let audited = |action: &str| {
        w.count(&format!("SELECT COUNT(*) FROM audit WHERE action = '{action}' AND subject = '{USER1}'"))
    };
    assert_eq!(audited("signin.fail.password"), 5, "exactly five failures counted");
    assert_eq!(audited("account.locked"), 1);
    assert_eq!(audited("signin.refused"), 5, "the other five were refused as locked, not counted");
    assert_eq!(w.cred(USER1, "locked_at IS NOT NULL"), "1");

    // Later, even the right password is told the account is locked.
    w.advance(mins(1));
    w.otp_request(USER1).refused(Exit::Locked, &["locked"]);
    w.login_with(USER1, PASSWORD, "12345678").refused(Exit::Locked, &["locked", "Delegated Administrator"]);
    assert_eq!(audited("signin.fail.password"), 5, "never more than five");
}
