#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""testserver - loopback servers for sockeye's integration tests (stdlib only).

    testserver.py MODE --port-file FILE [--v6] [options]

Each binds 127.0.0.1 (or ::1 with --v6) on port 0, writes the bound port
to --port-file (atomically: the file appears complete or not at all), and
serves until killed. One thread per connection.

Modes:
  http         GET of any path returns --body (HTTP/1.0, then close).
  echo         sends back everything it reads; on EOF half-closes and ends.
  sink-source  reads --bytes bytes from the client, hashing them, while
               concurrently sending --bytes bytes of pseudo-random data
               (seeded with --seed); then closes and writes
               "recv_bytes=N recv_sha256=H sent_bytes=N sent_sha256=H"
               to --result.
  halfclose    reads until EOF, then sends "got N bytes\\n" and closes:
               proves the client's half-close arrived and the other
               direction still works.
  reset        sends --bytes bytes of pseudo-random data (--seed), waits
               until the client's side has acknowledged all of them, then
               resets the connection (SO_LINGER 0): a download cut short.
  watch        reads until the client's end and writes "recv_bytes=N
               recv_sha256=H end=eof|rst" to --result: how the client's
               side of the proxy ended.
"""

import argparse
import fcntl
import hashlib
import http.server
import os
import random
import socket
import socketserver
import struct
import sys
import termios
import threading
import time


def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, addr, handler, args):
        self.address_family = socket.AF_INET6 if args.v6 else socket.AF_INET
        self.args = args
        super().__init__(addr, handler)

    def handle_error(self, request, client_address):
        # A client that resets is normal in these tests; log one line.
        exc = sys.exc_info()[1]
        print("testserver: %s: %r" % (client_address, exc), file=sys.stderr,
              flush=True)


class HTTPHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        body = self.server.args.body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *a):
        sys.stderr.write("testserver http: %s\n" % (fmt % a))


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        while True:
            data = sock.recv(65536)
            if not data:
                break
            sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)


class HalfCloseHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        n = 0
        while True:
            data = sock.recv(65536)
            if not data:
                break
            n += len(data)
        sock.sendall(b"got %d bytes\n" % n)
        sock.shutdown(socket.SHUT_WR)


class SinkSourceHandler(socketserver.BaseRequestHandler):
    def handle(self):
        args = self.server.args
        sock = self.request
        sent = hashlib.sha256()
        state = {"sent": 0}

        def source():
            rng = random.Random(args.seed)
            left = args.bytes
            try:
                while left:
                    chunk = rng.randbytes(min(left, 256 * 1024))
                    sock.sendall(chunk)
                    sent.update(chunk)
                    left -= len(chunk)
                    state["sent"] += len(chunk)
            except OSError as e:
                state["error"] = str(e)

        thread = threading.Thread(target=source, daemon=True)
        thread.start()
        got = hashlib.sha256()
        n = 0
        try:
            while n < args.bytes:
                data = sock.recv(1024 * 1024)
                if not data:
                    break
                got.update(data)
                n += len(data)
        except OSError as e:
            state["recv_error"] = str(e)
        thread.join()
        line = "recv_bytes=%d recv_sha256=%s sent_bytes=%d sent_sha256=%s" % (
            n, got.hexdigest(), state["sent"], sent.hexdigest())
        for k in ("error", "recv_error"):
            if k in state:
                line += " %s=%s" % (k, state[k].replace(" ", "_"))
        write_atomic(args.result, line + "\n")
        sock.shutdown(socket.SHUT_WR)


def unacked(sock):
    """Bytes sent but not yet acknowledged by the peer (SIOCOUTQ)."""
    buf = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    return struct.unpack("i", buf)[0]


class ResetHandler(socketserver.BaseRequestHandler):
    def handle(self):
        args = self.server.args
        sock = self.request
        sock.sendall(random.Random(args.seed).randbytes(args.bytes))
        deadline = time.monotonic() + 30
        while unacked(sock) > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
        sock.close()


class WatchHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        got = hashlib.sha256()
        n = 0
        end = "eof"
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                got.update(data)
                n += len(data)
        except ConnectionResetError:
            end = "rst"
        write_atomic(self.server.args.result,
                     "recv_bytes=%d recv_sha256=%s end=%s\n" % (
                         n, got.hexdigest(), end))


HANDLERS = {
    "reset": ResetHandler,
    "watch": WatchHandler,
    "http": HTTPHandler,
    "echo": EchoHandler,
    "sink-source": SinkSourceHandler,
    "halfclose": HalfCloseHandler,
}


def main(argv):
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=sorted(HANDLERS))
    p.add_argument("--port-file", required=True)
    p.add_argument("--v6", action="store_true", help="bind ::1")
    p.add_argument("--body", default="hello from the sockeye test server\n")
    p.add_argument("--bytes", type=int, default=64 * 1024 * 1024)
    p.add_argument("--seed", type=int, default=2)
    p.add_argument("--result", help="sink-source: file for the hashes")
    args = p.parse_args(argv)
    if args.mode == "sink-source" and not args.result:
        p.error("sink-source needs --result")

    host = "::1" if args.v6 else "127.0.0.1"
    server = Server((host, 0), HANDLERS[args.mode], args)
    write_atomic(args.port_file, "%d\n" % server.server_address[1])
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
