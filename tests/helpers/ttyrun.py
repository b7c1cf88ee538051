#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""ttyrun - run a command with a pseudo-terminal as its controlling
terminal and answer one prompt on it (python3 stdlib only).

    ttyrun.py [--answer TEXT] [--stdin F] [--stdout F] [--stderr F]
              [--timeout S] -- COMMAND [ARGS...]

The command's stdin, stdout and stderr are the given files (default
/dev/null), so only what it writes to /dev/tty appears on the terminal.
When the terminal shows a prompt (text ending in ": "), TEXT and a newline
are typed. Printed on stdout, one a line:

    tty=<what the terminal showed, non-printables as \\xNN>
    echo_off_during_prompt=yes|no   ECHO was off when the prompt appeared
    echo_restored=yes|no            ECHO is on again after the command
    status=N                        the command's exit status (or -SIG)

Exits 0 unless the command could not be run or did not finish within
--timeout seconds (then 1, after killing it).
"""

import argparse
import os
import select
import signal
import sys
import termios
import time


def printable(data):
    return "".join(chr(b) if 32 <= b < 127 and b != 0x5C else "\\x%02x" % b
                   for b in data)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--answer")
    p.add_argument("--stdin", default="/dev/null")
    p.add_argument("--stdout", default="/dev/null")
    p.add_argument("--stderr", default="/dev/null")
    p.add_argument("--timeout", type=float, default=20)
    p.add_argument("command", nargs="+")
    args = p.parse_args(argv)

    master, slave = os.openpty()
    slave_name = os.ttyname(slave)
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            os.close(master)
            # The first terminal a session leader opens becomes its
            # controlling terminal.
            fd = os.open(slave_name, os.O_RDWR)
            os.close(fd)
            os.close(slave)
            i = os.open(args.stdin, os.O_RDONLY)
            o = os.open(args.stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            e = os.open(args.stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(i, 0)
            os.dup2(o, 1)
            os.dup2(e, 2)
            os.execvp(args.command[0], args.command)
        except OSError as exc:
            os.write(2, ("ttyrun: %s\n" % exc).encode())
        os._exit(127)

    shown = b""
    answered = False
    echo_off = None
    status = None
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            try:
                data = os.read(master, 4096)
            except OSError:
                data = b""
            shown += data
        if args.answer is not None and not answered and shown.endswith(b": "):
            echo_off = not (termios.tcgetattr(slave)[3] & termios.ECHO)
            os.write(master, args.answer.encode() + b"\n")
            answered = True
        wpid, st = os.waitpid(pid, os.WNOHANG)
        if wpid == pid:
            status = os.waitstatus_to_exitcode(st)
            break
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        print("ttyrun: timeout after %g s; terminal showed: %s"
              % (args.timeout, printable(shown)), file=sys.stderr)
        return 1
    # Whatever is left on the terminal.
    while True:
        r, _, _ = select.select([master], [], [], 0.05)
        if not r:
            break
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        shown += data
    print("tty=%s" % printable(shown))
    if echo_off is not None:
        print("echo_off_during_prompt=%s" % ("yes" if echo_off else "no"))
    print("echo_restored=%s"
          % ("yes" if termios.tcgetattr(slave)[3] & termios.ECHO else "no"))
    print("status=%d" % status)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
