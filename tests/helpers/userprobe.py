#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""userprobe - many sessions of one user asking at once; count the admitted.

    userprobe.py -p PORT -u USER --dst 127.0.0.1:ECHO -n N [--timeout S]

Opens N connections through the proxy at the same instant (a thread
each, released together), each authenticating as USER with RFC 1929
(the password in the environment variable SOCKEYE_PASSWORD) and asking
for CONNECT to --dst. A session that gets REP 0 is admitted and is held
open until every one has its answer, so the count is of sessions alive
at the same time; any other REP is a refusal. Prints one line per REP
seen ("rep=R count=K") and
    total admitted=A refused=R undecided=U
Exit 0 when every connection got an answer, 1 otherwise. Bounded:
--timeout seconds for every socket operation and for the whole run.
"""

import argparse
import os
import socket
import struct
import sys
import threading


def one(args, host, port, start, done, results, i):
    s = None
    try:
        start.wait(args.timeout)
        s = socket.create_connection((args.host, args.port), args.timeout)
        s.settimeout(args.timeout)
        s.sendall(b"\x05\x01\x02")
        if recvn(s, 2) != b"\x05\x02":
            raise OSError("method not accepted")
        u = args.user.encode()
        p = os.environ.get("SOCKEYE_PASSWORD", "").encode()
        s.sendall(bytes([1, len(u)]) + u + bytes([len(p)]) + p)
        if recvn(s, 2) != b"\x01\x00":
            raise OSError("authentication failed")
        s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(host) +
                  struct.pack(">H", port))
        head = recvn(s, 4)
        results[i] = head[1]
    except OSError as e:
        results[i] = "error: %s" % e
    done.wait(args.timeout)     # hold until everyone has an answer
    if s is not None:
        s.close()


def recvn(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise OSError("closed after %d bytes" % len(b))
        b += c
    return b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-p", "--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("-u", "--user", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("-n", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=30.0)
    args = ap.parse_args()
    host, port = args.dst.rsplit(":", 1)

    results = [None] * args.n
    start = threading.Barrier(args.n + 1)
    done = threading.Barrier(args.n + 1)
    ts = [threading.Thread(target=one, daemon=True,
                           args=(args, host, int(port), start, done,
                                 results, i)) for i in range(args.n)]
    for t in ts:
        t.start()
    start.wait(args.timeout)
    # Everyone has answered once each thread is at the `done` barrier.
    try:
        done.wait(args.timeout)
    except threading.BrokenBarrierError:
        pass
    for t in ts:
        t.join(args.timeout)

    counts = {}
    for r in results:
        counts[r] = counts.get(r, 0) + 1
    for r, k in sorted(counts.items(), key=lambda x: str(x[0])):
        if isinstance(r, int):
            print("rep=%d count=%d" % (r, k))
        else:
            print("%s count=%d" % (r, k))
    adm = counts.get(0, 0)
    und = sum(k for r, k in counts.items() if not isinstance(r, int))
    print("total admitted=%d refused=%d undecided=%d" %
          (adm, args.n - adm - und, und))
    return 0 if und == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
