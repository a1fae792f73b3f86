//! The secret scan (SPEC §3, §9 "Hostile input is proven"): a scenario with first-time logons
//! on both channels, a queued and an inline approval, a lock and its Unlock/Reset under
//! maker-checker, a self-service reset, a password change and a smartcard issued with its
//! one-time initial PIN replaced by the holder's own; then every place a secret could
//! leak is searched for every secret the scenario used — the database file and its -wal, the
//! mbox, every audit row, the arguments, stdout and stderr of every command run (in table, CSV
//! and JSON), every session file, and (through a server) the server's log. A secret appears only where it must: a TOTP key once, in
//! the output of the `otp setup` that made it; a mailed OTP in the mbox (and in the `--otp` it
//! was typed into); a session token in its own session file.

use crate::harness::*;
use std::collections::BTreeMap;

/// One place searched: a name and its bytes.
struct Haystack {
    name: String,
    bytes: Vec<u8>,
}

/// One secret in every form it could take, and the places it may appear.
struct Secret {
    what: String,
    forms: Vec<Vec<u8>>,
    allowed: fn(&str, &str) -> bool,
    /// The owner the `allowed` rule is about (a user ID, a session file name).
    owner: String,
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn text_forms(s: &str) -> Vec<Vec<u8>> {
    let mut forms = vec![s.as_bytes().to_vec(), s.to_lowercase().into_bytes(), s.to_uppercase().into_bytes()];
    forms.dedup();
    forms
}

fn nowhere(_: &str, _: &str) -> bool {
    false
}

/// A TOTP key may be shown by the one `otp setup --app` of its owner, on stdout.
fn otp_setup_output(place: &str, owner: &str) -> bool {
    place.starts_with("stdout of dms ") && place.contains("otp setup") && place.contains(&format!("--user {owner} "))
}

/// A mailed OTP is in the mbox, and in the argv of the command it was typed into (the
/// contract lets a one-time code be passed as `--otp CODE`: it is spent once used).
fn the_mbox(place: &str, _: &str) -> bool {
    place == "dms-outbox.mbox" || place.starts_with("argv of ")
}

/// A one-time initial smartcard PIN is in the mail to its holder, and nowhere else (it is typed
/// on standard input, never on a command line).
fn only_the_mbox(place: &str, _: &str) -> bool {
    place == "dms-outbox.mbox"
}

/// The PIN the smartcard holder chose.
const OWN_PIN: &str = "97531246";

/// A session token is in its own session file.
fn its_session_file(place: &str, owner: &str) -> bool {
    place == owner
}

#[test]
fn no_secret_of_a_whole_scenario_appears_where_it_must_not() {
    let w = World::demo();
    // Keep the database open, so every frame the commands write stays in the -wal to search.
    let _holder = w.hold_open();
    // Every session token, by the session file it was written to.
    let mut tokens: Vec<(String, String)> = Vec::new();
    let take_token = |tokens: &mut Vec<(String, String)>, name: &str| {
        let file = World::session_file(name);
        tokens.push((file.clone(), session_token(&w.path(&file))));
    };

    // First-time logons: the operator and two DAs with the app, a business user by e-mail.
    for who in [OPERATOR, MAKER, CHECKER] {
        w.first_time_app(who);
        take_token(&mut tokens, who);
    }
    w.first_time_email(USER1);
    take_token(&mut tokens, USER1);

    // A queued approval and an inline one (the checker's password on stdin).
    let id = w.submit(MAKER, &["user", "change", USER2, "--surname", "HO-CHAN"]);
    w.approve(CHECKER, &[id]).ok();
    w.inline(MAKER, &["user", "change", USER3, "--other-names", "CHI FAI PETER"], CHECKER, PASSWORD).ok();

    // USER1 locks itself out; a DA unlocks and resets it under maker-checker; first-time logon again.
    w.wrong_passwords(USER1, 5);
    let id = w.submit(MAKER, &["user", "unlock", USER1]);
    w.approve(CHECKER, &[id]).ok();
    w.advance(mins(1));
    w.first_time_email(USER1);
    take_token(&mut tokens, USER1);

    // A self-service reset with the app, and a password change in a session.
    w.advance(mins(1));
    let code = w.totp(MAKER);
    w.run(&["password", "reset", "--user", MAKER, "--otp", &code, "--password-stdin"], Some(&line(NEW_PASSWORD))).ok();
    w.login_with(MAKER, NEW_PASSWORD, &w.totp(MAKER)).ok();
    take_token(&mut tokens, MAKER);
    w.as_user_stdin(OPERATOR, &["password", "change", "--password-stdin"], &two_lines(NEW_PASSWORD, PASSWORD)).ok();
    w.login_with(OPERATOR, NEW_PASSWORD, &w.totp(OPERATOR)).ok();
    take_token(&mut tokens, OPERATOR);

    // A Participant Gateway user is issued a card: the holder is mailed a one-time initial PIN
    // and chooses its own at the first smartcard sign-in (issue 18 #1).
    let id = w.submit(MAKER, &["user", "change", USER2, "--channel", "PG"]);
    w.approve(CHECKER, &[id]).ok();
    w.op(&["hkex", "smartcard", "issue", USER2, "--srn", "0101101200099ZZ1", "--certificate-expiry", "2030-12-31"])
        .ok();
    let email = w.enquire(MAKER, USER2)["email"].as_str().expect("an address").to_string();
    let initial_pin = w.initial_pin(&email);
    w.smartcard_first(USER2, &initial_pin, OWN_PIN).ok();
    take_token(&mut tokens, USER2);

    // What everyone reads, in every format.
    let reads: [(&str, &[&str]); 9] = [
        (OPERATOR, &["whoami"]),
        (USER1, &["whoami"]),
        (MAKER, &["user", "enquire", USER1]),
        (MAKER, &["request", "list"]),
        (MAKER, &["request", "show", &id.to_string()]),
        (OPERATOR, &["listing", "--participant", PARTICIPANT]),
        (OPERATOR, &["report", "audit"]),
        (OPERATOR, &["hkex", "settings", "show"]),
        (OPERATOR, &["audit", "verify"]),
    ];
    for format in ["table", "csv", "json"] {
        for (who, args) in reads {
            w.raw_as(who, &[&["--format", format][..], args].concat()).ok();
        }
    }
    let runs = w.runs();
    assert!(runs.len() > 60, "the scenario ran {} commands", runs.len());

    // The secrets.
    let mut secrets = Vec::new();
    for p in [PASSWORD, NEW_PASSWORD, WRONG_PASSWORD] {
        secrets.push(Secret {
            what: format!("password {p}"),
            forms: text_forms(p),
            allowed: nowhere,
            owner: String::new(),
        });
    }
    secrets.push(Secret {
        what: format!("initial smartcard PIN {initial_pin}"),
        forms: text_forms(&initial_pin),
        allowed: only_the_mbox,
        owner: String::new(),
    });
    secrets.push(Secret {
        what: "own smartcard PIN".into(),
        forms: text_forms(OWN_PIN),
        allowed: nowhere,
        owner: String::new(),
    });
    let otps = w.otps();
    assert!(otps.len() >= 6, "{otps:?}");
    for code in &otps {
        secrets.push(Secret {
            what: format!("e-mail OTP {code}"),
            forms: text_forms(code),
            allowed: the_mbox,
            owner: String::new(),
        });
    }
    for who in [OPERATOR, MAKER, CHECKER] {
        let key = w.key(who);
        let raw = base32_decode(&key);
        let mut forms = text_forms(&key);
        forms.extend(text_forms(&upper_hex(&raw)));
        forms.push(raw);
        secrets.push(Secret {
            what: format!("TOTP key of {who}"),
            forms,
            allowed: otp_setup_output,
            owner: who.into(),
        });
    }
    for (file, token) in &tokens {
        let mut forms = text_forms(token);
        forms.push(hex_decode(token));
        secrets.push(Secret {
            what: format!("session token of {file}"),
            forms,
            allowed: its_session_file,
            owner: file.clone(),
        });
    }

    // The places.
    let mut places = Vec::new();
    for r in &runs {
        let cmd = format!("dms {}", r.args.join(" "));
        places.push(Haystack { name: format!("argv of {cmd}"), bytes: cmd.clone().into_bytes() });
        places.push(Haystack { name: format!("stdout of {cmd} "), bytes: r.stdout.clone().into_bytes() });
        places.push(Haystack { name: format!("stderr of {cmd} "), bytes: r.stderr.clone().into_bytes() });
    }
    // The scenario's writes are in the -wal (kept by the holder), or checkpointed into the
    // database when a command left the log past 256 KiB (issue 17): both are searched.
    let wal = std::fs::read(w.path("dms.db-wal")).expect("the -wal, kept by the holder");
    places.push(Haystack { name: "dms.db-wal".into(), bytes: wal });
    places.push(Haystack { name: "dms.db".into(), bytes: std::fs::read(w.path("dms.db")).expect("the database") });
    places.push(Haystack { name: "dms-outbox.mbox".into(), bytes: w.mbox().into_bytes() });
    places.push(Haystack {
        name: "the audit rows".into(),
        bytes: w.sql("SELECT * FROM audit ORDER BY seq").into_bytes(),
    });
    // Through a server (DMS_TEST_SERVER=1), its log: one line per call, never a secret.
    let log = w.server_log();
    if crate::harness::served() {
        assert!(log.lines().count() > 20, "the server logged the scenario's calls:\n{log}");
    }
    places.push(Haystack { name: "the server's log".into(), bytes: log.into_bytes() });
    for entry in std::fs::read_dir(w.dir()).expect("dir") {
        let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
        if name.ends_with(".session") {
            places.push(Haystack { bytes: std::fs::read(w.path(&name)).expect("session file"), name });
        }
    }

    // The search.
    let mut leaks = Vec::new();
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in &secrets {
        for place in &places {
            if s.forms.iter().any(|f| contains(&place.bytes, f)) {
                seen.entry(s.what.clone()).or_default().push(place.name.clone());
                if !(s.allowed)(&place.name, &s.owner) {
                    leaks.push(format!("{} in {}", s.what, place.name));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "secrets where they must not be:\n{}", leaks.join("\n"));

    // ...and where they must be: each key shown once, each OTP mailed, the last tokens in their files.
    for who in [OPERATOR, MAKER, CHECKER] {
        let shown = &seen[&format!("TOTP key of {who}")];
        assert_eq!(shown.len(), 1, "the key of {who} is shown exactly once: {shown:?}");
    }
    for code in &otps {
        assert!(seen[&format!("e-mail OTP {code}")].contains(&"dms-outbox.mbox".to_string()), "{code} was mailed");
    }
    assert_eq!(seen[&format!("initial smartcard PIN {initial_pin}")], ["dms-outbox.mbox"], "mailed, nothing else");
    let (file, _) = tokens.last().expect("a token");
    assert_eq!(seen[&format!("session token of {file}")], std::slice::from_ref(file));
}
