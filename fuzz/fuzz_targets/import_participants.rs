//! `dms hkex participant import FILE`: the fuzz input is the file; the import runs as the
//! exchange operator in a transaction that is rolled back. Besides never panicking: a file
//! it accepts adds exactly its rows as participants; one it refuses is refused as bad input
//! (exit 5/6/7) with escaped messages.

#![no_main]

use dms::ops::migration;
use dms::storage::participants;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dms_fuzz::migrate(data, |work, op, file| {
        let before = participants::list(&work.tx)?.len();
        let done = migration::import_participants(work, op, file, &mut |_| {})?;
        assert!(done.rows > 0, "an accepted file has rows");
        assert_eq!(participants::list(&work.tx)?.len(), before + done.rows, "one participant per row");
        Ok(())
    })
});
