#!/bin/sh
# SPDX-License-Identifier: ISC
# 42-udp: UDP ASSOCIATE (RFC 1928 section 7) through the real daemon,
# with the project's client (tests/helpers/socks5udp.py) and UDP echo
# server (tests/helpers/udpecho.py):
#  - the reply names a concrete relay address (the control connection's);
#  - IPv4, IPv6 and name destinations echo back, each answer wrapped in
#    a header naming its source, checked byte for byte;
#  - a name is looked up once per association (the cache), through the
#    configured resolver (the DNS stub, whose query log tells);
#  - a DNS query to the DNS stub through the association is answered;
#  - a datagram from another source (127.0.0.2) is not relayed, one with
#    FRAG != 0 neither; both are counted in the access log line;
#  - an IPv6 control connection, relaying to IPv4 and IPv6;
#  - an empty name as DST.ADDR (a client that knows no address).
. "${srcdir:-.}/tests/integration/lib.sh"
require_python

udpc() {
	_up=$1
	shift
	timeout 60 "$PYTHON" "$HELPERS/socks5udp.py" --proxy "$_up" --wait 3 \
		"$@" 2>>"$T/udpc.log"
}
start_udpecho() {
	_start_helper "$1" "$T/$1.port" "$PYTHON" "$HELPERS/udpecho.py" \
		--port-file "$T/$1.port" --bind "$2"
	UDPECHO_PORT=$HELPER_PORT
}
# hexport N: a port as 4 hex digits
hexport() { printf '%04x' "$1"; }

start_udpecho echo4 127.0.0.1
E4=$UDPECHO_PORT
E6=
if have_ipv6; then
	start_udpecho echo6 ::1
	E6=$UDPECHO_PORT
fi
start_dnsstub udp4.test=127.0.0.1 udp6.test=::1 v4.test=192.0.2.44
write_conf "$T/sockeye.conf" 'workers = 1;' \
	"resolver = { servers = [ \"127.0.0.1:$DNS_PORT\" ]; timeout_ms = 1000; tries = 2; };"
start_sockeye "$T/sockeye.conf"
P4=127.0.0.1:$SOCKS_PORT

# --- IPv4, IPv6, names; exact headers; the name cache ----------------------------
set -- --echo "127.0.0.1:$E4" --echo "udp4.test:$E4" --echo "udp4.test:$E4"
[ -z "$E6" ] || set -- "$@" --echo "[::1]:$E6" --echo "udp6.test:$E6"
out=$(udpc "$P4" "$@")
note "$out"
expect_line "$out" '^rep=0 bnd=127\.0\.0\.1:[0-9]+$' "reply: a concrete relay address"
H4="000000017f000001$(hexport "$E4")"
expect_line "$out" "^echo dst=127\\.0\\.0\\.1:$E4 from=127\\.0\\.0\\.1:$E4 hdr=$H4 ok\$" "IPv4 echo"
n=$(printf '%s\n' "$out" | grep -c "^echo dst=udp4\\.test:$E4 from=127\\.0\\.0\\.1:$E4 hdr=$H4 ok\$" || true)
[ "$n" = 2 ] || fail "name echo: want 2 answers from 127.0.0.1:$E4, got: $out"
if [ -n "$E6" ]; then
	H6="0000000400000000000000000000000000000001$(hexport "$E6")"
	expect_line "$out" "^echo dst=\\[::1\\]:$E6 from=\\[::1\\]:$E6 hdr=$H6 ok\$" "IPv6 echo"
	expect_line "$out" "^echo dst=udp6\\.test:$E6 from=\\[::1\\]:$E6 hdr=$H6 ok\$" "IPv6 name echo"
fi
# Two datagrams to udp4.test, one lookup per family.
n=$(grep -c '^udp4\.test A$' "$T/dns.queries" || true)
[ "$n" = 1 ] || fail "name cache: udp4.test A looked up $n times, want 1"
line=$(wait_access 'cmd=udp_associate' 'end=closed')
note "$line"
field_ok "$line" 'rep=0'
field_ok "$line" 'dst=0\.0\.0\.0:0'
field_ok "$line" 'bnd=127\.0\.0\.1:[0-9]+'
N=3
[ -z "$E6" ] || N=5
field_ok "$line" "dgrams_up=$N"
field_ok "$line" "dgrams_down=$N"
field_ok "$line" 'drops_up=0'
field_ok "$line" 'drops_down=0'
field_ok "$line" 'drops=-'
UP=$(printf '%s\n' "$line" | sed -n 's/.* bytes_up=\([0-9]*\) .*/\1/p')
DOWN=$(printf '%s\n' "$line" | sed -n 's/.* bytes_down=\([0-9]*\) .*/\1/p')
[ "$UP" -gt 0 ] && [ "$UP" = "$DOWN" ] || fail "bytes: up $UP, down $DOWN: want equal, not 0"

# --- DNS through the association ------------------------------------------------------
out=$(udpc "$P4" --dns v4.test --dns-server "127.0.0.1:$DNS_PORT")
note "$out"
expect_line "$out" "^dns name=v4\\.test addr=192\\.0\\.2\\.44 from=127\\.0\\.0\\.1:$DNS_PORT\$" "DNS query"

# --- another source, a fragment -----------------------------------------------------------
out=$(udpc "$P4" --source 127.0.0.2 --echo "127.0.0.1:$E4")
note "$out"
expect_line "$out" "^echo dst=127\\.0\\.0\\.1:$E4 none\$" "another source: not relayed"
line=$(wait_access 'cmd=udp_associate' 'drops=source:1')
field_ok "$line" 'dgrams_up=0'
field_ok "$line" 'drops_up=1'

out=$(udpc "$P4" --echo "127.0.0.1:$E4" --raw "000001017f000001$(hexport "$E4")66726167")
note "$out"
expect_line "$out" '^raw=000001017f000001 none$' "FRAG 1: dropped"
line=$(wait_access 'cmd=udp_associate' 'drops=frag:1')
field_ok "$line" 'dgrams_up=1'
field_ok "$line" 'dgrams_down=1'

# --- an IPv6 control connection --------------------------------------------------------------
if [ -n "$E6" ] && [ -n "$SOCKS_PORT6" ]; then
	out=$(udpc "[::1]:$SOCKS_PORT6" --echo "[::1]:$E6" --echo "127.0.0.1:$E4")
	note "$out"
	expect_line "$out" '^rep=0 bnd=\[::1\]:[0-9]+$' "IPv6: relay on ::1"
	expect_line "$out" "^echo dst=\\[::1\\]:$E6 from=\\[::1\\]:$E6 hdr=$H6 ok\$" "IPv6 client, IPv6 echo"
	expect_line "$out" "^echo dst=127\\.0\\.0\\.1:$E4 from=127\\.0\\.0\\.1:$E4 hdr=$H4 ok\$" "IPv6 client, IPv4 echo"
fi

# --- DST.ADDR an empty name -------------------------------------------------------------------
out=$(udpc "$P4" --req-hex 05030003000000 --echo "127.0.0.1:$E4")
note "$out"
expect_line "$out" '^rep=0 ' "empty name: accepted"
expect_line "$out" "^echo dst=127\\.0\\.0\\.1:$E4 from=" "empty name: relayed"
exit 0
