#!/usr/bin/env python3
"""The table benches/serve.sh prints: the figures of issue 16 (dms serve) from the hyperfine,
wrk and helper JSON of one run, each with its bar and a verdict.

    python3 benches/serve_table.py RESULTS_DIR CORES RUSH_PROCS RUSH_EACH LOAD_CLIENTS CLI_EACH IDLE_CONNS
"""

import json
import os
import sys

d = sys.argv[1]
cores, procs, each, clients, cli_each, idle_conns = (int(x) for x in sys.argv[2:8])


def load(f):
    return json.load(open(os.path.join(d, f)))


def text(f):
    return open(os.path.join(d, f)).read().strip()


def res(f, i=0):
    return load(f)["results"][i]


def pct(xs, p):
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, -(-len(xs) * p // 100) - 1))
    return xs[k]


def ms(s):
    return f"{s * 1000:8.1f} ms"


def verdict(ok):
    return "ok" if ok else "MISSED"


W = 60
print(f"{'figure':{W}} {'server':>12} {'beside':>12} {'ratio':>8} {'bar':>12}  verdict")


def measured(f):
    """Run f(); a figure whose files are missing (that part failed or was left out) is skipped."""
    try:
        f()
    except FileNotFoundError as e:
        print(f"{'   (missing: ' + os.path.basename(e.filename) + ')':{W}}")


def rush():
    a = load("argon2.json")
    rate = procs * each / res("rush.json")["median"]
    limit = cores / (a["median_ms"] / 1000)
    threads = a["parallel_per_second"]
    print(
        f"{'1. sign-ins/s through one server, of argon2id alone':{W}} {rate:9.1f} /s {threads:9.1f} /s"
        f" {rate / threads * 100:7.0f}% {'>= 80%':>12}  {verdict(rate >= 0.8 * threads)}"
    )
    print(
        f"{'   the same, of cores / one argon2id (run.sh g limit)':{W}} {rate:9.1f} /s {limit:9.1f} /s"
        f" {rate / limit * 100:7.0f}% {'>= 80%':>12}  {verdict(rate >= 0.8 * limit)}"
    )
    print(
        f"   ({procs} client processes x {each} sign-ins (password + TOTP) at once, median of"
        f" {len(res('rush.json')['times'])} runs; argon2id alone: {procs} threads reach {threads:.1f}/s,"
        f" one verification {a['median_ms']:.1f} ms on one thread, {cores} cores)"
    )


measured(rush)


def whoami():
    s, e = res("whoami.json", 0), res("whoami.json", 1)
    r = s["median"] / e["median"]
    print(f"{'2. whoami through the server vs embedded (median)':{W}} {ms(s['median']):>12} {ms(e['median']):>12} {r:7.2f}x {'<= 1.0x':>12}  {verdict(r <= 1.0)}")
    sp, ep = pct(s["times"], 99), pct(e["times"], 99)
    print(f"{'   p99':{W}} {ms(sp):>12} {ms(ep):>12} {sp / ep:7.2f}x")
    for line in text("sessions.txt").splitlines():
        print(f"   {line}")


measured(whoami)


def wrk():
    w = load("wrk.json")
    log = load("wrk_log.json")
    errors = w["non2xx"] + w["connect_errors"] + w["read_errors"] + w["write_errors"] + w["timeouts"] + w["bad"]
    secs = w["duration_us"] / 1e6
    name = f"3. {clients} wrk connections (TLS), user/enquire: p50 / p99"
    print(f"{name:{W}} {w['p50_us'] / 1000:8.1f} ms {w['p99_us'] / 1000:8.1f} ms {'':>8} {'errors = 0':>12}  {verdict(errors == 0 and log['failed'] == 0 and w['good'] > 0)}")
    print(
        f"   ({w['requests']:,} calls in {secs:.1f} s = {w['requests'] / secs:,.0f}/s; replies ending \"done\": {w['good']:,},"
        f" other {w['bad']}; non-2xx {w['non2xx']}, socket errors {w['connect_errors'] + w['read_errors'] + w['write_errors']},"
        f" timeouts {w['timeouts']}; the server logged {log['logged']:,} such calls, {log['failed']} with an exit code)"
    )
    if w["p50_us"] > 4_000_000:
        print("   (each reply's body ends only at the server's next 5-s tick after its \"done\": see benches/README.md)")
    if w["bad_sample"]:
        print(f"   (a bad reply: {w['bad_sample'][:200]})")
    mib = int(text("hwm_wrk_kib")) / 1024
    print(f"{'   server peak RSS (VmHWM) under wrk':{W}} {mib:8.1f} MiB")
    print(
        f"   (one call by curl before the load, to the end of its reply: {float(text('curl_tls_s')) * 1000:.1f} ms over TLS,"
        f" {float(text('curl_unix_s')) * 1000:.1f} ms over the socket)"
    )


measured(wrk)


def cli():
    c = load("cli.json")
    name = f"3. {clients} CLI clients (socket), user enquire: p50 / p99"
    print(f"{name:{W}} {c['p50_ms']:8.1f} ms {c['p99_ms']:8.1f} ms {'':>8} {'errors = 0':>12}  {verdict(c['errors'] == 0)}")
    print(
        f"   ({c['calls']:,} calls, {cli_each} in a row per client, in {c['wall_s']:.1f} s = {c['per_second']:.0f}/s;"
        f" errors {c['errors']}; each a new dms process, timed from its start to its exit)"
    )
    if c["error_sample"]:
        print(f"   (an error: {c['error_sample'][:200]})")
    mib = int(text("hwm_cli_kib")) / 1024
    print(f"{'   server peak RSS (VmHWM) under the CLI clients':{W}} {mib:8.1f} MiB")
    print(
        f"   (server RSS at start {int(text('rss_started_kib')) / 1024:.1f} MiB, before the load (after the rush)"
        f" {int(text('rss_before_load_kib')) / 1024:.1f} MiB, at the end {int(text('rss_end_kib')) / 1024:.1f} MiB)"
    )


measured(cli)


def idle():
    a, b = res("idle_without.json"), res("idle_with.json")
    h = load("idle_holder.json")
    dm = (b["median"] - a["median"]) * 1000
    dp = (pct(b["times"], 99) - pct(a["times"], 99)) * 1000
    name = f"4. whoami beside {idle_conns} idle connections: median"
    print(f"{name:{W}} {ms(b['median']):>12} {ms(a['median']):>12} {dm:+6.1f}ms {'<= +100 ms':>12}  {verdict(dm <= 100)}")
    print(f"{'   p99':{W}} {ms(pct(b['times'], 99)):>12} {ms(pct(a['times'], 99)):>12} {dp:+6.1f}ms {'<= +100 ms':>12}  {verdict(dp <= 100)}")
    print(
        f"   (beside = without them; {len(b['times'])} runs each; {h['alive_at_end']} of {h['connections']} still open at the end,"
        f" held {h['held_s']:.0f} s, opened {h['rounds']} time(s); the server's open files {text('idle_server_fds_before')}"
        f" -> {text('idle_server_fds')})"
    )


measured(idle)


def stop():
    rc = int(text("stop_rc"))
    print(f"{'SIGTERM: the server exits 0 and removes its socket':{W}} {'exit ' + str(rc):>12} {text('stop_socket'):>21} {'':>12}  {verdict(rc == 0 and text('stop_socket') == 'socket removed')}")


measured(stop)
