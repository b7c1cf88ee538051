#!/bin/sh
# SPDX-License-Identifier: ISC
# 34-plink-chap: interop with a real CHAP client, PuTTY's plink (Debian
# package putty-tools), through sockeyed. plink speaks one-way CHAP only
# and sends USER-IDENTITY together with ALGORITHMS in its first message
# (both attributes in one message), unlike sockeye-connect.
#
# plink is driven without a terminal from a saved session: Unix PuTTY
# reads $HOME/.putty/sessions/NAME (one Key=Value a line), and -raw makes
# it a plain TCP client, here to a loopback echo server through the proxy:
#   HOME=DIR plink -batch -load NAME -raw -P ECHO_PORT 127.0.0.1
# ProxyLocalhost=1 is needed, or plink connects to 127.0.0.1 directly.
#
# Cases: the right secret (methods = chap only, so plink must use CHAP);
# a wrong secret and an unknown user refused; chap_mutual = require
# refuses plink, which never sends a challenge; and, with methods =
# password, plink falls back to RFC 1929 with the same credentials.
. "${srcdir:-.}/tests/integration/lib.sh"
. "$srcdir/tests/integration/lib-connect.sh"

command -v plink >/dev/null 2>&1 || skip "plink not found (install putty-tools)"

ALICE='alice plink secret'
add_user "$T/users" alice "$ALICE" --chap

start_server echo echo
ECHO=$SERVER_PORT

mkdir -p "$T/home/.putty/sessions"
# session NAME USER PASSWORD: a saved session using the running proxy.
session() {
	cat >"$T/home/.putty/sessions/$1" <<-EOF
	ProxyMethod=2
	ProxyHost=127.0.0.1
	ProxyPort=$SOCKS_PORT
	ProxyUsername=$2
	ProxyPassword=$3
	ProxyLocalhost=1
	ProxyDNS=1
	EOF
}

# ok_sessions USER: how many sessions of USER got a destination so far.
ok_sessions() {
	grep -E ' info: access ' "$T/sockeyed.log" | grep -E " user=$1( |\$)" |
		grep -Ec ' rep=0( |$)' || true
}

# run_plink NAME SESSION: a line through plink and the echo server; sets
# PL_RC, output in $T/NAME.out, stderr in $T/NAME.err.
run_plink() {
	printf 'hello through plink %s\n' "$1" >"$T/$1.in"
	PL_RC=0
	OK_BEFORE=$(ok_sessions "$(sed -n 's/^ProxyUsername=//p' "$T/home/.putty/sessions/$2")")
	HOME=$T/home $NOTTY timeout 30 plink -batch -load "$2" -raw -P "$ECHO" 127.0.0.1 \
		<"$T/$1.in" >"$T/$1.out" 2>"$T/$1.err" || PL_RC=$?
}
# plink_ok NAME WHAT: run_plink NAME exited 0 and got its line back.
plink_ok() {
	[ "$PL_RC" -eq 0 ] || fail "$2: plink exited $PL_RC: $(cat "$T/$1.err")"
	cmp -s "$T/$1.in" "$T/$1.out" ||
		fail "$2: plink got '$(cat "$T/$1.out")' back; stderr: $(cat "$T/$1.err")"
}
# plink_refused NAME WHAT USER: run_plink NAME failed, relayed nothing,
# and no new session of USER reached the destination.
plink_refused() {
	[ "$PL_RC" -ne 0 ] || fail "$2: plink succeeded"
	[ ! -s "$T/$1.out" ] || fail "$2: data went through: $(cat "$T/$1.out")"
	[ "$(ok_sessions "$3")" -eq "$OK_BEFORE" ] ||
		fail "$2: a session of $3 reached the destination"
	note "$2: plink said: $(cat "$T/$1.err")"
}

# --- one-way CHAP ------------------------------------------------------
auth_conf "$T/chap.conf" 'methods = [ "chap" ];'
start_sockeye "$T/chap.conf"
session good alice "$ALICE"
session wrong alice 'not the secret'
session nouser mallory "$ALICE"

run_plink chap good
plink_ok chap "plink CHAP"
L=$(wait_access ' user=alice( |$)' " dst=127\.0\.0\.1:$ECHO( |\$)")
field_ok "$L" 'rep=0'
run_plink chapwrong wrong
plink_refused chapwrong "plink CHAP, wrong secret" alice
run_plink chapnouser nouser
plink_refused chapnouser "plink CHAP, unknown user" mallory
stop_sockeye

# --- chap_mutual = require: plink cannot do mutual ---------------------
auth_conf "$T/require.conf" 'methods = [ "chap" ]; chap_mutual = "require";'
start_sockeye "$T/require.conf"
session good alice "$ALICE"
run_plink require good
plink_refused require "plink, mutual required" alice
stop_sockeye

# --- the password method: plink falls back to RFC 1929 -----------------
auth_conf "$T/password.conf" 'methods = [ "password" ];'
start_sockeye "$T/password.conf"
session good alice "$ALICE"
session wrong alice 'not the secret'
run_plink password good
plink_ok password "plink password"
wait_access ' user=alice( |$)' >/dev/null
run_plink passwordwrong wrong
plink_refused passwordwrong "plink password, wrong" alice
stop_sockeye

exit 0
