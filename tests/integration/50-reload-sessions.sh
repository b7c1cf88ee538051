#!/bin/sh
# SPDX-License-Identifier: ISC
# 50-reload-sessions: SIGHUP while 50 authenticated sessions are relaying.
# A user added to the users file just before can log in right after the
# reload (timed); the old generation stops accepting but drains: its 50
# sessions go on relaying past shutdown_timeout_s (no deadline on a
# reload's drain) and all complete with exactly the data they sent; then
# the old workers exit by themselves. Access lines and the status socket
# agree with what the client counted.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"

require_python

start_server echo echo
ECHO=$SERVER_PORT

PW='alice pass:1'
PW2='newbie-secret-2'
mkuser "$T/users" alice "$PW"
write_conf "$T/sockeye.conf" \
	"auth = { methods = [ \"password\" ]; users_file = \"$T/users\"; };" \
	'shutdown_timeout_s = 1;' \
	'log = { target = "stderr"; level = "verbose"; access = true; };' \
	"status_socket = \"$T/status.sock\";"
start_sockeye "$T/sockeye.conf"
wait_log 10 'sockeyed .* started with 2 workers' || fail "no start line"
OLD=$(worker_pids)
[ "$(printf '%s\n' "$OLD" | grep -c .)" -eq 2 ] || fail "want 2 workers: $OLD"

# 50 sessions, relaying until $T/go exists, then 10 chunks more each.
bg load env SOCKEYE_PASSWORD="$PW" "$PYTHON" "$HELPERS/sessions.py" \
	-p "$SOCKS_PORT" --dst "127.0.0.1:$ECHO" -n 50 -u alice \
	--ready "$T/ready" --go "$T/go" --after 10 --timeout 90
wait_for 60 test -s "$T/ready" || fail "sessions not started: $(cat "$T/load.out" "$T/load.log")"
[ "$(cat "$T/ready")" = 50 ] || fail "only $(cat "$T/ready") of 50 sessions started: $(cat "$T/load.out")"

# A new user, then the reload.
mkuser "$T/users" newbie "$PW2"
START=$(now)
kill -HUP "$SOCKEYED_PID"
newbie_in() {
	OUT=$(authc "$PW2" -m password -u newbie --dst "127.0.0.1:$ECHO" \
		--send "hello from newbie" --timeout 5)
	printf '%s\n' "$OUT" | grep -q '^echo=ok$'
}
# (Polled for longer than the bound, so that a late login is measured.)
wait_for 15 newbie_in || fail "the new user cannot log in after the reload: $OUT"
TOOK=$(elapsed "$START")
note "new user logged in ${TOOK}s after SIGHUP"
below "$TOOK" 6 || fail "the reload took ${TOOK}s to let the new user in"
wait_log 10 'reload done: generation 2' || fail "no 'reload done' line"

# Past shutdown_timeout_s: the old workers still relay their sessions.
sleep 2
for p in $OLD; do
	proc_alive "$p" || fail "old worker $p exited while its sessions were relaying"
done
[ "$(statusq "$T/status.sock" generation)" = 2 ] || fail "status: generation is not 2"
DRAINING=$(statusq "$T/status.sock" workers | "$PYTHON" -c '
import json, sys
w = json.load(sys.stdin)
print(sum(x["sessions"] for x in w if x["state"] == "draining"))')
[ "$DRAINING" -eq 50 ] || fail "status: $DRAINING sessions on draining workers, want 50"

touch "$T/go"
wait_for 120 grep -q '^sessions=' "$T/load.out" || fail "sessions did not finish"
grep -q '^sessions=50 ok=50 ' "$T/load.out" ||
	fail "not every session completed: $(head -n 12 "$T/load.out")"
BYTES=$(sed -n 's/^sessions=50 ok=50 bytes=//p' "$T/load.out")

# Drained: the old workers exit once their last session has ended.
old_gone() {
	for p in $OLD; do
		proc_alive "$p" && return 1
	done
	return 0
}
wait_for 10 old_gone || fail "old workers still running after their sessions ended"
[ "$(worker_count)" -eq 2 ] || fail "want 2 workers now: $(worker_pids | tr '\n' ' ')"
for p in $OLD; do
	worker_pids | grep -qx "$p" && fail "old worker $p is still a worker"
done

# Every session has its line, with the bytes the client counted.
wait_for 10 _log_has ' user=alice .*rep=0 .*end=closed' 50 ||
	fail "want 50 access lines for alice: $(log_count ' user=alice .*end=closed')"
[ "$(log_count ' user=alice .*rep=0 .*end=closed')" -eq 50 ] ||
	fail "more than 50 access lines for alice"
UP=$(access_sum bytes_up ' user=alice ')
DOWN=$(access_sum bytes_down ' user=alice ')
[ "$UP" = "$BYTES" ] && [ "$DOWN" = "$BYTES" ] ||
	fail "bytes: client sent $BYTES, access log says up $UP down $DOWN"
[ "$(log_count ' user=newbie .*rep=0 ')" -ge 1 ] || fail "no access line for newbie"
[ "$(statusq "$T/status.sock" users.alice.bytes_up)" = "$BYTES" ] ||
	fail "status: alice's bytes_up is not $BYTES"
[ "$(statusq "$T/status.sock" users.alice.sessions)" = 50 ] ||
	fail "status: alice's sessions are not 50"
grep -q 'killed by signal' "$T/sockeyed.log" &&
	fail "a worker was killed: $(grep 'killed by signal' "$T/sockeyed.log")"
proc_alive "$SOCKEYED_PID" || fail "the master died"
exit 0
