#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""hetool - Happy Eyeballs test tools for sockeye (python3 stdlib only).

    hetool.py serve --port-file FILE [--port N] [--listen ADDR]...
                    [--blackhole ADDR]...
    hetool.py socks --proxy HOST:PORT --dst HOST:PORT [--timeout S]
    hetool.py wire  --ns-a NS --dev-a DEV --ns-b NS --dev-b DEV
                    --delay-ms MS --ready FILE

serve: one TCP port (the kernel's choice, or --port) on every address
  given. A --listen address answers like a tiny HTTP/1.0 server: it reads
  the request head and replies 200 with the body "served-by ADDR\\n", ADDR
  being the address the connection came in on, so that a client can tell
  which address it reached. A --blackhole address is a listener with
  backlog 0 that never accepts, its queue filled by the tool itself until
  a connection attempt hangs: from then on new SYNs go unanswered, as if
  a firewall dropped them (no root needed). The port goes to --port-file
  (atomically) once everything is ready; then it serves until killed.

socks: one SOCKS5 CONNECT (no authentication) to --dst through --proxy,
  then, when it succeeded, an HTTP GET. Prints, one per line:
      rep=N bnd=ADDR:PORT   the reply
      reply_s=0.253         seconds from the connect to the proxy to the reply
      body=served-by ADDR   the first line of the response body (rep 0)
      first_byte_s=0.255    seconds to the first byte of the response
  "error=..." when the proxy cannot be reached or closes early. Exit 0
  whatever the reply (the test judges it), 1 when the proxy is unreachable.

wire: a point-to-point link between two network namespaces made of two
  TUN devices and this process, which carries every IP packet from one to
  the other after --delay-ms (in each direction): a slow path where tc
  netem is not available. Needs root; the devices vanish with the process.
  --ready is written once both devices exist (the caller then adds
  addresses and sets them up).
"""

import argparse
import ctypes
import errno
import fcntl
import heapq
import os
import select
import socket
import struct
import sys
import threading
import time


def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def sockaddr(addr, port):
    return (addr, port, 0, 0) if ":" in addr else (addr, port)


# ---------------------------------------------------------------- serve

def http_reply(conn):
    """Read the request head (bounded), answer with who served it."""
    try:
        conn.settimeout(10)
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 8192:
            chunk = conn.recv(4096)
            if not chunk:
                break
            head += chunk
        local = conn.getsockname()[0]
        body = ("served-by %s\n" % local).encode()
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n"
                     % len(body) + body)
    except OSError:
        pass
    finally:
        conn.close()


def accept_loop(lsock):
    while True:
        conn, _peer = lsock.accept()
        threading.Thread(target=http_reply, args=(conn,), daemon=True).start()


def fill_queue(addr, port, keep):
    """Connect to a backlog-0 listener until an attempt hangs (<= 16)."""
    for _ in range(16):
        s = socket.socket(family_of(addr), socket.SOCK_STREAM)
        s.setblocking(False)
        keep.append(s)
        try:
            s.connect(sockaddr(addr, port))
        except BlockingIOError:
            pass
        _r, w, _x = select.select([], [s], [], 0.3)
        if not w:
            return  # this one hangs: SYNs are dropped now
    raise RuntimeError("the queue of %s:%d never filled" % (addr, port))


def bind_all(listen, holes, port):
    """Bind every address on one port; None if that port is taken."""
    socks = []
    try:
        for addr, hole in [(a, False) for a in listen] + [(a, True) for a in holes]:
            s = socket.socket(family_of(addr), socket.SOCK_STREAM)
            socks.append((s, addr, hole))
            if family_of(addr) == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind(sockaddr(addr, port))
            if port == 0:
                port = s.getsockname()[1]
            s.listen(0 if hole else 128)
        return socks, port
    except OSError as e:
        for s, _a, _h in socks:
            s.close()
        if e.errno == errno.EADDRINUSE:
            return None, 0
        raise


def cmd_serve(args):
    if not args.listen and not args.blackhole:
        sys.exit("serve: nothing to listen on")
    for _attempt in range(50):
        socks, port = bind_all(args.listen, args.blackhole, args.port)
        if socks is not None:
            break
        if args.port:
            sys.exit("serve: port %d is taken" % args.port)
    else:
        sys.exit("serve: no port free on every address")
    keep = []
    for s, addr, hole in socks:
        if hole:
            fill_queue(addr, port, keep)
        else:
            threading.Thread(target=accept_loop, args=(s,), daemon=True).start()
    write_atomic(args.port_file, "%d\n" % port)
    while True:
        time.sleep(3600)


# ---------------------------------------------------------------- socks

def split_hostport(s):
    host, sep, port = s.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError("expected HOST:PORT, got %r" % s)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def cmd_socks(args):
    phost, pport = split_hostport(args.proxy)
    dhost, dport = split_hostport(args.dst)
    try:
        ip = socket.inet_pton(socket.AF_INET6 if ":" in dhost else socket.AF_INET, dhost)
        atyp, addr = (4 if ":" in dhost else 1), ip
    except OSError:
        atyp, addr = 3, bytes([len(dhost)]) + dhost.encode()
    t0 = time.monotonic()
    try:
        sock = socket.create_connection((phost, pport), timeout=args.timeout)
    except OSError as e:
        print("error=%s" % (e.strerror or e), flush=True)
        return 1
    sock.settimeout(args.timeout)
    try:
        sock.sendall(b"\x05\x01\x00")
        if recv_exact(sock, 2) != b"\x05\x00":
            print("error=method", flush=True)
            return 0
        sock.sendall(b"\x05\x01\x00" + bytes([atyp]) + addr + struct.pack("!H", dport))
        ver, rep, _rsv, ratyp = recv_exact(sock, 4)
        if ratyp == 1:
            raw = recv_exact(sock, 6)
            bnd = "%s:%d" % (socket.inet_ntop(socket.AF_INET, raw[:4]),
                             struct.unpack("!H", raw[4:])[0])
        elif ratyp == 4:
            raw = recv_exact(sock, 18)
            bnd = "[%s]:%d" % (socket.inet_ntop(socket.AF_INET6, raw[:16]),
                               struct.unpack("!H", raw[16:])[0])
        else:
            bnd = "?"
        t_reply = time.monotonic() - t0
        print("rep=%d bnd=%s" % (rep, bnd), flush=True)
        print("reply_s=%.3f" % t_reply, flush=True)
        if rep != 0:
            return 0
        sock.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        first = sock.recv(1)
        t_first = time.monotonic() - t0
        data = first
        while first:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        body = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
        print("body=%s" % body.decode("ascii", "replace").splitlines()[0]
              if body else "body=", flush=True)
        print("first_byte_s=%.3f" % t_first, flush=True)
    except (OSError, EOFError) as e:
        print("error=%s" % (getattr(e, "strerror", None) or e), flush=True)
    finally:
        sock.close()
    return 0


# ---------------------------------------------------------------- wire

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def setns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (path, os.strerror(e)))
    finally:
        os.close(fd)


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


def cmd_wire(args):
    home = "/proc/self/ns/net"
    home_fd = os.open(home, os.O_RDONLY)
    try:
        setns("/run/netns/" + args.ns_a)
        fa = open_tun(args.dev_a)
        setns("/run/netns/" + args.ns_b)
        fb = open_tun(args.dev_b)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.setns(home_fd, CLONE_NEWNET)
    finally:
        os.close(home_fd)
    write_atomic(args.ready, "ready\n")
    delay = args.delay_ms / 1000.0
    other = {fa: fb, fb: fa}
    held = []  # (due, seq, out fd, packet)
    seq = 0
    while True:
        timeout = max(0.0, held[0][0] - time.monotonic()) if held else None
        ready, _w, _x = select.select([fa, fb], [], [], timeout)
        now = time.monotonic()
        for fd in ready:
            for _ in range(64):
                try:
                    pkt = os.read(fd, 65536)
                except BlockingIOError:
                    break
                seq += 1
                heapq.heappush(held, (now + delay, seq, other[fd], pkt))
        now = time.monotonic()
        while held and held[0][0] <= now:
            _due, _seq, out, pkt = heapq.heappop(held)
            try:
                os.write(out, pkt)
            except OSError:
                pass  # the device is down: the packet is lost, as on a wire


def main(argv):
    p = argparse.ArgumentParser(
        description="Happy Eyeballs test tools",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port-file", required=True)
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--listen", action="append", default=[])
    s.add_argument("--blackhole", action="append", default=[])
    c = sub.add_parser("socks")
    c.add_argument("--proxy", required=True)
    c.add_argument("--dst", required=True)
    c.add_argument("--timeout", type=float, default=30.0)
    w = sub.add_parser("wire")
    w.add_argument("--ns-a", required=True)
    w.add_argument("--dev-a", required=True)
    w.add_argument("--ns-b", required=True)
    w.add_argument("--dev-b", required=True)
    w.add_argument("--delay-ms", type=float, required=True)
    w.add_argument("--ready", required=True)
    args = p.parse_args(argv)
    return {"serve": cmd_serve, "socks": cmd_socks, "wire": cmd_wire}[args.cmd](args)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(0)
