#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Write the seed corpus for tests/fuzz/fuzz_gss_msg.c.

Usage: make_corpus_gss_msg.py [OUTDIR]   (default: corpus/ next to this
script; writes OUTDIR/gss_msg). Deterministic; the files are kept in the
tree so `make check` replays them without python.

The input is what a peer sends in the RFC 1961 subnegotiation: messages
VER(1)=01 MTYP(1) LEN(2, big-endian) TOKEN(LEN), or the abort 01 FF. The
harness parses every prefix of it and then the whole of it as messages
back to back, so a file may hold several.
"""
import os
import sys

CONTEXT, PROTECTION, DATA, ABORT = 0x01, 0x02, 0x03, 0xFF


def msg(mtyp, token, ver=1):
    return bytes([ver, mtyp, len(token) >> 8, len(token) & 0xFF]) + token


def corpus():
    c = {}
    # An AP-REQ starts 60 82 ...; the bytes after it are filler.
    ap_req = bytes([0x60, 0x82, 0x02, 0x0A, 0x06, 0x09]) + bytes(range(40))
    # A gss_wrap()ed octet is a few dozen bytes (a krb5 wrap token: 05 04).
    wrapped = bytes([0x05, 0x04, 0x06, 0xFF, 0x00, 0x0C, 0x00, 0x1C]) + \
        bytes(20)
    c["context"] = msg(CONTEXT, ap_req)
    c["protection_wrapped"] = msg(PROTECTION, wrapped)
    c["protection_bare"] = msg(PROTECTION, bytes([0x01]))   # NEC style
    c["data"] = msg(DATA, b"GET / HTTP/1.0\r\n\r\n")
    c["data_long"] = msg(DATA, bytes(i & 0xFF for i in range(400)))
    c["empty_token"] = msg(CONTEXT, b"")
    c["abort"] = bytes([0x01, ABORT])
    c["abort_then_bytes"] = bytes([0x01, ABORT, 0x05, 0x01, 0x00])
    c["max_len_header"] = bytes([0x01, DATA, 0xFF, 0xFF]) + b"x" * 12
    c["truncated"] = msg(CONTEXT, ap_req)[:20]
    c["truncated_header"] = bytes([0x01, PROTECTION, 0x00])
    c["bad_version"] = bytes([0x05, 0x01, 0x00])   # a SOCKS5 greeting
    c["bad_version_abort"] = bytes([0x05, ABORT])
    c["bad_mtyp"] = bytes([0x01, 0x04, 0x00, 0x01, 0x00])
    c["bad_mtyp_zero"] = bytes([0x01, 0x00, 0x00, 0x00])
    c["sequence"] = msg(CONTEXT, ap_req) + msg(CONTEXT, ap_req[:8]) + \
        msg(PROTECTION, wrapped) + msg(DATA, b"hello") + msg(DATA, b"") + \
        bytes([0x01, ABORT])
    c["sequence_then_bad"] = msg(DATA, b"one") + msg(DATA, b"two") + \
        bytes([0x01, 0xFE, 0x00, 0x00])
    c["sequence_then_truncated"] = msg(PROTECTION, bytes([0x00])) + \
        msg(DATA, b"abc")[:5]
    return c


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    d = os.path.join(out, "gss_msg")
    os.makedirs(d, exist_ok=True)
    c = corpus()
    for fname, data in sorted(c.items()):
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)
    print("gss_msg: %d files in %s" % (len(c), d))


if __name__ == "__main__":
    main()
