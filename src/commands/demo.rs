//! `dms demo`: a complete, self-checking walk-through on a throwaway database, printed as the
//! commands a person would type. It runs this very binary, so what it shows is what a user
//! gets; each step checks its exit code and output, and the demo fails loudly if one is off.
//!
//! `seed_demo_data` is the sample participant `dms init --demo` loads.

use crate::cli::{DemoArgs, Global};
use crate::domain::account::UserProfile;
use crate::domain::otp;
use crate::domain::profile::{Cents, Groups};
use crate::domain::role::Role;
use crate::domain::user_id::{ClearingHouse, ParticipantKey, UserId};
use crate::storage::participants::{self, Participant};
use crate::storage::users;
use crate::storage::{audit, ts};
use anyhow::{bail, Context as _};
use chrono::{DateTime, Duration, Utc};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The demo participant: B01234 ABC SECURITIES (HKSCC CP), one DA maker, two DA checkers and
/// three business users, all with registered e-mail addresses and no password yet.
pub fn seed_demo_data(
    c: &rusqlite::Connection,
    now: DateTime<Utc>,
    audit_key: &audit::AuditKey,
    via: &str,
) -> anyhow::Result<()> {
    let key = ParticipantKey::parse("B01234", ClearingHouse::HkscCp)?;
    participants::insert(
        c,
        &Participant {
            key: key.clone(),
            name: "ABC SECURITIES".into(),
            max_users: 70,
            domains: vec!["abc.com.hk".into()],
            created_at: now,
        },
    )?;
    let people = [
        ("B01234X1", Role::Maker, "CHAN", "TAI MAN", "tm.chan@abc.com.hk"),
        ("B01234X2", Role::Checker, "WONG", "SIU MING", "sm.wong@abc.com.hk"),
        ("B01234X3", Role::Checker, "LEE", "KA YAN", "ky.lee@abc.com.hk"),
        ("B0123401", Role::User, "CHEUNG", "WAI KIN", "wk.cheung@abc.com.hk"),
        ("B0123402", Role::User, "HO", "MEI LING", "ml.ho@abc.com.hk"),
        ("B0123403", Role::User, "LAU", "CHI FAI", "settlement@abc.com.hk"),
    ];
    for (id, role, surname, other, email) in people {
        let user = role == Role::User;
        users::insert(
            c,
            &UserProfile {
                limit: Cents(if user { 100_000_000 } else { 0 }),
                groups: if user { Groups::parse("11 12 A C")? } else { Groups::default() },
                ..UserProfile::new(UserId::parse(id)?, Some(key.clone()), role, surname, other, Some(email), now)
            },
        )?;
    }
    audit::append(
        c,
        now,
        audit_key,
        &audit::Event { action: "demo.seeded", participant_id: Some("B01234"), ..Default::default() },
        Some(via),
    )?;
    Ok(())
}

/// A throwaway folder for the demo.
fn scratch_dir() -> anyhow::Result<PathBuf> {
    let mut rng = crate::crypto::SecureRng::os();
    let dir = std::env::temp_dir().join(format!("dms-demo-{}", hex::encode(rng.bytes::<6>())));
    std::fs::create_dir(&dir)?;
    // Its owner's alone, whatever the umask: dms refuses a database in a folder others may write.
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(dir)
}

struct Demo {
    exe: PathBuf,
    dir: PathBuf,
    now: DateTime<Utc>,
    step: usize,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Demo {
    /// Run `dms ARGS` with `stdin`, print it like a terminal transcript, check the exit code.
    fn run(&mut self, args: &[&str], stdin: Option<&str>, expect_code: i32, comment: &str) -> anyhow::Result<Run> {
        self.step += 1;
        println!("\n# {}. {comment}", self.step);
        let shown_stdin = stdin.map(|_| "printf '%s\\n' \"$PASSWORD\" | ").unwrap_or("");
        let shown: Vec<String> = args
            .iter()
            .map(|a| if a.contains(char::is_whitespace) { format!("'{a}'") } else { a.to_string() })
            .collect();
        println!("$ {shown_stdin}dms {}", shown.join(" "));
        let mut cmd = Command::new(&self.exe);
        cmd.args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("DMS_NOW", ts(self.now))
            .env("NO_COLOR", "1")
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().context("starting dms")?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        for line in run.stdout.lines() {
            println!("  {line}");
        }
        for line in run.stderr.lines() {
            println!("  (stderr) {line}");
        }
        if run.code != expect_code {
            bail!("demo step {} `dms {}` exited {} (expected {expect_code})", self.step, args.join(" "), run.code);
        }
        println!("  -> exit {} as expected", run.code);
        Ok(run)
    }

    fn json(&mut self, args: &[&str], stdin: Option<&str>, comment: &str) -> anyhow::Result<serde_json::Value> {
        let mut full = vec!["--format", "json"];
        full.extend_from_slice(args);
        let r = self.run(&full, stdin, 0, comment)?;
        serde_json::from_str(&r.stdout).with_context(|| format!("demo step {}: output is not JSON", self.step))
    }

    /// The last OTP delivered to the outbox.
    fn last_mailed_otp(&self) -> anyhow::Result<String> {
        let mbox = std::fs::read_to_string(self.dir.join("dms-outbox.mbox"))?;
        mbox.lines()
            .rev()
            .find_map(|l| l.strip_prefix("One Time Password (OTP) for CCASS: "))
            .map(str::to_string)
            .context("no OTP in the outbox")
    }

    /// A first-time logon with an authenticator app; returns the app's key (base32).
    fn first_logon_app(&mut self, user: &str, pw_line: &str) -> anyhow::Result<String> {
        self.json(&["otp", "request", "--user", user], None, &format!("{user}: first-time logon, e-mailed OTP"))?;
        let code = self.last_mailed_otp()?;
        self.json(
            &["password", "reset", "--user", user, "--otp", &code, "--password-stdin"],
            Some(pw_line),
            &format!("{user}: set the password"),
        )?;
        let setup = self.json(
            &["otp", "setup", "--user", user, "--app", "--password-stdin"],
            Some(pw_line),
            &format!("{user}: register the app"),
        )?;
        let uri = setup["otpauth_uri"].as_str().context("no otpauth_uri")?;
        let key = uri.split("secret=").nth(1).and_then(|r| r.split('&').next()).context("no secret")?.to_string();
        let session = format!("{user}.session");
        let code = app_code_at(&key, self.now)?;
        self.json(
            &["--session", &session, "login", "--user", user, "--password-stdin", "--otp", &code],
            Some(pw_line),
            &format!("{user}: sign in"),
        )?;
        Ok(key)
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        println!("\n(clock moves on {} minutes: {})", d.num_minutes(), crate::ops::signin::show_time(self.now));
    }
}

/// The authenticator app's side: read the key from the URI and compute the code.
fn app_code(uri: &str, now: DateTime<Utc>) -> anyhow::Result<String> {
    let secret = uri.split("secret=").nth(1).and_then(|r| r.split('&').next()).context("no secret in the key URI")?;
    app_code_at(secret, now)
}

fn app_code_at(base32: &str, now: DateTime<Utc>) -> anyhow::Result<String> {
    let key = totp_rs::Secret::try_from_base32(base32).map_err(|e| anyhow::anyhow!("{e}"))?;
    otp::totp_code(key.as_bytes(), u64::try_from(now.timestamp())?).context("computing the app's code")
}

pub fn run(_g: &Global, a: DemoArgs) -> anyhow::Result<()> {
    let dir = scratch_dir()?;
    let result = walk(&dir);
    if a.keep {
        println!("\nThe demo's folder is kept: {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result?;
    println!("\nDemo complete: every step gave the expected result.");
    Ok(())
}

fn walk(dir: &Path) -> anyhow::Result<()> {
    // Monday 23 November 2026, 10:00 Hong Kong time: inside service hours.
    let now = DateTime::parse_from_rfc3339("2026-11-23T10:00:00+08:00")?.with_timezone(&Utc);
    let mut d = Demo { exe: std::env::current_exe()?, dir: dir.to_path_buf(), now, step: 0 };
    let pw = "Demo-Passw0rd!2026(HK)";
    let pw_line = format!("{pw}\n");

    println!(
        "dms demo: first-time logon, on-going logon, lockout and the audit trail, on a throwaway database in {}",
        dir.display()
    );
    d.run(
        &["init", "--allow-test-clock", "--demo", "--operator-email", "ops@hkex.example"],
        None,
        0,
        "Create a database with the exchange operator HKEXOP01 and a demo participant",
    )?;

    // First-time logon of the operator (seed Appendix C): Forgot/Reset, then the OTP channel.
    d.json(
        &["otp", "request", "--user", "HKEXOP01"],
        None,
        "First-time logon, step 1: request an e-mail OTP (it goes to dms-outbox.mbox)",
    )?;
    let code = d.last_mailed_otp()?;
    println!("  (the e-mail says: One Time Password (OTP) for CCASS: {code})");
    d.json(
        &["password", "reset", "--user", "HKEXOP01", "--otp", &code, "--password-stdin"],
        Some(&pw_line),
        "Set the password with the e-mailed OTP",
    )?;
    let setup = d.json(
        &["otp", "setup", "--user", "HKEXOP01", "--app", "--password-stdin"],
        Some(&pw_line),
        "Register an authenticator app: dms prints the otpauth:// key URI",
    )?;
    let uri = setup["otpauth_uri"].as_str().context("no otpauth_uri")?.to_string();
    if !uri.starts_with("otpauth://totp/HKEX:HKEXOP01?") {
        bail!("unexpected key URI {uri}");
    }
    let code = app_code(&uri, d.now)?;
    println!("  (the app shows {code})");
    d.json(
        &["login", "--user", "HKEXOP01", "--password-stdin", "--otp", &code],
        Some(&pw_line),
        "Sign in: the first accepted code confirms the device",
    )?;
    let who = d.json(&["whoami"], None, "Who is signed in (a session check: no password hashing)")?;
    if who["user_id"] != "HKEXOP01" {
        bail!("whoami says {who}");
    }
    d.run(
        &["--session", "second.session", "login", "--user", "HKEXOP01", "--password-stdin", "--otp", &code],
        Some(&pw_line),
        3,
        "Replaying the same code fails: each TOTP code is accepted once (exit 3)",
    )?;

    // A business user chooses e-mail OTP.
    d.advance(Duration::minutes(1));
    d.json(
        &["otp", "request", "--user", "B0123401"],
        None,
        "A business user of the demo participant starts first-time logon",
    )?;
    let code = d.last_mailed_otp()?;
    d.json(
        &["password", "reset", "--user", "B0123401", "--otp", &code, "--password-stdin"],
        Some(&pw_line),
        "... sets a password",
    )?;
    d.json(
        &["otp", "setup", "--user", "B0123401", "--email", "--accept-warning", "--password-stdin"],
        Some(&pw_line),
        "... skips device registration: e-mail OTP (no self-service reset)",
    )?;
    let code = d.last_mailed_otp()?;
    d.json(
        &["--session", "user.session", "login", "--user", "B0123401", "--password-stdin", "--otp", &code],
        Some(&pw_line),
        "... and signs in with the e-mailed OTP, in a session file of its own",
    )?;
    d.run(
        &["password", "reset", "--user", "B0123401", "--otp", "12345678", "--password-stdin"],
        Some("Another-Passw0rd!2026\n"),
        3,
        "A wrong code is answered as for an unknown ID: nothing about an account before a valid secret (exit 3)",
    )?;
    d.advance(Duration::minutes(5));
    d.json(&["otp", "request", "--user", "B0123401"], None, "With a real e-mailed OTP...")?;
    let code = d.last_mailed_otp()?;
    d.run(
        &["password", "reset", "--user", "B0123401", "--otp", &code, "--password-stdin"],
        Some("Another-Passw0rd!2026\n"),
        5,
        "... an e-mail OTP user is told it cannot reset its own password: a DA must (exit 5)",
    )?;

    // Lockout: 5 wrong passwords within 30 minutes.
    let wrong = "Wrong-Passw0rd!2026\n";
    for i in 1..=4 {
        d.advance(Duration::minutes(5));
        let note = format!("Wrong password {i} of 5 for B0123401 (exit 3)");
        d.run(&["login", "--user", "B0123401", "--password-stdin", "--otp", "12345678"], Some(wrong), 3, &note)?;
    }
    d.advance(Duration::minutes(5));
    let note = "The fifth within 30 minutes locks the account and ends its sessions (exit 4)";
    d.run(&["login", "--user", "B0123401", "--password-stdin", "--otp", "12345678"], Some(wrong), 4, note)?;
    d.run(
        &["--session", "user.session", "whoami"],
        None,
        4,
        "The user's open session ended with the lockout, and says who can unlock (exit 4)",
    )?;
    d.run(
        &["otp", "request", "--user", "B0123401"],
        None,
        4,
        "Once locked, even self-service fails, and says who can unlock",
    )?;

    // Maker-checker: the demo participant's DAs sign in for the first time with their apps.
    d.advance(Duration::minutes(1));
    d.first_logon_app("B01234X1", &pw_line)?;
    let checker_key = d.first_logon_app("B01234X2", &pw_line)?;
    let checker2_key = d.first_logon_app("B01234X3", &pw_line)?;
    let m = ["--session", "B01234X1.session"];
    let c = ["--session", "B01234X2.session"];
    d.advance(Duration::minutes(1));
    let created = d.json(
        &[
            &m[..],
            &[
                "user",
                "create",
                "--generate",
                "--surname",
                "CHEUNG",
                "--other-names",
                "KA MAN",
                "--email",
                "km.cheung@abc.com.hk",
                "--groups",
                "11,A",
                "--limit",
                "500000",
            ],
        ]
        .concat(),
        None,
        "The DA maker creates a user profile (Generate User ID): a request waits for a checker",
    )?;
    if created["status"] != "PENDING" || created["user_id"] != "B0123404" {
        bail!("unexpected submission {created}");
    }
    d.run(
        &[&c[..], &["request", "list", "--status", "PENDING"]].concat(),
        None,
        0,
        "The DA checker lists pending requests",
    )?;
    let code = app_code_at(&checker_key, d.now)?;
    let approved = d.json(
        &[&c[..], &["request", "approve", "1", "--otp", &code, "--password-stdin"]].concat(),
        Some(&pw_line),
        "... and authorises it with the authorisation code: password and a fresh OTP",
    )?;
    if approved["status"] != "APPROVED" {
        bail!("unexpected approval {approved}");
    }
    d.run(
        &[&c[..], &["user", "enquire", "B0123404"]].concat(),
        None,
        0,
        "Enquire User Profile: the fields of a profile whose 2FA is not initialised yet",
    )?;
    d.advance(Duration::minutes(1));
    d.run(
        &[&m[..], &["user", "change", "B01234X2", "--email", "tm.chan@abc.com.hk"]].concat(),
        None,
        5,
        "A DA's e-mail address belongs to the exchange (DA3): the maker cannot point a checker's at itself (exit 5)",
    )?;
    d.json(
        &[&m[..], &["user", "change", "B01234X2", "--surname", "WONG-LEE"]].concat(),
        None,
        "The maker changes checker B01234X2's own surname (a field DMS maintains)",
    )?;
    let code = app_code_at(&checker_key, d.now)?;
    d.run(
        &[&c[..], &["request", "approve", "2", "--otp", &code, "--password-stdin"]].concat(),
        Some(&pw_line),
        5,
        "No one-handed operation: B01234X2 cannot authorise a request about itself (exit 5)",
    )?;
    let code = app_code_at(&checker2_key, d.now)?;
    let inline = d.json(
        &[
            &m[..],
            &[
                "user",
                "change",
                "B0123402",
                "--email",
                "meiling.ho@abc.com.hk",
                "--checker",
                "B01234X3",
                "--otp",
                &code,
                "--password-stdin",
            ],
        ]
        .concat(),
        Some(&pw_line),
        "Inline mode, as on the seed's screen: checker B01234X3 types the authorisation code at the maker's terminal",
    )?;
    if inline["status"] != "APPROVED" {
        bail!("unexpected inline result {inline}");
    }
    let listing =
        d.run(&[&m[..], &["listing"]].concat(), None, 0, "User Profile Listing with the quota footer (seed 4.3.1)")?;
    if !listing.stdout.contains("MAX. NO. OF USERS                                   : 70\n")
        || !listing.stdout.ends_with("*** END OF REPORT ***\n")
    {
        bail!("the listing footer is not the seed's");
    }

    served(&mut d, &m, &c, &checker_key, &pw_line)?;

    // The exchange: DA4 raises the maximum; DA3 adds a DA.
    d.run(&["whoami"], None, 3, "The operator's session ended after 15 idle minutes (exit 3)")?;
    let code = app_code(&uri, d.now)?;
    d.json(
        &["login", "--user", "HKEXOP01", "--password-stdin", "--otp", &code],
        Some(&pw_line),
        "The operator signs in again",
    )?;
    let da4 = d.json(
        &["hkex", "da4", "--participant", "B01234", "--accounts", "2"],
        None,
        "eService DA4: two additional user accounts, HK$250 each",
    )?;
    if da4["max_users"] != 72 || da4["fee_hkd"] != "500.00" {
        bail!("unexpected DA4 result {da4}");
    }
    d.json(
        &[
            "hkex",
            "da3",
            "add",
            "--participant",
            "B01234",
            "--role",
            "checker",
            "--surname",
            "NG",
            "--other-names",
            "WING",
            "--email",
            "w.ng@abc.com.hk",
        ],
        None,
        "eService DA3: the exchange adds a DA and assigns its ID",
    )?;
    d.json(
        &["hkex", "holiday", "add", "2026-12-25", "--name", "Christmas Day"],
        None,
        "A public holiday closes DMS and the terminal",
    )?;
    let saved = d.now;
    d.now = DateTime::parse_from_rfc3339("2026-12-25T10:00:00+08:00")?.with_timezone(&Utc);
    d.run(
        &["otp", "request", "--user", "B0123403"],
        None,
        4,
        "On the holiday a business user is refused, told when service reopens (exit 4)",
    )?;
    d.now = saved;

    // The audit trail.
    let v = d.json(&["audit", "verify"], None, "Every attempt is in the hash-chained audit trail; verify it")?;
    if v["ok"] != true {
        bail!("audit verify: {v}");
    }
    d.json(&["logout"], None, "Sign out")?;
    d.run(&["whoami"], None, 3, "Signed out: no identity (exit 3)")?;
    timeline(&mut d, &pw_line, &uri)
}

/// The same round through a server (SPEC §10): `dms serve` owns the database, the DAs' own
/// `dms` are its clients on a throwaway socket, with the same commands and output.
fn served(d: &mut Demo, m: &[&str], c: &[&str], checker_key: &str, pw_line: &str) -> anyhow::Result<()> {
    println!("\n== As a service: `dms serve` owns the database; every DA's dms is its client");
    println!("\n$ dms serve --socket demo.sock &");
    let mut server = Command::new(&d.exe)
        .args(["serve", "--socket", "demo.sock"])
        .current_dir(&d.dir)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting dms serve")?;
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().context("the server's stdout")?),
        &mut ready,
    )?;
    println!("  {}", ready.trim());
    let through = |args: &[&str]| -> Vec<String> {
        ["--server", "unix:demo.sock"].iter().chain(args).map(|a| a.to_string()).collect()
    };
    let round = (|| -> anyhow::Result<()> {
        if !ready.contains("\"listening\"") {
            bail!("dms serve did not start: {ready}");
        }
        d.advance(Duration::minutes(1));
        let args = through(
            &[
                m,
                &[
                    "user",
                    "create",
                    "--generate",
                    "--surname",
                    "YIP",
                    "--other-names",
                    "SAU WAH",
                    "--email",
                    "sw.yip@abc.com.hk",
                ],
            ]
            .concat(),
        );
        let created = d.json(
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            None,
            "Through the server: the maker submits a new profile",
        )?;
        let id = created["request_id"].as_i64().context("a request ID")?;
        let code = app_code_at(checker_key, d.now + Duration::seconds(30))?;
        d.advance(Duration::seconds(30));
        let n = id.to_string();
        let args =
            through(&[c, &["request", "approve", n.as_str(), "--otp", code.as_str(), "--password-stdin"]].concat());
        let approved = d.json(
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            Some(pw_line),
            "... the checker authorises it, through the server too",
        )?;
        if approved["status"] != "APPROVED" {
            bail!("unexpected approval through the server {approved}");
        }
        let args = through(&[m, &["listing", "--role", "user"]].concat());
        let listing = d.run(
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            None,
            0,
            "The listing through the server: the same table and footer",
        )?;
        if !listing.stdout.contains("YIP") || !listing.stdout.ends_with("*** END OF REPORT ***\n") {
            bail!("the listing through the server is not the embedded one");
        }
        Ok(())
    })();
    // SIGTERM: the server lets the calls in flight finish and removes its socket.
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let status = server.wait()?;
    round?;
    println!(
        "\n$ kill -TERM %1   # the server stops: exit {}, socket removed: {}",
        status.code().unwrap_or(-1),
        !d.dir.join("demo.sock").exists()
    );
    if !status.success() || d.dir.join("demo.sock").exists() {
        bail!("the server did not stop cleanly ({status})");
    }
    Ok(())
}

/// The seed's timeline in a few steps (seed 1, 3.1, 4, 5, Appendix A; the circular): a
/// smartcard-era participant registers e-mail addresses on smartcards before the 2FA launch,
/// 2FA opens at the launch, smartcards end at decommissioning except on the PG channel.
fn timeline(d: &mut Demo, pw_line: &str, op_uri: &str) -> anyhow::Result<()> {
    println!("\n== The timeline: the e-mail registration drive on smartcards, the 2FA launch, decommissioning");
    d.advance(Duration::minutes(1));
    let code = app_code(op_uri, d.now)?;
    d.json(
        &["login", "--user", "HKEXOP01", "--password-stdin", "--otp", &code],
        Some(pw_line),
        "The operator signs in",
    )?;
    d.json(&["hkex", "settings", "set", "decommission-date", "2027-02-01"], None, "Smartcards end on 1 Feb 2027...")?;
    d.json(&["hkex", "settings", "set", "launch-date", "2026-12-01"], None, "...and 2FA starts on 1 Dec 2026")?;
    let dir = d.dir.clone();
    std::fs::write(
        dir.join("participants.csv"),
        "id,name,house,max_users,domains\nC00001,LEGACY SECURITIES,hkscc-cp,20,legacy.com.hk\n",
    )?;
    let pin = "246810";
    let phc = crate::crypto::hash_secret(pin, &mut crate::crypto::SecureRng::seeded(7))?;
    let mut users = String::from(
        "participant,user_id,surname,other_names,email,role,srn,certificate_expiry,pin_phc,access_channel\n",
    );
    for (id, role, channel) in [
        ("C00001X1", "maker", "CST"),
        ("C00001X2", "checker", "CST"),
        ("C0000101", "user", "CST"),
        ("C0000102", "user", "PG"),
    ] {
        users.push_str(&format!(
            "C00001,{id},LEE,SIU FAI,,{role},0101101200012AB2,31-Dec-30 23:59:59,\"{phc}\",{channel}\n"
        ));
    }
    std::fs::write(dir.join("smartcard-users.csv"), users)?;
    d.json(&["hkex", "participant", "import", "participants.csv"], None, "Migration: the participants file")?;
    d.json(
        &["hkex", "import-smartcard-users", "smartcard-users.csv"],
        None,
        "Migration: its smartcard-era users (one PG)",
    )?;
    let pin_line = format!("{pin}\n");
    d.json(
        &["--session", "c-maker.session", "login", "--smartcard", "--user", "C00001X1", "--password-stdin"],
        Some(&pin_line),
        "Before the launch the DA maker signs in with its smartcard and PIN",
    )?;
    let r = d.json(
        &[
            "--session",
            "c-maker.session",
            "user",
            "change",
            "C0000101",
            "--email",
            "sf.lee@legacy.com.hk",
            "--checker",
            "C00001X2",
            "--smartcard",
            "--password-stdin",
        ],
        Some(&pin_line),
        "It registers a user's e-mail address; the smartcard-era checker types Checker ID and its PIN (Appendix A f)",
    )?;
    if r["status"] != "APPROVED" {
        bail!("unexpected inline result {r}");
    }
    d.run(
        &["otp", "request", "--user", "C0000101"],
        None,
        4,
        "2FA is not open before the launch; the date is named (exit 4)",
    )?;
    d.now = DateTime::parse_from_rfc3339("2026-12-02T10:00:00+08:00")?.with_timezone(&Utc);
    println!("\n(clock: the parallel run, {})", crate::ops::signin::show_time(d.now));
    d.json(&["otp", "request", "--user", "C0000101"], None, "After the launch the user starts its first-time logon")?;
    d.json(
        &["--session", "c-user.session", "login", "--smartcard", "--user", "C0000101", "--password-stdin"],
        Some(&pin_line),
        "...and during the parallel run its smartcard still works",
    )?;
    d.now = DateTime::parse_from_rfc3339("2027-02-02T10:00:00+08:00")?.with_timezone(&Utc);
    println!("\n(clock: after decommissioning, {})", crate::ops::signin::show_time(d.now));
    d.run(
        &["--session", "c-user.session", "login", "--smartcard", "--user", "C0000101", "--password-stdin"],
        Some(&pin_line),
        5,
        "After decommissioning a terminal user's smartcard is refused (exit 5)...",
    )?;
    d.json(
        &["--session", "c-pg.session", "login", "--smartcard", "--user", "C0000102", "--password-stdin"],
        Some(&pin_line),
        "...and a Participant Gateway user's still works",
    )?;
    Ok(())
}
