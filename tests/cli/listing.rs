//! User Profile Listing with the quota footer (SPEC §6), and eService DA3 add (SPEC §5).

use crate::harness::*;
use serde_json::json;

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
fn table_footer(run: &Run) -> String {
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines.len() >= 5, "{run}");
    lines[lines.len() - 5..].iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn the_table_ends_with_the_seed_footer_exactly() {
    let w = World::with_das();
    let r = w.raw_as(MAKER, &["listing"]).ok();
    assert_eq!(table_footer(&r), footer(70, 6, 3), "{r}");
    assert!(r.stdout.ends_with(&footer(70, 6, 3)), "nothing after the footer: {r}");
    // Filters change the rows, not the participant's quota.
    let r = w.raw_as(MAKER, &["listing", "--role", "user"]).ok();
    assert_eq!(table_footer(&r), footer(70, 6, 3));
    assert!(!r.stdout.contains(MAKER), "{r}");
}

#[test]
fn json_has_users_and_the_quota_object() {
    let w = World::with_das();
    let v = w.as_user(MAKER, &["listing"]).ok().json();
    assert_eq!(
        v["quota"],
        json!({ "max_users": 70, "total_users": 6, "delegated_administrators": 3, "users_except_delegated_administrators": 3 })
    );
    let mut ids = user_ids(&v);
    ids.sort();
    assert_eq!(ids, [USER1, USER2, USER3, MAKER, CHECKER, CHECKER2]);
    let first = &v["users"][0];
    for key in ["user_id", "surname", "other_names", "email", "status", "role", "locked", "otp"] {
        assert!(first.get(key).is_some(), "column {key} (SPEC §8): {first:#}");
    }

    let das = w.as_user(CHECKER, &["listing", "--role", "da"]).ok().json();
    let mut ids = user_ids(&das);
    ids.sort();
    assert_eq!(ids, [MAKER, CHECKER, CHECKER2]);
    assert!(das["users"].as_array().expect("users").iter().all(|u| u["role"] == "maker" || u["role"] == "checker"));
    assert_eq!(das["quota"]["delegated_administrators"], 3);
    let users = w.as_user(MAKER, &["listing", "--role", "user"]).ok().json();
    assert!(users["users"].as_array().expect("users").iter().all(|u| u["role"] == "user"));
    assert_eq!(user_ids(&users).len(), 3);
    assert_eq!(user_ids(&w.as_user(MAKER, &["listing", "--status", "disabled"]).ok().json()).len(), 0);
    w.as_user(MAKER, &["listing", "--status", "sleeping"]).expect(Exit::Invalid);
}

#[test]
fn csv_has_a_header_row_and_no_footer() {
    let w = World::with_das();
    let r = w.raw_as(MAKER, &["--format", "csv", "listing"]).ok();
    assert!(!r.stdout.contains("END OF REPORT") && !r.stdout.contains("MAX. NO."), "{r}");
    let mut csv = csv::Reader::from_reader(r.stdout.as_bytes());
    let header: Vec<String> = csv.headers().expect("header").iter().map(str::to_string).collect();
    assert_eq!(&header[..8], ["user_id", "surname", "other_names", "email", "status", "role", "locked", "otp"]);
    let rows: Vec<csv::StringRecord> = csv.records().collect::<Result<_, _>>().expect("well-formed CSV");
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|row| row.len() == header.len()));
    let limit = header.iter().position(|h| h == "transaction_limit_hkd").expect("limit column");
    let user1 = rows.iter().find(|row| &row[0] == USER1).expect("B0123401");
    assert_eq!(&user1[limit], "1000000.00", "an amount is plain, without separators");
    assert_eq!(r.stdout.lines().last().map(|l| l.starts_with(PARTICIPANT)), Some(true), "{r}");

    let das = w.raw_as(MAKER, &["--format", "csv", "listing", "--role", "da"]).ok();
    let roles: Vec<String> =
        csv::Reader::from_reader(das.stdout.as_bytes()).records().map(|r| r.expect("row")[5].to_string()).collect();
    assert_eq!(roles, ["maker", "checker", "checker"]);
}

#[test]
fn the_operator_names_a_participant_or_all() {
    let w = World::with_operator();
    w.op(&["listing"]).refused(Exit::Usage, &["--participant"]);
    let v = w.op(&["listing", "--participant", "b01234"]).ok().json();
    assert_eq!(user_ids(&v).len(), 6);
    assert_eq!(v["quota"]["max_users"], 70);
    w.op(&["listing", "--participant", "C99999"]).expect(Exit::Invalid);
    w.participant_add("C05678", "XYZ", "hkscc-cp", 5).ok();
    let all = w.op(&["listing", "--all"]).ok().json();
    assert_eq!(all["quota"]["max_users"], 75);
    assert_eq!(all["quota"]["total_users"], 6);
    let r = w.raw_as(OPERATOR, &["listing", "--all"]).ok();
    assert!(r.stdout.ends_with(&footer(75, 6, 3)), "{r}");
}

#[test]
fn da3_add_assigns_the_next_da_id_and_a_reference_and_mails_it() {
    let w = World::with_das();
    w.first_time_app(OPERATOR);
    let v = w.da3_add(PARTICIPANT, "maker", "Ng", "w.ng@abc.com.hk").ok().json();
    assert_eq!(v, json!({ "da_id": "B01234X4", "reference": "DA3_00000001", "status": "Completed" }));
    let v = w.da3_add(PARTICIPANT, "checker", "Yip", "p.yip@abc.com.hk").ok().json();
    assert_eq!(v, json!({ "da_id": "B01234X5", "reference": "DA3_00000002", "status": "Completed" }));

    for (reference, to, da) in
        [("DA3_00000001", "w.ng@abc.com.hk", "B01234X4"), ("DA3_00000002", "p.yip@abc.com.hk", "B01234X5")]
    {
        let mails = w.mails_to(to);
        let mail = mails.iter().find(|m| m.contains(reference)).unwrap_or_else(|| panic!("no mail naming {reference}"));
        assert!(mail.contains(da), "{mail}");
        assert!(mail.contains("Completed"), "{mail}");
    }
    // No command lists the eServices themselves.
    assert_eq!(
        w.sql("SELECT reference, form, subject, status FROM eservices ORDER BY reference"),
        "DA3_00000001|DA3|B01234X4|Completed\nDA3_00000002|DA3|B01234X5|Completed"
    );

    let e = w.enquire(MAKER, "B01234X5");
    assert_eq!(e["role"], "checker", "{e:#}");
    let r = w.raw_as(MAKER, &["listing"]).ok();
    assert_eq!(table_footer(&r), footer(70, 8, 5));

    // Only the operator processes DA3, and DAs count towards the maximum.
    let before = w.state();
    w.as_user(MAKER, &da3_add_args(PARTICIPANT, "maker", "Ng", "x@abc.com.hk")).expect(Exit::NotPermitted);
    w.sql_write("UPDATE participants SET max_users = 8 WHERE participant_id = 'B01234'");
    w.da3_add(PARTICIPANT, "checker", "Ng", "q@abc.com.hk").refused(Exit::Conflict, &["DA4"]);
    w.sql_write("UPDATE participants SET max_users = 70 WHERE participant_id = 'B01234'");
    assert_eq!(w.state(), before);
}

/// Issue 19 #6: the user group catalogue can be listed (JSON, CSV, a table), and an unknown
/// code's error names the nearest valid ones and where the rest are.
#[test]
fn the_user_group_catalogue_is_listed_and_an_unknown_code_names_the_nearest() {
    let w = World::with_das();
    let v = w.as_user(MAKER, &["user", "groups"]).ok().json();
    let codes: Vec<&str> = v["groups"].as_array().expect("groups").iter().filter_map(|g| g["code"].as_str()).collect();
    assert_eq!(codes.len(), 63, "{v}");
    assert_eq!((codes.first().copied(), codes.last().copied()), (Some("11"), Some("WG")));
    let csv = w.raw_as(CHECKER, &["--format", "csv", "user", "groups"]).ok().stdout;
    assert_eq!(csv.lines().next(), Some("code"));
    assert_eq!(csv.lines().count(), 64);
    let before = w.state();
    w.as_user(MAKER, &["user", "change", USER1, "--groups", "11,53"])
        .refused(Exit::Invalid, &["\"53\"", "nearest: 13, 23, 51, 52, 54, 55", "dms user groups"]);
    assert_eq!(w.state(), before);
}
