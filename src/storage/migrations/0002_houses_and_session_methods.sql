-- dms schema: migration 2.
-- 1. One firm is often a participant of both HKCC and SEOCH under the same customer code
--    (SPEC §1): a participant is now keyed by (participant_id, house), and the users, requests
--    and eServices that belong to one name both. Tables are rebuilt (SQLite's 12-step ALTER);
--    the migration runs with foreign keys off and ends with a foreign-key check.
-- 2. A session remembers how it was opened (2FA or smartcard), so every command re-checks
--    what the timeline allows that method.

CREATE TABLE participants_new (
    participant_id TEXT NOT NULL,
    house          TEXT NOT NULL CHECK (house IN ('hkscc-cp', 'hkscc-db', 'hkcc', 'seoch')),
    name           TEXT NOT NULL,
    max_users      INTEGER NOT NULL CHECK (max_users >= 0),
    domains        TEXT NOT NULL DEFAULT '',   -- space-separated corporate e-mail domains
    created_at     TEXT NOT NULL,
    PRIMARY KEY (participant_id, house)
) STRICT, WITHOUT ROWID;
INSERT INTO participants_new (participant_id, house, name, max_users, domains, created_at)
    SELECT participant_id, house, name, max_users, domains, created_at FROM participants;
DROP TABLE participants;
ALTER TABLE participants_new RENAME TO participants;

CREATE TABLE users_new (
    user_id        TEXT PRIMARY KEY,
    participant_id TEXT,
    house          TEXT,
    role           TEXT NOT NULL CHECK (role IN ('user', 'maker', 'checker', 'operator', 'auditor')),
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
    SELECT u.user_id, u.participant_id, p.house, u.role, u.status, u.surname, u.other_names, u.email,
           u.enable_from, u.disable_after, u.channel, u.limit_cents, u.groups, u.srn, u.cert_expiry,
           u.pin_phc, u.created_at, u.version
    FROM users u LEFT JOIN participants p USING (participant_id);
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_by_participant ON users (participant_id, house, user_id);

CREATE TABLE requests_new (
    request_id     INTEGER PRIMARY KEY,
    participant_id TEXT NOT NULL,
    house          TEXT NOT NULL,
    kind           TEXT NOT NULL,
    payload        TEXT NOT NULL,
    maker          TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'PENDING'
                   CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'CANCELLED', 'EXPIRED')),
    checker        TEXT,
    decided_at     TEXT,
    reason         TEXT,
    FOREIGN KEY (participant_id, house) REFERENCES participants (participant_id, house)
) STRICT;
INSERT INTO requests_new
    SELECT r.request_id, r.participant_id, p.house, r.kind, r.payload, r.maker, r.created_at,
           r.expires_at, r.status, r.checker, r.decided_at, r.reason
    FROM requests r JOIN participants p USING (participant_id);
DROP TABLE requests;
ALTER TABLE requests_new RENAME TO requests;
CREATE INDEX requests_by_participant ON requests (participant_id, house, status, request_id);

ALTER TABLE eservices ADD COLUMN house TEXT;
UPDATE eservices SET house = (SELECT p.house FROM participants p WHERE p.participant_id = eservices.participant_id);

ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT '2fa' CHECK (method IN ('2fa', 'smartcard'));
