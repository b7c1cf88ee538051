#!/bin/sh
# SPDX-License-Identifier: ISC
# 02-curl: real clients. curl --socks5 to a local HTTP server by IPv4 and
# by [::1], curl --socks5-hostname by the name localhost, over the IPv4 and
# the IPv6 listener; then the access log lines.
. "${srcdir:-.}/tests/integration/lib.sh"

command -v curl >/dev/null 2>&1 || skip "curl not installed"

BODY="sockeye 02-curl page $$"
start_server web http --body "$BODY"
P=$SERVER_PORT
P6=
if have_ipv6; then
	start_server web6 http --v6 --body "$BODY"
	P6=$SERVER_PORT
fi

write_conf "$T/sockeye.conf"
start_sockeye "$T/sockeye.conf"

# fetch WHAT CURL-ARGS...: the page must come back whole.
fetch() {
	_what=$1
	shift
	_rc=0
	_got=$(timeout 20 curl -gsS --max-time 15 "$@" 2>"$T/curl.err") || _rc=$?
	[ $_rc -eq 0 ] || fail "$_what: curl exited $_rc: $(cat "$T/curl.err")"
	[ "$_got" = "$BODY" ] || fail "$_what: got '$_got', want '$BODY'"
}

fetch "IPv4 destination" --socks5 "127.0.0.1:$SOCKS_PORT" "http://127.0.0.1:$P/"
fetch "name localhost" --socks5-hostname "127.0.0.1:$SOCKS_PORT" "http://localhost:$P/"
if [ -n "$P6" ]; then
	fetch "IPv6 destination" --socks5 "127.0.0.1:$SOCKS_PORT" "http://[::1]:$P6/"
	[ -n "$SOCKS_PORT6" ] || fail "no second (IPv6) listener in $T/ports"
	fetch "IPv6 listener" -x "socks5h://[::1]:$SOCKS_PORT6" "http://localhost:$P/"
	fetch "IPv6 listener, IPv6 destination" -x "socks5://[::1]:$SOCKS_PORT6" "http://[::1]:$P6/"
fi

# The access line of the localhost fetch over the IPv4 listener. The name
# resolves through /etc/hosts; whichever address sockeyed tries first,
# only 127.0.0.1:$P accepts (unless the IPv6 server got the same port
# number, which the kernel allows across families).
LOCALHOST_ADDR="127\.0\.0\.1:$P"
[ "$P" != "$P6" ] || LOCALHOST_ADDR="(127\.0\.0\.1|\[::1\]):$P"
L=$(wait_access ' client=127\.0\.0\.1:' " dst=localhost:$P( |\$)")
field_ok "$L" 'user=-'
field_ok "$L" 'client=127\.0\.0\.1:[0-9]+'
field_ok "$L" 'cmd=connect'
field_ok "$L" "dst=localhost:$P"
field_ok "$L" "addr=$LOCALHOST_ADDR"
field_ok "$L" 'rep=0'
field_ok "$L" 'bytes_up=[1-9][0-9]*'
field_ok "$L" 'bytes_down=[1-9][0-9]*'
field_ok "$L" 'ms=[0-9]+'

# The IPv4 literal: dst as requested, addr the same.
L=$(wait_access " dst=127\.0\.0\.1:$P( |\$)")
field_ok "$L" "addr=127\.0\.0\.1:$P"
field_ok "$L" 'rep=0'

if [ -n "$P6" ]; then
	# An IPv6 destination is written [IPv6]:PORT.
	L=$(wait_access ' client=127\.0\.0\.1:' " dst=\[::1\]:$P6( |\$)")
	field_ok "$L" "addr=\[::1\]:$P6"
	field_ok "$L" 'rep=0'
	field_ok "$L" 'bytes_down=[1-9][0-9]*'
	# A client of the IPv6 listener is written [::1]:PORT.
	L=$(wait_access ' client=\[::1\]:' " dst=localhost:$P( |\$)")
	field_ok "$L" 'user=-'
	field_ok "$L" "addr=$LOCALHOST_ADDR"
	field_ok "$L" 'rep=0'
	field_ok "$L" 'bytes_up=[1-9][0-9]*'
	field_ok "$L" 'bytes_down=[1-9][0-9]*'
fi

# Exactly one access line per session: 2 fetches, plus 3 over IPv6.
WANT=2
[ -z "$P6" ] || WANT=5
wait_for 5 sh -c "[ \$(grep -c ' info: access ' '$T/sockeyed.log') -ge $WANT ]" || true
N=$(grep -c ' info: access ' "$T/sockeyed.log" || true)
[ "$N" -eq "$WANT" ] || fail "$N access lines for $WANT sessions"

exit 0
