//! Sessions (SPEC §3): 15 minutes idle, 8 hours absolute; every use refreshes the idle timer.

use crate::support::*;

#[test]
fn active_use_keeps_a_session_alive_and_15_idle_minutes_end_it() {
    let mut d = Dms::ready();
    assert_eq!(d.login_app(None, OPERATOR, PASSWORD, &op_secret()).code, 0);
    for _ in 0..3 {
        d.advance(mins(10));
        let who = d.ok(&["whoami"], None);
        assert_eq!(who["user_id"], OPERATOR, "at {}", d.now);
    }
    d.advance(mins(15));
    let msg = d.fails(3, &["whoami"], None);
    assert!(msg.contains("expired") && msg.contains("idle"), "{msg}");
    assert_eq!(d.sql("SELECT count(*) FROM sessions WHERE end_reason = '15 minutes idle'"), "1");
}

#[test]
fn a_session_ends_after_8_hours_even_with_activity() {
    let mut d = Dms::ready();
    assert_eq!(d.login_app(None, OPERATOR, PASSWORD, &op_secret()).code, 0);
    // A working day of commands, one every few minutes, would leave the session last used
    // at 17:59; say so directly rather than run a hundred commands.
    d.sql_write(
        "UPDATE sessions SET last_seen_at = '2026-11-23T09:59:00Z' \
         WHERE user_id = 'HKEXOP01' AND created_at = '2026-11-23T02:00:00Z'",
    );
    d.at("2026-11-23T17:59:59+08:00");
    assert_eq!(d.ok(&["whoami"], None)["user_id"], OPERATOR);
    d.at("2026-11-23T18:00:00+08:00");
    let msg = d.fails(3, &["whoami"], None);
    assert!(msg.contains("expired") && msg.contains("8-hour"), "{msg}");
}
