#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""authclient - a SOCKS5 client that authenticates (python3 stdlib only).

sockeye's own test peer for the daemon's side of RFC 1929 and of CHAP
(draft-ietf-aft-socks-chap-01), one-way and mutual, including the ways a
client can get it wrong. The secret comes from the environment variable
SOCKEYE_PASSWORD (never argv); --server-secret-env names another variable
holding the secret the client expects the server to prove (mutual CHAP).

It prints one event a line, in a stable form the tests grep for:

    method=02                     the server's method choice (hex)
    auth=ok | auth=fail status=ff the authentication verdict
    mutual=ok | mutual=bad | mutual=none   the server's RESPONSE, if any
    rep=0                         the CONNECT reply
    echo=ok | echo=bad            --send with an echo server behind
    closed                        the server closed the connection
    timeout                       nothing within --timeout seconds
    elapsed=0.123                 seconds from connect to the last event

Exit status 0 whatever the server did; 1 when the proxy cannot be reached.

    authclient.py -p PORT -m password -u alice --dst 127.0.0.1:7 --send hi
    authclient.py -p PORT -m chap -u alice --mutual --dst 127.0.0.1:7
    authclient.py -p PORT -m password -u alice --close-after-request
    authclient.py -p PORT --repeat 50 -m password -u alice --dst ...   (timings)
    authclient.py -p PORT --source 127.0.0.2 -u bob ...   (another source)
"""

import argparse
import hashlib
import hmac
import os
import socket
import struct
import sys
import time


class Closed(Exception):
    pass


def out(line):
    print(line, flush=True)


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        try:
            chunk = sock.recv(n - len(buf))
        except ConnectionResetError:
            raise Closed()
        if not chunk:
            raise Closed()
        buf += chunk
    return buf


def chap_msg(avas):
    body = b"".join(bytes([att, len(val)]) + val for att, val in avas)
    return bytes([1, len(avas)]) + body


def read_chap(sock):
    ver, n = recv_exact(sock, 2)
    avas = []
    for _ in range(n):
        att, ln = recv_exact(sock, 2)
        avas.append((att, recv_exact(sock, ln)))
    return ver, avas


def find(avas, att):
    for a, v in avas:
        if a == att:
            return v
    return None


def md5_hmac(key, data):
    return hmac.new(key, data, hashlib.md5).digest()


def encode_dst(s):
    host, _, port = s.rpartition(":")
    host = host.strip("[]")
    for fam, atyp in ((socket.AF_INET, 1), (socket.AF_INET6, 4)):
        try:
            return bytes([atyp]) + socket.inet_pton(fam, host) + \
                struct.pack("!H", int(port))
        except OSError:
            pass
    h = host.encode()
    return bytes([3, len(h)]) + h + struct.pack("!H", int(port))


def do_password(sock, args, secret):
    user = args.user.encode()
    sock.sendall(bytes([1, len(user)]) + user + bytes([len(secret)]) + secret)
    ver, status = recv_exact(sock, 2)
    if status == 0:
        out("auth=ok")
        return True
    out("auth=fail status=%02x" % status)
    return False


def do_chap(sock, args, secret, server_secret):
    user = args.user.encode()
    first = [(0x11, bytes([0x85]))]
    if args.user_first:
        first.append((0x02, user))
    sock.sendall(chap_msg(first))
    _, avas = read_chap(sock)
    st = find(avas, 0x00)
    if st is not None and st != b"\x00":
        out("auth=fail status=%s" % st.hex())
        return False
    challenge = find(avas, 0x03)
    if challenge is None:
        # The challenge may come in a message of its own.
        _, avas = read_chap(sock)
        challenge = find(avas, 0x03)
    resp = md5_hmac(secret, challenge)
    second = []
    if not args.user_first:
        second.append((0x02, user))
    second.append((0x04, resp))
    cc = None
    if args.mutual:
        cc = os.urandom(16) if not args.reflect else challenge
        second.append((0x03, cc))
    sock.sendall(chap_msg(second))
    _, avas = read_chap(sock)
    st = find(avas, 0x00)
    if st != b"\x00":
        out("auth=fail status=%s" % (st.hex() if st is not None else "-"))
        return False
    out("auth=ok")
    sresp = find(avas, 0x04)
    if not args.mutual:
        return True
    if sresp is None:
        out("mutual=none")
        # A client that insists hangs up here.
        return not args.require_mutual
    if hmac.compare_digest(sresp, md5_hmac(server_secret, cc)):
        out("mutual=ok")
        sock.sendall(chap_msg([(0x00, b"\x00")]))
        return True
    out("mutual=bad")
    sock.sendall(chap_msg([(0x00, b"\xff")]))
    return False


def session(args, secret, server_secret):
    t0 = time.monotonic()
    try:
        sock = socket.create_connection(
            (args.host, args.port), args.timeout,
            (args.source, 0) if args.source else None)
    except OSError as e:
        print("cannot connect to the proxy: %s" % e, file=sys.stderr)
        sys.exit(1)
    sock.settimeout(args.timeout)
    methods = bytes.fromhex(args.offer) if args.offer else \
        bytes([{"none": 0, "password": 2, "chap": 3}[args.method]])
    ok = False
    try:
        sock.sendall(bytes([5, len(methods)]) + methods)
        ver, m = recv_exact(sock, 2)
        out("method=%02x" % m)
        if m == 0xff:
            raise Closed()
        if args.close_after_request:
            # Send the credentials and hang up before the answer.
            user = args.user.encode()
            sock.sendall(bytes([1, len(user)]) + user + bytes([len(secret)])
                         + secret)
            time.sleep(args.close_after_request)
            sock.close()
            out("hung-up")
            return True
        if m == 2:
            ok = do_password(sock, args, secret)
        elif m == 3:
            ok = do_chap(sock, args, secret, server_secret)
        else:
            ok = True
        if ok and args.dst:
            sock.sendall(bytes([5, 1, 0]) + encode_dst(args.dst))
            rep = recv_exact(sock, 4)
            atyp = rep[3]
            skip = {1: 4, 4: 16}.get(atyp)
            if skip is None:
                skip = recv_exact(sock, 1)[0]
            recv_exact(sock, skip + 2)
            out("rep=%d" % rep[1])
            if rep[1] == 0 and args.send:
                data = args.send.encode()
                sock.sendall(data)
                out("echo=ok" if recv_exact(sock, len(data)) == data
                    else "echo=bad")
        elif not ok:
            # The server must close after a failure.
            while sock.recv(4096):
                pass
            raise Closed()
    except Closed:
        out("closed")
    except socket.timeout:
        out("timeout")
    finally:
        sock.close()
        out("elapsed=%.3f" % (time.monotonic() - t0))
    return ok


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-H", "--host", default="127.0.0.1")
    p.add_argument("-p", "--port", type=int, required=True)
    p.add_argument("--source", help="connect from this local address "
                   "(127.0.0.2: another client source on loopback)")
    p.add_argument("-m", "--method", default="password",
                   choices=("none", "password", "chap"))
    p.add_argument("--offer", help="offered methods as hex (default: -m's)")
    p.add_argument("-u", "--user", default="alice")
    p.add_argument("--mutual", action="store_true",
                   help="CHAP: send our own challenge, check the answer")
    p.add_argument("--require-mutual", action="store_true",
                   help="CHAP: treat a missing server RESPONSE as failure")
    p.add_argument("--server-secret-env", default="SOCKEYE_SERVER_SECRET",
                   help="variable with the secret the server must prove "
                   "(default: SOCKEYE_SERVER_SECRET, else our own)")
    p.add_argument("--reflect", action="store_true",
                   help="CHAP: send the server's challenge back as ours")
    p.add_argument("--user-first", action="store_true",
                   help="CHAP: USER-IDENTITY in the first message (PuTTY)")
    p.add_argument("--close-after-request", type=float, default=0,
                   help="password: hang up this many seconds after sending")
    p.add_argument("--dst", help="CONNECT to HOST:PORT after authenticating")
    p.add_argument("--send", help="send this and expect it echoed")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--repeat", type=int, default=1,
                   help="run the session N times in a row")
    args = p.parse_args()
    secret = os.environ.get("SOCKEYE_PASSWORD", "").encode()
    server_secret = os.environ.get(args.server_secret_env, "").encode() \
        or secret
    for _ in range(args.repeat):
        session(args, secret, server_secret)


if __name__ == "__main__":
    main()
