#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Write the seed corpus for tests/fuzz/fuzz_socks6.c.

Usage: make_corpus_socks6.py [OUTDIR]   (default: corpus/socks6 next to this
script). The output is deterministic; the generated files are kept in the
tree so `make check` can replay them without python.

The layouts are draft-olteanu-intarea-socks-6-12's, written here from the
draft's figures (not with the codec under test). Every input goes through
every parser in the harness (request, authentication reply, operation
reply, and the input read as a bare options block), so one file per shape:
valid messages of each kind, address type and option kind, and the
malformed ones the parsers must refuse at their first bad byte.
"""
import os
import struct
import sys


def u16(v):
    return struct.pack("!H", v)


def u32(v):
    return struct.pack("!I", v)


def pad4(n):
    return (n + 3) & ~3


def v4(a, b, c, d):
    return 0x01, bytes([a, b, c, d])


def v6(*words):
    return 0x04, struct.pack("!8H", *words)


def name(s):
    """ATYP 3: L counts the NUL padding; 1 + L is a multiple of 4."""
    b = s.encode("latin-1") if isinstance(s, str) else s
    total = pad4(1 + len(b))
    return 0x03, bytes([total - 1]) + b + b"\x00" * (total - 1 - len(b))


def msg(ver, code, addr, port, opts=b"", pad=0):
    """Request / Operation Reply: VER CODE OPTLEN PORT PAD ATYP ADDR OPTS."""
    atyp, a = addr
    return (bytes([ver, code]) + u16(len(opts)) + u16(port)
            + bytes([pad, atyp]) + a + opts)


def auth_reply(typ, opts=b"", ver=6):
    return bytes([ver, typ]) + u16(len(opts)) + opts


def opt(kind, data=b""):
    """KIND LENGTH DATA, zero-padded to a multiple of 4."""
    total = pad4(4 + len(data))
    return u16(kind) + u16(total) + data + b"\x00" * (total - 4 - len(data))


def stack(leg, level, code, v0, v1=0):
    return opt(1, bytes([leg << 6 | level, code, v0, v1]))


def advert(initial, methods):
    return opt(2, u16(initial) + bytes(methods))


def select(method):
    return opt(3, bytes([method, 0, 0, 0]))


def auth_data(method, data):
    return opt(4, bytes([method]) + data)


def pw_request(user, pw):
    u, p = user.encode(), pw.encode()
    return auth_data(2, bytes([1, len(u)]) + u + bytes([len(p)]) + p)


def pw_reply(status):
    return auth_data(2, bytes([1, status]))


HE_YES = stack(2, 1, 2, 2)
DB8_1 = v6(0x2001, 0x0db8, 0, 0, 0, 0, 0, 1)
ANY4 = v4(0, 0, 0, 0)
EX = name("example.com")

ALL_STACK = (stack(1, 1, 1, 0x2e) + HE_YES + stack(3, 1, 3, 64)
             + stack(2, 1, 4, 2) + stack(2, 4, 1, 0x05, 0xb4)
             + stack(2, 4, 2, 2) + stack(2, 4, 3, 0, 16)
             + stack(2, 5, 1, 2) + stack(2, 5, 2, 1, 1))
SESSIONS = (opt(5) + opt(6, b"SESSION1") + opt(8) + opt(9) + opt(10))
IDEM = (opt(11, u32(64)) + opt(12, u32(1000) + u32(64))
        + opt(13, u32(1001)) + opt(14) + opt(15))
UNKNOWN = opt(0) + opt(7, u32(1)) + opt(16) + opt(17, u32(0x7f000001)) \
    + opt(64512, b"vendor") + opt(0xffff)

SEEDS = {
    # requests
    "req_connect_ipv4": msg(6, 1, v4(192, 0, 2, 7), 443),
    "req_connect_ipv6": msg(6, 1, DB8_1, 443),
    "req_connect_domain": msg(6, 1, EX, 443),
    "req_domain_1": msg(6, 1, name("a"), 80),
    "req_domain_3": msg(6, 1, name("abc"), 80),
    "req_domain_4": msg(6, 1, name("abcd"), 80),
    "req_domain_255": msg(6, 1, name("a" * 63 + "." + "b" * 63 + "."
                                     + "c" * 63 + "." + "d" * 63), 80),
    "req_noop": msg(6, 0, ANY4, 0),
    "req_bind_any6": msg(6, 2, v6(0, 0, 0, 0, 0, 0, 0, 0), 0),
    "req_udp_assoc": msg(6, 3, ANY4, 0, stack(2, 5, 1, 2)),
    "req_unknown_cmd": msg(6, 9, v4(10, 0, 0, 1), 8080),
    "req_padding_nonzero": msg(6, 1, v4(10, 0, 0, 1), 80, pad=0xff),
    "req_legacy_212": msg(0xd4, 1, EX, 443, HE_YES),
    "req_happy_eyeballs": msg(6, 1, EX, 443, HE_YES),
    "req_all_stack": msg(6, 1, EX, 443, ALL_STACK),
    "req_stack_ignored": msg(6, 1, EX, 443, stack(0, 1, 1, 5)
                             + stack(1, 1, 2, 2) + stack(2, 9, 9, 1)),
    "req_auth_advert": msg(6, 1, EX, 443, advert(100, [2, 1, 0x80])),
    "req_password": msg(6, 1, EX, 443, advert(0, [2])
                        + pw_request("alice", "secret")),
    "req_password_255": msg(6, 1, EX, 443,
                            pw_request("u" * 255, "p" * 255)),
    "req_auth_data_gssapi": msg(6, 1, EX, 443, auth_data(1, b"\x01\x01"
                                                         b"\x00\x04tokn")),
    "req_sessions": msg(6, 1, EX, 443, SESSIONS),
    "req_idempotence": msg(6, 1, EX, 443, opt(6, b"SESSION1") + IDEM),
    "req_unknown_options": msg(6, 1, EX, 443, UNKNOWN),
    "req_everything": msg(6, 1, name("www.example.org"), 443,
                          ALL_STACK + advert(512, [2, 3])
                          + pw_request("bob", "hunter2")
                          + auth_data(3, b"chap") + SESSIONS[:4]
                          + opt(6, b"ABCDEFGH") + opt(11, u32(8))
                          + opt(13, u32(77))),
    "req_then_initial_data": msg(6, 1, EX, 80, advert(18, [2]))
    + b"GET / HTTP/1.0\r\n\r\n",
    # the 20 KB cap: one option filling it, and 5120 small ones
    "req_options_20k": msg(6, 1, EX, 443,
                           opt(64512, b"\x00" * (20 * 1024 - 4))),
    "req_options_5120": msg(6, 1, ANY4, 0,
                            b"".join(opt(100 + i % 7) for i in range(5120))),
    # malformed requests
    "bad_version_5": bytes([0x05, 0x01, 0x00]),
    "bad_version_4": bytes([0x04, 0x01, 0x00, 0x50, 127, 0, 0, 1, 0x00]),
    "bad_optlen_odd": bytes([6, 1, 0, 6, 0, 80, 0, 1, 1, 2, 3, 4]) + b"\0" * 6,
    "bad_optlen_over_20k": bytes([6, 1]) + u16(20 * 1024 + 4)
    + bytes([0, 80, 0, 1, 1, 2, 3, 4]),
    "bad_atyp": bytes([6, 1, 0, 0, 0, 80, 0, 2, 1, 2, 3, 4]),
    "bad_name_len_zero": bytes([6, 1, 0, 0, 0, 80, 0, 3, 0]),
    "bad_name_unpadded": bytes([6, 1, 0, 0, 0, 80, 0, 3, 2]) + b"ab\0\0",
    "bad_name_empty": bytes([6, 1, 0, 0, 0, 80, 0, 3, 3, 0, 0, 0]),
    "bad_name_nul_inside": bytes([6, 1, 0, 0, 0, 80, 0, 3, 7])
    + b"abcd\0f\0",
    "bad_name_overpadded": bytes([6, 1, 0, 0, 0, 80, 0, 3, 7])
    + b"abc\0\0\0\0",
    "bad_opt_len_2": msg(6, 1, EX, 443, u16(300) + u16(2) + b"\0" * 4),
    "bad_opt_len_6": msg(6, 1, EX, 443, u16(300) + u16(6) + b"\0" * 4),
    "bad_opt_past_end": msg(6, 1, EX, 443, u16(300) + u16(12) + b"\0" * 4),
    "bad_stack_12": msg(6, 1, EX, 443, opt(1, bytes([0x41, 1]) + b"\0" * 6)),
    "bad_stack_avail_3": msg(6, 1, EX, 443, stack(2, 1, 2, 3)),
    "bad_stack_dup": msg(6, 1, EX, 443, stack(3, 1, 1, 5) + stack(1, 1, 1, 5)),
    "bad_parity": msg(6, 3, ANY4, 0, stack(2, 5, 2, 2, 2)),
    "bad_advert_dup": msg(6, 1, EX, 443, advert(0, [2]) + advert(0, [2])),
    "bad_initial_data": msg(6, 1, EX, 443, advert(0x4001, [2])),
    "bad_password_overlong": msg(6, 1, EX, 443,
                                 auth_data(2, b"\x01\x01a\x01b" + b"\0" * 8)),
    "bad_password_pad": msg(6, 1, EX, 443, opt(4, b"\x02\x01\x01a\x01b")[:-2]
                            + b"xx"),
    "bad_password_dup": msg(6, 1, EX, 443, pw_request("u", "p")
                            + pw_request("u", "p")),
    "bad_session_id_empty": msg(6, 1, EX, 443, opt(6) + opt(300)),
    "bad_session_dup": msg(6, 1, EX, 443, opt(5) + opt(5)),
    "bad_window_zero": msg(6, 1, EX, 443, opt(12, u32(1) + u32(0))),
    "bad_spend_4": msg(6, 1, EX, 443, opt(13) + opt(300)),
    "truncated_ipv6": msg(6, 1, DB8_1, 443)[:13],
    "truncated_options": msg(6, 1, EX, 443, ALL_STACK)[:40],
    # authentication replies
    "auth_success": auth_reply(0),
    "auth_success_legacy": auth_reply(0, ver=0xd4),
    "auth_failed_password": auth_reply(1, pw_reply(1)),
    "auth_select_password": auth_reply(1, select(2)),
    "auth_session_ok_window": auth_reply(0, opt(8) + opt(12, u32(5)
                                                           + u32(32))
                                         + opt(14)),
    "auth_session_invalid": auth_reply(1, opt(9)),
    "bad_auth_pw_reply_ver": auth_reply(1, auth_data(2, b"\x02\x01")),
    # operation replies
    "op_success_ipv4": msg(6, 0, v4(192, 0, 2, 1), 1080),
    "op_timed_out": msg(6, 9, ANY4, 0),
    "op_refused_ipv6": msg(6, 5, DB8_1, 0),
    "op_domain_echo": msg(6, 0, name("proxy.example"), 1080,
                          HE_YES + stack(2, 4, 2, 1)),
    "op_session_id": msg(6, 0, v4(10, 0, 0, 1), 40000, opt(6, b"SESSION1")),
    # bare options blocks (for the options parser and the iterator)
    "opts_all_stack": ALL_STACK,
    "opts_sessions_idem": SESSIONS + IDEM,
    "opts_unknown": UNKNOWN,
    "opts_password": pw_request("alice", "secret"),
    "opts_broken_tail": HE_YES + u16(300) + u16(5),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "corpus", "socks6")
    os.makedirs(out, exist_ok=True)
    for fname, data in sorted(SEEDS.items()):
        with open(os.path.join(out, fname), "wb") as f:
            f.write(data)
    print("wrote %d files to %s" % (len(SEEDS), out))


if __name__ == "__main__":
    main()
