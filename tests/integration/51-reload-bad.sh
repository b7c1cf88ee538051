#!/bin/sh
# SPDX-License-Identifier: ISC
# 51-reload-bad: SIGHUP with a broken config, then with a broken users
# file: each time the daemon logs every error as FILE:LINE: message, says
# the reload failed, keeps its workers (no new generation) and goes on
# serving the old users; `sockeyed -t` prints the same errors. A change to
# a key that cannot change live (pid_file) is a warning, not a failure.
# Then a good file reloads.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"

require_python

start_server echo echo
ECHO=$SERVER_PORT
PW='alice-secret'
mkuser "$T/users" alice "$PW"
AUTH="auth = { methods = [ \"password\" ]; users_file = \"$T/users\"; };"
STATUS="status_socket = \"$T/status.sock\";"
write_conf "$T/sockeye.conf" "$AUTH" "$STATUS"
cp "$T/sockeye.conf" "$T/good.conf"
start_sockeye "$T/sockeye.conf"
wait_log 10 'started with 2 workers' || fail "no start line"
BEFORE=$(worker_pids)

alice_ok() {
	OUT=$(authc "$PW" -m password -u alice --dst "127.0.0.1:$ECHO" \
		--send "still here" --timeout 10)
	printf '%s\n' "$OUT" | grep -q '^echo=ok$' ||
		fail "$1: alice cannot use the proxy: $OUT"
}
alice_ok "before"

# --- A broken config: a bad value at line 3 and an unknown key at 5.
{
	head -n 2 "$T/good.conf"
	echo 'workers = -1;'
	tail -n +3 "$T/good.conf" | grep -v '^workers'
	echo 'no_such_key = 1;'
} >"$T/broken.conf"
BADLINE=$(grep -n '^workers = -1;' "$T/broken.conf" | cut -d: -f1)
KEYLINE=$(grep -n '^no_such_key' "$T/broken.conf" | cut -d: -f1)
cp "$T/broken.conf" "$T/sockeye.conf"
RC=0
TOUT=$("$SOCKEYED" -t -f "$T/sockeye.conf" 2>&1) || RC=$?
[ $RC -eq 1 ] || fail "-t on the broken config exited $RC: $TOUT"
expect_line "$TOUT" "^$T/sockeye.conf:$BADLINE: .*workers" "-t: bad value"
expect_line "$TOUT" "^$T/sockeye.conf:$KEYLINE: .*no_such_key" "-t: unknown key"

reload_sockeye
[ "$RELOAD_RESULT" = failed ] || fail "a broken config reloaded"
grep -Eq "error: .*$T/sockeye.conf:$BADLINE: .*workers" "$T/sockeyed.log" ||
	fail "the log lacks the bad value with its line ($BADLINE)"
grep -Eq "error: .*$T/sockeye.conf:$KEYLINE: .*no_such_key" "$T/sockeyed.log" ||
	fail "the log lacks the unknown key with its line ($KEYLINE)"
[ "$(worker_pids)" = "$BEFORE" ] || fail "workers changed after a failed reload"
[ "$(statusq "$T/status.sock" generation)" = 1 ] || fail "generation changed"
alice_ok "after a broken config"

# --- A broken users file (line 2), with a good config.
cp "$T/good.conf" "$T/sockeye.conf"
cp "$T/users" "$T/users.good"
printf 'bob has no colon\n' >>"$T/users"
RC=0
TOUT=$("$SOCKEYED" -t -f "$T/sockeye.conf" 2>&1) || RC=$?
[ $RC -eq 1 ] || fail "-t with a broken users file exited $RC: $TOUT"
expect_line "$TOUT" "^$T/users:2: " "-t: users file line"
reload_sockeye
[ "$RELOAD_RESULT" = failed ] || fail "a broken users file reloaded"
grep -Eq "error: .*$T/users:2: " "$T/sockeyed.log" ||
	fail "the log lacks the users file's error with its line"
[ "$(worker_pids)" = "$BEFORE" ] || fail "workers changed after a failed reload"
alice_ok "after a broken users file"

# --- Good again, with pid_file changed: a warning, the old one kept.
cp "$T/users.good" "$T/users"
chmod 600 "$T/users"
sed "s|^pid_file = .*|pid_file = \"$T/other.pid\";|" "$T/good.conf" >"$T/sockeye.conf"
PIDLINE=$(grep -n '^pid_file' "$T/sockeye.conf" | cut -d: -f1)
[ -n "$PIDLINE" ] || error "no pid_file line in the test config"
reload_sockeye
[ "$RELOAD_RESULT" = done ] || fail "a good config did not reload: $(grep -E 'error|reload' "$T/sockeyed.log" | tail -n 5)"
grep -Eq "warning: .*'pid_file' cannot change on reload" "$T/sockeyed.log" ||
	fail "no warning for the changed pid_file"
[ "$(statusq "$T/status.sock" generation)" = 2 ] || fail "generation is not 2"
alice_ok "after the good reload"
proc_alive "$SOCKEYED_PID" || fail "the master died"
exit 0
