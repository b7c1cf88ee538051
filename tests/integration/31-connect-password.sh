#!/bin/sh
# SPDX-License-Identifier: ISC
# 31-connect-password: sockeye-connect -a password (RFC 1929) against the
# daemon with a users file made by sockeye-passwd: the right password, a
# wrong one, an unknown user, a CHAP user logging in with its password, the
# password typed at a terminal prompt with echo off, and the password kept
# out of the process's command line and environment.
. "${srcdir:-.}/tests/integration/lib.sh"
. "$srcdir/tests/integration/lib-connect.sh"
require_python

add_user "$T/users" alice 'correct horse'
add_user "$T/users" carol 'carol chap secret' --chap

start_server echo echo
ECHO=$SERVER_PORT
auth_conf "$T/sockeye.conf" 'methods = [ "password" ];'
start_sockeye "$T/sockeye.conf"
P=127.0.0.1:$SOCKS_PORT

# The right password: data flows, the access line names the user.
with_pw 'correct horse' echo_roundtrip "right password" \
	-a password -u alice "$P" 127.0.0.1 "$ECHO"
L=$(wait_access ' user=alice( |$)' " dst=127\.0\.0\.1:$ECHO( |\$)")
field_ok "$L" 'rep=0'

# A user added with --chap can log in with the same password too.
with_pw 'carol chap secret' echo_roundtrip "chap user, password" \
	-a password -u carol "$P" 127.0.0.1 "$ECHO"
wait_access ' user=carol( |$)' >/dev/null

# A wrong password and an unknown user: exit 3, the step named, nothing
# relayed.
with_pw 'wrong horse' sc wrongpw -a password -u alice "$P" 127.0.0.1 "$ECHO"
sc_expect "wrong password" 3 "password authentication failed" "user 'alice'"
with_pw 'correct horse' sc nouser -a password -u mallory "$P" 127.0.0.1 "$ECHO"
sc_expect "unknown user" 3 "password authentication failed" "user 'mallory'"
[ ! -s "$T/wrongpw.out" ] && [ ! -s "$T/nouser.out" ] ||
	fail "a failed login relayed data"

# Offering "none" to a proxy that wants a password: refused at the method
# selection.
sc none "$P" 127.0.0.1 "$ECHO"
sc_expect "none offered" 3 "(offered: none)"

# The password typed at the terminal: the prompt names user and proxy,
# echo is off while typing and on again after, the password never shows.
printf 'typed at a terminal\n' >"$T/tty.in"
OUT=$(timeout 60 "$PYTHON" "$HELPERS/ttyrun.py" --answer 'correct horse' \
	--stdin "$T/tty.in" --stdout "$T/tty.out" --stderr "$T/tty.err" -- \
	"$SOCKEYE_CONNECT" -a password -u alice "$P" 127.0.0.1 "$ECHO") ||
	fail "ttyrun failed: $OUT"
expect_line "$OUT" "^tty=Password for alice@127\.0\.0\.1:$SOCKS_PORT: " "the prompt"
expect_line "$OUT" '^echo_off_during_prompt=yes$' "echo off while typing"
expect_line "$OUT" '^echo_restored=yes$' "echo restored"
expect_line "$OUT" '^status=0$' "exit status after a terminal password"
printf '%s\n' "$OUT" | grep -q 'correct horse' && fail "the password was echoed: $OUT"
cmp -s "$T/tty.in" "$T/tty.out" || fail "terminal password: no echo of the data"
[ ! -s "$T/tty.err" ] || fail "terminal password: stderr: $(cat "$T/tty.err")"

# While connected, the password is in neither the command line nor the
# environment of the process (/proc/PID/environ shows the initial
# environment block, which sockeye-connect overwrites). A FIFO keeps
# stdin open so the client stays in its relay.
mkfifo "$T/hold"
SOCKEYE_PASSWORD='correct horse' "$SOCKEYE_CONNECT" -a password -u alice \
	"$P" 127.0.0.1 "$ECHO" <"$T/hold" >"$T/hold.out" 2>"$T/hold.err" &
HOLD_PID=$!
echo "$HOLD_PID" >"$T/pids/hold"
exec 3>"$T/hold"
printf 'ping\n' >&3
wait_for 10 grep -q ping "$T/hold.out" || fail "held client: no echo"
for f in cmdline environ; do
	if tr '\0' '\n' 2>/dev/null <"/proc/$HOLD_PID/$f" >"$T/proc.$f"; then
		grep -q 'correct horse' "$T/proc.$f" &&
			fail "the password is in /proc/PID/$f"
		grep -q '^SOCKEYE_PASSWORD=' "$T/proc.$f" &&
			fail "SOCKEYE_PASSWORD is still in /proc/PID/$f"
		# We did read the real thing.
		grep -Eq '^(PATH=|.*sockeye-connect)' "$T/proc.$f" ||
			fail "/proc/PID/$f holds neither PATH nor the program name"
	else
		note "/proc/PID/$f not readable (the client is not dumpable): fine"
	fi
done
# Core dumps are off for the client.
if [ -r "/proc/$HOLD_PID/limits" ]; then
	grep -Eq '^Max core file size +0 +0 ' "/proc/$HOLD_PID/limits" ||
		fail "core dumps not disabled: $(grep 'core' "/proc/$HOLD_PID/limits")"
fi
exec 3>&-
wait_for 10 proc_gone "$HOLD_PID" || fail "held client did not exit after stdin EOF"
HOLD_RC=0
wait "$HOLD_PID" || HOLD_RC=$?
[ "$HOLD_RC" -eq 0 ] || fail "held client exited $HOLD_RC: $(cat "$T/hold.err")"

# Nothing secret in the daemon's log.
grep -q 'correct horse\|wrong horse\|carol chap secret' "$T/sockeyed.log" &&
	fail "a password is in the daemon's log"

exit 0
