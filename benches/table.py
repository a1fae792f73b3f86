#!/usr/bin/env python3
"""The table benches/run.sh prints: each figure of SPEC §9 and issue 12 from the hyperfine JSON
and /usr/bin/time files of one run, with its ratio, its bar and a verdict.

    python3 benches/table.py RESULTS_DIR META_JSON CORES RUSH_PROCS RUSH_EACH AUDIT_ROWS
"""

import json
import os
import re
import sys

d = sys.argv[1]
meta = json.load(open(sys.argv[2]))
cores, procs, each, audit_rows = (int(x) for x in sys.argv[3:7])


def med(f, i=0):
    return json.load(open(os.path.join(d, f)))["results"][i]["median"]


def rss(f):
    t = open(os.path.join(d, f)).read()
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024


def ms(s):
    return f"{s * 1000:9.1f} ms"


print(f"{'figure':54} {'dms':>12} {'sqlite3':>12} {'ratio':>7} {'bar':>9}  verdict")


def measured(f):
    """Run f(); a figure whose files are missing (SECTIONS left it out) is skipped."""
    try:
        f()
    except FileNotFoundError:
        pass



def row(name, a, b, bar, extra=""):
    r = a / b
    verdict = "ok" if r <= bar else "MISSED"
    print(f"{name:54} {ms(a):>12} {ms(b):>12} {r:6.2f}x {'<= ' + format(bar, '.1f') + 'x':>9}  {verdict}{extra}")


def info(name, a, b):
    """A ratio for the record, with no bar."""
    print(f"{name:54} {ms(a):>12} {ms(b):>12} {a / b:6.2f}x")


def pair(name, f, bar, extra=""):
    row(name, med(f, 0), med(f, 1), bar, extra)


def mem(name, mib, bar):
    verdict = "ok" if mib <= bar else "MISSED"
    print(f"{name:54} {mib:8.1f} MiB {'':>12} {'':>7} {'<= ' + str(bar) + ' MiB':>9}  {verdict}")


measured(lambda: pair("a. migration, 1,500 participants + 100k users", "a_migration.json", 1.5))
measured(lambda: mem("a. peak RSS, import-smartcard-users (100k users)", rss("a_migration_dms.time"), 64))
measured(lambda: pair("b. listing --all as CSV (100k rows)", "b_listing.json", 1.2))
measured(lambda: mem("b. peak RSS, listing --all", rss("b_listing_dms.time"), 32))
measured(lambda: pair("c. user enquire", "c_enquire.json", 1.5))
measured(lambda: pair("c. request list (31 requests)", "c_request_list.json", 1.5))
measured(lambda: pair("c. listing --participant, full (1,272 rows)", "c_listing_full.json", 1.5))
measured(lambda: pair(f"c. listing --participant, median ({meta['typical_users']} rows)", "c_listing_typical.json", 1.5))


def argon():
    return json.load(open(os.path.join(d, "g_argon2.json")))


def bulk():
    a = argon()
    row(
        "d. bulk e-mails, 1,269 rows, submitted + approved",
        med("d_bulk.json", 0),
        med("d_bulk.json", 1) + a["median_ms"] / 1000,
        2.0,
        f"   (sqlite3 {ms(med('d_bulk.json', 1)).strip()} + one argon2id {a['median_ms']:.1f} ms)",
    )
    print(f"{'d. the same submission without --checker (PENDING)':54} {ms(med('d_bulk_submit.json')):>12}")


measured(bulk)


def trail():
    pair(f"e. audit verify, {audit_rows:,} rows", "e_audit.json", 1.5)
    day_rows = int(open(os.path.join(d, "e_day_rows")).read().strip())
    pair(f"e. report audit, one day ({day_rows:,} rows)", "e_day.json", 2.0)
    pair("e. report audit --format jsonl, last 1,000,000 rows", "e_jsonl.json", 2.0)
    mem("e. peak RSS, jsonl of the last 1,000,000 rows", rss("e_jsonl_dms.time"), 32)
    mem(f"e. peak RSS, audit verify of {audit_rows:,} rows", rss("e_verify_dms.time"), 64)
    db_bytes = int(open(os.path.join(d, "e_db_bytes")).read().strip())
    print(f"   (the trail: {audit_rows:,} rows in a {db_bytes / 2**30:.2f} GiB database)")


measured(trail)
measured(lambda: pair("f. whoami (no argon2) vs sqlite3 start + SELECT 1", "f_whoami.json", 1.3))
measured(lambda: info("   whoami vs sqlite3 opening the file for a session row", med("f_whoami.json", 0), med("f_whoami.json", 2)))
measured(lambda: print(f"{'f. login (argon2id verify + TOTP + new session)':54} {ms(med('f_login.json')):>12}"))


def rush():
    a = argon()
    t_argon = a["median_ms"] / 1000
    rate = procs * each / med("g_rush.json")
    limit = cores / t_argon
    threads = a.get("parallel_per_second", 0.0)
    one = each / med("g_one.json")
    share = rate / limit
    verdict = "ok" if share >= 0.8 else "MISSED"
    print(
        f"{'g. morning rush, sign-ins per second':54} {rate:8.1f} /s {limit:8.1f} /s {share * 100:6.0f}% {'>= 80%':>9}  {verdict}"
    )
    print(
        f"   ({procs} processes x {each} sign-ins; limit = {cores} cores / {a['median_ms']:.1f} ms per argon2id"
        f" verification; {procs} threads of argon2id alone reach {threads:.1f}/s; one process alone signs in {one:.1f}/s)"
    )


measured(rush)
