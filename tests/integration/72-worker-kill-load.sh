#!/bin/sh
# SPDX-License-Identifier: ISC
# 72-worker-kill-load: a worker SIGKILLed while 200 sessions relay: only
# the sessions it held are lost (the survivor's all finish, every byte
# echoed), a replacement runs and serves (the time from the kill is
# printed; the bound is generous, for sanitizers on a loaded machine),
# and no session is left active.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"
. "${srcdir:-.}/tests/integration/lib-faults.sh"
require_python
need_fds 4096

start_server echo echo
ECHO=$SERVER_PORT
S=$T/status.sock
write_conf "$T/sockeye.conf" \
	'limits = { max_sessions = 10000; max_sessions_per_client = 10000; };' \
	"status_socket = \"$S\";" \
	'log = { target = "stderr"; level = "debug"; access = true; };'
start_sockeye "$T/sockeye.conf"
wait_for 10 test -S "$S" || fail "no status socket"

# per_worker: "PID SESSIONS STATE" for each worker in the status.
per_worker() {
	statusq "$S" workers | "$PYTHON" -c '
import json, sys
for w in json.load(sys.stdin):
    print(w["pid"], w["sessions"], w["state"])'
}

bg sessions timeout 200 "$PYTHON" "$HELPERS/sessions.py" -p "$SOCKS_PORT" \
	--dst "127.0.0.1:$ECHO" -n 200 --ready "$T/ready" --go "$T/go" \
	--after 3 --timeout 120
wait_for 120 test -f "$T/ready" || fail "200 sessions not relaying in 120 s: $(cat "$T/sessions.log")"
_all_in() { [ "$(per_worker | awk '{ n += $2 } END { print n }')" = 200 ]; }
wait_for 10 _all_in || fail "status: $(per_worker | tr '\n' ' '), want 200 sessions in all"
VICTIM=$(per_worker | awk '$2 > 0 { print $1; exit }')
VN=$(per_worker | awk -v p="$VICTIM" '$1 == p { print $2 }')
note "workers before: $(per_worker | tr '\n' ' '); killing $VICTIM with $VN sessions"

T0=$(now)
kill -KILL "$VICTIM"
_replaced() {
	per_worker | awk -v p="$VICTIM" '$1 != p && $3 == "running"' | wc -l | grep -qx 2
}
wait_for 10 _replaced || fail "no replacement worker: $(per_worker | tr '\n' ' ')"
# From the kill to the replacement's "accepting" line (its timestamp).
wait_log 10 'worker_ctl_cb: worker [0-9]+ accepting' 3 ||
	fail "no third 'accepting' line"
AT=$(grep -E 'worker_ctl_cb: worker [0-9]+ accepting' "$T/sockeyed.log" |
	sed -n '3s/^\([^ ]*\) .*/\1/p')
UP=$(awk -v a="$T0" -v b="$(date -d "$AT" +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
note "replacement accepting ${UP} s after the kill"
below "$UP" 5 || fail "replacement took $UP s"
# New sessions are served.
out=$(timeout 60 "$PYTHON" "$HELPERS/sessions.py" -p "$SOCKS_PORT" \
	--dst "127.0.0.1:$ECHO" -n 20 --timeout 30) || fail "after the kill: $out"
SERVED=$(elapsed "$T0")
note "20 new sessions served ${SERVED} s after the kill"

touch "$T/go"
wait_for 120 grep -q "^sessions=" "$T/sessions.out" ||
	fail "the 200 sessions did not finish: $(tail -n 5 "$T/sessions.out")"
last=$(grep "^sessions=" "$T/sessions.out")
note "$last"
ok=$(printf '%s\n' "$last" | sed -n 's/.* ok=\([0-9]*\).*/\1/p')
[ $((200 - ok)) -eq "$VN" ] ||
	fail "$((200 - ok)) sessions lost, want exactly the victim's $VN: $(grep "^bad" "$T/sessions.out" | head -n 3)"
_idle() { [ "$(statusq "$S" sessions.active)" = 0 ]; }
wait_for 20 _idle || fail "sessions still active: $(per_worker | tr '\n' ' ')"
exit 0
