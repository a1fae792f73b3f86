//! The audit trail as someone who can write the database but cannot read the key file sees
//! it: the plain SHA-256 chain of the first dms (written here again, independently of the code
//! under test), to rewrite and forge rows, to make a trail from before the keyed chain, and
//! checkpoints saved from `audit verify`.

use super::run::World;
use rusqlite::{params, Connection};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `prev_hash` of row 1.
pub const GENESIS: [u8; 32] = [0; 32];

/// The link of the pre-keyed chain (alg 1): SHA-256 over the previous hash, the sequence
/// number (8 bytes, big-endian) and each field as 0 (NULL) or 1, an 8-byte big-endian length
/// and the bytes.
pub fn sha256_link(prev: &[u8], seq: i64, fields: [Option<&str>; 6]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(seq.to_be_bytes());
    for f in fields {
        match f {
            None => h.update([0u8]),
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
        }
    }
    h.finalize().into()
}

type Row = (i64, String, Option<String>, String, Option<String>, Option<String>, String);

impl World {
    /// The database, opened directly (no dms process may be running).
    fn connection(&self) -> Connection {
        Connection::open(self.path("dms.db")).expect("open dms.db")
    }

    /// Rewrite the links of every row from `from` to the end with plain SHA-256, as the first
    /// dms wrote them and as anyone can compute them without the key file (which had no `via`:
    /// it is cleared). `alg` is left alone.
    pub fn rechain_sha256(&self, from: i64) {
        let mut c = self.connection();
        let tx = c.transaction().expect("a transaction");
        let mut prev: Vec<u8> = tx
            .query_row("SELECT hash FROM audit WHERE seq < ?1 ORDER BY seq DESC LIMIT 1", [from], |r| r.get(0))
            .unwrap_or_else(|_| GENESIS.to_vec());
        let rows: Vec<Row> = {
            let mut s = tx
                .prepare(
                    "SELECT seq, at, actor, action, subject, participant_id, detail FROM audit WHERE seq >= ?1 ORDER BY seq",
                )
                .expect("prepare");
            let it = s
                .query_map([from], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
                })
                .expect("query");
            it.collect::<Result<_, _>>().expect("rows")
        };
        for (seq, at, actor, action, subject, participant, detail) in rows {
            let hash = sha256_link(
                &prev,
                seq,
                [Some(&at), actor.as_deref(), Some(&action), subject.as_deref(), participant.as_deref(), Some(&detail)],
            );
            tx.execute(
                "UPDATE audit SET prev_hash = ?1, hash = ?2, via = NULL WHERE seq = ?3",
                params![prev, hash.to_vec(), seq],
            )
            .expect("update");
            prev = hash.to_vec();
        }
        tx.commit().expect("commit");
    }

    /// Append a row linked with plain SHA-256 after the last one, with `alg`; returns its seq.
    pub fn forge_row(&self, action: &str, alg: i64) -> i64 {
        let c = self.connection();
        let (last, prev): (i64, Vec<u8>) = c
            .query_row("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap_or((0, GENESIS.to_vec()));
        let seq = last + 1;
        let at = "2026-11-23T02:30:00Z";
        let detail = r#"{"forged":true}"#;
        let hash = sha256_link(&prev, seq, [Some(at), Some("HKEXOP01"), Some(action), None, None, Some(detail)]);
        c.execute(
            "INSERT INTO audit (seq, at, actor, action, subject, participant_id, detail, prev_hash, hash, alg) \
             VALUES (?1, ?2, 'HKEXOP01', ?3, NULL, NULL, ?4, ?5, ?6, ?7)",
            params![seq, at, action, detail, prev, hash.to_vec(), alg],
        )
        .expect("insert the forged row");
        seq
    }

    /// Turn this database into one from before the keyed chain (schema 2): the tables of
    /// migrations 3 and 4 and the `alg` and `via` columns gone, every row linked with plain
    /// SHA-256. The next `dms` command migrates it again.
    pub fn make_pre_keyed(&self) {
        self.rechain_sha256(1);
        // The first dms's key file: without the mark that says the trail is keyed (a test
        // database keeps its test-clock mark, or no test could move its clock).
        let key = std::fs::read_to_string(self.path("dms.db.key")).expect("the key file");
        let kept: Vec<&str> = key.lines().filter(|l| !l.starts_with("audit-keyed ")).collect();
        std::fs::write(self.path("dms.db.key"), format!("{}\n", kept.join("\n"))).expect("rewrite the key file");
        self.sql_write(
            "DROP INDEX audit_by_subject; DROP TABLE initial_pins; DROP TABLE reminders; DROP TABLE secrets; DROP TABLE outbox; DROP TABLE otp_requests_unmatched; \
             ALTER TABLE audit DROP COLUMN via; ALTER TABLE audit DROP COLUMN alg; PRAGMA user_version = 2;",
        );
    }

    /// `audit verify`, saved as the checkpoint file `name`; returns its JSON.
    #[track_caller]
    pub fn checkpoint(&self, name: &str) -> Value {
        let r = self.run(&["audit", "verify"], None).ok();
        self.write(name, &r.stdout);
        r.json()
    }
}
