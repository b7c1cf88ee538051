#!/bin/sh
# SPDX-License-Identifier: ISC
# 17-auth-hold-deadline: an attempt held back after repeated failures
# (it waits before it is checked, and so before it is answered) is not
# cut short by limits.handshake_timeout_s: with a 2 s handshake timeout
# and a 2 s hold earned by six failures, the right password still gets
# its answer (it used to be closed silently at the deadline).
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"
require_python

start_server echo echo
ECHO=$SERVER_PORT
mkuser "$T/users" alice 'alice-pw'
write_conf "$T/sockeye.conf" "workers = 1;" \
	"auth = { methods = [ \"password\" ]; users_file = \"$T/users\"; };" \
	'limits = { handshake_timeout_s = 2; };'
start_sockeye "$T/sockeye.conf"

i=1
while [ $i -le 6 ]; do
	out=$(authc "bad-$i" -u alice)
	expect_line "$out" '^auth=fail status=01$' "failure $i"
	i=$((i + 1))
done
out=$(authc alice-pw -u alice --dst "127.0.0.1:$ECHO" --send x)
expect_line "$out" '^echo=ok$' "the right password after a 2 s hold"
grep -q 'end=handshake-timeout' "$T/sockeyed.log" &&
	fail "a held answer was cut by the handshake timeout"
exit 0
