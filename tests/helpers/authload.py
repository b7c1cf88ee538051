#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""authload - many SOCKS5 sessions at once, with or without a password.

    authload.py -p PORT --dst 127.0.0.1:ECHO [-m none|password] [-u USER]
                [--sessions N] [--concurrency C] [--users K]

Each session: greeting, RFC 1929 (with -m password; the password comes
from SOCKEYE_PASSWORD), CONNECT to --dst (an echo server), one 16-byte
round trip, close. With --users K the sessions cycle through users
USER0..USER{K-1} (all with the same password). Prints one line:

    sessions=N ok=N failed=N secs=S rate=R p50_ms=.. p95_ms=.. max_ms=..

Used by tests/integration/12-auth-nonblocking.sh (latency of no-auth
sessions while password checks run) and tests/bench/auth_rate.sh.
"""

import argparse
import os
import socket
import struct
import sys
import threading
import time


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def one(args, user, secret, dst):
    t0 = time.monotonic()
    s = socket.create_connection((args.host, args.port), args.timeout)
    try:
        s.settimeout(args.timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        m = 2 if args.method == "password" else 0
        s.sendall(bytes([5, 1, m]))
        if recv_exact(s, 2)[1] != m:
            return None
        if m == 2:
            u = user.encode()
            s.sendall(bytes([1, len(u)]) + u + bytes([len(secret)]) + secret)
            if recv_exact(s, 2)[1] != 0:
                return None
        s.sendall(bytes([5, 1, 0, 1]) + dst)
        rep = recv_exact(s, 10)
        if rep[1] != 0:
            return None
        s.sendall(b"0123456789abcdef")
        if recv_exact(s, 16) != b"0123456789abcdef":
            return None
        return time.monotonic() - t0
    finally:
        s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("-H", "--host", default="127.0.0.1")
    p.add_argument("-p", "--port", type=int, required=True)
    p.add_argument("--dst", required=True, help="IPv4:PORT of an echo server")
    p.add_argument("-m", "--method", default="none",
                   choices=("none", "password"))
    p.add_argument("-u", "--user", default="alice")
    p.add_argument("--users", type=int, default=0)
    p.add_argument("--sessions", type=int, default=100)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--duration", type=float, default=0,
                   help="run for this many seconds instead of --sessions")
    p.add_argument("--timeout", type=float, default=30)
    args = p.parse_args()
    host, _, port = args.dst.rpartition(":")
    dst = socket.inet_aton(host) + struct.pack("!H", int(port))
    secret = os.environ.get("SOCKEYE_PASSWORD", "").encode()

    lock = threading.Lock()
    lat, failed = [], [0]
    counter = [0]
    deadline = time.monotonic() + args.duration if args.duration else None

    def worker():
        while True:
            with lock:
                i = counter[0]
                if deadline is None and i >= args.sessions:
                    return
                if deadline is not None and time.monotonic() >= deadline:
                    return
                counter[0] += 1
            user = "%s%d" % (args.user, i % args.users) if args.users \
                else args.user
            try:
                r = one(args, user, secret, dst)
            except OSError:
                r = None
            with lock:
                if r is None:
                    failed[0] += 1
                else:
                    lat.append(r)

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker)
               for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - t0
    lat.sort()

    def pct(q):
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else 0

    n = len(lat) + failed[0]
    print("sessions=%d ok=%d failed=%d secs=%.2f rate=%.0f p50_ms=%.1f "
          "p95_ms=%.1f max_ms=%.1f" % (n, len(lat), failed[0], secs,
                                       len(lat) / secs if secs else 0,
                                       pct(0.5), pct(0.95),
                                       lat[-1] * 1000 if lat else 0),
          flush=True)


if __name__ == "__main__":
    main()
