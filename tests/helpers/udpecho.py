#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""udpecho - a UDP echo server for sockeye's tests (stdlib only).

    udpecho.py --port-file FILE [--bind ADDR] [--other ADDR] [--stats FILE]

Binds ADDR (default 127.0.0.1; ::1 for IPv6) on port 0, writes the port to
--port-file (atomically), and until killed sends every datagram back to
where it came from, unchanged, with these exceptions:

  - a datagram "EXTRA..." is also answered from a second socket on the
    same address (another port) and from a socket on --other (default
    127.0.0.2; for IPv6 nothing else is on loopback, so none), so a test
    can see which of those a UDP relay lets through to its client;
  - a datagram "STATS" is answered with "received=N echoed=M drops=K":
    datagrams received (STATS ones not counted), sent back, and the
    kernel's count of datagrams it dropped on this socket because its
    queue was full (SO_MEMINFO).

With --stats, the same line is also written to FILE (atomically) after
each quiet half second that followed traffic.
"""

import argparse
import os
import select
import socket
import struct
import sys
import time

SO_MEMINFO = getattr(socket, "SO_MEMINFO", 55)
MEMINFO_DROPS = 8


def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def drops(sock):
    try:
        b = sock.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 64)
        v = struct.unpack("%dI" % (len(b) // 4), b)
        return v[MEMINFO_DROPS] if len(v) > MEMINFO_DROPS else 0
    except OSError:
        return 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port-file", required=True)
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--other", default=None,
                   help="address of the EXTRA third socket (default "
                   "127.0.0.2 for IPv4, none for IPv6)")
    p.add_argument("--stats")
    args = p.parse_args(argv)

    fam = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    sock = socket.socket(fam, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    sock.bind((args.bind, 0))
    same = socket.socket(fam, socket.SOCK_DGRAM)
    same.bind((args.bind, 0))
    other = None
    other_addr = args.other if args.other is not None else (
        "127.0.0.2" if fam == socket.AF_INET else "")
    if other_addr:
        other = socket.socket(fam, socket.SOCK_DGRAM)
        other.bind((other_addr, 0))
    write_atomic(args.port_file, "%d\n" % sock.getsockname()[1])

    received = echoed = 0
    dirty = False
    while True:
        ready, _, _ = select.select([sock], [], [], 0.5)
        if not ready:
            if dirty and args.stats:
                write_atomic(args.stats, "received=%d echoed=%d drops=%d\n" % (
                    received, echoed, drops(sock)))
                dirty = False
            continue
        # Drain what is queued before looking at the clock again.
        for _ in range(256):
            try:
                data, peer = sock.recvfrom(65535, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            if data == b"STATS":
                sock.sendto(b"received=%d echoed=%d drops=%d" % (
                    received, echoed, drops(sock)), peer)
                continue
            received += 1
            dirty = True
            try:
                sock.sendto(data, peer)
                echoed += 1
            except OSError:
                pass
            if data.startswith(b"EXTRA"):
                same.sendto(data, peer)
                if other is not None:
                    other.sendto(data, peer)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(0)
