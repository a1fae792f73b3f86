//! The settings table: timeline dates, service hours, mail transport, request expiry.

use rusqlite::{Connection, OptionalExtension};

/// Keys and their defaults. `test-clock` is set once by `dms init` and cannot be changed.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("launch-date", "2023-06-12"),
    ("decommission-date", "2023-09-04"),
    ("service-hours", "on"),
    ("mail", "file:dms-outbox.mbox"),
    ("mail-from", "CCASS <noreply_pt@dms.invalid>"),
    ("mail-from-eservice", "HKEX Client Connect <noreply_connect@dms.invalid>"),
    ("request-expiry-hours", "72"),
    ("notifications", "on"),
    ("test-clock", "off"),
];

pub fn get(c: &Connection, key: &str) -> anyhow::Result<Option<String>> {
    Ok(c.prepare_cached("SELECT value FROM settings WHERE key = ?1")?.query_row([key], |r| r.get(0)).optional()?)
}

/// The value, or its default.
pub fn get_or_default(c: &Connection, key: &str) -> anyhow::Result<String> {
    if let Some(v) = get(c, key)? {
        return Ok(v);
    }
    Ok(DEFAULTS.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string()).unwrap_or_default())
}

pub fn set(c: &Connection, key: &str, value: &str) -> anyhow::Result<()> {
    c.prepare_cached(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([key, value])?;
    Ok(())
}

pub fn all(c: &Connection) -> anyhow::Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, _) in DEFAULTS {
        out.push((k.to_string(), get_or_default(c, k)?));
    }
    let mut stmt = c.prepare_cached("SELECT key, value FROM settings ORDER BY key")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (k, v) = row?;
        if !out.iter().any(|(ok, _)| *ok == k) {
            out.push((k, v));
        }
    }
    Ok(out)
}

/// The account gate's policy: service hours on or off, the holidays, and the timeline.
pub fn policy(c: &Connection) -> anyhow::Result<crate::domain::gate::Policy> {
    Ok(crate::domain::gate::Policy {
        service_hours: get_or_default(c, "service-hours")? == "on",
        holidays: super::calendar::holidays(c)?,
        timeline: timeline(c)?,
    })
}

/// The 2FA launch and smartcard decommissioning dates.
pub fn timeline(c: &Connection) -> anyhow::Result<crate::domain::gate::Timeline> {
    let date = |key: &str| -> anyhow::Result<chrono::NaiveDate> {
        let v = get_or_default(c, key)?;
        chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d")
            .map_err(|_| anyhow::anyhow!("setting {key} {v:?} is not a date"))
    };
    Ok(crate::domain::gate::Timeline { launch: date("launch-date")?, decommission: date("decommission-date")? })
}
