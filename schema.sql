-- dms schema: migration 1.
-- Applied by `Store::open` through rusqlite_migration (PRAGMA user_version). Later changes are
-- new numbered migrations in src/storage/mod.rs, never edits of this file once released.
-- Times are RFC 3339 UTC text ("2026-11-22T02:00:00Z"), dates are ISO "YYYY-MM-DD".
-- Secrets: only argon2id PHC strings (passwords, smartcard PINs), keyed hashes (e-mail OTPs,
-- session tokens) and the AEAD-sealed TOTP key; the sealing key lives outside the database.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- A participant (organisation) of a clearing house.
CREATE TABLE participants (
    participant_id TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    house          TEXT NOT NULL CHECK (house IN ('hkscc-cp', 'hkscc-db', 'hkcc', 'seoch')),
    max_users      INTEGER NOT NULL CHECK (max_users >= 0),
    domains        TEXT NOT NULL DEFAULT '',   -- space-separated corporate e-mail domains
    created_at     TEXT NOT NULL
) STRICT;

-- User profiles (seed 4.3, Appendix A/D). participant_id is NULL for the exchange's own
-- (INTERNAL) accounts: operators and auditors.
CREATE TABLE users (
    user_id        TEXT PRIMARY KEY,
    participant_id TEXT REFERENCES participants (participant_id),
    role           TEXT NOT NULL CHECK (role IN ('user', 'maker', 'checker', 'operator', 'auditor')),
    status         TEXT NOT NULL DEFAULT 'ENABLED' CHECK (status IN ('ENABLED', 'DISABLED')),
    surname        TEXT NOT NULL,
    other_names    TEXT NOT NULL,
    email          TEXT,
    enable_from    TEXT,
    disable_after  TEXT,
    channel        TEXT NOT NULL DEFAULT 'CST' CHECK (channel IN ('CST', 'PG')),
    limit_cents    INTEGER NOT NULL DEFAULT 0 CHECK (limit_cents BETWEEN 0 AND 999999999999),
    groups         TEXT NOT NULL DEFAULT '',   -- space-separated user-group codes
    srn            TEXT,                       -- smartcard serial (smartcard era only)
    cert_expiry    TEXT,
    pin_phc        TEXT,                       -- argon2 PHC of the smartcard PIN
    created_at     TEXT NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1  -- bumped by every profile change (stale requests)
) STRICT;
CREATE INDEX users_by_participant ON users (participant_id, user_id);

-- The authenticator state of a user, one row per user.
CREATE TABLE credentials (
    user_id         TEXT PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    password_phc    TEXT,
    password_set_at TEXT,
    otp_channel     TEXT CHECK (otp_channel IN ('app', 'email')),
    otp_confirmed   INTEGER NOT NULL DEFAULT 0,  -- 1 once 2FA is initialised
    totp_key        BLOB,                        -- nonce || XChaCha20-Poly1305 ciphertext
    totp_last_step  INTEGER,                     -- last accepted TOTP step (no replay)
    locked_at       TEXT,
    failures        TEXT NOT NULL DEFAULT '',    -- consecutive failed sign-ins (RFC 3339, ' ')
    otp_misses      INTEGER NOT NULL DEFAULT 0,  -- consecutive wrong OTPs (3 = 1 failure)
    last_login_at   TEXT
) STRICT;

-- IDs of deleted users: never handed out again.
CREATE TABLE retired_user_ids (
    user_id        TEXT PRIMARY KEY,
    participant_id TEXT,
    retired_at     TEXT NOT NULL
) STRICT;

-- The one outstanding e-mail OTP of a user (keyed hash only).
CREATE TABLE email_otps (
    user_id   TEXT PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    code_hash BLOB NOT NULL,
    issued_at TEXT NOT NULL,
    requested INTEGER NOT NULL,  -- 1 when asked for by `otp request` (throttled)
    used_at   TEXT
) STRICT;

-- Signed-in sessions: only the SHA-256 of the random token is kept.
CREATE TABLE sessions (
    token_hash   BLOB PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at     TEXT,
    end_reason   TEXT
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id) WHERE ended_at IS NULL;

-- Maker-checker requests (seed Appendix A e-f, 5.1).
CREATE TABLE requests (
    request_id     INTEGER PRIMARY KEY,
    participant_id TEXT NOT NULL REFERENCES participants (participant_id),
    kind           TEXT NOT NULL,
    payload        TEXT NOT NULL,   -- JSON: the proposed change
    maker          TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'PENDING'
                   CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'CANCELLED', 'EXPIRED')),
    checker        TEXT,
    decided_at     TEXT,
    reason         TEXT
) STRICT;
CREATE INDEX requests_by_participant ON requests (participant_id, status, request_id);

-- The users a request is about, with the profile version seen at submission.
CREATE TABLE request_subjects (
    request_id INTEGER NOT NULL REFERENCES requests (request_id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    version    INTEGER,          -- NULL for a profile that does not exist yet (create)
    PRIMARY KEY (request_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX request_subjects_by_user ON request_subjects (user_id);

-- Exchange eServices: DA3 (DA maintenance) and DA4 (additional user accounts).
CREATE TABLE eservices (
    reference      TEXT PRIMARY KEY,   -- DA3_00000001, DA4_00000001
    form           TEXT NOT NULL CHECK (form IN ('DA3', 'DA4')),
    participant_id TEXT NOT NULL,
    action         TEXT NOT NULL,
    subject        TEXT,
    accounts       INTEGER,
    fee_cents      INTEGER,
    status         TEXT NOT NULL DEFAULT 'Completed',
    processed_by   TEXT NOT NULL,
    processed_at   TEXT NOT NULL
) STRICT;

CREATE TABLE holidays (
    day  TEXT PRIMARY KEY,  -- YYYY-MM-DD, Hong Kong calendar
    name TEXT NOT NULL DEFAULT ''
) STRICT;

-- Append-only, hash-chained audit trail (SPEC §7). hash = SHA-256(prev_hash || row).
CREATE TABLE audit (
    seq            INTEGER PRIMARY KEY,
    at             TEXT NOT NULL,
    actor          TEXT,
    action         TEXT NOT NULL,
    subject        TEXT,
    participant_id TEXT,
    detail         TEXT NOT NULL DEFAULT '',
    prev_hash      BLOB NOT NULL,
    hash           BLOB NOT NULL
) STRICT;
CREATE INDEX audit_by_time ON audit (at);
