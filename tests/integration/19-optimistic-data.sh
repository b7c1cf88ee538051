#!/bin/sh
# SPDX-License-Identifier: ISC
# 19-optimistic-data: a client that sends everything at once - greeting,
# RFC 1929 request, CONNECT request and 4 KiB of data, more than the
# session's 1 KiB input buffer - before any answer is served: the data
# waits (the session stops reading while its buffer is full) and reaches
# the echo server whole. The same with no authentication, and with a
# password check that takes a while (the buffer fills during it).
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"
require_python

start_server echo echo
ECHO=$SERVER_PORT
mkuser "$T/users" alice 'alice-pw'
mkuser "$T/users" slow 'slow-pw' -c 9
write_conf "$T/sockeye.conf" "workers = 1;" \
	"auth = { methods = [ \"password\", \"none\" ]; users_file = \"$T/users\"; cache_ttl_s = 0; };" \
	'limits = { handshake_timeout_s = 30; };'
start_sockeye "$T/sockeye.conf"

opt() {
	timeout 60 "$PYTHON" "$HELPERS/optimistic.py" -p "$SOCKS_PORT" \
		--dst "127.0.0.1:$ECHO" "$@"
}

for case in "alice alice-pw 4096" "slow slow-pw 4096" "alice alice-pw 65536"; do
	set -- $case
	out=$(opt -u "$1" -w "$2" --size "$3") || fail "$1: $out"
	note "password ($1), $3 bytes at once: $(printf '%s' "$out" | tr '\n' ' ')"
	expect_line "$out" '^method=2$' "$1: method"
	expect_line "$out" '^auth=0$' "$1: auth status"
	expect_line "$out" '^rep=0$' "$1: reply"
	expect_line "$out" "^echoed=$3\$" "$1: echoed"
	expect_line "$out" '^match=yes$' "$1: data"
done

out=$(opt --size 4096) || fail "no auth: $out"
note "no auth, 4096 bytes at once: $(printf '%s' "$out" | tr '\n' ' ')"
expect_line "$out" '^method=0$' "no auth: method"
expect_line "$out" '^rep=0$' "no auth: reply"
expect_line "$out" '^match=yes$' "no auth: data"

served() { [ "$(grep -c ' info: access .* rep=0 bytes_up=[0-9]* bytes_down=' "$T/sockeyed.log")" -eq 4 ]; }
wait_for 5 served || fail "expected 4 served sessions: $(grep ' info: access ' "$T/sockeyed.log")"
for n in 4096 65536; do
	grep -q " info: access .* rep=0 bytes_up=$n bytes_down=$n " "$T/sockeyed.log" ||
		fail "no access line counting $n bytes each way"
done
grep -q 'end=bad-auth-message' "$T/sockeyed.log" && fail "a session was closed as bad-auth-message"
stop_sockeye
[ "$SOCKEYED_STATUS" = 0 ] || fail "sockeyed exited $SOCKEYED_STATUS"
exit 0
