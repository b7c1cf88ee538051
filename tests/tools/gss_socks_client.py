#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""gss_socks_client - a SOCKS5 client with the GSS-API method (RFC 1961).

sockeye's own test peer for the daemon's side of RFC 1961, written on
python3-gssapi (Debian's /usr/bin/python3: `apt-get install
python3-gssapi`). The Kerberos credentials are the caller's: KRB5CCNAME
and KRB5_CONFIG from the environment.

    gss_socks_client.py --proxy localhost:1080 [--service rcmd]
        [--level none|integrity|confidentiality] [--nec] [--bad-token]
        [--target-host HOST] [--source ADDR] [--http PATH]
        DEST_HOST DEST_PORT
    gss_socks_client.py --dry-run --proxy localhost:1080

It greets with method 01 only (05 01 01), establishes a security context
with the host-based service NAME@PROXYHOST (rcmd/localhost@REALM;
--target-host names another host than the one connected to), mutual
authentication required; each token travels as 01 01 LEN(2) TOKEN. It
then asks for the protection level (01 02 LEN gss_wrap(octet): 0 none, 1
integrity, 2 confidentiality; with --nec the bare octet, as the NEC
reference implementation and curl --socks5-gssapi-nec do, and the
proxy's answer is expected bare too), and works at whatever level the
proxy grants. At integrity and confidentiality everything after that -
the CONNECT request, the reply, the data both ways - is sent as
01 03 LEN(2) gss_wrap(chunk) messages (encrypted at confidentiality only,
which is checked on what the proxy sends). With --http PATH it sends
"GET PATH HTTP/1.0"; otherwise it sends its standard input and then
half-closes. What comes back is written to standard output.

On standard error, for the tests to grep:

    granted=none|integrity|confidentiality   after the negotiation
    rep=N                                     a reply other than 0 (CONNECT,
                                              or UDP ASSOCIATE with
                                              --udp-associate)
    aborted by proxy                          the proxy sent 01 FF

Exit status: 0 when the proxy closed after the data; 3 when the proxy
aborted (01 FF); 4 when its CONNECT reply was not 0; 1 for any other
failure (no credentials, the proxy refused the method, closed early,
sent something malformed, nothing within --timeout seconds); 2 for a
usage error. --dry-run only makes the first context token, prints
"token_len=N" on standard output and exits 0 (no network: a check of
the credentials and the krb5 configuration).
"""

import argparse
import ipaddress
import os
import select
import socket
import struct
import sys

try:
    import gssapi
except ImportError as e:  # the test skips (exit 77) before it gets here
    sys.stderr.write("gss_socks_client: cannot import gssapi (%s); "
                     "run it with Debian's /usr/bin/python3 and "
                     "python3-gssapi\n" % e)
    sys.exit(1)

LEVELS = {"none": 0, "integrity": 1, "confidentiality": 2}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}
MTYP_CONTEXT, MTYP_PROTECTION, MTYP_DATA, MTYP_ABORT = 1, 2, 3, 0xFF
# Plain bytes per MTYP 3 message: its wrapped token stays well below the
# 65535 bytes LEN can say.
CHUNK = 16384


class Aborted(Exception):
    pass


class Failure(Exception):
    pass


def err(line):
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def recv_exact(sock, n, what):
    buf = b""
    while len(buf) < n:
        try:
            chunk = sock.recv(n - len(buf))
        except socket.timeout:
            raise Failure("no answer from the proxy (%s)" % what)
        except ConnectionResetError:
            raise Failure("the proxy reset the connection (%s)" % what)
        if not chunk:
            raise Failure("the proxy closed the connection (%s, %d of %d "
                          "bytes)" % (what, len(buf), n))
        buf += chunk
    return buf


def send_msg(sock, mtyp, token):
    if len(token) > 0xFFFF:
        raise Failure("token of %d bytes does not fit a message" % len(token))
    sock.sendall(struct.pack("!BBH", 1, mtyp, len(token)) + token)


def recv_msg(sock, what):
    """One subnegotiation message: (mtyp, token); Aborted on 01 FF."""
    head = recv_exact(sock, 2, what)
    if head == b"\x01\xff":
        raise Aborted()
    if head[0] != 1:
        raise Failure("%s: version %#04x, not 0x01" % (what, head[0]))
    (length,) = struct.unpack("!H", recv_exact(sock, 2, what))
    return head[1], recv_exact(sock, length, what)


def target_name(service, host):
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return gssapi.Name("%s@%s" % (service, host),
                       name_type=gssapi.NameType.hostbased_service)


def new_context(args, host):
    flags = (gssapi.RequirementFlag.mutual_authentication |
             gssapi.RequirementFlag.integrity |
             gssapi.RequirementFlag.confidentiality)
    return gssapi.SecurityContext(name=target_name(args.service, host),
                                  usage="initiate", flags=flags,
                                  mech=gssapi.MechType.kerberos)


def establish(sock, ctx, bad_token):
    """Context establishment (RFC 1961 section 3)."""
    out = ctx.step()
    if bad_token:
        # An MTYP 1 message of the right form whose token is no GSS-API
        # token at all.
        out = b"this is not a GSS-API token " * 4
    while True:
        if out:
            send_msg(sock, MTYP_CONTEXT, out)
        if ctx.complete:
            return
        mtyp, token = recv_msg(sock, "context establishment")
        if mtyp != MTYP_CONTEXT:
            raise Failure("message type %d during context establishment"
                          % mtyp)
        if not token:
            raise Failure("empty context token from the proxy, context "
                          "not complete")
        out = ctx.step(token)


def negotiate(sock, ctx, level, nec):
    """Protection-level negotiation (RFC 1961 section 4): the level
    granted."""
    octet = bytes([level])
    if nec:
        send_msg(sock, MTYP_PROTECTION, octet)
    else:
        send_msg(sock, MTYP_PROTECTION, ctx.wrap(octet, False).message)
    mtyp, token = recv_msg(sock, "protection-level negotiation")
    if mtyp != MTYP_PROTECTION:
        raise Failure("message type %d, want 2 (protection level)" % mtyp)
    if nec:
        granted = token
    else:
        try:
            granted = ctx.unwrap(token).message
        except gssapi.exceptions.GSSError as e:
            raise Failure("gss_unwrap of the granted level: %s" % e)
    if len(granted) != 1:
        raise Failure("granted level of %d bytes, want 1 (%s)"
                      % (len(granted), "bare, --nec" if nec else "unwrapped"))
    if granted[0] not in LEVEL_NAMES:
        raise Failure("the proxy granted level %d, which this client does "
                      "not do" % granted[0])
    return granted[0]


class Channel:
    """The connection after the negotiation: plain, or MTYP 3 messages
    of gss_wrap()ed chunks."""

    def __init__(self, sock, ctx, level):
        self.sock, self.ctx, self.level = sock, ctx, level
        self.raw = b""          # received, not yet a whole message
        self.plain = b""        # received and unwrapped, not yet consumed
        self.eof = False

    def frame(self, data):
        """The bytes that carry `data` to the proxy at this level."""
        if self.level == 0:
            return data
        out = []
        for i in range(0, len(data), CHUNK):
            w = self.ctx.wrap(data[i:i + CHUNK], self.level == 2)
            if self.level == 2 and not w.encrypted:
                raise Failure("gss_wrap did not encrypt (confidentiality)")
            out.append(struct.pack("!BBH", 1, MTYP_DATA, len(w.message)))
            out.append(w.message)
        return b"".join(out)

    def _unpack(self):
        while len(self.raw) >= 2:
            if self.raw[:2] == b"\x01\xff":
                raise Aborted()
            if self.raw[0] != 1 or self.raw[1] != MTYP_DATA:
                raise Failure("expected an MTYP 3 message, got bytes %s"
                              % self.raw[:4].hex())
            if len(self.raw) < 4:
                return
            (n,) = struct.unpack("!H", self.raw[2:4])
            if len(self.raw) < 4 + n:
                return
            token, self.raw = self.raw[4:4 + n], self.raw[4 + n:]
            try:
                u = self.ctx.unwrap(token)
            except gssapi.exceptions.GSSError as e:
                raise Failure("gss_unwrap of the proxy's data: %s" % e)
            if self.level == 2 and not u.encrypted:
                raise Failure("the proxy's data at confidentiality was not "
                              "encrypted")
            if self.level == 1 and u.encrypted:
                raise Failure("the proxy's data at integrity was encrypted "
                              "(RFC 1961: conf_req_flag FALSE)")
            self.plain += u.message

    def fill(self):
        """Read once from the socket; False at EOF."""
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            raise Failure("the proxy reset the connection")
        if not data:
            if self.level != 0 and self.raw:
                raise Failure("the proxy closed in the middle of an MTYP 3 "
                              "message (%d bytes left over)" % len(self.raw))
            self.eof = True
            return False
        if self.level == 0:
            self.plain += data
        else:
            self.raw += data
            self._unpack()
        return True

    def take(self, n, what):
        while len(self.plain) < n:
            try:
                if not self.fill():
                    raise Failure("the proxy closed the connection (%s)"
                                  % what)
            except socket.timeout:
                raise Failure("no answer from the proxy (%s)" % what)
        data, self.plain = self.plain[:n], self.plain[n:]
        return data


def socks_request(host, port, cmd=1):
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raw = host.encode("idna")
        if not 0 < len(raw) < 256:
            raise Failure("destination name of %d bytes" % len(raw))
        addr = b"\x03" + bytes([len(raw)]) + raw
    else:
        addr = (b"\x01" if ip.version == 4 else b"\x04") + ip.packed
    return bytes([5, cmd, 0]) + addr + struct.pack("!H", port)


def socks_reply(ch):
    head = ch.take(4, "CONNECT reply")
    if head[0] != 5:
        raise Failure("reply version %d" % head[0])
    atyp = head[3]
    if atyp == 1:
        ch.take(4 + 2, "CONNECT reply")
    elif atyp == 4:
        ch.take(16 + 2, "CONNECT reply")
    elif atyp == 3:
        n = ch.take(1, "CONNECT reply")[0]
        ch.take(n + 2, "CONNECT reply")
    else:
        raise Failure("reply address type %d" % atyp)
    return head[1]


def relay(ch, data_in, timeout):
    """Send data_in (bytes; or None: standard input, then a half-close)
    and write what comes back to standard output until the proxy closes.
    Reads and writes are interleaved (select), so that an echo of much
    data cannot deadlock with both sides' buffers full."""
    out = sys.stdout.buffer
    if ch.plain:
        out.write(ch.plain)
        out.flush()
        ch.plain = b""
    sock = ch.sock
    sock.setblocking(False)
    stdin_fd = sys.stdin.fileno() if data_in is None else None
    pending = ch.frame(data_in) if data_in is not None else b""
    half_close = False
    while True:
        rlist = [sock]
        if stdin_fd is not None and len(pending) < 4 * CHUNK:
            rlist.append(stdin_fd)
        wlist = [sock] if pending else []
        r, w, _ = select.select(rlist, wlist, [], timeout)
        if not r and not w:
            raise Failure("nothing for %g s during the relay" % timeout)
        if w:
            try:
                pending = pending[sock.send(pending):]
            except BlockingIOError:
                pass
            except (BrokenPipeError, ConnectionResetError) as e:
                raise Failure("sending to the proxy: %s" % e)
        if stdin_fd is not None and stdin_fd in r:
            data = os.read(stdin_fd, CHUNK)
            if data:
                pending += ch.frame(data)
            else:
                stdin_fd = None
                half_close = True
        if half_close and not pending:
            sock.shutdown(socket.SHUT_WR)
            half_close = False
        if sock in r:
            try:
                more = ch.fill()
            except BlockingIOError:
                continue
            if ch.plain:
                out.write(ch.plain)
                out.flush()
                ch.plain = b""
            if not more:
                return


def parse_hostport(s):
    host, sep, port = s.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError("want HOST:PORT, got %r" % s)
    return host, int(port)


def main():
    ap = argparse.ArgumentParser(
        description="SOCKS5 client with the GSS-API method (RFC 1961)")
    ap.add_argument("--proxy", required=True, type=parse_hostport,
                    metavar="HOST:PORT")
    ap.add_argument("--service", default="rcmd",
                    help="service of the host-based name (default rcmd)")
    ap.add_argument("--target-host",
                    help="host of the service name (default: the proxy's)")
    ap.add_argument("--level", choices=sorted(LEVELS), default="none",
                    help="the protection level asked for (default none)")
    ap.add_argument("--nec", action="store_true",
                    help="the level octet unwrapped, both ways")
    ap.add_argument("--bad-token", action="store_true",
                    help="send garbage as the first context token")
    ap.add_argument("--source", help="local address to connect from")
    ap.add_argument("--udp-associate", action="store_true",
                    help="send UDP ASSOCIATE (for DEST) instead of CONNECT"
                    " and stop at the reply")
    ap.add_argument("--http", metavar="PATH",
                    help="send GET PATH HTTP/1.0 instead of standard input")
    ap.add_argument("--timeout", type=float, default=20,
                    help="seconds to wait for anything (default 20)")
    ap.add_argument("--dry-run", action="store_true",
                    help="only make the first context token")
    ap.add_argument("dest_host", nargs="?")
    ap.add_argument("dest_port", nargs="?", type=int)
    args = ap.parse_args()
    # UDP ASSOCIATE may name port 0 (RFC 1928: the client does not know it).
    low = 0 if args.udp_associate else 1
    if not args.dry_run and (args.dest_host is None or args.dest_port is None
                             or not low <= args.dest_port < 65536):
        ap.error("DEST_HOST and DEST_PORT (%d-65535) are required" % low)

    proxy_host, proxy_port = args.proxy
    try:
        ctx = new_context(args, args.target_host or proxy_host)
        if args.dry_run:
            print("token_len=%d" % len(ctx.step()))
            return 0
    except gssapi.exceptions.GSSError as e:
        err("gss_init_sec_context: %s" % e)
        return 1

    sock = None
    try:
        try:
            src = (args.source, 0) if args.source else None
            sock = socket.create_connection((proxy_host.strip("[]"),
                                             proxy_port),
                                            timeout=args.timeout,
                                            source_address=src)
        except OSError as e:
            raise Failure("cannot connect to the proxy: %s" % e)
        sock.sendall(b"\x05\x01\x01")
        choice = recv_exact(sock, 2, "method selection")
        if choice != b"\x05\x01":
            raise Failure("the proxy chose method %s, not GSS-API (01)"
                          % choice.hex())
        establish(sock, ctx, args.bad_token)
        level = negotiate(sock, ctx, LEVELS[args.level], args.nec)
        err("granted=%s" % LEVEL_NAMES[level])
        ch = Channel(sock, ctx, level)
        sock.sendall(ch.frame(socks_request(args.dest_host, args.dest_port,
                                            3 if args.udp_associate else 1)))
        rep = socks_reply(ch)
        if rep != 0:
            err("rep=%d" % rep)
            return 4
        if args.udp_associate:
            return 0
        data_in = None
        if args.http is not None:
            data_in = ("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (
                args.http, args.dest_host)).encode()
        relay(ch, data_in, args.timeout)
        return 0
    except Aborted:
        err("aborted by proxy")
        return 3
    except gssapi.exceptions.GSSError as e:
        err("GSS-API: %s" % e)
        return 1
    except Failure as e:
        err("gss_socks_client: %s" % e)
        return 1
    except OSError as e:
        err("gss_socks_client: %s" % e)
        return 1
    finally:
        if sock is not None:
            sock.close()


if __name__ == "__main__":
    sys.exit(main())
