#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""gss_mock_proxy - a minimal SOCKS5 server with the GSS-API method only.

A stand-in for sockeyed's side of RFC 1961, for testing the clients
(tests/tools/gss_socks_client.py, sockeye-connect -a gssapi) against
something other than themselves before or apart from the daemon, in the
throwaway realm of tests/integration/lib-krb5.sh. It is not a model of
sockeyed: CONNECT only, one thread a session, no access rules, no limits.

    gss_mock_proxy.py --keytab FILE --port-file FILE [--service rcmd]
        [--protection none,integrity,confidentiality] [--strip-realm R]
        [--deny-user NAME]

It accepts a context with any key of the keytab, then refuses (01 FF) a
context whose target service is not --service; grants the level asked
for when --protection lists it, else the strongest it lists; takes the
level octet wrapped, or bare when its token is one byte (NEC style) and
answers the same way; at integrity and confidentiality it decapsulates
the request and encapsulates the reply and the data; answers REP 2 to
the CONNECT of a user named by --deny-user (after stripping). Lines on
standard error, in the form of sockeyed's:

    gss_mock_proxy: info: auth ok: user=alice@SOCKEYE.TEST
        client=127.0.0.1:40000 method=gssapi level=integrity nec=no
    gss_mock_proxy: info: auth failed: user=- client=127.0.0.1:40001
        method=gssapi reason=...
    gss_mock_proxy: info: refused: user=bob@SOCKEYE.TEST client=...
        cmd=connect dst=127.0.0.1:8000: denied by --deny-user
    gss_mock_proxy: info: access user=alice@SOCKEYE.TEST client=...
        cmd=connect dst=127.0.0.1:8000 rep=0 level=integrity
"""

import argparse
import os
import socket
import struct
import sys
import threading

import gssapi

LEVEL_NAMES = {0: "none", 1: "integrity", 2: "confidentiality"}
LEVELS = {v: k for k, v in LEVEL_NAMES.items()}
CHUNK = 16384


class Refuse(Exception):
    pass


_log_lock = threading.Lock()


def log(line):
    with _log_lock:
        sys.stderr.write("gss_mock_proxy: info: " + line + "\n")
        sys.stderr.flush()


def deny_reason(args, user):
    """Why the user's CONNECT is refused, or None (a hook: a wrapper may
    replace it)."""
    return "denied by --deny-user" if user in args.deny_user else None


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise Refuse("client closed")
        buf += chunk
    return buf


def recv_msg(sock):
    ver, mtyp = recv_exact(sock, 2)
    if ver != 1:
        raise Refuse("version %d" % ver)
    if mtyp == 0xFF:
        raise Refuse("client aborted")
    (n,) = struct.unpack("!H", recv_exact(sock, 2))
    return mtyp, recv_exact(sock, n)


def send_msg(sock, mtyp, token):
    sock.sendall(struct.pack("!BBH", 1, mtyp, len(token)) + token)


class Tunnel:
    def __init__(self, sock, ctx, level):
        self.sock, self.ctx, self.level = sock, ctx, level
        self.raw, self.plain = b"", b""

    def send(self, data):
        if self.level == 0:
            self.sock.sendall(data)
            return
        for i in range(0, len(data), CHUNK):
            send_msg(self.sock, 3,
                     self.ctx.wrap(data[i:i + CHUNK], self.level == 2).message)

    def recv(self):
        """Plain bytes, b"" at EOF."""
        while True:
            data = self.sock.recv(65536)
            if self.level == 0 or not data:
                if data == b"" and self.raw:
                    raise Refuse("EOF inside an MTYP 3 message")
                return data
            self.raw += data
            while len(self.raw) >= 4:
                if self.raw[0] != 1 or self.raw[1] != 3:
                    raise Refuse("not an MTYP 3 message")
                (n,) = struct.unpack("!H", self.raw[2:4])
                if len(self.raw) < 4 + n:
                    break
                tok, self.raw = self.raw[4:4 + n], self.raw[4 + n:]
                u = self.ctx.unwrap(tok)
                if self.level == 2 and not u.encrypted:
                    raise Refuse("unencrypted data at confidentiality")
                self.plain += u.message
            if self.plain:
                out, self.plain = self.plain, b""
                return out

    def take(self, n):
        while len(self.plain) < n:
            data = self.recv()
            if not data:
                raise Refuse("EOF in the request")
            self.plain += data
        out, self.plain = self.plain[:n], self.plain[n:]
        return out


def pump(src, dst_send, dst_sock_shutdown):
    """Copy until EOF, then half-close; the bytes copied."""
    n = 0
    try:
        while True:
            data = src()
            if not data:
                break
            dst_send(data)
            n += len(data)
    except (OSError, Refuse, gssapi.exceptions.GSSError):
        pass
    try:
        dst_sock_shutdown()
    except OSError:
        pass
    return n


def session(sock, args, allowed):
    sock.settimeout(20)
    user = None
    peer = sock.getpeername()
    client = "%s:%d" % (peer[0], peer[1])
    try:
        ver, n = recv_exact(sock, 2)
        methods = recv_exact(sock, n)
        if ver != 5 or 1 not in methods:
            sock.sendall(b"\x05\xff")
            raise Refuse("GSS-API not offered")
        sock.sendall(b"\x05\x01")
        ctx = gssapi.SecurityContext(creds=args.creds, usage="accept")
        while not ctx.complete:
            mtyp, token = recv_msg(sock)
            if mtyp != 1 or not token:
                raise Refuse("MTYP %d during context establishment" % mtyp)
            out = ctx.step(token)
            if out:
                send_msg(sock, 1, out)
        target = str(ctx.target_name)
        if target.split("/", 1)[0] != args.service:
            raise Refuse("ticket for %s, not service %s" % (target,
                                                           args.service))
        user = str(ctx.initiator_name)
        realm = user.rpartition("@")[2]
        if realm in args.strip_realm:
            user = user.rpartition("@")[0]
        mtyp, token = recv_msg(sock)
        if mtyp != 2:
            raise Refuse("MTYP %d, want 2" % mtyp)
        nec = len(token) == 1
        asked = token if nec else ctx.unwrap(token).message
        if len(asked) != 1:
            raise Refuse("level of %d bytes" % len(asked))
        level = asked[0] if asked[0] in allowed else max(allowed)
        reply = bytes([level])
        send_msg(sock, 2, reply if nec else ctx.wrap(reply, False).message)
        log("auth ok: user=%s client=%s method=gssapi level=%s nec=%s"
            % (user, client, LEVEL_NAMES[level], "yes" if nec else "no"))
    except (Refuse, gssapi.exceptions.GSSError, OSError, ValueError) as e:
        log("auth failed: user=%s client=%s method=gssapi reason=%s"
            % (user or "-", client, str(e).replace("\n", " ")))
        try:
            sock.sendall(b"\x01\xff")
        except OSError:
            pass
        sock.close()
        return
    tun = Tunnel(sock, ctx, level)
    try:
        head = tun.take(4)
        if head[:3] != b"\x05\x01\x00":
            raise Refuse("not a CONNECT request")
        if head[3] == 1:
            host = socket.inet_ntoa(tun.take(4))
        elif head[3] == 4:
            host = socket.inet_ntop(socket.AF_INET6, tun.take(16))
        elif head[3] == 3:
            host = tun.take(tun.take(1)[0]).decode("idna")
        else:
            raise Refuse("address type %d" % head[3])
        (port,) = struct.unpack("!H", tun.take(2))
        dst_name = "%s:%d" % (host, port)
        why = deny_reason(args, user)
        if why is not None:
            log("refused: user=%s client=%s cmd=connect dst=%s: %s"
                % (user, client, dst_name, why))
            log("access user=%s client=%s cmd=connect dst=%s rep=2 level=%s"
                % (user, client, dst_name, LEVEL_NAMES[level]))
            tun.send(b"\x05\x02\x00\x01\x00\x00\x00\x00\x00\x00")
            raise Refuse("refused")
        try:
            dst = socket.create_connection((host, port), timeout=10)
        except OSError:
            tun.send(b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00")
            raise Refuse("connect to %s:%d failed" % (host, port))
        dst.settimeout(None)
        tun.send(b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x00")
        if tun.plain:
            dst.sendall(tun.plain)
            tun.plain = b""
        sock.settimeout(None)
        up = threading.Thread(target=pump, args=(
            tun.recv, dst.sendall, lambda: dst.shutdown(socket.SHUT_WR)))
        up.start()
        down = pump(lambda: dst.recv(65536), tun.send,
                    lambda: sock.shutdown(socket.SHUT_WR))
        up.join(30)
        dst.close()
        log("access user=%s client=%s cmd=connect dst=%s rep=0 "
            "bytes_down=%d level=%s" % (user, client, dst_name, down,
                                        LEVEL_NAMES[level]))
    except (Refuse, gssapi.exceptions.GSSError, OSError) as e:
        log("session ended: %s" % e)
    sock.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keytab", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--service", default="rcmd")
    ap.add_argument("--protection", default="none,integrity,confidentiality")
    ap.add_argument("--strip-realm", action="append", default=[])
    ap.add_argument("--deny-user", action="append", default=[])
    args = ap.parse_args()
    serve(args)


def serve(args):
    """Listen on 127.0.0.1, port 0, write the port to args.port_file and
    serve forever."""
    allowed = [LEVELS[x] for x in args.protection.split(",") if x]
    store = {"keytab": os.path.abspath(args.keytab).encode()}
    args.creds = gssapi.Credentials(usage="accept", store=store)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, args.port_file)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=session, args=(conn, args, allowed),
                         daemon=True).start()


if __name__ == "__main__":
    main()
