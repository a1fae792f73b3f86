-- sqlite3 side of the bulk e-mail registration: stage the same CSV and UPDATE ... FROM it, in
-- one transaction. Run from the data directory: sqlite3 DB < bulk.sql
BEGIN;
CREATE TEMP TABLE staging (user_id TEXT PRIMARY KEY, email TEXT NOT NULL);
.import --csv --skip 1 --schema temp emails_full.csv staging
UPDATE users SET email = s.email, version = users.version + 1 FROM staging s WHERE users.user_id = s.user_id;
COMMIT;
