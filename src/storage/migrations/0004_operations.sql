-- dms schema: migration 4 (operations).
-- Reminders sent by `hkex remind`: one row per user, kind, cycle and threshold, so a run from
-- cron sends each reminder once. The cycle is what a reminder is about: for `expiring`, the
-- time the password was set (a new password starts a new cycle); for `not-initialised`, the
-- registered address reminded (a new address gets its own reminder).

CREATE TABLE reminders (
    user_id   TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    kind      TEXT NOT NULL CHECK (kind IN ('expiring', 'not-initialised')),
    cycle     TEXT NOT NULL,
    threshold INTEGER NOT NULL,   -- days before the password expires; 0 for not-initialised
    sent_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, kind, cycle, threshold)
) STRICT, WITHOUT ROWID;
