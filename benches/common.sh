# Shared by the scripts in benches/ (sourced after ROOT, OUT and DMS are set).

say() { printf '\n== %s\n' "$*" >&2; }

# need_tools TOOL...: installs the missing ones with apt-get (package = tool name, `time` for
# GNU time).
need_tools() {
    local need=() t
    for t in "$@"; do
        if [ "$t" = time ]; then [ -x /usr/bin/time ] || need+=(time); else command -v "$t" >/dev/null || need+=("$t"); fi
    done
    if [ ${#need[@]} -gt 0 ]; then
        say "installing ${need[*]}"
        apt-get install -y "${need[@]}" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "${need[@]}" >/dev/null; }
    fi
}

# fresh_out: $OUT is wiped at each run, so only a directory a bench made (or an empty one) is
# used; then the seeded data goes to $OUT/data ($DATA).
fresh_out() {
    if [ -e "$OUT" ] && [ ! -e "$OUT/.dms-bench" ] && [ -n "$(ls -A "$OUT")" ]; then
        echo "$OUT exists and was not made by a dms bench: set BENCH_OUT to a scratch directory" >&2
        exit 2
    fi
    rm -rf "$OUT" && mkdir -p "$OUT/results" && touch "$OUT/.dms-bench"
    DATA=$OUT/data
    say "generating data in $DATA"
    python3 "$ROOT/benches/gen_data.py" "$DATA" >/dev/null
}

# meta KEY: a figure of the generated data ($DATA/meta.json: full_participant, maker, ...).
meta() { python3 -c "import json,sys; print(json.load(open('$DATA/meta.json'))['$1'])"; }

utc() { date -u -d "$1" '+%Y-%m-%d %H:%M:%S UTC'; }
last_mailed_otp() { grep -o 'OTP) for CCASS: [0-9]*' "$1/dms-outbox.mbox" | tail -1 | awk '{print $NF}'; }

# first_logon DIR USER SESSION_FILE TIME: a first-time logon as in src/commands/demo.rs (e-mail
# OTP from the mbox, password from $OUT/pw, authenticator app, login); keeps DIR/USER.secret.
first_logon() {
    local dir=$1 user=$2 session=$3 now=$4 code uri secret
    export DMS_NOW=$now
    "$DMS" --db "$dir/dms.db" --format json otp request --user "$user" >/dev/null 2>&1
    code=$(last_mailed_otp "$dir")
    "$DMS" --db "$dir/dms.db" --format json password reset --user "$user" --otp "$code" --password-stdin \
        < "$OUT/pw" >/dev/null 2>&1
    uri=$("$DMS" --db "$dir/dms.db" --format json otp setup --user "$user" --app --password-stdin < "$OUT/pw" 2>/dev/null \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["otpauth_uri"])')
    secret=$(printf '%s' "$uri" | sed 's/.*secret=\([A-Z2-7]*\).*/\1/')
    printf '%s\n' "$secret" > "$dir/$user.secret"
    code=$(oathtool --totp -b "$secret" --now "$(utc "$now")")
    "$DMS" --db "$dir/dms.db" --session "$session" --format json login --user "$user" --password-stdin --otp "$code" \
        < "$OUT/pw" >/dev/null 2>&1
}

# make_base DIR TIME: a new database DIR/dms.db (`dms init --allow-test-clock`, the clock at
# TIME) and the operator HKEXOP01's first-time logon into DIR/dms.db.session (password from
# $OUT/pw); keeps DIR/HKEXOP01.secret. DMS_NOW is left at TIME.
make_base() {
    local dir=$1 now=$2
    mkdir -p "$dir"
    DMS_NOW=$now "$DMS" --db "$dir/dms.db" init --allow-test-clock --operator-email ops@hkex.example >/dev/null 2>&1
    first_logon "$dir" HKEXOP01 "$dir/dms.db.session" "$now"
}

# before_launch DIR / after_launch DIR: the exchange's timeline around the migration, set by
# the signed-in operator (DIR/dms.db.session) at the clock DMS_NOW holds. An import brings in
# DAs only before the 2FA launch (from the launch DAs come only from eService DA3), so the
# smartcard-era exchange is migrated with the launch still ahead (decommissioning 2026-12-31, the
# launch 2026-11-24, the day after the bench's clock); after it the two dates go back to their
# defaults (2023-06-12, 2023-09-04), the timeline every other figure runs on.
before_launch() {
    "$DMS" --db "$1/dms.db" --format json hkex settings set decommission-date 2026-12-31 >/dev/null
    "$DMS" --db "$1/dms.db" --format json hkex settings set launch-date 2026-11-24 >/dev/null
}
after_launch() {
    "$DMS" --db "$1/dms.db" --format json hkex settings set launch-date 2023-06-12 >/dev/null
    "$DMS" --db "$1/dms.db" --format json hkex settings set decommission-date 2023-09-04 >/dev/null
}

# migrate DIR [TIME_FILE]: the exchange's migration into DIR/dms.db (its caller runs
# before_launch first), at the clock DMS_NOW holds: `dms hkex participant import` of
# $DATA/participants.csv, then `dms hkex import-smartcard-users` of $DATA/users.csv (under
# /usr/bin/time -v -o TIME_FILE when one is given, for its peak RSS). Checks nothing itself:
# the callers count the rows in their own way.
migrate() {
    local dir=$1 timefile=${2:-}
    "$DMS" --db "$dir/dms.db" hkex participant import "$DATA/participants.csv" >/dev/null
    if [ -n "$timefile" ]; then
        /usr/bin/time -v -o "$timefile" "$DMS" --db "$dir/dms.db" hkex import-smartcard-users "$DATA/users.csv" >/dev/null
    else
        "$DMS" --db "$dir/dms.db" hkex import-smartcard-users "$DATA/users.csv" >/dev/null
    fi
}

# The sqlite3 side's User Profile Listing: the machine forms dms writes (README "Output
# reference": booleans, plain amounts, Hong Kong times with their offset), the same columns in
# the same order; LIST_ALL is the exchange-wide listing (run.sh b, day.sh).
HKT="'%Y-%m-%dT%H:%M:%S+08:00'"
COLS="u.user_id AS user_id, u.surname AS surname, u.other_names AS other_names, u.email AS email, \
u.status AS status, u.role AS role, CASE WHEN c.locked_at IS NULL THEN 'false' ELSE 'true' END AS locked, \
CASE WHEN c.otp_confirmed THEN c.otp_channel ELSE 'none' END AS otp, u.participant_id AS participant_id, \
u.enable_from AS enable_from, u.disable_after AS disable_after, u.channel AS access_channel, \
printf('%d.%02d', u.limit_cents / 100, u.limit_cents % 100) AS transaction_limit_hkd, u.groups AS user_groups, \
strftime($HKT, u.created_at, '+8 hours') AS created_at, strftime($HKT, c.last_login_at, '+8 hours') AS last_login_at, u.functions AS functions"
LIST_ALL="SELECT $COLS FROM users u JOIN credentials c USING (user_id) WHERE u.participant_id IS NOT NULL ORDER BY u.participant_id, u.house, u.user_id"
