#!/bin/sh
# SPDX-License-Identifier: ISC
# 11-auth-negotiation: method selection with authentication configured.
# auth.methods is the server's preference: the first listed method that
# the client offers is chosen, whatever the client's order; a client that
# offers none of them gets 0xFF and a close. Also: the users file is only
# read when a method needs it.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"
require_python

start_server echo echo
ECHO=$SERVER_PORT
mkuser "$T/users" alice 'alice-pw' --chap

# method OFFER WANT: the server answers OFFER (hex) with method WANT.
method() {
	_out=$(probe --methods "$1" --timeout 5)
	expect_line "$_out" "^method=$2\$" "offer $1"
}

# 1. password only.
write_conf "$T/a.conf" \
	"auth = { methods = [ \"password\" ]; users_file = \"$T/users\"; };"
start_sockeye "$T/a.conf"
method 00 ff
method 03 ff
method 00,01,03,80 ff
method 02 02
method 00,03,02 02
# 0xFF is followed by a close.
out=$(probe --methods 00 --wait-close --timeout 5)
expect_line "$out" '^closed' "close after 0xff"
L=$(wait_access ' end=no-acceptable-method')
field_ok "$L" 'user=-'
stop_sockeye

# 2. chap, password, none (loopback only, so "none" is allowed).
write_conf "$T/b.conf" \
	"auth = { methods = [ \"chap\", \"password\", \"none\" ]; users_file = \"$T/users\"; };"
start_sockeye "$T/b.conf"
method 00,02,03 03		# PuTTY's offer: CHAP wins
method 02,00 02
method 00 00
method 01 ff
# Each chosen method really runs: CHAP, password, none.
out=$(authc alice-pw -m chap --offer 000302 --dst "127.0.0.1:$ECHO" --send x)
expect_line "$out" '^method=03$' "chap chosen"
expect_line "$out" '^echo=ok$' "chap session"
out=$(authc alice-pw -m password --offer 0002 --dst "127.0.0.1:$ECHO" --send x)
expect_line "$out" '^method=02$' "password chosen"
expect_line "$out" '^echo=ok$' "password session"
out=$(authc x -m none --dst "127.0.0.1:$ECHO" --send x)
expect_line "$out" '^echo=ok$' "no-auth session"
L=$(wait_access ' user=-' " dst=127\.0\.0\.1:$ECHO( |\$)" ' rep=0')
field_ok "$L" 'cmd=connect'
stop_sockeye

# 3. "none" alone: no users file needed, even a missing one.
write_conf "$T/c.conf" \
	"auth = { methods = [ \"none\" ]; users_file = \"$T/missing\"; };"
"$SOCKEYED" -t -f "$T/c.conf" >"$T/t.out" 2>&1 ||
	fail "-t with methods none and a missing users file: $(cat "$T/t.out")"
start_sockeye "$T/c.conf"
method 02 ff
method 00,02 00
exit 0
