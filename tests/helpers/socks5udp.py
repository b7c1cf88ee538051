#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""socks5udp - sockeye's own SOCKS5 UDP ASSOCIATE test client (stdlib only).

It opens an association (greeting, optional RFC 1929 login, UDP
ASSOCIATE) and then does what the options ask, in this order, printing
one event a line in a stable form the integration tests grep for:

    rep=0 bnd=127.0.0.1:40000     the reply (REP decimal, BND.ADDR:PORT)
    echo dst=D from=F hdr=HEX ok  --echo D: a datagram to D came back,
                                  wrapped in a header naming F (hdr is the
                                  header's bytes in hex); "bad" instead of
                                  "ok" when the payload differs
    echo dst=D none               ... nothing came back within --wait s
    raw=HEX none|got=N            --raw HEX: a hand-made datagram, then
                                  whether anything came back
    extra got=A,B,...             --extra D: asks the echo server at D to
                                  answer from its other sockets as well
                                  (udpecho.py); lists the sources heard
    dns name=N addr=A | dns name=N none
                                  --dns N --dns-server D: an A query
    burst sent=N received=M kernel_drops=K bad=B
                                  --burst N --burst-dst D: N numbered
                                  datagrams, sent while receiving; K is this
                                  socket's drop count (SO_MEMINFO)
    closed_refused=yes|no         --close-check: after closing the control
                                  connection, is the relay port closed
                                  (ICMP port unreachable)?
    control=eof                   --wait-eof: the server closed the control
                                  connection (e.g. the idle timeout)

Addresses: IPv4 "1.2.3.4:53", IPv6 "[::1]:53", or a name "host:53" (sent
as ATYP 3). The exit status is 0 whatever the server did, 1 when the
proxy cannot be reached or refuses the association (rep != 0), 2 on bad
usage. Every wait is bounded.
"""

import argparse
import os
import socket
import struct
import sys
import threading
import time

ATYP_IPV4, ATYP_DOMAIN, ATYP_IPV6 = 1, 3, 4
SO_MEMINFO = getattr(socket, "SO_MEMINFO", 55)
MEMINFO_DROPS = 8


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
    """ATYP + address + port; a name that is not an IP goes as ATYP 3."""
    for fam, atyp in ((socket.AF_INET, ATYP_IPV4), (socket.AF_INET6, ATYP_IPV6)):
        try:
            return bytes([atyp]) + socket.inet_pton(fam, host) + struct.pack("!H", port)
        except OSError:
            pass
    name = host.encode("ascii")
    return bytes([ATYP_DOMAIN, len(name)]) + name + struct.pack("!H", port)


def decode_addr(buf, off):
    """(host string, port, offset after) from buf[off:], or None."""
    if off >= len(buf):
        return None
    atyp = buf[off]
    if atyp == ATYP_IPV4 and len(buf) >= off + 7:
        host = socket.inet_ntop(socket.AF_INET, buf[off + 1:off + 5])
        return host, struct.unpack("!H", buf[off + 5:off + 7])[0], off + 7
    if atyp == ATYP_IPV6 and len(buf) >= off + 19:
        host = "[%s]" % socket.inet_ntop(socket.AF_INET6, buf[off + 1:off + 17])
        return host, struct.unpack("!H", buf[off + 17:off + 19])[0], off + 19
    if atyp == ATYP_DOMAIN and len(buf) > off + 1:
        n = buf[off + 1]
        if len(buf) >= off + 4 + n:
            host = buf[off + 2:off + 2 + n].decode("ascii", "replace")
            return host, struct.unpack("!H", buf[off + 2 + n:off + 4 + n])[0], off + 4 + n
    return None


def unwrap(dgram):
    """(from 'host:port', header bytes, payload) or None if malformed."""
    if len(dgram) < 4:
        return None
    a = decode_addr(dgram, 3)
    if a is None:
        return None
    host, port, end = a
    return "%s:%d" % (host, port), dgram[:end], dgram[end:]


def recv_exact(sock, n, deadline):
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("control connection: timeout")
        sock.settimeout(left)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("control connection closed")
        buf += chunk
    return buf


def associate(args):
    """The control connection and the reply: (tcp socket, relay (host, port))."""
    host, port = split_hostport(args.proxy)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    tcp = socket.socket(fam, socket.SOCK_STREAM)
    tcp.settimeout(args.timeout)
    tcp.connect((host, port))
    deadline = time.monotonic() + args.timeout
    method = 2 if args.user is not None else 0
    tcp.sendall(bytes([5, 1, method]))
    reply = recv_exact(tcp, 2, deadline)
    if reply != bytes([5, method]):
        out("method=%s" % reply.hex())
        return None, None
    if method == 2:
        u = args.user.encode()
        p = os.environ.get("SOCKEYE_PASSWORD", "").encode()
        tcp.sendall(bytes([1, len(u)]) + u + bytes([len(p)]) + p)
        if recv_exact(tcp, 2, deadline)[1] != 0:
            out("auth=failed")
            return None, None
    if args.req_hex:
        tcp.sendall(bytes.fromhex(args.req_hex))
    else:
        rh, rp = split_hostport(args.req)
        tcp.sendall(bytes([5, 3, 0]) + encode_addr(rh, rp))
    head = recv_exact(tcp, 4, deadline)
    atyp = head[3]
    alen = {ATYP_IPV4: 4, ATYP_IPV6: 16}.get(atyp)
    if alen is None:
        out("rep=%d atyp=%d" % (head[1], atyp))
        return None, None
    raw = recv_exact(tcp, alen + 2, deadline)
    bhost = socket.inet_ntop(socket.AF_INET if alen == 4 else socket.AF_INET6, raw[:alen])
    bport = struct.unpack("!H", raw[alen:])[0]
    out("rep=%d bnd=%s:%d" % (head[1], bhost if alen == 4 else "[%s]" % bhost, bport))
    if head[1] != 0:
        return None, None
    return tcp, (bhost, bport)


def make_udp(args, relay):
    fam = socket.AF_INET6 if ":" in relay[0] else socket.AF_INET
    udp = socket.socket(fam, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    udp.bind((args.source, args.source_port))
    udp.connect(relay)
    return udp


def recv_one(udp, wait):
    """One datagram within `wait` seconds, or None."""
    udp.settimeout(wait)
    try:
        return udp.recv(65535)
    except socket.timeout:
        return None
    except ConnectionRefusedError:
        return None


def do_echo(udp, dst, args, i):
    h, p = split_hostport(dst)
    payload = b"echo %d to %s" % (i, dst.encode())
    udp.send(b"\x00\x00\x00" + encode_addr(h, p) + payload)
    deadline = time.monotonic() + args.wait
    while True:
        left = deadline - time.monotonic()
        d = recv_one(udp, left) if left > 0 else None
        if d is None:
            out("echo dst=%s none" % dst)
            return
        u = unwrap(d)
        if u is None:
            out("echo dst=%s malformed=%s" % (dst, d.hex()))
            return
        src, hdr, data = u
        if data.startswith(b"echo ") and data != payload:
            continue  # a late answer to an earlier datagram
        out("echo dst=%s from=%s hdr=%s %s" % (dst, src, hdr.hex(),
                                              "ok" if data == payload else "bad"))
        return


def do_extra(udp, dst, args):
    h, p = split_hostport(dst)
    udp.send(b"\x00\x00\x00" + encode_addr(h, p) + b"EXTRA")
    heard = []
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        d = recv_one(udp, max(0.01, deadline - time.monotonic()))
        if d is None:
            break
        u = unwrap(d)
        if u is not None and u[2].startswith(b"EXTRA"):
            heard.append(u[0])
    out("extra got=%s" % (",".join(sorted(heard)) or "-"))


def dns_query(name, qid):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack("!HH", 1, 1)


def dns_answer(msg, qid):
    """The first A record of a response to qid, or None."""
    if len(msg) < 12:
        return None
    rid, flags, qd, an = struct.unpack("!HHHH", msg[:8])
    if rid != qid or not flags & 0x8000 or an == 0:
        return None
    pos = 12
    for _ in range(qd):
        while msg[pos] != 0:
            pos += 1 + msg[pos]
        pos += 5
    for _ in range(an):
        if msg[pos] & 0xC0 == 0xC0:
            pos += 2
        else:
            while msg[pos] != 0:
                pos += 1 + msg[pos]
            pos += 1
        rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", msg[pos:pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            return socket.inet_ntop(socket.AF_INET, msg[pos:pos + 4])
        pos += rdlen
    return None


def do_dns(udp, name, server, args):
    h, p = split_hostport(server)
    qid = 0x5eed
    udp.send(b"\x00\x00\x00" + encode_addr(h, p) + dns_query(name, qid))
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        d = recv_one(udp, max(0.01, deadline - time.monotonic()))
        if d is None:
            break
        u = unwrap(d)
        if u is None:
            continue
        addr = dns_answer(u[2], qid)
        if addr is not None:
            out("dns name=%s addr=%s from=%s" % (name, addr, u[0]))
            return
    out("dns name=%s none" % name)


def meminfo_drops(sock):
    try:
        b = sock.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 64)
        v = struct.unpack("%dI" % (len(b) // 4), b)
        return v[MEMINFO_DROPS] if len(v) > MEMINFO_DROPS else 0
    except OSError:
        return 0


def do_burst(udp, n, dst, args):
    """n numbered datagrams to dst, received back concurrently; counts."""
    h, p = split_hostport(dst)
    head = b"\x00\x00\x00" + encode_addr(h, p)
    pad = b"x" * max(0, args.burst_size - 8)
    seen = set()
    state = {"bad": 0, "last": time.monotonic(), "done": False}

    def receiver():
        udp.settimeout(0.2)
        while True:
            try:
                d = udp.recv(65535)
            except socket.timeout:
                if state["done"] and time.monotonic() - state["last"] > args.settle:
                    return
                if time.monotonic() > hard_end:
                    return
                continue
            except ConnectionRefusedError:
                continue
            state["last"] = time.monotonic()
            u = unwrap(d)
            if u is None or len(u[2]) < 8:
                state["bad"] += 1
                continue
            seen.add(struct.unpack("!Q", u[2][:8])[0])

    hard_end = time.monotonic() + args.burst_time
    t = threading.Thread(target=receiver, daemon=True)
    t.start()
    sent = 0
    for i in range(n):
        if time.monotonic() > hard_end:
            break
        try:
            udp.send(head + struct.pack("!Q", i) + pad)
            sent += 1
        except OSError:
            pass  # not sent: not counted
    state["done"] = True
    state["last"] = time.monotonic()
    t.join(args.burst_time + args.settle + 5)
    out("burst sent=%d received=%d kernel_drops=%d bad=%d" % (
        sent, len(seen), meminfo_drops(udp), state["bad"]))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--proxy", required=True, help="HOST:PORT of the SOCKS server")
    ap.add_argument("--user", help="RFC 1929 user (password in SOCKEYE_PASSWORD)")
    ap.add_argument("--req", default="0.0.0.0:0",
                    help="DST.ADDR:DST.PORT of the request (default 0.0.0.0:0)")
    ap.add_argument("--req-hex", help="send these bytes as the request")
    ap.add_argument("--source", default="",
                    help="bind the UDP socket to this address (e.g. 127.0.0.2)")
    ap.add_argument("--source-port", type=int, default=0)
    ap.add_argument("--print-source", action="store_true",
                    help="print the UDP socket's address as source=ADDR:PORT")
    ap.add_argument("--timeout", type=float, default=10.0,
                    help="seconds for the control connection's answers")
    ap.add_argument("--wait", type=float, default=3.0,
                    help="seconds to wait for an answer datagram")
    ap.add_argument("--echo", action="append", default=[], metavar="DST")
    ap.add_argument("--raw", action="append", default=[], metavar="HEX")
    ap.add_argument("--extra", metavar="DST")
    ap.add_argument("--dns", metavar="NAME")
    ap.add_argument("--dns-server", metavar="DST")
    ap.add_argument("--burst", type=int, default=0)
    ap.add_argument("--burst-dst", metavar="DST")
    ap.add_argument("--burst-size", type=int, default=64)
    ap.add_argument("--burst-time", type=float, default=60.0,
                    help="the burst's time limit in seconds")
    ap.add_argument("--settle", type=float, default=2.0,
                    help="seconds without an answer that end the burst")
    ap.add_argument("--hold", type=float, default=0.0,
                    help="keep the association this long before closing")
    ap.add_argument("--wait-eof", type=float, default=0.0,
                    help="wait up to this long for the server to close")
    ap.add_argument("--close-check", action="store_true")
    args = ap.parse_args(argv)

    try:
        tcp, relay = associate(args)
    except (OSError, ConnectionError, TimeoutError) as e:
        out("connect_error=%s" % str(e).replace(" ", "_"))
        return 1
    if tcp is None:
        return 1
    udp = make_udp(args, relay)
    if args.print_source:
        s = udp.getsockname()
        out("source=%s:%d" % ("[%s]" % s[0] if ":" in s[0] else s[0], s[1]))
    for i, dst in enumerate(args.echo):
        do_echo(udp, dst, args, i)
    for hexstr in args.raw:
        udp.send(bytes.fromhex(hexstr))
        d = recv_one(udp, args.wait)
        out("raw=%s %s" % (hexstr[:16], "none" if d is None else "got=%d" % len(d)))
    if args.extra:
        do_extra(udp, args.extra, args)
    if args.dns:
        do_dns(udp, args.dns, args.dns_server, args)
    if args.burst:
        do_burst(udp, args.burst, args.burst_dst, args)
    if args.hold:
        time.sleep(args.hold)
    if args.wait_eof:
        tcp.settimeout(args.wait_eof)
        try:
            data = tcp.recv(1)
            out("control=eof" if not data else "control=data")
        except socket.timeout:
            out("control=open")
        except OSError:
            out("control=eof")
    tcp.close()
    if args.close_check:
        # The association must be gone: the relay port answers with ICMP
        # port unreachable, which a connected UDP socket reports.
        refused = False
        deadline = time.monotonic() + args.wait + 5
        while time.monotonic() < deadline and not refused:
            try:
                udp.send(b"\x00\x00\x00\x01\x7f\x00\x00\x01\x00\x09after")
                udp.settimeout(0.2)
                udp.recv(65535)
            except ConnectionRefusedError:
                refused = True
            except (socket.timeout, OSError):
                pass
        out("closed_refused=%s" % ("yes" if refused else "no"))
    udp.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
