#!/usr/bin/env bash
# Backup and restore of the 100,000-user database (SPEC §5 "Backup and restore"), measured, never
# asserted, side by side with the sqlite3 shell's `.backup` of the same file (no encryption, no
# key, no verification: the floor).
#
#   CARGO_TARGET_DIR=/work/target-ops benches/backup.sh
#   BENCH_OUT=/tmp/x RUNS=5 benches/backup.sh
#
# 1. cargo build --release; benches/gen_data.py (1,500 participants, 100,000 users, seeded);
# 2. `dms init`, the operator's first-time logon, the two migration imports (as benches/run.sh);
# 3. hyperfine: `dms backup` (scrypt passphrase, age) vs `sqlite3 .backup`; `dms restore`
#    (decrypt, integrity check, sessions ended, audit chain verified, linked into place);
# 4. prints the times and the sizes: the database file (checkpointed), the encrypted backup.
# Everything lives under $BENCH_OUT (default /tmp/dms-bench-backup), never in the repository.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${BENCH_OUT:-/tmp/dms-bench-backup}
RUNS=${RUNS:-5}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
DMS=$TARGET/release/dms
PW='Bench-Passw0rd!2026(HK)'
PASS='a backup passphrase for the bench, 2026'
T0=2026-11-23T10:00:00+08:00
TB=2026-11-23T10:05:00+08:00
export NO_COLOR=1
unset DMS_DB DMS_SESSION DMS_FORMAT DMS_SEED
. "$ROOT/benches/common.sh"

need_tools hyperfine sqlite3 oathtool

say "cargo build --release"
(cd "$ROOT" && cargo build --release --bin dms)

fresh_out
printf '%s\n' "$PW" > "$OUT/pw" && printf '%s\n' "$PASS" > "$OUT/pass" && chmod 600 "$OUT/pw" "$OUT/pass"

say "the 100,000-user database: init, operator first-time logon, migration imports"
BIG=$OUT/big
make_base "$BIG" "$T0"
export DMS_NOW=$TB
before_launch "$BIG"
migrate "$BIG"
after_launch "$BIG"
sqlite3 "$BIG/dms.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
USERS=$(sqlite3 "$BIG/dms.db" 'SELECT COUNT(*) FROM users')
AUDIT=$(sqlite3 "$BIG/dms.db" 'SELECT COUNT(*) FROM audit')
DB_BYTES=$(stat -c %s "$BIG/dms.db")

HF=(hyperfine --style basic --runs "$RUNS")
say "backup: dms backup vs sqlite3 .backup"
"${HF[@]}" --export-json "$OUT/results/backup.json" \
    --prepare "rm -f '$OUT/b.age'" \
    -n "dms backup" "'$DMS' --db '$BIG/dms.db' --format json backup --out '$OUT/b.age' --password-stdin < '$OUT/pass' >/dev/null" \
    --prepare "rm -f '$OUT/b.sqlite'" \
    -n "sqlite3 .backup" "sqlite3 '$BIG/dms.db' \".backup '$OUT/b.sqlite'\""
"$DMS" --db "$BIG/dms.db" --format json backup --out "$OUT/keep.age" --password-stdin < "$OUT/pass" > "$OUT/results/backup_out.json"
AGE_BYTES=$(stat -c %s "$OUT/keep.age")

say "restore: dms restore (decrypt, integrity check, sessions ended, audit chain verified)"
"${HF[@]}" --export-json "$OUT/results/restore.json" \
    --prepare "rm -rf '$OUT/r' && mkdir '$OUT/r'" \
    -n "dms restore" "'$DMS' --db '$OUT/r/dms.db' --format json restore '$OUT/keep.age' --password-stdin < '$OUT/pass' >/dev/null" \
    --prepare "rm -rf '$OUT/r' && mkdir '$OUT/r'" \
    -n "sqlite3 integrity_check" "sqlite3 '$OUT/b.sqlite' 'PRAGMA integrity_check' >/dev/null"
rm -rf "$OUT/r" && mkdir "$OUT/r"
"$DMS" --db "$OUT/r/dms.db" --format json restore "$OUT/keep.age" --password-stdin < "$OUT/pass" > "$OUT/results/restore_out.json"

python3 - "$OUT/results" "$USERS" "$AUDIT" "$DB_BYTES" "$AGE_BYTES" <<'PY'
import json, sys
d, users, audit, db, age = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def med(name):
    return {r["command"]: r["median"] for r in json.load(open(f"{d}/{name}.json"))["results"]}
b, r = med("backup"), med("restore")
print(f"database: {users:,} users, {audit:,} audit rows, {db/1e6:.1f} MB; encrypted backup {age/1e6:.1f} MB ({age/db:.2f}x)")
for k, v in list(b.items()) + list(r.items()):
    print(f"  {k:28} {v*1000:8.0f} ms")
print(f"  dms backup / sqlite3 .backup: {b['dms backup']/b['sqlite3 .backup']:.1f}x")
PY
