//! `dms user import-emails FILE` (bulk e-mail registration): the fuzz input is the file,
//! read and checked row by row as the command does, then (when every row is good) planned by
//! the maker-checker engine for the demo maker B01234X1, as `--dry-run` does, in a
//! transaction that is rolled back. Besides never panicking: every accepted address is in
//! its normal form, each row names one user, and refusals are bad input (exit 5/6/7).

#![no_main]

use dms::domain::change::Change;
use dms::domain::profile;
use dms::ops::calls::user::{self as import, BulkFile};
use dms::ops::maker_checker;
use dms::ops::work::Mode;
use dms_fuzz::{refused_as_input, upload, with_world};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    with_world(|w| {
        let BulkFile { change, rows, lines } = match import::read_emails(upload(data)) {
            Ok(f) => f,
            Err(e) => return refused_as_input(&e),
        };
        assert!(rows > 0);
        assert_eq!(lines.len(), rows, "one user per row, none twice");
        let Change::ImportEmails { rows: list } = &change else { panic!("an e-mail registration") };
        for r in list {
            assert_eq!(profile::email(&r.email).as_deref(), Ok(r.email.as_str()));
        }
        let maker = w.maker.clone();
        if let Err(e) = w.rolled_back(Mode::Read, |work| maker_checker::check(work, &maker, change)) {
            refused_as_input(&import::with_line("input.csv", &lines, e));
        }
    })
});
