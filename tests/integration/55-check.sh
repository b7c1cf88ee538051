#!/bin/sh
# SPDX-License-Identifier: ISC
# 55-check: `sockeyed -t` runs exactly the checks of a start. On a good
# config: "configuration OK", exit 0, nothing started (no listener, no pid
# file, no status socket). On bad files, every error as FILE:LINE: message
# on stderr and exit 1, and a start (-F) on the same files fails with the
# same messages: a config with two errors, a users file with a bad line,
# a relative status_socket, and (as root) a `user` that does not exist.
# A warning alone still passes.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"

# both FILE: -t and a start on FILE; sets TOUT/TRC and SOUT/SRC.
both() {
	TRC=0
	TOUT=$(timeout 20 "$SOCKEYED" -t -f "$1" 2>&1 </dev/null) || TRC=$?
	SRC=0
	SOUT=$(timeout 20 "$SOCKEYED" -F -f "$1" -P "$T/ports" 2>&1 </dev/null) || SRC=$?
	[ $SRC -ne 124 ] || fail "$1: sockeyed started and ran"
}

# same_errors: the FILE:LINE lines of -t are all in the start's output.
same_errors() {
	printf '%s\n' "$TOUT" | grep -E '^/[^:]+:[0-9]+: ' >"$T/t.err" || true
	[ -s "$T/t.err" ] || fail "-t printed no FILE:LINE error: $TOUT"
	while IFS= read -r line; do
		printf '%s\n' "$SOUT" | grep -qF -- "$line" ||
			fail "start does not report '$line' like -t: $SOUT"
	done <"$T/t.err"
}

# --- Good.
write_conf "$T/good.conf" "status_socket = \"$T/status.sock\";"
TRC=0
TOUT=$(timeout 20 "$SOCKEYED" -t -f "$T/good.conf" 2>&1) || TRC=$?
[ $TRC -eq 0 ] || fail "-t on a good config exited $TRC: $TOUT"
[ "$TOUT" = "configuration OK" ] || fail "-t printed: $TOUT"
[ ! -e "$T/status.sock" ] || fail "-t created the status socket"
[ ! -e "$T/sockeyed-own.pid" ] || fail "-t wrote the pid file"

# A warning (valid but unwise) still passes, and is shown.
write_conf "$T/warn.conf" 'connect = { attempt_delay_ms = 50; };'
TRC=0
TOUT=$(timeout 20 "$SOCKEYED" -t -f "$T/warn.conf" 2>&1) || TRC=$?
[ $TRC -eq 0 ] || fail "-t on a config with a warning exited $TRC: $TOUT"
expect_line "$TOUT" "^$T/warn.conf:[0-9]+: warning: .*attempt_delay_ms" "warning"
expect_line "$TOUT" '^configuration OK$' "OK after a warning"

# --- Two errors in the config.
write_conf "$T/bad.conf" 'shutdown_timeout_s = "soon";' 'bogus_key = 1;'
both "$T/bad.conf"
[ $TRC -eq 1 ] || fail "-t on a bad config exited $TRC: $TOUT"
[ $SRC -eq 1 ] || fail "start on a bad config exited $SRC: $SOUT"
expect_line "$TOUT" "^$T/bad.conf:[0-9]+: .*shutdown_timeout_s" "bad value"
expect_line "$TOUT" "^$T/bad.conf:[0-9]+: .*bogus_key" "unknown key"
same_errors

# --- A relative status_socket.
write_conf "$T/rel.conf" 'status_socket = "status.sock";'
both "$T/rel.conf"
[ $TRC -eq 1 ] && [ $SRC -eq 1 ] || fail "relative status_socket: -t $TRC, start $SRC"
expect_line "$TOUT" "^$T/rel.conf:[0-9]+: .*status_socket.*absolute" "relative status_socket"
same_errors

# --- A users file with a bad line 2.
mkuser "$T/users" alice 'alice-pw'
printf 'no colon here\n' >>"$T/users"
write_conf "$T/users.conf" \
	"auth = { methods = [ \"password\" ]; users_file = \"$T/users\"; };"
both "$T/users.conf"
[ $TRC -eq 1 ] && [ $SRC -eq 1 ] || fail "bad users file: -t $TRC, start $SRC"
expect_line "$TOUT" "^$T/users:2: " "users file error with its line"
same_errors

# --- As root: a user that does not exist (a start refuses it, so -t too).
if [ "$(id -u)" = 0 ]; then
	write_conf "$T/nouser.conf" 'user = "no-such-user-sockeye-55";'
	both "$T/nouser.conf"
	[ $TRC -eq 1 ] && [ $SRC -eq 1 ] || fail "unknown user: -t $TRC ($TOUT), start $SRC ($SOUT)"
	expect_line "$TOUT" "^$T/nouser.conf: .*no-such-user-sockeye-55" "unknown user"
	printf '%s\n' "$SOUT" | grep -q 'no-such-user-sockeye-55' ||
		fail "the start does not name the unknown user: $SOUT"
else
	note "not root: the user/group check (root only) is not exercised"
fi
[ ! -s "$T/ports" ] || fail "a failed start listened: $(cat "$T/ports")"
exit 0
