# SPDX-License-Identifier: ISC
# lib-faults.sh - sourced (after lib.sh and lib-ops.sh) by the fault tests
# tests/integration/7N-*.sh: a lot of connections, and what a worker
# holds before and after.
#
# Gives: need_fds (raise the open-files limit or skip), fd_counts and
# settled (each worker's descriptors back to a baseline and no session
# active on the status socket), rss_kb, asan_build.

# need_fds N: raise this shell's open-files limit to at least N (the
# daemon started after inherits it), or skip.
need_fds() {
	ulimit -n "$1" 2>/dev/null || ulimit -n "$(ulimit -H -n)" 2>/dev/null || true
	[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge "$1" ] ||
		skip "open-files limit $(ulimit -n) < $1"
}

# fd_counts: "PID:N" for each worker (N: its open descriptors), sorted.
fd_counts() {
	for _fc in $(worker_pids); do
		printf '%s:%s\n' "$_fc" "$(ls "/proc/$_fc/fd" 2>/dev/null | wc -l)"
	done
}

# asan_build: the daemon is built with AddressSanitizer (which reserves
# terabytes of address space, and whose shadow memory stays resident).
asan_build() {
	ldd "$SOCKEYED" 2>/dev/null | grep -q libasan ||
		grep -q __asan_init "$SOCKEYED" 2>/dev/null
}

# rss_kb PID: resident memory of PID, in KiB.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# _settled BASE SOCKET: the workers' descriptors are BASE (fd_counts's
# output) again and the status socket says no session is active.
_settled() {
	[ "$(fd_counts)" = "$1" ] &&
		[ "$(statusq "$2" sessions.active 2>/dev/null)" = 0 ]
}

# settled SECONDS BASE SOCKET: wait for _settled, or fail saying what is off.
settled() {
	wait_for "$1" _settled "$2" "$3" && return 0
	fail "not back to the baseline after $1 s: descriptors $(fd_counts | tr '\n' ' ')(were $(printf '%s' "$2" | tr '\n' ' ')), active sessions $(statusq "$3" sessions.active)"
}
