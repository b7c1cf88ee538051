#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Write the seed corpus for tests/fuzz/fuzz_session.c.

Usage: make_corpus_session.py [OUTDIR]   (default: corpus/session next to
this script). Deterministic; the files are kept in the tree so `make
check` replays them without python. Files whose names start with
"crash-" are regression inputs found by the fuzzer: this script leaves
them alone.

An input is two header bytes and a script of steps (fuzz_session.c has
the authoritative list):

  header 0   bits 0-1 configuration variant: 0 none/password/chap with
             access rules and user limits; 1 chap/password, mutual
             required, server secret, handshake 3 s; 2 password only,
             CONNECT only, no access rules, a bandwidth cap; 3 none/chap,
             BIND needs a peer address, UDP strict source
             bit 2 the relay copies (no splice); bit 3 a NAT64 prefix is
             known; bits 4-5 the client's earlier failed logins (0, 3, 4,
             12 with its turns booked so far ahead that it is
             throttled); bit 6 another worker holds bob's one session;
             bit 7 small socket buffers
  header 1   bits 0-1 password checks: 0 answered later (VERIFY), 1 at
             once, 3 out of memory; bit 2 the client comes over IPv6;
             bit 3 a proxy_protocol listener: the script's first client
             bytes are the PROXY header (or not), and the harness admits
             the client it names as the worker would: never from
             203.0.113.0/24 or 2001:db8:bad::/48 (not in `clients`),
             only from loopback with bit 4, and with bit 5 another
             worker holds a session for 192.0.2.1 and the limit is one a
             client; in proxy mode the earlier failed logins (header 0)
             are 192.0.2.7's; bits 6-7 are free
  steps      an op byte (bit 7: do not run the loop after it, so that
             the next step's events land in the same loop turn) and its
             arguments; after a step the loop runs until nothing happens

The ops (their number is the op byte's low 7 bits, modulo their count):

  C_SEND LEN DATA    the client sends DATA        C_SHUT     it half-closes
  C_RESET            it resets                    C_STALL    it stops/resumes reading
  C_CHAP FLAGS       a CHAP response to the server's challenge: name (bits
                     0-1: alice, carol, bob, mallory), wrong secret (4),
                     a challenge of its own (8), ALGORITHMS too (16), no
                     name (32)
  R_SEND LEN DATA    the remote (or BIND peer) sends; R_SHUT, R_RESET,
                     R_STALL as the client's
  CONN_OK ARG        the connector connects: for a name, the address by
                     bits 0-2; bits 3-4 attempts; bit 7 answer before
                     the loop's I/O (else after)
  CONN_FAIL ARG      it fails: bits 0-2 the reply; bit 5 with an address
  RESOLVE ARG        a lookup is answered: bits 0-1 ok / not found /
                     failure / timeout; bits 2-4 the addresses; bits 5-6
                     which pending lookup (newest first); bit 7 as CONN_OK
  VERIFY ARG         the pending password check is answered (bits 0-1 ==
                     1: an error instead of the verdict)
  VMODE ARG          later checks: 0 pending, 1 at once, 3 out of memory
  TIME ARG           fake time moves on (bits 0-3 index a table: 1 ms ...
                     300 s; see T_ below)
  LOOP ARG           the loop runs ARG % 8 + 1 turns, no more
  BIND_PEER ARG      a peer connects to the BIND listener (bit 0: from
                     127.0.0.2, which is not the expected peer)
  U_SEND ARG LEN D   a datagram to the UDP relay, its header by bits 0-2:
                     the sink by IPv4, by name, by mapped IPv6; a denied
                     address; FRAG 1; D alone as the whole datagram; the
                     sink from a stranger's socket; 0.0.0.0
  SINK_REPLY ARG L D the sink answers its last sender (bit 0: a stranger)
  FAIL_NEXT ARG      bit 0: the next connector_start() fails, else the
                     next lookup (two with bit 1)
  END                the worker ends the session (a drain deadline)
  C_PASS ARG         an RFC 1929 request: name by bits 0-1 (alice, bob,
                     carol, mallory), wrong password (4)
  C_REQ ARG          a request: bits 0-1 CONNECT, BIND, UDP ASSOCIATE, 9;
                     bits 2-4 the destination; bits 5-6 the port
  BULK ARG           (ARG % 64 + 1) KiB from the client, or from the
                     remote with bit 7
"""
import os
import struct
import sys

(C_SEND, C_SHUT, C_RESET, C_STALL, C_CHAP, R_SEND, R_SHUT, R_RESET,
 R_STALL, CONN_OK, CONN_FAIL, RESOLVE, VERIFY, VMODE, TIME, LOOP,
 BIND_PEER, U_SEND, SINK_REPLY, FAIL_NEXT, END, C_PASS, C_REQ,
 BULK) = range(24)
NORUN = 0x80

# TIME arguments: index into the harness's table of milliseconds.
T_1S, T_2S, T_3S, T_5S, T_8S, T_10S, T_15S, T_30S = 6, 7, 9, 10, 11, 12, \
    13, 14


def hdr(variant=0, copy=False, nat64=False, failures=0, bob=False,
        small=False, vmode=0, ipv6=False, proxy=False, narrow=False,
        held=False):
    h0 = variant | (4 if copy else 0) | (8 if nat64 else 0) | \
        (failures << 4) | (0x40 if bob else 0) | (0x80 if small else 0)
    h1 = vmode | (4 if ipv6 else 0) | (8 if proxy else 0) | \
        (0x10 if narrow else 0) | (0x20 if held else 0)
    return bytes([h0, h1])


def phdr(**kw):
    """A session on a proxy_protocol listener."""
    return hdr(proxy=True, **kw)


def op(code, *args, run=True):
    return bytes([code | (0 if run else NORUN)]) + bytes(args)


def send(data, run=True):
    """The client sends `data` (in pieces of at most 255 bytes)."""
    out = b""
    for i in range(0, len(data), 255):
        piece = data[i:i + 255]
        out += op(C_SEND, len(piece), run=run) + piece
    return out


def rsend(data):
    out = b""
    for i in range(0, len(data), 255):
        piece = data[i:i + 255]
        out += op(R_SEND, len(piece)) + piece
    return out


def usend(kind, payload):
    return op(U_SEND, kind, len(payload)) + payload


def sink_reply(kind, payload):
    return op(SINK_REPLY, kind, len(payload)) + payload


def greeting(*methods):
    return bytes([5, len(methods)]) + bytes(methods)


def addr_ipv4(ip, port):
    return bytes([1]) + bytes(int(x) for x in ip.split(".")) + \
        struct.pack(">H", port)


def addr_name(name, port):
    return bytes([3, len(name)]) + name + struct.pack(">H", port)


def request(cmd, addr):
    return bytes([5, cmd, 0]) + addr


def rfc1929(user, pw):
    return bytes([1, len(user)]) + user + bytes([len(pw)]) + pw


def chap_msg(*avas):
    out = bytes([1, len(avas)])
    for att, val in avas:
        out += bytes([att, len(val)]) + val
    return out


CHAP_ALGS = chap_msg((0x11, b"\x85"))
CHAP_STATUS_OK = chap_msg((0x00, b"\x00"))

CONNECT, BIND, UDP = 1, 2, 3
LOCAL80 = addr_ipv4("127.0.0.1", 80)


# PROXY protocol headers (HAProxy's doc/proxy-protocol.txt).
def v1(src, sport, fam="TCP4", dst="127.0.0.1", dport=1080):
    return ("PROXY %s %s %s %d %d\r\n" % (fam, src, dst, sport,
                                         dport)).encode()


V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2(cmd, fam, block, length=None):
    """cmd 0 LOCAL, 1 PROXY; fam the family/protocol byte."""
    n = len(block) if length is None else length
    return V2_SIG + bytes([0x20 | cmd, fam]) + struct.pack(">H", n) + block


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def v2_inet(src, sport, tlvs=b"", dst="127.0.0.1", dport=1080):
    return v2(1, 0x11, ip4(src) + ip4(dst) + struct.pack(">HH", sport,
                                                          dport) + tlvs)


def v2_inet6(src16, sport, tlvs=b""):
    dst = bytes(15) + b"\x01"
    return v2(1, 0x21, src16 + dst + struct.pack(">HH", sport, 1080) + tlvs)


V2_LOCAL = v2(0, 0x00, b"")
# A NOOP TLV (4 bytes) and a unique-id TLV (8 bytes).
TLVS = bytes.fromhex("040001000500050102030405")
DB8_9 = bytes.fromhex("20010db8000000000000000000000009")
DB8_BAD = bytes.fromhex("20010db80bad00000000000000000001")


def connect_none(dst=LOCAL80):
    return send(greeting(0)) + send(request(CONNECT, dst))


def relay_both_ways():
    return send(b"hello, remote") + rsend(b"hello, client") + \
        op(C_SHUT) + op(R_SHUT)


def corpus():
    c = {}
    # CONNECT without authentication: data both ways, clean ends.
    c["connect_none_data"] = hdr() + connect_none() + op(CONN_OK, 0) + \
        relay_both_ways()
    c["connect_refused"] = hdr() + connect_none() + op(CONN_FAIL, 0x20)
    c["connect_unreachable"] = hdr() + connect_none() + op(CONN_FAIL, 1)
    c["connect_timeout"] = hdr() + connect_none() + op(TIME, T_10S)
    c["connect_general_failure"] = hdr() + connect_none() + \
        op(CONN_FAIL, 4)
    c["connect_name"] = hdr() + \
        connect_none(addr_name(b"www.example.test", 443)) + \
        op(CONN_OK, 0) + relay_both_ways()
    # The name leads to a denied address: the check refuses it (REP 2).
    c["connect_name_denied"] = hdr() + \
        connect_none(addr_name(b"www.example.test", 443)) + \
        op(CONN_OK, 3)
    c["connect_unspecified"] = hdr() + \
        connect_none(addr_ipv4("0.0.0.0", 80)) + op(CONN_OK, 0)
    c["connect_deny_rule"] = hdr() + \
        connect_none(addr_ipv4("127.0.0.3", 80)) + op(CONN_OK, 0)
    c["connect_nat64"] = hdr(nat64=True) + \
        connect_none(addr_name(b"v6only.test", 80)) + op(CONN_OK, 6)
    c["connect_ipv6_literal"] = hdr() + send(greeting(0)) + \
        send(request(CONNECT, bytes([4]) + bytes(15) + b"\x01" +
                     struct.pack(">H", 22))) + op(CONN_OK, 0) + \
        relay_both_ways()
    # Optimistic data: greeting, request and data in one segment.
    c["connect_optimistic"] = hdr() + \
        send(greeting(0) + request(CONNECT, LOCAL80) + b"GET / HTTP/1.0\r\n\r\n") + \
        op(CONN_OK, 0) + rsend(b"HTTP/1.0 200 OK\r\n\r\n") + op(R_SHUT) + \
        op(C_SHUT)
    # A handshake split byte by byte.
    hs = greeting(0) + request(CONNECT, addr_name(b"bytewise.test", 80))
    c["handshake_bytewise"] = hdr() + \
        b"".join(op(C_SEND, 1) + hs[i:i + 1] for i in range(len(hs))) + \
        op(CONN_OK, 0) + relay_both_ways()
    c["handshake_timeout"] = hdr() + send(greeting(0)) + op(TIME, T_5S) + \
        op(TIME, T_2S)
    c["bad_version"] = hdr() + send(b"\x04\x01\x00\x50\x7f\x00\x00\x01\x00") + \
        op(TIME, T_2S)
    c["no_acceptable_method"] = hdr() + send(greeting(0x80, 0xfe)) + \
        op(C_SHUT)
    # A client that keeps talking after its refusal: the linger.
    c["linger"] = hdr() + send(greeting()) + send(b"x" * 255) + \
        send(b"y" * 255) + op(TIME, T_1S) + op(TIME, T_2S)
    c["unknown_command"] = hdr() + send(greeting(0)) + op(C_REQ, 3)
    c["bad_address_type"] = hdr() + send(greeting(0)) + \
        send(b"\x05\x01\x00\x07\x00\x00")
    c["empty_name"] = hdr() + send(greeting(0)) + \
        send(b"\x05\x01\x00\x03\x00\x00\x50")
    # Clients that go away.
    c["client_reset_mid_greeting"] = hdr() + send(b"\x05\x02") + \
        op(C_RESET)
    c["client_reset_mid_request"] = hdr() + send(greeting(0)) + \
        send(b"\x05\x01\x00\x03\x10abc") + op(C_RESET)
    c["client_reset_while_connecting"] = hdr() + connect_none() + \
        op(C_RESET)
    c["client_eof_while_connecting"] = hdr() + connect_none() + op(C_SHUT)
    # The reset and the connection land in the same loop turn.
    c["client_reset_races_connect"] = hdr() + connect_none() + \
        op(CONN_OK, 0x80, run=False) + op(C_RESET)
    c["client_reset_mid_relay"] = hdr() + connect_none() + \
        op(CONN_OK, 0) + send(b"upload") + rsend(b"download") + op(C_RESET)
    c["remote_reset_mid_relay"] = hdr() + connect_none() + \
        op(CONN_OK, 0) + send(b"request") + rsend(b"partial answer") + \
        op(R_RESET)
    c["remote_eof_then_client"] = hdr() + connect_none() + op(CONN_OK, 0) + \
        rsend(b"bye") + op(R_SHUT) + send(b"late") + op(C_SHUT)
    c["idle_timeout"] = hdr() + connect_none() + op(CONN_OK, 0) + \
        op(TIME, T_15S) + op(TIME, T_10S)
    c["worker_ends_relay"] = hdr() + connect_none() + op(CONN_OK, 0) + \
        send(b"data") + op(END)
    # Back-pressure: small buffers, a client that stops reading, the copy
    # relay; then the splice relay with the same load.
    c["relay_copy_backpressure"] = hdr(copy=True, small=True) + \
        connect_none() + op(CONN_OK, 0) + op(C_STALL) + \
        rsend(bytes(range(255))) * 4 + op(BULK, 0x80 | 63) + \
        op(LOOP, 7) + op(C_STALL) + op(R_SHUT) + op(C_SHUT)
    c["relay_splice_backpressure"] = hdr(small=True) + connect_none() + \
        op(CONN_OK, 0) + op(R_STALL) + send(b"u" * 255) * 4 + \
        op(BULK, 63) + op(R_STALL) + op(C_SHUT) + op(R_SHUT)
    c["relay_bulk_reset"] = hdr(copy=True) + connect_none() + \
        op(CONN_OK, 0) + op(R_STALL) + op(BULK, 63) + op(BULK, 0x80 | 63) + \
        op(R_RESET)
    # Username/password (RFC 1929), the check answered later or at once.
    pw_connect = send(greeting(2)) + op(C_PASS, 0)
    c["password_ok"] = hdr() + pw_connect + op(VERIFY, 0) + \
        send(request(CONNECT, LOCAL80)) + op(CONN_OK, 0) + relay_both_ways()
    c["password_ok_at_once"] = hdr(vmode=1) + send(greeting(2)) + \
        send(rfc1929(b"alice", b"alice-pw") + request(CONNECT, LOCAL80)) + \
        op(CONN_OK, 0) + relay_both_ways()
    c["password_bad"] = hdr() + send(greeting(2)) + op(C_PASS, 4) + \
        op(VERIFY, 0)
    c["password_unknown_user"] = hdr(vmode=1) + send(greeting(2)) + \
        op(C_PASS, 3)
    c["password_disabled_user"] = hdr(vmode=1) + send(greeting(2)) + \
        op(C_PASS, 2)
    c["password_check_busy"] = hdr(vmode=3) + send(greeting(2)) + \
        op(C_PASS, 0)
    c["password_check_error"] = hdr() + send(greeting(2)) + op(C_PASS, 0) + \
        op(VERIFY, 1)
    c["password_reset_while_checking"] = hdr() + send(greeting(2)) + \
        op(C_PASS, 0) + op(C_RESET)
    c["password_request_while_checking"] = hdr() + send(greeting(2)) + \
        op(C_PASS, 0) + send(request(CONNECT, LOCAL80) + b"early") + \
        op(VERIFY, 0) + op(CONN_OK, 0) + op(C_SHUT)
    c["password_held"] = hdr(failures=2) + send(greeting(2)) + \
        op(C_PASS, 0) + op(TIME, T_1S) + op(VERIFY, 0) + \
        send(request(CONNECT, LOCAL80)) + op(CONN_OK, 0) + op(C_SHUT)
    c["password_held_timeout"] = hdr(failures=2, vmode=1) + \
        send(greeting(2)) + op(C_PASS, 4) + op(TIME, T_3S) + op(TIME, T_5S)
    # The attempt comes late in the handshake: its hold outlasts the
    # handshake's deadline, which is moved out so that the hold is served.
    c["password_held_extends_deadline"] = hdr(failures=1, vmode=1) + \
        send(greeting(2)) + op(TIME, T_3S) + op(TIME, 5) + op(C_PASS, 0) + \
        op(TIME, 4) + op(C_REQ, 0) + op(CONN_OK, 0) + op(C_SHUT) + \
        op(R_SHUT)
    c["password_throttled"] = hdr(failures=3, vmode=1) + \
        send(greeting(2)) + op(C_PASS, 0) + op(TIME, T_2S)
    c["chap_throttled"] = hdr(failures=3) + send(greeting(3)) + \
        send(CHAP_ALGS) + op(C_CHAP, 0)
    c["password_user_limit"] = hdr(bob=True, vmode=1) + send(greeting(2)) + \
        op(C_PASS, 1) + send(request(CONNECT, LOCAL80))
    # More than the bucket's burst (16 KiB) at 50,000 bytes/s: stalls.
    c["password_bandwidth"] = hdr(variant=2, vmode=1) + send(greeting(2)) + \
        op(C_PASS, 0) + send(request(CONNECT, LOCAL80)) + op(CONN_OK, 0) + \
        op(BULK, 0x80 | 31) + op(TIME, T_1S) + op(BULK, 15) + \
        op(TIME, T_1S) + op(R_SHUT) + op(C_SHUT)
    c["password_pieces"] = hdr(vmode=1) + send(greeting(2)) + \
        send(rfc1929(b"alice", b"alice-pw")[:4]) + \
        send(rfc1929(b"alice", b"alice-pw")[4:]) + op(C_REQ, 0) + \
        op(CONN_OK, 0) + op(C_SHUT)
    # CHAP, one way and mutual.
    c["chap_ok"] = hdr() + send(greeting(3)) + send(CHAP_ALGS) + \
        op(C_CHAP, 0) + send(request(CONNECT, LOCAL80)) + op(CONN_OK, 0) + \
        relay_both_ways()
    c["chap_wrong_secret"] = hdr() + send(greeting(3)) + send(CHAP_ALGS) + \
        op(C_CHAP, 4)
    c["chap_unknown_user"] = hdr() + send(greeting(3)) + send(CHAP_ALGS) + \
        op(C_CHAP, 3)
    c["chap_mutual_required"] = hdr(variant=1) + send(greeting(3)) + \
        send(CHAP_ALGS) + op(C_CHAP, 8) + send(CHAP_STATUS_OK) + \
        op(C_REQ, 0) + op(CONN_OK, 0) + op(C_SHUT)
    c["chap_mutual_missing"] = hdr(variant=1) + send(greeting(3)) + \
        send(CHAP_ALGS) + op(C_CHAP, 0)
    c["chap_carol_bind_denied"] = hdr() + send(greeting(3)) + \
        send(CHAP_ALGS) + op(C_CHAP, 1) + op(C_REQ, 1)
    c["chap_response_before_challenge"] = hdr(variant=3) + send(greeting(3)) + \
        op(C_CHAP, 16, run=False) + op(C_REQ, 0) + op(CONN_OK, 0) + \
        op(C_SHUT)
    c["chap_timeout"] = hdr(variant=1) + send(greeting(3)) + \
        send(CHAP_ALGS) + op(TIME, T_3S)
    # BIND: listen, a peer from the expected address, relay.
    bind_req = send(greeting(0)) + send(request(BIND, addr_ipv4("127.0.0.1", 0)))
    c["bind_ok"] = hdr() + bind_req + op(BIND_PEER, 0) + \
        relay_both_ways()
    c["bind_stray_then_peer"] = hdr() + bind_req + op(BIND_PEER, 1) + \
        op(BIND_PEER, 0) + send(b"to peer") + op(C_SHUT) + op(R_SHUT)
    c["bind_accept_timeout"] = hdr() + bind_req + op(TIME, T_8S)
    c["bind_client_eof"] = hdr() + bind_req + send(b"early") + op(C_SHUT)
    c["bind_wildcard_peer_denied"] = hdr() + send(greeting(0)) + \
        send(request(BIND, addr_ipv4("0.0.0.0", 0))) + op(BIND_PEER, 1)
    c["bind_wildcard_refused"] = hdr(variant=3) + send(greeting(0)) + \
        send(request(BIND, addr_ipv4("0.0.0.0", 0)))
    c["bind_name"] = hdr() + send(greeting(0)) + \
        send(request(BIND, addr_name(b"peer.test", 0))) + \
        op(RESOLVE, 0x01) + op(RESOLVE, 0x00) + op(BIND_PEER, 0) + \
        relay_both_ways()
    c["bind_name_not_found"] = hdr() + send(greeting(0)) + \
        send(request(BIND, addr_name(b"nowhere.test", 0))) + \
        op(RESOLVE, 0x01) + op(RESOLVE, 0x02)
    c["bind_name_lookup_timeout"] = hdr() + send(greeting(0)) + \
        send(request(BIND, addr_name(b"slow.test", 0))) + op(TIME, T_2S)
    c["bind_no_lookup"] = hdr() + op(FAIL_NEXT, 0) + send(greeting(0)) + \
        send(request(BIND, addr_name(b"peer.test", 0)))
    c["bind_ipv6"] = hdr(ipv6=True) + send(greeting(0)) + \
        send(request(BIND, bytes([4]) + bytes(15) + b"\x01" + b"\x00\x00")) + \
        op(BIND_PEER, 0) + relay_both_ways()
    c["bind_not_a_command"] = hdr(variant=2, vmode=1) + send(greeting(2)) + \
        op(C_PASS, 0) + op(C_REQ, 1)
    # UDP ASSOCIATE: datagrams to the sink and back, then the end of the
    # control connection.
    udp_req = send(greeting(0)) + send(request(UDP, addr_ipv4("0.0.0.0", 0)))
    c["udp_ok"] = hdr() + udp_req + usend(0, b"ping") + \
        sink_reply(0, b"pong") + op(C_SHUT)
    # The name's A lookup (the newer: answered first) finds the sink, its
    # AAAA lookup nothing.
    c["udp_name"] = hdr() + udp_req + usend(1, b"by name") + \
        op(RESOLVE, 0x00) + op(RESOLVE, 0x01) + usend(1, b"cached") + \
        sink_reply(0, b"answer") + op(C_SHUT)
    # Both answer; IPv6 is preferred, and ::1 is not the sink: denied.
    c["udp_name_denied"] = hdr() + udp_req + usend(1, b"by name") + \
        op(RESOLVE, 0x00) + op(RESOLVE, 0x00) + op(C_SHUT)
    c["udp_drops"] = hdr() + udp_req + usend(0, b"first") + \
        usend(3, b"denied") + usend(4, b"fragment") + usend(5, b"\x00") + \
        usend(6, b"stranger") + usend(7, b"unspecified") + \
        usend(2, b"mapped") + sink_reply(1, b"filtered") + op(C_SHUT)
    c["udp_idle_timeout"] = hdr() + udp_req + usend(0, b"once") + \
        op(TIME, T_8S) + op(TIME, T_5S) + op(TIME, T_1S)
    c["udp_client_reset"] = hdr() + udp_req + usend(1, b"pending") + \
        op(C_RESET)
    c["udp_strict_source"] = hdr(variant=3) + send(greeting(0)) + \
        send(request(UDP, addr_ipv4("127.0.0.1", 0))) + usend(0, b"x")
    c["udp_ipv6"] = hdr(ipv6=True) + send(greeting(0)) + \
        send(request(UDP, bytes([4]) + bytes(16) + b"\x00\x00")) + \
        usend(0, b"six") + sink_reply(0, b"four") + op(C_SHUT)
    # Out of memory where the session can see it.
    c["connector_out_of_memory"] = hdr() + op(FAIL_NEXT, 1) + connect_none()
    # The connector answers before the loop has seen the request's turn
    # through (fed event), and a check answers in the same turn as EOF.
    c["connect_feed_then_data"] = hdr() + connect_none() + \
        op(CONN_OK, 0x80, run=False) + send(b"same turn") + op(C_SHUT) + \
        op(R_SHUT)
    c["password_verify_races_reset"] = hdr() + send(greeting(2)) + \
        op(C_PASS, 0) + op(VERIFY, 0x80, run=False) + op(C_RESET)
    c.update(proxy_corpus())
    return c


def proxy_corpus():
    """Sessions on a proxy_protocol listener (header 1, bit 3)."""
    c = {}
    # Valid headers naming a client, then the usual scripts.
    c["proxy_v1_tcp4_connect"] = phdr() + send(v1("192.0.2.7", 40001)) + \
        connect_none() + op(CONN_OK, 0) + relay_both_ways()
    c["proxy_v1_tcp6_password"] = phdr(vmode=1) + \
        send(v1("2001:db8::9", 40003, "TCP6", "::1")) + send(greeting(2)) + \
        op(C_PASS, 0) + op(C_REQ, 0) + op(CONN_OK, 0) + op(C_SHUT) + \
        op(R_SHUT)
    c["proxy_v1_mapped"] = phdr() + \
        send(v1("::ffff:192.0.2.9", 40009, "TCP6", "::1")) + \
        connect_none() + op(CONN_OK, 0) + op(C_SHUT)
    c["proxy_v1_unknown"] = phdr() + send(b"PROXY UNKNOWN 1 2 3\r\n") + \
        connect_none() + op(CONN_OK, 0) + relay_both_ways()
    c["proxy_v1_over_ipv6"] = phdr(ipv6=True) + \
        send(v1("192.0.2.7", 40011)) + connect_none() + op(CONN_OK, 0) + \
        op(C_SHUT)
    # v2 over IPv4, its TLVs in pieces (and the first with the addresses).
    h = v2_inet("192.0.2.8", 40002, TLVS)
    c["proxy_v2_inet_tlvs_split"] = phdr() + send(h[:29]) + \
        send(h[29:33]) + op(LOOP, 0) + send(h[33:]) + send(greeting(3)) + \
        send(CHAP_ALGS) + op(C_CHAP, 0) + op(C_REQ, 0) + op(CONN_OK, 0) + \
        relay_both_ways()
    # The addresses byte by byte, the TLVs with the greeting.
    c["proxy_v2_inet_bytewise"] = phdr() + \
        b"".join(op(C_SEND, 1) + h[i:i + 1] for i in range(28)) + \
        send(h[28:] + greeting(0)) + op(C_REQ, 0) + op(CONN_OK, 0) + \
        op(C_SHUT)
    # 1 KiB of TLVs (a BULK of the client's) before the greeting.
    big = v2(1, 0x11, ip4("192.0.2.8") + ip4("127.0.0.1") +
             struct.pack(">HH", 40012, 1080), 12 + 1024)
    c["proxy_v2_tlvs_bulk"] = phdr() + send(big) + op(BULK, 0) + \
        connect_none() + op(CONN_OK, 0) + op(C_SHUT)
    c["proxy_v2_inet6_chap"] = phdr() + send(v2_inet6(DB8_9, 40003)) + \
        send(greeting(3)) + send(CHAP_ALGS) + op(C_CHAP, 0) + op(C_REQ, 0) + \
        op(CONN_OK, 0) + relay_both_ways()
    # Header, greeting, request and data in one segment; and in one turn.
    c["proxy_one_segment"] = phdr() + \
        send(v1("192.0.2.7", 40013) + greeting(0) + request(CONNECT, LOCAL80) +
             b"GET / HTTP/1.0\r\n\r\n") + op(CONN_OK, 0) + \
        rsend(b"HTTP/1.0 200 OK\r\n\r\n") + op(R_SHUT) + op(C_SHUT)
    c["proxy_same_turn"] = phdr() + \
        send(v2_inet("192.0.2.7", 40014, TLVS), run=False) + \
        send(greeting(0), run=False) + op(C_REQ, 0) + op(CONN_OK, 0) + \
        op(C_SHUT)
    # v1 byte by byte through the request.
    hs = v1("192.0.2.7", 40015) + greeting(0) + request(CONNECT, LOCAL80)
    c["proxy_v1_bytewise"] = phdr() + \
        b"".join(op(C_SEND, 1) + hs[i:i + 1] for i in range(len(hs))) + \
        op(CONN_OK, 0) + op(C_SHUT)
    # LOCAL (and v2 PROXY over UNSPEC): the connection's own address.
    c["proxy_v2_local_greeting"] = phdr() + send(V2_LOCAL) + \
        connect_none() + op(CONN_OK, 0) + relay_both_ways()
    c["proxy_v2_unspec"] = phdr() + send(v2(1, 0x00, b"")) + \
        connect_none() + op(CONN_OK, 0) + op(C_SHUT)
    c["proxy_v2_local_bind"] = phdr() + send(V2_LOCAL) + send(greeting(0)) + \
        send(request(BIND, addr_ipv4("127.0.0.1", 0))) + op(BIND_PEER, 0) + \
        relay_both_ways()
    c["proxy_v2_local_udp"] = phdr() + send(V2_LOCAL) + send(greeting(0)) + \
        send(request(UDP, addr_ipv4("0.0.0.0", 0))) + usend(0, b"ping") + \
        sink_reply(0, b"pong") + op(C_SHUT)
    # The association takes datagrams from the header's client only:
    # the harness's, from the balancer's address, are dropped.
    c["proxy_v1_udp_other_source"] = phdr() + \
        send(v1("192.0.2.7", 40016)) + \
        send(greeting(0)) + send(request(UDP, addr_ipv4("0.0.0.0", 0))) + \
        usend(0, b"ping") + sink_reply(0, b"pong") + op(C_SHUT)
    # Health checks: quiet (no line, no count).
    c["proxy_v2_local_eof"] = phdr() + send(V2_LOCAL) + op(C_SHUT)
    c["proxy_v2_local_reset"] = phdr() + send(V2_LOCAL) + op(C_RESET)
    c["proxy_v2_local_tlvs_eof"] = phdr() + \
        send(v2(0, 0x11, b"\x04\x00\x01\x00")) + op(C_SHUT)
    c["proxy_v1_unknown_eof"] = phdr() + send(b"PROXY UNKNOWN\r\n") + \
        op(C_SHUT)
    c["proxy_empty_eof"] = phdr() + op(C_SHUT)
    c["proxy_empty_reset"] = phdr() + op(C_RESET)
    # No valid header: refused, counted, quiet.
    c["proxy_malformed_v1"] = phdr() + \
        send(b"PROXY TCP4 192.0.2.7 127.0.0.1 040001 1 \r\n") + connect_none()
    c["proxy_plain_socks"] = phdr() + connect_none()
    c["proxy_unfinished_eof"] = phdr() + \
        send(V2_SIG + bytes.fromhex("2111000cc0000207")) + op(C_SHUT)
    c["proxy_unfinished_reset"] = phdr() + send(b"PROXY TCP4 192.0.2") + \
        op(C_RESET)
    c["proxy_unfinished_timeout"] = phdr() + send(b"PROXY TCP") + \
        op(TIME, T_5S) + op(TIME, T_1S)
    c["proxy_nothing_timeout"] = phdr(variant=1) + op(TIME, T_3S) + \
        op(TIME, T_1S)
    # A header and nothing more: the handshake's deadline, one line.
    c["proxy_header_then_timeout"] = phdr() + send(v1("192.0.2.7", 40017)) + \
        op(TIME, T_5S) + op(TIME, T_1S)
    c["proxy_header_then_eof"] = phdr() + send(v2_inet("192.0.2.7", 40018)) + \
        op(C_SHUT)
    # TLVs announced, not all sent.
    short = v2_inet("192.0.2.7", 40019, TLVS)
    c["proxy_tlvs_pending_eof"] = phdr() + send(short[:-5]) + op(C_SHUT)
    c["proxy_tlvs_pending_timeout"] = phdr() + send(short[:-5]) + \
        op(TIME, T_5S) + op(TIME, T_1S)
    # The worker ends it mid-header, and mid-TLVs.
    c["proxy_end_mid_header"] = phdr() + send(b"PROXY TCP4 ") + op(END)
    c["proxy_end_mid_tlvs"] = phdr() + send(short[:-5]) + op(END)
    # The header's client is the one admission judges.
    c["proxy_refused_client"] = phdr() + send(v1("203.0.113.5", 40005)) + \
        connect_none()
    c["proxy_refused_v6"] = phdr() + send(v2_inet6(DB8_BAD, 40006)) + \
        connect_none()
    c["proxy_narrow_refused"] = phdr(narrow=True) + \
        send(v1("192.0.2.7", 40007)) + connect_none()
    c["proxy_narrow_local"] = phdr(narrow=True) + send(V2_LOCAL) + \
        connect_none() + op(CONN_OK, 0) + op(C_SHUT)
    c["proxy_narrow_loopback"] = phdr(narrow=True) + \
        send(v1("127.0.0.9", 40020)) + connect_none() + op(CONN_OK, 0) + \
        op(C_SHUT)
    c["proxy_held_refused"] = phdr(held=True) + \
        send(v1("192.0.2.1", 40008)) + connect_none()
    c["proxy_held_other"] = phdr(held=True) + \
        send(v1("192.0.2.7", 40021)) + connect_none() + op(CONN_OK, 0) + \
        op(C_SHUT)
    # ... and the one whose failed logins count.
    c["proxy_failures_throttled"] = phdr(failures=3, vmode=1) + \
        send(v1("192.0.2.7", 40022)) + send(greeting(2)) + op(C_PASS, 0) + \
        op(TIME, T_2S)
    c["proxy_failures_held"] = phdr(failures=2, vmode=1) + \
        send(v1("192.0.2.7", 40023)) + send(greeting(2)) + op(C_PASS, 0) + \
        op(TIME, T_1S) + op(C_REQ, 0) + op(CONN_OK, 0) + op(C_SHUT)
    # The client resets in the turn its header arrives.
    c["proxy_header_races_reset"] = phdr() + \
        send(v1("192.0.2.7", 40024), run=False) + op(C_RESET)
    c["proxy_local_races_reset"] = phdr() + send(V2_LOCAL, run=False) + \
        op(C_RESET)
    return c


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(here, "corpus", "session")
    os.makedirs(out, exist_ok=True)
    seeds = corpus()
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("session: %d files in %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
