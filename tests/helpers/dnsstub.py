#!/usr/bin/env python3
"""dnsstub - a tiny UDP DNS responder for sockeye's tests (stdlib only).

    dnsstub.py --port-file FILE [--log FILE] NAME=ADDR ...

Binds 127.0.0.1 on port 0, writes the port to --port-file (atomically),
and answers until killed:
  - A and AAAA for each NAME=ADDR given (an IPv4 ADDR makes an A record, an
    IPv6 one an AAAA record; repeat a NAME for several records);
  - NOERROR with no answer (NODATA) for a known name and another type;
  - NXDOMAIN for every other name.
Names match case-insensitively, without the trailing dot. With --log,
every query is appended as "NAME TYPE" (e.g. "v4.test A"), so a test can
assert that a name was, or was not, looked up.
"""

import argparse
import ipaddress
import os
import socket
import struct
import sys

QTYPE = {1: "A", 28: "AAAA"}
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


def main(argv):
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", help="append 'NAME TYPE' per query here")
    p.add_argument("records", nargs="*", metavar="NAME=ADDR")
    args = p.parse_args(argv)

    records = {}
    for r in args.records:
        name, sep, addr = r.partition("=")
        if not sep:
            p.error("expected NAME=ADDR, got %r" % r)
        records.setdefault(name.lower().rstrip("."), []).append(
            ipaddress.ip_address(addr))

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    write_atomic(args.port_file, "%d\n" % sock.getsockname()[1])
    log = open(args.log, "a", buffering=1) if args.log else None
    while True:
        msg, peer = sock.recvfrom(4096)
        res = answer(msg, records)
        if res is None:
            continue
        reply, name, qtype = res
        if log:
            log.write("%s %s\n" % (name, QTYPE.get(qtype, str(qtype))))
        sock.sendto(reply, peer)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(0)
