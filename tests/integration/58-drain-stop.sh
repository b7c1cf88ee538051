#!/bin/sh
# SPDX-License-Identifier: ISC
# 58-drain-stop: what happens to the sessions of an old generation.
# A reload that also changes `workers` (1 -> 3) starts 3 new workers; the
# old worker holding an idle session drains with no deadline: it is still
# there, its session alive, long after shutdown_timeout_s. SIGTERM then
# puts the deadline on every generation: the old session ends with its
# access line (end=shutdown) and every process is gone soon after
# shutdown_timeout_s (1 s; the bound is 6 s, for a loaded machine: the
# session would hold the old worker 40 s). A second run: a second SIGTERM
# ends the drain at once (bound 10 s; shutdown_timeout_s is 30 s there).
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"

require_python

start_server echo echo
ECHO=$SERVER_PORT
write_conf "$T/sockeye.conf" 'workers = 1;' 'shutdown_timeout_s = 1;' \
	"status_socket = \"$T/status.sock\";"
start_sockeye "$T/sockeye.conf"
wait_log 10 'started with 1 workers' || fail "no start line"
OLD=$(worker_pids)

bg idle timeout 60 "$PYTHON" "$HELPERS/socks5probe.py" -p "$SOCKS_PORT" \
	--dst "127.0.0.1:$ECHO" --send "idle" --expect-echo --hold 40
wait_for 10 grep -q '^echo=ok$' "$T/idle.out" || fail "idle session did not start"

write_conf "$T/sockeye.conf" 'workers = 3;' 'shutdown_timeout_s = 1;' \
	"status_socket = \"$T/status.sock\";"
reload_sockeye
[ "$RELOAD_RESULT" = done ] || fail "reload failed"
four() { [ "$(worker_count)" -eq 4 ]; }
wait_for 5 four || fail "want 3 new workers and the old one: $(worker_pids | tr '\n' ' ')"

# Well past shutdown_timeout_s: the old worker and its session live on.
sleep 2.5
proc_alive "$OLD" || fail "the old worker did not wait for its session"
grep -q '^closed' "$T/idle.out" && fail "the idle session was closed by the reload"
STATE=$(statusq "$T/status.sock" workers | "$PYTHON" -c '
import json, sys
for w in json.load(sys.stdin):
    if w["pid"] == int(sys.argv[1]):
        print(w["state"], w["sessions"], w["generation"])' "$OLD")
[ "$STATE" = "draining 1 1" ] || fail "old worker's status: '$STATE'"
OUT=$(probe --dst "127.0.0.1:$ECHO" --send new --expect-echo) || fail "probe: $OUT"
expect_line "$OUT" '^echo=ok$' "a new session during the drain"

ALL=$(worker_pids)
START=$(now)
kill -TERM "$SOCKEYED_PID"
all_gone() {
	proc_alive "$SOCKEYED_PID" && return 1
	for _w in $ALL; do
		proc_alive "$_w" && return 1
	done
	return 0
}
wait_for 10 all_gone || fail "still running 10 s after SIGTERM"
TOOK=$(elapsed "$START")
note "all gone ${TOOK}s after SIGTERM"
below "$TOOK" 6 || fail "took ${TOOK}s, want < shutdown_timeout_s + 5"
STATUS=0
wait "$SOCKEYED_PID" || STATUS=$?
rm -f "$T/pids/sockeyed"
[ $STATUS -eq 0 ] || fail "exit status $STATUS"
wait_for 5 grep -q '^closed' "$T/idle.out" || fail "the idle session was not closed"
grep -Eq 'access .*rep=0 .*end=shutdown' "$T/sockeyed.log" ||
	fail "no end=shutdown access line for the old generation's session"
grep -q 'killed by signal' "$T/sockeyed.log" &&
	fail "a worker had to be killed: $(grep 'killed by signal' "$T/sockeyed.log")"

# --- A second SIGTERM stops at once.
mv "$T/sockeyed.log" "$T/first-run.txt"
write_conf "$T/sockeye.conf" 'workers = 1;' 'shutdown_timeout_s = 30;'
start_sockeye "$T/sockeye.conf"
rm -f "$T/idle.out"
bg idle2 timeout 60 "$PYTHON" "$HELPERS/socks5probe.py" -p "$SOCKS_PORT" \
	--dst "127.0.0.1:$ECHO" --send "idle" --expect-echo --hold 40
wait_for 10 grep -q '^echo=ok$' "$T/idle2.out" || fail "idle session 2 did not start"
ALL=$(worker_pids)
kill -TERM "$SOCKEYED_PID"
wait_log 5 'stopping: draining' || fail "no 'stopping' line"
sleep 0.3
proc_alive "$SOCKEYED_PID" || fail "gone after one SIGTERM despite a 30 s timeout"
START=$(now)
kill -TERM "$SOCKEYED_PID"
wait_for 10 all_gone || fail "still running 10 s after the second SIGTERM"
note "gone $(elapsed "$START")s after the second SIGTERM"
wait "$SOCKEYED_PID" || true
rm -f "$T/pids/sockeyed"
grep -q 'second stop signal' "$T/sockeyed.log" || fail "no 'second stop signal' line"
exit 0
