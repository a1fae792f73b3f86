#!/usr/bin/env bash
# The deployment of README "Running as a service", done for real on this host as root would
# do it, and checked: the `dms` account owns the database and its key file (0600), DAs on
# Unix accounts of their own (in `dms-users`) sign in and work through the socket and cannot
# read the files, TLS for remote DAs, and the nightly backup as the `dms` account.
#
#   sudo deploy/try.sh            # needs /usr/local/bin/dms (cargo build --release; install it)
#   sudo deploy/try.sh clean      # removes what it made (accounts, /var/lib/dms, /etc/dms)
#
# systemd is not PID 1 in every container: the unit is checked with `systemd-analyze verify`
# and its ExecStart is run as the unit would run it (User=dms, SupplementaryGroups=dms-users,
# /var/lib/dms, /run/dms, UMask=0077).
set -euo pipefail
DMS=/usr/local/bin/dms
HERE=$(cd "$(dirname "$0")" && pwd)
say() { printf '\n== %s\n' "$*"; }
as() { local u=$1; shift; (cd "$(getent passwd "$u" | cut -d: -f6)" && runuser -u "$u" -- "$@"); }

if [ "${1:-}" = clean ]; then
    pkill -u dms -f "dms --db /var/lib/dms/dms.db serve" || true
    for u in alice bob opsadmin; do userdel -r "$u" 2>/dev/null || true; done
    userdel dms 2>/dev/null || true
    groupdel dms-users 2>/dev/null || true
    rm -rf /var/lib/dms /run/dms /etc/dms /var/backups/dms
    exit 0
fi

say "accounts: the service's own (no login), the group of those who may connect, three people"
getent group dms-users >/dev/null || groupadd --system dms-users
getent passwd dms >/dev/null || useradd --system --user-group --home-dir /var/lib/dms --no-create-home --shell /usr/sbin/nologin dms
for u in opsadmin alice bob; do getent passwd "$u" >/dev/null || useradd --create-home --groups dms-users "$u"; done
install -d -o dms -g dms -m 0700 /var/lib/dms
install -d -o dms -g dms -m 0755 /run/dms
install -d -o root -g dms -m 0750 /etc/dms

say "the unit"
systemd-analyze verify "$HERE/dms.service"

say "the database, as dms (0600, its key file beside it)"
[ -e /var/lib/dms/dms.db ] || as dms "$DMS" --db /var/lib/dms/dms.db init --operator-email ops@hkex.example
ls -l /var/lib/dms

say "the service, as the unit runs it"
runuser -u dms -g dms -G dms-users -- sh -c "umask 077; exec $DMS --db /var/lib/dms/dms.db serve --socket /run/dms/dms.sock --socket-group dms-users" \
    > /tmp/dms-serve.ready 2> /tmp/dms-serve.log &
SERVER=$!
for _ in $(seq 50); do grep -q listening /tmp/dms-serve.ready 2>/dev/null && break; sleep 0.1; done
cat /tmp/dms-serve.ready
ls -l /run/dms/dms.sock
export DMS_SERVER=unix:/run/dms/dms.sock
otp() { grep -o 'OTP) for CCASS: [0-9]*' /var/lib/dms/dms-outbox.mbox | tail -1 | awk '{print $NF}'; }
PW='Deploy-Passw0rd!2026(HK)'

# first_logon ACCOUNT USER: the seed's first-time logon, as that account, through the socket.
first_logon() {
    local acct=$1 user=$2 uri secret
    as "$acct" "$DMS" --format json otp request --user "$user" >/dev/null
    printf '%s\n' "$PW" | as "$acct" "$DMS" --format json password reset --user "$user" --otp "$(otp)" --password-stdin >/dev/null
    uri=$(printf '%s\n' "$PW" | as "$acct" "$DMS" --format json otp setup --user "$user" --app --password-stdin \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["otpauth_uri"])')
    secret=$(printf '%s' "$uri" | sed 's/.*secret=\([A-Z2-7]*\).*/\1/')
    echo "$secret" > "/tmp/dms-$user.secret"
    printf '%s\n' "$PW" | as "$acct" "$DMS" --format json login --user "$user" --password-stdin --otp "$(oathtool --totp -b "$secret")" \
        | python3 -c 'import json,sys; d=json.load(sys.stdin); print("signed in:", d["user_id"], d["role"])'
}
code() { oathtool --totp -b "$(cat "/tmp/dms-$1.secret")" --now "$(date -u -d "+${2:-0} seconds" '+%Y-%m-%d %H:%M:%S UTC')"; }

say "the operator (Unix account opsadmin): first-time logon, a participant, its DAs (DA3)"
first_logon opsadmin HKEXOP01
as opsadmin "$DMS" hkex settings set service-hours off >/dev/null
as opsadmin "$DMS" --format json hkex participant add --id B05678 --name "XYZ BROKERS" --house hkscc-cp --max-users 30 --domain xyz.com.hk >/dev/null
for r in maker checker checker; do
    as opsadmin "$DMS" --format json hkex da3 add --participant B05678 --role $r --surname CHAN --other-names "TAI MAN" --email "$r.$RANDOM@xyz.com.hk" >/dev/null
done

say "the DAs on accounts of their own: alice is the maker B05678X1, bob the checker B05678X2"
first_logon alice B05678X1
first_logon bob B05678X2
REQ=$(as alice "$DMS" --format json user create --generate --surname LEE --other-names "KA YAN" --email ky.lee@xyz.com.hk \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["request_id"])')
printf '%s\n' "$PW" | as bob "$DMS" --format json request approve "$REQ" --otp "$(code B05678X2 30)" --password-stdin
as bob "$DMS" listing

say "what a DA cannot do: read the database or its key, or open it embedded"
if as alice cat /var/lib/dms/dms.db.key >/dev/null 2>&1; then echo "alice read the key file" >&2; exit 1; fi
if as alice sqlite3 /var/lib/dms/dms.db "SELECT 1" >/dev/null 2>&1; then echo "alice opened the database" >&2; exit 1; fi
as alice env -u DMS_SERVER "$DMS" --db /var/lib/dms/dms.db whoami 2>&1 | sed 's/^/  alice, embedded: /' || true
echo "who acted, as the audit trail records it:"
as opsadmin "$DMS" --format csv report audit | python3 -c '
import csv, sys, json
for r in csv.DictReader(sys.stdin):
    if r["action"] in ("request.submitted", "request.approved"):
        print(" ", r["actor"], r["action"], json.loads(r["via"]) if r["via"] else None)'

say "TLS for remote DAs: a private authority, the server's certificate (key owned by dms, 0600)"
TLS=/etc/dms/tls; install -d -o dms -g dms -m 0700 "$TLS"
if [ ! -e "$TLS/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=dms test CA" -keyout /tmp/dms-ca.key -out "$TLS/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$TLS/key.pem" -out /tmp/dms.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\n' > /tmp/dms.ext
    openssl x509 -req -in /tmp/dms.csr -CA "$TLS/ca.pem" -CAkey /tmp/dms-ca.key -CAcreateserial -days 30 -extfile /tmp/dms.ext -out "$TLS/cert.pem" 2>/dev/null
    chown dms:dms "$TLS"/*.pem && chmod 600 "$TLS/key.pem" && chmod 644 "$TLS/ca.pem" "$TLS/cert.pem"
    rm -f /tmp/dms-ca.key /tmp/dms.csr /tmp/dms.ext
fi
pid() { python3 -c 'import json; print(json.load(open("/tmp/dms-serve.ready"))["pid"])'; }
kill -TERM "$(pid)"; wait "$SERVER" || true
runuser -u dms -g dms -G dms-users -- sh -c "umask 077; exec $DMS --db /var/lib/dms/dms.db serve --socket /run/dms/dms.sock --socket-group dms-users --listen 127.0.0.1:8443 --tls-cert $TLS/cert.pem --tls-key $TLS/key.pem" \
    > /tmp/dms-serve.ready 2>> /tmp/dms-serve.log &
SERVER=$!
for _ in $(seq 50); do grep -q listening /tmp/dms-serve.ready 2>/dev/null && break; sleep 0.1; done
cat /tmp/dms-serve.ready
cp "$TLS/ca.pem" /tmp/dms-ca.pem && chmod 644 /tmp/dms-ca.pem
as bob env DMS_SERVER=https://127.0.0.1:8443 DMS_CA_FILE=/tmp/dms-ca.pem "$DMS" whoami

say "the nightly backup, as the dms account (what its crontab line runs)"
install -d -o dms -g dms -m 0700 /var/backups/dms
[ -e /etc/dms/backup.pass ] || { head -c 24 /dev/urandom | base64 > /etc/dms/backup.pass; chown dms:dms /etc/dms/backup.pass; chmod 600 /etc/dms/backup.pass; }
runuser -u dms -- sh -c "$DMS --db /var/lib/dms/dms.db --format json backup --system --out /var/backups/dms/dms-\$(date +%F-%H%M%S).age --password-stdin < /etc/dms/backup.pass" \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print("backup:", d["file"], d["bytes"], "bytes")'
echo "and through the server it is refused (a host job):"
as opsadmin "$DMS" backup --out /tmp/x.age --password-stdin < /dev/null 2>&1 | sed 's/^/  /' || true

say "stop: SIGTERM, exit 0, the socket removed"
kill -TERM "$(pid)"; wait "$SERVER"; echo "the server exited $?"; [ ! -e /run/dms/dms.sock ] && echo "socket removed"
tail -3 /tmp/dms-serve.log
