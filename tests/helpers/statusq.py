#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""statusq - ask sockeyed's status socket (python3 stdlib only).

    statusq.py SOCKET [PATH...]

Sends one request line, reads the one-line answer, parses it as JSON
(strictly: one object, a single line ending in a newline) and prints, for
each PATH, the value found there: dot-separated keys, a list index as a
number ("workers.0.pid"), `len` for the length of a list or object
("workers.len"), `keys` for an object's keys, sorted and comma-separated.
Without a PATH it prints the whole answer. A missing key prints
"MISSING". Exit 0, or 1 when the socket cannot be reached or the answer
is not valid JSON (with the reason on stderr).
"""

import json
import socket
import sys


def lookup(obj, path):
    for part in path.split("."):
        if part == "len":
            return len(obj)
        if part == "keys":
            return ",".join(sorted(obj))
        if isinstance(obj, list):
            i = int(part)
            if i >= len(obj):
                return "MISSING"
            obj = obj[i]
        elif isinstance(obj, dict):
            if part not in obj:
                return "MISSING"
            obj = obj[part]
        else:
            return "MISSING"
    return json.dumps(obj) if isinstance(obj, (dict, list)) else obj


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect(sys.argv[1])
        s.sendall(b"status\n")
        buf = b""
        while not buf.endswith(b"\n"):
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except OSError as e:
        print("statusq: %s: %s" % (sys.argv[1], e), file=sys.stderr)
        return 1
    finally:
        s.close()
    if not buf.endswith(b"\n") or buf.count(b"\n") != 1:
        print("statusq: not one line: %r" % buf[:200], file=sys.stderr)
        return 1
    try:
        obj = json.loads(buf.decode("utf-8"))
    except ValueError as e:
        print("statusq: invalid JSON (%s): %r" % (e, buf[:200]),
              file=sys.stderr)
        return 1
    if not isinstance(obj, dict):
        print("statusq: not an object", file=sys.stderr)
        return 1
    if len(sys.argv) == 2:
        sys.stdout.write(buf.decode("utf-8"))
    for path in sys.argv[2:]:
        v = lookup(obj, path)
        if v is True or v is False:
            v = str(v).lower()
        print(v)
    return 0


if __name__ == "__main__":
    sys.exit(main())
