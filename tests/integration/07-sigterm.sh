#!/bin/sh
# SPDX-License-Identifier: ISC
# 07-sigterm: with one idle session open and one finished, SIGTERM the
# master: it and every worker are gone soon after shutdown_timeout_s (2 s;
# the bound is 7 s, for a loaded machine: the idle session would keep
# them 30 s), the master's exit status is 0, the idle session is ended by
# its worker with an access line, and the log says it stopped.
. "${srcdir:-.}/tests/integration/lib.sh"

start_server echo echo
ECHO=$SERVER_PORT
write_conf "$T/sockeye.conf" 'shutdown_timeout_s = 2;'
start_sockeye "$T/sockeye.conf"
WORKERS=$(worker_pids)
[ -n "$WORKERS" ] || fail "no workers under master $SOCKEYED_PID"

# A finished session.
OUT=$(probe --dst "127.0.0.1:$ECHO" --send "done" --expect-echo) || fail "probe: $OUT"
expect_line "$OUT" '^echo=ok$' "finished session"

# An idle session: connected, one echo, then holds the connection open
# (up to 30 s, or until the proxy closes it).
bg idle timeout 60 "$PYTHON" "$HELPERS/socks5probe.py" -p "$SOCKS_PORT" \
	--dst "127.0.0.1:$ECHO" --send "idle" --expect-echo --hold 30
IDLE_PID=$BG_PID
wait_for 10 grep -q '^echo=ok$' "$T/idle.out" ||
	fail "idle session did not start: $(cat "$T/idle.out" "$T/idle.log")"

START=$(date +%s.%N)
kill -TERM "$SOCKEYED_PID"

# Everything gone within shutdown_timeout_s + 5 = 7 s (polled up to 10 s
# so that a late exit is measured, not just missed).
all_gone() {
	proc_alive "$SOCKEYED_PID" && return 1
	for _w in $WORKERS; do
		proc_alive "$_w" && return 1
	done
	return 0
}
wait_for 10 all_gone || {
	left=
	for w in $SOCKEYED_PID $WORKERS; do proc_alive "$w" && left="$left $w"; done
	fail "still running 10 s after SIGTERM:$left"
}
END=$(date +%s.%N)
ELAPSED=$(awk -v a="$START" -v b="$END" 'BEGIN { printf "%.2f", b - a }')
awk -v e="$ELAPSED" 'BEGIN { exit !(e <= 7) }' ||
	fail "took ${ELAPSED}s to exit after SIGTERM, want <= 7 s"
note "exited ${ELAPSED}s after SIGTERM"

STATUS=0
wait "$SOCKEYED_PID" || STATUS=$?
rm -f "$T/pids/sockeyed"
[ $STATUS -eq 0 ] || fail "exit status $STATUS after SIGTERM, want 0"

# The idle session was closed by the shutdown, not left hanging.
wait_for 5 grep -q '^closed' "$T/idle.out" ||
	fail "the idle session was not closed: $(cat "$T/idle.out")"

# Every session has its access line, the one cut by the shutdown too:
# the worker ends it itself at shutdown_timeout_s, no SIGKILL needed.
grep -Eq 'access .*cmd=connect .*rep=0 .*end=shutdown' "$T/sockeyed.log" ||
	fail "no access line with end=shutdown for the idle session"
[ "$(grep -c 'access .*cmd=connect' "$T/sockeyed.log")" -eq 2 ] ||
	fail "want 2 access lines: $(grep 'access ' "$T/sockeyed.log")"
grep -q 'killed by signal' "$T/sockeyed.log" &&
	fail "a worker had to be killed: $(grep 'killed by signal' "$T/sockeyed.log")"

grep -Eiq 'stopped|stopping|exiting|shut(ting)? ?down|terminat' "$T/sockeyed.log" ||
	fail "the log does not say the daemon stopped"

exit 0
