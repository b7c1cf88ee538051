#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Write the seed corpora for tests/fuzz/fuzz_password.c and fuzz_chap.c.

Usage: make_corpus_auth.py [OUTDIR]   (default: corpus/ next to this
script; writes OUTDIR/password and OUTDIR/chap). Deterministic; the files
are kept in the tree so `make check` replays them without python.

fuzz_password: the first byte picks the piece size and the verdict for
the method; every input also goes through the request and reply parsers.
fuzz_chap: byte 0 is the policy (bits 0-1 chap_mutual, bit 2 server
secret, bits 3-7 piece size - 1), then a client script (see the harness).
"""
import os
import sys


def rfc1929(user, pw, ver=1):
    return bytes([ver, len(user)]) + user + bytes([len(pw)]) + pw


def password_corpus():
    c = {}
    ok, bad = 0x40, 0x00            # verdict bit for the method
    c["request_ok"] = bytes([ok | 63]) + rfc1929(b"alice", b"secret")
    c["request_wrong"] = bytes([bad | 63]) + rfc1929(b"alice", b"wrong")
    c["request_pieces"] = bytes([ok | 0]) + rfc1929(b"bob", b"hunter2")
    c["request_then_socks"] = bytes([ok | 7]) + rfc1929(b"u", b"p") + \
        bytes([5, 1, 0, 1, 127, 0, 0, 1, 0, 80])
    c["request_max"] = bytes([ok | 63]) + rfc1929(b"n" * 255, b"p" * 255)
    c["ulen_zero"] = bytes([63]) + bytes([1, 0, 1, ord("p")])
    c["plen_zero"] = bytes([63]) + bytes([1, 1, ord("u"), 0])
    c["bad_version"] = bytes([63]) + rfc1929(b"alice", b"x", ver=5)
    c["nul_in_name"] = bytes([ok | 63]) + rfc1929(b"al\0ce", b"x")
    c["nul_in_password"] = bytes([ok | 63]) + rfc1929(b"alice", b"x\0y")
    c["truncated"] = bytes([63]) + rfc1929(b"alice", b"secret")[:-2]
    c["reply_ok"] = bytes([1, 0])
    c["reply_fail"] = bytes([1, 1])
    return c


def ava(att, val):
    return bytes([att, len(val)]) + val


def msg(*avas):
    return bytes([1, len(avas)]) + b"".join(avas)


def raw(b):
    assert len(b) < 256
    return bytes([0, len(b)]) + b


ALG = 0x11
USER, CHAL, RESP, STATUS, TEXT, CHARSET, IDENT = 2, 3, 4, 0, 1, 5, 0x10


def algs(*ids):
    return bytes([3, len(ids)]) + bytes(ids)


def response(flags, cc=b""):
    out = bytes([1, flags])
    if flags & 4:
        out += bytes([len(cc)]) + cc
    return out


def status(v):
    return bytes([2, v])


def chap_corpus():
    c = {}
    allow, require, deny, server = 0, 1, 2, 4
    big = 31 << 3                       # pieces of 32 bytes
    one = 0                             # one byte at a time
    c["one_way"] = bytes([allow | big]) + algs(0x85) + response(1)
    c["one_way_bytewise"] = bytes([allow | one]) + algs(0x85) + response(1)
    # plink: USER-IDENTITY with ALGORITHMS, then RESPONSE alone
    c["plink"] = bytes([allow | big]) + \
        raw(msg(ava(ALG, b"\x85"), ava(USER, b"alice"))) + response(0)
    c["wrong_secret"] = bytes([allow | big]) + algs(0x85) + response(3)
    c["unknown_user"] = bytes([allow | big]) + algs(0x85) + response(16)
    c["mutual_allow"] = bytes([allow | big]) + algs(0x85) + \
        response(1 | 4, b"client challenge 16") + status(0)
    c["mutual_rejected"] = bytes([allow | big]) + algs(0x85) + \
        response(1 | 4, b"cc") + status(0xff)
    c["mutual_require_none"] = bytes([require | big]) + algs(0x85) + \
        response(1)
    c["mutual_require"] = bytes([require | server | big]) + algs(0x85) + \
        response(1 | 4, b"x" * 32) + status(0)
    c["mutual_deny"] = bytes([deny | big]) + algs(0x85) + \
        response(1 | 4, b"ignored")
    c["reflect"] = bytes([allow | big]) + algs(0x85) + response(1 | 8)
    c["no_md5"] = bytes([allow | big]) + algs(0x05, 0x86)
    c["many_algs"] = bytes([allow | big]) + algs(0x01, 0x05, 0x85, 0xff) + \
        response(1)
    c["unknown_attrs"] = bytes([allow | (4 << 3)]) + \
        raw(msg(ava(0x77, b"?"), ava(TEXT, b"hi"), ava(CHARSET, b"UTF-8"),
                ava(ALG, b"\x85"))) + \
        raw(msg(ava(IDENT, b"\x07"), ava(USER, b"alice"))) + response(0)
    c["response_first"] = bytes([allow | big]) + \
        raw(msg(ava(ALG, b"\x85"), ava(RESP, b"r" * 16)))
    c["name_changes"] = bytes([allow | big]) + \
        raw(msg(ava(ALG, b"\x85"), ava(USER, b"bob"))) + response(1)
    c["socks_too_early"] = bytes([allow | big]) + algs(0x85) + \
        raw(bytes([5, 1, 0, 1, 127, 0, 0, 1, 0, 80]))
    c["chatter"] = bytes([allow | big]) + algs(0x85) + raw(msg()) * 9
    c["then_request"] = bytes([allow | big]) + algs(0x85) + response(1) + \
        raw(bytes([5, 1, 0, 3, 4]) + b"host" + bytes([0, 80]))
    c["empty_msg"] = bytes([allow, 0, 2, 1, 0])
    c["codec_max_ava"] = msg(ava(0xee, b"\xee" * 255), ava(TEXT, b""))
    return c


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    for name, corpus in (("password", password_corpus()),
                         ("chap", chap_corpus())):
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        for fname, data in sorted(corpus.items()):
            with open(os.path.join(d, fname), "wb") as f:
                f.write(data)
        print("%s: %d files in %s" % (name, len(corpus), d))


if __name__ == "__main__":
    main()
