#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Write the seed corpus for tests/fuzz/fuzz_socks5.c.

Usage: make_corpus_socks5.py [OUTDIR]   (default: corpus/socks5 next to this
script). The output is deterministic; the generated files are kept in the
tree so `make check` can replay them without python.

Every input goes through every parser in the harness, so one file per
message shape is enough: valid messages of each kind and ATYP, plus the
malformed cases the parsers must reject and the truncations they must wait
on.
"""
import os
import struct
import sys


def port(p):
    return struct.pack("!H", p)


def v4(a, b, c, d):
    return bytes([0x01, a, b, c, d])


def v6(*words):
    # words: 8 16-bit groups
    return bytes([0x04]) + struct.pack("!8H", *words)


def name(s):
    b = s.encode("latin-1") if isinstance(s, str) else s
    return bytes([0x03, len(b)]) + b


def request(cmd, addr, p, rsv=0):
    return bytes([0x05, cmd, rsv]) + addr + port(p)


def reply(rep, addr, p):
    return bytes([0x05, rep, 0x00]) + addr + port(p)


def udp(frag, addr, p, payload=b""):
    return bytes([0x00, 0x00, frag]) + addr + port(p) + payload


DB8_1 = v6(0x2001, 0x0db8, 0, 0, 0, 0, 0, 1)
LOOP6 = v6(0, 0, 0, 0, 0, 0, 0, 1)

SEEDS = {
    # greetings
    "greeting_noauth": bytes([0x05, 0x01, 0x00]),
    "greeting_putty": bytes([0x05, 0x03, 0x00, 0x03, 0x02]),
    "greeting_255_methods": bytes([0x05, 0xFF]) + bytes(range(255)),
    "greeting_nmethods_zero": bytes([0x05, 0x00]),
    "greeting_socks4": bytes([0x04, 0x01, 0x00, 0x50, 127, 0, 0, 1, 0x00]),
    "greeting_truncated": bytes([0x05, 0x03, 0x00]),
    "greeting_then_request": bytes([0x05, 0x01, 0x00])
    + request(0x01, name("example.org"), 443),
    # method selection replies
    "method_reply_password": bytes([0x05, 0x02]),
    "method_reply_no_acceptable": bytes([0x05, 0xFF]),
    # requests
    "request_connect_ipv4": request(0x01, v4(127, 0, 0, 1), 80),
    "request_connect_ipv6": request(0x01, DB8_1, 443),
    "request_connect_domain": request(0x01, name("example.com"), 443),
    "request_domain_255": request(0x01, name("a" * 63 + "." + "b" * 63 + "."
                                             + "c" * 63 + "." + "d" * 63), 80),
    "request_domain_ip_literal": request(0x01, name("127.0.0.1"), 22),
    "request_bind_ipv4": request(0x02, v4(192, 0, 2, 10), 21),
    "request_udp_assoc_zero": request(0x03, v4(0, 0, 0, 0), 0),
    "request_unknown_cmd": request(0x09, v4(10, 0, 0, 1), 8080),
    "request_rsv_nonzero": request(0x01, LOOP6, 1080, rsv=0xFF),
    "request_bad_atyp": bytes([0x05, 0x01, 0x00, 0x02, 1, 2, 3, 4, 0, 80]),
    "request_name_len_zero": bytes([0x05, 0x01, 0x00, 0x03, 0x00, 0x00, 0x50]),
    "request_name_with_nul": request(0x01, name(b"evil\x00.com"), 80),
    "request_truncated_ipv6": request(0x01, DB8_1, 443)[:12],
    # replies
    "reply_succeeded_ipv4": reply(0x00, v4(192, 0, 2, 1), 1080),
    "reply_refused_ipv6": reply(0x05, DB8_1, 0),
    "reply_domain": reply(0x00, name("proxy.example"), 1080),
    # UDP request headers (with payload: a datagram is whole)
    "udp_ipv4_dns": udp(0x00, v4(8, 8, 8, 8), 53,
                        bytes.fromhex("abcd01000001000000000000")),
    "udp_ipv6": udp(0x00, LOOP6, 5353, b"ping"),
    "udp_domain": udp(0x00, name("time.example"), 123, b"\x1b" + b"\x00" * 7),
    "udp_frag_last": udp(0x81, v4(10, 1, 2, 3), 9, b"x"),
    "udp_truncated": udp(0x00, LOOP6, 53)[:9],
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "corpus", "socks5")
    os.makedirs(out, exist_ok=True)
    for fname, data in sorted(SEEDS.items()):
        with open(os.path.join(out, fname), "wb") as f:
            f.write(data)
    print("wrote %d files to %s" % (len(SEEDS), out))


if __name__ == "__main__":
    main()
