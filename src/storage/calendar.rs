//! Public holidays (Hong Kong calendar), which close the terminal and DMS.

use chrono::NaiveDate;
use rusqlite::{params, Connection};
use std::collections::HashSet;

pub fn holidays(c: &Connection) -> anyhow::Result<HashSet<NaiveDate>> {
    let mut stmt = c.prepare_cached("SELECT day FROM holidays")?;
    let days = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = HashSet::new();
    for d in days {
        let d = d?;
        out.insert(
            NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| anyhow::anyhow!("bad holiday {d:?} in database"))?,
        );
    }
    Ok(out)
}

pub fn list(c: &Connection) -> anyhow::Result<Vec<(String, String)>> {
    let mut stmt = c.prepare_cached("SELECT day, name FROM holidays ORDER BY day")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Returns false when the day was already there.
pub fn add(c: &Connection, day: NaiveDate, name: &str) -> anyhow::Result<bool> {
    Ok(c.prepare_cached("INSERT OR IGNORE INTO holidays (day, name) VALUES (?1, ?2)")?
        .execute(params![day.to_string(), name])?
        > 0)
}

/// Returns false when there was no such day.
pub fn remove(c: &Connection, day: NaiveDate) -> anyhow::Result<bool> {
    Ok(c.prepare_cached("DELETE FROM holidays WHERE day = ?1")?.execute([day.to_string()])? > 0)
}
