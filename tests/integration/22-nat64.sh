#!/bin/sh
# SPDX-License-Identifier: ISC
# 22-nat64: an IPv4 literal on a host with no IPv4 route is reached
# through NAT64 (RFC 8305 section 7.1), as root, in a network namespace
# made for it: its only non-loopback route is 64:ff9b::/96 (the address
# 64:ff9b::c633:6402, which stands for 198.51.100.2, lives on lo, so no
# real NAT64 is needed). The DNS stub plays DNS64: ipv4only.arpa has the
# AAAA records 64:ff9b::c000:aa and 64:ff9b::c000:ab (RFC 7050).
#
#   198.51.100.2 (ATYP 1 and as a name)  -> [64:ff9b::c633:6402], 2 attempts
#   the prefix is looked up once per worker and then kept
#   no DNS64 (no ipv4only.arpa AAAA)     -> REP 3, network unreachable
#
# Runs twice: as itself (namespace set-up and clean-up) and inside the
# namespace as the test proper (HE_INNER=1).
. "${srcdir:-.}/tests/integration/lib.sh"
. "$srcdir/tests/helpers/he-netns.sh"

V4=198.51.100.2
SYNTH=64:ff9b::c633:6402

if [ "${HE_INNER:-}" != 1 ]; then
	he_netns_require
	HE_NS_P="sockeye-$$-n"
	trap _he_cleanup EXIT
	ip netns add "$HE_NS_P" || skip "cannot create network namespaces here"
	ip -n "$HE_NS_P" link set lo up
	ip -n "$HE_NS_P" -6 addr add "$SYNTH/96" dev lo nodad ||
		error "cannot add $SYNTH"
	if inP ip route get "$V4" >/dev/null 2>&1; then
		error "$V4 is routable in the namespace"
	fi
	rc=0
	HE_INNER=1 ip netns exec "$HE_NS_P" "${SHELL:-/bin/sh}" "$0" || rc=$?
	exit $rc
fi

# --- inside the namespace --------------------------------------------------

_start_helper dest "$T/dest.port" "$PYTHON" "$HELPERS/hetool.py" serve \
	--port-file "$T/dest.port" --listen "$SYNTH"
PORT=$HELPER_PORT

start_dnsstub ipv4only.arpa=64:ff9b::c000:aa ipv4only.arpa=64:ff9b::c000:ab \
	ipv4only.arpa=192.0.0.170 ipv4only.arpa=192.0.0.171
write_conf "$T/sockeye.conf" \
	"resolver = { servers = [ \"127.0.0.1:$DNS_PORT\" ]; };" \
	'workers = 1;'
start_sockeye "$T/sockeye.conf"

# he WHAT DST [ATYP]: one request; sets REP and BODY.
he() {
	OUT=$(timeout 60 "$PYTHON" "$HELPERS/hetool.py" socks \
		--proxy "127.0.0.1:$SOCKS_PORT" --dst "$2" --timeout 20) ||
		fail "$1: the client failed: $OUT"
	note "$1: $(printf '%s' "$OUT" | tr '\n' ' ')"
	REP=$(printf '%s\n' "$OUT" | sed -n 's/^rep=\([0-9]*\) .*/\1/p')
	BODY=$(printf '%s\n' "$OUT" | sed -n 's/^body=//p')
}

he "IPv4 literal" "$V4:$PORT"
[ "$REP" = 0 ] || fail "IPv4 literal: rep=$REP, want 0"
[ "$BODY" = "served-by $SYNTH" ] || fail "IPv4 literal: served by '$BODY'"
L=$(wait_access " dst=198\.51\.100\.2:$PORT ")
field_ok "$L" "addr=\[64:ff9b::c633:6402\]:$PORT"
field_ok "$L" 'attempts=2'
field_ok "$L" 'rep=0'

# Again, and as a DOMAINNAME holding the literal (as PuTTY sends it).
he "IPv4 literal again" "$V4:$PORT"
[ "$REP" = 0 ] || fail "IPv4 literal again: rep=$REP"
OUT=$(timeout 60 "$PYTHON" "$HELPERS/socks5probe.py" -p "$SOCKS_PORT" --atyp 3 \
	--dst "$V4:$PORT") ||
	fail "literal as a name: probe failed: $OUT"
expect_line "$OUT" '^rep=0 ' "literal as a name"

N=$(grep -c '^ipv4only\.arpa AAAA$' "$T/dns.queries" || true)
[ "$N" = 1 ] || fail "ipv4only.arpa asked $N times, want once (then kept)"

# No DNS64: nothing to synthesise with, the literal is unreachable.
stop_sockeye
if grep -Eq 'ERROR: [A-Za-z]+Sanitizer|runtime error: ' "$T/sockeyed.log"; then
	fail "sanitizer report in the first daemon's log"
fi
_start_helper dns2 "$T/dns2.port" "$PYTHON" "$HELPERS/dnsstub.py" \
	--port-file "$T/dns2.port" other.test=192.0.2.1
mv "$T/sockeyed.log" "$T/sockeyed-1.log"
write_conf "$T/sockeye2.conf" \
	"resolver = { servers = [ \"127.0.0.1:$HELPER_PORT\" ]; };" \
	'workers = 1;'
start_sockeye "$T/sockeye2.conf"
he "no DNS64" "$V4:$PORT"
[ "$REP" = 3 ] || fail "no DNS64: rep=$REP, want 3 (network unreachable)"
L=$(wait_access " dst=198\.51\.100\.2:$PORT ")
field_ok "$L" "addr=198\.51\.100\.2:$PORT"
field_ok "$L" 'attempts=1'
field_ok "$L" 'rep=3'

exit 0
