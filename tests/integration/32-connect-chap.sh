#!/bin/sh
# SPDX-License-Identifier: ISC
# 32-connect-chap: sockeye-connect -a chap against the daemon (methods
# chap, then password; chap_mutual at its default, allow): one-way and
# mutual CHAP with the right secret, a secret longer than an HMAC block, a
# wrong secret and an unknown user rejected at the same step, a user
# without a CHAP secret, the password method next to CHAP, and "none"
# refused.
. "${srcdir:-.}/tests/integration/lib.sh"
. "$srcdir/tests/integration/lib-connect.sh"

ALICE='alice chap secret'
# 200 bytes: longer than MD5's 64-byte block, so HMAC hashes the key first.
LONG=$(printf 'k%.0s' $(seq 1 200))
add_user "$T/users" alice "$ALICE" --chap
add_user "$T/users" erin "$LONG" --chap
add_user "$T/users" dave 'dave password only'

start_server echo echo
ECHO=$SERVER_PORT
start_server half halfclose
HALF=$SERVER_PORT
auth_conf "$T/sockeye.conf" 'methods = [ "chap", "password" ];'
start_sockeye "$T/sockeye.conf"
P=127.0.0.1:$SOCKS_PORT

# One-way CHAP: data flows, the access line names the user.
with_pw "$ALICE" echo_roundtrip "one-way" -a chap -u alice "$P" 127.0.0.1 "$ECHO"
L=$(wait_access ' user=alice( |$)' " dst=127\.0\.0\.1:$ECHO( |\$)")
field_ok "$L" 'rep=0'

# Mutual CHAP (allow): the proxy answers our challenge with alice's secret.
with_pw "$ALICE" echo_roundtrip "mutual" -a chap --mutual -u alice "$P" 127.0.0.1 "$ECHO"
# ... and the half-close still works after a mutual handshake.
printf 'after mutual chap' >"$T/half.in"
SC_IN=$T/half.in with_pw "$ALICE" sc half -a chap -m -u alice "$P" 127.0.0.1 "$HALF"
sc_ok "half-close after mutual CHAP"
[ "$(cat "$T/half.out")" = "got 17 bytes" ] ||
	fail "half-close after mutual CHAP: got '$(cat "$T/half.out")'"

# A 200-byte secret, both ways.
with_pw "$LONG" echo_roundtrip "long secret" -a chap -u erin "$P" 127.0.0.1 "$ECHO"
with_pw "$LONG" echo_roundtrip "long secret mutual" -a chap --mutual -u erin "$P" 127.0.0.1 "$ECHO"
wait_access ' user=erin( |$)' >/dev/null

# A wrong secret and an unknown user: the same step fails, exit 3, nothing
# relayed; with and without --mutual (the proxy rejects us first).
with_pw 'not the secret' sc wrong -a chap -u alice "$P" 127.0.0.1 "$HALF"
sc_expect "wrong secret" 3 "CHAP: the proxy rejected our response"
with_pw 'not the secret' sc wrongm -a chap --mutual -u alice "$P" 127.0.0.1 "$HALF"
sc_expect "wrong secret, mutual" 3 "CHAP: the proxy rejected our response"
with_pw "$ALICE" sc nouser -a chap -u mallory "$P" 127.0.0.1 "$HALF"
sc_expect "unknown user" 3 "CHAP: the proxy rejected our response"
with_pw "$ALICE" sc nouserm -a chap --mutual -u mallory "$P" 127.0.0.1 "$HALF"
sc_expect "unknown user, mutual" 3 "CHAP: the proxy rejected our response"
# A user added without --chap has no CHAP secret: CHAP fails even with
# the right password, which the password method accepts.
with_pw 'dave password only' sc dave -a chap -u dave "$P" 127.0.0.1 "$HALF"
sc_expect "user without a CHAP secret" 3 "CHAP: the proxy rejected our response"
for f in wrong wrongm nouser nouserm dave; do
	[ ! -s "$T/$f.out" ] || fail "$f: a failed login relayed data"
done
[ -z "$(access_line " dst=127\.0\.0\.1:$HALF( |\$)" ' rep=0( |$)' ' user=(mallory|dave)( |$)')" ] ||
	fail "a failed CHAP login reached the destination"

# The password method, second in the proxy's list, still works when it is
# the only one offered (by alice with her CHAP password, and by dave).
with_pw "$ALICE" echo_roundtrip "password next to chap" -a password -u alice "$P" 127.0.0.1 "$ECHO"
with_pw 'dave password only' echo_roundtrip "dave, password" -a password -u dave "$P" 127.0.0.1 "$ECHO"
wait_access ' user=dave( |$)' >/dev/null

# "none" is not among the methods.
sc none "$P" 127.0.0.1 "$ECHO"
sc_expect "none offered" 3 "(offered: none)"

# Secrets never in the daemon's log.
if grep -Fq "$ALICE" "$T/sockeyed.log" || grep -Fq "$LONG" "$T/sockeyed.log" ||
    grep -Fq 'dave password only' "$T/sockeyed.log"; then
	fail "a secret is in the daemon's log"
fi

exit 0
