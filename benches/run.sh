#!/usr/bin/env bash
# dms benchmarks (SPEC §9): each figure measured side by side with the sqlite3 shell doing the
# same work on the same data, in one run, and quoted as a ratio. Measured, never asserted:
# the script prints the table and exits 0 even when a target is missed.
#
#   benches/run.sh                 # everything: about 1-2 minutes after the build
#   BENCH_OUT=/tmp/x RUNS=3 benches/run.sh
#   SECTIONS=g RUSH_EACH=5 benches/run.sh   # only the morning rush (the data is built anyway)
#
# What it does:
#   0. installs hyperfine, sqlite3, oathtool and GNU time with apt-get if one is missing;
#   1. cargo build --release (the dms binary, examples/mk_audit.rs, examples/argon2_verify.rs);
#   2. benches/gen_data.py: 1,500 participants, 100,000 smartcard-era users (seeded);
#   3. a base database: `dms init --allow-test-clock --operator-email ...` and the operator's
#      first-time logon (e-mail OTP from the mbox, password, authenticator app via oathtool),
#      the 2FA launch set for the next day (an import brings DAs in only before it; the
#      launch goes back to its default once the 100k database is migrated);
#   4. measures, with hyperfine --export-json into $BENCH_OUT/results/:
#      a. migration: `dms hkex participant import` + `dms hkex import-smartcard-users` into a
#         copy of the base database, vs sqlite3 .import into staging tables and INSERT ...
#         SELECT into the same schema (dumped from a database `dms init` made: the same tables,
#         keys and indexes), one transaction; peak RSS of dms's import;
#      b. exchange-wide listing as CSV (operator) vs `sqlite3 -csv` on the same query and
#         columns; peak RSS of both with /usr/bin/time -v;
#      c. `user enquire`, `listing --participant` (operator) and `request list` (DA maker) vs
#         sqlite3 answering the same query from a cold process;
#      d. bulk e-mail registration of the full participant (1,269 rows) by its DA maker,
#         authorised inline by its DA checker (password + TOTP), vs sqlite3 UPDATE ... FROM a
#         staging table; the database is restored before every run, so the same TOTP code is
#         fresh each time;
#      e. a trail of 10,000,000 rows (grown validly with examples/mk_audit.rs through
#         dms::storage::audit::append, a year of rows): `dms audit verify` vs sqlite3 dumping
#         the rows through sha256sum; `dms report audit` for one Hong Kong day vs sqlite3
#         answering the same query; `report audit --format jsonl --after-seq N` streaming the
#         last million rows, with its peak RSS;
#      f. `dms whoami` (session check, no argon2) vs sqlite3 starting and answering SELECT 1
#         (the bar's figure: sqlite3 never opens the file for it), and, for the record, sqlite3
#         opening the database and reading a session row; `dms login` (argon2 + TOTP);
#      g. the morning rush: 8 processes signing in 8 users, 10 sign-ins each, against what
#         the cores can do in argon2id alone (examples/argon2_verify.rs: cores / one
#         verification's median time, and 8 threads verifying side by side);
#      Every --prepare ends with `sync`: a fresh copy of the database leaves megabytes of dirty
#      pages, and the first fsync of the measured command (a checkpoint) would flush them;
#   5. prints a table of medians, ratios and peak RSS against the bars of issue 12, each with
#      its verdict.
#
# The clock: every dms command runs with DMS_NOW pinned (the database is made with
# --allow-test-clock), Monday 23 Nov 2026 10:0x HKT, inside service hours, so sessions never
# age between runs. Generated data and databases live under $BENCH_OUT (default
# /tmp/dms-bench), never in the repository.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${BENCH_OUT:-/tmp/dms-bench}
RUNS=${RUNS:-5}          # runs of the long benchmarks (migration, listing, audit)
QUICK_RUNS=${QUICK_RUNS:-30}  # runs of the one-command benchmarks
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
DMS=$TARGET/release/dms
MK_AUDIT=$TARGET/release/examples/mk_audit
AUDIT_ROWS=${AUDIT_ROWS:-10000000}
ARGON=$TARGET/release/examples/argon2_verify
RUSH_PROCS=${RUSH_PROCS:-8}   # parallel sign-in processes
RUSH_EACH=${RUSH_EACH:-10}    # sign-ins per process
PW='Bench-Passw0rd!2026(HK)'
T0=2026-11-23T10:00:00+08:00   # init and operator logon
T1=2026-11-23T10:02:00+08:00   # DA logons
TB=2026-11-23T10:05:00+08:00   # every benchmark
export NO_COLOR=1
unset DMS_DB DMS_SESSION DMS_FORMAT DMS_SEED

. "$ROOT/benches/common.sh"
# SECTIONS=abcdefg (default: all) picks what is measured; the databases are built either way.
SECTIONS=${SECTIONS:-abcdefg}
want() { [[ "$SECTIONS" == *"$1"* ]]; }

# --- 0. tools ---------------------------------------------------------------------------------
need_tools hyperfine sqlite3 oathtool time

# --- 1. build ---------------------------------------------------------------------------------
say "cargo build --release"
(cd "$ROOT" && cargo build --release --bin dms --example mk_audit --example argon2_verify)

# --- 2. data ----------------------------------------------------------------------------------
fresh_out
FULL=$(meta full_participant); MAKER=$(meta maker); CHECKER=$(meta checker); SAMPLE=$(meta sample_user)
TYPICAL=$(meta typical_participant); TYPICAL_USERS=$(meta typical_users)
printf '%s\n' "$PW" > "$OUT/pw" && chmod 600 "$OUT/pw"

# --- 3. base database: operator's first-time logon (as in src/commands/demo.rs) ----------------
say "base database: init + operator first-time logon"
BASE=$OUT/base
make_base "$BASE" "$T0"
before_launch "$BASE"   # the migration comes before the 2FA launch (common.sh)

export DMS_NOW=$TB
HF=(hyperfine --style basic)

# --- a. migration -----------------------------------------------------------------------------
# The sqlite3 side gets the very schema dms runs on: dumped from the base database (schema.sql
# plus every migration), its tables, keys and indexes.
sqlite3 "$BASE/dms.db" .schema | grep -v '^CREATE TABLE sqlite_sequence' > "$OUT/schema_now.sql"
say "a. migration: 1,500 participants + 100,000 users"
mkdir -p "$OUT/sq"
want a && (cd "$DATA" && "${HF[@]}" --runs "$RUNS" --export-json "$OUT/results/a_migration.json" \
    --prepare "rm -rf '$OUT/mig' && cp -a '$BASE' '$OUT/mig' && sync" \
    -n dms "'$DMS' --db '$OUT/mig/dms.db' hkex participant import participants.csv >/dev/null && '$DMS' --db '$OUT/mig/dms.db' hkex import-smartcard-users users.csv >/dev/null" \
    --prepare "rm -f '$OUT/sq/mig.db'* && sqlite3 '$OUT/sq/mig.db' < '$OUT/schema_now.sql' && sqlite3 '$OUT/sq/mig.db' 'PRAGMA journal_mode=WAL' >/dev/null && sync" \
    -n sqlite3 "sqlite3 '$OUT/sq/mig.db' < '$ROOT/benches/sql/import.sql'")
if want a; then [ "$(sqlite3 "$OUT/sq/mig.db" "SELECT COUNT(*) FROM users")" = 100000 ] || { echo "sqlite3 import incomplete" >&2; exit 1; }; fi

# The 100k database used from here on, migrated once more under /usr/bin/time -v.
BIG=$OUT/big; rm -rf "$BIG"; cp -a "$BASE" "$BIG"
if want a; then migrate "$BIG" "$OUT/results/a_migration_dms.time"; else migrate "$BIG"; fi
after_launch "$BIG"
[ "$(sqlite3 "$BIG/dms.db" "SELECT COUNT(*) FROM users WHERE participant_id IS NOT NULL")" = 100000 ]

# The full participant's DA maker and checker do their first-time logon.
first_logon "$BIG" "$MAKER" "$BIG/maker.session" "$T1"
first_logon "$BIG" "$CHECKER" "$BIG/checker.session" "$T1"
export DMS_NOW=$TB
BULK_BASE=$OUT/bulk-base; rm -rf "$BULK_BASE"; cp -a "$BIG" "$BULK_BASE"

# --- d. bulk e-mail registration --------------------------------------------------------------
say "d. bulk e-mail registration of $FULL (1,269 rows), inline authorisation"
CODE=$(oathtool --totp -b "$(cat "$BIG/$CHECKER.secret")" --now "$(utc "$TB")")
BULK_CMD="'$DMS' --db '$OUT/bulk/dms.db' --session '$OUT/bulk/maker.session' --format json user import-emails '$DATA/emails_full.csv' --checker $CHECKER --otp $CODE --password-stdin < '$OUT/pw'"
want d && (cd "$DATA" && "${HF[@]}" --runs "$QUICK_RUNS" --warmup 1 --export-json "$OUT/results/d_bulk.json" \
    --prepare "rm -rf '$OUT/bulk' && cp -a '$BULK_BASE' '$OUT/bulk' && sync" -n dms "$BULK_CMD >/dev/null" \
    --prepare "rm -rf '$OUT/sqbulk' && cp -a '$BULK_BASE' '$OUT/sqbulk' && sync" \
    -n sqlite3 "sqlite3 '$OUT/sqbulk/dms.db' < '$ROOT/benches/sql/bulk.sql'")
# The same submission without --checker (PENDING): no argon2, no TOTP, nothing applied yet.
want d && "${HF[@]}" --runs "$QUICK_RUNS" --warmup 1 --export-json "$OUT/results/d_bulk_submit.json" \
    --prepare "rm -rf '$OUT/bulk' && cp -a '$BULK_BASE' '$OUT/bulk' && sync" \
    -n "dms submit only" "'$DMS' --db '$OUT/bulk/dms.db' --session '$OUT/bulk/maker.session' --format json user import-emails '$DATA/emails_full.csv'"
# Apply it once for real in the 100k database (a check, and a big request for `request list`).
"$DMS" --db "$BIG/dms.db" --session "$BIG/maker.session" --format json user import-emails "$DATA/emails_full.csv" \
    --checker "$CHECKER" --otp "$CODE" --password-stdin < "$OUT/pw" | grep -q '"APPROVED"'
[ "$(sqlite3 "$BIG/dms.db" "SELECT COUNT(*) FROM users WHERE participant_id = '$FULL' AND role = 'user' AND email IS NOT NULL")" = 1269 ]
# Some pending requests besides, as a participant's queue looks on a busy day.
for uid in $(sqlite3 "$BIG/dms.db" "SELECT user_id FROM users WHERE participant_id = '$FULL' AND role = 'user' ORDER BY user_id LIMIT 30"); do
    "$DMS" --db "$BIG/dms.db" --session "$BIG/maker.session" --format json user change "$uid" \
        --email "new.${uid,,}@${FULL,,}.example.com.hk" >/dev/null 2>&1
done

# --- b. exchange-wide listing -----------------------------------------------------------------
say "b. exchange-wide User Profile Listing as CSV (100,000 rows)"
# The machine forms dms writes (README "Output reference"): booleans, plain amounts, Hong Kong
# times with their offset.
# HKT, COLS, LIST_ALL: the listing's columns as dms writes them (common.sh).
# Same rows and cells (quoting differs: sqlite3 quotes cells with spaces).
"$DMS" --db "$BIG/dms.db" --format csv listing --all > "$OUT/list_dms.csv"
sqlite3 -csv -header "$BIG/dms.db" "$LIST_ALL" > "$OUT/list_sqlite.csv"
python3 - "$OUT/list_dms.csv" "$OUT/list_sqlite.csv" <<'EOF'
import csv, sys
a, b = (list(csv.reader(open(p))) for p in sys.argv[1:3])
assert len(a) == 100001 and a == b, "dms and sqlite3 listings differ"
EOF
want b && "${HF[@]}" -N --runs "$RUNS" --warmup 1 --export-json "$OUT/results/b_listing.json" \
    -n dms "$DMS --db $BIG/dms.db --format csv listing --all" \
    -n sqlite3 "sqlite3 -csv -header $BIG/dms.db \"$LIST_ALL\""
want b && /usr/bin/time -v -o "$OUT/results/b_listing_dms.time" "$DMS" --db "$BIG/dms.db" --format csv listing --all >/dev/null
want b && /usr/bin/time -v -o "$OUT/results/b_listing_sqlite.time" sqlite3 -csv -header "$BIG/dms.db" "$LIST_ALL" >/dev/null

# --- c. one command on the 100k database ------------------------------------------------------
say "c. one command on the 100,000-user database"
ENQ="SELECT u.*, c.locked_at, c.otp_channel, c.otp_confirmed, p.name, p.house FROM users u JOIN credentials c USING (user_id) LEFT JOIN participants p USING (participant_id) WHERE u.user_id = '$SAMPLE'"
list_one() { # the rows and the quota footer of one participant, as dms computes them
    echo "SELECT $COLS FROM users u JOIN credentials c USING (user_id) WHERE u.participant_id = '$1' ORDER BY u.participant_id, u.user_id; \
SELECT max_users, (SELECT COUNT(*) FROM users WHERE participant_id = '$1'), (SELECT COUNT(*) FROM users WHERE participant_id = '$1' AND role IN ('maker', 'checker')) FROM participants WHERE participant_id = '$1'"
}
REQ="SELECT request_id, participant_id, kind, payload, maker, strftime($HKT, created_at, '+8 hours'), strftime($HKT, expires_at, '+8 hours'), status, checker, decided_at, reason FROM requests WHERE participant_id = '$FULL' ORDER BY request_id DESC"
"$DMS" --db "$BIG/dms.db" --format json user enquire "$SAMPLE" | grep -q "\"$SAMPLE\""
[ "$("$DMS" --db "$BIG/dms.db" --format csv listing --participant "$FULL" | wc -l)" = 1273 ]
[ "$("$DMS" --db "$BIG/dms.db" --format csv listing --participant "$TYPICAL" | wc -l)" = $((TYPICAL_USERS + 1)) ]
[ "$("$DMS" --db "$BIG/dms.db" --session "$BIG/maker.session" --format csv request list | wc -l)" = 32 ]
want c && "${HF[@]}" -N --runs "$QUICK_RUNS" --warmup 3 --export-json "$OUT/results/c_enquire.json" \
    -n dms "$DMS --db $BIG/dms.db --format json user enquire $SAMPLE" \
    -n sqlite3 "sqlite3 -json $BIG/dms.db \"$ENQ\""
want c && "${HF[@]}" -N --runs "$QUICK_RUNS" --warmup 3 --export-json "$OUT/results/c_listing_full.json" \
    -n dms "$DMS --db $BIG/dms.db --format csv listing --participant $FULL" \
    -n sqlite3 "sqlite3 -csv -header $BIG/dms.db \"$(list_one "$FULL")\""
want c && "${HF[@]}" -N --runs "$QUICK_RUNS" --warmup 3 --export-json "$OUT/results/c_listing_typical.json" \
    -n dms "$DMS --db $BIG/dms.db --format csv listing --participant $TYPICAL" \
    -n sqlite3 "sqlite3 -csv -header $BIG/dms.db \"$(list_one "$TYPICAL")\""
want c && "${HF[@]}" -N --runs "$QUICK_RUNS" --warmup 3 --export-json "$OUT/results/c_request_list.json" \
    -n dms "$DMS --db $BIG/dms.db --session $BIG/maker.session --format csv request list" \
    -n sqlite3 "sqlite3 -csv -header $BIG/dms.db \"$REQ\""

# --- f. whoami and login ----------------------------------------------------------------------
say "f. whoami (session check) and login (argon2 + TOTP)"
OP_CODE=$(oathtool --totp -b "$(cat "$BIG/HKEXOP01.secret")" --now "$(utc "$TB")")
want f && "${HF[@]}" -N --runs "$QUICK_RUNS" --warmup 3 --export-json "$OUT/results/f_whoami.json" \
    -n "dms whoami" "$DMS --db $BIG/dms.db whoami" \
    -n "sqlite3 (process start)" "sqlite3 $BIG/dms.db \"SELECT 1\"" \
    -n "sqlite3 (open + the session row)" "sqlite3 $BIG/dms.db \"SELECT user_id, created_at FROM sessions WHERE ended_at IS NULL LIMIT 1\""
rm -rf "$OUT/login"; cp -a "$BIG" "$OUT/login"
"$DMS" --db "$OUT/login/dms.db" --session "$OUT/login/op2.session" --format json login --user HKEXOP01 \
    --password-stdin --otp "$OP_CODE" < "$OUT/pw" | grep -q HKEXOP01
want f && "${HF[@]}" --runs 10 --warmup 1 --export-json "$OUT/results/f_login.json" \
    --prepare "rm -rf '$OUT/login' && cp -a '$BIG' '$OUT/login' && sync" \
    -n "dms login" "'$DMS' --db '$OUT/login/dms.db' --session '$OUT/login/op2.session' --format json login --user HKEXOP01 --password-stdin --otp $OP_CODE < '$OUT/pw'"

# --- g. the morning rush ----------------------------------------------------------------------
if want g; then
say "g. $RUSH_PROCS processes signing in, $RUSH_EACH sign-ins each, vs argon2id alone"
# What the cores can do in argon2id alone: one verification's median time (one thread), and
# $RUSH_PROCS threads verifying side by side.
"$ARGON" 20 --parallel "$RUSH_PROCS" > "$OUT/results/g_argon2.json"
RUSH=$OUT/rush-base; rm -rf "$RUSH"; cp -a "$BIG" "$RUSH"
mapfile -t RUSHERS < <(sqlite3 "$BIG/dms.db" "SELECT user_id FROM users WHERE participant_id = '$TYPICAL' AND role = 'user' AND email IS NOT NULL ORDER BY user_id LIMIT $RUSH_PROCS")
[ "${#RUSHERS[@]}" = "$RUSH_PROCS" ] || { echo "not enough users in $TYPICAL for the rush" >&2; exit 1; }
for u in "${RUSHERS[@]}"; do
    first_logon "$RUSH" "$u" "$RUSH/$u.session" "$T1"
    # Sign-in j of this user happens 30 s after the one before it (a new TOTP step each), from
    # 10:10: the codes are computed now, by oathtool, so the timed runs only sign in.
    : > "$RUSH/$u.codes"
    for j in $(seq 1 "$RUSH_EACH"); do
        t=$(date -u -d "2026-11-23T10:10:00+08:00 + $((30 * j)) seconds" '+%Y-%m-%dT%H:%M:%SZ')
        printf '%s %s\n' "$t" "$(oathtool --totp -b "$(cat "$RUSH/$u.secret")" --now "$(utc "$t")")" >> "$RUSH/$u.codes"
    done
done
export DMS_NOW=$TB
cat > "$OUT/rush.sh" <<RUSHEOF
#!/usr/bin/env bash
# One morning rush: each user named signs in RUSH_EACH times, all of them at once.
dir=\$1; shift
for u in "\$@"; do
    ( while read -r t code; do
        DMS_NOW=\$t '$DMS' --db "\$dir/dms.db" --session "\$dir/\$u.session" --format json login --user "\$u" \\
            --password-stdin --otp "\$code" < '$OUT/pw' > /dev/null || echo "FAILED: \$u at \$t" >&2
      done < "$RUSH/\$u.codes" ) &
done
wait
RUSHEOF
chmod +x "$OUT/rush.sh"
rm -rf "$OUT/rush" && cp -a "$RUSH" "$OUT/rush"
"$OUT/rush.sh" "$OUT/rush" "${RUSHERS[@]}" 2> "$OUT/rush.err"
[ ! -s "$OUT/rush.err" ] || { cat "$OUT/rush.err" >&2; echo "the rush had failed sign-ins" >&2; exit 1; }
RUSH_IN="SELECT user_id FROM users WHERE participant_id = '$TYPICAL' AND role = 'user'"
[ "$(sqlite3 "$OUT/rush/dms.db" "SELECT COUNT(*) FROM sessions WHERE user_id IN ($RUSH_IN)")" = $((RUSH_PROCS * (RUSH_EACH + 1))) ] \
    || { echo "the rush did not open $((RUSH_PROCS * RUSH_EACH)) sessions" >&2; exit 1; }
"${HF[@]}" --runs 3 --export-json "$OUT/results/g_rush.json" \
    --prepare "rm -rf '$OUT/rush' && cp -a '$RUSH' '$OUT/rush' && sync" \
    -n "dms rush" "'$OUT/rush.sh' '$OUT/rush' ${RUSHERS[*]}"
"${HF[@]}" --runs 3 --export-json "$OUT/results/g_one.json" \
    --prepare "rm -rf '$OUT/rush' && cp -a '$RUSH' '$OUT/rush' && sync" \
    -n "dms one at a time" "'$OUT/rush.sh' '$OUT/rush' ${RUSHERS[0]}"
fi

# --- e. the audit trail -----------------------------------------------------------------------
if want e; then
say "e. a trail of $AUDIT_ROWS rows: verify, one day's report, jsonl streaming"
AUD=$OUT/audit; rm -rf "$AUD"; cp -a "$BIG" "$AUD"
"$MK_AUDIT" "$AUD/dms.db" "$AUDIT_ROWS" >&2
"$DMS" --db "$AUD/dms.db" --format json audit verify | grep -q '"ok": true'
"${HF[@]}" --runs "$RUNS" --warmup 1 --export-json "$OUT/results/e_audit.json" \
    -n dms "'$DMS' --db '$AUD/dms.db' --format json audit verify" \
    -n sqlite3 "sqlite3 '$AUD/dms.db' 'SELECT seq, at, actor, action, subject, participant_id, detail, hex(prev_hash), hex(hash) FROM audit ORDER BY seq' | sha256sum"
# One Hong Kong day from the middle of the trail, as dms reports it and as sqlite3 answers it.
DAY=$(sqlite3 "$AUD/dms.db" "SELECT date(at, '+8 hours') FROM audit WHERE seq = (SELECT MAX(seq) / 2 FROM audit)")
DAY_FROM=$(date -u -d "$DAY 00:00 +08:00" '+%Y-%m-%dT%H:%M:%SZ')
DAY_TO=$(date -u -d "$DAY 00:00 +08:00 + 1 day" '+%Y-%m-%dT%H:%M:%SZ')
DAY_SQL="SELECT seq, strftime($HKT, at, '+8 hours') AS at, actor, action, subject, participant_id, detail FROM audit WHERE at >= '$DAY_FROM' AND at < '$DAY_TO' ORDER BY seq"
DAY_ROWS=$(sqlite3 "$AUD/dms.db" "SELECT COUNT(*) FROM audit WHERE at >= '$DAY_FROM' AND at < '$DAY_TO'")
[ "$("$DMS" --db "$AUD/dms.db" --format csv report audit --from "$DAY" --to "$DAY" | wc -l)" -ge $((DAY_ROWS + 1)) ]
echo "$DAY_ROWS" > "$OUT/results/e_day_rows"
"${HF[@]}" -N --runs "$QUICK_RUNS" --warmup 2 --export-json "$OUT/results/e_day.json" \
    -n dms "$DMS --db $AUD/dms.db --format csv report audit --from $DAY --to $DAY" \
    -n sqlite3 "sqlite3 -csv -header $AUD/dms.db \"$DAY_SQL\""
# The last million rows as JSON Lines, the way a SIEM pulls them: in constant memory.
AFTER=$((AUDIT_ROWS - 1000000)); [ "$AFTER" -ge 0 ] || AFTER=0
"${HF[@]}" --runs "$RUNS" --export-json "$OUT/results/e_jsonl.json" \
    -n dms "'$DMS' --db '$AUD/dms.db' --format jsonl report audit --after-seq $AFTER > /dev/null" \
    -n sqlite3 "sqlite3 -json '$AUD/dms.db' 'SELECT seq, at, actor, action, subject, participant_id, detail FROM audit WHERE seq > $AFTER ORDER BY seq' > /dev/null"
/usr/bin/time -v -o "$OUT/results/e_jsonl_dms.time" "$DMS" --db "$AUD/dms.db" --format jsonl report audit --after-seq "$AFTER" >/dev/null
/usr/bin/time -v -o "$OUT/results/e_verify_dms.time" "$DMS" --db "$AUD/dms.db" --format json audit verify >/dev/null
stat -c %s "$AUD/dms.db" > "$OUT/results/e_db_bytes"
fi

# --- 5. table ---------------------------------------------------------------------------------
say "results (medians; hyperfine JSON in $OUT/results)"
python3 "$ROOT/benches/table.py" "$OUT/results" "$DATA/meta.json" "$(nproc)" "$RUSH_PROCS" "$RUSH_EACH" "$AUDIT_ROWS" \
    | tee "$OUT/results/table.txt"
