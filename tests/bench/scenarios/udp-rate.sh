#!/bin/sh
# SPDX-License-Identifier: ISC
# udp-rate: UDP datagrams per second through sockeyed's UDP ASSOCIATE
# next to danted's, on loopback. tests/helpers/udpload.py keeps
# BENCH_WINDOW datagrams (default 32) of 64 bytes in flight on each
# association to a UDP echo server (tests/helpers/udpecho.py), every
# answer sending the next one, for BENCH_SECONDS (default 10) per row;
# a round trip is two datagrams through the relay, one each way.
#
#   direct          no proxy: the load generator's and echo server's own
#                   ceiling on this machine
#   sockeyed, 1 / 4 one association, four (in one client process)
#   danted, 1 / 4   the same through danted (Debian's dante-server) with
#                   its defaults, when it is installed and we are root
#
# Both proxies run with their defaults (sockeyed: a worker per CPU).
# Prints a Markdown table; the goal: sockeyed relays at least as many
# datagrams per second as danted with one association (when danted ran).
# Exit 0 met, 1 missed, 77 cannot run here. About a minute.
. "${srcdir:-.}/tests/integration/lib.sh"
require_python

SECS=${BENCH_SECONDS:-10}
WIN=${BENCH_WINDOW:-32}

port_open() {
	"$PYTHON" -c 'import socket, sys
s = socket.socket()
s.settimeout(0.5)
sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))) != 0)' "$1"
}
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# cpu_us PID: CPU microseconds used by PID and its descendants so far.
cpu_us() {
	"$PYTHON" - "$1" <<'PY'
import os, sys
kids = {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            st = open("/proc/%s/stat" % d).read()
        except OSError:
            continue
        kids.setdefault(int(st[st.rindex(")") + 2:].split()[1]), []).append(int(d))
total, todo = 0, [int(sys.argv[1])]
while todo:
    p = todo.pop()
    todo.extend(kids.get(p, []))
    try:
        st = open("/proc/%d/stat" % p).read()
    except OSError:
        continue
    total += sum(int(x) for x in st[st.rindex(")") + 2:].split()[11:15])
print(total * 1000000 // os.sysconf("SC_CLK_TCK"))
PY
}

_start_helper echo "$T/echo.port" "$PYTHON" "$HELPERS/udpecho.py" \
	--port-file "$T/echo.port" --bind 127.0.0.1
E=$HELPER_PORT

# row LABEL PROXY|- ASSOCIATIONS [PID]: one measurement; sets RATE (round
# trips/s). With PID, the proxy's CPU per relayed datagram is shown too.
row() {
	_c0=; [ -n "${4:-}" ] && _c0=$(cpu_us "$4")
	if [ "$2" = - ]; then
		_o=$(timeout $((SECS + 30)) "$PYTHON" "$HELPERS/udpload.py" \
			--dst "127.0.0.1:$E" --seconds "$SECS" --window "$WIN") ||
			fail "$1: $_o"
	else
		_o=$(timeout $((SECS + 30)) "$PYTHON" "$HELPERS/udpload.py" \
			--proxy "$2" --dst "127.0.0.1:$E" --seconds "$SECS" \
			--window "$WIN" --associations "$3") || fail "$1: $_o"
	fi
	RATE=$(field "$_o" rate)
	[ -n "$RATE" ] || fail "$1: load generator said: $_o"
	_cpu=-
	if [ -n "$_c0" ] && [ "$RATE" -gt 0 ]; then
		_c1=$(cpu_us "$4")
		_cpu=$(awk -v c=$((_c1 - _c0)) -v n=$((RATE * 2 * SECS)) \
			'BEGIN { printf "%.2f", c / n }')
	fi
	printf '| %s | %s | %d | %d | %s | %s |\n' "$1" "$3" "$((RATE * 2))" \
		"$RATE" "$_cpu" "$(field "$_o" stalls)" >>"$T/table"
}

: >"$T/table"
row "direct (no proxy)" - 1

BUILD=release
grep -q -- '-fsanitize=address' "$(dirname "$SOCKEYED")/Makefile" 2>/dev/null &&
	BUILD="ASan+UBSan"
write_conf "$T/sockeye.conf" 'listen = [ "127.0.0.1:0" ];' 'workers = 0;' \
	'log = { target = "stderr"; level = "warning"; access = false; };'
start_sockeye "$T/sockeye.conf"
SV="sockeyed $("$SOCKEYED" -V | awk '{ print $2 }') ($BUILD)"
row "$SV" "127.0.0.1:$SOCKS_PORT" 1 "$SOCKEYED_PID"
S1=$RATE
row "$SV" "127.0.0.1:$SOCKS_PORT" 4 "$SOCKEYED_PID"
stop_sockeye

D1=
if ! command -v danted >/dev/null 2>&1; then
	note "danted not installed (apt-get install dante-server): its rows skipped"
elif [ "$(id -u)" != 0 ]; then
	note "not root: danted's rows skipped"
else
	DP=$(free_port)
	cat >"$T/danted.conf" <<EOF
logoutput: $T/danted.log
internal: 127.0.0.1 port = $DP
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0/0 }
socks pass { from: 0/0 to: 0/0 }
EOF
	bg danted danted -f "$T/danted.conf" -p "$T/danted.pid"
	wait_for 10 port_open "$DP" || error "danted did not start: $(tail -n 20 "$T/danted.log" 2>/dev/null)"
	DV=$(danted -v 2>&1 | sed -n 's/^Dante v\([0-9][0-9.]*[0-9]\).*/\1/p')
	row "danted ${DV:-?}" "127.0.0.1:$DP" 1 "$(cat "$T/pids/danted")"
	D1=$RATE
	row "danted ${DV:-?}" "127.0.0.1:$DP" 4 "$(cat "$T/pids/danted")"
	kill_pid "$(cat "$T/pids/danted")" || true
fi

echo "UDP through a SOCKS5 relay on loopback, $(nproc) CPUs, $SECS s a row,"
echo "$WIN datagrams of 64 bytes in flight per association ($(uname -r))"
echo
echo "| relay | associations | datagrams/s (both ways) | round trips/s | proxy CPU-µs per datagram | stalls |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
cat "$T/table"
echo
if [ -n "$D1" ]; then
	echo "sockeyed / danted, one association: $S1 / $D1 round trips per second"
	[ "$S1" -ge "$D1" ] || fail "sockeyed ($S1/s) below danted ($D1/s)"
fi
exit 0
