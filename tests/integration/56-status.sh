#!/bin/sh
# SPDX-License-Identifier: ISC
# 56-status: the status socket (mode 0600) answers one line of JSON that
# parses and whose counts match what this test did: sessions in total and
# per command, per user sessions, open sessions and bytes (equal to the
# access log's), refusals by reason (a client not in `clients`, a failed
# login), Happy Eyeballs winners, workers and generation. The counts
# survive the replacement of a killed worker and a reload; the open
# sessions of a killed worker disappear with it.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"

require_python

start_server echo echo
ECHO=$SERVER_PORT
PW='alice-status-pw'
mkuser "$T/users" alice "$PW"
S=$T/status.sock
write_conf "$T/sockeye.conf" \
	"auth = { methods = [ \"password\" ]; users_file = \"$T/users\"; };" \
	'clients = [ "127.0.0.1/32", "::1/128" ];' \
	"status_socket = \"$S\";"
start_sockeye "$T/sockeye.conf"
wait_log 10 'started with 2 workers' || fail "no start line"

[ -S "$S" ] || fail "no status socket at $S"
[ "$(stat -c %a "$S")" = 600 ] || fail "status socket mode $(stat -c %a "$S")"
[ "$(stat -c %u "$S")" = "$(id -u)" ] || fail "status socket owner $(stat -c %u "$S")"

# q PATH: one value from the status (statusq checks the JSON).
q() {
	_q=$(statusq "$S" "$1") || fail "status socket: no valid JSON"
	printf '%s\n' "$_q"
}
# want PATH VALUE
want() {
	_w=$(q "$1")
	[ "$_w" = "$2" ] || fail "status $1 = $_w, want $2 ($(statusq "$S"))"
}

want generation 1
want reloads 0
want workers.len 2
want workers.0.state running
want workers.1.generation 1
want sessions.total 0
want users.len 0

# 3 good sessions, 1 failed login, 1 client outside `clients`.
for i in 1 2 3; do
	OUT=$(authc "$PW" -m password -u alice --dst "127.0.0.1:$ECHO" --send "s$i")
	expect_line "$OUT" '^echo=ok$' "session $i"
done
OUT=$(authc 'wrong' -m password -u alice --dst "127.0.0.1:$ECHO")
expect_line "$OUT" '^auth=fail' "wrong password"
"$PYTHON" -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.2", 0))
s.settimeout(10)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"\x05\x01\x00")
try:
    d = s.recv(10)
except OSError:
    d = b""
sys.exit(0 if d == b"" else 1)' "$SOCKS_PORT" || fail "a client outside clients got an answer"
wait_for 10 _log_has ' access .*end=' 4 || fail "want 4 access lines"

want sessions.total 4
want sessions.ended 4
want sessions.active 0
want sessions.connect 3
want sessions.none 1
want sessions.bind 0
want users.alice.sessions 3
want users.alice.active 0
want users.alice.bytes_up "$(access_sum bytes_up ' user=alice ')"
want users.alice.bytes_down "$(access_sum bytes_down ' user=alice ')"
want bytes.up "$(access_sum bytes_up)"
want refused.auth_failed 1
want refused.clients 1
want refused.max_sessions 0
want happy_eyeballs.ipv4 3
want happy_eyeballs.ipv6 0
want happy_eyeballs.failed 0
[ "$(q users.alice.bytes_up)" -gt 0 ] || fail "no bytes counted for alice"
UP=$(q uptime_s)
[ "$UP" -ge 0 ] 2>/dev/null || fail "uptime_s is $UP"

# One session held open.
bg hold env SOCKEYE_PASSWORD="$PW" "$PYTHON" "$HELPERS/sessions.py" \
	-p "$SOCKS_PORT" --dst "127.0.0.1:$ECHO" -n 1 -u alice \
	--ready "$T/ready" --go "$T/go" --after 1 --timeout 60
HOLD_PID=$BG_PID
wait_for 20 test -s "$T/ready" || fail "held session did not start"
want sessions.active 1
want users.alice.active 1
want users.alice.sessions 4
HOLDER=$(statusq "$S" workers | "$PYTHON" -c '
import json, sys
print([w["pid"] for w in json.load(sys.stdin) if w["sessions"] == 1][0])')
OTHER=$(worker_pids | grep -vx "$HOLDER" | head -n 1)
[ -n "$OTHER" ] || fail "cannot tell the workers apart"

# Kill the idle worker: replaced, counts unchanged.
kill -KILL "$OTHER"
two_new() {
	[ "$(worker_count)" -eq 2 ] && ! worker_pids | grep -qx "$OTHER" &&
		[ "$(q workers.len)" = 2 ]
}
wait_for 5 two_new || fail "the killed worker was not replaced"
child_pids "$SOCKEYED_PID" >>"$T/pids/workers"
want worker_deaths 1
want sessions.total 5
want sessions.active 1
want users.alice.sessions 4

# Kill the worker holding the session: its open session is gone from
# the counts, the totals stay.
kill -KILL "$HOLDER"
no_open() { [ "$(q sessions.active)" = 0 ]; }
wait_for 5 no_open ||
	fail "the killed worker's session is still counted open"
want users.alice.active 0
want users.alice.sessions 4
want sessions.total 5
want worker_deaths 2
touch "$T/go"
wait_for 30 grep -q '^sessions=' "$T/hold.out" || fail "held session client hung"
child_pids "$SOCKEYED_PID" >>"$T/pids/workers"

# A reload: new generation, totals kept.
reload_sockeye
[ "$RELOAD_RESULT" = done ] || fail "reload failed"
want generation 2
want reloads 1
want sessions.total 5
want users.alice.sessions 4
want refused.auth_failed 1
gen2() {
	statusq "$S" workers | "$PYTHON" -c '
import json, sys
w = json.load(sys.stdin)
sys.exit(0 if len(w) == 2 and all(x["generation"] == 2 for x in w) else 1)'
}
wait_for 5 gen2 || fail "workers are not all generation 2: $(q workers)"
exit 0
