#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""socks5probe - sockeye's own small SOCKS5 test client (python3 stdlib only).

It speaks to a SOCKS5 server and prints what came back, one event a line,
in a stable form the integration tests grep for:

    method=00                 the server's method choice (hex)
    method=ff ver=04          ... with the version byte when it is not 5
    rep=0 bnd=127.0.0.1:4000  the request reply: REP (decimal) and BND address
    rep=8 atyp=05             ... a reply whose address it cannot parse
    echo=ok | echo=bad        --send with --expect-echo
    recv_len=13               --shutdown: everything read until EOF
    recv=got 13 bytes         ... printable, other bytes as \\xNN
    data=0a0b                 unexpected bytes while waiting for a close
    closed | closed rst       the server closed the connection (FIN or RST)
    reset                     --reset: the probe reset the connection
    timeout                   nothing happened within --timeout seconds
    elapsed=2.01              seconds since the connection was made

It stops at the first "closed" or "timeout". The exit status is 0 whatever
the server did; 1 when the proxy cannot be reached at all, 2 on bad usage.

Examples:
    socks5probe.py -p 1080 --dst 127.0.0.1:80            # plain CONNECT
    socks5probe.py -p 1080 --methods 02                  # expect method=ff
    socks5probe.py -p 1080 --cmd 9 --dst 127.0.0.1:80 --wait-close
    socks5probe.py -p 1080 --atyp 3 --dst '[::1]:7' --send hi --expect-echo
    socks5probe.py -p 1080 --dst v4.test:7 --piece 1 --delay 0.005
    socks5probe.py -p 1080 --stall-after 2 --timeout 6   # half a greeting
    socks5probe.py -p 1080 --raw 0401 --raw 00           # raw bytes, dump reply
    socks5probe.py -p 1080 --dst 127.0.0.1:9 --transfer 67108864
    socks5probe.py -p 1080 --garbage 200 --seed 7
    socks5probe.py -p 1081 --source 127.0.0.2 --prefix-hex 50524f5859... --dst 127.0.0.1:7
"""

import argparse
import concurrent.futures
import fcntl
import hashlib
import ipaddress
import random
import socket
import struct
import sys
import termios
import threading
import time

CMDS = {"connect": 1, "bind": 2, "udp": 3, "udp_associate": 3}
ATYP_IPV4, ATYP_DOMAIN, ATYP_IPV6 = 1, 3, 4


class Closed(Exception):
    """The server closed the connection (EOF or reset)."""

    def __init__(self, rst=False, partial=b""):
        super().__init__("closed")
        self.rst = rst
        self.partial = partial


class Timeout(Exception):
    """Nothing (or not enough) arrived within the deadline."""

    def __init__(self, partial=b""):
        super().__init__("timeout")
        self.partial = partial


def out(line):
    print(line, flush=True)


def printable(data):
    return "".join(chr(b) if 32 <= b < 127 and b != 0x5C else "\\x%02x" % b
                   for b in data)


# ---------------------------------------------------------------- messages

def split_hostport(s):
    """'1.2.3.4:80', '[::1]:80', 'name:80', '::1:80' -> (host, port).
    Brackets are kept in host; callers decide what they mean."""
    host, sep, port = s.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError("expected HOST:PORT, got %r" % s)
    return host, int(port)


def build_greeting(version, methods):
    return bytes([version, len(methods)]) + bytes(methods)


def encode_addr(host, port, atyp=None):
    """ATYP + address + port. atyp None picks it from the host's form;
    ATYP_DOMAIN sends host exactly as written (brackets included)."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if atyp is None:
        try:
            ip = ipaddress.ip_address(bare)
            atyp = ATYP_IPV4 if ip.version == 4 else ATYP_IPV6
        except ValueError:
            atyp = ATYP_DOMAIN
    if atyp == ATYP_IPV4:
        body = socket.inet_pton(socket.AF_INET, bare)
    elif atyp == ATYP_IPV6:
        body = socket.inet_pton(socket.AF_INET6, bare)
    elif atyp == ATYP_DOMAIN:
        name = host.encode("idna" if not host.isascii() else "ascii")
        body = bytes([len(name)]) + name
    else:
        # An ATYP the RFC does not define: send IPv4-sized filler so a
        # server that guesses a length still has something to read.
        body = socket.inet_pton(socket.AF_INET, "127.0.0.1")
    return bytes([atyp]) + body + struct.pack("!H", port)


def build_request(cmd, host, port, atyp=None):
    return bytes([5, cmd, 0]) + encode_addr(host, port, atyp)


# ---------------------------------------------------------------- I/O

class Conn:
    """A socket with a deadline, a byte budget for stalling, and piecewise
    sending."""

    def __init__(self, sock, args):
        self.sock = sock
        self.args = args
        self.t0 = time.monotonic()
        self.budget = args.stall_after  # None: unlimited

    def elapsed(self):
        return time.monotonic() - self.t0

    def send(self, data):
        """Send data in --piece sized writes with --delay between them.
        With --stall-after, stop once the budget is spent and stall."""
        if self.budget is not None:
            data, stalled = data[:self.budget], len(data) > self.budget
            self.budget -= len(data)
        else:
            stalled = False
        piece = self.args.piece or len(data) or 1
        for i in range(0, len(data), piece):
            if i and self.args.delay:
                time.sleep(self.args.delay)
            try:
                self.sock.sendall(data[i:i + piece])
            except (BrokenPipeError, ConnectionResetError):
                raise Closed(rst=True)
        if stalled:
            raise Stalled()

    def recv_exact(self, n, timeout=None):
        buf = b""
        deadline = time.monotonic() + (timeout or self.args.timeout)
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout(buf)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout:
                raise Timeout(buf)
            except ConnectionResetError:
                raise Closed(rst=True, partial=buf)
            if not chunk:
                raise Closed(partial=buf)
            buf += chunk
        return buf

    def read_to_eof(self, timeout=None):
        """Everything until EOF. Raises Timeout (with what came) if no EOF."""
        buf = b""
        deadline = time.monotonic() + (timeout or self.args.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout(buf)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise Timeout(buf)
            except ConnectionResetError:
                raise Closed(rst=True, partial=buf)
            if not chunk:
                return buf
            buf += chunk


class Stalled(Exception):
    """The --stall-after budget is spent: now wait for the server."""


def connect_proxy(args):
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(args.timeout)
    if args.source:
        sock.bind((args.source, 0))
    sock.connect((args.host, args.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if args.prefix_hex:
        # What a load balancer sends first (a PROXY header), on its own;
        # with --prefix-split N, its first N bytes a moment before the rest.
        prefix = bytes.fromhex(args.prefix_hex)
        if args.prefix_split:
            sock.sendall(prefix[:args.prefix_split])
            time.sleep(0.2)
            prefix = prefix[args.prefix_split:]
        sock.sendall(prefix)
    return sock


def read_reply(conn):
    """Read a request reply; return (rep, bnd string or None)."""
    head = conn.recv_exact(4)
    ver, rep, _rsv, atyp = head
    if atyp == ATYP_IPV4:
        raw = conn.recv_exact(6)
        bnd = "%s:%d" % (socket.inet_ntop(socket.AF_INET, raw[:4]),
                         struct.unpack("!H", raw[4:])[0])
    elif atyp == ATYP_IPV6:
        raw = conn.recv_exact(18)
        bnd = "[%s]:%d" % (socket.inet_ntop(socket.AF_INET6, raw[:16]),
                           struct.unpack("!H", raw[16:])[0])
    elif atyp == ATYP_DOMAIN:
        n = conn.recv_exact(1)[0]
        raw = conn.recv_exact(n + 2)
        bnd = "%s:%d" % (printable(raw[:n]), struct.unpack("!H", raw[n:])[0])
    else:
        bnd = None
    line = "rep=%d" % rep
    line += " bnd=%s" % bnd if bnd else " atyp=%02x" % atyp
    if ver != 5:
        line += " ver=%02x" % ver
    out(line)
    return rep


def wait_close(conn, timeout=None):
    """Wait for the server to close; report what arrived before that."""
    try:
        data = conn.read_to_eof(timeout)
        if data:
            out("data=%s" % data.hex())
        out("closed")
    except Closed as e:
        if e.partial:
            out("data=%s" % e.partial.hex())
        out("closed rst" if e.rst else "closed")
    except Timeout as e:
        if e.partial:
            out("data=%s" % e.partial.hex())
        out("timeout")


# ---------------------------------------------------------------- payload phases

def transfer(conn, nbytes, seed):
    """Send nbytes of seeded pseudo-random data while reading what the peer
    sends, concurrently; then half-close and read to EOF. Prints both
    hashes and byte counts."""
    sock = conn.sock
    sock.settimeout(None)
    sent = hashlib.sha256()
    result = {}

    def sender():
        rng = random.Random(seed)
        left = nbytes
        try:
            while left:
                chunk = rng.randbytes(min(left, 256 * 1024))
                sock.sendall(chunk)
                sent.update(chunk)
                left -= len(chunk)
            sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            result["send_error"] = e.strerror or str(e)
        result["sent"] = nbytes - left

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    got = hashlib.sha256()
    total = 0
    sock.settimeout(conn.args.timeout)  # per recv: a stall is a failure
    ending = "closed"
    try:
        while True:
            chunk = sock.recv(1024 * 1024)
            if not chunk:
                break
            got.update(chunk)
            total += len(chunk)
    except socket.timeout:
        ending = "timeout"
    except ConnectionResetError:
        ending = "closed rst"
    thread.join(conn.args.timeout)
    out("sent_bytes=%d sent_sha256=%s" % (result.get("sent", -1),
                                          sent.hexdigest()))
    out("recv_bytes=%d recv_sha256=%s" % (total, got.hexdigest()))
    if "send_error" in result:
        out("send_error=%s" % result["send_error"].replace(" ", "_"))
    out(ending)


def unacked(sock):
    """Bytes sent but not yet acknowledged by the peer (SIOCOUTQ)."""
    buf = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    return struct.unpack("i", buf)[0]


def payload_phase(conn, args):
    """After a successful request: send, echo check, half-close, hold."""
    if args.transfer is not None:
        transfer(conn, args.transfer, args.seed)
        return
    data = args.send.encode() if args.send is not None else b""
    if args.send_size:
        data += bytes((i * 7 + 1) & 0xFF for i in range(256)) * (
            args.send_size // 256) + b"s" * (args.send_size % 256)
    if data:
        conn.sock.sendall(data)
    if args.reset:
        # Only once every byte has been acknowledged: an abort discards
        # what is still queued, and the test wants all of it delivered.
        deadline = time.monotonic() + args.timeout
        while unacked(conn.sock) > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
        conn.sock.close()
        out("reset")
        return
    if args.expect_echo:
        got = conn.recv_exact(len(data))
        out("echo=ok" if got == data else "echo=bad recv=%s" % printable(got))
    if args.shutdown:
        conn.sock.shutdown(socket.SHUT_WR)
        try:
            got = conn.read_to_eof()
        except Closed as e:
            out("recv_len=%d" % len(e.partial))
            out("recv=%s" % printable(e.partial))
            raise
        except Timeout as e:
            out("recv_len=%d" % len(e.partial))
            out("recv=%s" % printable(e.partial))
            raise
        out("recv_len=%d" % len(got))
        out("recv=%s" % printable(got))
        out("closed")
        return
    if args.hold is not None:
        wait_close(conn, args.hold)
    elif args.wait_close:
        wait_close(conn)


# ---------------------------------------------------------------- modes

def run_raw(conn, args):
    for i, hexstr in enumerate(args.raw):
        if i and args.delay:
            time.sleep(args.delay)
        conn.send(bytes.fromhex(hexstr))
    wait_close(conn)


def run_socks(conn, args):
    greeting = (bytes.fromhex(args.greeting_hex) if args.greeting_hex
                else build_greeting(args.ver, args.methods))
    if args.request_hex:
        request = bytes.fromhex(args.request_hex)
    elif args.dst:
        host, port = split_hostport(args.dst)
        request = build_request(args.cmd, host, port, args.atyp)
    else:
        request = None

    if args.together and request is not None:
        conn.send(greeting + request)
    else:
        conn.send(greeting)

    reply = conn.recv_exact(2)
    line = "method=%02x" % reply[1]
    if reply[0] != 5:
        line += " ver=%02x" % reply[0]
    out(line)
    if reply[0] != 5 or reply[1] != 0 or request is None:
        # Nothing more we can say (or were asked to say): see how it ends.
        if request is None and reply[1] == 0 and not args.wait_close:
            return
        wait_close(conn)
        return

    if not args.together:
        conn.send(request)
    rep = read_reply(conn)
    if rep != 0:
        wait_close(conn)
        return
    payload_phase(conn, args)


def run_garbage(args):
    """--garbage N connections of random bytes, some shaped like the start
    of a real handshake so the parser gets past the first byte. Each ends
    with a close, a reset, or a short wait for the server."""
    rng = random.Random(args.seed)
    jobs = []
    for i in range(args.garbage):
        kind = rng.randrange(6)
        body = rng.randbytes(rng.randrange(1, 600))
        if kind == 1:    # version 5, random method count and methods
            body = b"\x05" + body
        elif kind == 2:  # valid greeting, random request
            body = b"\x05\x01\x00" + body
        elif kind == 3:  # valid greeting, request header, random address
            body = b"\x05\x01\x00\x05\x01\x00" + bytes([rng.choice([1, 3, 4, 0, 255])]) + body
        elif kind == 4:  # domain with a length that lies
            body = b"\x05\x01\x00\x05\x01\x00\x03\xff" + body[:rng.randrange(0, 40)]
        jobs.append((body, rng.randrange(3)))

    def one(job):
        body, ending = job
        try:
            sock = connect_proxy(args)
        except OSError:
            return "connect-failed"
        try:
            sock.sendall(body)
            if ending == 0:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                struct.pack("ii", 1, 0))  # RST on close
            elif ending == 1:
                sock.settimeout(0.3)
                try:
                    while sock.recv(4096):
                        pass
                except OSError:
                    pass
        except OSError:
            pass
        finally:
            sock.close()
        return "ok"

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(one, jobs))
    out("garbage=%d connect_failed=%d" % (len(results),
                                          results.count("connect-failed")))


# ---------------------------------------------------------------- CLI

def hexbyte_list(s):
    return [int(x, 16) for x in s.split(",") if x] if s else []


def cmd_value(s):
    return CMDS[s] if s in CMDS else int(s, 0)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="sockeye's SOCKS5 test client",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("-H", "--host", default="127.0.0.1", help="proxy address")
    p.add_argument("-p", "--port", type=int, required=True, help="proxy port")
    p.add_argument("--source", help="connect from this local address")
    p.add_argument("--prefix-hex",
                   help="send these bytes first, before the greeting")
    p.add_argument("--prefix-split", type=int, default=0,
                   help="send the first N bytes of --prefix-hex 0.2 s "
                   "before the rest")
    p.add_argument("--timeout", type=float, default=5.0,
                   help="seconds to wait for each answer (default 5)")
    g = p.add_argument_group("handshake")
    g.add_argument("--ver", type=lambda s: int(s, 0), default=5,
                   help="greeting version byte (default 5)")
    g.add_argument("--methods", type=hexbyte_list, default=[0],
                   help="offered methods, hex, comma-separated (default 00)")
    g.add_argument("--cmd", type=cmd_value, default=1,
                   help="connect|bind|udp or a number (default connect)")
    g.add_argument("--atyp", type=int, default=None,
                   help="1, 3 or 4 (or any number); default from --dst")
    g.add_argument("--dst", help="destination HOST:PORT or [IPv6]:PORT; "
                   "with --atyp 3 the host is sent as written")
    g.add_argument("--greeting-hex", help="send these bytes as the greeting")
    g.add_argument("--request-hex", help="send these bytes as the request")
    g.add_argument("--together", action="store_true",
                   help="greeting and request in one write")
    g.add_argument("--piece", type=int, default=0,
                   help="send handshake bytes in writes of this size")
    g.add_argument("--delay", type=float, default=0.0,
                   help="seconds between pieces (or --raw writes)")
    g.add_argument("--stall-after", type=int, default=None,
                   help="send only this many handshake bytes, then wait "
                   "for the server to close")
    g.add_argument("--raw", action="append",
                   help="send these hex bytes (repeatable: one write each) "
                   "and print whatever comes back")
    d = p.add_argument_group("after a successful CONNECT")
    d.add_argument("--send", help="send this text")
    d.add_argument("--send-size", type=int, default=0,
                   help="also send this many bytes of a fixed pattern")
    d.add_argument("--expect-echo", action="store_true",
                   help="read back what was sent and compare")
    d.add_argument("--shutdown", action="store_true",
                   help="then shutdown(SHUT_WR) and read until EOF")
    d.add_argument("--reset", action="store_true",
                   help="after sending, reset the connection (SO_LINGER 0)")
    d.add_argument("--hold", type=float, default=None,
                   help="keep the connection open this long (or until "
                   "the server closes it)")
    d.add_argument("--wait-close", action="store_true",
                   help="at the end, wait for the server to close")
    d.add_argument("--transfer", type=int, default=None,
                   help="send and receive this many bytes concurrently, "
                   "print sha256 of both")
    d.add_argument("--seed", type=int, default=1,
                   help="seed for --transfer data and --garbage")
    p.add_argument("--garbage", type=int, default=None,
                   help="open this many connections sending random bytes")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    if args.garbage is not None:
        run_garbage(args)
        return 0
    try:
        sock = connect_proxy(args)
    except OSError as e:
        out("connect_error=%s" % str(e.strerror or e).replace(" ", "_"))
        return 1
    conn = Conn(sock, args)
    try:
        if args.raw:
            run_raw(conn, args)
        else:
            run_socks(conn, args)
    except Stalled:
        wait_close(conn)
    except Closed as e:
        if e.partial:
            out("data=%s" % e.partial.hex())
        out("closed rst" if e.rst else "closed")
    except Timeout as e:
        if e.partial:
            out("data=%s" % e.partial.hex())
        out("timeout")
    if args.stall_after is not None or args.wait_close or args.hold is not None:
        out("elapsed=%.2f" % conn.elapsed())
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
