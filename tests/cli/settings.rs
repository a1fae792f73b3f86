//! Self-service authentication settings (seed Appendix D d): delete the registered device,
//! or switch from the app to e-mail OTP. Only for users with a registered device.

use crate::support::*;

#[test]
fn deleting_the_device_means_the_next_logon_sets_up_the_otp_channel_again() {
    let mut d = Dms::ready();
    let old = op_secret();
    assert_eq!(d.login_app(None, OPERATOR, PASSWORD, &old).code, 0);
    let v = d.ok(&["auth", "settings", "--delete-device"], None);
    assert!(v["otp_channel"].is_null(), "{v}");
    assert_eq!(d.cred(OPERATOR, "otp_channel IS NULL AND totp_key IS NULL"), "1");

    d.advance(mins(1));
    let r = d.login_app(None, OPERATOR, PASSWORD, &old);
    assert_eq!(r.code, 5, "no OTP channel any more:\n{r}");
    assert!(r.message().contains("otp setup"), "{r}");

    let new = d.setup_app(OPERATOR, PASSWORD);
    assert_ne!(new, old, "a new key");
    assert_eq!(d.login_app(None, OPERATOR, PASSWORD, &new).code, 0);
    assert_eq!(d.cred(OPERATOR, "otp_channel || '/' || otp_confirmed"), "app/1");
}

#[test]
fn switching_to_email_otp_signs_in_with_mailed_codes_and_leaves_no_settings() {
    let mut d = Dms::ready();
    let secret = op_secret();
    assert_eq!(d.login_app(None, OPERATOR, PASSWORD, &secret).code, 0);
    let v = d.ok(&["auth", "settings", "--use-email"], None);
    assert_eq!(v["otp_channel"], "email");
    assert_eq!(d.cred(OPERATOR, "otp_channel || '/' || otp_confirmed || '/' || (totp_key IS NULL)"), "email/1/1");

    d.advance(mins(1));
    d.ok(&["otp", "request", "--user", OPERATOR], None);
    let r = d.login(None, OPERATOR, PASSWORD, &d.last_otp());
    assert_eq!(r.code, 0, "{r}");

    // Now an e-mail OTP user: the settings are not theirs to change.
    let msg = d.fails(5, &["auth", "settings", "--delete-device"], None);
    assert!(msg.contains("registered mobile device"), "{msg}");
    assert_eq!(d.cred(OPERATOR, "otp_channel"), "email");
}
