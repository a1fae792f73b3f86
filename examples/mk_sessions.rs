//! Benchmark helper: add N ended sessions — a year of sign-ins — to an existing dms database,
//! for measuring that history does not slow `dms whoami` (benches/day.sh).
//!
//!     cargo run --release --example mk_sessions -- DB N
//!
//! The rows go through `dms::storage::sessions::insert` and `end`, the functions every sign-in
//! and sign-out uses, in one write transaction of dms's own `Store` (which keeps the log as dms
//! does when it closes), so the file is in the state dms leaves. Business users of the database
//! sign in at evenly spaced times over the year before the bench's clock, each session a
//! random token's hash, ended by a logout, the idle timeout or a new sign-in. Deterministic.

use chrono::{DateTime, Duration, Utc};
use dms::domain::gate::Method;
use dms::domain::user_id::UserId;
use dms::storage::{sessions, Store};
use sha2::{Digest as _, Sha256};
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(db), Some(n)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: mk_sessions DB N (adds N ended sessions to DB)");
    };
    let db = PathBuf::from(db);
    let n: u64 = n.parse()?;
    let mut store = Store::open(&db)?;
    let users: Vec<UserId> = {
        let mut stmt = store
            .conn()
            .prepare("SELECT user_id FROM users WHERE participant_id IS NOT NULL AND role = 'user' ORDER BY user_id")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|r| Ok(UserId::parse(&r?)?)).collect::<anyhow::Result<_>>()?
    };
    anyhow::ensure!(!users.is_empty(), "{}: no business users to sign in", db.display());
    let start: DateTime<Utc> = "2025-11-23T02:00:00Z".parse()?;
    let step = Duration::milliseconds(31_536_000_000 / n.max(1) as i64);
    let tx = store.write()?;
    for i in 0..n {
        let user = &users[(i as usize * 48_271) % users.len()];
        let at = start + step * i as i32;
        let token = Sha256::digest(format!("mk_sessions {i}").as_bytes());
        sessions::insert(&tx, &token, user, Method::TwoFactor, at)?;
        let (ended, reason) = match i % 4 {
            1 => (at + Duration::minutes(15), "15 minutes idle"),
            2 => (at + Duration::seconds((i % 900) as i64), "replaced by a new sign-in"),
            _ => (at + Duration::seconds((i % 900) as i64), "logout"),
        };
        sessions::end(&tx, &token, ended, reason)?;
    }
    tx.commit()?;
    println!("{{\"sessions_added\": {n}}}");
    Ok(())
}
