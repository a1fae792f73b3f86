#!/usr/bin/env python3
"""The table benches/day.sh prints: every figure of the day (issue 17) after each step, with
its ratio to sqlite3, its bar and a verdict; the day's own steps timed in place; the sizes of
dms.db and dms.db-wal after each step.

    python3 benches/day_table.py RESULTS_DIR REQUESTS SIGNIN_USERS SIGNIN_EACH
"""

import json
import os
import re
import sys

d = sys.argv[1]
requests, signin_users, signin_each = (int(x) for x in sys.argv[2:5])
W = 58


def path(f):
    return os.path.join(d, f)


def med(f, i=0):
    return json.load(open(path(f)))["results"][i]["median"]


def secs(name):
    return float(open(path(name + ".s")).read())


def text(f):
    return open(path(f)).read().strip()


def rss(f):
    t = open(path(f)).read()
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024


def ms(s):
    return f"{s * 1000:9.1f} ms"


def verdict(ok):
    return "ok" if ok else "MISSED"


def header(title):
    print(f"\n{title}")
    print(f"{'figure':{W}} {'dms':>12} {'sqlite3':>12} {'ratio':>7} {'bar':>9}  verdict")


def pair(name, f, bar):
    a, b = med(f, 0), med(f, 1)
    r = a / b
    print(f"{name:{W}} {ms(a):>12} {ms(b):>12} {r:6.2f}x {'<= ' + format(bar, '.1f') + 'x':>9}  {verdict(r <= bar)}")


def once(name, s, extra=""):
    print(f"{name:{W}} {ms(s):>12} {'':>12} {'':>7} {'':>9}  {extra}")


def measured(f):
    """Run f(); a figure whose files are missing (the run stopped before it) is skipped."""
    try:
        f()
    except FileNotFoundError as e:
        print(f"   (missing: {os.path.basename(e.filename)})")


STEPS = {
    1: "after the migration (10:02)",
    2: "after the bulk e-mail registration (10:05)",
    3: f"after {requests} requests queued and approved (10:22)",
    4: f"after {signin_users * signin_each} sign-ins (10:37)",
    5: "after the history growth (10:38)",
}

header("The day's steps, in place (one run each) and against sqlite3")


def migration():
    pair("migration, 1,500 participants + 100k users (copies)", "migration.json", 1.5)
    once("   the day's own migration, in place", secs("migration_inplace"))
    mib = rss("migration_users.time")
    print(f"{'   peak RSS, import-smartcard-users':{W}} {mib:8.1f} MiB {'':>12} {'':>7} {'<= 64 MiB':>9}  {verdict(mib <= 64)}")


measured(migration)
measured(lambda: once("bulk e-mails, 1,269 rows, approved inline", secs("bulk")))
measured(lambda: once(f"{requests} change requests submitted, one process each", secs("submit") / requests, "(each)"))
measured(lambda: once(f"{requests} approvals, one by one (argon2id + TOTP)", secs("approve") / requests, "(each)"))
measured(lambda: pair("listing --all as CSV, 100k rows (at 10:22)", "listing_all.json", 1.2))


def signins():
    s = secs("signins")
    n = signin_users * signin_each
    print(f"{f'{n} sign-ins ({signin_users} users side by side)':{W}} {ms(s):>12} {'':>12} {'':>7} {'':>9}  ({n / s:.1f} sign-ins/s)")


measured(signins)


def history():
    a0, a1 = int(text("audit_rows_before")), int(text("audit_rows_after"))
    s0, s1 = int(text("sessions_before")), int(text("sessions_after"))
    once(f"audit trail {a0:,} -> {a1:,} rows (mk_audit)", secs("grow_audit"))
    once(f"sessions {s0:,} -> {s1:,} rows (mk_sessions)", secs("grow_sessions"))


measured(history)

for n, title in STEPS.items():
    header(f"Figures {n}: {title}, in place")

    def block(n=n):
        pair("user enquire", f"f{n}_enquire.json", 1.5)
        pair("listing --participant (median participant)", f"f{n}_listing.json", 1.5)
        pair("whoami vs sqlite3 reading the session and account", f"f{n}_whoami.json", 1.5)
        pair(f"request list --participant ({text(f'f{n}_requests_n')} requests)", f"f{n}_requests.json", 1.5)

    measured(block)


def against_first():
    print(f"\n{'whoami against figures 1':{W}} {'then':>12} {'now':>12} {'ratio':>7}")
    first = med("f1_whoami.json")
    for n in range(2, 6):
        try:
            now = med(f"f{n}_whoami.json")
        except FileNotFoundError:
            continue
        print(f"{'   ' + STEPS[n]:{W}} {ms(first):>12} {ms(now):>12} {now / first:6.2f}x")


measured(against_first)


def sizes():
    print(f"\n{'sizes after each step':{W}} {'dms.db':>14} {'dms.db-wal':>14}")
    for line in open(path("sizes.tsv")):
        label, db, wal = line.rstrip("\n").split("\t")
        wal_s = f"{int(wal):,}" if wal != "-" else "(none)"
        print(f"{'   ' + label:{W}} {int(db):>14,} {wal_s:>14}")


measured(sizes)
