#!/bin/sh
# SPDX-License-Identifier: ISC
# 33-connect-chap-mutual: mutual CHAP policies with sockeye-connect as the
# peer, one daemon per setting:
#   auth.chap_mutual = "require"  a one-way client fails, a mutual one works;
#   auth.chap_mutual = "deny"     the proxy does not answer our challenge,
#                                 so --mutual fails and one-way works;
#   auth.chap_server_secret       the proxy answers with a server-wide
#                                 secret: a client that checks against the
#                                 user's own secret detects the mismatch (a
#                                 proxy that cannot prove the secret), one
#                                 that knows the server secret goes on.
# In every failure nothing reaches the destination.
. "${srcdir:-.}/tests/integration/lib.sh"
. "$srcdir/tests/integration/lib-connect.sh"

ALICE='alice mutual secret'
SERVER='the proxy own secret'
add_user "$T/users" alice "$ALICE" --chap

start_server echo echo
ECHO=$SERVER_PORT
start_server half halfclose
HALF=$SERVER_PORT

# log_clean: neither secret is in this daemon's log.
log_clean() {
	if grep -Fq "$ALICE" "$T/sockeyed.log" || grep -Fq "$SERVER" "$T/sockeyed.log"; then
		fail "a secret is in the daemon's log"
	fi
}

# no_relay WHAT: no session to the halfclose server succeeded.
no_relay() {
	[ -z "$(access_line " dst=127\.0\.0\.1:$HALF( |\$)" ' rep=0( |$)')" ] ||
		fail "$1: the failed session reached the destination"
}

# --- require -----------------------------------------------------------
auth_conf "$T/require.conf" 'methods = [ "chap" ]; chap_mutual = "require";'
start_sockeye "$T/require.conf"
P=127.0.0.1:$SOCKS_PORT
with_pw "$ALICE" echo_roundtrip "require, mutual" -a chap --mutual -u alice "$P" 127.0.0.1 "$ECHO"
wait_access ' user=alice( |$)' >/dev/null
with_pw "$ALICE" sc req1 -a chap -u alice "$P" 127.0.0.1 "$HALF"
sc_expect "require, one-way" 3 "CHAP: the proxy rejected our response" "--mutual"
no_relay "require, one-way"
log_clean
stop_sockeye

# --- deny --------------------------------------------------------------
auth_conf "$T/deny.conf" 'methods = [ "chap" ]; chap_mutual = "deny";'
start_sockeye "$T/deny.conf"
P=127.0.0.1:$SOCKS_PORT
with_pw "$ALICE" echo_roundtrip "deny, one-way" -a chap -u alice "$P" 127.0.0.1 "$ECHO"
wait_access ' user=alice( |$)' >/dev/null
with_pw "$ALICE" sc deny1 -a chap --mutual -u alice "$P" 127.0.0.1 "$HALF"
sc_expect "deny, mutual" 3 "CHAP: the proxy did not answer our challenge"
no_relay "deny, mutual"
log_clean
stop_sockeye

# --- chap_server_secret ------------------------------------------------
auth_conf "$T/server.conf" \
	"methods = [ \"chap\" ]; chap_mutual = \"allow\"; chap_server_secret = \"$SERVER\";"
# The daemon refuses a config holding a secret that others can read.
chmod 600 "$T/server.conf"
start_sockeye "$T/server.conf"
P=127.0.0.1:$SOCKS_PORT
# The proxy's answer is made with its own secret, not alice's: a client
# that expects alice's sees a proxy that cannot prove it knows her secret.
with_pw "$ALICE" sc srv1 -a chap --mutual -u alice "$P" 127.0.0.1 "$HALF"
sc_expect "server secret, client expects the user's" 3 \
	"CHAP: server's response to our challenge is wrong"
no_relay "server secret, client expects the user's"
# A client given the wrong server secret: the same.
with_srv 'not the proxy secret' \
	with_pw "$ALICE" sc srv2 -a chap --mutual -u alice "$P" 127.0.0.1 "$HALF"
sc_expect "wrong server secret" 3 "CHAP: server's response to our challenge is wrong"
no_relay "wrong server secret"
# The right server secret: mutual authentication succeeds.
with_srv "$SERVER" \
	with_pw "$ALICE" echo_roundtrip "server secret, mutual" -a chap --mutual -u alice "$P" 127.0.0.1 "$ECHO"
# One-way CHAP does not care about the server secret.
with_pw "$ALICE" echo_roundtrip "server secret, one-way" -a chap -u alice "$P" 127.0.0.1 "$ECHO"
wait_access ' user=alice( |$)' >/dev/null
log_clean
stop_sockeye

exit 0
