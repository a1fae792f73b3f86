//! What a DA, a checker and an auditor see (SPEC §2, §6): the seed's screens in table output,
//! the checker's field / current / proposed view, a bulk request a page at a time, finding
//! people, the listing's filters, and bulk files (true line numbers, every fault at once, a dry
//! run that shows what would change).

use crate::exchange::smartcard_exchange;
use crate::harness::*;
use serde_json::Value;

/// Each of `parts` appears in `text`, in this order.
#[track_caller]
fn in_order(text: &str, parts: &[&str]) {
    let mut from = 0;
    for p in parts {
        match text[from..].find(p) {
            Some(i) => from += i + p.len(),
            None => panic!("{p:?} is missing (or out of order) after byte {from} in:\n{text}"),
        }
    }
}

/// The line of `text` that contains `needle`.
#[track_caller]
fn line_with<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
}

/// A maker's command authorised inline by `checker` (a fresh app code), printed as a table.
fn inline_table(w: &World, args: &[&str], checker: &str) -> Run {
    let code = w.totp(checker);
    let mut all = args.to_vec();
    all.extend(["--checker", checker, "--otp", &code, "--password-stdin"]);
    w.raw_in(Some(MAKER), &all, Some(&line(PASSWORD))).ok()
}

const PROFILE_LABELS: [&str; 13] = [
    "Organisation",
    "Internal/External",
    "User ID",
    "User Status",
    "Surname",
    "Other Names",
    "Email",
    "Enable From",
    "Disable After",
    "Clearing House Options",
    "Access Channel",
    "Transaction limit (HKD)",
    "User Groups",
];

#[test]
fn enquire_shows_the_seed_screen_heading_labels_and_formats() {
    let w = World::with_das();
    w.as_user(MAKER, &["user", "change", USER1, "--disable-after", "2027-01-31", "--enable-from", "2026-11-01"]).ok();
    let id = w.request_list(MAKER, Some("PENDING"))[0]["request_id"].as_i64().expect("an ID");
    w.approve(CHECKER, &[id]).ok();
    let out = w.raw_as(MAKER, &["user", "enquire", USER1]).ok().stdout;
    in_order(&out, &["This is an end-user profile"]);
    in_order(&out, &PROFILE_LABELS);
    assert!(line_with(&out, "Organisation").contains("B01234 ABC SECURITIES"), "{out}");
    assert!(line_with(&out, "Internal/External").contains("EXTERNAL"), "{out}");
    assert!(line_with(&out, "Enable From").contains("01-Nov-26"), "dates as DD-MMM-YY: {out}");
    assert!(line_with(&out, "Disable After").contains("31-Jan-27"), "{out}");
    assert!(line_with(&out, "Transaction limit (HKD)").contains("1,000,000.00"), "{out}");
    assert!(line_with(&out, "User Groups").contains("11 12 A C"), "{out}");
    // 2FA not initialised and no smartcard: neither Locked / OTP Enabled nor the card's fields.
    for absent in ["Locked", "OTP Enabled", "SRN", "Certificate Expiry Date"] {
        assert!(!out.contains(absent), "{absent} shown for a user without 2FA or a card:\n{out}");
    }

    // A DA, 2FA initialised: the DA heading, Locked and OTP Enabled as Yes/No.
    let out = w.raw_as(MAKER, &["user", "enquire", CHECKER]).ok().stdout;
    in_order(&out, &["This is a Delegated Administrator profile", "Disable After", "Locked", "OTP Enabled"]);
    assert!(line_with(&out, "Locked").contains("No"), "{out}");
    assert!(line_with(&out, "OTP Enabled").contains("Yes"), "{out}");
    assert!(!out.contains("This is an end-user profile"));
}

#[test]
fn a_smartcard_users_screen_shows_the_srn_and_the_certificate_date_as_the_seed_writes_it() {
    let w = smartcard_exchange();
    w.smartcard("C00001X1", PIN).ok();
    let out = w.raw_as("C00001X1", &["user", "enquire", "C0000101"]).ok().stdout;
    in_order(
        &out,
        &["This is an end-user profile", "Disable After", "SRN (for user using smartcard)", "Certificate Expiry Date"],
    );
    assert!(line_with(&out, "SRN").contains("0101101200012AB4"), "{out}");
    assert!(line_with(&out, "Certificate Expiry Date").contains("29-Jun-29 12:00:00"), "{out}");
    assert!(!out.contains("OTP Enabled"), "{out}");
    // JSON keeps the machine form: RFC 3339 in Hong Kong time.
    assert_eq!(w.enquire("C00001X1", "C0000101")["certificate_expiry"], "2029-06-29T12:00:00+08:00");
}

#[test]
fn each_function_shows_the_profile_and_ends_with_the_seeds_confirmation_line() {
    let w = World::with_das();

    let out = inline_table(&w, &create_args("B0123404", "sm.chan@abc.com.hk"), CHECKER).stdout;
    in_order(
        &out,
        &[
            "Create User Profile",
            "This is an end-user profile",
            "B0123404",
            "Selected User Groups",
            "THE ABOVE USER PROFILE IS CREATED SUCCESSFULLY",
        ],
    );

    let out = inline_table(&w, &["user", "change", USER1, "--limit", "1000.5", "--groups", "11,D"], CHECKER2).stdout;
    in_order(&out, &["Change User Profile", "This is an end-user profile", "Current", "Proposed"]);
    let limit = line_with(&out, "Transaction limit (HKD)");
    assert!(limit.contains("1,000,000.00") && limit.contains("1,000.50"), "current and proposed in HKD: {limit}");
    assert!(line_with(&out, "Selected User Groups").contains("11 D"), "{out}");
    assert!(line_with(&out, "Deleted User Groups").contains("12 A C"), "{out}");
    in_order(&out, &["THE ABOVE USER PROFILE IS CHANGED SUCCESSFULLY"]);

    // Delete shows the profile it deletes.
    let out = inline_table(&w, &["user", "delete", USER3], CHECKER).stdout;
    in_order(
        &out,
        &[
            "Delete User Profile",
            "This is an end-user profile",
            "LAU",
            "CHI FAI",
            "THE ABOVE USER PROFILE IS DELETED SUCCESSFULLY",
        ],
    );

    // Unlock/Reset: the note beside Locked.
    let out = inline_table(&w, &["user", "unlock", USER2], CHECKER2).stdout;
    let locked = line_with(&out, "Locked");
    assert!(locked.contains("Will Unlock/Reset OTP Device Registration"), "{out}");
    in_order(
        &out,
        &[
            "Unlock/Reset OTP Device Registration",
            "This is an end-user profile",
            "THE ABOVE USER PROFILE IS CHANGED SUCCESSFULLY",
        ],
    );

    // Queued, the screen ends with what happens next instead.
    let r = w.raw_as(MAKER, &["user", "change", USER1, "--surname", "CHEUNG-LI"]).ok();
    assert!(!r.stdout.contains("SUCCESSFULLY"), "{r}");
    assert!(r.stdout.contains("waits for a DA checker"), "{r}");
}

/// Issue 21 #5 (seed App A f, App D c b and d): a queued request authorised with `request
/// approve` ends as the inline one does — the profile, the Checker ID, the masked code and THE
/// ABOVE USER PROFILE IS ... SUCCESSFULLY — and every DMS screen starts with its function's line
/// (`DUPC 01 23-Nov-26 10:00:00`, Hong Kong time). JSON keeps its shape.
#[test]
fn a_queued_approval_ends_with_the_seeds_lines_and_every_screen_with_its_function_line() {
    let w = World::with_das();
    let code_line = |out: &str, code: &str| {
        let first = out.lines().find(|l| !l.trim().is_empty()).unwrap_or_default().to_string();
        let parts: Vec<&str> = first.split_whitespace().collect();
        assert_eq!(parts.first().copied(), Some(code), "{out}");
        assert_eq!(parts.get(1).copied(), Some("01"), "{out}");
        assert!(parts.get(2).is_some_and(|d| d.len() == 9 && d.ends_with("-Nov-26")), "DD-MMM-YY: {out}");
        assert!(parts.get(3).is_some_and(|t| t.len() == 8 && t.contains(':')), "HH:MM:SS: {out}");
    };
    code_line(&w.raw_as(MAKER, &["user", "enquire", USER1]).ok().stdout, "DUPE");

    let change = w.submit(MAKER, &["user", "change", USER1, "--surname", "CHEUNG-LI"]);
    let create = w.submit(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk"));
    let delete = w.submit(MAKER, &["user", "delete", USER3]);
    let shown = w.raw_as(CHECKER, &["request", "show", &change.to_string()]).ok().stdout;
    in_order(&shown, &["Request ID", "DUPC 01", "Change User Profile"]);
    let code = w.totp(CHECKER);
    let ids: Vec<String> = [change, create, delete].iter().map(i64::to_string).collect();
    let mut args = vec!["request", "approve"];
    args.extend(ids.iter().map(String::as_str));
    args.extend(["--otp", &code, "--password-stdin"]);
    let out = w.raw_in(Some(CHECKER), &args, Some(&line(PASSWORD))).ok().stdout;
    in_order(
        &out,
        &[
            "DUPC 01",
            "Change User Profile",
            "CHEUNG-LI",
            "Checker ID",
            CHECKER,
            "Authorisation Code",
            "*****",
            "THE ABOVE USER PROFILE IS CHANGED SUCCESSFULLY",
            "DUPA 01",
            "Create User Profile",
            "B0123404",
            "THE ABOVE USER PROFILE IS CREATED SUCCESSFULLY",
            "DUPD 01",
            "Delete User Profile",
            "THE ABOVE USER PROFILE IS DELETED SUCCESSFULLY",
        ],
    );
    assert!(!out.contains("APPROVED"), "the seed's lines, not a status table: {out}");
    // Inline, the Checker ID is echoed above the line too.
    let out = inline_table(&w, &["user", "change", USER2, "--surname", "HO"], CHECKER2).stdout;
    in_order(&out, &["DUPC 01", "Change User Profile", "Checker ID", CHECKER2, "THE ABOVE USER PROFILE IS CHANGED"]);
    // The machine form is unchanged.
    let id = w.submit(MAKER, &["user", "change", USER1, "--surname", "CHEUNG"]);
    let v = w.approve(CHECKER, &[id]).ok().json();
    assert_eq!((v["request_id"].as_i64(), v["status"].as_str()), (Some(id), Some("APPROVED")), "{v}");
}

/// Issue 21 #6 (seed App A f): the terminal functions a profile enables — Default, DI
/// Requirement, DI, Recall Request, ISI, ATI, Cash Compensation Indicator, SI, Cash Prepayment —
/// are set at creation and changed under maker-checker, shown on the confirmation screen as the
/// seed lays them out, by Enquire and in the listing (`functions`, a list of keys).
#[test]
fn a_profiles_functions_are_kept_under_maker_checker_and_shown_as_the_seed_lays_them_out() {
    let w = World::with_das();
    let mut create = create_args("B0123404", "sm.chan@abc.com.hk");
    create.extend(["--functions", "DI,isi,cash-compensation"]);
    let out = inline_table(&w, &create, CHECKER).stdout;
    in_order(
        &out,
        &[
            "Create User Profile",
            "Functions",
            "DI, ISI, Cash Compensation Indicator",
            "[ ] Default",
            "[ ] DI Requirement",
            "[x] DI",
            "[ ] Recall Request",
            "[x] ISI",
            "[ ] ATI",
            "[x] Cash Compensation Indicator",
            "[ ] SI",
            "[ ] Cash Prepayment",
            "Selected User Groups",
            "THE ABOVE USER PROFILE IS CREATED SUCCESSFULLY",
        ],
    );
    // Two to a line, as the seed's block.
    assert!(line_with(&out, "[ ] Default").contains("[ ] DI Requirement"), "{out}");
    let e = w.enquire(MAKER, "B0123404");
    assert_eq!(e["functions"], serde_json::json!(["di", "isi", "cash_compensation"]), "{e}");
    let csv = w.raw_as(MAKER, &["--format", "csv", "listing"]).ok().stdout;
    let header: Vec<&str> = csv.lines().next().unwrap_or_default().split(',').collect();
    assert_eq!(header.last(), Some(&"functions"), "added at the end: {csv}");
    assert!(csv.lines().any(|l| l.starts_with("B0123404,") && l.ends_with(",di isi cash_compensation")), "{csv}");

    // A change waits for the checker, who sees current and proposed.
    let id = w.submit(MAKER, &["user", "change", "B0123404", "--functions", "default,si"]);
    assert_eq!(w.enquire(MAKER, "B0123404")["functions"], serde_json::json!(["di", "isi", "cash_compensation"]));
    let shown = w.raw_as(CHECKER, &["request", "show", &id.to_string()]).ok().stdout;
    let row = line_with(&shown, "Functions");
    assert!(row.contains("DI, ISI, Cash Compensation Indicator") && row.contains("Default, SI"), "{shown}");
    w.approve(CHECKER, &[id]).ok();
    assert_eq!(w.enquire(MAKER, "B0123404")["functions"], serde_json::json!(["default", "si"]));
    let audit = w.as_user(MAKER, &["report", "audit"]).ok().json();
    assert!(audit.to_string().contains("functions"), "the change is in the trail: {audit}");

    // An unknown function is refused, naming it, and nothing is queued.
    let before = w.state();
    w.as_user(MAKER, &["user", "change", "B0123404", "--functions", "di,transfer"])
        .refused(Exit::Invalid, &["function \"transfer\"", "cash_prepayment"]);
    assert_eq!(w.state(), before);
    // "none" clears them; a bulk file has a functions column.
    let id = w.submit(MAKER, &["user", "change", "B0123404", "--functions", "none"]);
    w.approve(CHECKER, &[id]).ok();
    assert_eq!(w.enquire(MAKER, "B0123404")["functions"], serde_json::json!([]));
    let f =
        w.write("new.csv", "user_id,surname,other_names,email,functions\nB0123405,HO,KA,ka.ho@abc.com.hk,\"ati,si\"\n");
    let id = w.submit(MAKER, &["user", "import", &f]);
    w.approve(CHECKER, &[id]).ok();
    assert_eq!(w.enquire(MAKER, "B0123405")["functions"], serde_json::json!(["ati", "si"]));
}

#[test]
fn the_checker_sees_field_current_and_proposed_in_hkd_and_public_names() {
    let w = World::with_das();
    let id = w.submit(MAKER, &["user", "change", USER1, "--limit", "1000.5", "--email", "wk.new@abc.com.hk"]);
    let out = w.raw_as(CHECKER, &["request", "show", &id.to_string()]).ok().stdout;
    in_order(
        &out,
        &["Request ID", "PENDING", "Change User Profile", "This is an end-user profile", "Current", "Proposed"],
    );
    let limit = line_with(&out, "Transaction limit (HKD)");
    assert!(limit.contains("1,000,000.00") && limit.contains("1,000.50"), "{limit}");
    let email = line_with(&out, "Email");
    assert!(email.contains("wk.cheung@abc.com.hk") && email.contains("wk.new@abc.com.hk"), "{email}");
    assert!(!out.contains("limit_cents") && !out.contains("500000"), "no stored names or cents: {out}");

    let v = w.request_show(CHECKER, id);
    assert_eq!(v["change"]["changes"]["transaction_limit_hkd"], "1000.50", "{v:#}");
    assert!(v["summary"].as_str().is_some_and(|s| s.contains("transaction_limit_hkd")), "{v:#}");
    let diff = &v["rows"][0]["diff"];
    assert_eq!(diff["transaction_limit_hkd"], serde_json::json!({"current": "1000000.00", "proposed": "1000.50"}));
    assert_eq!(diff["email"]["current"], "wk.cheung@abc.com.hk");
    assert!(diff.get("surname").is_none(), "only what changes: {diff}");
    assert!(!v.to_string().contains("limit_cents"), "{v}");

    // Decided, there is nothing to apply: it says so.
    w.approve(CHECKER, &[id]).ok();
    let v = w.request_show(CHECKER, id);
    assert!(v["not_applicable"].as_str().is_some_and(|s| s.contains("APPROVED")), "{v:#}");
}

/// A bulk creation of `n` profiles with generated IDs, queued; its request ID.
fn bulk_create(w: &World, n: usize) -> i64 {
    let mut csv = String::from("user_id,surname,other_names,email\n");
    for i in 0..n {
        csv.push_str(&format!(",BULK,PERSON {i},p{i}@abc.com.hk\n"));
    }
    let f = w.write("bulk.csv", &csv);
    w.submit(MAKER, &["user", "import", &f])
}

#[test]
fn a_bulk_request_is_shown_a_page_at_a_time_and_every_row_goes_to_csv() {
    let w = World::with_das();
    let id = bulk_create(&w, 60);
    let show = |extra: &[&str]| {
        let mut args = vec!["request", "show", "--page"];
        args.extend(extra);
        let id = id.to_string();
        args.push(&id);
        w.raw_as(CHECKER, &args).ok()
    };
    let first = show(&["1"]);
    assert!(first.stderr.contains("Page 1 of 2 (60 profiles)"), "{first}");
    assert!(first.stderr.contains("--page 2"), "{first}");
    let subjects: Vec<String> = w.request_show(CHECKER, id)["subjects"]
        .as_array()
        .expect("subjects")
        .iter()
        .map(|s| s.as_str().expect("an ID").to_string())
        .collect();
    assert_eq!(subjects.len(), 60);
    assert!(first.stdout.contains(&subjects[49]) && !first.stdout.contains(&subjects[50]), "50 profiles a page");
    assert!(first.stdout.len() < 60_000, "a page, not the whole request: {} bytes", first.stdout.len());
    let second = show(&["2"]);
    assert!(second.stdout.contains(&subjects[59]) && !second.stdout.contains(&subjects[0]), "{second}");
    assert!(second.stderr.contains("Page 2 of 2"), "{second}");

    let csv = w.raw_as(CHECKER, &["--format", "csv", "request", "show", &id.to_string()]).ok().stdout;
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("user_id,action,field,current,proposed"));
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
    let ids: std::collections::BTreeSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids.len(), 60, "every profile in the CSV");
    assert!(rows.iter().any(|r| r[1] == "create" && r[2] == "email" && r[4] == "p59@abc.com.hk"), "{csv}");
}

#[test]
fn enquire_by_name_lists_the_matching_profiles_of_the_participant() {
    let w = World::with_das();
    // A name with letters beyond ASCII matches in any case.
    let id = w.submit(MAKER, &["user", "change", USER2, "--surname", "ÉLODIE"]);
    w.approve(CHECKER, &[id]).ok();
    let found = |who: &str, text: &str| -> Vec<String> {
        user_ids(&w.as_user(who, &["user", "enquire", "--name", text]).ok().json())
    };
    assert_eq!(found(MAKER, "siu"), vec![CHECKER.to_string()], "other names");
    assert_eq!(found(MAKER, "CHEUNG"), vec![USER1.to_string()]);
    assert_eq!(found(MAKER, "élodie"), vec![USER2.to_string()], "Unicode case");
    assert!(found(MAKER, "nobody").is_empty());
    // Seed App A f writes the user name on one line ("User name TAI MAN CHAN"): the whole name
    // is found in either order, and by its words (issue 21 #7). MAKER is CHAN / TAI MAN.
    for text in ["TAI MAN CHAN", "CHAN TAI MAN", "chan  tai", "Man Chan"] {
        assert_eq!(found(MAKER, text), vec![MAKER.to_string()], "{text}");
    }
    assert!(found(MAKER, "TAI MAN WONG").is_empty(), "every word must be in the name");
    let out = w.raw_as(MAKER, &["user", "enquire", "--name", "chan"]).ok();
    in_order(&out.stdout, &["User ID", "Surname", "Other Names", MAKER, "CHAN", "TAI MAN"]);
    // Neither an ID nor a name; blank text; the exchange without a participant.
    w.as_user(MAKER, &["user", "enquire"]).expect(Exit::Usage);
    w.as_user(MAKER, &["user", "enquire", "--name", "  "]).refused(Exit::Invalid, &["--name"]);
    w.as_user(MAKER, &["user", "enquire", "--name", "x", "--participant", "C00001"])
        .refused(Exit::NotPermitted, &["own participant"]);
}

#[test]
fn the_listing_filters_by_text_lock_otp_channel_and_inactivity() {
    let w = World::with_das();
    let listed = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["listing"];
        args.extend(extra);
        user_ids(&w.as_user(MAKER, &args).ok().json())
    };
    assert_eq!(listed(&["--search", "Wai Kin"]), vec![USER1.to_string()], "names");
    assert_eq!(listed(&["--search", "SETTLEMENT@"]), vec![USER3.to_string()], "e-mail, any case");
    assert_eq!(listed(&["--search", "b01234x"]), vec![MAKER, CHECKER, CHECKER2], "user ID");
    assert_eq!(listed(&["--otp", "app"]), vec![MAKER, CHECKER, CHECKER2]);
    assert_eq!(listed(&["--otp", "none"]), vec![USER1, USER2, USER3]);
    assert!(listed(&["--otp", "email"]).is_empty());
    assert!(listed(&["--locked"]).is_empty());
    w.first_time_email(USER1);
    assert_eq!(listed(&["--otp", "email"]), vec![USER1]);
    w.wrong_passwords(USER1, 5);
    assert_eq!(listed(&["--locked"]), vec![USER1]);
    assert_eq!(listed(&["--locked", "--search", "ho"]), Vec::<String>::new(), "filters combine");

    // Inactive: no sign-in for N days (never signed in: created N days ago).
    assert!(listed(&["--inactive-days", "1"]).is_empty(), "everyone was created or signed in today");
    w.advance(chrono::Duration::days(2));
    w.login(MAKER).ok();
    assert_eq!(listed(&["--inactive-days", "1"]), vec![USER1, USER2, USER3, CHECKER, CHECKER2], "in user-ID order");
    assert!(listed(&["--inactive-days", "3"]).is_empty());
    w.as_user(MAKER, &["listing", "--otp", "sms"]).expect(Exit::Usage);
}

#[test]
fn bulk_files_name_the_line_an_editor_shows_whatever_the_line_endings() {
    let w = World::with_das();
    let state = w.state();
    let lines_of = |name: &str, body: &str| -> Vec<String> {
        let f = w.write(name, body);
        let r = w.as_user(MAKER, &["user", "import-emails", &f, "--dry-run"]).expect(Exit::Invalid);
        let (_, message) = r.error();
        let faults: Value = serde_json::from_str::<Value>(r.stderr.lines().last().unwrap_or("{}")).expect("JSON")
            ["error"]["faults"]
            .clone();
        assert!(message.contains("line "), "{message}");
        faults
            .as_array()
            .unwrap_or_else(|| panic!("no faults in {r}"))
            .iter()
            .map(|f| f.as_str().unwrap_or_default().split(':').next().unwrap_or_default().to_string())
            .collect()
    };
    // CRLF (what spreadsheets write), a BOM, a lone CR, quoted newlines, blank lines.
    assert_eq!(lines_of("crlf.csv", "user_id,email\r\nB0123401,a@abc.com.hk\r\nB0123402,b@abc.com.hk\r\nB0123403,c@abc.com.hk\r\nBAD,d@abc.com.hk\r\n"), ["line 5"]);
    assert_eq!(
        lines_of("bom.csv", "\u{feff}user_id,email\r\nB0123401,a@abc.com.hk\r\nBAD,d@abc.com.hk\r\n"),
        ["line 3"]
    );
    assert_eq!(lines_of("cr.csv", "user_id,email\rB0123401,a@abc.com.hk\r\rXX,b@abc.com.hk\r"), ["line 4"]);
    assert_eq!(
        lines_of(
            "quoted.csv",
            "user_id,email\nB0123401,\"a\n@abc.com.hk\"\nB0123402,b@abc.com.hk\n\nBAD,d@abc.com.hk\n"
        ),
        ["line 2", "line 6"]
    );
    assert_eq!(w.state(), state, "nothing changed");
}

#[test]
fn every_fault_of_a_file_is_reported_at_once_and_nothing_changes() {
    let w = World::with_das();
    let state = w.state();
    let f = w.write(
        "faults.csv",
        "user_id,email\r\n\
         B0123401,a@abc.com.hk\r\n\
         XX,b@abc.com.hk\r\n\
         B0123402,c@abc.com.hk,extra\r\n\
         B0123403,bad\r\n\
         B0123401,again@abc.com.hk\r\n",
    );
    let r = w.as_user(MAKER, &["user", "import-emails", &f]).expect(Exit::Invalid);
    let err: Value = serde_json::from_str(r.stderr.lines().last().expect("an error line")).expect("JSON");
    let faults: Vec<&str> =
        err["error"]["faults"].as_array().expect("faults").iter().filter_map(Value::as_str).collect();
    assert_eq!(faults.len(), 4, "{faults:#?}");
    in_order(
        &faults.join("\n"),
        &[
            "line 3: user ID \"XX\"",
            "line 4: 3 fields",
            "line 5: email \"bad\"",
            "line 6: user B0123401 is listed twice (also line 2)",
        ],
    );
    assert!(err["error"]["message"].as_str().is_some_and(|m| m.contains("4 faults") && m.contains("line 3")), "{err}");
    // At a terminal: the count on the error line, then one line per fault.
    let t = w.raw_as(MAKER, &["user", "import-emails", &f]).expect(Exit::Invalid);
    assert_eq!(t.stderr.lines().filter(|l| l.starts_with("  line ")).count(), 4, "{t}");

    // The database's checks too: every unknown user and DA, each with its line.
    let f = w.write(
        "db.csv",
        "user_id,email\nB0123401,a@abc.com.hk\nB0123499,b@abc.com.hk\nB01234X2,c@abc.com.hk\nC0000101,e@abc.com.hk\n",
    );
    let r = w.as_user(MAKER, &["user", "import-emails", &f]).expect(Exit::Invalid);
    let err: Value = serde_json::from_str(r.stderr.lines().last().expect("an error line")).expect("JSON");
    let faults: Vec<&str> =
        err["error"]["faults"].as_array().expect("faults").iter().filter_map(Value::as_str).collect();
    assert_eq!(faults.len(), 3, "{faults:#?}");
    in_order(
        &faults.join("\n"),
        &["line 3: no user B0123499", "line 4: B01234X2 is a Delegated Administrator", "line 5: no user C0000101"],
    );
    assert_eq!(w.state(), state, "nothing changed");
}

#[test]
fn a_dry_run_shows_old_and_new_values_and_the_address_warnings() {
    let w = World::with_das();
    let state = w.state();
    let f = w.write(
        "emails.csv",
        "user_id,email\nB0123401,wk.cheung2@abc.com.hk\nB0123402,team@gmail.com\nB0123403,TEAM@gmail.com\n",
    );
    let r = w.as_user(MAKER, &["user", "import-emails", &f, "--dry-run"]).ok();
    let v = r.json();
    assert_eq!(v["dry_run"], true);
    let changes = v["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 3);
    assert_eq!(changes[0]["user_id"], USER1);
    assert_eq!(
        changes[0]["diff"]["email"],
        serde_json::json!({"current": "wk.cheung@abc.com.hk", "proposed": "wk.cheung2@abc.com.hk"})
    );
    let warnings: Vec<&str> = v["warnings"].as_array().expect("warnings").iter().filter_map(Value::as_str).collect();
    assert!(
        warnings.iter().any(|m| m.contains("team@gmail.com") && m.contains("not on a corporate domain")),
        "{warnings:?}"
    );
    assert!(warnings.iter().any(|m| m.contains("shared with B0123403")), "{warnings:?}");
    assert!(warnings.iter().any(|m| m.starts_with("team@gmail.com") && m.contains("group address")), "{warnings:?}");

    // A person sees the screens; a spreadsheet gets one row per field.
    let t = w.raw_as(MAKER, &["user", "import-emails", &f, "--dry-run"]).ok();
    in_order(&t.stdout, &["Change User Profile", "wk.cheung@abc.com.hk", "wk.cheung2@abc.com.hk"]);
    assert!(t.stderr.contains("shared with"), "{t}");
    let csv = w.raw_as(MAKER, &["--format", "csv", "user", "import-emails", &f, "--dry-run"]).ok().stdout;
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        [
            "user_id,action,field,current,proposed",
            "B0123401,change,email,wk.cheung@abc.com.hk,wk.cheung2@abc.com.hk",
            "B0123402,change,email,ml.ho@abc.com.hk,team@gmail.com",
            "B0123403,change,email,settlement@abc.com.hk,TEAM@gmail.com",
        ]
    );
    assert_eq!(w.state(), state, "a dry run changes nothing");
}
