#!/bin/sh
# SPDX-License-Identifier: ISC
# 52-reload-listen: reloads that change `listen`. While 3 clients keep
# opening short sessions on port A, a reload adds port B: not one of
# their connections is refused or cut (A keeps its socket), and B
# accepts. A second reload drops A: A refuses connections, B still
# serves, and the -P port file lists B alone.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"

require_python

start_server echo echo
ECHO=$SERVER_PORT
A=$(free_port)
B=$(free_port)
[ "$A" != "$B" ] || B=$(free_port)
write_conf "$T/sockeye.conf" "listen = [ \"127.0.0.1:$A\" ];"
start_sockeye "$T/sockeye.conf"
[ "$SOCKS_PORT" = "$A" ] || fail "listening on $SOCKS_PORT, not $A"

# echo_via PORT: one session through the proxy on PORT.
echo_via() {
	OUT=$(timeout 30 "$PYTHON" "$HELPERS/socks5probe.py" -p "$1" \
		--dst "127.0.0.1:$ECHO" --send "via $1" --expect-echo 2>&1) || return 1
	printf '%s\n' "$OUT" | grep -q '^echo=ok$'
}
echo_via "$A" || fail "port $A does not serve: $OUT"

# Churn on A across the reload that adds B.
bg churn "$PYTHON" "$HELPERS/sessions.py" -p "$A" \
	--dst "127.0.0.1:$ECHO" -n 3 --churn "$T/stop" --timeout 60
sleep 1
write_conf "$T/sockeye.conf" "listen = [ \"127.0.0.1:$A\", \"127.0.0.1:$B\" ];"
reload_sockeye
[ "$RELOAD_RESULT" = done ] || fail "reload adding $B failed"
sleep 1
touch "$T/stop"
wait_for 60 grep -q '^churn ' "$T/churn.out" || fail "churn did not finish"
grep -Eq '^churn ok=[1-9][0-9]* bad=0$' "$T/churn.out" ||
	fail "sessions on $A failed across the reload: $(cat "$T/churn.out")"
note "$(cat "$T/churn.out")"
echo_via "$B" || fail "new port $B does not serve: $OUT"
echo_via "$A" || fail "kept port $A does not serve: $OUT"
grep -qx "127.0.0.1:$B" "$T/ports" || fail "port file lacks $B: $(cat "$T/ports")"

# Drop A.
write_conf "$T/sockeye.conf" "listen = [ \"127.0.0.1:$B\" ];"
reload_sockeye
[ "$RELOAD_RESULT" = done ] || fail "reload dropping $A failed"
refused() {
	"$PYTHON" -c '
import socket, sys
s = socket.socket()
s.settimeout(5)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)' "$1"
}
# The old generation closes its copy as soon as it is told to drain (the
# bound is for a loaded machine).
wait_for 15 refused "$A" || fail "port $A still accepts connections 15 s after the reload"
echo_via "$B" || fail "port $B does not serve after dropping $A: $OUT"
[ "$(cat "$T/ports")" = "127.0.0.1:$B" ] || fail "port file: $(cat "$T/ports")"
grep -q "no longer listening on 127.0.0.1:$A" "$T/sockeyed.log" ||
	fail "the log does not say $A was dropped"
exit 0
