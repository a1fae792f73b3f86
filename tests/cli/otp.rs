//! One-time passwords (SPEC §3): e-mail OTPs (8 digits, 5 minutes, single use, one request
//! per 5 minutes, no URL or user ID in the mail) and app TOTP (±1 step, no replay).

use crate::support::*;

fn reset(d: &Dms, user: &str, code: &str, new_password: &str) -> Run {
    d.run(&["password", "reset", "--user", user, "--otp", code, "--password-stdin"], Some(&line(new_password)))
}

#[test]
fn an_email_otp_is_valid_five_minutes_once_and_requested_once_per_five_minutes() {
    let mut d = Dms::ready();
    let t0 = d.now;
    let mailed = d.otp_lines().len();
    let sent = d.ok(&["otp", "request", "--user", USER2], None);
    assert_eq!(sent["valid_until"], "2026-11-23T02:05:00Z");
    let first = d.last_otp();

    // A second request while the first is outstanding is a conflict, and sends nothing.
    d.advance(mins(1));
    let msg = d.fails(7, &["otp", "request", "--user", USER2], None);
    assert!(msg.contains("5 minutes"), "{msg}");
    assert_eq!(d.otp_lines().len(), mailed + 1);

    // At 5:00 the code is no longer accepted...
    d.now = t0 + mins(5);
    let r = reset(&d, USER2, &first, PASSWORD);
    assert_eq!(r.code, 3, "an OTP at exactly 5 minutes is expired:\n{r}");
    assert_eq!(d.cred(USER2, "password_phc IS NULL"), "1");
    // ...and a new one may be requested.
    d.ok(&["otp", "request", "--user", USER2], None);
    assert_eq!(d.otp_lines().len(), mailed + 2);
    let second = d.last_otp();

    // Accepted just inside its 5 minutes, and only once.
    d.now = t0 + mins(10) - secs(1);
    let r = reset(&d, USER2, &second, PASSWORD);
    assert_eq!(r.code, 0, "{r}");
    let phc = d.cred(USER2, "password_phc");
    let r = reset(&d, USER2, &second, NEW_PASSWORD);
    assert_eq!(r.code, 3, "a used OTP is refused:\n{r}");
    assert_eq!(d.cred(USER2, "password_phc"), phc);
}

#[test]
fn the_otp_mail_has_the_seed_subject_and_no_url_or_user_id() {
    let d = Dms::ready();
    let before = d.mails().len();
    d.ok(&["otp", "request", "--user", USER2], None);
    let mails = d.mails();
    assert_eq!(mails.len(), before + 1);
    let mail = mails.last().expect("a mail");
    assert!(mail.contains("\nTo: ml.ho@abc.com.hk\n"), "{mail}");
    assert!(mail.contains("\nSubject: CCASS: One Time Password\n"), "{mail}");
    assert!(mail.contains(&format!("\nOne Time Password (OTP) for CCASS: {}\n", d.last_otp())), "{mail}");
    assert!(!mail.to_lowercase().contains("http"), "no URL:\n{mail}");
    assert!(!mail.to_uppercase().contains(USER2), "no user ID:\n{mail}");
}

#[test]
fn a_totp_code_is_accepted_one_step_either_side_but_not_two() {
    let mut d = Dms::ready();
    let secret = op_secret();
    d.advance(secs(15)); // the middle of a step
    let window: Vec<String> = (-1..=1).map(|k| d.totp(&secret, k)).collect();
    for k in [-2, 2] {
        let code = d.totp(&secret, k);
        if window.contains(&code) {
            continue; // the same six digits as an accepted step: nothing to learn from it
        }
        let r = d.login(None, OPERATOR, PASSWORD, &code);
        assert_eq!(r.code, 3, "{k} steps off is refused:\n{r}");
    }
    let r = d.login(None, OPERATOR, PASSWORD, &d.totp(&secret, -1));
    assert_eq!(r.code, 0, "one step behind is accepted:\n{r}");
    let r = d.login(None, OPERATOR, PASSWORD, &d.totp(&secret, 1));
    assert_eq!(r.code, 0, "one step ahead is accepted:\n{r}");
}

#[test]
fn a_totp_code_is_accepted_only_once_even_in_a_new_session() {
    let mut d = Dms::ready();
    let secret = op_secret();
    let code = d.totp(&secret, 0);
    assert_eq!(d.login(None, OPERATOR, PASSWORD, &code).code, 0);
    d.ok(&["logout"], None);

    d.advance(secs(10)); // still the same step
    let r = d.login(Some("other.session"), OPERATOR, PASSWORD, &code);
    assert_eq!(r.code, 3, "a replayed code is refused:\n{r}");
    assert!(!d.file("other.session").exists(), "no session is written");

    // The next step's code is fine: the refusal was the replay.
    d.advance(secs(30));
    assert_eq!(d.login_app(Some("other.session"), OPERATOR, PASSWORD, &secret).code, 0);
}
