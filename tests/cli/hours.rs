//! Service hours (SPEC §3), on by default: business users follow the terminal hours
//! (07:00-21:30 Mon-Fri), DAs the DMS hours (07:00-19:00 Mon-Fri, 09:00-13:00 Sat), the
//! exchange operator is not bound. A refusal says when service reopens.

use crate::harness::*;

#[test]
fn a_business_user_before_opening_is_told_when_service_reopens() {
    let w = World::ready();
    w.at("2026-11-30T06:59:00+08:00"); // Monday
    let mailed = w.otps().len();
    w.otp_request(USER1).refused(Exit::Locked, &["reopens", "07:00"]);
    assert_eq!(w.otps().len(), mailed, "nothing is sent");

    w.at("2026-11-30T07:00:00+08:00");
    w.otp_request(USER1).ok();
}

#[test]
fn at_the_weekend_das_and_the_operator_are_served_but_business_users_are_not() {
    let w = World::ready();
    w.at("2026-11-28T10:00:00+08:00"); // Saturday
    w.otp_request(USER1).refused(Exit::Locked, &["reopens", "Mon 30-Nov-2026 07:00"]);
    let v = w.otp_request(MAKER).ok().json();
    assert_eq!(v["user_id"], MAKER);

    w.at("2026-11-29T03:00:00+08:00"); // Sunday night
    w.login(OPERATOR).ok();
}
