//! One-time passwords (SPEC §3): e-mail OTPs (8 digits, 5 minutes, single use, one request
//! per 5 minutes, no URL or user ID in the mail) and app TOTP (±1 step, no replay).

use crate::harness::*;

fn reset(w: &World, user: &str, code: &str, new_password: &str) -> Run {
    w.run(&["password", "reset", "--user", user, "--otp", code, "--password-stdin"], Some(&line(new_password)))
}

#[test]
fn an_email_otp_is_valid_five_minutes_once_and_requested_once_per_five_minutes() {
    let w = World::ready();
    let t0 = w.now();
    let mailed = w.otps().len();
    let sent = w.otp_request(USER2).ok().json();
    assert_eq!(sent["valid_until"], "2026-11-23T10:05:00+08:00");
    let first = w.last_otp();

    // A second request while the first is outstanding is a conflict, and sends nothing.
    w.advance(mins(1));
    w.otp_request(USER2).refused(Exit::Conflict, &["5 minutes"]);
    assert_eq!(w.otps().len(), mailed + 1);

    // At 5:00 the code is no longer accepted...
    w.set_now(t0 + mins(5));
    let r = reset(&w, USER2, &first, PASSWORD);
    assert_eq!(r.exit(), Exit::Auth, "an OTP at exactly 5 minutes is expired:\n{r}");
    assert_eq!(w.cred(USER2, "password_phc IS NULL"), "1");
    // ...and a new one may be requested.
    w.otp_request(USER2).ok();
    assert_eq!(w.otps().len(), mailed + 2);
    let second = w.last_otp();

    // Accepted just inside its 5 minutes, and only once.
    w.set_now(t0 + mins(10) - secs(1));
    reset(&w, USER2, &second, PASSWORD).ok();
    let phc = w.cred(USER2, "password_phc");
    let r = reset(&w, USER2, &second, NEW_PASSWORD);
    assert_eq!(r.exit(), Exit::Auth, "a used OTP is refused:\n{r}");
    assert_eq!(w.cred(USER2, "password_phc"), phc);
}

#[test]
fn the_otp_mail_has_the_seed_subject_and_no_url_or_user_id() {
    let w = World::ready();
    let before = w.mails().len();
    w.otp_request(USER2).ok();
    let mails = w.mails();
    assert_eq!(mails.len(), before + 1);
    let mail = mails.last().expect("a mail");
    assert_eq!(w.mails_to("ml.ho@abc.com.hk").last(), Some(mail), "{mail}");
    assert!(mail.contains("\nTo: ml.ho@abc.com.hk\n"), "{mail}");
    assert!(mail.contains("\nSubject: CCASS: One Time Password\n"), "{mail}");
    assert!(mail.contains(&format!("\nOne Time Password (OTP) for CCASS: {}\n", w.last_otp())), "{mail}");
    assert!(!mail.to_lowercase().contains("http"), "no URL:\n{mail}");
    assert!(!mail.to_uppercase().contains(USER2), "no user ID:\n{mail}");
}

#[test]
fn a_totp_code_is_accepted_one_step_either_side_but_not_two() {
    let w = World::ready();
    w.advance(secs(15)); // the middle of a step
    let window: Vec<String> = (-1..=1).map(|k| w.totp_at(OPERATOR, k)).collect();
    for k in [-2, 2] {
        let code = w.totp_at(OPERATOR, k);
        if window.contains(&code) {
            continue; // the same six digits as an accepted step: nothing to learn from it
        }
        let r = w.login_with(OPERATOR, PASSWORD, &code);
        assert_eq!(r.exit(), Exit::Auth, "{k} steps off is refused:\n{r}");
    }
    let r = w.login_with(OPERATOR, PASSWORD, &w.totp_at(OPERATOR, -1));
    assert_eq!(r.exit(), Exit::Ok, "one step behind is accepted:\n{r}");
    let r = w.login_with(OPERATOR, PASSWORD, &w.totp_at(OPERATOR, 1));
    assert_eq!(r.exit(), Exit::Ok, "one step ahead is accepted:\n{r}");
}

#[test]
fn a_totp_code_is_accepted_only_once_even_in_a_new_session() {
    let w = World::ready();
    let code = w.totp_at(OPERATOR, 0);
    w.login_with(OPERATOR, PASSWORD, &code).ok();
    w.op(&["logout"]).ok();

    w.advance(secs(10)); // still the same step
    let r = w.sign_in("other", OPERATOR, PASSWORD, &code);
    assert_eq!(r.exit(), Exit::Auth, "a replayed code is refused:\n{r}");
    assert!(!w.path(&World::session_file("other")).exists(), "no session is written");

    // The next step's code is fine: the refusal was the replay.
    w.advance(secs(30));
    w.sign_in("other", OPERATOR, PASSWORD, &w.totp_at(OPERATOR, 0)).ok();
}
