#!/bin/sh
# SPDX-License-Identifier: ISC
# 21-he-netns: Happy Eyeballs over a real (virtual) network, as root: two
# network namespaces joined by a veth (tests/helpers/he-netns.sh), the
# destination dual-stack in one, sockeyed, its DNS stub and curl in the
# other. curl asks for names through sockeyed and is timed:
#
#   healthy.test  both paths work               -> IPv6, one attempt
#   broken.test   IPv6 dropped by ip6tables     -> IPv4 after the 250 ms
#                                                  attempt delay
#   slow.test     IPv6 over a path with 600 ms  -> IPv4 after the attempt
#                 added each way (a tun wire)      delay: the IPv6
#                                                  handshake needs 1.2 s
#
# The bounds are generous (sanitizers, a shared machine) yet below what
# the same requests cost without Happy Eyeballs: broken.test would wait
# for connect.timeout_s (20 s here), slow.test would be served over IPv6
# after at least 2.4 s (two round trips).
#
# The script runs twice: as itself (set up the namespaces, start the
# destination, clean up) and, re-executed inside namespace P, as the
# test proper (HE_INNER=1).
. "${srcdir:-.}/tests/integration/lib.sh"
. "$srcdir/tests/helpers/he-netns.sh"

PORT=8080

if [ "${HE_INNER:-}" != 1 ]; then
	he_netns_require
	he_need_ip6tables
	he_need_tun
	command -v curl >/dev/null 2>&1 || skip "curl not installed"
	he_netns_up
	he_wire_up 600
	he_drop_v6 $PORT
	he_serve $PORT
	# The network works as described, before sockeyed is involved.
	inP curl -sS --max-time 5 "http://[$HE_V6_HEALTHY]:$PORT/" >"$T/c6" 2>&1 ||
		error "healthy IPv6 path broken: $(cat "$T/c6")"
	inP curl -sS --max-time 5 "http://$HE_V4_S:$PORT/" >"$T/c4" 2>&1 ||
		error "IPv4 path broken: $(cat "$T/c4")"
	inP curl -sS --max-time 10 "http://[$HE_V6_SLOW]:$PORT/" >"$T/cs" 2>&1 ||
		error "slow IPv6 path broken: $(cat "$T/cs")"
	if inP curl -sS --max-time 1 "http://[$HE_V6_BROKEN]:$PORT/" >"$T/cb" 2>&1; then
		error "the dropped IPv6 path answered: $(cat "$T/cb")"
	fi
	rc=0
	HE_INNER=1 ip netns exec "$HE_NS_P" "${SHELL:-/bin/sh}" "$0" || rc=$?
	exit $rc
fi

# --- inside namespace P ----------------------------------------------------

# shellcheck disable=SC2046
start_dnsstub $(he_records)
write_conf "$T/sockeye.conf" \
	"resolver = { servers = [ \"127.0.0.1:$DNS_PORT\" ]; };" \
	'connect = { timeout_s = 20; };'
start_sockeye "$T/sockeye.conf"

# fetch NAME: curl through sockeyed; sets BODY and TTFB (seconds).
fetch() {
	_rc=0
	_w=$(timeout 60 curl -sS --max-time 30 -o "$T/body" -w '%{time_starttransfer}' \
		--socks5-hostname "127.0.0.1:$SOCKS_PORT" "http://$1:$PORT/" 2>"$T/curl.err") ||
		_rc=$?
	[ $_rc -eq 0 ] || fail "$1: curl exited $_rc: $(cat "$T/curl.err")"
	BODY=$(cat "$T/body")
	TTFB=$_w
	note "$1: $BODY, first byte after ${TTFB}s"
}

ttfb_within() {
	awk -v t="$TTFB" -v lo="$2" -v hi="$3" 'BEGIN { exit !(t >= lo && t < hi) }' ||
		fail "$1: first byte after ${TTFB}s, want $2 to $3 s"
}

fetch healthy.test
[ "$BODY" = "served-by $HE_V6_HEALTHY" ] || fail "healthy.test: served by '$BODY', want IPv6"
L=$(wait_access " dst=healthy\.test:$PORT ")
field_ok "$L" "addr=\[2001:db8:1::3\]:$PORT"
field_ok "$L" 'attempts=1'

fetch broken.test
[ "$BODY" = "served-by $HE_V4_S" ] || fail "broken.test: served by '$BODY', want IPv4"
ttfb_within broken.test 0.24 5
L=$(wait_access " dst=broken\.test:$PORT ")
field_ok "$L" "addr=198\.51\.100\.2:$PORT"
field_ok "$L" 'attempts=2'
field_ok "$L" 'rep=0'

fetch slow.test
[ "$BODY" = "served-by $HE_V4_S" ] || fail "slow.test: served by '$BODY', want IPv4"
ttfb_within slow.test 0.24 2
L=$(wait_access " dst=slow\.test:$PORT ")
field_ok "$L" "addr=198\.51\.100\.2:$PORT"
field_ok "$L" 'attempts=2'

exit 0
