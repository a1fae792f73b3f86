-- dms schema: migration 3 (hardening).
-- 1. The audit chain becomes keyed: rows appended from now on carry an HMAC-SHA-256 under the
--    audit key (random, sealed under the key file, kept in `secrets`); rows written before
--    keep their SHA-256 links (alg 1) and keep verifying. How many legacy rows there are is
--    itself sealed, so the trail cannot be rewritten as legacy rows.
-- 2. An outbox for notifications that could not be delivered, to be retried.
-- 3. One-time-password requests for user IDs that have no account or no registered e-mail
--    address, so they are throttled exactly like real ones (no user enumeration).

ALTER TABLE audit ADD COLUMN alg INTEGER NOT NULL DEFAULT 1 CHECK (alg IN (1, 2));

-- Sealed values that belong to the database but must not be readable without the key file.
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

CREATE TABLE outbox (
    mail_id         INTEGER PRIMARY KEY,
    created_at      TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,   -- notifications only: never an OTP or another secret
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    last_error      TEXT,
    sent_at         TEXT
) STRICT;
CREATE INDEX outbox_unsent ON outbox (mail_id) WHERE sent_at IS NULL;

CREATE TABLE otp_requests_unmatched (
    user_id      TEXT PRIMARY KEY,
    requested_at TEXT NOT NULL
) STRICT;
