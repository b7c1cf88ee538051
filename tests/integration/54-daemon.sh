#!/bin/sh
# SPDX-License-Identifier: ISC
# 54-daemon: daemon mode (no -F). The command returns 0 only once the
# daemon serves, and by then pid_file names the detached master (a
# session leader, parent of the workers) and the port file is written. A
# second instance with the same pid file refuses, says so on stderr, and
# leaves the first one and its pid file alone. SIGTERM: the pid file is
# removed. A stale pid file (naming no running sockeyed) is replaced.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"

require_python

start_server echo echo
ECHO=$SERVER_PORT
PIDF=$T/run/sockeyed.pid
mkdir "$T/run"
write_conf "$T/sockeye.conf" \
	"log = { target = \"$T/daemon.log\"; level = \"verbose\"; access = true; };" \
	"pid_file = \"$PIDF\";" \
	"status_socket = \"$T/status.sock\";" \
	'shutdown_timeout_s = 2;'

# start_daemon: run sockeyed without -F (bounded), set DPID.
start_daemon() {
	RC=0
	timeout 30 "$SOCKEYED" -f "$T/sockeye.conf" -P "$T/ports" \
		</dev/null >"$T/start.out" 2>"$T/start.err" || RC=$?
	[ $RC -eq 0 ] || fail "sockeyed (daemon) exited $RC: $(cat "$T/start.err")"
	# Already there when the command returned: no waiting.
	[ -s "$PIDF" ] || fail "no pid file when sockeyed returned"
	DPID=$(cat "$PIDF")
	echo "$DPID" >"$T/pids/sockeyed"
	proc_alive "$DPID" || fail "pid file names $DPID, which is not running"
	is_sockeyed "$DPID" || fail "pid $DPID is not sockeyed"
	[ -s "$T/ports" ] || fail "no port file when sockeyed returned"
	SOCKS_PORT=$(sed -n '1s/.*:\([0-9][0-9]*\)$/\1/p' "$T/ports")
	SOCKEYED_PID=$DPID
}

start_daemon
# Detached: its own session, not our child.
[ "$(ps -o sid= -p "$DPID" | tr -d ' ')" = "$DPID" ] ||
	fail "the daemon is not a session leader"
[ "$(ps -o ppid= -p "$DPID" | tr -d ' ')" != "$$" ] ||
	fail "the daemon is still our child"
[ "$(worker_count)" -eq 2 ] || fail "want 2 workers under $DPID: $(worker_pids)"
child_pids "$DPID" >"$T/pids/workers"
OUT=$(probe --dst "127.0.0.1:$ECHO" --send daemon --expect-echo) || fail "probe: $OUT"
expect_line "$OUT" '^echo=ok$' "session through the daemon"
[ "$(statusq "$T/status.sock" pid)" = "$DPID" ] || fail "status: wrong pid"

# A second instance: refused, the first untouched.
RC=0
timeout 30 "$SOCKEYED" -f "$T/sockeye.conf" -P "$T/ports2" </dev/null \
	>"$T/second.out" 2>"$T/second.err" || RC=$?
[ $RC -ne 0 ] || fail "a second instance started"
[ $RC -ne 124 ] || fail "the second instance hung"
[ -s "$T/second.err" ] || fail "the second instance said nothing on stderr"
grep -Eq 'already running|running sockeyed' "$T/daemon.log" ||
	fail "the log does not say why the second instance refused"
[ "$(cat "$PIDF")" = "$DPID" ] || fail "the pid file changed: $(cat "$PIDF")"
proc_alive "$DPID" || fail "the first instance died"
[ ! -e "$T/ports2" ] || fail "the second instance listened"
OUT=$(probe --dst "127.0.0.1:$ECHO" --send again --expect-echo) || fail "probe: $OUT"
expect_line "$OUT" '^echo=ok$' "the first instance after the refusal"

# SIGTERM: gone, pid file removed, status socket removed.
kill -TERM "$DPID"
wait_for 5 proc_gone "$DPID" || fail "still running 5 s after SIGTERM"
rm -f "$T/pids/sockeyed"
[ ! -e "$PIDF" ] || fail "the pid file was not removed"
[ ! -e "$T/status.sock" ] || fail "the status socket was not removed"
grep -q 'stopped' "$T/daemon.log" || fail "no 'stopped' in the log"

# A stale pid file (a pid that is not a running sockeyed): replaced.
sleep 30 &
echo "$!" >"$T/pids/sleeper"
echo "$!" >"$PIDF"
start_daemon
[ "$DPID" != "$(cat "$T/pids/sleeper")" ] || fail "the stale pid was kept"
kill -TERM "$DPID"
wait_for 5 proc_gone "$DPID" || fail "still running 5 s after SIGTERM"
rm -f "$T/pids/sockeyed"
[ ! -e "$PIDF" ] || fail "the pid file was not removed (second run)"
exit 0
