#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Write the seed corpus for tests/fuzz/fuzz_proxyproto.c.

Usage: make_corpus_proxyproto.py [OUTDIR]   (default: corpus/proxyproto
next to this script). The output is deterministic; the generated files are
kept in the tree so `make check` can replay them without python.

Seeds are the starts of connections as a load balancer sends them:
  v1      the lines HAProxy's proxy-protocol.txt shows (its example, the
          longest TCP4, TCP6 and UNKNOWN lines), TCP6 forms inet_pton
          takes (a dotted quad at the end, up to the 107-byte limit), and
          each way a line goes wrong (ports, addresses, the wrong family,
          the line's end, NUL, too long);
  v2      TCP over IPv4 and IPv6 with and without TLVs (whole and cut
          short), LOCAL, UNIX, UDP and UNSPEC, and the bad version,
          command, family and length bytes;
  tokens  address and port strings alone, which the harness also tries as
          each field of a v1 line;
and SOCKS5 and HTTP first bytes, which must be refused at once.
"""
import os
import struct
import sys

SIG = b"\r\n\r\n\x00\r\nQUIT\n"
SOCKS = bytes([0x05, 0x01, 0x00])


def v2(ver_cmd, fam, body, length=None):
    n = len(body) if length is None else length
    return SIG + bytes([ver_cmd, fam]) + struct.pack("!H", n) + body


def inet(src, dst, sport, dport):
    return bytes(src) + bytes(dst) + struct.pack("!HH", sport, dport)


def inet6(src, dst, sport, dport):
    return src + dst + struct.pack("!HH", sport, dport)


def tlv(t, value):
    return bytes([t]) + struct.pack("!H", len(value)) + value


V4 = inet([192, 0, 2, 1], [198, 51, 100, 7], 56324, 443)
V6 = inet6(bytes.fromhex("20010db8000000000000000000000001"),
           bytes.fromhex("20010db80000000000000000000000ff"), 1, 65535)
TLVS = (tlv(0x01, b"h2") + tlv(0x02, b"example.com") +
        tlv(0x20, bytes([0x07, 0, 0, 0, 0]) + tlv(0x21, b"TLSv1.3")) +
        tlv(0x04, b"\x00" * 3))
A45 = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"
A44 = A45[:-1]
F39 = ":".join(["ffff"] * 8)


def line(s):
    return s.encode("latin-1")


SEEDS = {
    # --- v1 ---
    "v1_spec_example": line("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"
                            "GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n"),
    "v1_tcp4_longest": line("PROXY TCP4 255.255.255.255 255.255.255.255 "
                            "65535 65535\r\n"),
    "v1_tcp4_zero": line("PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n"),
    "v1_tcp4_then_socks": line("PROXY TCP4 10.1.2.3 127.0.0.1 40000 1080\r\n")
    + SOCKS,
    "v1_tcp6": line("PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n"),
    "v1_tcp6_longest": line("PROXY TCP6 %s %s 65535 65535\r\n" % (F39, F39)),
    "v1_tcp6_quad": line("PROXY TCP6 ::ffff:192.0.2.1 1:2:3:4:5:6:10.0.0.1 "
                         "5 6\r\n"),
    "v1_tcp6_one_group_dcolon": line("PROXY TCP6 1:2:3:4:5:6:7:: "
                                     "::2:3:4:5:6:7:8 9 10\r\n"),
    "v1_tcp6_upper": line("PROXY TCP6 FE80::ABCD 2001:DB8:0:0:0:0:0:1 80 "
                          "8080\r\n"),
    "v1_tcp6_limit_107": line("PROXY TCP6 %s %s 0 0\r\n" % (A45, A44)),
    "v1_tcp6_limit_108": line("PROXY TCP6 %s %s 0 0\r\n" % (A45, A45)),
    "v1_unknown": line("PROXY UNKNOWN\r\n") + SOCKS,
    "v1_unknown_addresses": line("PROXY UNKNOWN %s %s 65535 65535\r\n"
                                 % (F39, F39)),
    "v1_unknown_junk": b"PROXY UNKNOWNx\tz \x7f\xff\r\n",
    "v1_unknown_107": b"PROXY UNKNOWN" + b"x" * 92 + b"\r\n",
    "v1_unknown_108": b"PROXY UNKNOWN" + b"x" * 93 + b"\r\n",
    "v1_unknown_nul": b"PROXY UNKNOWN abc\x00def\r\n",
    "v1_unknown_lf": b"PROXY UNKNOWN abc\ndef\r\n",
    "v1_port_65536": line("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"),
    "v1_port_lead0": line("PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n"),
    "v1_port_sign": line("PROXY TCP4 1.2.3.4 5.6.7.8 +80 -2\r\n"),
    "v1_port_empty": line("PROXY TCP4 1.2.3.4 5.6.7.8  2\r\n"),
    "v1_addr_256": line("PROXY TCP4 256.1.1.1 5.6.7.8 1 2\r\n"),
    "v1_addr_lead0": line("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n"),
    "v1_addr_short": line("PROXY TCP4 127.1 5.6.7.8 1 2\r\n"),
    "v1_addr_v6_nine_groups": line("PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n"),
    "v1_addr_v6_two_dcolons": line("PROXY TCP6 1::2::3 ::1 1 2\r\n"),
    "v1_addr_v6_zone": line("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n"),
    "v1_family_v6_in_tcp4": line("PROXY TCP4 ::1 5.6.7.8 1 2\r\n"),
    "v1_family_v4_in_tcp6": line("PROXY TCP6 1.2.3.4 ::1 1 2\r\n"),
    "v1_no_cr": line("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"),
    "v1_cr_alone": line("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r"),
    "v1_nul": b"PROXY TCP4 1.2.3.4\x005.6.7.8 1 2\r\n",
    "v1_double_space": line("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n"),
    "v1_trailing_space": line("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"),
    "v1_lowercase": line("proxy tcp4 1.2.3.4 5.6.7.8 1 2\r\n"),
    "v1_too_long": b"PROXY UNKNOWN " + b"a" * 200,
    "v1_truncated": line("PROXY TCP6 2001:db8::1 2001:d"),
    # --- v2 ---
    "v2_tcp4": v2(0x21, 0x11, V4),
    "v2_tcp4_then_socks": v2(0x21, 0x11, V4) + SOCKS,
    "v2_tcp6": v2(0x21, 0x21, V6),
    "v2_tcp4_tlvs": v2(0x21, 0x11, V4 + TLVS) + SOCKS,
    "v2_tcp6_tlvs": v2(0x21, 0x21, V6 + TLVS),
    "v2_tcp4_tlvs_cut": v2(0x21, 0x11, V4 + TLVS)[:16 + 12 + 4],
    "v2_tcp4_len_max": v2(0x21, 0x11, V4, length=0xffff),
    "v2_udp4": v2(0x21, 0x12, V4),
    "v2_udp6": v2(0x21, 0x22, V6),
    "v2_local": v2(0x20, 0x00, b"") + SOCKS,
    "v2_local_with_addresses": v2(0x20, 0x11, V4),
    "v2_local_bad_family": v2(0x20, 0xff, b"abc"),
    "v2_unspec": v2(0x21, 0x00, b""),
    "v2_unix_stream": v2(0x21, 0x31, b"/run/a.sock".ljust(108, b"\0") +
                         b"/run/b.sock".ljust(108, b"\0")),
    "v2_unix_short": v2(0x21, 0x31, b"\0" * 215),
    "v2_tcp4_short": v2(0x21, 0x11, V4[:11]),
    "v2_tcp6_short": v2(0x21, 0x21, V6[:35]),
    "v2_version_1": v2(0x11, 0x11, V4),
    "v2_version_3": v2(0x31, 0x11, V4),
    "v2_command_2": v2(0x22, 0x11, V4),
    "v2_family_4": v2(0x21, 0x41, V4),
    "v2_protocol_3": v2(0x21, 0x13, V4),
    "v2_bad_signature": SIG[:7] + b"X" + SIG[8:] + bytes([0x21, 0x11, 0, 12]) + V4,
    "v2_truncated": v2(0x21, 0x21, V6)[:30],
    # --- tokens, tried as v1 fields by the harness ---
    "tok_v4": b"192.0.2.1",
    "tok_v4_bad": b"1.2.3.04",
    "tok_v6": b"2001:db8::1",
    "tok_v6_full": F39.encode(),
    "tok_v6_quad": A45.encode(),
    "tok_v6_dcolon_end": b"1:2:3:4:5:6:7::",
    "tok_v6_bad": b"1:2:3:4:5:6::1.2.3.4",
    "tok_port": b"65535",
    "tok_port_big": b"65536",
    "tok_port_lead0": b"0080",
    # --- not PROXY at all ---
    "socks5_greeting": SOCKS,
    "socks4": bytes([0x04, 0x01, 0x00, 0x50, 127, 0, 0, 1, 0x00]),
    "http": b"GET / HTTP/1.1\r\nHost: example\r\n\r\n",
    "empty": b"",
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "corpus", "proxyproto")
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        os.unlink(os.path.join(out, f))
    for fname, data in sorted(SEEDS.items()):
        with open(os.path.join(out, fname), "wb") as f:
            f.write(data)
    print("wrote %d files to %s" % (len(SEEDS), out))


if __name__ == "__main__":
    main()
