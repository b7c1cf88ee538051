#!/bin/sh
# SPDX-License-Identifier: ISC
# throughput: bulk throughput, session rate, CPU per byte and per session,
# memory per idle session and after a burst: sockeyed next to Debian's
# danted and microsocks and to direct loopback, interleaved rounds
# (tests/bench/throughput.py says what is measured; loadgen.c makes the
# load). Needs root (raised descriptor limits; danted drops to nobody)
# and installs dante-server and microsocks when they are missing. Prints
# a Markdown table; exit 0 when it was produced without an error (the
# goals are reported, met or not), 1 on any error, 77 when it cannot run.
# Knobs: BENCH_ROUNDS (3), BENCH_SECONDS per session run (5),
# BENCH_BULK8_BYTES per stream (500000000), BENCH_BULK1_BYTES
# (2000000000), BENCH_IDLE (1000,10000), BENCH_BURST (5000).
: "${SOCKEYED:=./sockeyed}"
: "${SOCKEYE_PASSWD:=./sockeye-passwd}"
: "${srcdir:=.}"

if [ "$(id -u)" != 0 ]; then
	echo "throughput: needs root (descriptor limits, danted)" >&2
	exit 77
fi
for tool in python3 "${CC:-cc}"; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "throughput: $tool not found" >&2
		exit 77
	}
done
if ! command -v danted >/dev/null 2>&1 || ! command -v microsocks >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y dante-server microsocks \
		>/dev/null 2>&1 || true
	# The package starts danted on port 1080; the benchmark runs its own.
	systemctl stop danted >/dev/null 2>&1 || true
fi
for tool in danted microsocks; do
	command -v $tool >/dev/null 2>&1 || {
		echo "throughput: $tool not installed and cannot be" >&2
		exit 77
	}
done
# A network namespace of its own: its loopback, and a port range of its
# own made wide, so that tens of thousands of closed connections waiting
# out TIME_WAIT (the session rows open a hundred thousand) do not run
# a proxy out of ports.
if [ -z "${BENCH_IN_NETNS:-}" ] && command -v unshare >/dev/null 2>&1 &&
	command -v ip >/dev/null 2>&1; then
	BENCH_IN_NETNS=1 exec unshare -n sh "$0" "$@"
fi
if [ -n "${BENCH_IN_NETNS:-}" ]; then
	ip link set lo up &&
		sysctl -qw net.ipv4.ip_local_port_range="1024 65000" || {
		echo "throughput: cannot set up the namespace's loopback" >&2
		exit 1
	}
fi
case $SOCKEYED in /*) ;; *) SOCKEYED=$(pwd)/$SOCKEYED ;; esac
case $SOCKEYE_PASSWD in /*) ;; *) SOCKEYE_PASSWD=$(pwd)/$SOCKEYE_PASSWD ;; esac
[ -x "$SOCKEYED" ] || { echo "throughput: no daemon at $SOCKEYED" >&2; exit 1; }

T=$(mktemp -d /tmp/sockeye-bench.XXXXXX)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
"${CC:-cc}" -O2 -Wall -Wextra -o "$T/loadgen" "$srcdir/tests/bench/loadgen.c" \
	-lpthread || { echo "throughput: cannot build loadgen" >&2; exit 1; }
# 10,000 held sessions: 10,000 descriptors in the client, as many in the
# echo server, 20,000 in the proxy over its processes.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 12000 ] || {
	echo "throughput: descriptor limit $(ulimit -n), 12000 needed" >&2
	exit 77
}
python3 "$srcdir/tests/bench/throughput.py" "$T/loadgen" "$SOCKEYED" \
	"$SOCKEYE_PASSWD" "$T/work"
