#!/bin/sh
# SPDX-License-Identifier: ISC
# balancer: sessions per second, and the proxies' CPU per session, with
# HAProxy in front of several sockeyed instances (README.md, "Running
# several instances") next to one instance on its own, in the same run,
# on loopback:
#
#   direct            no proxy: loadgen straight to the echo server (the
#                     ceiling of the load generator on this machine)
#   one instance      sockeyed, a worker per CPU, a plain listener: the
#                     figure the others are a ratio to
#   3 x, 1 worker     HAProxy (TCP mode, leastconn, send-proxy-v2 with
#                     its checks, as in the README) in front of three
#                     instances with proxy_protocol listeners, one
#                     worker each (as tests/integration/80-haproxy.sh)
#   3 x, default      the same, each instance with its default workers
#                     (one per CPU): the README's snippet sets none
#   HAProxy, 1 plain  HAProxy in front of one instance, plain listener,
#                     no PROXY header: what the extra hop costs
#   HAProxy, 1 PROXY  the same with send-proxy-v2 and a proxy_protocol
#                     listener: what the header costs the daemon
#
# Each session is tests/bench/loadgen.c's (built here with $CC): a
# greeting, a CONNECT to its echo server, 16 bytes echoed, a close;
# BENCH_CLIENTS clients (default 32), each opening sessions one after
# another, for BENCH_SECONDS (default 5) per run, in BENCH_ROUNDS
# interleaved rounds (default 3: every setup once, then again). Every
# process stays up for the whole run; a setup's CPU is the utime+stime
# of its sockeyed masters and workers and its HAProxy, from /proc, read
# before and after each run. The instances log an access line per
# session (to a file), as by default. Prints a Markdown table of medians
# (with the range); exit 0 when it was produced without an error (no
# goal is set), 1 on an error, 77 when haproxy or a C compiler is
# missing. Needs no root; about two and a half minutes.
#
# The setups' variables (PORT_S, LABEL_S, ...) are read through eval,
# and wait_for runs the small predicates below:
# shellcheck disable=SC2034,SC2154,SC2317
. "${srcdir:-.}/tests/integration/lib.sh"

SECS=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-32}
CC=${CC:-cc}

command -v haproxy >/dev/null 2>&1 || skip "haproxy not installed (apt-get install haproxy)"
command -v "$CC" >/dev/null 2>&1 || skip "no C compiler ($CC) to build loadgen.c"
require_python
"$CC" -O2 -Wall -Wextra -o "$T/loadgen" "$srcdir/tests/bench/loadgen.c" \
	-lpthread 2>"$T/cc.log" || error "cannot build loadgen: $(cat "$T/cc.log")"

TICK=$(getconf CLK_TCK)
NCPU=$(nproc)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

port_open() {
	"$PYTHON" -c 'import socket, sys
s = socket.socket()
s.settimeout(0.5)
sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))) != 0)' "$1"
}
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# cpu_ticks PID...: utime+stime (and that of reaped children) of each
# PID and its children (a master's workers), in clock ticks.
cpu_ticks() {
	for _p in "$@"; do
		echo "$_p"
		pgrep -P "$_p" 2>/dev/null || true
	done | while read -r _q; do
		cat "/proc/$_q/stat" 2>/dev/null || true
	done | awk '{ t += $14 + $15 + $16 + $17 } END { print t + 0 }'
}

_port_line() { [ -s "$1" ] && grep -qE '^[0-9.]+:[0-9]+$' "$1"; }
_workers_up() { [ "$(child_pids "$1" | wc -l)" -ge "$2" ]; }

# instance NAME WORKERS plain|proxy: a sockeyed on 127.0.0.1, port 0,
# with a plain or a proxy_protocol listener (trusting 127.0.0.1, where
# HAProxy connects from); sets INST_PID and INST_PORT. Its log (access
# lines included) goes to $T/NAME.log, opened for appending so that it
# can be emptied between runs.
instance() {
	if [ "$3" = proxy ]; then
		_l='listen = [ ];'
		_pp='proxy_protocol = { listen = [ "127.0.0.1:0" ]; trusted = [ "127.0.0.1" ]; };'
	else
		_l='listen = [ "127.0.0.1:0" ];'
		_pp='# no proxy_protocol listener'
	fi
	write_conf "$T/$1.conf" "$_l" "$_pp" "workers = $2;" \
		"pid_file = \"$T/$1.pid\";" \
		'log = { target = "stderr"; level = "info"; access = true; };'
	rm -f "$T/$1.ports"
	"$SOCKEYED" -F -f "$T/$1.conf" -P "$T/$1.ports" </dev/null 2>>"$T/$1.log" &
	INST_PID=$!
	echo "$INST_PID" >"$T/pids/sock-$1"
	wait_for 10 _port_line "$T/$1.ports" || {
		proc_alive "$INST_PID" || fail "sockeyed $1 exited: $(tail -n 5 "$T/$1.log")"
		fail "sockeyed $1: no listener after 10 s"
	}
	_n=$2
	[ "$_n" -gt 0 ] || _n=$NCPU
	wait_for 10 _workers_up "$INST_PID" "$_n" ||
		fail "sockeyed $1: not $_n workers after 10 s"
	# The workers too, for clean-up should the master die first.
	child_pids "$INST_PID" >>"$T/pids/sock-$1"
	INST_PORT=$(sed -n '1s/.*:\([0-9][0-9]*\)$/\1/p' "$T/$1.ports")
}

# balancer NAME plain|proxy PORT...: HAProxy in TCP mode on a free
# loopback port in front of the servers on PORT..., as README.md's
# snippet has it (leastconn, retries, redispatch, health checks every
# 2 s), with send-proxy-v2 and check-send-proxy for "proxy"; HAProxy's
# own defaults otherwise (a thread per CPU). Sets HAP_PID and HAP_PORT.
balancer() {
	_name=$1
	_srv='check inter 2s'
	[ "$2" = proxy ] && _srv='send-proxy-v2 check check-send-proxy inter 2s'
	shift 2
	HAP_PORT=$(free_port)
	{
		cat <<EOF
global
	maxconn 1000
defaults
	mode tcp
	timeout connect 5s
	timeout client 30s
	timeout server 30s
	retries 3
	option redispatch
frontend socks
	bind 127.0.0.1:$HAP_PORT
	default_backend sockeye
backend sockeye
	balance leastconn
	default-server $_srv
EOF
		_i=0
		for _sp in "$@"; do
			_i=$((_i + 1))
			printf '\tserver s%d 127.0.0.1:%s\n' "$_i" "$_sp"
		done
	} >"$T/$_name.cfg"
	haproxy -c -f "$T/$_name.cfg" >"$T/$_name-check.log" 2>&1 ||
		error "haproxy refuses $_name.cfg: $(cat "$T/$_name-check.log")"
	bg "$_name" haproxy -db -f "$T/$_name.cfg"
	HAP_PID=$BG_PID
	wait_for 10 port_open "$HAP_PORT" || {
		proc_alive "$HAP_PID" || fail "haproxy $_name exited: $(cat "$T/$_name.log")"
		fail "haproxy $_name does not listen after 10 s"
	}
}

# --- the setups ------------------------------------------------------------
# For each setup S: PORT_S (where loadgen connects; - for direct),
# SOCK_S (its sockeyed masters), HAP_S (its HAProxy, or -), INST_S (the
# names of its instances), LABEL_S.

_start_helper echo "$T/echo.port" "$T/loadgen" serve "$T/echo.port" "$T/source.port"
ECHO=$HELPER_PORT

SETUPS="direct one hap3w1 hap3wd hap1 hap1pp"
PORT_direct=-; SOCK_direct=; HAP_direct=-; INST_direct=
LABEL_direct="direct loopback, no proxy"

instance one 0 plain
PORT_one=$INST_PORT; SOCK_one=$INST_PID; HAP_one=-; INST_one=one
LABEL_one="1 sockeyed, $NCPU workers, plain listener"

SOCK_hap3w1=; _ports=
for i in 1 2 3; do
	instance "w1s$i" 1 proxy
	SOCK_hap3w1="$SOCK_hap3w1 $INST_PID"
	_ports="$_ports $INST_PORT"
done
# shellcheck disable=SC2086
balancer hap3w1 proxy $_ports
PORT_hap3w1=$HAP_PORT; HAP_hap3w1=$HAP_PID; INST_hap3w1="w1s1 w1s2 w1s3"
LABEL_hap3w1="HAProxy + 3 sockeyed, PROXY v2, 1 worker each"

SOCK_hap3wd=; _ports=
for i in 1 2 3; do
	instance "wds$i" 0 proxy
	SOCK_hap3wd="$SOCK_hap3wd $INST_PID"
	_ports="$_ports $INST_PORT"
done
# shellcheck disable=SC2086
balancer hap3wd proxy $_ports
PORT_hap3wd=$HAP_PORT; HAP_hap3wd=$HAP_PID; INST_hap3wd="wds1 wds2 wds3"
LABEL_hap3wd="HAProxy + 3 sockeyed, PROXY v2, $NCPU workers each"

instance plain1 0 plain
SOCK_hap1=$INST_PID
balancer hap1 plain "$INST_PORT"
PORT_hap1=$HAP_PORT; HAP_hap1=$HAP_PID; INST_hap1=plain1
LABEL_hap1="HAProxy + 1 sockeyed, no PROXY header, $NCPU workers"

instance proxy1 0 proxy
SOCK_hap1pp=$INST_PID
balancer hap1pp proxy "$INST_PORT"
PORT_hap1pp=$HAP_PORT; HAP_hap1pp=$HAP_PID; INST_hap1pp=proxy1
LABEL_hap1pp="HAProxy + 1 sockeyed, PROXY v2, $NCPU workers"

# --- measuring ---------------------------------------------------------------

# run S [warm]: one run of setup S; appends "RATE CPU_US HAP_US" (per
# second; proxy and HAProxy CPU microseconds per session, - when there
# is none) to $T/res.S, and each instance's access lines to
# $T/count.NAME. A warm-up run (1 s) records nothing.
run() {
	eval "_port=\$PORT_$1 _sock=\$SOCK_$1 _hap=\$HAP_$1 _inst=\$INST_$1"
	_secs=$SECS
	[ "${2:-}" = warm ] && _secs=1
	_via=
	[ "$_port" = - ] || _via="--proxy $_port"
	_pids=$_sock
	[ "$_hap" = - ] || _pids="$_pids $_hap"
	_c0=0; _h0=0
	# shellcheck disable=SC2086
	[ -n "$_pids" ] && _c0=$(cpu_ticks $_pids)
	[ "$_hap" = - ] || _h0=$(cpu_ticks "$_hap")
	# shellcheck disable=SC2086
	bg load timeout $((_secs + 60)) "$T/loadgen" sessions $_via \
		--port "$ECHO" --clients "$CLIENTS" --seconds "$_secs"
	_rc=0
	wait "$BG_PID" || _rc=$?
	rm -f "$T/pids/load"
	[ $_rc -eq 0 ] || fail "$1: loadgen exited with status $_rc: $(cat "$T/load.log")"
	# The last sessions' ends (their access lines) are the proxies' work.
	sleep 0.5
	_c1=0; _h1=0
	# shellcheck disable=SC2086
	[ -n "$_pids" ] && _c1=$(cpu_ticks $_pids)
	[ "$_hap" = - ] || _h1=$(cpu_ticks "$_hap")
	_out=$(cat "$T/load.out")
	_n=$(field "$_out" sessions)
	_rate=$(field "$_out" per_s)
	[ "${_n:-0}" -gt 0 ] || fail "$1: no sessions: $_out"
	for _i in $_inst; do
		_a=$(grep -c ' info: access ' "$T/$_i.log" || true)
		if [ "${2:-}" != warm ]; then
			echo "$_a" >>"$T/count.$_i"
			# An access line through a PROXY header names the balancer.
			case $_i in
			w*|proxy1)
				_v=$(grep ' info: access ' "$T/$_i.log" | grep -c ' via=127\.0\.0\.1:' || true)
				[ "$_v" = "$_a" ] ||
					fail "$_i: $_a access lines, $_v with via=: $(grep ' info: access ' "$T/$_i.log" | head -n 1)" ;;
			esac
		fi
		grep -v ' info: access ' "$T/$_i.log" >>"$T/$_i.other" || true
		: >"$T/$_i.log"
	done
	[ "${2:-}" = warm ] && return 0
	if [ -n "$_pids" ]; then
		_cpu=$(awk -v t=$((_c1 - _c0)) -v n="$_n" -v k="$TICK" 'BEGIN { printf "%.1f", t * 1e6 / k / n }')
	else
		_cpu=-
	fi
	if [ "$_hap" != - ]; then
		_hcpu=$(awk -v t=$((_h1 - _h0)) -v n="$_n" -v k="$TICK" 'BEGIN { printf "%.1f", t * 1e6 / k / n }')
	else
		_hcpu=-
	fi
	echo "$_rate $_cpu $_hcpu" >>"$T/res.$1"
	note "round $_r $1: $_rate sessions/s, proxy CPU $_cpu us/session (HAProxy $_hcpu)"
}

# Every path once, so that no setup pays for a cold start (HAProxy's
# first checks, the workers' first sessions).
_r=0
for s in $SETUPS; do
	run "$s" warm
done
_r=1
while [ $_r -le "$ROUNDS" ]; do
	for s in $SETUPS; do
		run "$s"
	done
	_r=$((_r + 1))
done
for s in $SETUPS; do
	eval "_hap=\$HAP_$s"
	[ "$_hap" = - ] || proc_alive "$_hap" || fail "haproxy $s died: $(cat "$T/$s.log")"
done

# --- the table ------------------------------------------------------------------

# med3 FILE COLUMN: "MEDIAN MIN MAX" of a column (- when none).
med3() {
	awk -v c="$2" '$c != "-" { v[++n] = $c + 0 }
		END {
			if (n == 0) { print "- - -"; exit }
			for (i = 2; i <= n; i++) {
				x = v[i]
				for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]
				v[j + 1] = x
			}
			m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
			print m, v[1], v[n]
		}' "$1"
}

# shellcheck disable=SC2046
set -- $(med3 "$T/res.one" 1)
ONE=$1
BUILD=release
grep -q -- '-fsanitize=address' "$(dirname "$SOCKEYED")/Makefile" 2>/dev/null &&
	BUILD="ASan+UBSan"
echo "sockeyed $("$SOCKEYED" -V | awk '{ print $2 }') ($BUILD), $(haproxy -v | sed -n '1s/^HA-*Proxy version \([^ ]*\).*/\1/p') (TCP mode, a thread per CPU),"
echo "$NCPU CPUs ($(uname -r)), load and proxies sharing them; $CLIENTS clients, $ROUNDS rounds of $SECS s,"
echo "medians (min-max). Load average (1, 5, 15 min) before: $LOAD0; after: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| setup | sessions/s | ratio to one instance | proxy CPU-µs per session | of which HAProxy |"
echo "| --- | ---: | ---: | ---: | ---: |"
for s in $SETUPS; do
	eval "_label=\$LABEL_$s"
	# shellcheck disable=SC2046
	set -- $(med3 "$T/res.$s" 1)
	_rate=$(printf '%.0f (%.0f-%.0f)' "$1" "$2" "$3")
	_ratio=$(awk -v a="$1" -v b="$ONE" 'BEGIN { printf "%.2f", a / b }')
	# shellcheck disable=SC2046
	set -- $(med3 "$T/res.$s" 2)
	_cpu=-
	[ "$1" = - ] || _cpu=$(printf '%.0f (%.0f-%.0f)' "$1" "$2" "$3")
	# shellcheck disable=SC2046
	set -- $(med3 "$T/res.$s" 3)
	_hcpu=-
	[ "$1" = - ] || _hcpu=$(printf '%.0f (%.0f-%.0f)' "$1" "$2" "$3")
	echo "| $_label | $_rate | $_ratio | $_cpu | $_hcpu |"
done
echo
for s in hap3w1 hap3wd; do
	eval "_label=\$LABEL_$s _inst=\$INST_$s"
	_line=
	for _i in $_inst; do
		_line="$_line $(awk '{ t += $1 } END { print t + 0 }' "$T/count.$_i")"
	done
	echo "Sessions per instance, $_label:$_line"
done

# Stopped in order: HAProxy, then each master (which stops its workers);
# the clean-up trap covers the other ways out.
for s in $SETUPS; do
	eval "_hap=\$HAP_$s"
	[ "$_hap" = - ] || { kill_pid "$_hap"; rm -f "$T/pids/$s"; }
done
for _f in "$T"/pids/sock-*; do
	_m=$(head -n 1 "$_f")
	kill -TERM "$_m" 2>/dev/null || true
	wait_for 10 proc_gone "$_m" || fail "sockeyed $_m still running 10 s after SIGTERM"
	rm -f "$_f"
done
exit 0
