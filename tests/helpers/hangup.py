#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""hangup.py - a SOCKS5 client that asks for a CONNECT and hangs up.

Connects to the proxy on 127.0.0.1:--port, sends the greeting (no
authentication) and a CONNECT to --dst NAME:PORT as a domain name, then
waits --hold seconds without reading the reply (or until one comes) and
closes (--reset: with an RST, SO_LINGER 0). Prints "sent" once the
request is out and "reply=<REP>" or "closed" on stdout, flushed, so that
a test can tell when to start counting. Exit 0, or 1 on a socket error.
"""
import argparse
import socket
import struct
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-p", "--port", type=int, required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--hold", type=float, default=1.0)
    ap.add_argument("--reset", action="store_true")
    a = ap.parse_args()
    name, port = a.dst.rsplit(":", 1)
    s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
    try:
        s.sendall(b"\x05\x01\x00")
        if s.recv(2) != b"\x05\x00":
            print("no-method", flush=True)
            return 1
        n = name.encode()
        s.sendall(b"\x05\x01\x00\x03" + bytes([len(n)]) + n +
                  struct.pack(">H", int(port)))
        print("sent", flush=True)
        s.settimeout(a.hold)
        end = time.monotonic() + a.hold
        try:
            r = s.recv(10)
            print("reply=%d" % r[1] if len(r) >= 2 else "closed", flush=True)
        except socket.timeout:
            pass
        left = end - time.monotonic()
        if left > 0:
            time.sleep(left)
        if a.reset:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
    except OSError as e:
        print("error=%s" % e, flush=True)
        return 1
    finally:
        s.close()
    print("closed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
