#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""limitprobe: open many SOCKS5 connections at once and count admissions.

Each connection is made from a chosen source address (127.0.0.0/8, or
an IPv6 address when SRC has a colon and --host is IPv6; "SRC:N" splits
at the last colon),
sends a greeting offering method 00 and waits for the method reply: a
reply means the proxy admitted the session, a close without one means it
refused it. Admitted connections are held open until every connection has
its answer, so the counts are of sessions alive at the same time. Prints
one line per source, "SRC admitted=N refused=M", and "total admitted=N
refused=M undecided=K". Bounded: --timeout seconds in all.
"""
import argparse
import selectors
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-p", "--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--src", action="append", required=True,
                    help="SRC:N - N connections from source address SRC")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--hold", type=float, default=0.0,
                    help="keep admitted connections open this long at the end")
    args = ap.parse_args()

    sel = selectors.DefaultSelector()
    conns = []          # [sock, src, state]; state: None, "admitted", "refused"
    for spec in args.src:
        src, n = spec.rsplit(":", 1)
        for _ in range(int(n)):
            fam = socket.AF_INET6 if ":" in src else socket.AF_INET
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((src, 0))
            s.setblocking(False)
            try:
                s.connect((args.host, args.port))
            except BlockingIOError:
                pass
            c = [s, src, None, False]
            conns.append(c)
            sel.register(s, selectors.EVENT_WRITE, c)

    deadline = time.monotonic() + args.timeout
    pending = len(conns)
    while pending > 0 and time.monotonic() < deadline:
        for key, ev in sel.select(timeout=0.2):
            c = key.data
            s = c[0]
            if ev & selectors.EVENT_WRITE and not c[3]:
                try:
                    s.send(b"\x05\x01\x00")
                    c[3] = True
                    sel.modify(s, selectors.EVENT_READ, c)
                except OSError:
                    c[2] = "refused"
                    sel.unregister(s)
                    pending -= 1
                continue
            try:
                data = s.recv(16)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            c[2] = "admitted" if data[:2] == b"\x05\x00" else "refused"
            sel.unregister(s)
            pending -= 1

    per = {}
    for s, src, state, _ in conns:
        a, r, u = per.get(src, (0, 0, 0))
        if state == "admitted":
            a += 1
        elif state == "refused":
            r += 1
        else:
            u += 1
        per[src] = (a, r, u)
    ta = tr = tu = 0
    for src, (a, r, u) in per.items():
        print(f"{src} admitted={a} refused={r} undecided={u}")
        ta += a
        tr += r
        tu += u
    print(f"total admitted={ta} refused={tr} undecided={tu}")
    sys.stdout.flush()
    if args.hold > 0:
        time.sleep(args.hold)
    for c in conns:
        c[0].close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
