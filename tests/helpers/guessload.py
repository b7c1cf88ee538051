#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""guessload - password guessers next to a legitimate user, timed.

    guessload.py -p PORT [-H HOST] [-u USER] [--guessers N]
                 [--guess-from ADDR] [--login-from ADDR] [--logins K]
                 [--interval S] [--warmup S] [--timeout S]

N connections from --guess-from (default 127.0.0.2) send RFC 1929
requests for USER with wrong passwords, nonstop: each one, once answered,
reconnects and guesses again. Meanwhile, after --warmup seconds, K logins
from --login-from (default 127.0.0.1), one after the other every
--interval seconds, send USER's right password (SOCKEYE_PASSWORD) and
time the answer, from connect() to the RFC 1929 status. Prints one line
per login, then a summary:

    login=I ms=M result=ok|wrong|error:WHY
    guesses=G answered=A logins=K ok=O wrong=W error=E max_ms=M

Every wait is bounded (--timeout per socket operation); the guessers are
daemon threads that end with the program once the logins are done.
Used by tests/integration/18-auth-guessing.sh.
"""

import argparse
import os
import socket
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


def attempt(args, src, user, secret):
    """One RFC 1929 login; the status byte (0: ok) and the seconds taken."""
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(args.timeout)
        s.bind((src, 0))
        s.connect((args.host, args.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(bytes([5, 1, 2]))
        if recv_exact(s, 2) != bytes([5, 2]):
            raise ConnectionError("method refused")
        u = user.encode()
        s.sendall(bytes([1, len(u)]) + u + bytes([len(secret)]) + secret)
        st = recv_exact(s, 2)[1]
        return st, time.monotonic() - t0
    finally:
        s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("-H", "--host", default="127.0.0.1")
    p.add_argument("-p", "--port", type=int, required=True)
    p.add_argument("-u", "--user", default="alice")
    p.add_argument("--guessers", type=int, default=100)
    p.add_argument("--guess-from", default="127.0.0.2")
    p.add_argument("--login-from", default="127.0.0.1")
    p.add_argument("--logins", type=int, default=20)
    p.add_argument("--interval", type=float, default=0.3)
    p.add_argument("--warmup", type=float, default=0.5)
    p.add_argument("--timeout", type=float, default=20)
    args = p.parse_args()
    secret = os.environ.get("SOCKEYE_PASSWORD", "").encode()
    if not secret:
        print("guessload: SOCKEYE_PASSWORD is not set", file=sys.stderr)
        return 2

    lock = threading.Lock()
    counts = {"guesses": 0, "answered": 0}
    stop = threading.Event()

    def guesser(k):
        n = 0
        while not stop.is_set():
            n += 1
            wrong = ("wrong-%d-%d" % (k, n)).encode()
            with lock:
                counts["guesses"] += 1
            try:
                st, _ = attempt(args, args.guess_from, args.user, wrong)
            except OSError:
                time.sleep(0.05)    # refused or reset: try again, gently
                continue
            if st == 0:
                print("guessload: a wrong password was accepted",
                      file=sys.stderr)
                os._exit(3)
            with lock:
                counts["answered"] += 1

    threads = [threading.Thread(target=guesser, args=(k,), daemon=True)
               for k in range(args.guessers)]
    for t in threads:
        t.start()
    time.sleep(args.warmup)

    ok = wrong = err = 0
    worst = 0.0
    for i in range(args.logins):
        t0 = time.monotonic()
        try:
            st, secs = attempt(args, args.login_from, args.user, secret)
            result = "ok" if st == 0 else "wrong"
        except OSError as e:
            secs = time.monotonic() - t0
            result = "error:%s" % (type(e).__name__,)
        worst = max(worst, secs)
        if result == "ok":
            ok += 1
        elif result == "wrong":
            wrong += 1
        else:
            err += 1
        print("login=%d ms=%.0f result=%s" % (i + 1, secs * 1000, result),
              flush=True)
        rest = args.interval - (time.monotonic() - t0)
        if rest > 0:
            time.sleep(rest)
    stop.set()
    with lock:
        g, a = counts["guesses"], counts["answered"]
    print("guesses=%d answered=%d logins=%d ok=%d wrong=%d error=%d "
          "max_ms=%.0f" % (g, a, args.logins, ok, wrong, err, worst * 1000),
          flush=True)
    return 0


if __name__ == "__main__":
    rc = main()
    sys.stdout.flush()
    # Not sys.exit(): the guessers may sit in recv() on held sessions.
    os._exit(rc)
