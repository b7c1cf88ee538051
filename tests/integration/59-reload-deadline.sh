#!/bin/sh
# SPDX-License-Identifier: ISC
# 59-reload-deadline: a reload's old generation drains with a deadline.
# With reload_drain_timeout_s = 5, a relayed session held open across a
# SIGHUP is closed by the old worker about 5 s after the switch, and its
# access line says end=reload-deadline; meanwhile new sessions are
# served by the new generation, and a session held on the new generation
# is not touched. The key reloads: a reload to 0 ends the sessions of the
# generation it retires at once (within 4 s, for a loaded machine: well
# before the 5 s the retired generation's own value would give it).
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"

require_python

start_server echo echo
ECHO=$SERVER_PORT

write_conf "$T/sockeye.conf" 'reload_drain_timeout_s = 5;' \
	'shutdown_timeout_s = 1;'
start_sockeye "$T/sockeye.conf"
wait_log 10 'sockeyed .* started with 2 workers' || fail "no start line"

hold_session old "$ECHO"
wait_for 20 hold_ready old || fail "held session not started: $(cat "$T/old.log")"

START=$(now)
reload_sockeye
[ "$RELOAD_RESULT" = done ] || fail "reload failed"

# New sessions are served while the old generation drains.
OUT=$(probe --dst "127.0.0.1:$ECHO" --send fresh --expect-echo) || fail "probe: $OUT"
expect_line "$OUT" '^echo=ok$' "new session after the reload"
hold_session new "$ECHO"
wait_for 20 hold_ready new || fail "session on the new generation not started: $(cat "$T/new.log")"

wait_for 20 hold_closed old || fail "the old session is still open 20 s after the reload"
TOOK=$(awk -v a="$START" -v b="$(hold_closed_at old)" 'BEGIN { printf "%.2f", b - a }')
note "old session closed ${TOOK}s after SIGHUP (reload_drain_timeout_s = 5)"
below 4.8 "$TOOK" || fail "the old session was closed ${TOOK}s after SIGHUP, before the 5 s deadline"
below "$TOOK" 12 || fail "the old session was closed only ${TOOK}s after SIGHUP"

LINE=$(wait_access 'cmd=connect' 'bytes_up=4 ' 'end=reload-deadline')
field_ok "$LINE" "dst=127.0.0.1:$ECHO"
field_ok "$LINE" 'rep=0'
wait_log 5 'generation 1: drain deadline reached: ending 1 sessions' ||
	fail "no log line for the drain deadline"

# The new generation's session is untouched, and new sessions still work.
sleep 1
hold_closed new && fail "the session on the new generation was closed too"
OUT=$(probe --dst "127.0.0.1:$ECHO" --send later --expect-echo) || fail "probe: $OUT"
expect_line "$OUT" '^echo=ok$' "new session after the deadline"
[ "$(log_count 'access .*end=reload-deadline')" -eq 1 ] ||
	fail "want exactly one end=reload-deadline line: $(grep -c 'end=reload-deadline' "$T/sockeyed.log")"

# The key reloads: a reload to reload_drain_timeout_s = 0 retires
# generation 2 with that value, so its session ends as soon as
# generation 3 serves.
write_conf "$T/sockeye.conf" 'reload_drain_timeout_s = 0;' \
	'shutdown_timeout_s = 1;'
START=$(now)
reload_sockeye
[ "$RELOAD_RESULT" = done ] || fail "second reload failed"
wait_for 10 hold_closed new || fail "reload_drain_timeout_s = 0: the generation 2 session is still open"
TOOK=$(awk -v a="$START" -v b="$(hold_closed_at new)" 'BEGIN { printf "%.2f", b - a }')
note "reload_drain_timeout_s = 0: generation 2 session closed ${TOOK}s after SIGHUP"
below "$TOOK" 4 || fail "reload_drain_timeout_s = 0 took ${TOOK}s to close the old session"
wait_for 5 _log_has 'access .*end=reload-deadline' 2 || fail "no second end=reload-deadline line"
OUT=$(probe --dst "127.0.0.1:$ECHO" --send third --expect-echo) || fail "probe: $OUT"
expect_line "$OUT" '^echo=ok$' "new session after the second reload"
exit 0
