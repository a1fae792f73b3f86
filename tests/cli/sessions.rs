//! Sessions (SPEC §3): 15 minutes idle, 8 hours absolute; every use refreshes the idle timer.

use crate::harness::*;

#[test]
fn active_use_keeps_a_session_alive_and_15_idle_minutes_end_it() {
    let w = World::ready();
    w.login(OPERATOR).ok();
    for _ in 0..3 {
        w.advance(mins(10));
        let who = w.op(&["whoami"]).ok().json();
        assert_eq!(who["user_id"], OPERATOR, "at {}", w.now());
    }
    w.advance(mins(15));
    w.op(&["whoami"]).refused(Exit::Auth, &["expired", "idle"]);
    assert_eq!(w.sql("SELECT count(*) FROM sessions WHERE end_reason = '15 minutes idle'"), "1");
}

#[test]
fn a_session_ends_after_8_hours_even_with_activity() {
    let w = World::ready();
    w.login(OPERATOR).ok();
    // A working day of commands, one every few minutes, would leave the session last used
    // at 17:59; say so directly rather than run a hundred commands.
    w.sql_write(
        "UPDATE sessions SET last_seen_at = '2026-11-23T09:59:00Z' \
         WHERE user_id = 'HKEXOP01' AND created_at = '2026-11-23T02:00:00Z'",
    );
    w.at("2026-11-23T17:59:59+08:00");
    assert_eq!(w.op(&["whoami"]).ok().json()["user_id"], OPERATOR);
    w.at("2026-11-23T18:00:00+08:00");
    w.op(&["whoami"]).refused(Exit::Auth, &["expired", "8-hour"]);
}
