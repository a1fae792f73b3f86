//! The `secrets` table: values that belong to the database but must not be usable without the
//! key file beside it. Each value is stored as its owner made it (sealed under the key file, or
//! authenticated by a key that is); this module only reads and writes them by name.

use rusqlite::{params, Connection, OptionalExtension};

/// The stored value of `name`, if there is one.
pub fn get(c: &Connection, name: &str) -> anyhow::Result<Option<Vec<u8>>> {
    Ok(c.prepare_cached("SELECT value FROM secrets WHERE name = ?1")?.query_row([name], |r| r.get(0)).optional()?)
}

/// Store `value` under `name`, replacing what was there (a re-sealing replaces the old form).
pub fn put(c: &Connection, name: &str, value: &[u8]) -> anyhow::Result<()> {
    c.prepare_cached("INSERT INTO secrets (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = ?2")?
        .execute(params![name, value])?;
    Ok(())
}
