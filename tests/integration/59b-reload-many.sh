#!/bin/sh
# SPDX-License-Identifier: ISC
# 59b-reload-many: twenty reloads in a row, each once the previous one is
# in effect, with a long-lived session held open on every generation
# (reload_drain_timeout_s stays at its default, one hour). Worker slots
# are fixed at start (4 per worker, plus 4): the old generations that
# still hold sessions must not use them up. After every reload the new
# generation serves with all of its `workers`, and a new session works;
# no reload is refused or waits for a slot. When the draining generations
# hold too many slots, the oldest is closed early: that is logged, and
# its sessions end with end=reload-deadline.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"

require_python

start_server echo echo
ECHO=$SERVER_PORT

write_conf "$T/sockeye.conf" 'workers = 2;' 'shutdown_timeout_s = 1;' \
	"status_socket = \"$T/status.sock\";" \
	'log = { target = "stderr"; level = "verbose"; access = true; };'
start_sockeye "$T/sockeye.conf"
wait_log 10 'sockeyed .* started with 2 workers' || fail "no start line"

# serving GEN: how many workers of generation GEN are running (accepting).
serving() {
	statusq "$T/status.sock" workers | "$PYTHON" -c '
import json, sys
print(sum(1 for x in json.load(sys.stdin)
          if x["generation"] == int(sys.argv[1]) and x["state"] == "running"))' "$1"
}

i=1
while [ $i -le 20 ]; do
	hold_session "hold$i" "$ECHO"
	wait_for 20 hold_ready "hold$i" ||
		fail "reload $i: held session not started: $(cat "$T/hold$i.log")"
	reload_sockeye
	[ "$RELOAD_RESULT" = done ] || fail "reload $i failed or was refused"
	GEN=$((i + 1))
	wait_log 5 "reload done: generation $GEN is serving \\(2 of 2 workers ready\\)" ||
		fail "reload $i: generation $GEN did not take over with 2 of 2 workers"
	[ "$(statusq "$T/status.sock" generation)" = "$GEN" ] ||
		fail "reload $i: status generation is not $GEN"
	N=$(serving "$GEN")
	[ "$N" -eq 2 ] || fail "reload $i: $N workers of generation $GEN running, want 2"
	OUT=$(probe --dst "127.0.0.1:$ECHO" --send "after-$i" --expect-echo) ||
		fail "reload $i: probe: $OUT"
	expect_line "$OUT" '^echo=ok$' "new session after reload $i"
	i=$((i + 1))
done

[ "$(log_count 'reload (failed|refused)')" -eq 0 ] || fail "a reload failed or was refused"
[ "$(log_count 'worker slots are held|no free slot')" -eq 0 ] ||
	fail "new workers waited for a slot: $(grep -E 'worker slots are held|no free slot' "$T/sockeyed.log" | head -n 3)"

# The oldest draining generations were closed early to make room, said
# so, and their sessions ended with end=reload-deadline.
EARLY=$(log_count 'closing draining generation [0-9]+ early')
note "$EARLY draining generations closed early for slots"
[ "$EARLY" -ge 1 ] || fail "20 reloads with held sessions, and no generation closed early: slots cannot suffice"
wait_for 10 _log_has 'access .*end=reload-deadline' 1 || fail "no end=reload-deadline access line"
CLOSED=0
i=1
while [ $i -le 20 ]; do
	hold_closed "hold$i" && CLOSED=$((CLOSED + 1))
	i=$((i + 1))
done
DL=$(log_count 'info: access .*end=reload-deadline')
note "$CLOSED held sessions closed, $DL access lines with end=reload-deadline"
[ "$CLOSED" -eq "$DL" ] || fail "$CLOSED held sessions were closed, but $DL access lines say end=reload-deadline"
# The newest generations' sessions are still held: only old ones closed.
hold_closed hold20 && fail "the session held on generation 20 was closed"
hold_closed hold19 && fail "the session held on generation 19 was closed"
exit 0
