-- sqlite3 side of the migration benchmark: the same two CSV files, staged with .import and
-- inserted with INSERT ... SELECT into the schema dms runs on (dumped from a database that
-- `dms init` made: same tables, keys and indexes), in one transaction. Each user's house is its
-- participant's, as dms derives it. Run from the data directory: sqlite3 DB < import.sql
BEGIN;
CREATE TEMP TABLE stage_p (id TEXT, name TEXT, house TEXT, max_users TEXT, domains TEXT);
CREATE TEMP TABLE stage_u (participant TEXT, user_id TEXT, surname TEXT, other_names TEXT, email TEXT,
                           role TEXT, srn TEXT, certificate_expiry TEXT, pin_phc TEXT);
.import --csv --skip 1 --schema temp participants.csv stage_p
.import --csv --skip 1 --schema temp users.csv stage_u
CREATE INDEX temp.stage_p_id ON stage_p (id);
INSERT INTO participants (participant_id, name, house, max_users, domains, created_at)
  SELECT upper(id), upper(name), house, CAST(max_users AS INTEGER), domains, '2026-11-23T02:01:00Z' FROM stage_p;
INSERT INTO users (user_id, participant_id, house, role, surname, other_names, email, srn, cert_expiry, pin_phc, created_at)
  SELECT upper(u.user_id), upper(u.participant), p.house, u.role, u.surname, u.other_names, nullif(u.email, ''),
         upper(u.srn), u.certificate_expiry, nullif(u.pin_phc, ''), '2026-11-23T02:01:00Z'
  FROM stage_u u JOIN stage_p p ON p.id = u.participant;
INSERT INTO credentials (user_id) SELECT upper(user_id) FROM stage_u;
COMMIT;
