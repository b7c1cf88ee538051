#!/bin/sh
# SPDX-License-Identifier: ISC
# 44-udp-options: the udp keys and the access rules, through the daemon.
#  - udp.strict_source: the request's DST.ADDR is taken as the client's
#    address (127.0.0.2 here); datagrams from the TCP client's address
#    are then dropped; a name as DST.ADDR is refused with REP 8;
#  - udp.port_range and udp.external_address: the reply advertises the
#    external address with a port from the range (127.0.0.3 is one of
#    this host's, so the relay listens there and the echo works);
#  - an access rule refusing a destination: its datagrams are dropped
#    (drops=denied) while another destination is relayed;
#  - sockeyed -t accepts the bind and udp keys and names a bad value;
#  - BIND left out of `commands`: REP 7.
. "${srcdir:-.}/tests/integration/lib.sh"
require_python

udpc() {
	timeout 60 "$PYTHON" "$HELPERS/socks5udp.py" --proxy "127.0.0.1:$SOCKS_PORT" \
		--wait 2 "$@" 2>>"$T/udpc.log"
}
_start_helper echo "$T/echo.port" "$PYTHON" "$HELPERS/udpecho.py" \
	--port-file "$T/echo.port" --bind 127.0.0.1
E=$HELPER_PORT
_start_helper echo2 "$T/echo2.port" "$PYTHON" "$HELPERS/udpecho.py" \
	--port-file "$T/echo2.port" --bind 127.0.0.1
E2=$HELPER_PORT

# --- sockeyed -t -------------------------------------------------------------------
write_conf "$T/ok.conf" \
	'bind = { external_addresses = [ "127.0.0.1", "::1" ]; accept_timeout_s = 30; require_peer_match = true; };' \
	'udp = { idle_timeout_s = 60; filtering = "endpoint-independent"; strict_source = true; external_address = "192.0.2.1"; port_range = "40000-40099"; };'
"$SOCKEYED" -t -f "$T/ok.conf" >"$T/t.out" 2>&1 || fail "-t: a valid file refused: $(cat "$T/t.out")"
write_conf "$T/bad.conf" \
	'bind = { external_addresses = [ "example.org" ]; accept_timeout_s = 0; };' \
	'udp = { filtering = "full-cone"; port_range = "9-1"; external_address = "nowhere"; };'
if "$SOCKEYED" -t -f "$T/bad.conf" >"$T/t.out" 2>&1; then
	fail "-t: a bad file accepted"
fi
for msg in "'bind.external_addresses': \"example.org\" is not an IPv4 or IPv6 address" \
	"'bind.accept_timeout_s' must be between 1 and 86400" \
	"'udp.filtering' must be \"address-dependent\" or \"endpoint-independent\", not \"full-cone\"" \
	"'udp.port_range' must be \"\", a port or a range such as \"40000-40999\", not \"9-1\"" \
	"'udp.external_address' must be \"\" or an IPv4 or IPv6 address, not \"nowhere\""; do
	grep -qF "$msg" "$T/t.out" || fail "-t: no message '$msg' in: $(cat "$T/t.out")"
done

# --- strict_source -------------------------------------------------------------------
write_conf "$T/strict.conf" 'workers = 1;' 'udp = { strict_source = true; };' \
	'commands = [ "connect", "udp_associate" ];'
start_sockeye "$T/strict.conf"
# (BIND is left out of `commands` here: REP 7.)
out=$(timeout 30 "$PYTHON" "$HELPERS/socks5bind.py" --proxy "127.0.0.1:$SOCKS_PORT" \
	--dst 127.0.0.1:21 2>&1) || true
expect_line "$out" '^rep1=7 ' "commands: BIND not listed"
out=$(udpc --req 127.0.0.2:0 --source 127.0.0.2 --echo "127.0.0.1:$E")
note "$out"
expect_line "$out" "^echo dst=127\\.0\\.0\\.1:$E from=127\\.0\\.0\\.1:$E .* ok\$" "strict: from the named address"
out=$(udpc --req 127.0.0.2:0 --echo "127.0.0.1:$E")
note "$out"
expect_line "$out" "^echo dst=127\\.0\\.0\\.1:$E none\$" "strict: from the TCP client's address"
wait_access 'cmd=udp_associate' 'dst=127\.0\.0\.2:0' 'drops=source:1' >/dev/null
out=$(udpc --req client.test:0) || true
expect_line "$out" '^rep=8 ' "strict: a name is refused"
stop_sockeye

# --- port_range, external_address ----------------------------------------------------
write_conf "$T/range.conf" 'workers = 1;' \
	'udp = { port_range = "47300-47349"; external_address = "127.0.0.3"; };'
start_sockeye "$T/range.conf"
out=$(udpc --echo "127.0.0.1:$E")
note "$out"
expect_line "$out" '^rep=0 bnd=127\.0\.0\.3:473[0-4][0-9]$' "range: advertised address and port"
expect_line "$out" "^echo dst=127\\.0\\.0\\.1:$E from=.* ok\$" "range: relayed"
stop_sockeye

# --- an access rule -------------------------------------------------------------------
write_conf "$T/access.conf" 'workers = 1;' \
	"access = ( { action = \"deny\"; to = [ \"127.0.0.1/32\" ]; ports = [ \"$E2\" ]; },
	            { action = \"allow\"; } );"
start_sockeye "$T/access.conf"
out=$(udpc --echo "127.0.0.1:$E2" --echo "127.0.0.1:$E" --echo "127.0.0.1:$E2")
note "$out"
expect_line "$out" "^echo dst=127\\.0\\.0\\.1:$E2 none\$" "access: a refused destination"
expect_line "$out" "^echo dst=127\\.0\\.0\\.1:$E from=.* ok\$" "access: an allowed one"
line=$(wait_access 'cmd=udp_associate' 'end=closed')
note "$line"
field_ok "$line" 'drops=denied:2'
field_ok "$line" 'dgrams_up=1'
exit 0
