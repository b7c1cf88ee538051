# SPDX-License-Identifier: ISC
# lib-ops.sh - sourced (after lib.sh) by the operations tests
# tests/integration/5N-*.sh: reload, signals, daemon mode, status.
#
# Gives: reload_sockeye (SIGHUP and wait for the master's verdict),
# log_count/wait_log (lines of the daemon's log), statusq (the status
# socket's JSON, via tests/helpers/statusq.py), and access-log sums.

# log_count REGEX [FILE]: how many lines of the daemon's log match.
log_count() {
	grep -Ec -- "$1" "${2:-$T/sockeyed.log}" 2>/dev/null || true
}

# wait_log SECONDS REGEX [N] [FILE]: wait until at least N (default 1)
# lines of the log match REGEX.
_log_has() { [ "$(log_count "$1" "${3:-}")" -ge "$2" ]; }
wait_log() {
	wait_for "$1" _log_has "$2" "${3:-1}" "${4:-}"
}

# reload_sockeye: SIGHUP the master, wait up to 10 s for the outcome, and
# set RELOAD_RESULT to "done" or "failed" (fails the test on neither).
reload_sockeye() {
	_rs_done=$(log_count 'reload done: generation')
	_rs_failed=$(log_count 'reload (failed|refused)')
	kill -HUP "$SOCKEYED_PID"
	_rs_i=0
	while :; do
		if [ "$(log_count 'reload done: generation')" -gt "$_rs_done" ]; then
			RELOAD_RESULT=done
			break
		fi
		if [ "$(log_count 'reload (failed|refused)')" -gt "$_rs_failed" ]; then
			RELOAD_RESULT=failed
			break
		fi
		_rs_i=$((_rs_i + 1))
		[ $_rs_i -le 100 ] || fail "no reload outcome in the log 10 s after SIGHUP"
		sleep 0.1
	done
	# New workers, for cleanup if the master dies first.
	child_pids "$SOCKEYED_PID" >>"$T/pids/workers"
}

# statusq SOCKET [PATH...]: the status socket's answer (see statusq.py).
statusq() {
	timeout 20 "$PYTHON" "$HELPERS/statusq.py" "$@"
}

# access_sum FIELD REGEX...: the sum of FIELD (bytes_up, bytes_down) over
# the access lines that match every REGEX.
access_sum() {
	_as_field=$1
	shift
	grep -E ' info: access ' "$T/sockeyed.log" >"$T/asum.tmp" || true
	for _as in "$@"; do
		grep -E -- "$_as" "$T/asum.tmp" >"$T/asum.tmp2" || true
		mv "$T/asum.tmp2" "$T/asum.tmp"
	done
	tr ' ' '\n' <"$T/asum.tmp" | sed -n "s/^$_as_field=//p" |
		awk '{ s += $1 } END { printf "%d\n", s }'
}

# now: seconds since the epoch, with fractions.
now() { date +%s.%N; }

# elapsed START: seconds since START (two decimals).
elapsed() {
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'
}

# below A B: A < B (decimals).
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# hold_session NAME DST_PORT: in the background (bg NAME), one SOCKS5
# session without authentication through the first listener to
# 127.0.0.1:DST_PORT (an echo server): it echoes "ping" once, writes
# "ready" to $T/NAME.state, then holds the session open, idle, until the
# proxy ends it (or 600 s pass), and appends "closed SECONDS-SINCE-EPOCH"
# when it sees the EOF or the reset. hold_ready NAME / hold_closed NAME
# test those states.
hold_session() {
	bg "$1" "$PYTHON" -c '
import socket, struct, sys, time
port, dst, state = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=30)
def need(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise SystemExit("proxy closed during the handshake")
        b += c
    return b
s.sendall(b"\x05\x01\x00")
if need(2) != b"\x05\x00":
    raise SystemExit("method refused")
s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", dst))
rep = need(10)
if rep[1] != 0:
    raise SystemExit("REP %d" % rep[1])
s.sendall(b"ping")
if need(4) != b"ping":
    raise SystemExit("no echo")
with open(state, "w") as f:
    f.write("ready\n")
s.settimeout(600)
try:
    while s.recv(4096):
        pass
except (ConnectionResetError, socket.timeout):
    pass
with open(state, "a") as f:
    f.write("closed %.3f\n" % time.time())
' "$SOCKS_PORT" "$2" "$T/$1.state"
}
hold_ready() { grep -q '^ready$' "$T/$1.state" 2>/dev/null; }
hold_closed() { grep -q '^closed ' "$T/$1.state" 2>/dev/null; }
# hold_closed_at NAME: when it saw the end (seconds since the epoch).
hold_closed_at() { sed -n 's/^closed //p' "$T/$1.state"; }
