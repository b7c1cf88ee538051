#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""socks6_replay - replay hand-written SOCKS 6 bytes to a proxy, check the answer.

A test client for the server side of SOCKS 6 (draft-olteanu-intarea-
socks-6-12). Every message it sends is written out here by hand from the
draft's figures, field by field, as hex with a comment naming the field;
nothing comes from sockeye's own codec. Only what a case cannot know in
advance (the destination port, the user name and password, the lengths
that follow from them) is filled in, with the layout still spelt out.
What comes back is compared byte for byte with what the case expects
(fields that the proxy chooses, such as an Operation Reply's bind port,
are checked by rule, not by value).

    socks6_replay.py --list
    socks6_replay.py --proxy HOST:PORT --case NAME [--case NAME...]
        [--dest HOST:PORT] [--user U --password-file F]
        [--split OFFSETS] [--pause MS] [--timeout S] [--verbose]

--dest is the destination a CONNECT case names (an echo server for the
data cases, a closed port for connect-refused); the domain-name cases
send "localhost" with --dest's port. --user (default alice) and
--password-file (its first line; without it, "password") are the
credentials a case puts in its Authentication Data option; the
wrong-password case sends --user with the password "wrong horse".
--split OFFSETS (comma-separated byte offsets into the case's first
message, initial data included) overrides the case's own segmentation;
--pause is the pause between segments (default 40 ms). Segments are
written with TCP_NODELAY, one send() each.

The expected answers are sockeye's contract, which follows the draft.
idempotence-spend expects the token to be ignored: the draft
("Idempotence options") says a proxy MUST silently ignore Idempotence
options in a request that is not part of a session, and sockeye has no
sessions. Where the draft leaves a choice, the case expects sockeye's
(bind, udp-associate: REP 7 with bind address 0.0.0.0:0 or any other
IPv4 one).

--case may be given several times: the cases run in turn, each on its own
connection, with the same arguments. One line per case on stdout, for
tests to grep:

    case=NAME segments=N writes_before_first_reply_byte=M end=E
        received=HEX match|MISMATCH

N is the number of writes of the first message (and what follows it
before the first expected byte); M how many writes had been made when
the first byte of the answer came ("-": none came); E how the proxy
closed (eof, reset; open when it had not; "-" when the case does not
wait for it); HEX everything the proxy sent (the first 64 bytes and the
total beyond that; "(none)" for nothing).

Exit status: 0 when every case matched; 1 on a mismatch, with a message
on stderr naming the first differing byte (its offset in the proxy's
byte stream, the message and field it belongs to, expected and received
values); 2 on bad usage; 3 when the proxy cannot be reached.
"""

import argparse
import select
import socket
import sys
import time


def h(text):
    """Bytes from hex digits; spaces allowed."""
    return bytes.fromhex(text)


def be16(n):
    """A two-octet number in network byte order (a length or a port)."""
    assert 0 <= n <= 0xFFFF
    return bytes([n >> 8, n & 0xFF])


def pad4(n):
    """Zero padding up to the next multiple of 4 (Padding = 0 fields)."""
    return b"\x00" * (-n % 4)


# ---------------------------------------------------------------------------
# What the proxy is expected to send: a list of pieces, each a fixed number
# of bytes, checked literally (Lit) or by a rule (Var). Eof at the end: the
# proxy then closes. Each piece names its message and field.

class Lit:
    def __init__(self, data, what):
        self.data = data
        self.n = len(data)
        self.what = what

    def first_diff(self, got):
        for i, b in enumerate(got):
            if b != self.data[i]:
                return i, "%02x" % self.data[i]
        return None

    def describe(self):
        return show(self.data)


class Var:
    def __init__(self, n, what, rule, text):
        self.n = n
        self.what = what
        self.rule = rule        # bytes -> bool
        self.text = text

    def first_diff(self, got):
        if not self.rule(bytes(got)):
            return 0, self.text
        return None

    def describe(self):
        return "<%s>" % self.text


class Eof:
    what = "end of stream"


# A step of a case: send bytes (segmented), expect pieces, or half-close.
class Send:
    def __init__(self, data, cuts=(), label="request"):
        self.data = data
        self.cuts = list(cuts)  # offsets into data where a write ends
        self.label = label


class Expect:
    def __init__(self, *pieces):
        self.pieces = list(pieces)


class Shut:
    pass


# ---------------------------------------------------------------------------
# Hand-written messages (draft -12). Figures: "SOCKS 6 Request",
# "SOCKS 6 Option", "Stack Option", "Authentication Method Advertisement
# Option", "Authentication Data Option", "Password authentication via a
# SOCKS Option", "Session Request/ID/Teardown Option", "Token Request",
# "Idempotence Expenditure".

def ipv4_127():
    return h("7f 00 00 01")          # Address: 127.0.0.1


def ipv4_any():
    return h("00 00 00 00")          # Address: 0.0.0.0


def domain_localhost():
    return (h("0b") +                  # Address: length octet L = 11 (9 + 2 padding)
            b"localhost" +             # the name, not NUL-terminated
            h("00 00"))                # padding NULs: 1 + L = 12, a multiple of 4


def request(version, cmd, port, atyp, addr, options):
    """VER CMD OPTLEN | PORT PAD ATYP | ADDR | OPTIONS."""
    return (bytes([version]) +         # Version (6)
            bytes([cmd]) +             # Command Code
            be16(len(options)) +       # Options Length
            be16(port) +               # Port
            h("00") +                  # Padding = 0
            bytes([atyp]) +            # Address Type (1 IPv4, 3 name, 4 IPv6)
            addr +                     # Address
            options)                   # Options


def opt_auth_method(initial_len, methods):
    """Authentication Method Advertisement (kind 2)."""
    body = be16(initial_len) + bytes(methods)   # Initial Data Length, Methods
    body += pad4(4 + len(body))                 # Padding = 0, minimal
    return (h("00 02") +               # Kind = 2
            be16(4 + len(body)) +      # Length (header included)
            body)


def opt_auth_password(user, password):
    """Authentication Data (kind 4), method 2: the RFC 1929 request."""
    u = user.encode()
    p = password.encode()
    body = (h("02") +                  # Method = 2 (username/password)
            h("01") +                  # RFC 1929 VER = 1
            bytes([len(u)]) + u +      # ULEN, UNAME
            bytes([len(p)]) + p)       # PLEN, PASSWD
    body += pad4(4 + len(body))        # Padding = 0
    return (h("00 04") +               # Kind = 4
            be16(4 + len(body)) +      # Length
            body)


def password_opts(user, password, initial_len=0):
    return opt_auth_method(initial_len, [2]) + opt_auth_password(user, password)


# Every Stack option the draft defines, each once, each on a leg the draft
# allows for it. First octet: Leg (2 bits) | Level (6 bits).
STACK_OPTIONS = (
    h("00 01 00 08") +   # Kind = 1 (Stack), Length = 8
    h("41 01 10 00") +   # Leg 1 client-proxy | Level 1 IP; Code 1 TOS; TOS 0x10; pad
    h("00 01 00 08") +   # Stack, Length 8
    h("81 02 02 00") +   # Leg 2 proxy-remote | Level 1 IP; Code 2 Happy Eyeballs; 2 desired; pad
    h("00 01 00 08") +   # Stack, Length 8
    h("81 03 40 00") +   # Leg 2 | IP; Code 3 TTL; TTL 64; pad
    h("00 01 00 08") +   # Stack, Length 8
    h("c1 04 02 00") +   # Leg 3 both legs | IP; Code 4 No Fragmentation; 2 not desired; pad
    h("00 01 00 08") +   # Stack, Length 8
    h("84 01 00 00") +   # Leg 2 | Level 4 TCP; Code 1 TFO; Payload Size 0
    h("00 01 00 08") +   # Stack, Length 8
    h("84 02 01 00") +   # Leg 2 | TCP; Code 2 Multipath; 1 not desired; pad
    h("00 01 00 08") +   # Stack, Length 8
    h("84 03 00 05") +   # Leg 2 | TCP; Code 3 Listen Backlog; Backlog 5
    h("00 01 00 08") +   # Stack, Length 8
    h("85 01 01 00") +   # Leg 2 | Level 5 UDP; Code 1 UDP Error; 1 not desired; pad
    h("00 01 00 08") +   # Stack, Length 8
    h("85 02 01 00"))    # Leg 2 | UDP; Code 2 Port Parity; Parity 1 even; Reserve 0

OTHER_OPTIONS = (
    h("00 05 00 04") +                 # Kind = 5 Session Request, Length = 4
    h("00 0b 00 08") +                 # Kind = 11 Idempotence Request, Length = 8
    h("00 00 00 10") +                 #   Window Size = 16
    h("00 0a 00 04") +                 # Kind = 10 Session Teardown, Length = 4
    h("12 34 00 08") +                 # Kind = 0x1234 (unassigned), Length = 8
    h("de ad be ef") +                 #   its data
    h("fc 00 00 0c") +                 # Kind = 64512 (Experimental), Length = 12
    h("01 02 03 04 05 06 07 08"))      #   its data

# The Happy Eyeballs option as a proxy echoes it: Stack, Length 8, Leg 2 |
# Level 1, Code 2, Availability 2 ("was attempted"), Padding.
HE_ECHO = h("00 01 00 08") + h("81 02 02 00")


def password_ok(version=0x06):
    """Authentication Reply: success, with the RFC 1929 reply STATUS 0."""
    return Lit(bytes([version]) +      # Version
               h("00") +               # Type = 0x00 success
               h("00 08") +            # Options Length = 8
               h("00 04 00 08") +      # Kind = 4 Authentication Data, Length = 8
               h("02 01 00 00"),       # Method 2; RFC 1929 VER 1, STATUS 0; pad
               "Authentication Reply (password accepted)")


def none_ok(version=0x06):
    return Lit(bytes([version]) +      # Version
               h("00") +               # Type = success
               h("00 00"),             # Options Length = 0
               "Authentication Reply (success, no options)")


def op_reply_head(rep, optlen, version=0x06):
    return Lit(bytes([version]) +      # Version
               bytes([rep]) +          # Reply Code
               be16(optlen),           # Options Length
               "Operation Reply: VER REP OPTLEN")


def bind_port_nonzero():
    return Var(2, "Operation Reply: Bind Port",
               lambda b: b != h("00 00"), "any port but 0")


def pad_atyp(atyp):
    return Lit(h("00") + bytes([atyp]),   # Padding = 0, Address Type
               "Operation Reply: Padding, Address Type")


def op_success_127(optlen=0, version=0x06):
    """Success; bound to the proxy's outbound 127.0.0.1:<some port>."""
    return [op_reply_head(0x00, optlen, version), bind_port_nonzero(),
            pad_atyp(0x01),
            Lit(ipv4_127(), "Operation Reply: Bind Address (127.0.0.1)")]


def op_refusal(rep):
    """A failed Operation Reply: REP, no options, any IPv4 bind address."""
    return [op_reply_head(rep, 0),
            Var(2, "Operation Reply: Bind Port", lambda b: True, "any"),
            pad_atyp(0x01),
            Var(4, "Operation Reply: Bind Address", lambda b: True, "any")]


def auth_fail(kind_hex, value_hex=None):
    """A failed Authentication Reply with one option."""
    if value_hex is None:              # a 4-octet flag option
        return Lit(h("06") +           # Version
                   h("01") +           # Type = 0x01 failure
                   h("00 04") +        # Options Length = 4
                   h("00") + h(kind_hex) +  # Kind
                   h("00 04"),         # Length = 4
                   "Authentication Reply (failure, flag option)")
    return Lit(h("06") + h("01") +     # Version, Type = failure
               h("00 08") +            # Options Length = 8
               h("00") + h(kind_hex) +  # Kind
               h("00 08") +            # Length = 8
               h(value_hex),           # option data
               "Authentication Reply (failure)")


NOOP_OK = Lit(h("06") +               # Version
              h("00") +               # Reply Code = success
              h("00 00") +            # Options Length = 0
              h("00 00") +            # Bind Port = 0
              h("00") + h("01") +     # Padding, Address Type = IPv4
              h("00 00 00 00"),       # Bind Address = 0.0.0.0
              "Operation Reply (NOOP)")


# ---------------------------------------------------------------------------
# The cases. Each is a function of the arguments returning (description,
# steps).

DATA_1K = bytes((i * 7 + 13) & 0xFF for i in range(1024))
DATA_16K = bytes((i * 11 + 5) & 0xFF for i in range(16384))
AFTER = b"after the operation reply\n"
WRONG_PASSWORD = "wrong horse"


def echo_tail(data=b""):
    """What comes back from an echo destination, then a clean end."""
    if data:
        # Nothing more is sent: the proxy's count of bytes up is the
        # initial data alone.
        return [Expect(Lit(data, "echoed initial data")), Shut(),
                Expect(Eof())]
    return [Send(AFTER, label="data after the reply"),
            Expect(Lit(AFTER, "echoed data")), Shut(), Expect(Eof())]


def connect_password(a, initial, cuts):
    opts = password_opts(a.user, a.password, len(initial))
    req = request(0x06, 0x01, a.dport, 0x01, ipv4_127(), opts)
    return [Send(req + initial, cuts),
            Expect(password_ok(), *op_success_127())] + echo_tail(initial)


def case_all_options_domain(a):
    opts = (STACK_OPTIONS + password_opts(a.user, a.password) +
            OTHER_OPTIONS)
    req = request(0x06, 0x01, a.dport, 0x03, domain_localhost(), opts)
    return [Send(req),
            Expect(password_ok(), *op_success_127(len(HE_ECHO)),
                   Lit(HE_ECHO, "Operation Reply: Happy Eyeballs echo"))
            ] + echo_tail()


def case_all_options_ipv4(a):
    opts = (STACK_OPTIONS + password_opts(a.user, a.password) +
            OTHER_OPTIONS)
    req = request(0x06, 0x01, a.dport, 0x01, ipv4_127(), opts)
    return [Send(req), Expect(password_ok(), *op_success_127(0))] + \
        echo_tail()


def case_connect_data_1write(a):
    return connect_password(a, DATA_1K, [])


def case_connect_data_3seg(a):
    n = len(request(0x06, 0x01, 0, 0x01, ipv4_127(),
                    password_opts(a.user, a.password, 1024)))
    return connect_password(a, DATA_1K, [n, n + 100, n + 600])


def case_connect_split_option(a):
    # Header (8) + IPv4 (4) = 12; the Advertisement is 8 octets, so the
    # Authentication Data option's header starts at 20: cut after its
    # Kind's first octet (21) and between its Kind and Length (22), and
    # inside the Advertisement's Length (15).
    return connect_password(a, DATA_1K, [15, 21, 22])


def case_initial_data_16k(a):
    # The most the draft allows: "MUST NOT be larger than 2^14".
    return connect_password(a, DATA_16K, [])


def case_initial_data_over(a):
    opts = (h("00 02 00 08") +         # Kind = 2 Method Advertisement, Length = 8
            h("40 01") +               #   Initial Data Length = 16385 (> 2^14)
            h("02 00") +               #   Method 2; Padding
            opt_auth_password(a.user, a.password))
    req = request(0x06, 0x01, a.dport, 0x01, ipv4_127(), opts)
    return [Send(req), Expect(Eof())]


def case_wrong_password(a):
    req = request(0x06, 0x01, a.dport, 0x01, ipv4_127(),
                  password_opts(a.user, WRONG_PASSWORD))
    return [Send(req),
            Expect(Lit(h("06 01 00 08") +   # VER, Type = failure, OPTLEN 8
                       h("00 04 00 08") +   # Authentication Data, Length 8
                       h("02 01 01 00"),    # Method 2; VER 1, STATUS 1; pad
                       "Authentication Reply (password refused)"), Eof())]


def case_password_no_data(a):
    req = request(0x06, 0x01, a.dport, 0x01, ipv4_127(),
                  opt_auth_method(0, [2]))
    return [Send(req),
            Expect(Lit(h("06 01 00 08") +   # VER, Type = failure, OPTLEN 8
                       h("00 03 00 08") +   # Kind 3 Method Selection, Length 8
                       h("02 00 00 00"),    # Method = 2; Padding
                       "Authentication Reply (method 2 selected)"), Eof())]


def case_no_acceptable_method(a):
    req = request(0x06, 0x01, a.dport, 0x01, ipv4_127(), b"")
    return [Send(req),
            Expect(Lit(h("06 01 00 08") +   # VER, Type = failure, OPTLEN 8
                       h("00 03 00 08") +   # Kind 3 Method Selection, Length 8
                       h("ff 00 00 00"),    # Method = 0xFF no acceptable; pad
                       "Authentication Reply (no acceptable method)"), Eof())]


def case_session_id(a):
    # A NOOP naming a session: sockeye supports no session option, and
    # the draft has unsupported options ignored ("all Session Option
    # Types, or none"), so the request authenticates on its own.
    opts = (h("00 06 00 08") +         # Kind = 6 Session ID, Length = 8
            h("01 02 03 04") +         #   Session ID (4 octets)
            password_opts(a.user, a.password))
    req = request(0x06, 0x00, 0, 0x01, ipv4_any(), opts)   # NOOP 0.0.0.0:0
    return [Send(req), Expect(password_ok(), NOOP_OK, Eof())]


def case_idempotence_spend(a):
    # A NOOP that spends a token outside any session: the token is
    # silently ignored, so the answers are NOOP's.
    opts = (h("00 0d 00 08") +         # Kind = 13 Idempotence Expenditure, Length 8
            h("00 00 00 2a") +         #   Token = 42
            password_opts(a.user, a.password))
    req = request(0x06, 0x00, 0, 0x01, ipv4_any(), opts)   # NOOP 0.0.0.0:0
    return [Send(req), Expect(password_ok(), NOOP_OK, Eof())]


def noop_request(a, version=0x06):
    return request(version, 0x00, 0, 0x01, ipv4_any(),   # NOOP, 0.0.0.0:0
                   password_opts(a.user, a.password))


def case_noop(a):
    return [Send(noop_request(a)), Expect(password_ok(), NOOP_OK, Eof())]


def case_bind(a):
    req = request(0x06, 0x02, 0, 0x01, ipv4_any(),       # BIND 0.0.0.0:0
                  password_opts(a.user, a.password))
    return [Send(req), Expect(password_ok(), *op_refusal(0x07), Eof())]


def case_udp_associate(a):
    req = request(0x06, 0x03, 0, 0x01, ipv4_any(),       # UDP ASSOCIATE
                  password_opts(a.user, a.password))
    return [Send(req), Expect(password_ok(), *op_refusal(0x07), Eof())]


def case_connect_refused(a):
    req = request(0x06, 0x01, a.dport, 0x01, ipv4_127(),
                  password_opts(a.user, a.password))
    return [Send(req), Expect(password_ok(), *op_refusal(0x05), Eof())]


def case_legacy_mismatch(a):
    return [Send(noop_request(a, 0xD4)),
            Expect(Lit(h("06"),        # Version Mismatch Reply: Version = 6
                       "Version Mismatch Reply"), Eof())]


def case_legacy_noop(a):
    # With socks6.legacy_version, 0xD4 is taken, and answered with 0xD4;
    # the server of this case has method none.
    req = request(0xD4, 0x00, 0, 0x01, ipv4_any(), b"")
    return [Send(req),
            Expect(none_ok(0xD4),
                   Lit(h("d4 00 00 00") +      # VER 0xD4, success, OPTLEN 0
                       h("00 00 00 01") +      # Bind Port 0, pad, IPv4
                       h("00 00 00 00"),       # 0.0.0.0
                       "Operation Reply (NOOP, legacy version)"), Eof())]


def case_bad_optlen(a):
    opts = h("00 05 00 04") + h("00 00")   # 6 octets: not a multiple of 4
    return [Send(request(0x06, 0x00, 0, 0x01, ipv4_any(), opts)),
            Expect(Eof())]


def case_bad_option_length(a):
    opts = h("00 05 00 02")            # Session Request with Length = 2 (< 4)
    return [Send(request(0x06, 0x00, 0, 0x01, ipv4_any(), opts)),
            Expect(Eof())]


def case_dup_auth_method(a):
    opts = (opt_auth_method(0, [2]) +  # Authentication Method Advertisement
            opt_auth_method(0, [2]) +  # ... twice
            opt_auth_password(a.user, a.password))
    return [Send(request(0x06, 0x00, 0, 0x01, ipv4_any(), opts)),
            Expect(Eof())]


def case_bad_domain_padding(a):
    addr = (h("0b") +                  # L = 11
            b"localhost" +             # the name
            h("00 78"))                # padding that is not NUL ("\0x")
    req = request(0x06, 0x01, a.dport, 0x03, addr,
                  password_opts(a.user, a.password))
    return [Send(req), Expect(Eof())]


def case_optlen_over(a):
    # Options Length 20484 (0x5004): a multiple of 4, over the draft's
    # 20 KB. Only the first option's header follows: the proxy must decide
    # from the length alone.
    req = (h("06 01") +                # Version, CONNECT
           h("50 04") +                # Options Length = 20484
           be16(a.dport) + h("00 01") +   # Port, Padding, IPv4
           ipv4_127() +
           h("fc 00 50 04"))           # Experimental option, Length 20484
    return [Send(req), Expect(Eof())]


def case_optlen_20481(a):
    req = (h("06 01") + h("50 01") +   # CONNECT, Options Length = 20481
           be16(a.dport) + h("00 01") + ipv4_127())
    return [Send(req), Expect(Eof())]


def case_optlen_max(a):
    # Exactly 20480 octets of options: the Advertisement, the credentials
    # and one Experimental option filling the rest. Accepted (NOOP).
    auth = password_opts(a.user, a.password)
    fill = 20480 - len(auth)
    opts = (auth +
            h("fc 01") + be16(fill) +  # Kind = 64513 (Experimental), Length
            b"\x00" * (fill - 4))      #   its data
    assert len(opts) == 20480
    return [Send(request(0x06, 0x00, 0, 0x01, ipv4_any(), opts)),
            Expect(password_ok(), NOOP_OK, Eof())]


def case_disabled(a):
    return [Send(noop_request(a)), Expect(Eof())]


def case_none_noop(a):
    req = request(0x06, 0x00, 0, 0x01, ipv4_any(), b"")
    return [Send(req), Expect(none_ok(), NOOP_OK, Eof())]


def case_none_false_start(a):
    # No Advertisement: no authentication phase, so application data may
    # follow the request at once (draft, "False Starts").
    req = request(0x06, 0x01, a.dport, 0x01, ipv4_127(), b"")
    return [Send(req + DATA_1K), Expect(none_ok(), *op_success_127())] + \
        echo_tail(DATA_1K)


def case_none_all_options(a):
    # Method none configured: the Advertisement and the credentials are
    # ignored ("If authentication is ... not required at all, the proxy
    # silently ignores the Authentication Method Advertisement option").
    opts = (STACK_OPTIONS + password_opts(a.user, a.password) +
            OTHER_OPTIONS)
    req = request(0x06, 0x01, a.dport, 0x03, domain_localhost(), opts)
    return [Send(req),
            Expect(none_ok(), *op_success_127(len(HE_ECHO)),
                   Lit(HE_ECHO, "Operation Reply: Happy Eyeballs echo"))
            ] + echo_tail()


def socks5_connect_tail(a):
    return [Send(h("05 01 00 01") +   # VER 5, CONNECT, RSV, ATYP IPv4
                 ipv4_127() + be16(a.dport), label="SOCKS 5 request"),
            Expect(Lit(h("05 00 00 01"),   # VER, REP 0, RSV, ATYP IPv4
                       "SOCKS 5 reply"),
                   Var(6, "SOCKS 5 reply: BND.ADDR, BND.PORT",
                       lambda b: True, "any"))] + echo_tail()


def case_socks5_password(a):
    u = a.user.encode()
    p = a.password.encode()
    return [Send(h("05 01 02"), label="SOCKS 5 greeting"),  # VER, 1 method: 2
            Expect(Lit(h("05 02"), "SOCKS 5 method selection")),
            Send(h("01") + bytes([len(u)]) + u + bytes([len(p)]) + p,
                 label="RFC 1929 request"),
            Expect(Lit(h("01 00"), "RFC 1929 reply"))] + \
        socks5_connect_tail(a)


def case_socks5_none(a):
    return [Send(h("05 01 00"), label="SOCKS 5 greeting"),  # VER, 1 method: 0
            Expect(Lit(h("05 00"), "SOCKS 5 method selection"))] + \
        socks5_connect_tail(a)


CASES = {
    "all-options-domain": (case_all_options_domain,
        "CONNECT localhost:DEST with every option kind; HE echoed"),
    "all-options-ipv4": (case_all_options_ipv4,
        "the same to 127.0.0.1:DEST; nothing echoed"),
    "connect-data-1write": (case_connect_data_1write,
        "password + 1 KiB initial data in one write, echoed back"),
    "connect-data-3seg": (case_connect_data_3seg,
        "the same, the data in three more writes"),
    "connect-split-option": (case_connect_split_option,
        "the same, the request cut inside option headers"),
    "initial-data-16k": (case_initial_data_16k,
        "password + 16 KiB (2^14) of initial data in one write, echoed"),
    "initial-data-over": (case_initial_data_over,
        "Initial Data Length 16385: EOF, no bytes"),
    "wrong-password": (case_wrong_password,
        "password 'wrong horse': 06 01 .. 02 01 01 00, EOF"),
    "password-no-data": (case_password_no_data,
        "method 2 advertised without its data: selection 2, EOF"),
    "no-acceptable-method": (case_no_acceptable_method,
        "no options to a password proxy: selection ff, EOF"),
    "session-id": (case_session_id, "Session ID: ignored (NOOP), EOF"),
    "idempotence-spend": (case_idempotence_spend,
        "Idempotence Expenditure outside a session: ignored (NOOP), EOF"),
    "noop": (case_noop, "NOOP 0.0.0.0:0: success, 0.0.0.0:0, EOF"),
    "bind": (case_bind, "BIND: success, then REP 7, EOF"),
    "udp-associate": (case_udp_associate,
        "UDP ASSOCIATE: success, then REP 7, EOF"),
    "connect-refused": (case_connect_refused,
        "CONNECT to a closed DEST: REP 5, EOF"),
    "legacy-mismatch": (case_legacy_mismatch,
        "version 0xD4 without legacy_version: 06, EOF"),
    "legacy-noop": (case_legacy_noop,
        "version 0xD4 with legacy_version (method none): d4 replies"),
    "bad-optlen": (case_bad_optlen, "Options Length 6: EOF, no bytes"),
    "bad-option-length": (case_bad_option_length,
        "an option of Length 2: EOF, no bytes"),
    "dup-auth-method": (case_dup_auth_method,
        "two Method Advertisements: EOF, no bytes"),
    "bad-domain-padding": (case_bad_domain_padding,
        "a name padded with a non-NUL: EOF, no bytes"),
    "optlen-over": (case_optlen_over,
        "Options Length 20484 (> 20 KB): EOF, no bytes"),
    "optlen-20481": (case_optlen_20481,
        "Options Length 20481: EOF, no bytes"),
    "optlen-max": (case_optlen_max,
        "Options Length 20480 exactly: NOOP succeeds"),
    "disabled": (case_disabled,
        "socks6.enable = false: a SOCKS 6 NOOP gets EOF, no bytes"),
    "none-noop": (case_none_noop, "method none: NOOP without options"),
    "none-false-start": (case_none_false_start,
        "method none: CONNECT + 1 KiB right behind it, echoed"),
    "none-all-options": (case_none_all_options,
        "method none: every option kind, credentials ignored"),
    "socks5-password": (case_socks5_password,
        "plain SOCKS 5 with RFC 1929 on the same port"),
    "socks5-none": (case_socks5_none, "plain SOCKS 5, method none"),
}


# ---------------------------------------------------------------------------
# Running a case.

class Mismatch(Exception):
    pass


def show(b, limit=64):
    if len(b) <= limit:
        return b.hex() if b else "(none)"
    return "%s... (%d bytes)" % (b[:limit].hex(), len(b))


class Runner:
    def __init__(self, sock, timeout, pause, verbose):
        self.sock = sock
        self.timeout = timeout
        self.pause = pause
        self.verbose = verbose
        self.received = bytearray()   # everything the proxy sent
        self.pos = 0                  # bytes of it already checked
        self.writes = 0
        self.writes_before_first = None
        self.end = None               # "eof" / "reset" once seen

    def log(self, msg):
        if self.verbose:
            sys.stderr.write("socks6_replay: %s\n" % msg)

    def _note_first(self):
        if self.writes_before_first is None and self.received:
            self.writes_before_first = self.writes

    def _recv_once(self, wait):
        """Read what is there within `wait` seconds; False on timeout."""
        if self.end is not None:
            return True
        r, _, _ = select.select([self.sock], [], [], max(wait, 0))
        if not r:
            return False
        try:
            b = self.sock.recv(65536)
        except ConnectionResetError:
            self.end = "reset"
            return True
        if not b:
            self.end = "eof"
        else:
            self.received += b
            self._note_first()
        return True

    def send(self, step, cuts_override):
        data = step.data
        cuts = step.cuts if cuts_override is None else cuts_override
        cuts = sorted(c for c in set(cuts) if 0 < c < len(data))
        bounds = [0] + cuts + [len(data)]
        for i in range(len(bounds) - 1):
            seg = data[bounds[i]:bounds[i + 1]]
            if i > 0:
                # Pause, and see whether the proxy answers before the rest.
                t_end = time.monotonic() + self.pause
                while time.monotonic() < t_end and self.end is None:
                    self._recv_once(t_end - time.monotonic())
            try:
                self.sock.sendall(seg)
            except (BrokenPipeError, ConnectionResetError) as e:
                # The proxy has closed: what it said is checked below.
                self.log("%s: write %d failed: %s" % (step.label, i + 1, e))
                self.end = self.end or "reset"
                return
            self.writes += 1
            self.log("%s: write %d: %d bytes" % (step.label, i + 1, len(seg)))

    def expect(self, step):
        for piece in step.pieces:
            if isinstance(piece, Eof):
                self.expect_eof()
                continue
            self.expect_piece(piece)

    def _fill(self, n):
        deadline = time.monotonic() + self.timeout
        while len(self.received) - self.pos < n and self.end is None:
            left = deadline - time.monotonic()
            if left <= 0 or not self._recv_once(left):
                return "timeout"
        return None

    def expect_piece(self, piece):
        why = self._fill(piece.n)
        got = bytes(self.received[self.pos:self.pos + piece.n])
        # A literal is compared as far as it came; a rule needs it whole.
        d = None
        if isinstance(piece, Lit) or len(got) == piece.n:
            d = piece.first_diff(got)
        if d is not None:
            off, exp = d
            raise Mismatch(
                "first difference at byte %d of the proxy's stream (%s, "
                "byte %d of it): expected %s, got %02x\n"
                "  expected %s: %s\n  received %s: %s"
                % (self.pos + off, piece.what, off, exp, got[off],
                   piece.what, piece.describe(), piece.what, show(got)))
        if len(got) < piece.n:
            raise Mismatch(
                "first difference at byte %d of the proxy's stream (%s, "
                "byte %d of it): expected %s, got %s\n"
                "  expected %s: %s\n  received: %s"
                % (self.pos + len(got), piece.what, len(got),
                   "%02x" % piece.data[len(got)]
                   if isinstance(piece, Lit) else piece.describe(),
                   "no byte within %.1f s" % self.timeout
                   if why == "timeout" else "the end of the stream (%s)"
                   % self.end, piece.what, piece.describe(), show(got)))
        self.pos += piece.n

    def expect_eof(self):
        deadline = time.monotonic() + self.timeout
        while self.end is None and len(self.received) == self.pos:
            left = deadline - time.monotonic()
            if left <= 0 or not self._recv_once(left):
                raise Mismatch(
                    "expected the end of the stream at byte %d, got "
                    "neither bytes nor EOF within %.1f s"
                    % (self.pos, self.timeout))
        if len(self.received) > self.pos:
            raise Mismatch(
                "first difference at byte %d of the proxy's stream: "
                "expected the end of the stream, got %02x (%d more bytes: "
                "%s)" % (self.pos, self.received[self.pos],
                         len(self.received) - self.pos,
                         show(bytes(self.received[self.pos:]))))

    def shut(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            self.log("shutdown: %s" % e)


def split_hostport(s, what):
    if s.startswith("["):
        host, _, port = s[1:].partition("]:")
    else:
        host, _, port = s.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SystemExit("socks6_replay: bad %s '%s' (HOST:PORT)" % (what, s))
    return host, int(port)


def run_case(a, name, proxy, cuts):
    """One case on its own connection: 0 match, 1 mismatch, 3 no proxy."""
    steps = CASES[name][0](a)
    try:
        sock = socket.create_connection(proxy, timeout=a.timeout)
    except OSError as e:
        sys.stderr.write("socks6_replay: cannot connect to %s: %s\n"
                         % (a.proxy, e))
        return 3
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(None)
    r = Runner(sock, a.timeout, a.pause / 1000.0, a.verbose)
    status = 0
    expects_eof = False
    try:
        first_send = True
        for step in steps:
            if isinstance(step, Send):
                r.send(step, cuts if first_send else None)
                first_send = False
            elif isinstance(step, Expect):
                expects_eof |= any(isinstance(x, Eof) for x in step.pieces)
                r.expect(step)
            else:
                r.shut()
    except Mismatch as e:
        sys.stderr.write("socks6_replay: case %s: MISMATCH: %s\n"
                         % (name, e))
        status = 1
    finally:
        sock.close()
    first = next(x for x in steps if isinstance(x, Send))
    c = first.cuts if cuts is None else cuts
    nseg = 1 + len([x for x in set(c) if 0 < x < len(first.data)])
    print("case=%s segments=%d writes_before_first_reply_byte=%s "
          "end=%s received=%s %s"
          % (name, nseg, r.writes_before_first
             if r.writes_before_first is not None else "-",
             (r.end or "open") if expects_eof or status else "-",
             show(bytes(r.received)), "match" if status == 0 else
             "MISMATCH"))
    sys.stdout.flush()
    return status


def main():
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Cases: --list.")
    p.add_argument("--list", action="store_true", help="list the cases")
    p.add_argument("--proxy", help="the proxy, HOST:PORT")
    p.add_argument("--case", action="append",
                   help="a case to run (repeat for several, in order)")
    p.add_argument("--dest", default="127.0.0.1:9",
                   help="CONNECT destination (port used by the cases)")
    p.add_argument("--user", default="alice")
    p.add_argument("--password-file",
                   help="a file whose first line is the password")
    p.add_argument("--split", help="comma-separated write boundaries")
    p.add_argument("--pause", type=float, default=40,
                   help="ms between segments (default 40)")
    p.add_argument("--timeout", type=float, default=5,
                   help="seconds to wait for each expected piece")
    p.add_argument("--verbose", "-v", action="store_true")
    a = p.parse_args()

    if a.list:
        for name, (_, text) in CASES.items():
            print("%-22s %s" % (name, text))
        return 0
    if not a.proxy or not a.case:
        p.error("--proxy and --case are required (or --list)")
    for name in a.case:
        if name not in CASES:
            p.error("unknown case '%s' (see --list)" % name)
    a.password = "password"
    if a.password_file:
        with open(a.password_file, encoding="utf-8") as f:
            a.password = f.readline().rstrip("\r\n")
    if len(a.user.encode()) > 255 or len(a.password.encode()) > 255:
        p.error("user and password are at most 255 octets")
    _, a.dport = split_hostport(a.dest, "--dest")
    proxy = split_hostport(a.proxy, "--proxy")
    cuts = None
    if a.split is not None:
        try:
            cuts = [int(x) for x in a.split.split(",") if x != ""]
        except ValueError:
            p.error("--split takes comma-separated offsets")

    status = 0
    for name in a.case:
        rc = run_case(a, name, proxy, cuts)
        if rc == 3:
            return 3
        status |= rc
    return status


if __name__ == "__main__":
    sys.exit(main())
