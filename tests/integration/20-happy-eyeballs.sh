#!/bin/sh
# SPDX-License-Identifier: ISC
# 20-happy-eyeballs: the Happy Eyeballs connector (RFC 8305) end to end,
# without root: the real daemon, the DNS stub (answers, NXDOMAIN, per-type
# delays) and loopback servers, some of them black-holed (a backlog-0
# listener with a full queue on [::1] or 127.0.0.x: new SYNs go
# unanswered, as behind a firewall that drops them). Default delays
# (attempt 250 ms, resolution 50 ms), connect.timeout_s = 6.
#
# Time bounds are one-sided where they can be (a fallback cannot come
# before the attempt delay) and generous where they cannot: the tests run
# under sanitizers on a shared machine. Without Happy Eyeballs, every
# black-holed case would take the whole connect.timeout_s, so the upper
# bounds are a second or more below it.
. "${srcdir:-.}/tests/integration/lib.sh"

have_ipv6 || skip "no IPv6 loopback: Happy Eyeballs needs both families"
require_python
HETOOL=$HELPERS/hetool.py

# serve NAME ARGS...: a hetool server; sets PORT.
serve() {
	_sv=$1
	shift
	_start_helper "$_sv" "$T/$_sv.port" \
		"$PYTHON" "$HETOOL" serve --port-file "$T/$_sv.port" "$@"
	PORT=$HELPER_PORT
}

serve fallback --blackhole ::1 --listen 127.0.0.1
P_FALLBACK=$PORT
serve healthy --listen ::1 --listen 127.0.0.1
P_HEALTHY=$PORT
serve late --listen ::1 --blackhole 127.0.0.1
P_LATE=$PORT
serve eight --blackhole ::1 --blackhole 127.0.0.2 --blackhole 127.0.0.4 \
	--blackhole 127.0.0.6 --listen 127.0.0.8
P_EIGHT=$PORT
serve holes --blackhole ::1 --blackhole 127.0.0.1
P_HOLES=$PORT
serve half --blackhole ::1
P_HALF=$PORT			# 127.0.0.1 on this port refuses
P_FREE=$(free_port)		# nothing on either address

# The DNS stub on [::1]: resolver.servers takes an IPv6 server too.
_start_helper dnsstub "$T/dnsstub.port" "$PYTHON" "$HELPERS/dnsstub.py" \
	--port-file "$T/dnsstub.port" --log "$T/dns.queries" --bind ::1 \
	--delay slow6.test:AAAA=5 --delay late6.test:AAAA=1 \
	dual.test=::1 dual.test=127.0.0.1 \
	slow6.test=::1 slow6.test=127.0.0.1 \
	late6.test=::1 late6.test=127.0.0.1 \
	eight.test=::1 eight.test=127.0.0.2 eight.test=127.0.0.3 \
	eight.test=127.0.0.4 eight.test=127.0.0.5 eight.test=127.0.0.6 \
	eight.test=127.0.0.7 eight.test=127.0.0.8
DNS_PORT=$HELPER_PORT

write_conf "$T/sockeye.conf" \
	"resolver = { servers = [ \"[::1]:$DNS_PORT\" ]; timeout_ms = 5000; tries = 1; };" \
	'connect = { timeout_s = 6; };' \
	'workers = 1;'
start_sockeye "$T/sockeye.conf"

# he WHAT DST: one request through the proxy; sets OUT, REP, REPLY_S, BODY.
he() {
	_what=$1
	OUT=$(timeout 60 "$PYTHON" "$HETOOL" socks --proxy "127.0.0.1:$SOCKS_PORT" \
		--dst "$2" --timeout 20) || fail "$_what: the client failed: $OUT"
	note "$_what: $(printf '%s' "$OUT" | tr '\n' ' ')"
	REP=$(printf '%s\n' "$OUT" | sed -n 's/^rep=\([0-9]*\) .*/\1/p')
	REPLY_S=$(printf '%s\n' "$OUT" | sed -n 's/^reply_s=//p')
	BODY=$(printf '%s\n' "$OUT" | sed -n 's/^body=//p')
	[ -n "$REP" ] || fail "$_what: no reply: $OUT"
}

# within WHAT LOW HIGH: LOW <= REPLY_S < HIGH (seconds).
within() {
	awk -v t="$REPLY_S" -v lo="$2" -v hi="$3" 'BEGIN { exit !(t >= lo && t < hi) }' ||
		fail "$1: answered after ${REPLY_S}s, want $2 to $3 s"
}

# access WHAT DST REGEX...: the access line for DST has every field.
access() {
	_what=$1
	_dst=$2
	shift 2
	_l=$(wait_access " dst=$_dst ")
	for _re in "$@"; do
		printf '%s\n' "$_l" | grep -Eq "(^| )$_re( |\$)" ||
			fail "$_what: access line lacks /$_re/: $_l"
	done
}

# 1. IPv6 black-holed, IPv4 fine: IPv4 one attempt delay after IPv6,
#    well before any timeout.
he "IPv6 black-holed" "dual.test:$P_FALLBACK"
[ "$REP" = 0 ] || fail "IPv6 black-holed: rep=$REP"
[ "$BODY" = "served-by 127.0.0.1" ] || fail "IPv6 black-holed: served by '$BODY'"
within "IPv6 black-holed" 0.24 5
access "IPv6 black-holed" "dual.test:$P_FALLBACK" \
	"addr=127\.0\.0\.1:$P_FALLBACK" 'attempts=2' 'rep=0'

# 2. Both healthy: IPv6, first attempt.
he "both healthy" "dual.test:$P_HEALTHY"
[ "$REP" = 0 ] && [ "$BODY" = "served-by ::1" ] ||
	fail "both healthy: rep=$REP, served by '$BODY' (want ::1)"
access "both healthy" "dual.test:$P_HEALTHY" \
	"addr=\[::1\]:$P_HEALTHY" 'attempts=1' 'rep=0'

# 3. The AAAA answer 5 s late: IPv4 after the 50 ms resolution delay,
#    not after the AAAA.
he "AAAA 5 s late" "slow6.test:$P_HEALTHY"
[ "$REP" = 0 ] && [ "$BODY" = "served-by 127.0.0.1" ] ||
	fail "AAAA 5 s late: rep=$REP, served by '$BODY' (want 127.0.0.1)"
within "AAAA 5 s late" 0.045 4
access "AAAA 5 s late" "slow6.test:$P_HEALTHY" \
	"addr=127\.0\.0\.1:$P_HEALTHY" 'attempts=1'

# 4. A late AAAA joins the race: IPv4 hangs, the AAAA answer arrives after
#    1 s and its address wins.
he "late AAAA joins" "late6.test:$P_LATE"
[ "$REP" = 0 ] && [ "$BODY" = "served-by ::1" ] ||
	fail "late AAAA joins: rep=$REP, served by '$BODY' (want ::1)"
within "late AAAA joins" 0.95 5
access "late AAAA joins" "late6.test:$P_LATE" "addr=\[::1\]:$P_LATE" 'attempts=2'

# 5. Eight addresses, only the last works: ::1 and 127.0.0.2/4/6 hang,
#    127.0.0.3/5/7 refuse (each starting the next at once), 127.0.0.8
#    answers. The four holes are in flight after three attempt delays,
#    the most there may be (HAPPY_MAX_INFLIGHT): 127.0.0.7 waits until
#    the oldest has gone 2 s unanswered (HAPPY_STALE_MS) and takes its
#    place, then refuses, and 127.0.0.8 answers: about 2 s.
he "eight addresses" "eight.test:$P_EIGHT"
[ "$REP" = 0 ] && [ "$BODY" = "served-by 127.0.0.8" ] ||
	fail "eight addresses: rep=$REP, served by '$BODY' (want 127.0.0.8)"
within "eight addresses" 1.9 5
access "eight addresses" "eight.test:$P_EIGHT" \
	"addr=127\.0\.0\.8:$P_EIGHT" 'attempts=8'

# 6. Every address refuses: REP 5 at once.
he "all refused" "dual.test:$P_FREE"
[ "$REP" = 5 ] || fail "all refused: rep=$REP, want 5"
within "all refused" 0 5
access "all refused" "dual.test:$P_FREE" 'rep=5' 'attempts=2'

# 7. NXDOMAIN: REP 4, no attempt.
he "NXDOMAIN" "nx.test:$P_HEALTHY"
[ "$REP" = 4 ] || fail "NXDOMAIN: rep=$REP, want 4"
access "NXDOMAIN" "nx.test:$P_HEALTHY" 'rep=4' 'attempts=0' 'addr=-'

# 8. Every address black-holed: REP 6 when connect.timeout_s (6 s) ends.
he "all black-holed" "dual.test:$P_HOLES"
[ "$REP" = 6 ] || fail "all black-holed: rep=$REP, want 6"
within "all black-holed" 5.9 9
access "all black-holed" "dual.test:$P_HOLES" 'rep=6' 'attempts=2'

# 9. IPv6 black-holed, IPv4 refused: the refusal is the answer (REP 5
#    over a timeout), given when the timeout ends the IPv6 attempt.
he "refused over timeout" "dual.test:$P_HALF"
[ "$REP" = 5 ] || fail "refused over timeout: rep=$REP, want 5"
within "refused over timeout" 5.9 9
access "refused over timeout" "dual.test:$P_HALF" 'rep=5' 'attempts=2'

# Both lookups went out for a name; none for the literal-free NXDOMAIN
# beyond AAAA and A.
grep -q '^dual\.test AAAA$' "$T/dns.queries" || fail "no AAAA query for dual.test"
grep -q '^dual\.test A$' "$T/dns.queries" || fail "no A query for dual.test"

# connect.attempt_delay_ms below RFC 8305's 100 ms: accepted, with a warning.
write_conf "$T/fast.conf" 'connect = { attempt_delay_ms = 20; };'
"$SOCKEYED" -t -f "$T/fast.conf" >"$T/t.out" 2>"$T/t.err" ||
	fail "-t rejected attempt_delay_ms = 20: $(cat "$T/t.err")"
grep -q 'configuration OK' "$T/t.out" || fail "-t did not say OK: $(cat "$T/t.out")"
grep -q "warning: 'connect.attempt_delay_ms' = 20 is below" "$T/t.err" ||
	fail "no warning for attempt_delay_ms = 20: $(cat "$T/t.err")"

exit 0
