//! `dms hkex import-smartcard-users FILE`: the fuzz input is the file; the import runs as the
//! exchange operator against the demo participant B01234, HKABC (in both HKCC and SEOCH),
//! BNK999 and the three-user C00001, in a transaction that is rolled back. Besides never
//! panicking: an accepted file imports each row as a user of one of its participants; a
//! refused one is refused as bad input (exit 5/6/7) with escaped messages.

#![no_main]

use dms::ops::migration;
use dms::storage::participants;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dms_fuzz::migrate(data, |work, op, file| {
        let total = |work: &dms::ops::work::Work<'_>| -> anyhow::Result<i64> {
            let mut n = 0;
            for p in participants::list(&work.tx)? {
                n += participants::counts(&work.tx, &p.key)?.total;
            }
            Ok(n)
        };
        let before = total(work)?;
        let done = migration::import_smartcard_users(work, op, file, &mut |_| {})?;
        assert!(done.rows > 0 && done.participants > 0 && done.participants <= done.rows);
        assert_eq!(total(work)?, before + done.rows as i64, "one user per row");
        Ok(())
    })
});
