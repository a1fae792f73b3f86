//! The seed's timeline for real (seed 1, 3.1, 4, 5, 6.1, Appendix A; the circular): the e-mail
//! registration drive on smartcards before the launch, the parallel run, decommissioning; PG
//! users on smartcards throughout; one firm in HKCC and SEOCH; DA3's own checks.

use crate::harness::*;

const LAUNCH: &str = "2026-12-01";
const DECOMMISSION: &str = "2027-02-01";
/// The parallel run: after the launch, before decommissioning (a Wednesday).
const PARALLEL: &str = "2026-12-02T10:00:00+08:00";
/// After decommissioning (a Tuesday).
const AFTER: &str = "2027-02-02T10:00:00+08:00";

/// A smartcard-era participant C00001 (1 maker, 2 checkers, a terminal user C0000101 and a
/// Participant Gateway user C0000102), imported, with the launch and decommissioning ahead.
fn smartcard_era() -> World {
    let w = World::with_operator();
    w.setting("decommission-date", DECOMMISSION).ok();
    w.setting("launch-date", LAUNCH).ok();
    let f = w.write("p.csv", "id,name,house,max_users,domains\nC00001,Legacy Securities,hkscc-cp,20,legacy.com.hk\n");
    w.op(&["hkex", "participant", "import", &f]).ok();
    let phc = pin_phc();
    let mut csv = String::from(
        "participant,user_id,surname,other_names,email,role,srn,certificate_expiry,pin_phc,access_channel\n",
    );
    for (id, role, channel) in [
        ("C00001X1", "maker", "CST"),
        ("C00001X2", "checker", "CST"),
        ("C00001X3", "checker", "CST"),
        ("C0000101", "user", "CST"),
        ("C0000102", "user", "PG"),
    ] {
        // Smartcard-era users mostly have no e-mail address yet: the drive registers them.
        csv.push_str(&format!("C00001,{id},LEE,TEST,,{role},0101101200012AB2,2030-12-31,\"{phc}\",{channel}\n"));
    }
    let f = w.write("u.csv", &csv);
    w.op(&["hkex", "import-smartcard-users", &f]).ok();
    w
}

fn approve_with_pin(w: &World, checker: &str, id: i64, pin: &str) -> Run {
    w.as_user_stdin(checker, &["request", "approve", &id.to_string(), "--smartcard", "--password-stdin"], &line(pin))
}

#[test]
fn the_timeline_from_the_registration_drive_to_decommissioning() {
    let w = smartcard_era();

    // Before the launch: the drive runs on smartcards (seed Appendix A, the circular).
    w.smartcard("C00001X1", PIN).ok();
    w.smartcard("C00001X2", PIN).ok();
    let id = w.submit("C00001X1", &["user", "change", "C0000101", "--email", "pun@legacy.com.hk"]);
    approve_with_pin(&w, "C00001X2", id, PIN).ok();
    assert_eq!(w.enquire("C00001X1", "C0000101")["email"], "pun@legacy.com.hk");
    // Inline, as on the seed's screen: the checker types its Checker ID and PIN.
    let inline = ["user", "change", "C0000102", "--email", "qiu@legacy.com.hk", "--checker", "C00001X3"];
    let r = w.as_user_stdin("C00001X1", &[&inline[..], &["--smartcard", "--password-stdin"]].concat(), &line(PIN));
    assert_eq!(r.ok().json()["status"], "APPROVED");

    // 2FA is not open yet for participants' users and DAs; the date is named.
    w.otp_request("C0000101").refused(Exit::Locked, &[LAUNCH, "smartcard"]);
    w.otp_request("C00001X1").refused(Exit::Locked, &[LAUNCH]);
    // The exchange processes the new DA3 request types and DA4 only from the launch...
    w.da3_add("C00001", "checker", "NEW", "new@legacy.com.hk").refused(Exit::NotPermitted, &[LAUNCH, "DA3"]);
    let da4 =
        w.op(&["hkex", "da4", "--participant", "C00001", "--accounts", "1"]).refused(Exit::NotPermitted, &[LAUNCH]);
    // DA4 is about user accounts, not DAs (issue 21 #8).
    assert!(da4.stderr.contains("user accounts") && !da4.stderr.contains("SCard 1"), "{da4}");
    // Seed 000 §4.2.1, User Creation "Today: By HKEX": a DA creates no user before the launch,
    // inline or queued, one or a file's worth; nothing is made and no quota is used.
    let before = w.state_and_credentials();
    let create = create_args("C0000103", "new.user@legacy.com.hk");
    w.as_user("C00001X1", &create).refused(Exit::NotPermitted, &[LAUNCH, "created by HKEX"]);
    let inline = [&create[..], &["--checker", "C00001X2", "--smartcard", "--password-stdin"]].concat();
    w.as_user_stdin("C00001X1", &inline, &line(PIN)).refused(Exit::NotPermitted, &[LAUNCH, "created by HKEX"]);
    let f = w.write(
        "new.csv",
        "user_id,surname,other_names,email\n,WONG,A,a.wong@legacy.com.hk\n,HO,B,b.ho@legacy.com.hk\n",
    );
    let r = w.as_user("C00001X1", &["user", "import", &f]).refused(Exit::NotPermitted, &[LAUNCH, "created by HKEX"]);
    assert_eq!(r.stderr.matches("created by HKEX").count(), 1, "said once, not per row: {r}");
    assert_eq!(w.state_and_credentials(), before);
    // ...but its operator is not bound by the timeline.
    w.op(&["whoami"]).ok();

    // The launch: 2FA opens; smartcards still work (the parallel run).
    w.at(PARALLEL);
    w.login(OPERATOR).ok();
    w.first_time_app("C0000101");
    w.smartcard("C0000101", PIN).ok();
    w.login("C0000101").ok();
    // PG users keep to their smartcards: 2FA never applies to them.
    // (An OTP request is answered as for anyone — SPEC §3 — and nothing is sent.)
    let sent = w.otps().len();
    w.otp_request("C0000102").ok();
    assert_eq!(w.otps().len(), sent);
    w.login_with("C0000102", PASSWORD, "123456").expect(Exit::Auth);
    w.smartcard("C0000102", PIN).ok();
    let readiness = w.op(&["report", "readiness", "--participant", "C00001"]).ok().json();
    let findings = |f: &str| -> Vec<String> {
        readiness["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|x| x["finding"] == f)
            .map(|x| x["user_id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(findings("pg-smartcard"), ["C0000102"], "PG users are counted apart: {readiness}");
    assert!(!findings("smartcard-only").contains(&"C0000102".to_string()));
    assert_eq!(readiness["summary"]["pg-smartcard"], 1);
    // DA3 and DA4 are processed now.
    w.da3_add("C00001", "checker", "NEW", "new@legacy.com.hk").ok();

    // Decommissioning: terminal users' smartcards stop; PG users' do not.
    w.at(AFTER);
    w.smartcard("C0000101", PIN).refused(Exit::NotPermitted, &["decommissioned", DECOMMISSION]);
    w.smartcard("C0000102", PIN).ok();
    w.login("C0000101").ok();
    // A smartcard checker can no longer authorise with its PIN either.
    w.smartcard("C00001X2", PIN).expect(Exit::NotPermitted);
    w.assert_audit_ok();
}

#[test]
fn a_wrong_pin_as_an_authorisation_code_counts_against_the_checker() {
    let w = smartcard_era();
    w.smartcard("C00001X1", PIN).ok();
    w.smartcard("C00001X2", PIN).ok();
    let id = w.submit("C00001X1", &["user", "change", "C0000101", "--email", "pun@legacy.com.hk"]);
    let before = w.state();
    let exits: Vec<Exit> = (0..5)
        .map(|_| {
            w.advance(secs(10));
            approve_with_pin(&w, "C00001X2", id, "654321").exit()
        })
        .collect();
    assert_eq!(exits, [Exit::Auth, Exit::Auth, Exit::Auth, Exit::Auth, Exit::Locked], "the 5th wrong PIN locks");
    assert_eq!(w.state(), before, "nothing applied");
    w.smartcard("C00001X2", PIN).refused(Exit::Locked, &["locked", "DA3"]);
    // A PIN that is not 6-8 digits is bad input, not a failed attempt.
    w.smartcard("C00001X3", PIN).ok();
    approve_with_pin(&w, "C00001X3", id, "12ab").expect(Exit::Invalid);
    approve_with_pin(&w, "C00001X3", id, PIN).ok();
}

#[test]
fn a_pg_user_made_after_the_launch_gets_its_smartcard_from_the_exchange() {
    let w = World::with_das();
    w.first_time_app(OPERATOR);
    let mut args = create_args("B0123405", "pg.user@abc.com.hk");
    args.extend(["--channel", "PG"]);
    let id = w.submit(MAKER, &args);
    w.approve(CHECKER, &[id]).ok();
    assert_eq!(w.enquire(MAKER, "B0123405")["access_channel"], "PG");
    // No card yet: no way in.
    w.smartcard("B0123405", PIN).refused(Exit::NotPermitted, &["no smartcard"]);
    // The exchange issues the card; the holder is mailed a one-time initial PIN (issue 18 #1b:
    // the operator no longer chooses it, so cannot sign in as the holder).
    let issue =
        ["hkex", "smartcard", "issue", "B0123405", "--srn", "0101101200099ZZ1", "--certificate-expiry", "2030-12-31"];
    let v = w.op(&issue).ok().json();
    assert_eq!((v["issued"].as_bool(), v["initial_pin_sent_to"].as_str()), (Some(true), Some("p***@abc.com.hk")));
    let initial = w.initial_pin("pg.user@abc.com.hk");
    assert!(
        !w.sql("SELECT detail FROM audit WHERE action = 'smartcard.issued'").contains(&initial),
        "never in the trail"
    );
    // The first sign-in with it must choose the holder's own PIN: without one, nothing opens.
    w.smartcard("B0123405", &initial).refused(Exit::Usage, &["one-time initial PIN", "choose your own PIN"]);
    w.smartcard_first("B0123405", &initial, &initial).refused(Exit::Invalid, &["differ from the initial"]);
    w.smartcard_first("B0123405", &initial, PIN).ok();
    assert!(w.mails_to("pg.user@abc.com.hk").last().is_some_and(|m| m.contains("Smartcard PIN changed")));
    w.smartcard("B0123405", &initial).refused(Exit::Auth, &["wrong smartcard PIN"]);
    w.smartcard("B0123405", PIN).ok();
    // Only PG users get cards after the launch.
    let cst = ["hkex", "smartcard", "issue", USER1, "--srn", "0101101200099ZZ2", "--certificate-expiry", "2030-12-31"];
    w.op(&cst).refused(Exit::NotPermitted, &["PG"]);
    // --password-stdin (a PIN the operator chose) is ignored with a warning.
    let r = w.as_user_stdin(OPERATOR, &[&issue[..], &["--password-stdin"]].concat(), &line(PIN)).ok();
    assert!(r.stderr.contains("--password-stdin is ignored"), "{r}");
    // A DA moves a user between the channels under maker-checker.
    let id = w.submit(MAKER, &["user", "change", USER1, "--channel", "PG"]);
    assert_eq!(w.enquire(MAKER, USER1)["access_channel"], "CST", "not before the approval");
    w.approve(CHECKER, &[id]).ok();
    assert_eq!(w.enquire(MAKER, USER1)["access_channel"], "PG");
}

#[test]
fn one_firm_in_hkcc_and_seoch_gets_the_seeds_own_ids() {
    let w = World::with_operator();
    w.participant_add("HKABC", "ABC FUTURES", "hkcc", 20).ok();
    w.participant_add("HKABC", "ABC OPTIONS", "seoch", 20).ok();
    w.participant_add("HKABC", "AGAIN", "hkcc", 20).refused(Exit::Conflict, &["already exists"]);
    // Naming the code alone is ambiguous now, and the error asks for --house.
    w.da3_add("HKABC", "maker", "CHAN", "c@abc.hk").refused(Exit::Invalid, &["--house"]);
    w.op(&["hkex", "participant", "show", "HKABC"]).refused(Exit::Invalid, &["--house"]);
    let da = |house: &str, role: &str, n: u8| {
        let email = format!("{house}{n}@abc.hk");
        let args = [&da3_add_args("HKABC", role, "CHAN", &email)[..], &["--house", house]].concat();
        w.op(&args).ok().json()["da_id"].as_str().expect("a DA ID").to_string()
    };
    assert_eq!(da("hkcc", "maker", 1), "HKABC1X1");
    assert_eq!(da("seoch", "maker", 1), "HKABC2X1");
    assert_eq!(da("hkcc", "checker", 2), "HKABC1X2");
    assert_eq!(da("seoch", "checker", 2), "HKABC2X2");
    let show = w.op(&["hkex", "participant", "show", "HKABC", "--house", "seoch"]).ok().json();
    assert_eq!((show["name"].as_str(), show["delegated_administrators"].as_i64()), (Some("ABC OPTIONS"), Some(2)));
    // Each house's maker generates its house's business-user IDs.
    for (maker, first) in [("HKABC1X1", "HKABC101"), ("HKABC2X1", "HKABC201")] {
        w.first_time_app(maker);
        let args = ["user", "create", "--generate", "--surname", "WONG", "--other-names", "A", "--email", "a@abc.hk"];
        assert_eq!(w.as_user(maker, &args).ok().json()["user_id"], first);
    }
    // Beside the other house, a typed ID in the other house's digits is refused (SPEC §1).
    w.as_user("HKABC1X1", &create_args("HKABC202", "b@abc.hk"))
        .refused(Exit::Conflict, &["HKABC202", "also registered with SEOCH CP", "1 or 3"]);
    // The listing of one registration, and the exchange's view of both.
    let seoch = w.op(&["listing", "--participant", "HKABC", "--house", "seoch"]).ok().json();
    assert_eq!(user_ids(&seoch), ["HKABC2X1", "HKABC2X2"]);
    w.op(&["listing", "--participant", "HKABC"]).refused(Exit::Invalid, &["--house"]);
}

#[test]
fn da3_unlock_checks_the_registered_address_as_the_eservice_does() {
    let w = World::with_das();
    w.first_time_app(OPERATOR);
    let exits = w.wrong_passwords(CHECKER2, 5);
    assert_eq!(exits.last(), Some(&Exit::Locked), "{exits:?}");
    let before = w.state_and_credentials();
    w.op(&["hkex", "da3", "unlock", CHECKER2, "--email", "someone@else.hk"])
        .refused(Exit::NotPermitted, &["registered"]);
    assert_eq!(w.state_and_credentials(), before, "nothing unlocked");
    let v = w.op(&["hkex", "da3", "unlock", CHECKER2, "--email", "KY.LEE@abc.com.hk"]).ok().json();
    assert_eq!(v["status"], "Completed");
    assert_eq!(w.cred(CHECKER2, "locked_at IS NULL AND password_phc IS NULL"), "1", "unlocked and reset");
    // The old form still works, and says it is deprecated.
    let r = w.op(&["hkex", "da3", "unlock", CHECKER2]).ok();
    assert!(r.warnings().iter().any(|m| m.contains("deprecated") && m.contains("--email")), "{r}");
}

#[test]
fn a_disabled_account_is_told_who_can_enable_it_not_to_reset_it() {
    let w = World::with_das();
    w.first_time_app(USER1);
    let id = w.submit(MAKER, &["user", "change", USER1, "--status", "disabled"]);
    w.approve(CHECKER, &[id]).ok();
    let m = w.login(USER1).expect(Exit::Locked).message();
    assert!(m.contains("disabled") && m.contains("enable it again"), "{m}");
    assert!(!m.contains("Reset OTP"), "re-enabling is the fix, not a reset: {m}");
    w.first_time_app(OPERATOR);
    w.da3_add(PARTICIPANT, "checker", "NG", "w.ng@abc.com.hk").ok();
    w.first_time_app("B01234X4");
    w.op(&["hkex", "da3", "disable", "B01234X4"]).ok();
    let m = w.login("B01234X4").expect(Exit::Locked).message();
    assert!(m.contains("disabled") && m.contains("DA3"), "{m}");
}
