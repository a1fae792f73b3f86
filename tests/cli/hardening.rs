//! What an attacker found, closed (issue "Hardening"): a DA's identity belongs to the exchange,
//! credential changes need both factors, CSV cells never run as formulas, OTP self-service
//! does not tell a real user ID from an unknown one, terminal text is escaped, and imported PIN
//! hashes are bounded.

use crate::harness::*;

#[test]
fn a_maker_cannot_point_a_checkers_email_at_itself() {
    let w = World::with_das();
    let before = w.state();
    // Queued or inline, with another checker's approval: refused at submission.
    let r = w.as_user(MAKER, &["user", "change", CHECKER2, "--email", "tm.chan@abc.com.hk"]);
    r.refused(Exit::NotPermitted, &["DA3", CHECKER2]);
    let r = w.inline(MAKER, &["user", "change", CHECKER2, "--email", "tm.chan@abc.com.hk"], CHECKER, PASSWORD);
    r.refused(Exit::NotPermitted, &["DA3"]);
    // Nor through a bulk file.
    let f = w.write("e.csv", &format!("user_id,email\n{USER1},a@abc.com.hk\n{CHECKER2},tm.chan@abc.com.hk\n"));
    w.as_user(MAKER, &["user", "import-emails", &f]).refused(Exit::NotPermitted, &["line 3", "DA3"]);
    assert_eq!(w.state(), before);
    assert_eq!(w.enquire(MAKER, CHECKER2)["email"], "ky.lee@abc.com.hk");
}

#[test]
fn a_da_disabled_by_the_exchange_stays_disabled_in_dms() {
    let w = World::with_das();
    w.first_time_app(OPERATOR);
    w.da3_add(PARTICIPANT, "checker", "NG", "w.ng@abc.com.hk").ok();
    w.op(&["hkex", "da3", "disable", "B01234X4"]).ok();
    w.as_user(MAKER, &["user", "change", "B01234X4", "--status", "enabled"]).refused(Exit::NotPermitted, &["DA3"]);
    assert_eq!(w.enquire(MAKER, "B01234X4")["status"], "DISABLED");
    // Its other fields are DMS's to maintain.
    let id = w.submit(MAKER, &["user", "change", "B01234X4", "--surname", "NG-WONG"]);
    w.approve(CHECKER, &[id]).ok();
    assert_eq!(w.enquire(MAKER, "B01234X4")["surname"], "NG-WONG");
}

#[test]
fn the_exchange_changes_a_das_email_and_both_addresses_are_told() {
    let w = World::with_das();
    w.first_time_app(OPERATOR);
    let old_before = w.mails_to("ky.lee@abc.com.hk").len();
    let v = w.op(&["hkex", "da3", "change-email", CHECKER2, "--email", "kayan.lee@abc.com.hk"]).ok().json();
    assert_eq!(v["status"], "Completed");
    assert!(v["reference"].as_str().is_some_and(|r| r.starts_with("DA3_")), "{v}");
    assert_eq!(w.enquire(MAKER, CHECKER2)["email"], "kayan.lee@abc.com.hk");
    assert_eq!(w.mails_to("ky.lee@abc.com.hk").len(), old_before + 1, "the old address is told");
    assert_eq!(w.mails_to("kayan.lee@abc.com.hk").len(), 1, "the new address is told");
}

#[test]
fn every_change_of_an_address_is_told_to_the_old_and_the_new_one() {
    let w = World::with_das();
    let id = w.submit(MAKER, &["user", "change", USER2, "--email", "meiling.ho@abc.com.hk"]);
    assert!(w.mails_to("ml.ho@abc.com.hk").is_empty(), "nothing before the approval");
    w.approve(CHECKER, &[id]).ok();
    let old = w.mails_to("ml.ho@abc.com.hk");
    let new = w.mails_to("meiling.ho@abc.com.hk");
    assert_eq!((old.len(), new.len()), (1, 1), "{old:?} {new:?}");
    for m in old.iter().chain(&new) {
        assert!(!m.contains(USER2) && !m.to_lowercase().contains("http"), "no user ID, no link:\n{m}");
    }
}

#[test]
fn a_password_alone_changes_only_an_expired_password() {
    let w = World::ready();
    // Someone who knows the operator's password but has no second factor.
    let before = w.state_and_credentials();
    let stdin = two_lines(NEW_PASSWORD, PASSWORD);
    let r = w.run(&["password", "change", "--user", OPERATOR, "--password-stdin"], Some(&stdin));
    r.refused(Exit::Auth, &["sign in first"]);
    assert_eq!(w.state_and_credentials(), before, "nothing changed, no session ended, nothing counted");
    // Once the password has expired, the user ID and the expired password suffice (seed D a).
    w.advance(chrono::Duration::days(91));
    w.run(&["password", "change", "--user", OPERATOR, "--password-stdin"], Some(&stdin)).ok();
    w.login_with(OPERATOR, NEW_PASSWORD, &w.totp(OPERATOR)).ok();
}

#[test]
fn authentication_settings_need_the_password_and_a_current_code() {
    let w = World::ready();
    w.login(OPERATOR).ok();
    let settings = |code: &str, password: &str| {
        w.as_user_stdin(
            OPERATOR,
            &["auth", "settings", "--delete-device", "--otp", code, "--password-stdin"],
            &line(password),
        )
    };
    // No secret on a pipe: usage, at once.
    w.as_user(OPERATOR, &["auth", "settings", "--delete-device", "--otp", "123456"]).expect(Exit::Usage);
    settings(&w.totp(OPERATOR), WRONG_PASSWORD).refused(Exit::Auth, &["wrong password"]);
    settings(&w.wrong_totp(OPERATOR), PASSWORD).refused(Exit::Auth, &["one-time password"]);
    assert_eq!(w.cred(OPERATOR, "otp_channel"), "app", "the device stays");
    assert_eq!(w.cred(OPERATOR, "failures != '' OR otp_misses > 0"), "1", "the failures count");
    settings(&w.totp(OPERATOR), PASSWORD).ok();
    assert_eq!(w.cred(OPERATOR, "otp_channel IS NULL"), "1");
}

#[test]
fn csv_cells_never_run_as_formulas_in_a_spreadsheet() {
    let w = World::with_das();
    let evil = ["=HYPERLINK(\"//evil.example\",\"x\")", "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"];
    for (i, name) in evil.iter().enumerate() {
        let id = format!("B01234E{i}");
        let email = format!("e{i}@abc.com.hk");
        let (surname, other) = (format!("--surname={name}"), format!("--other-names={name}"));
        let args = ["user", "create", "--user-id", &id, &surname, &other, "--email", &email];
        let req = w.submit(MAKER, &args);
        w.approve(CHECKER, &[req]).ok();
    }
    let req = w.submit(MAKER, &create_args("B01234E9", "e9@abc.com.hk"));
    w.as_user(CHECKER, &["request", "reject", &req.to_string(), "--reason", "=1+1"]).ok();
    let listing = w.raw_as(MAKER, &["--format", "csv", "listing"]).ok().stdout;
    let requests = w.raw_as(CHECKER, &["--format", "csv", "request", "list"]).ok().stdout;
    let csv_cells = |text: &str| -> Vec<String> {
        let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
        r.records().flat_map(|rec| rec.expect("a CSV record").iter().map(str::to_string).collect::<Vec<_>>()).collect()
    };
    for cell in csv_cells(&listing).iter().chain(&csv_cells(&requests)) {
        assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "a live formula cell: {cell:?}");
    }
    for name in evil {
        assert!(csv_cells(&listing).contains(&format!("'{name}")), "{name} is kept, neutralised");
    }
    assert!(csv_cells(&requests).contains(&"'=1+1".to_string()));
    // JSON keeps the value as it is: it is data, not a spreadsheet.
    assert_eq!(w.enquire(MAKER, "B01234E0")["surname"], evil[0]);
}

#[test]
fn otp_request_answers_an_unknown_id_exactly_like_a_real_one() {
    let w = World::ready();
    let real = w.otp_request(USER2).ok();
    let mails = w.mails().len();
    let unknown = w.otp_request("B0123499").ok();
    let no_email = {
        w.sql_write(&format!("UPDATE users SET email = NULL WHERE user_id = '{USER3}'"));
        w.otp_request(USER3).ok()
    };
    let shape = |r: &Run| {
        let mut v = r.json();
        v["user_id"] = serde_json::Value::Null;
        (v, r.exit(), r.stderr.clone())
    };
    assert_eq!(shape(&unknown), shape(&real), "{unknown}\n{real}");
    assert_eq!(shape(&no_email), shape(&real));
    assert_eq!(w.mails().len(), mails, "nothing is sent for them");
    // A second request within 5 minutes: the same conflict for all three.
    w.advance(mins(1));
    let again: Vec<Run> = [USER2, "B0123499", USER3].iter().map(|u| w.otp_request(u).expect(Exit::Conflict)).collect();
    assert_eq!(again[0].message(), again[1].message());
    assert_eq!(again[0].message(), again[2].message());
    // The audit trail says what really happened.
    assert_eq!(w.count("SELECT COUNT(*) FROM audit WHERE action = 'otp.request.not-sent' AND subject = 'B0123499'"), 1);
}

#[test]
fn password_reset_answers_an_unknown_id_like_a_wrong_code() {
    let w = World::ready();
    let reset = |user: &str| {
        w.run(
            &["password", "reset", "--user", user, "--otp", "12345678", "--password-stdin"],
            Some(&line(NEW_PASSWORD)),
        )
    };
    let real = reset(USER2).expect(Exit::Auth);
    let unknown = reset("B0123499").expect(Exit::Auth);
    assert_eq!(real.message(), unknown.message());
    assert_eq!(real.stdout, unknown.stdout);
    assert_eq!(w.count("SELECT COUNT(*) FROM audit WHERE action = 'password.reset.unmatched'"), 1);
}

#[test]
fn text_from_outside_is_escaped_on_a_terminal() {
    let w = World::with_das();
    let name = "evil\u{1b}[2J\u{1b}[31m.csv";
    w.write(name, "user_id,e\u{1b}[5mmail\nB0123401,a@abc.com.hk\n");
    for args in [vec!["user", "import-emails", name], vec!["user", "import-emails", "missing\u{7}.csv"]] {
        let r = w.raw_as(MAKER, &args).expect(Exit::Invalid);
        assert!(!r.stderr.contains('\u{1b}') && !r.stderr.contains('\u{7}'), "raw control characters:\n{r}");
        assert!(r.stderr.contains("\\u{1b}") || r.stderr.contains("\\u{7}"), "shown escaped:\n{r}");
    }
}

#[test]
fn an_imported_pin_hash_is_argon2id_within_bounds() {
    let w = World::with_operator();
    w.participant_add("C00001", "Card Co", "hkscc-cp", 10).ok();
    let header = "participant,user_id,surname,other_names,email,role,srn,certificate_expiry,pin_phc\n";
    let row = |phc: &str| format!("{header}C00001,C0000101,CHAN,TAI MAN,,user,0101101200012AB2,2030-12-31,\"{phc}\"\n");
    let argon2i = "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY";
    let weak = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY";
    let costly = "$argon2id$v=19$m=2097152,t=50,p=1$c2FsdHNhbHRzYWx0c2FsdA$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY";
    for (phc, why) in [(argon2i, "only argon2id"), (weak, "weaker"), (costly, "too costly"), ("123456", "clear PIN")] {
        let f = w.write("u.csv", &row(phc));
        w.before_launch(|| {
            w.op(&["hkex", "import-smartcard-users", &f]).refused(Exit::Invalid, &["line 2", "pin_phc", why])
        });
    }
    let f = w.write("u.csv", &row(pin_phc()));
    w.before_launch(|| w.op(&["hkex", "import-smartcard-users", &f]).ok());
}
