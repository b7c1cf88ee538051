#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""optimistic.py - a SOCKS5 client that does not wait for any answer.

Sends, in one write: the greeting, the RFC 1929 request (with -u/-w), the
CONNECT request to --dst and --size bytes of payload; then reads every
answer (method choice, auth status, reply) and expects the payload back
from an echo server. Prints key=value lines: method=, auth=, rep=,
echoed=<bytes>, match=yes|no. Exit 0 when it ran to the end (the caller
judges the values), 1 on a connection error.
"""
import argparse
import os
import socket
import struct
import sys


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-p", "--port", type=int, required=True)
    ap.add_argument("-u", "--user")
    ap.add_argument("-w", "--password")
    ap.add_argument("--dst", required=True, help="IPv4:PORT of an echo server")
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--timeout", type=float, default=20.0)
    a = ap.parse_args()

    host, port = a.dst.rsplit(":", 1)
    payload = os.urandom(a.size)
    msg = bytes([5, 1, 2 if a.user is not None else 0])
    if a.user is not None:
        u, w = a.user.encode(), a.password.encode()
        msg += bytes([1, len(u)]) + u + bytes([len(w)]) + w
    msg += bytes([5, 1, 0, 1]) + socket.inet_aton(host) + struct.pack(">H", int(port))
    msg += payload

    s = socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout)
    try:
        s.sendall(msg)
        m = recv_exact(s, 2)
        print("method=%s" % (m[1] if len(m) == 2 else "none"))
        if len(m) < 2:
            return 0
        if a.user is not None:
            st = recv_exact(s, 2)
            print("auth=%s" % (st[1] if len(st) == 2 else "none"))
            if len(st) < 2 or st[1] != 0:
                return 0
        r = recv_exact(s, 10)
        print("rep=%s" % (r[1] if len(r) >= 2 else "none"))
        if len(r) < 10:
            return 0
        back = recv_exact(s, len(payload))
        print("echoed=%d" % len(back))
        print("match=%s" % ("yes" if back == payload else "no"))
    except OSError as e:
        print("error=%s" % e)
        return 1
    finally:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
