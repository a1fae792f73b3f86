#!/usr/bin/env bash
# dms serve (SPEC §10, issue 16): the service's figures, each measured side by side in one run
# on the 100,000-user database, and printed with its bar. Measured, never asserted: the script
# prints the table and exits 0 even when a bar is missed (it fails only when a call fails).
#
#   CARGO_TARGET_DIR=/tmp/bench-target benches/serve.sh
#   BENCH_OUT=/tmp/x QUICK_RUNS=10 RUSH_EACH=3 RUSH_RUNS=1 LOAD_SECS=3 CLI_EACH=2 benches/serve.sh
#   NO_BUILD=1 benches/serve.sh    # the binaries already in $CARGO_TARGET_DIR, as they are
#
# What it does:
#   0. installs hyperfine, sqlite3, oathtool, GNU time, wrk, openssl and curl with apt-get if one
#      is missing; cargo build --release (dms and the two examples, as run.sh: one build);
#   1. the 100,000-user database as benches/run.sh makes it (benches/gen_data.py; `dms init
#      --allow-test-clock`, the operator's first-time logon, `hkex participant import`, `hkex
#      import-smartcard-users` before the 2FA launch), the first-time logons of RUSH_PROCS
#      business users, a self-signed TLS certificate (openssl; the key 0600, this account's);
#   2. starts `dms serve --socket SOCK --listen 127.0.0.1:PORT --tls-cert C --tls-key K` on it
#      (the ready line on stdout, one JSON line per call in $BENCH_OUT/serve.log) and measures:
#      1. the morning rush through the server: RUSH_PROCS client processes (`dms --server
#         unix:SOCK login`, password + TOTP), RUSH_EACH sign-ins each at 30-second steps of the
#         pinned clock, all at once (RUSH_RUNS runs, each on TOTP steps of its own), against
#         argon2id alone on the cores (examples/argon2_verify --parallel RUSH_PROCS, as run.sh
#         g): sign-ins per second, bar >= 80 %;
#      2. `dms --server unix:SOCK whoami` vs `dms --db DB whoami` (embedded, beside the running
#         server), the same session file, hyperfine: bar server / embedded <= 1.0x;
#      3. LOAD_CLIENTS concurrent clients of `user/enquire`: wrk over TLS for LOAD_SECS seconds
#         (benches/serve_wrk.lua: every reply read to its end, good only when it ends "done"),
#         and LOAD_CLIENTS concurrent `dms --server unix:SOCK user enquire` processes, CLI_EACH
#         calls each in a row (benches/serve_load.py): p50, p99, errors (bar: none); the
#         server's peak RSS under each (VmHWM, reset before each load with /proc/PID/clear_refs);
#      4. IDLE_CONNS connections of one client that send nothing (serve_load.py idle; reopened
#         every 20 s, inside the server's 30-s idle window) and another client's `whoami`
#         beside them, vs without them: bar <= 100 ms added to the median and the p99;
#   3. SIGTERM to the server: it must exit 0 and remove its socket;
#   4. prints the table (benches/serve_table.py) into $BENCH_OUT/results/table.txt too.
#
# The clock: DMS_NOW is pinned (Monday 23 Nov 2026 10:05 HKT) and forwarded by each client to
# the server, which honours it on a test-clock database; the rush's sign-ins move it 30 s at a
# time from 10:10. Everything lives under $BENCH_OUT (default /tmp/dms-bench-serve), never in
# the repository.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${BENCH_OUT:-/tmp/dms-bench-serve}
QUICK_RUNS=${QUICK_RUNS:-30}      # hyperfine runs of each whoami side
IDLE_RUNS=${IDLE_RUNS:-100}       # whoami runs with and without the idle connections
RUSH_PROCS=${RUSH_PROCS:-8}       # parallel sign-in clients
RUSH_EACH=${RUSH_EACH:-10}        # sign-ins per client in one run
RUSH_RUNS=${RUSH_RUNS:-3}         # runs of the rush (after one warm-up)
LOAD_CLIENTS=${LOAD_CLIENTS:-50}  # concurrent clients of the read load
LOAD_SECS=${LOAD_SECS:-10}        # seconds of wrk
CLI_EACH=${CLI_EACH:-20}          # calls of each CLI client in a row
IDLE_CONNS=${IDLE_CONNS:-200}     # idle connections held open
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
DMS=$TARGET/release/dms
ARGON=$TARGET/release/examples/argon2_verify
PW='Bench-Passw0rd!2026(HK)'
T0=2026-11-23T10:00:00+08:00   # init and operator logon
T1=2026-11-23T10:02:00+08:00   # the rush users' first-time logons
TB=2026-11-23T10:05:00+08:00   # every benchmark but the rush
export NO_COLOR=1
unset DMS_DB DMS_SESSION DMS_FORMAT DMS_SEED DMS_SERVER DMS_CA_FILE

. "$ROOT/benches/common.sh"

# --- 0. tools and build -----------------------------------------------------------------------
need_tools hyperfine sqlite3 oathtool time wrk openssl curl
if [ -z "${NO_BUILD:-}" ]; then
    say "cargo build --release"
    (cd "$ROOT" && cargo build --release --bin dms --example mk_audit --example argon2_verify)
fi

# --- 1. the database --------------------------------------------------------------------------
fresh_out
FULL=$(meta full_participant); SAMPLE=$(meta sample_user); TYPICAL=$(meta typical_participant)
printf '%s\n' "$PW" > "$OUT/pw" && chmod 600 "$OUT/pw"
R=$OUT/results
say "the 100,000-user database: init, operator first-time logon, migration imports"
BIG=$OUT/big
make_base "$BIG" "$T0"
export DMS_NOW=$TB
before_launch "$BIG"
migrate "$BIG"
after_launch "$BIG"
[ "$(sqlite3 "$BIG/dms.db" "SELECT COUNT(*) FROM users WHERE participant_id IS NOT NULL")" = 100000 ]
OPS=$BIG/dms.db.session   # the operator's session, made embedded

# The rush's users (business users of a typical participant, with an e-mail for the OTP) do
# their first-time logon; each one's codes for (RUSH_RUNS + 1) x RUSH_EACH sign-ins, 30 s apart
# from 10:10, are computed now, so that the timed runs only sign in. Run r (0 = the warm-up)
# takes lines r*RUSH_EACH+1 .. (r+1)*RUSH_EACH.
RUSH=$OUT/rush; mkdir -p "$RUSH"
mapfile -t RUSHERS < <(sqlite3 "$BIG/dms.db" "SELECT user_id FROM users WHERE participant_id = '$TYPICAL' AND role = 'user' AND email IS NOT NULL ORDER BY user_id LIMIT $RUSH_PROCS")
[ "${#RUSHERS[@]}" = "$RUSH_PROCS" ] || { echo "not enough users in $TYPICAL for the rush" >&2; exit 1; }
say "first-time logons of the ${#RUSHERS[@]} rush users"
for u in "${RUSHERS[@]}"; do
    first_logon "$BIG" "$u" "$RUSH/$u.session" "$T1"
    : > "$RUSH/$u.codes"
    for j in $(seq 1 $(((RUSH_RUNS + 1) * RUSH_EACH))); do
        t=$(date -u -d "2026-11-23T10:10:00+08:00 + $((30 * j)) seconds" '+%Y-%m-%dT%H:%M:%SZ')
        printf '%s %s\n' "$t" "$(oathtool --totp -b "$(cat "$BIG/$u.secret")" --now "$(utc "$t")")" >> "$RUSH/$u.codes"
    done
done
export DMS_NOW=$TB

# A self-signed certificate for the TLS listener (wrk does not verify it; curl is told -k).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout "$OUT/tls-key.pem" -out "$OUT/tls-cert.pem" 2>/dev/null
chmod 600 "$OUT/tls-key.pem"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# --- 2. the server ----------------------------------------------------------------------------
SOCK=$OUT/dms.sock
say "dms serve --socket $SOCK --listen 127.0.0.1:$PORT"
"$DMS" --db "$BIG/dms.db" serve --socket "$SOCK" --listen "127.0.0.1:$PORT" \
    --tls-cert "$OUT/tls-cert.pem" --tls-key "$OUT/tls-key.pem" > "$OUT/serve.ready" 2> "$OUT/serve.log" &
SRV=$!
HOLDER=
stop_all() { # on a failure: the helpers this script started, by their ids
    [ -z "$HOLDER" ] || kill "$HOLDER" 2>/dev/null || true
    kill -TERM "$SRV" 2>/dev/null || true
}
trap stop_all EXIT
for _ in $(seq 1 300); do [ -s "$OUT/serve.ready" ] && break; kill -0 "$SRV" 2>/dev/null || break; sleep 0.1; done
[ -s "$OUT/serve.ready" ] || { cat "$OUT/serve.log" >&2; echo "dms serve did not start" >&2; exit 1; }
cat "$OUT/serve.ready" >&2
CLIENT=("$DMS" --server "unix:$SOCK")
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$SRV/status"; }            # KiB
rss() { awk '/^VmRSS/ {print $2}' "/proc/$SRV/status"; }
reset_hwm() { echo 5 > "/proc/$SRV/clear_refs" 2>/dev/null || echo "(VmHWM cannot be reset here: it is the peak since start)" >&2; }
rss > "$R/rss_started_kib"

# A session made embedded works through the server, and one made through the server works
# embedded (the same database): checked here, written down for the table.
{
    "${CLIENT[@]}" --session "$OPS" --format json whoami | grep -q HKEXOP01 && echo "embedded session through the server: works"
    "${CLIENT[@]}" --session "$OUT/via-server.session" --format json login --user "${RUSHERS[0]}" --password-stdin \
        --otp "$(oathtool --totp -b "$(cat "$BIG/${RUSHERS[0]}.secret")" --now "$(utc "$TB")")" < "$OUT/pw" >/dev/null
    head -2 "$OUT/via-server.session" | sed 's/^/    /'
    "$DMS" --db "$BIG/dms.db" --session "$OUT/via-server.session" --format json whoami | grep -q "${RUSHERS[0]}" \
        && echo "session made through the server, used embedded: works"
} > "$R/sessions.txt"
cat "$R/sessions.txt" >&2

# --- 2.2 whoami: through the server vs embedded -----------------------------------------------
say "2. whoami through the server vs embedded (the same session file)"
hyperfine --style basic -N --runs "$QUICK_RUNS" --warmup 3 --export-json "$R/whoami.json" \
    -n "server" "${CLIENT[*]} --session $OPS whoami" \
    -n "embedded" "$DMS --db $BIG/dms.db --session $OPS whoami"

# --- 2.4 idle connections ---------------------------------------------------------------------
say "4. whoami beside $IDLE_CONNS idle connections vs without them"
hyperfine --style basic -N --runs "$IDLE_RUNS" --warmup 3 --export-json "$R/idle_without.json" \
    -n "whoami, no idle connections" "${CLIENT[*]} --session $OPS whoami"
ls "/proc/$SRV/fd" | wc -l > "$R/idle_server_fds_before"
rm -f "$OUT/idle.ready"
python3 "$ROOT/benches/serve_load.py" idle "$SOCK" "$IDLE_CONNS" "$OUT/idle.ready" "$R/idle_holder.json" &
HOLDER=$!
for _ in $(seq 1 100); do [ -s "$OUT/idle.ready" ] && break; sleep 0.1; done
[ -s "$OUT/idle.ready" ] || { echo "the idle connections were not opened" >&2; exit 1; }
hyperfine --style basic -N --runs "$IDLE_RUNS" --warmup 3 --export-json "$R/idle_with.json" \
    -n "whoami, $IDLE_CONNS idle connections" "${CLIENT[*]} --session $OPS whoami"
ls "/proc/$SRV/fd" | wc -l > "$R/idle_server_fds"   # the server holds them: its open files meanwhile
kill -TERM "$HOLDER"; wait "$HOLDER"; HOLDER=
cat "$R/idle_holder.json" >&2; echo >&2

# --- 2.1 the morning rush through the server --------------------------------------------------
say "1. the morning rush through the server: $RUSH_PROCS clients x $RUSH_EACH sign-ins, vs argon2id alone"
"$ARGON" 20 --parallel "$RUSH_PROCS" > "$R/argon2.json"
cat "$R/argon2.json" >&2
echo 0 > "$RUSH/run"
cat > "$OUT/rush.sh" <<RUSHEOF
#!/usr/bin/env bash
# One morning rush through the server: each user named signs in RUSH_EACH times, all at once,
# on the TOTP steps of the next run (\$RUSH/run counts them).
run=\$(cat '$RUSH/run'); echo \$((run + 1)) > '$RUSH/run'
from=\$((run * $RUSH_EACH + 1)); to=\$(((run + 1) * $RUSH_EACH))
for u in "\$@"; do
    ( sed -n "\${from},\${to}p" "$RUSH/\$u.codes" | while read -r t code; do
        DMS_NOW=\$t '$DMS' --server 'unix:$SOCK' --session "$RUSH/\$u.session" --format json login --user "\$u" \\
            --password-stdin --otp "\$code" < '$OUT/pw' > /dev/null || echo "FAILED: \$u at \$t" >> '$RUSH/failed'
      done ) &
done
wait
[ ! -e '$RUSH/failed' ]
RUSHEOF
chmod +x "$OUT/rush.sh"
hyperfine --style basic --runs "$RUSH_RUNS" --warmup 1 --export-json "$R/rush.json" \
    -n "rush through the server" "'$OUT/rush.sh' ${RUSHERS[*]}"
[ ! -e "$RUSH/failed" ] || { cat "$RUSH/failed" >&2; exit 1; }
RUSH_IN=$(printf "'%s'," "${RUSHERS[@]}"); RUSH_IN=${RUSH_IN%,}
SIGNED=$(sqlite3 "file:$BIG/dms.db?mode=ro" "SELECT COUNT(*) FROM sessions WHERE user_id IN ($RUSH_IN)")
# first-time logons + the session check above + the warm-up and the timed runs
[ "$SIGNED" = $((RUSH_PROCS * (1 + (RUSH_RUNS + 1) * RUSH_EACH) + 1)) ] \
    || { echo "the rush opened $SIGNED sessions, not $((RUSH_PROCS * (1 + (RUSH_RUNS + 1) * RUSH_EACH) + 1))" >&2; exit 1; }

# --- 2.3 50 clients reading -------------------------------------------------------------------
say "3. $LOAD_CLIENTS concurrent clients of user/enquire: wrk over TLS, then the CLI over the socket"
TOKEN=$(sed -n 's/^token=//p' "$OPS")
ENVELOPE="{\"call_id\": \"0a1b2c\", \"session\": \"$TOKEN\", \"now\": \"$TB\", \"format\": \"json\", \"user_id\": \"$SAMPLE\"}"
# One call by curl first, on each transport: the reply read to the end of its body (and how long
# that took, for the record).
curl -sk -o "$R/curl_tls.ndjson" -w '%{time_total}\n' "https://127.0.0.1:$PORT/v1/user/enquire" -d "$ENVELOPE" > "$R/curl_tls_s"
curl -s -o "$R/curl_unix.ndjson" -w '%{time_total}\n' --unix-socket "$SOCK" http://dms/v1/user/enquire -d "$ENVELOPE" > "$R/curl_unix_s"
for f in "$R/curl_tls.ndjson" "$R/curl_unix.ndjson"; do
    grep -q "\"user_id\":\"$SAMPLE\"" "$f" && [ "$(tail -1 "$f")" = '"done"' ] \
        || { cat "$f" >&2; echo "user/enquire through the API did not answer" >&2; exit 1; }
done
calls_before=$(grep -c '"call":"user/enquire"' "$OUT/serve.log" || true)
rss > "$R/rss_before_load_kib"   # (argon2's arenas are kept after the rush: part of it)
reset_hwm
wrk -t"$(nproc)" -c"$LOAD_CLIENTS" -d"${LOAD_SECS}s" --timeout 10s -s "$ROOT/benches/serve_wrk.lua" \
    "https://127.0.0.1:$PORT/v1/user/enquire" -- "$TOKEN" "$TB" "\"user_id\":\"$SAMPLE\"" > "$R/wrk.txt"
hwm > "$R/hwm_wrk_kib"
tail -1 "$R/wrk.txt" > "$R/wrk.json"
grep -v '^{' "$R/wrk.txt" >&2 || true
# The server's own account of those calls: one log line each, with its exit code.
python3 - "$OUT/serve.log" "$calls_before" > "$R/wrk_log.json" <<'PY'
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1]) if '"call":"user/enquire"' in l][int(sys.argv[2]):]
print(json.dumps({"logged": len(calls), "failed": sum(1 for c in calls if c["exit"] != 0)}))
PY
reset_hwm
python3 "$ROOT/benches/serve_load.py" cli "$LOAD_CLIENTS" "$CLI_EACH" "$R/cli.json" "\"$SAMPLE\"" -- \
    "${CLIENT[@]}" --session "$OPS" --format json user enquire "$SAMPLE" >&2
hwm > "$R/hwm_cli_kib"
rss > "$R/rss_end_kib"

# --- 3. stop ----------------------------------------------------------------------------------
say "SIGTERM to the server"
trap - EXIT
kill -TERM "$SRV"
set +e; wait "$SRV"; echo $? > "$R/stop_rc"; set -e
[ -e "$SOCK" ] && echo "socket left behind" > "$R/stop_socket" || echo "socket removed" > "$R/stop_socket"
tail -1 "$OUT/serve.log" >&2

# --- 4. table ---------------------------------------------------------------------------------
say "results (hyperfine, wrk and helper JSON in $R)"
python3 "$ROOT/benches/serve_table.py" "$R" "$(nproc)" "$RUSH_PROCS" "$RUSH_EACH" "$LOAD_CLIENTS" "$CLI_EACH" "$IDLE_CONNS" \
    | tee "$R/table.txt"
