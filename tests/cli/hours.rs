//! Service hours (SPEC §3), on by default: business users follow the terminal hours
//! (07:00-21:30 Mon-Fri), DAs the DMS hours (07:00-19:00 Mon-Fri, 09:00-13:00 Sat), the
//! exchange operator is not bound. A refusal says when service reopens.

use crate::support::*;

#[test]
fn a_business_user_before_opening_is_told_when_service_reopens() {
    let mut d = Dms::ready();
    d.at("2026-11-30T06:59:00+08:00"); // Monday
    let mailed = d.otp_lines().len();
    let msg = d.fails(4, &["otp", "request", "--user", USER1], None);
    assert!(msg.contains("reopens") && msg.contains("07:00"), "{msg}");
    assert_eq!(d.otp_lines().len(), mailed, "nothing is sent");

    d.at("2026-11-30T07:00:00+08:00");
    d.ok(&["otp", "request", "--user", USER1], None);
}

#[test]
fn at_the_weekend_das_and_the_operator_are_served_but_business_users_are_not() {
    let mut d = Dms::ready();
    d.at("2026-11-28T10:00:00+08:00"); // Saturday
    let msg = d.fails(4, &["otp", "request", "--user", USER1], None);
    assert!(msg.contains("reopens") && msg.contains("Mon 30-Nov-2026 07:00"), "{msg}");
    let v = d.ok(&["otp", "request", "--user", DA_MAKER], None);
    assert_eq!(v["user_id"], DA_MAKER);

    d.at("2026-11-29T03:00:00+08:00"); // Sunday night
    let r = d.login_app(None, OPERATOR, PASSWORD, &op_secret());
    assert_eq!(r.code, 0, "{r}");
}
