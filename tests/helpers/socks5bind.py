#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""socks5bind - sockeye's own SOCKS5 BIND test client (stdlib only).

It plays both parts of a BIND: the client (greeting, optional RFC 1929
login, BIND request, the two replies, then data over the control
connection) and the application server that connects back to the
address of the first reply. One event a line, for the tests to grep:

    rep1=0 bnd=127.0.0.1:40000    the first reply
    stray=closed|open|refused     --stray-from A: a connection from A
                                  (not the expected peer) was closed by
                                  the server, stayed open, or was refused
    peer=127.0.0.1:5000           the peer's own address (its socket)
    rep2=0 bnd=127.0.0.1:5000     the second reply
    data=ok | data=bad ...        both ways, then half-closes both ways
    closed | timeout              how the control connection ended
    elapsed=2.01                  seconds from the request to the end

Options pick what happens: --no-peer waits for the second reply without
connecting (the accept timeout); --peer-from A binds the peer to A (e.g.
127.0.0.2); --stray-from A first connects from A and sees what happens.
Every wait is bounded by --timeout. Exit 0 whatever the server did; 1 when
the proxy cannot be reached; 2 on bad usage.
"""

import argparse
import os
import socket
import struct
import sys
import time

ATYP_IPV4, ATYP_DOMAIN, ATYP_IPV6 = 1, 3, 4


def out(line):
    print(line, flush=True)


def split_hostport(s):
    host, sep, port = s.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError("expected HOST:PORT, got %r" % s)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def encode_addr(host, port):
    for fam, atyp in ((socket.AF_INET, ATYP_IPV4), (socket.AF_INET6, ATYP_IPV6)):
        try:
            return bytes([atyp]) + socket.inet_pton(fam, host) + struct.pack("!H", port)
        except OSError:
            pass
    name = host.encode("ascii")
    return bytes([ATYP_DOMAIN, len(name)]) + name + struct.pack("!H", port)


def fmt(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


class Closed(Exception):
    pass


def recv_exact(sock, n, deadline):
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError()
        sock.settimeout(left)
        try:
            chunk = sock.recv(n - len(buf))
        except ConnectionResetError:
            raise Closed()
        if not chunk:
            raise Closed()
        buf += chunk
    return buf


def read_reply(sock, deadline):
    """(rep, host, port) of a reply."""
    head = recv_exact(sock, 4, deadline)
    alen = {ATYP_IPV4: 4, ATYP_IPV6: 16}.get(head[3])
    if alen is None:
        raise ValueError("reply with ATYP %d" % head[3])
    raw = recv_exact(sock, alen + 2, deadline)
    host = socket.inet_ntop(socket.AF_INET if alen == 4 else socket.AF_INET6, raw[:alen])
    return head[1], host, struct.unpack("!H", raw[alen:])[0]


def connect_from(src, host, port, timeout):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    return s


def stray_fate(s, wait):
    """Was the stray connection closed by the server within `wait` s?"""
    s.settimeout(wait)
    try:
        data = s.recv(1)
        return "closed" if not data else "open"
    except socket.timeout:
        return "open"
    except ConnectionResetError:
        return "closed"


def read_all(sock, deadline):
    buf = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError()
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            return buf
        buf += chunk


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--proxy", required=True, help="HOST:PORT of the SOCKS server")
    ap.add_argument("--user", help="RFC 1929 user (password in SOCKEYE_PASSWORD)")
    ap.add_argument("--dst", default="0.0.0.0:0",
                    help="DST.ADDR:DST.PORT: the host that will connect back")
    ap.add_argument("--peer-from", default="",
                    help="source address of the peer's connection")
    ap.add_argument("--stray-from", default=None,
                    help="first connect from this address (a stranger)")
    ap.add_argument("--peer-to", default=None,
                    help="connect the peer (and stray) to this address, "
                    "with the port of the first reply (an advertised "
                    "address that is not this host's)")
    ap.add_argument("--no-peer", action="store_true",
                    help="never connect: wait for the second reply")
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args(argv)

    host, port = split_hostport(args.proxy)
    t0 = time.monotonic()
    try:
        ctl = connect_from("", host, port, args.timeout)
    except OSError as e:
        out("connect_error=%s" % str(e).replace(" ", "_"))
        return 1
    deadline = time.monotonic() + args.timeout
    try:
        method = 2 if args.user is not None else 0
        ctl.sendall(bytes([5, 1, method]))
        if recv_exact(ctl, 2, deadline) != bytes([5, method]):
            out("method=refused")
            return 0
        if method == 2:
            u = args.user.encode()
            p = os.environ.get("SOCKEYE_PASSWORD", "").encode()
            ctl.sendall(bytes([1, len(u)]) + u + bytes([len(p)]) + p)
            if recv_exact(ctl, 2, deadline)[1] != 0:
                out("auth=failed")
                return 0
        dh, dp = split_hostport(args.dst)
        ctl.sendall(bytes([5, 2, 0]) + encode_addr(dh, dp))
        rep, bhost, bport = read_reply(ctl, deadline)
        out("rep1=%d bnd=%s" % (rep, fmt(bhost, bport)))
        if args.peer_to:
            bhost = args.peer_to
        if rep != 0:
            read_all(ctl, deadline)
            out("closed")
            return 0
        if args.stray_from is not None:
            try:
                s = connect_from(args.stray_from, bhost, bport, args.timeout)
                out("stray=%s" % stray_fate(s, 3.0))
                s.close()
            except ConnectionRefusedError:
                out("stray=refused")
        if args.no_peer:
            # The accept timeout: the second reply, then the close.
            deadline = time.monotonic() + args.timeout
            rep, h2, p2 = read_reply(ctl, deadline)
            out("rep2=%d bnd=%s" % (rep, fmt(h2, p2)))
            read_all(ctl, deadline)
            out("closed")
            return 0
        peer = connect_from(args.peer_from, bhost, bport, args.timeout)
        ph, pp = peer.getsockname()[:2]
        out("peer=%s" % fmt(ph, pp))
        rep, h2, p2 = read_reply(ctl, deadline)
        out("rep2=%d bnd=%s" % (rep, fmt(h2, p2)))
        if rep != 0:
            read_all(ctl, deadline)
            out("closed")
            return 0
        # Both ways, then each side half-closes and reads to the end.
        ctl.sendall(b"from the client\n")
        peer.sendall(b"from the peer\n")
        got_peer = recv_exact(peer, 16, deadline)
        got_ctl = recv_exact(ctl, 14, deadline)
        ctl.shutdown(socket.SHUT_WR)
        rest_peer = read_all(peer, deadline)
        peer.sendall(b"bye\n")
        peer.shutdown(socket.SHUT_WR)
        rest_ctl = read_all(ctl, deadline)
        ok = (got_peer == b"from the client\n" and got_ctl == b"from the peer\n"
              and rest_peer == b"" and rest_ctl == b"bye\n")
        out("data=ok" if ok else "data=bad peer=%r ctl=%r rest=%r/%r" % (
            got_peer, got_ctl, rest_peer, rest_ctl))
        peer.close()
        out("closed")
    except TimeoutError:
        out("timeout")
    except Closed:
        out("closed")
    except (OSError, ValueError) as e:
        out("error=%s" % str(e).replace(" ", "_"))
    finally:
        out("elapsed=%.2f" % (time.monotonic() - t0))
        ctl.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
