#!/bin/sh
# SPDX-License-Identifier: ISC
# 43-udp-lifetime: what may reach a UDP client, and how long an
# association lives.
#  - udp.filtering "address-dependent" (the default): of the answers to
#    one datagram from the echo server's address, another port of that
#    address and another address (127.0.0.2), the last is dropped and
#    counted (drops=filtered:1); "endpoint-independent" lets all three in;
#  - closing the TCP control connection ends the association: the relay
#    port is closed at once (a datagram to it draws ICMP port
#    unreachable) and the access line says end=closed;
#  - udp.idle_timeout_s without a datagram ends it too: the daemon
#    closes the control connection (end=idle-timeout).
. "${srcdir:-.}/tests/integration/lib.sh"
require_python

udpc() {
	timeout 60 "$PYTHON" "$HELPERS/socks5udp.py" --proxy "127.0.0.1:$SOCKS_PORT" \
		--wait 2 "$@" 2>>"$T/udpc.log"
}
_start_helper echo "$T/echo.port" "$PYTHON" "$HELPERS/udpecho.py" \
	--port-file "$T/echo.port" --bind 127.0.0.1 --other 127.0.0.2
E=$HELPER_PORT

# --- address-dependent filtering ---------------------------------------------------
write_conf "$T/ad.conf" 'workers = 1;' 'udp = { idle_timeout_s = 3; };'
start_sockeye "$T/ad.conf"
out=$(udpc --wait 1 --extra "127.0.0.1:$E" --close-check)
note "$out"
got=$(printf '%s\n' "$out" | sed -n 's/^extra got=//p')
case $got in
*127.0.0.2:*) fail "address-dependent: the answer from 127.0.0.2 got through: $got" ;;
esac
[ "$(printf '%s' "$got" | tr ',' '\n' | grep -c '^127\.0\.0\.1:')" = 2 ] ||
	fail "address-dependent: want both answers from 127.0.0.1, got '$got'"
# --- ... and the end of the control connection is the end of the association
expect_line "$out" '^closed_refused=yes$' "close: the relay port is closed"
line=$(wait_access 'cmd=udp_associate' 'end=closed')
note "$line"
field_ok "$line" 'drops=filtered:1'
field_ok "$line" 'drops_down=1'
field_ok "$line" 'dgrams_down=2'

# --- the idle timeout -------------------------------------------------------------------
out=$(udpc --wait 1 --echo "127.0.0.1:$E" --wait-eof 15)
note "$out"
expect_line "$out" '^control=eof$' "idle: the daemon closed the control connection"
line=$(wait_access 'cmd=udp_associate' 'end=idle-timeout')
note "$line"
field_ok "$line" 'dgrams_up=1'
MS=$(printf '%s\n' "$line" | sed -n 's/.* ms=\([0-9]*\) .*/\1/p')
[ "$MS" -ge 2900 ] && [ "$MS" -lt 12000 ] || fail "idle: ended after $MS ms, want about 3000"
stop_sockeye

# --- endpoint-independent filtering ---------------------------------------------------
write_conf "$T/ei.conf" 'workers = 1;' 'udp = { filtering = "endpoint-independent"; };'
start_sockeye "$T/ei.conf"
out=$(udpc --extra "127.0.0.1:$E")
note "$out"
got=$(printf '%s\n' "$out" | sed -n 's/^extra got=//p')
case $got in
*127.0.0.2:*) ;;
*) fail "endpoint-independent: no answer from 127.0.0.2: '$got'" ;;
esac
line=$(wait_access 'cmd=udp_associate' 'end=closed')
field_ok "$line" 'dgrams_down=3'
field_ok "$line" 'drops=-'
exit 0
