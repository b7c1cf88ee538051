#!/bin/sh
# SPDX-License-Identifier: ISC
# 45-udp-burst: 10,000 numbered datagrams in a burst through one
# association to a UDP echo server and back. Loss is allowed (the
# machine is small and shared, the daemon may run under ASan); hidden
# loss is not. Every datagram must be accounted for at each hop, by a
# counter that says where it went:
#
#   client sent        = relayed up (dgrams_up) + dropped up (drops_up,
#                        which includes the relay socket's kernel drops)
#   relayed up         = echo server received + its socket's kernel drops
#   echo server echoed = relayed down (dgrams_down) + dropped down
#                        (drops_down, incl. the outbound socket's)
#   relayed down       = client received + its socket's kernel drops
#
# The kernel's loopback backlog can also drop, outside any socket
# (/proc/net/softnet_stat): any such drops during the burst are allowed
# as slack in the sums, and reported.
. "${srcdir:-.}/tests/integration/lib.sh"
require_python

N=${UDP_BURST_COUNT:-10000}

softnet_drops() {
	awk '{ s += strtonum("0x" $2) } END { print s + 0 }' /proc/net/softnet_stat 2>/dev/null ||
		echo 0
}
# field NAME LINE: the value of NAME=... in LINE
val() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }

_start_helper echo "$T/echo.port" "$PYTHON" "$HELPERS/udpecho.py" \
	--port-file "$T/echo.port" --bind 127.0.0.1
E=$HELPER_PORT
write_conf "$T/sockeye.conf" 'workers = 1;' \
	'log = { target = "stderr"; level = "info"; access = true; };'
start_sockeye "$T/sockeye.conf"

SN0=$(softnet_drops)
out=$(timeout 150 "$PYTHON" "$HELPERS/socks5udp.py" --proxy "127.0.0.1:$SOCKS_PORT" \
	--burst "$N" --burst-dst "127.0.0.1:$E" --burst-size 64 --burst-time 60 \
	--settle 2 2>>"$T/udpc.log") || fail "burst client: $out $(cat "$T/udpc.log")"
note "$out"
SN1=$(softnet_drops)
b=$(printf '%s\n' "$out" | grep '^burst ') || fail "no burst line: $out"
SENT=$(val sent "$b")
RECEIVED=$(val received "$b")
CDROPS=$(val kernel_drops "$b")
BAD=$(val bad "$b")

stats=$("$PYTHON" - "$E" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"STATS", ("127.0.0.1", int(sys.argv[1])))
print(s.recv(200).decode())
EOF
) || fail "no stats from the echo server"
note "echo server: $stats"
ERECV=$(val received "$stats")
EECHO=$(val echoed "$stats")
EDROPS=$(val drops "$stats")

line=$(wait_access 'cmd=udp_associate' 'end=closed')
note "$line"
UP=$(val dgrams_up "$line")
DOWN=$(val dgrams_down "$line")
DUP=$(val drops_up "$line")
DDOWN=$(val drops_down "$line")
SLACK=$((SN1 - SN0))

note "sent $SENT; relayed up $UP, dropped up $DUP; echo received $ERECV (kernel drops $EDROPS), echoed $EECHO;" \
	"relayed down $DOWN, dropped down $DDOWN; client received $RECEIVED (kernel drops $CDROPS); softnet drops $SLACK"

[ "$SENT" = "$N" ] || fail "the client sent $SENT of $N"
[ "$BAD" = 0 ] || fail "$BAD datagrams came back malformed"
[ "$RECEIVED" -gt 0 ] || fail "nothing came back"
# balance WHAT LEFT RIGHT: LEFT == RIGHT, or short of it by at most SLACK
balance() {
	_d=$(($2 - $3))
	[ "$_d" -ge 0 ] && [ "$_d" -le "$SLACK" ] ||
		fail "$1: $2 in, $3 accounted for (softnet slack $SLACK)"
}
balance "client -> relay" "$SENT" $((UP + DUP))
balance "relay -> echo server" "$UP" $((ERECV + EDROPS))
balance "echo server -> relay" "$EECHO" $((DOWN + DDOWN))
balance "relay -> client" "$DOWN" $((RECEIVED + CDROPS))
# Only the kinds of drop a clean burst can cause.
case $(val drops "$line") in
-|*source*|*malformed*|*frag*|*denied*|*resolve*|*filtered*|*no_client*)
	[ "$(val drops "$line")" = - ] || fail "unexpected drop reasons: $(val drops "$line")" ;;
esac
echo "# $N sent, $RECEIVED back: $((N - RECEIVED)) lost, all counted"
exit 0
