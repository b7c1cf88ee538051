#!/bin/sh
# SPDX-License-Identifier: ISC
# 03-replies: reply codes and bad input, with the project's SOCKS5 probe
# (tests/helpers/socks5probe.py) and a DNS stub.
. "${srcdir:-.}/tests/integration/lib.sh"

start_dnsstub v4.test=127.0.0.1
start_server echo echo
ECHO=$SERVER_PORT
ECHO6=
if have_ipv6; then
	start_server echo6 echo --v6
	ECHO6=$SERVER_PORT
fi

write_conf "$T/sockeye.conf" \
	"resolver = { servers = [ \"127.0.0.1:$DNS_PORT\" ]; timeout_ms = 500; tries = 1; };"
start_sockeye "$T/sockeye.conf"

# check WHAT REGEX... -- PROBE-ARGS...: run the probe; each REGEX must
# match a line of its output.
check() {
	_what=$1
	shift
	_res=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		_res="$_res$1
"
		shift
	done
	[ $# -gt 0 ] && shift
	_out=$(probe "$@") || fail "$_what: probe failed: $_out"
	printf '%s' "$_res" | while IFS= read -r _re; do
		[ -n "$_re" ] || continue
		expect_line "$_out" "$_re" "$_what"
	done || exit 1
	LAST=$_out
}

# 5: connection refused. The port was free a moment ago.
DEAD=$(free_port)
check "refused port" '^rep=5 ' '^closed' -- --dst "127.0.0.1:$DEAD" --wait-close

# 7: an unknown command (a command left out of `commands`: 41-bind-refusals).
check "command 0x09" '^method=00$' '^rep=7 ' '^closed' -- --cmd 9 --dst "127.0.0.1:$ECHO" --wait-close

# 8: an address type RFC 1928 does not define, then a close.
check "ATYP 0x05" '^rep=8 ' '^closed' -- --request-hex "050100057f000001$(printf %04x "$ECHO")" --wait-close

# A SOCKS4 greeting: closed, with or without a reply first; never a
# request reply, never left open.
check "version 4" '^closed' -- --greeting-hex 040100507f00000100
printf '%s\n' "$LAST" | grep -q '^rep=' && fail "version 4: got a request reply: $LAST"

# Only method 0x02 offered, "none" configured: method=ff, then closed.
check "no acceptable method" '^method=ff$' '^closed' -- --methods 02 --dst "127.0.0.1:$ECHO"
printf '%s\n' "$LAST" | grep -q '^rep=' && fail "no acceptable method: got a request reply: $LAST"

# 4: a name that does not resolve (the stub says NXDOMAIN).
check "NXDOMAIN" '^rep=4 ' '^closed' -- --dst "nx.test:$ECHO" --wait-close
grep -q '^nx\.test ' "$T/dns.queries" || fail "nx.test was never asked of the DNS stub"

# A name that resolves (stub: A 127.0.0.1), then data both ways.
check "name v4.test" '^rep=0 bnd=127\.0\.0\.1:[1-9][0-9]*$' '^echo=ok$' -- \
	--dst "v4.test:$ECHO" --send "hello v4.test" --expect-echo
grep -q '^v4\.test A$' "$T/dns.queries" || fail "v4.test A was never asked of the DNS stub"

# IPv4 and IPv6 literals, as themselves.
check "IPv4 literal" '^rep=0 bnd=127\.0\.0\.1:' '^echo=ok$' -- \
	--dst "127.0.0.1:$ECHO" --send "hello ipv4" --expect-echo
if [ -n "$ECHO6" ]; then
	check "IPv6 literal" '^rep=0 bnd=\[::1\]:' '^echo=ok$' -- \
		--dst "[::1]:$ECHO6" --send "hello ipv6" --expect-echo
fi

# DOMAINNAME requests holding IP literals: used without DNS.
check "DOMAINNAME 127.0.0.1" '^rep=0 bnd=127\.0\.0\.1:' '^echo=ok$' -- \
	--atyp 3 --dst "127.0.0.1:$ECHO" --send "hello literal" --expect-echo
if [ -n "$ECHO6" ]; then
	check "DOMAINNAME [::1]" '^rep=0 bnd=\[::1\]:' '^echo=ok$' -- \
		--atyp 3 --dst "[::1]:$ECHO6" --send "hello [::1]" --expect-echo
	check "DOMAINNAME ::1" '^rep=0 bnd=\[::1\]:' '^echo=ok$' -- \
		--atyp 3 --dst "::1:$ECHO6" --send "hello ::1" --expect-echo
fi
if grep -Eq '^(127\.0\.0\.1|\[?::1\]?) ' "$T/dns.queries"; then
	fail "an IP literal was sent to DNS: $(cat "$T/dns.queries")"
fi

# Messages in 1-byte pieces, 5 ms apart.
check "1-byte pieces" '^method=00$' '^rep=0 ' '^echo=ok$' -- \
	--dst "v4.test:$ECHO" --piece 1 --delay 0.005 --send "pieces" --expect-echo

# Greeting and request in one write.
check "greeting+request in one write" '^method=00$' '^rep=0 ' '^echo=ok$' -- \
	--dst "127.0.0.1:$ECHO" --together --send "together" --expect-echo

# A client that sends half a greeting and stalls: closed after
# handshake_timeout_s (2 s), not before 1.5 s (half a greeting is not
# malformed), well within 6 s. The same half-way through the request.
for stall in 2 6; do
	check "stall after $stall bytes" '^closed' -- \
		--dst "127.0.0.1:$ECHO" --stall-after $stall --timeout 6
	E=$(printf '%s\n' "$LAST" | sed -n 's/^elapsed=//p')
	awk -v e="$E" 'BEGIN { exit !(e >= 1.5 && e <= 6) }' ||
		fail "stall after $stall bytes: closed after ${E}s, want 2 s (1.5-6)"
done

# 200 connections of garbage: no worker dies, and the daemon still answers.
BEFORE=$(worker_pids | tr '\n' ' ')
[ -n "$BEFORE" ] || fail "no workers found under master $SOCKEYED_PID"
check "garbage" '^garbage=200 connect_failed=0$' -- --garbage 200 --seed 7
check "after garbage" '^rep=0 ' '^echo=ok$' -- \
	--dst "127.0.0.1:$ECHO" --send "still here" --expect-echo
AFTER=$(worker_pids | tr '\n' ' ')
[ "$BEFORE" = "$AFTER" ] || fail "workers changed during the garbage: before $BEFORE, after $AFTER"
proc_alive "$SOCKEYED_PID" || fail "the master died"
if grep -Eiq 'killed by signal|exited with|restarting|sanitizer|runtime error' "$T/sockeyed.log"; then
	fail "the log shows a crash: $(grep -Ei 'killed by signal|exited with|restarting|sanitizer|runtime error' "$T/sockeyed.log" | head -n 5)"
fi

exit 0
