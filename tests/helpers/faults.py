#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""faults - hostile and failing clients for the fault tests (stdlib only).

    faults.py slowloris -p PORT --dst 127.0.0.1:ECHO --slow N --normal M
                        --reap S [--slow-src IP] [--timeout S]
    faults.py resets -p PORT -n N [--timeout S]
    faults.py hold -p PORT --dst 127.0.0.1:ECHO -n N --ready FILE
                   --go FILE [--timeout S]

slowloris: opens N connections (from --slow-src, default 127.0.0.2) and
sends each one byte of a valid handshake a second, never finishing it.
Once all N are open, M normal clients (from 127.0.0.1, 10 at a time) each
do a whole session: greeting, CONNECT to the echo server, 1 KiB of
seeded random bytes echoed back exactly, close. Every slow connection
must be closed by the proxy (EOF or reset) between S - 1 and S + 10
seconds after it was opened; every normal session must succeed. Prints

    slow=N reaped=K early=E late=L first_s=F last_s=X normal=M ok=K2

and a line per failed normal session; exit 0 when all is as it must be.

resets: listens on 127.0.0.1 as the destination itself, opens N sessions
through the proxy to it (no authentication), sends 1,000 bytes each way
on each and checks them, then at once resets (SO_LINGER 0, close) the
client end of the even sessions and the destination end of the odd ones.
The other end of every session must then see a reset (ECONNRESET), not
a clean end of stream and not silence. Prints

    sessions=N client_resets=A remote_resets=B as_reset=K eof=E silent=T

with a line for each session that went wrong; exit 0 when K == N.

hold: opens N sessions through the proxy to the echo server, one after
another, each echoing 100 bytes; one the proxy refuses or drops counts as
refused. Writes "ok=K refused=R" to --ready, holds the ok ones open until
--go exists, then checks that each still echoes and closes it. Prints

    sessions=N ok=K refused=R still_ok=S

exit 0 when S == K (the proxy kept every session it accepted).
"""

import argparse
import errno
import os
import random
import select
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


def connect_request(host, port):
    return (b"\x05\x01\x00\x01" + socket.inet_aton(host) +
            struct.pack(">H", port))


def handshake(s, host, port):
    s.sendall(b"\x05\x01\x00")
    if recv_exact(s, 2) != b"\x05\x00":
        raise Fail("method not none")
    s.sendall(connect_request(host, port))
    rep = recv_exact(s, 4)
    if rep[1] != 0:
        raise Fail("rep=%d" % rep[1])
    alen = {1: 4, 4: 16}.get(rep[3])
    if alen is None:
        raise Fail("bad atyp %d" % rep[3])
    recv_exact(s, alen + 2)


def abort(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


# ------------------------------------------------------------- slowloris

def normal_client(args, host, port, i, errors, oks, lock):
    rng = random.Random(7000 + i)
    s = None
    try:
        s = socket.create_connection(("127.0.0.1", args.port),
                                     timeout=args.timeout,
                                     source_address=("127.0.0.1", 0))
        s.settimeout(args.timeout)
        handshake(s, host, port)
        data = rng.randbytes(1024)
        s.sendall(data)
        if recv_exact(s, len(data)) != data:
            raise Fail("echo differs")
        with lock:
            oks.append(i)
    except (OSError, Fail) as e:
        with lock:
            errors.append("normal %d: %s: %s" % (i, type(e).__name__, e))
    finally:
        if s is not None:
            s.close()


def slowloris(args):
    host, port = args.dst.rsplit(":", 1)
    port = int(port)
    script = b"\x05\x01\x00" + connect_request(host, port)
    slow = []   # [sock, opened, next byte index]
    for _ in range(args.slow):
        s = socket.socket()
        s.bind((args.slow_src, 0))
        s.settimeout(args.timeout)
        s.connect(("127.0.0.1", args.port))
        s.setblocking(False)
        slow.append([s, time.monotonic(), 0])
    # The normal clients, 10 at a time, while the slow ones are held.
    errors, oks, lock = [], [], threading.Lock()

    def normals():
        for b in range(0, args.normal, 10):
            ts = [threading.Thread(target=normal_client,
                                   args=(args, host, port, i, errors, oks,
                                         lock))
                  for i in range(b, min(b + 10, args.normal))]
            for t in ts:
                t.start()
            for t in ts:
                t.join()

    nt = threading.Thread(target=normals)
    nt.start()
    closed = {}     # index -> seconds from open to close
    live = {c[0].fileno(): i for i, c in enumerate(slow)}
    pl = select.poll()
    for fd in live:
        pl.register(fd, select.POLLIN)
    deadline = time.monotonic() + args.reap + 30
    next_tick = time.monotonic()
    while live and time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_tick:
            # One more byte of the handshake each, never the last one.
            for fd, i in list(live.items()):
                c = slow[i]
                if c[2] < len(script) - 1:
                    try:
                        c[0].send(script[c[2]:c[2] + 1])
                        c[2] += 1
                    except OSError:
                        closed[i] = now - c[1]
                        del live[fd]
                        pl.unregister(fd)
            next_tick = now + 1.0
        r = pl.poll(50)
        now = time.monotonic()
        for fd, _ in r:
            i = live.get(fd)
            if i is None:
                continue
            try:
                d = slow[i][0].recv(64)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if d == b"":
                closed[i] = now - slow[i][1]
                del live[fd]
                pl.unregister(fd)
    nt.join()
    times = sorted(closed.values())
    early = sum(1 for t in times if t < args.reap - 1)
    late = sum(1 for t in times if t > args.reap + 10)
    for e in errors:
        print(e)
    print("slow=%d reaped=%d early=%d late=%d first_s=%.1f last_s=%.1f "
          "normal=%d ok=%d" % (args.slow, len(times), early, late,
                                times[0] if times else -1,
                                times[-1] if times else -1,
                                args.normal, len(oks)))
    for c in slow:
        c[0].close()
    return 0 if (len(times) == args.slow and early == 0 and late == 0 and
                 len(oks) == args.normal) else 1


# ------------------------------------------------------------- resets

def resets(args):
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(4096)
    lst.settimeout(args.timeout)
    host, port = lst.getsockname()
    pairs = []
    for i in range(args.n):
        c = socket.create_connection(("127.0.0.1", args.port),
                                     timeout=args.timeout)
        c.settimeout(args.timeout)
        handshake(c, host, port)
        d, _ = lst.accept()
        d.settimeout(args.timeout)
        up = (b"c%06d" % i) * 125
        down = (b"d%06d" % i) * 125
        c.sendall(up)
        if recv_exact(d, len(up)) != up:
            raise Fail("session %d: bytes up differ" % i)
        d.sendall(down)
        if recv_exact(c, len(down)) != down:
            raise Fail("session %d: bytes down differ" % i)
        pairs.append((c, d))
    # At once: clients of the even sessions, destinations of the odd.
    survivors = []
    for i, (c, d) in enumerate(pairs):
        if i % 2 == 0:
            abort(c)
            survivors.append((i, d, "destination"))
        else:
            abort(d)
            survivors.append((i, c, "client"))
    as_reset = eof = silent = 0
    for i, s, side in survivors:
        try:
            got = s.recv(1)
            if got == b"":
                eof += 1
                print("session %d: the %s saw a clean end of stream" %
                      (i, side))
            else:
                silent += 1
                print("session %d: the %s got data" % (i, side))
        except ConnectionResetError:
            as_reset += 1
        except socket.timeout:
            silent += 1
            print("session %d: the %s saw nothing in %.0f s" %
                  (i, side, args.timeout))
        except OSError as e:
            if e.errno == errno.ECONNRESET:
                as_reset += 1
            else:
                silent += 1
                print("session %d: the %s: %s" % (i, side, e))
        s.close()
    lst.close()
    print("sessions=%d client_resets=%d remote_resets=%d as_reset=%d eof=%d "
          "silent=%d" % (args.n, (args.n + 1) // 2, args.n // 2, as_reset,
                         eof, silent))
    return 0 if as_reset == args.n else 1


# ------------------------------------------------------------- hold

def hold(args):
    host, port = args.dst.rsplit(":", 1)
    port = int(port)
    held, refused = [], 0
    for i in range(args.n):
        s = None
        try:
            s = socket.create_connection(("127.0.0.1", args.port),
                                         timeout=args.timeout)
            s.settimeout(args.timeout)
            handshake(s, host, port)
            data = b"%099d\n" % i
            s.sendall(data)
            if recv_exact(s, len(data)) != data:
                raise Fail("echo differs")
            held.append((i, s))
        except (OSError, Fail):
            refused += 1
            if s is not None:
                s.close()
    tmp = args.ready + ".tmp"
    with open(tmp, "w") as f:
        f.write("ok=%d refused=%d\n" % (len(held), refused))
    os.rename(tmp, args.ready)
    deadline = time.monotonic() + args.timeout * 10
    while not os.path.exists(args.go) and time.monotonic() < deadline:
        time.sleep(0.1)
    still = 0
    for i, s in held:
        try:
            data = b"again %093d\n" % i
            s.sendall(data)
            if recv_exact(s, len(data)) == data:
                still += 1
            else:
                print("session %d: echo differs" % i)
        except (OSError, Fail) as e:
            print("session %d: %s" % (i, e))
        s.close()
    print("sessions=%d ok=%d refused=%d still_ok=%d" %
          (args.n, len(held), refused, still))
    return 0 if still == len(held) else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    a = sub.add_parser("slowloris")
    a.add_argument("-p", "--port", type=int, required=True)
    a.add_argument("--dst", required=True)
    a.add_argument("--slow", type=int, default=2000)
    a.add_argument("--normal", type=int, default=100)
    a.add_argument("--reap", type=float, required=True)
    a.add_argument("--slow-src", default="127.0.0.2")
    a.add_argument("--timeout", type=float, default=30.0)
    b = sub.add_parser("resets")
    b.add_argument("-p", "--port", type=int, required=True)
    b.add_argument("-n", type=int, default=1000)
    b.add_argument("--timeout", type=float, default=20.0)
    c = sub.add_parser("hold")
    c.add_argument("-p", "--port", type=int, required=True)
    c.add_argument("--dst", required=True)
    c.add_argument("-n", type=int, default=1000)
    c.add_argument("--ready", required=True)
    c.add_argument("--go", required=True)
    c.add_argument("--timeout", type=float, default=10.0)
    args = p.parse_args()
    try:
        return {"slowloris": slowloris, "resets": resets,
                "hold": hold}[args.mode](args)
    except (OSError, Fail) as e:
        print("error: %s: %s" % (type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
