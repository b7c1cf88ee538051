#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""udpload - UDP round trips per second through a SOCKS5 UDP relay, or
directly (stdlib only; tests/bench/scenarios/udp-rate.sh runs it).

    udpload.py [--proxy HOST:PORT] --dst HOST:PORT --seconds S
               [--window W] [--size N] [--associations A]

Opens A associations (UDP ASSOCIATE, no authentication) through --proxy,
or, without --proxy, plain UDP sockets straight to --dst (the load
generator's own ceiling), and keeps W numbered datagrams of N bytes in
flight on each, to an echo server at --dst: every answer sends the next
one (a closed loop, so an overloaded relay slows the rate instead of
being buried). When nothing came back for 200 ms the window is sent
again and the stall is counted. After S seconds it prints one line:

    done=ROUNDTRIPS rate=PER_SECOND stalls=N sent=N

(a round trip is two datagrams through the relay: one each way). Exit 0,
or 1 when the proxy refuses.
"""

import argparse
import select
import socket
import struct
import sys
import time


def split_hostport(s):
    host, sep, port = s.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError("expected HOST:PORT, got %r" % s)
    return host.strip("[]"), int(port)


def encode_addr(host, port):
    for fam, atyp in ((socket.AF_INET, 1), (socket.AF_INET6, 4)):
        try:
            return bytes([atyp]) + socket.inet_pton(fam, host) + struct.pack("!H", port)
        except OSError:
            pass
    name = host.encode("ascii")
    return bytes([3, len(name)]) + name + struct.pack("!H", port)


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def associate(proxy):
    """(control socket, relay address) of a new association."""
    host, port = split_hostport(proxy)
    tcp = socket.create_connection((host, port), timeout=10)
    tcp.sendall(b"\x05\x01\x00")
    if recv_exact(tcp, 2) != b"\x05\x00":
        raise ConnectionError("method refused")
    tcp.sendall(b"\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00")
    head = recv_exact(tcp, 4)
    if head[1] != 0:
        raise ConnectionError("UDP ASSOCIATE refused: REP %d" % head[1])
    alen = 4 if head[3] == 1 else 16
    raw = recv_exact(tcp, alen + 2)
    addr = socket.inet_ntop(socket.AF_INET if alen == 4 else socket.AF_INET6, raw[:alen])
    # Some servers name 0.0.0.0: use the proxy's address then.
    if addr in ("0.0.0.0", "::"):
        addr = host
    return tcp, (addr, struct.unpack("!H", raw[alen:])[0])


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--proxy")
    ap.add_argument("--dst", required=True)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--window", type=int, default=32)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--associations", type=int, default=1)
    args = ap.parse_args(argv)

    dh, dp = split_hostport(args.dst)
    socks = []
    ctl = []
    for _ in range(args.associations):
        if args.proxy:
            try:
                tcp, relay = associate(args.proxy)
            except (OSError, ConnectionError) as e:
                print("error=%s" % str(e).replace(" ", "_"), flush=True)
                return 1
            ctl.append(tcp)
            head = b"\x00\x00\x00" + encode_addr(dh, dp)
            target = relay
        else:
            head = b""
            target = (dh, dp)
        fam = socket.AF_INET6 if ":" in target[0] else socket.AF_INET
        u = socket.socket(fam, socket.SOCK_DGRAM)
        u.connect(target)
        u.setblocking(False)
        socks.append((u, head))

    pad = b"x" * max(0, args.size - 8)
    done = sent = stalls = 0
    seq = 0
    last = {}
    for u, head in socks:
        for _ in range(args.window):
            u.send(head + struct.pack("!Q", seq) + pad)
            seq += 1
            sent += 1
        last[u] = time.monotonic()
    heads = {u: head for u, head in socks}
    t0 = time.monotonic()
    end = t0 + args.seconds
    fds = [u for u, _ in socks]
    while True:
        now = time.monotonic()
        if now >= end:
            break
        ready, _, _ = select.select(fds, [], [], min(0.05, end - now))
        now = time.monotonic()
        for u in ready:
            for _ in range(64):
                try:
                    d = u.recv(65535)
                except (BlockingIOError, ConnectionRefusedError):
                    break
                if len(d) < 8:
                    continue
                done += 1
                try:
                    u.send(heads[u] + struct.pack("!Q", seq) + pad)
                    seq += 1
                    sent += 1
                except OSError:
                    pass
                last[u] = now
        for u in fds:
            if now - last[u] > 0.2:
                stalls += 1
                last[u] = now
                for _ in range(args.window):
                    try:
                        u.send(heads[u] + struct.pack("!Q", seq) + pad)
                        seq += 1
                        sent += 1
                    except OSError:
                        break
    elapsed = time.monotonic() - t0
    print("done=%d rate=%d stalls=%d sent=%d" % (done, done / elapsed, stalls, sent),
          flush=True)
    for t in ctl:
        t.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
