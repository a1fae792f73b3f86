#!/usr/bin/env bash
# A day in the life (issue 17): one database taken through an exchange's day by dms itself, and
# the one-row figures measured in place after each step, on the state dms leaves, each beside the
# sqlite3 shell doing the same query on the same file. Nothing but dms touches the file between
# its steps (no checkpoint, sync, vacuum or copy by another tool: even the history growth at
# the end goes through dms's own storage functions, examples/mk_audit.rs and mk_sessions.rs).
# Measured, never asserted: the script prints the table and exits 0 even when a bar is missed
# (it fails only when a step fails).
#
#   CARGO_TARGET_DIR=/tmp/bench-target benches/day.sh
#   BENCH_OUT=/tmp/x QUICK_RUNS=5 RUNS=2 AUDIT_ROWS=200000 SESSION_ROWS=100000 benches/day.sh
#   NO_BUILD=1 benches/day.sh      # the binaries already in $CARGO_TARGET_DIR, as they are
#
# The day (Monday 23 Nov 2026, Hong Kong time, DMS_NOW pinned on a test-clock database):
#   10:00  `dms init --allow-test-clock`, the operator's first-time logon; the 2FA launch set for
#          the next day (common.sh before_launch: an import brings DAs in only before it);
#   10:01  the migration: `hkex participant import` + `hkex import-smartcard-users` (1,500
#          participants, 100,000 users from benches/gen_data.py) in place, timed once, its
#          peak RSS; beside it, hyperfine on fresh copies of the 10:00 file (prepared files:
#          the only copies made) vs sqlite3 .import + INSERT ... SELECT (benches/sql/import.sql,
#          as run.sh a): bar <= 1.5x; then the launch back to its default (after_launch);
#   10:02  figures 1: the operator signs in (password + TOTP), then `user enquire`, `listing
#          --participant` (the median participant), `whoami` and `request list --participant`
#          (the full participant), each vs sqlite3 on the same file: bar <= 1.5x;
#   10:03  the full participant's DA maker and checker: first-time logons;
#   10:04  bulk e-mail registration of the full participant (1,269 rows, emails_full.csv),
#          authorised inline by the checker (password + TOTP), timed once;
#   10:05  figures 2;
#   10:06  30 change requests (`user change --email`) by the maker, then their approval one by
#          one (`request approve ID`, the checker's password and TOTP), each at the next 30-s
#          step (a TOTP code is good once per step and user): 10:06:30 .. 10:21:00;
#   10:22  figures 3; the exchange-wide `listing --all --format csv` vs `sqlite3 -csv`: bar <= 1.2x;
#   10:23  SIGNIN_USERS business users: first-time logons, then SIGNIN_EACH sign-ins each
#          (password + TOTP), all users at once, each sign-in 30 s after its last (as run.sh g);
#   10:37  figures 4;
#          history: the audit trail grown to AUDIT_ROWS rows (examples/mk_audit.rs, through
#          dms::storage::audit::append), SESSION_ROWS ended sessions of the past year
#          (examples/mk_sessions.rs, through dms::storage::sessions::insert and end, in dms's
#          own Store: no dms command makes a session without a sign-in, and 3,000,000 sign-ins
#          would take a day);
#   10:38  figures 5, and whoami against figures 1.
# After every step the sizes of dms.db and dms.db-wal are written down.
#
# The sqlite3 side reads with `sqlite3 -readonly`: a read-only connection never checkpoints the
# write-ahead log or deletes it when it closes, so measuring sqlite3 leaves the file's state as
# dms left it (a read-write shell, as the last connection, would checkpoint the log into the
# database and remove it). The script runs under umask 077, so that no file another tool might
# make beside the database is readable by others (dms refuses such a companion file).
# Everything lives under $BENCH_OUT (default /tmp/dms-bench-day), never in the repository.
set -euo pipefail
umask 077

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${BENCH_OUT:-/tmp/dms-bench-day}
RUNS=${RUNS:-5}                    # runs of the long figures (migration, listing --all)
QUICK_RUNS=${QUICK_RUNS:-30}       # runs of each one-row figure
REQUESTS=${REQUESTS:-30}           # change requests queued and approved (at most 30: 10:06-10:21)
SIGNIN_USERS=${SIGNIN_USERS:-8}    # users signing in side by side
SIGNIN_EACH=${SIGNIN_EACH:-25}     # sign-ins of each (at most 26: 10:23-10:36)
AUDIT_ROWS=${AUDIT_ROWS:-10000000}
SESSION_ROWS=${SESSION_ROWS:-3000000}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
DMS=$TARGET/release/dms
MK_AUDIT=$TARGET/release/examples/mk_audit
MK_SESSIONS=$TARGET/release/examples/mk_sessions
PW='Bench-Passw0rd!2026(HK)'
DAYDATE=2026-11-23
at() { local t=$1; [ ${#t} = 5 ] && t=$t:00; echo "${DAYDATE}T$t+08:00"; }   # at HH:MM[:SS]: the day's time, HKT
export NO_COLOR=1
unset DMS_DB DMS_SESSION DMS_FORMAT DMS_SEED DMS_SERVER DMS_CA_FILE

. "$ROOT/benches/common.sh"
[ "$REQUESTS" -le 30 ] && [ "$SIGNIN_EACH" -le 26 ] || { echo "REQUESTS <= 30, SIGNIN_EACH <= 26 (the day's clock)" >&2; exit 2; }

# --- 0. tools and build -----------------------------------------------------------------------
need_tools hyperfine sqlite3 oathtool time xxd
if [ -z "${NO_BUILD:-}" ]; then
    say "cargo build --release"
    (cd "$ROOT" && cargo build --release --bin dms --example mk_audit --example mk_sessions --example argon2_verify)
fi

fresh_out
FULL=$(meta full_participant); MAKER=$(meta maker); CHECKER=$(meta checker); SAMPLE=$(meta sample_user)
TYPICAL=$(meta typical_participant); TYPICAL_USERS=$(meta typical_users)
printf '%s\n' "$PW" > "$OUT/pw"
R=$OUT/results
DAY=$OUT/day           # the day's database: DAY/dms.db
DB=$DAY/dms.db
HF=(hyperfine --style basic)

# sizes LABEL: the database file and its write-ahead log, as they are now.
sizes() {
    printf '%s\t%s\t%s\n' "$1" "$(stat -c %s "$DB")" "$(stat -c %s "$DB-wal" 2>/dev/null || echo -)" >> "$R/sizes.tsv"
}
# timed NAME CMD...: runs CMD once, in place; its wall time (seconds) into $R/NAME.s
timed() {
    local name=$1; shift
    local t0=$EPOCHREALTIME
    "$@"
    local t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }' > "$R/$name.s"
}
# totp USER TIME: USER's authenticator code at TIME
totp() { oathtool --totp -b "$(cat "$DAY/$1.secret")" --now "$(utc "$2")"; }
ro() { sqlite3 -readonly "$DB" "$@"; }  # a check that leaves the file as it is

# The sqlite3 side's queries: run.sh's (b, c), on the same columns.
# HKT, COLS, LIST_ALL: the listing's columns as dms writes them (common.sh).
ENQ="SELECT u.*, c.locked_at, c.otp_channel, c.otp_confirmed, p.name, p.house FROM users u JOIN credentials c USING (user_id) LEFT JOIN participants p USING (participant_id) WHERE u.user_id = '$SAMPLE'"
LIST_ONE="SELECT $COLS FROM users u JOIN credentials c USING (user_id) WHERE u.participant_id = '$TYPICAL' ORDER BY u.participant_id, u.user_id; \
SELECT max_users, (SELECT COUNT(*) FROM users WHERE participant_id = '$TYPICAL'), (SELECT COUNT(*) FROM users WHERE participant_id = '$TYPICAL' AND role IN ('maker', 'checker')) FROM participants WHERE participant_id = '$TYPICAL'"
REQ="SELECT request_id, participant_id, kind, payload, maker, strftime($HKT, created_at, '+8 hours'), strftime($HKT, expires_at, '+8 hours'), status, checker, decided_at, reason FROM requests WHERE participant_id = '$FULL' ORDER BY request_id DESC"

# figures N TIME: the operator signs in at TIME (a fresh session: the day's gaps outlast the
# 15-minute idle limit), then each one-row command vs sqlite3 on the same file, in place.
figures() {
    local n=$1 now=$2 hash who
    export DMS_NOW=$now
    "$DMS" --db "$DB" --format json login --user HKEXOP01 --password-stdin --otp "$(totp HKEXOP01 "$now")" < "$OUT/pw" >/dev/null
    say "figures $n ($now): user enquire, listing --participant, whoami, request list vs sqlite3"
    # whoami's own read: the session row by its token's SHA-256 and the account behind it.
    hash=$(sed -n 's/^token=//p' "$DB.session" | xxd -r -p | sha256sum | cut -c1-64)
    who="SELECT s.user_id, s.created_at, s.last_seen_at, s.ended_at IS NOT NULL, s.method, u.role, u.status, u.enable_from, u.disable_after, c.locked_at FROM sessions s JOIN users u USING (user_id) JOIN credentials c USING (user_id) WHERE s.token_hash = X'$hash'"
    [ "$(ro "SELECT user_id FROM sessions WHERE token_hash = X'$hash'")" = HKEXOP01 ]
    "$DMS" --db "$DB" --format json user enquire "$SAMPLE" | grep -q "\"$SAMPLE\""
    [ "$("$DMS" --db "$DB" --format csv listing --participant "$TYPICAL" | wc -l)" = $((TYPICAL_USERS + 1)) ]
    # one FIGURE DMS_COMMAND SQLITE3_COMMAND: both sides, the same file, in place.
    one() { "${HF[@]}" -N --runs "$QUICK_RUNS" --warmup 3 --export-json "$R/f${n}_$1.json" -n dms "$2" -n sqlite3 "$3"; }
    one enquire "$DMS --db $DB --format json user enquire $SAMPLE" "sqlite3 -readonly -json $DB \"$ENQ\""
    one listing "$DMS --db $DB --format csv listing --participant $TYPICAL" "sqlite3 -readonly -csv -header $DB \"$LIST_ONE\""
    one whoami "$DMS --db $DB whoami" "sqlite3 -readonly $DB \"$who\""
    one requests "$DMS --db $DB --format csv request list --participant $FULL" "sqlite3 -readonly -csv -header $DB \"$REQ\""
    ro "SELECT COUNT(*) FROM requests WHERE participant_id = '$FULL'" > "$R/f${n}_requests_n"
    sizes "figures $n"
}

# --- 10:00 init and the operator's first-time logon -------------------------------------------
say "10:00 init, the operator's first-time logon"
make_base "$DAY" "$(at 10:00)"
before_launch "$DAY"
sizes "init + operator logon"

# --- 10:01 the migration ----------------------------------------------------------------------
export DMS_NOW=$(at 10:01)
say "10:01 migration: hyperfine on prepared copies of the 10:00 file vs sqlite3, then in place"
STEP0=$OUT/step0; cp -a "$DAY" "$STEP0"     # the prepared files' source (the day's file untouched)
sqlite3 -readonly "$STEP0/dms.db" .schema | grep -v '^CREATE TABLE sqlite_sequence' > "$OUT/schema_now.sql"
mkdir -p "$OUT/sq"
# Each prepare fsyncs the copy's own files (`sync FILE`), not the whole system: the day's file
# keeps whatever dms left unwritten.
(cd "$DATA" && "${HF[@]}" --runs "$RUNS" --export-json "$R/migration.json" \
    --prepare "rm -rf '$OUT/mig' && cp -a '$STEP0' '$OUT/mig' && sync '$OUT/mig/'*" \
    -n dms "'$DMS' --db '$OUT/mig/dms.db' hkex participant import participants.csv >/dev/null && '$DMS' --db '$OUT/mig/dms.db' hkex import-smartcard-users users.csv >/dev/null" \
    --prepare "rm -f '$OUT/sq/mig.db'* && sqlite3 '$OUT/sq/mig.db' < '$OUT/schema_now.sql' && sqlite3 '$OUT/sq/mig.db' 'PRAGMA journal_mode=WAL' >/dev/null && sync '$OUT/sq/'mig.db*" \
    -n sqlite3 "sqlite3 '$OUT/sq/mig.db' < '$ROOT/benches/sql/import.sql'")
[ "$(sqlite3 "$OUT/sq/mig.db" "SELECT COUNT(*) FROM users")" = 100000 ] || { echo "sqlite3 import incomplete" >&2; exit 1; }
rm -rf "$OUT/mig" "$OUT/sq"
timed migration_inplace migrate "$DAY" "$R/migration_users.time"
[ "$(ro "SELECT COUNT(*) FROM users WHERE participant_id IS NOT NULL")" = 100000 ]
after_launch "$DAY"
sizes "migration"

# --- 10:02 figures 1 --------------------------------------------------------------------------
figures 1 "$(at 10:02)"

# --- 10:03 the DAs' first-time logons; 10:04 bulk e-mail registration -------------------------
say "10:03 the DA maker's and checker's first-time logons; 10:04 bulk e-mail registration"
first_logon "$DAY" "$MAKER" "$DAY/maker.session" "$(at 10:03)"
first_logon "$DAY" "$CHECKER" "$DAY/checker.session" "$(at 10:03)"
sizes "DA logons"
export DMS_NOW=$(at 10:04)
CODE=$(totp "$CHECKER" "$(at 10:04)")
bulk() {
    "$DMS" --db "$DB" --session "$DAY/maker.session" --format json user import-emails "$DATA/emails_full.csv" \
        --checker "$CHECKER" --otp "$CODE" --password-stdin < "$OUT/pw" > "$OUT/bulk.json"
}
timed bulk bulk
grep -q '"APPROVED"' "$OUT/bulk.json"
[ "$(ro "SELECT COUNT(*) FROM users WHERE participant_id = '$FULL' AND role = 'user' AND email IS NOT NULL")" = 1269 ]
sizes "bulk e-mails"

# --- 10:05 figures 2 --------------------------------------------------------------------------
figures 2 "$(at 10:05)"

# --- 10:06 change requests and their approval -------------------------------------------------
say "10:06 $REQUESTS change requests by $MAKER; their approval one by one by $CHECKER"
export DMS_NOW=$(at 10:06)
mapfile -t SUBJECTS < <(ro "SELECT user_id FROM users WHERE participant_id = '$FULL' AND role = 'user' ORDER BY user_id LIMIT $REQUESTS")
mkdir -p "$OUT/submitted"
submit_all() {
    local uid
    for uid in "${SUBJECTS[@]}"; do
        "$DMS" --db "$DB" --session "$DAY/maker.session" --format json user change "$uid" \
            --email "new.${uid,,}@${FULL,,}.example.com.hk" > "$OUT/submitted/$uid.json"
    done
}
timed submit submit_all
python3 - "$OUT/submitted" > "$OUT/request_ids" <<'EOF'
import json, os, sys
for f in sorted(os.listdir(sys.argv[1])):
    v = json.load(open(os.path.join(sys.argv[1], f)))
    assert v["status"] == "PENDING", v
    print(v["request_id"])
EOF
mapfile -t IDS < "$OUT/request_ids"
[ "${#IDS[@]}" = "$REQUESTS" ]
sizes "$REQUESTS requests queued"
# Approval i at 10:06 + 30*i s, with the checker's code of that step (computed before the timing).
APPROVALS=()
for i in "${!IDS[@]}"; do
    t=$(date -u -d "$(at 10:06) + $((30 * (i + 1))) seconds" '+%Y-%m-%dT%H:%M:%SZ')
    APPROVALS+=("${IDS[$i]} $t $(totp "$CHECKER" "$t")")
done
approve_all() {
    local a id t code
    for a in "${APPROVALS[@]}"; do
        read -r id t code <<< "$a"
        DMS_NOW=$t "$DMS" --db "$DB" --session "$DAY/checker.session" --format json request approve "$id" \
            --otp "$code" --password-stdin < "$OUT/pw" > /dev/null
    done
}
timed approve approve_all
[ "$(ro "SELECT COUNT(*) FROM requests WHERE request_id IN ($(IFS=,; echo "${IDS[*]}")) AND status = 'APPROVED'")" = "$REQUESTS" ]
sizes "$REQUESTS requests approved"

# --- 10:22 figures 3; the exchange-wide listing -----------------------------------------------
figures 3 "$(at 10:22)"
say "10:22 the exchange-wide listing as CSV vs sqlite3 -csv"
"$DMS" --db "$DB" --format csv listing --all > "$OUT/list_dms.csv"
sqlite3 -readonly -csv -header "$DB" "$LIST_ALL" > "$OUT/list_sqlite.csv"
python3 - "$OUT/list_dms.csv" "$OUT/list_sqlite.csv" <<'EOF'
import csv, sys
a, b = (list(csv.reader(open(p))) for p in sys.argv[1:3])
assert len(a) == 100001 and a == b, "dms and sqlite3 listings differ"
EOF
rm -f "$OUT/list_dms.csv" "$OUT/list_sqlite.csv"
"${HF[@]}" -N --runs "$RUNS" --warmup 1 --export-json "$R/listing_all.json" \
    -n dms "$DMS --db $DB --format csv listing --all" \
    -n sqlite3 "sqlite3 -readonly -csv -header $DB \"$LIST_ALL\""
sizes "listing --all"

# --- 10:23 sign-ins ---------------------------------------------------------------------------
mapfile -t SIGNERS < <(ro "SELECT user_id FROM users WHERE participant_id = '$TYPICAL' AND role = 'user' AND email IS NOT NULL ORDER BY user_id LIMIT $SIGNIN_USERS")
[ "${#SIGNERS[@]}" = "$SIGNIN_USERS" ] || { echo "not enough users in $TYPICAL to sign in" >&2; exit 1; }
say "10:23 ${#SIGNERS[@]} users: first-time logons, then $SIGNIN_EACH sign-ins each, side by side"
for u in "${SIGNERS[@]}"; do
    first_logon "$DAY" "$u" "$DAY/$u.session" "$(at 10:23)"
    : > "$OUT/$u.codes"
    for j in $(seq 1 "$SIGNIN_EACH"); do
        t=$(date -u -d "$(at 10:23) + $((30 * j)) seconds" '+%Y-%m-%dT%H:%M:%SZ')
        printf '%s %s\n' "$t" "$(totp "$u" "$t")" >> "$OUT/$u.codes"
    done
done
sizes "first-time logons"
signins() {
    local u
    rm -f "$OUT/signin.failed"
    for u in "${SIGNERS[@]}"; do
        ( while read -r t code; do
            DMS_NOW=$t "$DMS" --db "$DB" --session "$DAY/$u.session" --format json login --user "$u" \
                --password-stdin --otp "$code" < "$OUT/pw" > /dev/null || echo "FAILED: $u at $t" >> "$OUT/signin.failed"
          done < "$OUT/$u.codes" ) &
    done
    wait
}
timed signins signins
[ ! -e "$OUT/signin.failed" ] || { cat "$OUT/signin.failed" >&2; exit 1; }
sizes "$((SIGNIN_USERS * SIGNIN_EACH)) sign-ins"

# --- 10:37 figures 4 --------------------------------------------------------------------------
figures 4 "$(at 10:37)"

# --- history ----------------------------------------------------------------------------------
say "history: the audit trail grown to $AUDIT_ROWS rows (mk_audit), $SESSION_ROWS ended sessions (mk_sessions)"
ro "SELECT COUNT(*) FROM audit" > "$R/audit_rows_before"
timed grow_audit "$MK_AUDIT" "$DB" "$AUDIT_ROWS"
sizes "audit trail grown (mk_audit)"
# Ended sessions of the past year, through dms's own storage functions (examples/mk_sessions.rs).
grow_sessions() { "$MK_SESSIONS" "$DB" "$SESSION_ROWS" >&2; }
ro "SELECT COUNT(*) FROM sessions" > "$R/sessions_before"
timed grow_sessions grow_sessions
ro "SELECT COUNT(*) FROM sessions" > "$R/sessions_after"
ro "SELECT COUNT(*) FROM audit" > "$R/audit_rows_after"
sizes "sessions added (mk_sessions)"

# --- 10:38 figures 5 --------------------------------------------------------------------------
figures 5 "$(at 10:38)"

# --- table ------------------------------------------------------------------------------------
say "results (hyperfine JSON and timings in $R)"
python3 "$ROOT/benches/day_table.py" "$R" "$REQUESTS" "$SIGNIN_USERS" "$SIGNIN_EACH" | tee "$R/table.txt"
