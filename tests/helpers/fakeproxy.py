#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""fakeproxy - a scripted SOCKS5 server for sockeye-connect's tests
(python3 stdlib only): it behaves the way sockeyed never does, so the
client's handling of other servers is tested too.

    fakeproxy.py MODE --port-file FILE [--log FILE] [--secret S]
                 [--rep N] [--banner TEXT]

Binds 127.0.0.1 port 0, writes the port to --port-file, serves
connections one at a time until killed. After a successful handshake it
is an echo server: the CONNECT destination is never contacted. Each
connection appends "key=value" lines to --log (the client's messages,
verdicts), for the test to grep.

Modes (the method is none unless the mode starts with chap):
  none          plain: reply --rep (default 0); with --banner, the reply
                and the banner go out in ONE send, so the client gets the
                destination's first bytes in the same read as the reply.
  chap-split    CHAP with HMAC-MD5 (python's hmac module, an independent
                implementation) keyed with --secret: ALGORITHMS and the
                CHALLENGE in two separate messages, a TEXT-MESSAGE with a
                control character in the first; answers a client
                challenge (mutual) with HMAC(--secret) and reads the
                client's STATUS.
  chap-wrongresp  as chap-split, but answers a client challenge with a
                wrong RESPONSE.
  chap-badalg   answers the algorithm list by choosing algorithm 0x05.
  chap-refuse   answers the algorithm list with STATUS(ff).
  chap-close    selects CHAP, then closes the connection.
"""

import argparse
import hashlib
import hmac
import os
import socket
import sys
import time

ATT_STATUS, ATT_TEXT, ATT_USER, ATT_CHALLENGE, ATT_RESPONSE = 0, 1, 2, 3, 4
ATT_ALGORITHMS = 0x11
HMAC_MD5 = 0x85


class Closed(Exception):
    pass


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise Closed()
        data += chunk
    return data


def recv_chap(sock):
    ver, navas = recv_exact(sock, 2)
    if ver != 1:
        raise ValueError("CHAP version %d" % ver)
    avas = []
    for _ in range(navas):
        att, vlen = recv_exact(sock, 2)
        avas.append((att, recv_exact(sock, vlen)))
    return avas


def chap_msg(*avas):
    out = bytes([1, len(avas)])
    for att, val in avas:
        out += bytes([att, len(val)]) + val
    return out


def find(avas, att):
    for a, v in avas:
        if a == att:
            return v
    return None


def md5hmac(key, data):
    return hmac.new(key, data, hashlib.md5).digest()


def handle(sock, args, log):
    ver, nmethods = recv_exact(sock, 2)
    methods = recv_exact(sock, nmethods)
    log("greeting=%s" % methods.hex())
    chap = args.mode.startswith("chap")
    want = 3 if chap else 0
    if want not in methods:
        sock.sendall(b"\x05\xff")
        log("method=ff")
        return
    sock.sendall(bytes([5, want]))
    if chap and not do_chap(sock, args, log):
        return

    head = recv_exact(sock, 4)
    atyp = head[3]
    if atyp == 1:
        addr = recv_exact(sock, 4)
    elif atyp == 4:
        addr = recv_exact(sock, 16)
    else:
        addr = recv_exact(sock, recv_exact(sock, 1)[0])
    port = int.from_bytes(recv_exact(sock, 2), "big")
    log("request cmd=%d atyp=%d addr=%s port=%d"
        % (head[1], atyp, addr.hex(), port))
    reply = bytes([5, args.rep, 0, 1, 127, 0, 0, 1, 0x04, 0x38])
    if args.rep != 0:
        sock.sendall(reply)
        return
    sock.sendall(reply + args.banner.encode())
    n = 0
    while True:
        data = sock.recv(65536)
        if not data:
            break
        n += len(data)
        sock.sendall(data)
    log("echoed=%d" % n)
    sock.shutdown(socket.SHUT_WR)


def do_chap(sock, args, log):
    first = recv_chap(sock)
    algs = find(first, ATT_ALGORITHMS) or b""
    log("chap_first=%s" % ",".join("%02x" % a for a, _ in first))
    log("chap_algorithms=%s" % algs.hex())
    if args.mode == "chap-close":
        return False
    if args.mode == "chap-refuse":
        sock.sendall(chap_msg((ATT_STATUS, b"\xff")))
        return False
    if args.mode == "chap-badalg":
        sock.sendall(chap_msg((ATT_ALGORITHMS, b"\x05"),
                              (ATT_CHALLENGE, os.urandom(16))))
        return False
    challenge = os.urandom(16)
    # Two messages, sent apart, so the client must read twice.
    sock.sendall(chap_msg((ATT_TEXT, b"welcome\x1b[0m"),
                          (ATT_ALGORITHMS, bytes([HMAC_MD5]))))
    time.sleep(0.05)
    sock.sendall(chap_msg((ATT_CHALLENGE, challenge)))
    resp_msg = recv_chap(sock)
    user = find(resp_msg, ATT_USER)
    resp = find(resp_msg, ATT_RESPONSE)
    c2 = find(resp_msg, ATT_CHALLENGE)
    log("chap_user=%s" % (user.decode(errors="replace") if user else "-"))
    ok = resp is not None and hmac.compare_digest(
        resp, md5hmac(args.secret.encode(), challenge))
    log("chap_response=%s" % ("ok" if ok else "bad"))
    if not ok:
        sock.sendall(chap_msg((ATT_STATUS, b"\xff")))
        return False
    if c2 is None:
        sock.sendall(chap_msg((ATT_STATUS, b"\x00")))
        log("chap_mutual=no")
        return True
    log("chap_client_challenge_len=%d" % len(c2))
    answer = md5hmac(args.secret.encode(), c2)
    if args.mode == "chap-wrongresp":
        answer = bytes(b ^ 0xFF for b in answer)
    sock.sendall(chap_msg((ATT_STATUS, b"\x00"), (ATT_RESPONSE, answer)))
    try:
        verdict = recv_chap(sock)
    except Closed:
        log("client_status=closed")
        return False
    st = find(verdict, ATT_STATUS)
    log("client_status=%s" % (st.hex() if st is not None else "none"))
    return st is not None and len(st) > 0 and not any(st)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["none", "chap-split", "chap-wrongresp",
                                     "chap-badalg", "chap-refuse",
                                     "chap-close"])
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", default=os.devnull)
    p.add_argument("--secret", default="")
    p.add_argument("--rep", type=int, default=0)
    p.add_argument("--banner", default="")
    args = p.parse_args(argv)

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, args.port_file)

    while True:
        conn, _ = srv.accept()
        with open(args.log, "a") as logf:
            def log(line):
                logf.write(line + "\n")
                logf.flush()
            try:
                conn.settimeout(20)
                handle(conn, args, log)
            except (Closed, OSError, ValueError) as e:
                log("error=%s" % type(e).__name__)
            finally:
                log("end")
                conn.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
