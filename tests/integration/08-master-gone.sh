#!/bin/sh
# SPDX-License-Identifier: ISC
# 08-master-gone: the workers of a master that was SIGKILLed exit within a
# few seconds (they drain as on SIGTERM). As root with user = nobody, so
# the privilege drop happens: the kernel clears a parent-death signal set
# before it. First round: another process holds copies of the master's
# sockets (pidfd_getfd), so the control sockets never report the master's
# end and only the parent-death signal can tell the workers. Second round:
# a plain SIGKILL.
. "${srcdir:-.}/tests/integration/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (workers that drop privileges)"
require_python
getent passwd nobody >/dev/null || skip "no user nobody"

write_conf "$T/sockeye.conf" 'log = { target = "stderr"; level = "verbose"; access = true; };'

# workers_gone PIDS...: none of them is alive.
workers_gone() {
	for _p in "$@"; do
		proc_alive "$_p" && return 1
	done
	return 0
}
two_workers() { [ "$(worker_count)" -eq 2 ]; }

# kill_master WHAT: SIGKILL the master; its workers must be gone in 10 s.
kill_master() {
	WORKERS=$(worker_pids)
	for _w in $WORKERS; do
		[ "$(stat -c %U "/proc/$_w")" = nobody ] ||
			fail "$1: worker $_w runs as $(stat -c %U "/proc/$_w")"
	done
	kill -KILL "$SOCKEYED_PID"
	wait "$SOCKEYED_PID" 2>/dev/null || true
	rm -f "$T/pids/sockeyed"
	# shellcheck disable=SC2086
	wait_for 10 workers_gone $WORKERS ||
		fail "$1: workers still running 10 s after the master was killed: $(for _w in $WORKERS; do proc_alive "$_w" && echo "$_w"; done | tr '\n' ' ')"
}

# --- Round 1: the master's sockets are held open elsewhere.
start_sockeye "$T/sockeye.conf"
wait_for 5 two_workers || fail "want 2 workers, have: $(worker_pids | tr '\n' ' ')"
bg holdfds "$PYTHON" -c '
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
pid = int(sys.argv[1])
pidfd = libc.syscall(434, pid, 0)                 # pidfd_open
if pidfd < 0:
    print("no pidfd_open: errno", ctypes.get_errno(), flush=True)
    sys.exit(3)
held = []
for name in os.listdir("/proc/%d/fd" % pid):
    try:
        link = os.readlink("/proc/%d/fd/%s" % (pid, name))
    except OSError:
        continue
    if link.startswith("socket:"):
        fd = libc.syscall(438, pidfd, int(name), 0)   # pidfd_getfd
        if fd >= 0:
            held.append(fd)
print("held", len(held), flush=True)
time.sleep(120)
' "$SOCKEYED_PID"
HOLDER=$BG_PID
held() { grep -Eq '^(held [0-9]+|no pidfd)' "$T/holdfds.out"; }
wait_for 10 held || fail "the fd holder said nothing: $(cat "$T/holdfds.log")"
if grep -Eq '^held [1-9]' "$T/holdfds.out"; then
	kill_master "master's sockets held elsewhere"
else
	note "cannot copy the master's fds ($(cat "$T/holdfds.out")): round 1 is a plain kill"
	kill_master "plain kill (round 1)"
fi
kill "$HOLDER" 2>/dev/null || true

# --- Round 2: a plain SIGKILL.
start_sockeye "$T/sockeye.conf"
wait_for 5 two_workers || fail "want 2 workers, have: $(worker_pids | tr '\n' ' ')"
kill_master "plain kill"
exit 0
