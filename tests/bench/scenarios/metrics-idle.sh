#!/bin/sh
# SPDX-License-Identifier: ISC
# metrics-idle: the metrics endpoint's answer time (GET /metrics, from
# the connect to the end of the answer) with no session open and with
# BENCH_SESSIONS (default 20,000) idle relayed sessions open, on
# loopback: tests/bench/metrics_idle.py does the work and says what is
# measured. Goal (issue 16): the median under BENCH_GOAL_MS (default 10)
# with the sessions open. Needs neither root nor other servers; run as
# root it takes a network namespace of its own (a wide port range, its
# own loopback), as throughput does. About a minute.
: "${SOCKEYED:=./sockeyed}"
: "${srcdir:=.}"

if [ -z "${BENCH_IN_NETNS:-}" ] && [ "$(id -u)" = 0 ] &&
	command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1; then
	BENCH_IN_NETNS=1 exec unshare -n sh "$0" "$@"
fi
if [ -n "${BENCH_IN_NETNS:-}" ]; then
	ip link set lo up &&
		sysctl -qw net.ipv4.ip_local_port_range="1024 65000" || {
		echo "metrics-idle: cannot set up the namespace's loopback" >&2
		exit 1
	}
fi
case $SOCKEYED in /*) ;; *) SOCKEYED=$(pwd)/$SOCKEYED ;; esac
[ -x "$SOCKEYED" ] || { echo "metrics-idle: no daemon at $SOCKEYED" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "metrics-idle: python3 not found" >&2; exit 77; }

T=$(mktemp -d /tmp/sockeye-bench.XXXXXX)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
"${CC:-cc}" -O2 -Wall -Wextra -o "$T/loadgen" "$srcdir/tests/bench/loadgen.c" \
	-lpthread || { echo "metrics-idle: cannot build loadgen" >&2; exit 1; }
# Each process holds at most ~10,000 of the descriptors (the clients and
# the echo servers are split in several processes, the proxy's sessions
# over its workers), so the hard limit's 20,000 is enough.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 12000 ] || {
	echo "metrics-idle: descriptor limit $(ulimit -n), 12000 needed" >&2
	exit 77
}
mkdir "$T/work" && chmod 755 "$T/work"
python3 "$srcdir/tests/bench/metrics_idle.py" "$T/loadgen" "$SOCKEYED" \
	"$T/work"
