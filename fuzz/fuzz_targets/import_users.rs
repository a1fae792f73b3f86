//! `dms user import FILE` (bulk user creation): the fuzz input is the file, read row by row
//! into new profiles as the command does (`new_profile`), then (when every row is good)
//! planned by the maker-checker engine for the demo maker B01234X1 (IDs generated, quota,
//! address warnings), as `--dry-run` does, in a transaction that is rolled back. Besides never
//! panicking: every field kept is in its normal form, and refusals are bad input (exit 5/6/7).

#![no_main]

use dms::domain::change::Change;
use dms::domain::profile::{self, Groups};
use dms::ops::calls::user::{self as import, BulkFile};
use dms::ops::maker_checker;
use dms::ops::work::Mode;
use dms_fuzz::{refused_as_input, upload, with_world};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    with_world(|w| {
        let BulkFile { change, rows, lines } = match import::read_users(upload(data)) {
            Ok(f) => f,
            Err(e) => return refused_as_input(&e),
        };
        let Change::ImportUsers { profiles } = &change else { panic!("a bulk creation") };
        assert!(rows > 0 && profiles.len() == rows && lines.len() <= rows);
        for p in profiles {
            assert_eq!(profile::person_name("surname", &p.surname).as_ref(), Ok(&p.surname));
            assert_eq!(profile::person_name("other names", &p.other_names).as_ref(), Ok(&p.other_names));
            assert_eq!(profile::email(&p.email).as_ref(), Ok(&p.email));
            assert_eq!(profile::check_date_window(p.enable_from, p.disable_after), Ok(()));
            assert_eq!(Groups::parse(&p.groups.spaced()).as_ref(), Ok(&p.groups));
            assert!((0..=profile::LIMIT_MAX_CENTS).contains(&p.limit.0));
        }
        let maker = w.maker.clone();
        match w.rolled_back(Mode::Read, |work| maker_checker::check(work, &maker, change)) {
            Ok(dry) => assert_eq!(dry.change.subject_ids().len(), rows, "every row has its ID once planned"),
            Err(e) => refused_as_input(&import::with_line("input.csv", &lines, e)),
        }
    })
});
