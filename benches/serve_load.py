#!/usr/bin/env python3
"""Load helpers of benches/serve.sh.

    serve_load.py cli CLIENTS EACH OUT_JSON EXPECT -- COMMAND...
        CLIENTS threads, each running COMMAND EACH times in a row (a new process each time, as
        a person's shell would), all at once; every run's wall time from just before the
        process is started to its exit. A run counts as an error when it exits non-zero or its
        standard output lacks EXPECT. Writes the latencies' median, p99, mean and max (ms), the
        calls per second of the whole run and the errors to OUT_JSON.

    serve_load.py idle SOCKET N READY_FILE OUT_JSON
        Opens N connections to the Unix socket that send nothing, writes READY_FILE, and holds
        them until SIGTERM; the server closes a connection idle for 30 s, so every 20 s they are
        all closed and opened again (a fresh window). At SIGTERM it counts how many are still
        open (the server has not closed them) and writes the counts to OUT_JSON.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time


def pct(xs, p):
    """The p-th percentile, nearest rank (p99 of 1,000 calls is the 990th)."""
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, -(-len(xs) * p // 100) - 1))
    return xs[k]


def cli(args):
    clients, each, out, expect = int(args[0]), int(args[1]), args[2], args[3].encode()
    assert args[4] == "--"
    cmd = args[5:]
    lat, errors, sample = [], [], []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client():
        mine, bad = [], 0
        start.wait()
        for _ in range(each):
            t = time.perf_counter()
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            mine.append((time.perf_counter() - t) * 1000)
            if p.returncode != 0 or expect not in p.stdout:
                bad += 1
                with lock:
                    if not sample:
                        sample.append(f"exit {p.returncode}: {p.stderr.decode(errors='replace')[-300:]}")
        with lock:
            lat.extend(mine)
            errors.append(bad)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    r = {
        "clients": clients,
        "calls": len(lat),
        "errors": sum(errors),
        "p50_ms": pct(lat, 50),
        "p99_ms": pct(lat, 99),
        "mean_ms": sum(lat) / len(lat),
        "max_ms": max(lat),
        "wall_s": wall,
        "per_second": len(lat) / wall,
        "error_sample": sample[0] if sample else "",
    }
    json.dump(r, open(out, "w"))
    print(json.dumps(r))


def idle(args):
    path, n, ready, out = args[0], int(args[1]), args[2], args[3]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def open_all():
        conns = []
        for _ in range(n):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            conns.append(s)
        return conns

    conns, opened, rounds = open_all(), time.monotonic(), 1
    open(ready, "w").write(f"{n}\n")
    while not stop.wait(0.2):
        if time.monotonic() - opened > 20:
            for s in conns:
                s.close()
            conns, opened, rounds = open_all(), time.monotonic(), rounds + 1
    alive = 0
    for s in conns:
        s.setblocking(False)
        try:
            alive += 0 if s.recv(1) == b"" else 1
        except BlockingIOError:
            alive += 1  # nothing to read and not closed: still open
        except OSError:
            pass
    r = {"connections": n, "alive_at_end": alive, "rounds": rounds, "held_s": time.monotonic() - opened}
    json.dump(r, open(out, "w"))
    for s in conns:
        s.close()


if __name__ == "__main__":
    {"cli": cli, "idle": idle}[sys.argv[1]](sys.argv[2:])
