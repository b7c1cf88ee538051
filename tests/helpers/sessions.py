#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""sessions - many SOCKS5 sessions relaying at once (python3 stdlib only).

    sessions.py -p PORT --dst 127.0.0.1:ECHO -n 50 [-u USER] \\
        [--ready FILE] [--go FILE] [--after N] [--timeout S]

Opens N sessions through the proxy to an echo server (no authentication,
or RFC 1929 with -u USER and the password in the environment variable
SOCKEYE_PASSWORD), then each one keeps relaying: it sends a chunk of
seeded pseudo-random bytes (1 to 16 KiB), reads exactly that many back
and compares them, again and again. When every session has finished its
handshake and first echo, the file --ready is written. The sessions go on
relaying until the file --go exists, then each does --after more chunks,
half-closes, waits for the echo server's EOF through the proxy, and
closes. So a test can do something to the proxy (a reload) while all N
are in the middle of relaying.

With --churn FILE, each of the N threads instead opens short sessions
one after another (handshake, one chunk echoed, half-close, close) until
FILE exists: a test can reload the proxy meanwhile and see whether any
connection was refused or cut.

Output: one line per failed session ("bad I: why"), then
    sessions=N ok=K bytes=B
where bytes is what each ok session sent (and got back identical),
summed. Exit 0 when every session was ok, 1 otherwise. --timeout bounds
every socket operation and the wait for --go.
"""

import argparse
import hashlib
import os
import random
import socket
import struct
import sys
import threading
import time


class Fail(Exception):
    pass


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            raise Fail("closed after %d of %d bytes" % (len(buf), n))
        buf += d
    return bytes(buf)


def handshake(s, args, host, port):
    if args.user:
        s.sendall(b"\x05\x01\x02")
        if recv_exact(s, 2) != b"\x05\x02":
            raise Fail("method not password")
        pw = os.environ.get("SOCKEYE_PASSWORD", "").encode()
        u = args.user.encode()
        s.sendall(bytes([1, len(u)]) + u + bytes([len(pw)]) + pw)
        st = recv_exact(s, 2)
        if st[1] != 0:
            raise Fail("auth failed: status %d" % st[1])
    else:
        s.sendall(b"\x05\x01\x00")
        if recv_exact(s, 2) != b"\x05\x00":
            raise Fail("method not none")
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(host) +
              struct.pack(">H", port))
    rep = recv_exact(s, 4)
    if rep[1] != 0:
        raise Fail("rep=%d" % rep[1])
    alen = {1: 4, 4: 16}.get(rep[3])
    if alen is None:
        raise Fail("bad atyp %d" % rep[3])
    recv_exact(s, alen + 2)


class Churn(threading.Thread):
    def __init__(self, i, args, host, port):
        super().__init__(daemon=True)
        self.i = i
        self.args = args
        self.host = host
        self.port = port
        self.ok = 0
        self.errors = []
        self.rng = random.Random(5000 + i)

    def run(self):
        deadline = time.monotonic() + self.args.timeout
        while not os.path.exists(self.args.churn) and \
                time.monotonic() < deadline:
            s = None
            try:
                s = socket.create_connection(
                    (self.args.host, self.args.port),
                    timeout=self.args.timeout)
                s.settimeout(self.args.timeout)
                handshake(s, self.args, self.host, self.port)
                data = self.rng.randbytes(self.rng.randint(1, 4096))
                s.sendall(data)
                if recv_exact(s, len(data)) != data:
                    raise Fail("echo differs")
                s.shutdown(socket.SHUT_WR)
                if s.recv(1) != b"":
                    raise Fail("bytes after the echo's EOF")
                self.ok += 1
            except (OSError, Fail) as e:
                self.errors.append("%s: %s" % (type(e).__name__, e))
            finally:
                if s is not None:
                    s.close()


def churn(args, host, port):
    ts = [Churn(i, args, host, port) for i in range(args.n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(args.timeout * 2)
    ok = sum(t.ok for t in ts)
    bad = 0
    for t in ts:
        for e in t.errors:
            bad += 1
            if bad <= 10:
                print("bad %d: %s" % (t.i, e))
    print("churn ok=%d bad=%d" % (ok, bad))
    sys.stdout.flush()
    return 0 if bad == 0 and ok > 0 else 1


class Session(threading.Thread):
    def __init__(self, i, args, host, port, started):
        super().__init__(daemon=True)
        self.i = i
        self.args = args
        self.host = host
        self.port = port
        self.started = started
        self.error = None
        self.sent = 0
        self.rng = random.Random(1000 + i)

    def chunk(self, s, sha_out, sha_in):
        n = self.rng.randint(1024, 16384)
        data = self.rng.randbytes(n)
        s.sendall(data)
        back = recv_exact(s, n)
        sha_out.update(data)
        sha_in.update(back)
        if back != data:
            raise Fail("echo differs after %d bytes" % self.sent)
        self.sent += n

    def run(self):
        sha_out, sha_in = hashlib.sha256(), hashlib.sha256()
        s = None
        try:
            s = socket.create_connection((self.args.host, self.args.port),
                                         timeout=self.args.timeout)
            s.settimeout(self.args.timeout)
            handshake(s, self.args, self.host, self.port)
            self.chunk(s, sha_out, sha_in)
            self.started.release()
            deadline = time.monotonic() + self.args.timeout
            while not (self.args.go and os.path.exists(self.args.go)) \
                    and self.args.go:
                if time.monotonic() > deadline:
                    raise Fail("no --go file within %s s" % self.args.timeout)
                self.chunk(s, sha_out, sha_in)
                time.sleep(0.05)
            for _ in range(self.args.after):
                self.chunk(s, sha_out, sha_in)
            s.shutdown(socket.SHUT_WR)
            if s.recv(1) != b"":
                raise Fail("bytes after the echo's EOF")
            if sha_out.digest() != sha_in.digest():
                raise Fail("digest differs")
        except (OSError, Fail) as e:
            self.error = "%s: %s" % (type(e).__name__, e)
            self.started.release()
        finally:
            if s is not None:
                s.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("-H", "--host", default="127.0.0.1")
    p.add_argument("-p", "--port", type=int, required=True)
    p.add_argument("--dst", required=True, help="echo server IPv4:PORT")
    p.add_argument("-n", type=int, default=50)
    p.add_argument("-u", "--user")
    p.add_argument("--ready")
    p.add_argument("--go")
    p.add_argument("--after", type=int, default=10)
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--churn", metavar="FILE",
                   help="short sessions until FILE exists")
    args = p.parse_args()
    host, port = args.dst.rsplit(":", 1)
    if args.churn:
        return churn(args, host, int(port))

    started = threading.Semaphore(0)
    ss = [Session(i, args, host, int(port), started) for i in range(args.n)]
    for s in ss:
        s.start()
    for _ in ss:
        started.acquire(timeout=args.timeout)
    if args.ready:
        tmp = args.ready + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % sum(1 for s in ss if s.error is None))
        os.rename(tmp, args.ready)
    for s in ss:
        s.join(args.timeout * 2)
    ok = 0
    total = 0
    for s in ss:
        if s.is_alive():
            print("bad %d: still running" % s.i)
        elif s.error is not None:
            print("bad %d: %s" % (s.i, s.error))
        else:
            ok += 1
            total += s.sent
    print("sessions=%d ok=%d bytes=%d" % (len(ss), ok, total))
    sys.stdout.flush()
    return 0 if ok == len(ss) else 1


if __name__ == "__main__":
    sys.exit(main())
