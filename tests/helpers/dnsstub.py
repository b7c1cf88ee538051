#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""dnsstub - a tiny UDP DNS responder for sockeye's tests (stdlib only).

    dnsstub.py --port-file FILE [--log FILE] [--delay [NAME:]TYPE=SECONDS]...
               [--bind ADDR] NAME=ADDR ...

Binds 127.0.0.1 (or --bind, e.g. ::1) on port 0, writes the port to
--port-file (atomically),
and answers until killed:
  - A and AAAA for each NAME=ADDR given (an IPv4 ADDR makes an A record, an
    IPv6 one an AAAA record; repeat a NAME for several records);
  - NOERROR with no answer (NODATA) for a known name and another type;
  - NXDOMAIN for every other name.
Names match case-insensitively, without the trailing dot. With --log,
every query is appended as "NAME TYPE" (e.g. "v4.test A") when it
arrives, so a test can assert that a name was, or was not, looked up.

--delay holds back the answers to one query type (A, AAAA or a number),
for every name or, as NAME:TYPE, for one name, by SECONDS (a float);
other queries are answered at once meanwhile. Repeatable; the most
specific match wins. E.g. --delay AAAA=2 makes every AAAA answer 2 s late.
"""

import argparse
import heapq
import ipaddress
import os
import select
import socket
import struct
import sys
import time

QTYPE = {1: "A", 28: "AAAA"}
QTYPE_NUM = {"A": 1, "AAAA": 28}
TTL = 60


def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def parse_question(msg):
    """Return (name, qtype, end offset of the question) or None."""
    pos, labels = 12, []
    while True:
        if pos >= len(msg):
            return None
        n = msg[pos]
        if n == 0:
            pos += 1
            break
        if n & 0xC0:  # no compression in a question we care about
            return None
        labels.append(msg[pos + 1:pos + 1 + n])
        pos += 1 + n
    if pos + 4 > len(msg):
        return None
    qtype, _qclass = struct.unpack("!HH", msg[pos:pos + 4])
    name = b".".join(labels).decode("ascii", "replace").lower()
    return name, qtype, pos + 4


def answer(msg, records):
    """Build the response to one query, or None to drop it."""
    if len(msg) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", msg[:6])
    if flags & 0x8000 or qdcount != 1:  # a response, or not one question
        return None
    q = parse_question(msg)
    if q is None:
        return None
    name, qtype, qend = q
    opcode_rd = flags & 0x7900  # opcode and RD, copied back
    rrs = []
    if name in records:
        rcode = 0
        for addr in records[name]:
            if qtype == 1 and addr.version == 4 or qtype == 28 and addr.version == 6:
                rdata = addr.packed
                rrs.append(b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, TTL,
                                                     len(rdata)) + rdata)
    else:
        rcode = 3  # NXDOMAIN
    rflags = 0x8000 | opcode_rd | 0x0400 | 0x0080 | rcode  # QR AA RA
    head = struct.pack("!HHHHHH", qid, rflags, 1, len(rrs), 0, 0)
    return head + msg[12:qend] + b"".join(rrs), name, qtype


def parse_delay(spec):
    """'[NAME:]TYPE=SECONDS' -> (name or None, qtype number, seconds)."""
    what, sep, secs = spec.partition("=")
    if not sep:
        raise ValueError("expected [NAME:]TYPE=SECONDS, got %r" % spec)
    name, sep, qtype = what.rpartition(":")
    qtype = qtype.upper()
    num = QTYPE_NUM.get(qtype)
    if num is None:
        num = int(qtype)
    return (name.lower().rstrip(".") if sep else None), num, float(secs)


def delay_for(delays, name, qtype):
    """Seconds to hold an answer back: NAME:TYPE over TYPE over none."""
    if (name, qtype) in delays:
        return delays[(name, qtype)]
    return delays.get((None, qtype), 0.0)


def main(argv):
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", help="append 'NAME TYPE' per query here")
    p.add_argument("--delay", action="append", default=[],
                   metavar="[NAME:]TYPE=SECONDS",
                   help="answer these queries late (repeatable)")
    p.add_argument("--bind", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1)")
    p.add_argument("records", nargs="*", metavar="NAME=ADDR")
    args = p.parse_args(argv)

    delays = {}
    for spec in args.delay:
        try:
            name, qtype, secs = parse_delay(spec)
        except ValueError as e:
            p.error("--delay: %s" % e)
        delays[(name, qtype)] = secs

    records = {}
    for r in args.records:
        name, sep, addr = r.partition("=")
        if not sep:
            p.error("expected NAME=ADDR, got %r" % r)
        records.setdefault(name.lower().rstrip("."), []).append(
            ipaddress.ip_address(addr))

    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((args.bind, 0))
    write_atomic(args.port_file, "%d\n" % sock.getsockname()[1])
    log = open(args.log, "a", buffering=1) if args.log else None
    held = []  # heap of (due, seq, reply, peer): answers held back
    seq = 0
    while True:
        timeout = None
        if held:
            timeout = max(0.0, held[0][0] - time.monotonic())
        ready, _, _ = select.select([sock], [], [], timeout)
        now = time.monotonic()
        while held and held[0][0] <= now:
            _due, _seq, reply, peer = heapq.heappop(held)
            sock.sendto(reply, peer)
        if not ready:
            continue
        msg, peer = sock.recvfrom(4096)
        res = answer(msg, records)
        if res is None:
            continue
        reply, name, qtype = res
        if log:
            log.write("%s %s\n" % (name, QTYPE.get(qtype, str(qtype))))
        wait = delay_for(delays, name, qtype)
        if wait > 0:
            seq += 1
            heapq.heappush(held, (now + wait, seq, reply, peer))
        else:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(0)
