//! Benchmark helper: grow the audit trail of an existing dms database to a given number of
//! rows, quickly and validly, for timing `dms audit verify` (benches/run.sh).
//!
//!     cargo run --release --example mk_audit -- DB ROWS
//!
//! The rows go through `dms::storage::audit::append`, the function every command uses, so the
//! chain is the real one, keyed with the database's audit key (opened with the key file beside
//! it, or created as a command would on a database from before the keyed chain); all of them in
//! one write transaction. They look like years of
//! sign-ins and maintenance: actors and subjects are users of the database, times advance a few
//! seconds per row. Deterministic (a fixed xorshift seed), so two runs give the same trail.

use chrono::{DateTime, Duration, Utc};
use dms::crypto::{MasterKey, SecureRng};
use dms::ops::work::key_path;
use dms::storage::{audit, Store};
use std::path::PathBuf;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(db), Some(rows)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: mk_audit DB ROWS (grows the audit trail of DB to ROWS rows)");
    };
    let db = PathBuf::from(db);
    let target: i64 = rows.parse()?;
    let mut store = Store::open(&db)?;
    let users: Vec<(String, Option<String>)> = {
        let mut stmt = store.conn().prepare("SELECT user_id, participant_id FROM users ORDER BY user_id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    anyhow::ensure!(!users.is_empty(), "{}: no users to act", db.display());
    let (have, last_at): (i64, Option<String>) =
        store.conn().query_row("SELECT COUNT(*), MAX(at) FROM audit", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut now: DateTime<Utc> = match last_at {
        Some(t) => DateTime::parse_from_rfc3339(&t)?.with_timezone(&Utc),
        None => Utc::now(),
    };
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    const ACTIONS: &[(&str, &str)] = &[
        ("signin.login", r#"{"channel":"app","session":"opened"}"#),
        ("signin.login", r#"{"channel":"email","session":"opened"}"#),
        ("signin.logout", r#"{"session_was_open":true}"#),
        ("signin.failed", r#"{"factor":"password","step":"login","failures":1}"#),
        ("otp.requested", r#"{"channel":"email","requested":true}"#),
        ("password.changed", r#"{"sessions_ended":0}"#),
        ("user.changed", r#"{"request_id":1,"change":{"email":{"before":null,"after":"someone@example.com.hk"}}}"#),
        ("request.submitted", r#"{"request_id":1,"kind":"change-user","subjects":1,"summary":"change: email"}"#),
    ];
    let tx = store.write()?;
    let key = audit::key(&tx, &MasterKey::load(&key_path(&db))?, &mut SecureRng::os())?;
    let mut n = have;
    while n < target {
        now += Duration::seconds(1 + rng.below(5) as i64);
        let (user, participant) = &users[rng.below(users.len())];
        let (action, detail) = ACTIONS[rng.below(ACTIONS.len())];
        audit::append(
            &tx,
            now,
            &key,
            &audit::Event {
                actor: Some(user),
                action,
                subject: Some(user),
                participant_id: participant.as_deref(),
                detail: detail.to_string(),
            },
            Some(r#"{"transport":"unix","uid":1001,"user":"da"}"#),
        )?;
        n += 1;
    }
    tx.commit()?;
    println!("{{\"audit_rows\": {n}, \"added\": {}}}", n - have);
    Ok(())
}
