-- Schema 7 (issue 18 #1, issue 21 #1): a smartcard PIN is chosen by its holder. When the
-- exchange issues a card (`hkex smartcard issue`) or a PIN is reset (eService SCard 1 for a DA,
-- Smartcard Password Reset by the DAs for a user), dms mails the holder a one-time initial PIN
-- and keeps only its keyed hash here, beside no PIN at all in users.pin_phc; the holder's first
-- smartcard sign-in with it chooses the holder's own PIN (argon2id, users.pin_phc) and removes
-- the row. Nobody who issues or resets a card ever knows the PIN that then works.
CREATE TABLE initial_pins (
    user_id   TEXT PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    code_hash BLOB NOT NULL,   -- HMAC-SHA256 under the key file's key (like e-mail OTPs)
    issued_at TEXT NOT NULL,
    reason    TEXT NOT NULL CHECK (reason IN ('issued', 'reset'))
) STRICT;
