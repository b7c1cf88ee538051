#!/bin/sh
# SPDX-License-Identifier: ISC
# 35-connect-fakeproxy: sockeye-connect against a scripted SOCKS5 server
# (tests/helpers/fakeproxy.py) that does what sockeyed never does: the
# destination's first bytes in the same segment as the reply, reply codes
# the daemon does not send, CHAP's algorithm choice and challenge in two
# messages with a TEXT-MESSAGE, a wrong mutual RESPONSE, a foreign
# algorithm, a refusal and a close mid-handshake. The fake server checks
# our HMAC-MD5 with python's hmac module: an independent implementation.
. "${srcdir:-.}/tests/integration/lib.sh"
. "$srcdir/tests/integration/lib-connect.sh"
require_python

# fake NAME MODE [ARGS...]: start a fakeproxy; sets FP (its address).
fake() {
	_fk_name=$1
	shift
	_start_helper "$_fk_name" "$T/$_fk_name.port" \
		"$PYTHON" "$HELPERS/fakeproxy.py" "$@" \
		--port-file "$T/$_fk_name.port" --log "$T/$_fk_name.events"
	FP=127.0.0.1:$HELPER_PORT
}
# events NAME REGEX WHAT: the fake server logged a line matching REGEX.
events() {
	expect_line "$(cat "$T/$1.events" 2>/dev/null)" "$2" "$3"
}

SECRET='fake proxy secret'

# --- none: data right after the reply, destination forms, reply codes ---
fake plain none --banner 'SSH-2.0-fakeproxy'
printf '\nhello after the banner\n' >"$T/banner.in"
SC_IN=$T/banner.in sc banner "$FP" 127.0.0.1 22
sc_ok "banner in the reply's segment"
[ "$(cat "$T/banner.out")" = "SSH-2.0-fakeproxy
hello after the banner" ] || fail "banner: got '$(cat "$T/banner.out")'"
events plain '^greeting=00$' "only method none offered"
events plain '^request cmd=1 atyp=1 addr=7f000001 port=22$' "IPv4 destination as ATYP 1"
sc dn "$FP" example.test 443
sc_ok "a name"
events plain "^request cmd=1 atyp=3 addr=$(printf example.test | od -An -tx1 | tr -d ' \n') port=443\$" \
	"a name as ATYP 3, for the proxy to resolve"
sc v6 "$FP" '[2001:db8::5]' 8080
sc_ok "an IPv6 literal"
events plain '^request cmd=1 atyp=4 addr=20010db8000000000000000000000005 port=8080$' \
	"IPv6 destination as ATYP 4"
kill_pid "$(cat "$T/pids/plain")"

fake rep2 none --rep 2
sc rep2 "$FP" 127.0.0.1 22
sc_expect "REP 2" 4 "connection not allowed by ruleset (REP 2)"
fake rep9 none --rep 9
sc rep9 "$FP" 127.0.0.1 22
sc_expect "REP 9" 4 "(REP 9)"

# --- CHAP ------------------------------------------------------------
fake split chap-split --secret "$SECRET"
printf 'chap data\n' >"$T/chap.in"
SC_IN=$T/chap.in with_pw "$SECRET" sc chap1 -a chap -u alice "$FP" 127.0.0.1 22
[ "$SC_RC" -eq 0 ] || fail "CHAP, split messages: exit $SC_RC: $SC_ERR"
cmp -s "$T/chap.in" "$T/chap1.out" || fail "CHAP, split messages: echo '$(cat "$T/chap1.out")'"
# The TEXT-MESSAGE is shown, its control character escaped.
sc_expect "TEXT-MESSAGE" 0 'the proxy says: welcome\x1b[0m'
events split '^greeting=03$' "only method chap offered"
events split '^chap_first=11$' "the first CHAP message is ALGORITHMS only"
events split '^chap_algorithms=85$' "HMAC-MD5 offered"
events split '^chap_user=alice$' "USER-IDENTITY with the response"
events split '^chap_response=ok$' "HMAC-MD5 as python computes it"
events split '^chap_mutual=no$' "no challenge without --mutual"

: >"$T/split.events"
SC_IN=$T/chap.in with_pw "$SECRET" sc chap2 -a chap --mutual -u alice "$FP" 127.0.0.1 22
[ "$SC_RC" -eq 0 ] || fail "CHAP mutual, split messages: exit $SC_RC: $SC_ERR"
cmp -s "$T/chap.in" "$T/chap2.out" || fail "CHAP mutual: echo '$(cat "$T/chap2.out")'"
events split '^chap_client_challenge_len=16$' "a 16-octet client challenge"
events split '^client_status=00$' "the client's success STATUS"

: >"$T/split.events"
with_pw 'wrong secret' sc chap3 -a chap -u alice "$FP" 127.0.0.1 22
sc_expect "CHAP wrong secret" 3 "CHAP: the proxy rejected our response"
events split '^chap_response=bad$' "the fake server saw a bad response"

fake wrongresp chap-wrongresp --secret "$SECRET"
with_pw "$SECRET" sc chap4 -a chap --mutual -u alice "$FP" 127.0.0.1 22
sc_expect "wrong server RESPONSE" 3 "CHAP: server's response to our challenge is wrong"
events wrongresp '^client_status=ff$' "the client tells the proxy it failed"
events wrongresp '^end$' "connection closed"
grep -q '^request' "$T/wrongresp.events" && fail "wrong server RESPONSE: a request was sent"

fake badalg chap-badalg
with_pw "$SECRET" sc chap5 -a chap -u alice "$FP" 127.0.0.1 22
sc_expect "foreign algorithm" 3 "CHAP: the proxy chose an algorithm we did not offer"

fake refuse chap-refuse
with_pw "$SECRET" sc chap6 -a chap -u alice "$FP" 127.0.0.1 22
sc_expect "algorithm refused" 3 "CHAP: the proxy refused algorithm negotiation"

fake close chap-close
with_pw "$SECRET" sc chap7 -a chap -u alice "$FP" 127.0.0.1 22
sc_expect "closed mid-handshake" 3 "CHAP: the proxy closed the connection while we waited for its choice of algorithm"

exit 0
