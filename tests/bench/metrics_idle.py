#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""metrics_idle - how fast sockeyed answers GET /metrics with many idle
sessions open (tests/bench/scenarios/metrics-idle.sh runs it).

    metrics_idle.py LOADGEN SOCKEYED WORKDIR

sockeyed runs with BENCH_WORKERS workers (default 4), no authentication
and metrics_listen on 127.0.0.1 port 0; `loadgen serve` (two of them)
echoes. First BENCH_SCRAPES scrapes (default 20) with no session open;
then BENCH_SESSIONS sessions (default 20,000), each after one 16-byte
round trip held open and idle by BENCH_HOLDERS `loadgen hold` processes
(default 4: no process here may hold more than 20,000 descriptors, so
the clients, the echo servers and the workers share them out), checked
in the metrics themselves (sockeye_sessions_active); then BENCH_SCRAPES
scrapes again. A scrape is timed from the connect to the end of the
answer (the server closes): a plain HTTP/1.1 GET on a fresh
connection, as Prometheus makes it, one every 100 ms. Prints a Markdown
table (median, max, size), one line "result ..." for the README, and
exits 0 when the median with the sessions open is under BENCH_GOAL_MS
(default 10), 1 otherwise or on any error.
"""

import os
import re
import socket
import statistics
import subprocess
import sys
import time

LOADGEN, SOCKEYED, WORK = sys.argv[1:4]
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "20000"))
HOLDERS = int(os.environ.get("BENCH_HOLDERS", "4"))
SCRAPES = int(os.environ.get("BENCH_SCRAPES", "20"))
GOAL_MS = float(os.environ.get("BENCH_GOAL_MS", "10"))
procs = []


def die(msg):
    print("metrics-idle: " + msg, file=sys.stderr)
    for p in procs:
        if p.poll() is None:
            p.kill()
    sys.exit(1)


def wait_file(path, secs, what):
    until = time.monotonic() + secs
    while time.monotonic() < until:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path) as f:
                text = f.read()
            if text.endswith("\n"):
                return text
        time.sleep(0.05)
    die("no %s in %d s" % (what, secs))


def echo_server(i):
    ep, sp = os.path.join(WORK, "echo%d" % i), os.path.join(WORK, "src%d" % i)
    procs.append(subprocess.Popen([LOADGEN, "serve", ep, sp]))
    return int(wait_file(ep, 10, "echo port").strip())


def start_sockeyed():
    conf = os.path.join(WORK, "sockeye.conf")
    ports = os.path.join(WORK, "ports")
    with open(conf, "w") as f:
        f.write("""listen = [ "127.0.0.1:0" ];
workers = %d;
user = "nobody"; group = "nogroup";
pid_file = "%s/pid";
auth = { methods = [ "none" ]; };
log = { target = "%s/sockeyed.log"; level = "info"; access = true; };
clients = [ "127.0.0.0/8" ];
limits = { max_sessions = %d; max_sessions_per_client = %d;
           idle_timeout_s = 0; };
metrics_listen = "127.0.0.1:0";
""" % (WORKERS, WORK, WORK, SESSIONS + 1000, SESSIONS + 1000))
    procs.append(subprocess.Popen([SOCKEYED, "-F", "-f", conf, "-P", ports],
                                  stdin=subprocess.DEVNULL))
    text = wait_file(ports, 20, "ports file")
    until = time.monotonic() + 20
    while "metrics " not in text and time.monotonic() < until:
        time.sleep(0.05)
        text = wait_file(ports, 20, "ports file")
    socks = int(text.splitlines()[0].rsplit(":", 1)[1])
    m = re.search(r"^metrics 127\.0\.0\.1:(\d+)$", text, re.M)
    if m is None:
        die("no metrics line in %r" % text)
    return socks, int(m.group(1))


def scrape(port):
    """One GET /metrics: (seconds, body)."""
    t0 = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"User-Agent: metrics-idle\r\nAccept: */*\r\n\r\n")
    buf = bytearray()
    while True:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    t = time.perf_counter() - t0
    s.close()
    head, _, body = bytes(buf).partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200 "):
        die("scrape: %r" % head[:80])
    return t, body.decode()


def value(body, series):
    m = re.search(r"^%s (\d+)$" % re.escape(series), body, re.M)
    return int(m.group(1)) if m else None


def measure(port):
    times, size = [], 0
    for _ in range(SCRAPES):
        t, body = scrape(port)
        times.append(t * 1000)
        size = len(body)
        time.sleep(0.1)
    return times, size


def row(label, times, size):
    return "| %s | %.2f ms | %.2f ms | %.2f ms | %d |" % (
        label, statistics.median(times), min(times), max(times), size)


def main():
    echo = [echo_server(0), echo_server(1)]
    socks, mport = start_sockeyed()
    # The workers are up once the metrics say so.
    until = time.monotonic() + 20
    while True:
        _, body = scrape(mport)
        if value(body, 'sockeye_workers{state="running"}') == WORKERS:
            break
        if time.monotonic() > until:
            die("the workers did not start")
        time.sleep(0.1)
    idle_times, idle_size = measure(mport)

    holders = []
    per = SESSIONS // HOLDERS
    t0 = time.monotonic()
    for i in range(HOLDERS):
        n = per if i < HOLDERS - 1 else SESSIONS - per * (HOLDERS - 1)
        p = subprocess.Popen([LOADGEN, "hold", "--proxy", str(socks),
                              "--port", str(echo[i % 2]), "--count", str(n)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        procs.append(p)
        holders.append(p)
    for p in holders:
        line = p.stdout.readline()
        if not line.startswith("ready"):
            die("loadgen hold: " + p.stderr.read().strip())
    opened = time.monotonic() - t0
    _, body = scrape(mport)
    active = value(body, "sockeye_sessions_active")
    if active != SESSIONS:
        die("sockeye_sessions_active is %s, want %d" % (active, SESSIONS))
    busy_times, busy_size = measure(mport)
    _, body = scrape(mport)
    still = value(body, "sockeye_sessions_active")

    for p in holders:
        p.stdin.close()
    for p in holders:
        if p.wait(120) != 0:
            die("loadgen hold: " + p.stderr.read().strip())

    print("sockeyed, %d workers; %d idle relayed sessions opened in %.1f s "
          "by %d clients, %d still open after the scrapes" % (
              WORKERS, SESSIONS, opened, HOLDERS, still))
    print()
    print("| sessions open | median | min | max | bytes |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(row("0", idle_times, idle_size))
    print(row("{:,}".format(SESSIONS), busy_times, busy_size))
    print()
    med = statistics.median(busy_times)
    print("result sessions=%d scrapes=%d median_ms=%.2f max_ms=%.2f "
          "idle_median_ms=%.2f goal_ms=%.0f" % (
              SESSIONS, SCRAPES, med, max(busy_times),
              statistics.median(idle_times), GOAL_MS))
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
    if still != SESSIONS:
        die("sessions closed during the scrapes: %s of %d open" % (
            still, SESSIONS))
    sys.exit(0 if med < GOAL_MS else 1)


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError) as e:
        die(str(e))
