#!/bin/sh
# SPDX-License-Identifier: ISC
# 10-auth-password: username/password (RFC 1929) with real curl. The right
# password gets the page and an access line with user=NAME; a wrong one,
# an unknown user and an empty password are refused (curl reports the
# rejection), each logged with the name and the client address and never
# the password; names are escaped in the log.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"

command -v curl >/dev/null 2>&1 || skip "curl not installed"

BODY="sockeye 10-auth-password page $$"
start_server web http --body "$BODY"
P=$SERVER_PORT
start_server echo echo
ECHO=$SERVER_PORT

PW='c0rrect horse:battery'
mkuser "$T/users" alice "$PW"
mkuser "$T/users" bob 'b0b-secret' --chap
# A name with a byte the log must escape (sockeye-passwd refuses spaces,
# but '=' and '"' are legal in names).
mkuser "$T/users" 'eve=x"y' 'eve-secret'
[ "$(stat -c %a "$T/users")" = 600 ] || fail "users file mode is $(stat -c %a "$T/users")"

write_conf "$T/sockeye.conf" \
	"auth = { methods = [ \"password\" ]; users_file = \"$T/users\"; };"
start_sockeye "$T/sockeye.conf"
grep -q 'users file .*: 3 users' "$T/sockeyed.log" ||
	fail "no 'users file ...: 3 users' line in the log"

curl_get() {
	timeout 20 curl -gsS --max-time 15 --socks5 "127.0.0.1:$SOCKS_PORT" \
		--proxy-user "$1" "http://127.0.0.1:$P/" 2>"$T/curl.err"
}

# Right: the page, twice (the second from the credential cache).
for i in 1 2; do
	got=$(curl_get "alice:$PW") || fail "curl with the right password: $(cat "$T/curl.err")"
	[ "$got" = "$BODY" ] || fail "got '$got'"
done
L=$(wait_access ' user=alice ' " dst=127\.0\.0\.1:$P( |\$)")
field_ok "$L" 'user=alice'
field_ok "$L" 'rep=0'
field_ok "$L" 'bytes_down=[1-9][0-9]*'

# Wrong password, unknown user: refused, curl says so.
for cred in "alice:Wr0ng-guess" "mallory:$PW" "alice:"; do
	if curl_get "$cred" >/dev/null; then
		fail "curl with '$cred' got through"
	fi
	grep -Eqi 'rejected|authentication|auth' "$T/curl.err" ||
		fail "curl with '$cred' failed for another reason: $(cat "$T/curl.err")"
done
wait_for 5 grep -q 'auth failed: user=alice client=127\.0\.0\.1:[0-9]* method=password reason=bad-password' "$T/sockeyed.log" ||
	fail "no failure line for alice's wrong password"
grep -q 'auth failed: user=mallory client=127\.0\.0\.1:[0-9]* method=password reason=unknown-user' "$T/sockeyed.log" ||
	fail "no failure line for the unknown user"
# A failed login's access line has no user.
L=$(wait_access ' end=auth-failed')
field_ok "$L" 'user=-'
field_ok "$L" 'cmd=-'

# The python client: echo through, and the escaped name.
out=$(authc 'eve-secret' -u 'eve=x"y' --dst "127.0.0.1:$ECHO" --send hello)
expect_line "$out" '^auth=ok$' "eve's login"
expect_line "$out" '^echo=ok$' "eve's echo"
L=$(wait_access ' user=eve' " dst=127\.0\.0\.1:$ECHO( |\$)")
field_ok "$L" 'user=eve\\x3dx\\x22y'

# bob has a CHAP secret too: password login still works.
out=$(authc 'b0b-secret' -u bob --dst "127.0.0.1:$ECHO" --send hi)
expect_line "$out" '^echo=ok$' "bob's password login"

# A client that offers only "none" is refused (0xff).
out=$(authc x -m none --dst "127.0.0.1:$ECHO")
expect_line "$out" '^method=ff$' "no-auth client"

no_secret_in_log "$PW" Wr0ng-guess 'eve-secret' 'b0b-secret'
exit 0
