//! The JSON contract, one test per command family (SPEC §2, §8): the field names and their
//! types. One name and one type per concept everywhere: booleans are JSON booleans, amounts
//! decimal strings without separators (`"5000.00"`), groups arrays, dates `YYYY-MM-DD`, times
//! RFC 3339 in Hong Kong time with their offset, roles and statuses machine words.

use crate::harness::*;
use serde_json::Value;

/// What a field holds.
#[derive(Clone, Copy, Debug)]
enum T {
    Str,
    Int,
    Bool,
    /// A user ID: 8 characters A-Z 0-9.
    Id,
    /// RFC 3339 in Hong Kong time (`+08:00`).
    Time,
    /// `YYYY-MM-DD`.
    Date,
    /// A decimal string with two places and no separators.
    Amount,
    /// An array of strings.
    Strings,
    Array,
    Object,
    /// Null, or the type.
    Opt(&'static T),
}

fn is(t: T, v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    match t {
        T::Str => v.is_string(),
        T::Int => v.is_i64(),
        T::Bool => v.is_boolean(),
        T::Id => v.is_string() && s.len() == 8 && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        T::Time => v.is_string() && s.ends_with("+08:00") && chrono::DateTime::parse_from_rfc3339(s).is_ok(),
        T::Date => v.is_string() && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok(),
        T::Amount => {
            v.is_string()
                && s.split_once('.').is_some_and(|(i, f)| {
                    !i.is_empty()
                        && i.bytes().all(|b| b.is_ascii_digit())
                        && f.len() == 2
                        && f.bytes().all(|b| b.is_ascii_digit())
                })
        }
        T::Strings => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        T::Array => v.is_array(),
        T::Object => v.is_object(),
        T::Opt(t) => v.is_null() || is(*t, v),
    }
}

/// `v` is an object with exactly these fields, each of its type.
#[track_caller]
fn shape(what: &str, v: &Value, fields: &[(&str, T)]) {
    let obj = v.as_object().unwrap_or_else(|| panic!("{what}: not an object: {v}"));
    let mut got: Vec<&str> = obj.keys().map(String::as_str).collect();
    let mut want: Vec<&str> = fields.iter().map(|f| f.0).collect();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "{what}: the field names of {v:#}");
    for (name, t) in fields {
        assert!(is(*t, &v[*name]), "{what}: {name} should be {t:?}, is {}", v[*name]);
    }
}

/// The first row of the array `key` of `v`.
#[track_caller]
fn first<'a>(v: &'a Value, key: &str) -> &'a Value {
    v[key].as_array().and_then(|a| a.first()).unwrap_or_else(|| panic!("no {key} rows in {v:#}"))
}

const PROFILE_TIME: T = T::Opt(&T::Time);
const OPT_STR: T = T::Opt(&T::Str);
const OPT_DATE: T = T::Opt(&T::Date);
const OPT_ID: T = T::Opt(&T::Id);

/// The DAs signed in, and the operator too.
fn everyone() -> World {
    let w = World::with_das();
    w.first_time_app(OPERATOR);
    w
}

#[test]
fn signing_in() {
    let w = World::demo();
    let sent = w.otp_request(USER1).ok().json();
    shape("otp request", &sent, &[("user_id", T::Id), ("requested", T::Bool), ("valid_until", T::Time)]);
    let otp = w.last_otp();
    let reset = w
        .run(&["password", "reset", "--user", USER1, "--otp", &otp, "--password-stdin"], Some(&line(PASSWORD)))
        .ok()
        .json();
    shape("password reset", &reset, &[("user_id", T::Id), ("password_set", T::Bool), ("password_expires_at", T::Time)]);
    let setup = w.ok(&["otp", "setup", "--user", USER1, "--app", "--password-stdin"], Some(&line(PASSWORD)));
    shape("otp setup", &setup, &[("otpauth_uri", T::Str)]);
    w.set_key(USER1, &secret_of(setup["otpauth_uri"].as_str().unwrap_or_default()));
    let login = w.login(USER1).ok().json();
    shape(
        "login",
        &login,
        &[
            ("user_id", T::Id),
            ("role", T::Str),
            ("participant_id", OPT_STR),
            ("method", T::Str),
            ("session_file", T::Str),
            ("idle_timeout_minutes", T::Int),
            ("session_expires_at", T::Time),
            ("password_expires_at", PROFILE_TIME),
        ],
    );
    assert_eq!((login["role"].as_str(), login["method"].as_str()), (Some("user"), Some("2fa")));
    let me = w.as_user(USER1, &["whoami"]).ok().json();
    shape(
        "whoami",
        &me,
        &[
            ("user_id", T::Id),
            ("role", T::Str),
            ("participant_id", OPT_STR),
            ("signed_in_at", T::Time),
            ("method", T::Str),
            ("idle_expires_at", T::Time),
            ("session_expires_at", T::Time),
        ],
    );
}

#[test]
fn user_maintenance() {
    let w = World::with_das();
    let queued = w.as_user(MAKER, &create_args("B0123404", "sm.chan@abc.com.hk")).ok().json();
    shape("user create", &queued, &[("request_id", T::Int), ("status", T::Str), ("user_id", T::Id)]);
    assert_eq!(queued["status"], "PENDING");
    let code = w.totp(CHECKER);
    let inline = w
        .as_user_stdin(
            MAKER,
            &["user", "change", USER1, "--limit", "5000", "--checker", CHECKER, "--otp", &code, "--password-stdin"],
            &line(PASSWORD),
        )
        .ok()
        .json();
    shape("user change", &inline, &[("request_id", T::Int), ("status", T::Str), ("user_id", T::Id)]);
    assert_eq!(inline["status"], "APPROVED");

    let profile = [
        ("organisation", T::Str),
        ("internal_external", T::Str),
        ("user_id", T::Id),
        ("status", T::Str),
        ("surname", T::Str),
        ("other_names", T::Str),
        ("email", OPT_STR),
        ("enable_from", OPT_DATE),
        ("disable_after", OPT_DATE),
        ("clearing_house_options", T::Str),
        ("access_channel", T::Str),
        ("transaction_limit_hkd", T::Amount),
        ("user_groups", T::Strings),
        ("functions", T::Strings),
        ("role", T::Str),
    ];
    let e = w.enquire(MAKER, USER1);
    shape("user enquire (2FA not initialised)", &e, &profile);
    assert_eq!(
        (e["status"].as_str(), e["role"].as_str(), e["transaction_limit_hkd"].as_str()),
        (Some("ENABLED"), Some("user"), Some("5000.00"))
    );
    let mut initialised = profile.to_vec();
    initialised.extend([("locked", T::Bool), ("otp_enabled", T::Bool), ("otp_channel", T::Str)]);
    shape("user enquire (2FA initialised)", &w.enquire(MAKER, CHECKER), &initialised);

    let found = w.as_user(MAKER, &["user", "enquire", "--name", "cheung"]).ok().json();
    shape("user enquire --name", &found, &[("users", T::Array)]);
    shape(
        "user enquire --name row",
        first(&found, "users"),
        &[
            ("user_id", T::Id),
            ("surname", T::Str),
            ("other_names", T::Str),
            ("role", T::Str),
            ("status", T::Str),
            ("participant_id", OPT_STR),
        ],
    );

    let f = w.write("emails.csv", "user_id,email\nB0123402,ml.ho2@abc.com.hk\n");
    let dry = w.as_user(MAKER, &["user", "import-emails", &f, "--dry-run"]).ok().json();
    shape(
        "import-emails --dry-run",
        &dry,
        &[
            ("dry_run", T::Bool),
            ("valid", T::Bool),
            ("rows", T::Int),
            ("unchanged", T::Int),
            ("kind", T::Str),
            ("user_ids", T::Strings),
            ("quota", T::Object),
            ("changes", T::Array),
            ("warnings", T::Strings),
        ],
    );
    shape("a dry run's change", first(&dry, "changes"), &[("user_id", T::Id), ("action", T::Str), ("diff", T::Object)]);
    let done = w.as_user(MAKER, &["user", "import-emails", &f]).ok().json();
    shape(
        "import-emails",
        &done,
        &[("request_id", T::Int), ("status", T::Str), ("rows", T::Int), ("unchanged", T::Int)],
    );
}

#[test]
fn requests() {
    let w = World::with_das();
    let id = w.submit(MAKER, &["user", "change", USER1, "--limit", "5000", "--groups", "11"]);
    let list = w.as_user(CHECKER, &["request", "list"]).ok().json();
    let row = [
        ("request_id", T::Int),
        ("participant_id", T::Str),
        ("kind", T::Str),
        ("summary", T::Str),
        ("maker", T::Id),
        ("created_at", T::Time),
        ("expires_at", T::Time),
        ("status", T::Str),
        ("checker", OPT_ID),
        ("decided_at", PROFILE_TIME),
        ("reason", OPT_STR),
    ];
    shape("request list row", first(&list, "requests"), &row);
    let show = w.request_show(CHECKER, id);
    let mut fields = row.to_vec();
    fields.extend([("subjects", T::Strings), ("change", T::Object), ("rows", T::Array)]);
    shape("request show", &show, &fields);
    let diff = &first(&show, "rows")["diff"];
    shape("request show diff", diff, &[("transaction_limit_hkd", T::Object), ("user_groups", T::Object)]);
    assert!(
        is(T::Amount, &diff["transaction_limit_hkd"]["proposed"]) && is(T::Strings, &diff["user_groups"]["current"]),
        "{diff}"
    );
    let approved = w.approve(CHECKER, &[id]).ok().json();
    shape("request approve", &approved, &[("request_id", T::Int), ("status", T::Str)]);
    let rejected = w.submit(MAKER, &["user", "delete", USER3]);
    let r = w.as_user(CHECKER, &["request", "reject", &rejected.to_string(), "--reason", "no"]).ok().json();
    assert_eq!(r["status"], "REJECTED", "{r}");
    let decided = w.request_show(CHECKER, rejected);
    assert!(is(T::Time, &decided["decided_at"]) && decided["not_applicable"].is_string(), "{decided:#}");
}

#[test]
fn listing_and_reports() {
    let w = everyone();
    let listing = w.as_user(MAKER, &["listing"]).ok().json();
    shape("listing", &listing, &[("users", T::Array), ("quota", T::Object)]);
    shape(
        "listing row",
        first(&listing, "users"),
        &[
            ("user_id", T::Id),
            ("surname", T::Str),
            ("other_names", T::Str),
            ("email", OPT_STR),
            ("status", T::Str),
            ("role", T::Str),
            ("locked", T::Bool),
            ("otp", T::Str),
            ("participant_id", OPT_STR),
            ("enable_from", OPT_DATE),
            ("disable_after", OPT_DATE),
            ("access_channel", T::Str),
            ("transaction_limit_hkd", T::Amount),
            ("user_groups", T::Strings),
            ("created_at", T::Time),
            ("last_login_at", PROFILE_TIME),
            ("functions", T::Strings),
        ],
    );
    shape(
        "listing quota",
        &listing["quota"],
        &[
            ("max_users", T::Int),
            ("total_users", T::Int),
            ("delegated_administrators", T::Int),
            ("users_except_delegated_administrators", T::Int),
        ],
    );
    let readiness = w.as_user(MAKER, &["report", "readiness"]).ok().json();
    shape(
        "report readiness",
        &readiness,
        &[
            ("findings", T::Array),
            ("summary", T::Object),
            ("generated_at", T::Time),
            ("generated_by", T::Id),
            ("filters", T::Object),
        ],
    );
    assert_eq!(readiness["generated_by"], MAKER);
    assert_eq!(readiness["filters"]["participant"], "B01234", "a DA's report is its participant's: {readiness}");
    shape(
        "readiness finding",
        first(&readiness, "findings"),
        &[("participant_id", OPT_STR), ("user_id", T::Id), ("role", T::Str), ("finding", T::Str), ("detail", T::Str)],
    );
    w.wrong_passwords(USER1, 0);
    let dormant = w.as_user(MAKER, &["report", "dormant", "--days", "0"]).ok().json();
    shape(
        "dormant row",
        first(&dormant, "dormant"),
        &[
            ("participant_id", OPT_STR),
            ("user_id", T::Id),
            ("role", T::Str),
            ("status", T::Str),
            ("created_at", T::Time),
            ("last_login_at", PROFILE_TIME),
        ],
    );
    let audit = w.op(&["report", "audit"]).ok().json();
    let row = first(&audit, "audit");
    assert!(is(T::Int, &row["seq"]) && is(T::Time, &row["at"]), "{row:#}");
}

#[test]
fn the_exchange() {
    let w = World::with_operator();
    let p = w.op(&["hkex", "participant", "show", PARTICIPANT]).ok().json();
    for (k, t) in [("participant_id", T::Str), ("max_users", T::Int), ("house", T::Str)] {
        assert!(is(t, &p[k]), "participant show: {k} should be {t:?} in {p:#}");
    }
    let da3 = w.da3_add(PARTICIPANT, "checker", "NG", "ng@abc.com.hk").ok().json();
    assert!(is(T::Id, &da3["da_id"]) && da3["reference"].as_str().is_some_and(|r| r.starts_with("DA3_")), "{da3:#}");
    assert_eq!(da3["status"], "Completed");
    let da4 = w.op(&["hkex", "da4", "--participant", PARTICIPANT, "--accounts", "2"]).ok().json();
    for (k, t) in [("reference", T::Str), ("max_users", T::Int), ("fee_hkd", T::Amount)] {
        assert!(is(t, &da4[k]), "da4: {k} should be {t:?} in {da4:#}");
    }
    assert_eq!(da4["fee_hkd"], "500.00");
    let fees = w.op(&["report", "da4-fees"]).ok().json();
    assert!(is(T::Amount, &fees["total_fee_hkd"]) && is(T::Amount, &first(&fees, "da4")["fee_hkd"]), "{fees:#}");
    assert!(is(T::Time, &first(&fees, "da4")["processed_at"]), "{fees:#}");
    let verify = w.run(&["audit", "verify"], None).ok().json();
    for (k, t) in [("ok", T::Bool), ("rows", T::Int), ("head", T::Str)] {
        assert!(is(t, &verify[k]), "audit verify: {k} should be {t:?} in {verify:#}");
    }
}
