//! Self-service authentication settings (seed Appendix D d): delete the registered device,
//! or switch from the app to e-mail OTP. Only for users with a registered device, signed in,
//! and proven again with the current password and a current code of the app.

use crate::harness::*;

/// `auth settings FLAG` as `user`, with the current password and `code`.
fn settings(w: &World, user: &str, flag: &str, code: &str) -> Run {
    w.as_user_stdin(user, &["auth", "settings", flag, "--otp", code, "--password-stdin"], &line(PASSWORD))
}

#[test]
fn deleting_the_device_means_the_next_logon_sets_up_the_otp_channel_again() {
    let w = World::ready();
    let old = w.key(OPERATOR);
    w.login(OPERATOR).ok();
    let v = settings(&w, OPERATOR, "--delete-device", &w.totp(OPERATOR)).ok().json();
    assert!(v["otp_channel"].is_null(), "{v}");
    assert_eq!(w.cred(OPERATOR, "otp_channel IS NULL AND totp_key IS NULL"), "1");

    w.advance(mins(1));
    // The app still holds the old key: its code is no use without an OTP channel.
    w.login(OPERATOR).refused(Exit::NotPermitted, &["otp setup"]);

    let new = w.setup_app(OPERATOR);
    assert_ne!(new, old, "a new key");
    w.login(OPERATOR).ok();
    assert_eq!(w.cred(OPERATOR, "otp_channel || '/' || otp_confirmed"), "app/1");
}

#[test]
fn switching_to_email_otp_signs_in_with_mailed_codes_and_leaves_no_settings() {
    let w = World::ready();
    w.login(OPERATOR).ok();
    let v = settings(&w, OPERATOR, "--use-email", &w.totp(OPERATOR)).ok().json();
    assert_eq!(v["otp_channel"], "email");
    assert_eq!(w.cred(OPERATOR, "otp_channel || '/' || otp_confirmed || '/' || (totp_key IS NULL)"), "email/1/1");

    w.advance(mins(1));
    w.otp_request(OPERATOR).ok();
    w.login_with(OPERATOR, PASSWORD, &w.last_otp()).ok();

    // Now an e-mail OTP user: the settings are not theirs to change.
    settings(&w, OPERATOR, "--delete-device", "123456").refused(Exit::NotPermitted, &["registered mobile device"]);
    assert_eq!(w.cred(OPERATOR, "otp_channel"), "email");
}
