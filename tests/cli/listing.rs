//! User Profile Listing with the quota footer (SPEC §6), and eService DA3 add (SPEC §5).

use crate::mc_support::*;
use serde_json::{json, Value};

fn footer(max: i64, total: i64, das: i64) -> String {
    format!(
        "MAX. NO. OF USERS                                   : {max}\n\
         TOTAL NO. OF USERS                                  : {total}\n\
         TOTAL NO. OF DELEGATED ADMINISTRATORS               : {das}\n\
         TOTAL NO. OF USERS EXCEPT DELEGATED ADMINISTRATORS  : {}\n\
         *** END OF REPORT ***\n",
        total - das
    )
}

/// The last five lines of a table listing.
fn table_footer(out: &Out) -> String {
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines.len() >= 5, "{out}");
    lines[lines.len() - 5..].iter().map(|l| format!("{l}\n")).collect()
}

fn user_ids(v: &Value) -> Vec<String> {
    v["users"].as_array().expect("users").iter().map(|u| u["user_id"].as_str().expect("user_id").to_string()).collect()
}

#[test]
fn the_table_ends_with_the_seed_footer_exactly() {
    let mc = Mc::with_das();
    let o = mc.run(Some(MAKER), &["listing"], None);
    o.ok();
    assert_eq!(table_footer(&o), footer(70, 6, 3), "{o}");
    assert!(o.stdout.ends_with(&footer(70, 6, 3)), "nothing after the footer: {o}");
    // Filters change the rows, not the participant's quota.
    let o = mc.run(Some(MAKER), &["listing", "--role", "user"], None);
    o.ok();
    assert_eq!(table_footer(&o), footer(70, 6, 3));
    assert!(!o.stdout.contains(MAKER), "{o}");
}

#[test]
fn json_has_users_and_the_quota_object() {
    let mc = Mc::with_das();
    let v = mc.as_user(MAKER, &["listing"]).json();
    assert_eq!(
        v["quota"],
        json!({ "max_users": 70, "total_users": 6, "delegated_administrators": 3, "users_except_delegated_administrators": 3 })
    );
    let mut ids = user_ids(&v);
    ids.sort();
    assert_eq!(ids, ["B0123401", "B0123402", "B0123403", "B01234X1", "B01234X2", "B01234X3"]);
    let first = &v["users"][0];
    for key in ["user_id", "surname", "other_names", "email", "status", "role", "locked", "otp"] {
        assert!(first.get(key).is_some(), "column {key} (SPEC §8): {first:#}");
    }

    let das = mc.as_user(CHECKER, &["listing", "--role", "da"]).json();
    let mut ids = user_ids(&das);
    ids.sort();
    assert_eq!(ids, [MAKER, CHECKER, CHECKER2]);
    assert!(das["users"].as_array().expect("users").iter().all(|u| u["role"] == "maker" || u["role"] == "checker"));
    assert_eq!(das["quota"]["delegated_administrators"], 3);
    let users = mc.as_user(MAKER, &["listing", "--role", "user"]).json();
    assert!(users["users"].as_array().expect("users").iter().all(|u| u["role"] == "user"));
    assert_eq!(user_ids(&users).len(), 3);
    assert_eq!(user_ids(&mc.as_user(MAKER, &["listing", "--status", "disabled"]).json()).len(), 0);
    mc.as_user(MAKER, &["listing", "--status", "sleeping"]).code(6);
}

#[test]
fn csv_has_a_header_row_and_no_footer() {
    let mc = Mc::with_das();
    let o = mc.run(Some(MAKER), &["--format", "csv", "listing"], None);
    o.ok();
    assert!(!o.stdout.contains("END OF REPORT") && !o.stdout.contains("MAX. NO."), "{o}");
    let mut r = csv::Reader::from_reader(o.stdout.as_bytes());
    let header: Vec<String> = r.headers().expect("header").iter().map(str::to_string).collect();
    assert_eq!(&header[..8], ["user_id", "surname", "other_names", "email", "status", "role", "locked", "otp"]);
    let rows: Vec<csv::StringRecord> = r.records().collect::<Result<_, _>>().expect("well-formed CSV");
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|row| row.len() == header.len()));
    let limit = header.iter().position(|h| h == "transaction_limit_hkd").expect("limit column");
    let user1 = rows.iter().find(|row| &row[0] == USER1).expect("B0123401");
    assert_eq!(&user1[limit], "1,000,000.00", "a value with commas stays one field");
    assert_eq!(o.stdout.lines().last().map(|l| l.starts_with("B01234")), Some(true), "{o}");

    let das = mc.run(Some(MAKER), &["--format", "csv", "listing", "--role", "da"], None);
    das.ok();
    let roles: Vec<String> =
        csv::Reader::from_reader(das.stdout.as_bytes()).records().map(|r| r.expect("row")[5].to_string()).collect();
    assert_eq!(roles, ["maker", "checker", "checker"]);
}

#[test]
fn the_operator_names_a_participant_or_all() {
    let mc = Mc::new();
    mc.logon(OPERATOR);
    let o = mc.as_user(OPERATOR, &["listing"]);
    o.code(2);
    assert!(o.message().contains("--participant"), "{o}");
    let v = mc.as_user(OPERATOR, &["listing", "--participant", "b01234"]).json();
    assert_eq!(user_ids(&v).len(), 6);
    assert_eq!(v["quota"]["max_users"], 70);
    mc.as_user(OPERATOR, &["listing", "--participant", "C99999"]).code(6);
    mc.as_user(
        OPERATOR,
        &["hkex", "participant", "add", "--id", "C05678", "--name", "XYZ", "--house", "hkscc-cp", "--max-users", "5"],
    )
    .ok();
    let all = mc.as_user(OPERATOR, &["listing", "--all"]).json();
    assert_eq!(all["quota"]["max_users"], 75);
    assert_eq!(all["quota"]["total_users"], 6);
    let o = mc.run(Some(OPERATOR), &["listing", "--all"], None);
    o.ok();
    assert!(o.stdout.ends_with(&footer(75, 6, 3)), "{o}");
}

#[test]
fn da3_add_assigns_the_next_da_id_and_a_reference_and_mails_it() {
    let mc = Mc::with_das();
    mc.logon(OPERATOR);
    let add = |role: &str, email: &str| {
        let args = [
            "hkex",
            "da3",
            "add",
            "--participant",
            "B01234",
            "--role",
            role,
            "--surname",
            "Ng",
            "--other-names",
            "Wing",
            "--email",
            email,
        ];
        mc.as_user(OPERATOR, &args)
    };
    let o = add("maker", "w.ng@abc.com.hk");
    o.ok();
    assert_eq!(o.json(), json!({ "da_id": "B01234X4", "reference": "DA3_00000001", "status": "Completed" }));
    let o = add("checker", "p.yip@abc.com.hk");
    o.ok();
    assert_eq!(o.json(), json!({ "da_id": "B01234X5", "reference": "DA3_00000002", "status": "Completed" }));

    let mbox = mc.mbox();
    for (reference, to, da) in
        [("DA3_00000001", "w.ng@abc.com.hk", "B01234X4"), ("DA3_00000002", "p.yip@abc.com.hk", "B01234X5")]
    {
        let mail = mbox
            .split("\nFrom ")
            .find(|m| m.contains(reference))
            .unwrap_or_else(|| panic!("no mail naming {reference}"));
        assert!(mail.contains(to), "{mail}");
        assert!(mail.contains(da), "{mail}");
        assert!(mail.contains("Completed"), "{mail}");
    }
    assert_eq!(
        mc.sql("SELECT reference, form, subject, status FROM eservices ORDER BY reference"),
        "DA3_00000001|DA3|B01234X4|Completed\nDA3_00000002|DA3|B01234X5|Completed"
    );

    let e = mc.enquire("B01234X5");
    assert_eq!(e["role"], "DA CHECKER", "{e:#}");
    let o = mc.run(Some(MAKER), &["listing"], None);
    o.ok();
    assert_eq!(table_footer(&o), footer(70, 8, 5));

    // Only the operator processes DA3, and DAs count towards the maximum.
    let before = mc.state();
    let args = [
        "hkex",
        "da3",
        "add",
        "--participant",
        "B01234",
        "--role",
        "maker",
        "--surname",
        "Ng",
        "--other-names",
        "Wing",
        "--email",
        "x@abc.com.hk",
    ];
    mc.as_user(MAKER, &args).code(5);
    mc.sql("UPDATE participants SET max_users = 8 WHERE participant_id = 'B01234'");
    let o = add("checker", "q@abc.com.hk");
    o.code(7);
    assert!(o.message().contains("DA4"), "{o}");
    mc.sql("UPDATE participants SET max_users = 70 WHERE participant_id = 'B01234'");
    assert_eq!(mc.state(), before);
}
