#!/bin/sh
# SPDX-License-Identifier: ISC
# 40-bind: BIND (RFC 1928 section 6) through the real daemon. The
# project's client (tests/helpers/socks5bind.py) plays the SOCKS client
# and the application server that connects back:
#  - IPv4: the first reply names where to connect, the second the peer;
#    data both ways and the half-close each way; the access log line;
#  - a stranger from 127.0.0.2 is closed and counted while the peer the
#    client named still gets through;
#  - a wildcard request (0.0.0.0) accepts a peer from anywhere, with
#    bind.require_peer_match = false (the default refuses it: 41);
#  - a name (from the DNS stub) is resolved and its address expected;
#  - IPv6 over ::1, by address and by name;
#  - bind.advertise_addresses: the first reply names the advertised
#    address (not this host's) with the port listened on; the peer that
#    reaches that port gets through, and the log says where it listened.
# Refusals and timeouts: 41-bind-refusals.sh.
. "${srcdir:-.}/tests/integration/lib.sh"
require_python

# bindc PROXY ARGS...: the BIND client, bounded in time.
bindc() {
	_bp=$1
	shift
	timeout 60 "$PYTHON" "$HELPERS/socks5bind.py" --proxy "$_bp" --timeout 10 \
		"$@" 2>>"$T/bindc.log"
}

start_dnsstub v4.test=127.0.0.1 v6.test=::1
write_conf "$T/sockeye.conf" 'workers = 1;' \
	"resolver = { servers = [ \"127.0.0.1:$DNS_PORT\" ]; timeout_ms = 1000; tries = 2; };" \
	'bind = { accept_timeout_s = 20; require_peer_match = false; };'
start_sockeye "$T/sockeye.conf"
P4=127.0.0.1:$SOCKS_PORT

# --- IPv4, data both ways ---------------------------------------------------
out=$(bindc "$P4" --dst 127.0.0.1:21)
note "$out"
expect_line "$out" '^rep1=0 bnd=127\.0\.0\.1:[0-9]+$' "IPv4: first reply"
BND=$(printf '%s\n' "$out" | sed -n 's/^rep1=0 bnd=//p')
PEER=$(printf '%s\n' "$out" | sed -n 's/^peer=//p')
[ -n "$PEER" ] || fail "IPv4: no peer line: $out"
expect_line "$out" "^rep2=0 bnd=$PEER\$" "IPv4: the second reply names the peer"
expect_line "$out" '^data=ok$' "IPv4: data both ways"
line=$(wait_access 'cmd=bind' "addr=$PEER ")
note "$line"
field_ok "$line" 'rep=0'
field_ok "$line" 'dst=127\.0\.0\.1:21'
field_ok "$line" 'bytes_up=16'
field_ok "$line" 'bytes_down=18'
field_ok "$line" 'end=closed'
field_ok "$line" "bnd=$BND"
field_ok "$line" 'strays=0'

# --- a stranger first ---------------------------------------------------------
out=$(bindc "$P4" --dst 127.0.0.1:21 --stray-from 127.0.0.2)
note "$out"
expect_line "$out" '^stray=closed$' "stranger: closed by the server"
expect_line "$out" '^rep2=0 bnd=127\.0\.0\.1:' "stranger: the named peer still gets in"
expect_line "$out" '^data=ok$' "stranger: data"
line=$(wait_access 'cmd=bind' 'strays=1')
field_ok "$line" 'rep=0'

# --- a wildcard request accepts anyone -----------------------------------------
out=$(bindc "$P4" --dst 0.0.0.0:0 --peer-from 127.0.0.2)
note "$out"
expect_line "$out" '^rep1=0 bnd=127\.0\.0\.1:[0-9]+$' "wildcard: first reply"
expect_line "$out" '^rep2=0 bnd=127\.0\.0\.2:[0-9]+$' "wildcard: a peer from 127.0.0.2"
expect_line "$out" '^data=ok$' "wildcard: data"

# --- a name: its address is the expected peer ----------------------------------
out=$(bindc "$P4" --dst v4.test:21 --stray-from 127.0.0.2)
note "$out"
expect_line "$out" '^rep1=0 bnd=127\.0\.0\.1:[0-9]+$' "name: first reply"
expect_line "$out" '^stray=closed$' "name: a stranger closed"
expect_line "$out" '^data=ok$' "name: data"
grep -q '^v4\.test A$' "$T/dns.queries" || fail "name: v4.test was not looked up"
wait_access 'cmd=bind' 'dst=v4\.test:21' >/dev/null

# --- IPv6 ------------------------------------------------------------------------
if have_ipv6 && [ -n "$SOCKS_PORT6" ]; then
	P6="[::1]:$SOCKS_PORT6"
	out=$(bindc "$P6" --dst '[::1]:21')
	note "$out"
	expect_line "$out" '^rep1=0 bnd=\[::1\]:[0-9]+$' "IPv6: first reply"
	expect_line "$out" '^rep2=0 bnd=\[::1\]:[0-9]+$' "IPv6: second reply"
	expect_line "$out" '^data=ok$' "IPv6: data"
	out=$(bindc "$P6" --dst v6.test:21)
	note "$out"
	expect_line "$out" '^rep1=0 bnd=\[::1\]:[0-9]+$' "IPv6 name: first reply"
	expect_line "$out" '^data=ok$' "IPv6 name: data"
	line=$(wait_access 'cmd=bind' 'dst=v6\.test:21')
	field_ok "$line" 'addr=\[::1\]:[0-9]+'
else
	note "no IPv6 here: the IPv6 part skipped"
fi

# --- bind.advertise_addresses ------------------------------------------------------
stop_sockeye
write_conf "$T/sockeye.conf" 'workers = 1;' \
	'bind = { advertise_addresses = [ "2001:db8::7", "203.0.113.7" ]; };'
start_sockeye "$T/sockeye.conf"
out=$(bindc "127.0.0.1:$SOCKS_PORT" --dst 127.0.0.1:21 --peer-to 127.0.0.1)
note "$out"
expect_line "$out" '^rep1=0 bnd=203\.0\.113\.7:[0-9]+$' "advertised: first reply"
expect_line "$out" '^rep2=0 bnd=127\.0\.0\.1:[0-9]+$' "advertised: second reply"
expect_line "$out" '^data=ok$' "advertised: data"
port=$(printf '%s\n' "$out" | sed -n 's/^rep1=0 bnd=203\.0\.113\.7:\([0-9]*\)$/\1/p')
line=$(wait_access 'cmd=bind' 'dst=127\.0\.0\.1:21')
field_ok "$line" "bnd=127\\.0\\.0\\.1:$port"
exit 0
