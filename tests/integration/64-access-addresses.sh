#!/bin/sh
# SPDX-License-Identifier: ISC
# 64-access-addresses: destinations are matched by what they reach, and
# the command is asked before the socket.
#  - with a policy denying 127.0.0.0/8 and ::1/128 (and allowing the
#    rest), CONNECT to 0.0.0.0:P, [::ffff:0.0.0.0]:P, [::]:P, "0.0.0.0"
#    as a name, a name that resolves to 0.0.0.0 (as blocklist resolvers
#    answer), [::ffff:127.0.0.1]:P, [::127.0.0.1]:P and 64:ff9b::7f00:1
#    all get REP 2, and the listener on P (on the wildcard address, so
#    0.0.0.0 and :: reach it) never sees a connection; a direct connect
#    to 0.0.0.0:P shows that it would have;
#  - a UDP datagram to 0.0.0.0 (where an echo server would answer) is
#    dropped and counted (drops=denied);
#  - without any `access` rules, 0.0.0.0:P and [::]:P still get REP 2,
#    logged as an unspecified address and counted as access-rule
#    refusals on the status socket;
#  - a user a rule denies `bind` and `udp_associate` gets REP 2 at once,
#    with the rule's FILE:LINE in the log, and the worker never opens a
#    listening socket or a UDP socket for it (strace on the worker, when
#    strace is there and may attach; the debug log in any case), while
#    another user's BIND and UDP ASSOCIATE do (the control).
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"
require_python

# --- a listener on the wildcard address that counts connections --------------
cat >"$T/counter.py" <<'EOF'
import os, socket, sys
port_file, count_file = sys.argv[1], sys.argv[2]
try:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", 0))
except OSError:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("0.0.0.0", 0))
s.listen(16)
open(port_file + ".tmp", "w").write("%d\n" % s.getsockname()[1])
os.rename(port_file + ".tmp", port_file)
while True:
    c, a = s.accept()
    with open(count_file, "a") as f:
        f.write("%s\n" % (a[0],))
    c.close()
EOF
: >"$T/conns"
_start_helper counter "$T/counter.port" "$PYTHON" "$T/counter.py" \
	"$T/counter.port" "$T/conns"
P=$HELPER_PORT
conns() { wc -l <"$T/conns" | tr -d ' '; }

_start_helper uecho "$T/uecho.port" "$PYTHON" "$HELPERS/udpecho.py" \
	--port-file "$T/uecho.port" --bind 127.0.0.1
E=$HELPER_PORT

start_dnsstub zero.test=0.0.0.0 zero6.test=:: mapped.test=::ffff:127.0.0.1
mkuser "$T/users" alice alice-pw
mkuser "$T/users" mallory mallory-pw

denied() {
	_d=$1
	shift
	_o=$(probe "$@" --wait-close) || fail "$_d: probe: $_o"
	expect_line "$_o" '^rep=2 ' "$_d"
}

# --- a policy denying loopback ------------------------------------------------------
# Rule lines matter: the log must name them. Keep this layout.
write_conf "$T/sockeye.conf" 'workers = 1;' \
	"resolver = { servers = [ \"127.0.0.1:$DNS_PORT\" ]; timeout_ms = 1000; tries = 2; };" \
	"auth = { methods = [ \"none\", \"password\" ]; users_file = \"$T/users\"; };"
cat >>"$T/sockeye.conf" <<'EOC'
access = (
  { action = "deny"; users = [ "mallory" ]; commands = [ "bind", "udp_associate" ]; },
  { action = "deny"; to = [ "127.0.0.0/8", "::1/128" ]; },
  { action = "allow"; }
);
EOC
MALLORY_LINE=$(grep -n '"mallory"' "$T/sockeye.conf" | cut -d: -f1)
LO_LINE=$(grep -n '"127.0.0.0/8"' "$T/sockeye.conf" | cut -d: -f1)
start_sockeye "$T/sockeye.conf"

denied "0.0.0.0" --dst "0.0.0.0:$P"
grep -q "refused: user=- client=127\.0\.0\.1:[0-9]* cmd=connect dst=0\.0\.0\.0:$P: an unspecified address" \
	"$T/sockeyed.log" || fail "0.0.0.0: no refusal line saying it is an unspecified address"
denied "0.0.0.0 sent as a name" --atyp 3 --dst "0.0.0.0:$P"
denied "a name resolving to 0.0.0.0" --dst "zero.test:$P"
grep -q '^zero\.test A$' "$T/dns.queries" || fail "zero.test was not looked up"
grep -q "refused: .*dst=zero\.test:$P: an unspecified address" "$T/sockeyed.log" ||
	fail "zero.test: no refusal line saying it is an unspecified address"
denied "0.0.1.2 (0.0.0.0/8)" --dst "0.0.1.2:$P"
if have_ipv6; then
	denied "[::]" --dst "[::]:$P"
	denied "[::ffff:0.0.0.0]" --dst "[::ffff:0.0.0.0]:$P"
	denied "[::ffff:127.0.0.1]" --dst "[::ffff:127.0.0.1]:$P"
	grep -q "refused: .*dst=\[::ffff:127\.0\.0\.1\]:$P: denied by the access rule at $T/sockeye.conf:$LO_LINE" \
		"$T/sockeyed.log" || fail "[::ffff:127.0.0.1]: the refusal does not name the rule at line $LO_LINE"
	denied "[::127.0.0.1] (IPv4-compatible)" --dst "[::127.0.0.1]:$P"
	denied "[64:ff9b::7f00:1] (NAT64)" --dst "[64:ff9b::7f00:1]:$P"
	grep -q "refused: .*dst=\[64:ff9b::7f00:1\]:$P: denied by the access rule at $T/sockeye.conf:$LO_LINE" \
		"$T/sockeyed.log" || fail "64:ff9b::7f00:1: the refusal does not name the rule at line $LO_LINE"
	denied "a name resolving to ::" --dst "zero6.test:$P"
	denied "a name resolving to ::ffff:127.0.0.1" --dst "mapped.test:$P"
else
	note "no IPv6: the IPv6 forms are not tried"
fi
sleep 0.5
[ "$(conns)" = 0 ] || fail "the listener on port $P saw $(conns) connection(s): $(tr '\n' ' ' <"$T/conns")"
line=$(wait_access 'cmd=connect' "dst=0\\.0\\.0\\.0:$P")
field_ok "$line" 'rep=2'
field_ok "$line" 'end=access-denied'

# UDP: a datagram to 0.0.0.0 is dropped (sent, it would reach the echo
# server on 127.0.0.1; the no-rules part below shows the echo works).
out=$(timeout 60 "$PYTHON" "$HELPERS/socks5udp.py" --proxy "127.0.0.1:$SOCKS_PORT" \
	--wait 2 --echo "0.0.0.0:$E" 2>>"$T/udpc.log")
note "$out"
expect_line "$out" "^echo dst=0\\.0\\.0\\.0:$E none\$" "udp: a datagram to 0.0.0.0"
line=$(wait_access 'cmd=udp_associate' 'end=closed')
note "$line"
field_ok "$line" 'drops=denied:1'
field_ok "$line" 'dgrams_up=0'

# --- the command before the socket ------------------------------------------------
W=$(worker_pids | head -n 1)
[ -n "$W" ] || error "no worker"
strace_on() {
	rm -f "$T/strace.$1"
	STRACE_PID=
	command -v strace >/dev/null 2>&1 || return 0
	strace -f -qq -p "$W" -e trace=socket,listen -o "$T/strace.$1" \
		2>"$T/strace.$1.err" &
	STRACE_PID=$!
	echo "$STRACE_PID" >"$T/pids/strace"
	# Attached once the first line of output would be possible.
	sleep 1
	kill -0 "$STRACE_PID" 2>/dev/null || STRACE_PID=
}
strace_off() {
	[ -n "$STRACE_PID" ] || return 0
	sleep 0.5
	kill "$STRACE_PID" 2>/dev/null || true
	wait "$STRACE_PID" 2>/dev/null || true
	rm -f "$T/pids/strace"
}

mark=$(wc -l <"$T/sockeyed.log")
strace_on mallory
out=$(SOCKEYE_PASSWORD=mallory-pw timeout 60 "$PYTHON" "$HELPERS/socks5bind.py" \
	--proxy "127.0.0.1:$SOCKS_PORT" --user mallory --dst 127.0.0.1:21 \
	--timeout 10 2>>"$T/bindc.log")
note "$out"
expect_line "$out" '^rep1=2 ' "bind denied to mallory: REP 2 in the first reply"
out=$(SOCKEYE_PASSWORD=mallory-pw timeout 60 "$PYTHON" "$HELPERS/socks5udp.py" \
	--proxy "127.0.0.1:$SOCKS_PORT" --user mallory --wait 1 2>>"$T/udpc.log") || true
note "$out"
expect_line "$out" '^rep=2 ' "udp_associate denied to mallory: REP 2"
strace_off
tail -n +"$((mark + 1))" "$T/sockeyed.log" >"$T/mallory.log"
grep -q "refused: user=mallory .*cmd=bind .*denied by the access rule at $T/sockeye.conf:$MALLORY_LINE" \
	"$T/mallory.log" || fail "bind: no refusal naming the rule at line $MALLORY_LINE"
grep -q "refused: user=mallory .*cmd=udp_associate .*denied by the access rule at $T/sockeye.conf:$MALLORY_LINE" \
	"$T/mallory.log" || fail "udp_associate: no refusal naming the rule at line $MALLORY_LINE"
grep -Eq 'bind: listening on|udp: relaying at' "$T/mallory.log" &&
	fail "a socket was opened for mallory: $(grep -E 'bind: listening on|udp: relaying at' "$T/mallory.log")"
if [ -n "$STRACE_PID" ]; then
	grep -E 'listen\(|SOCK_DGRAM' "$T/strace.mallory" >"$T/strace.bad" &&
		fail "the worker opened a socket for mallory: $(tr '\n' '|' <"$T/strace.bad")"
else
	note "strace not usable: the debug log is the only witness"
fi

# The control: alice may, and her requests do open the sockets.
mark=$(wc -l <"$T/sockeyed.log")
strace_on alice
out=$(SOCKEYE_PASSWORD=alice-pw timeout 60 "$PYTHON" "$HELPERS/socks5bind.py" \
	--proxy "127.0.0.1:$SOCKS_PORT" --user alice --dst 127.0.0.1:21 \
	--no-peer --timeout 3 2>>"$T/bindc.log") || true
note "$out"
expect_line "$out" '^rep1=0 ' "bind allowed to alice"
out=$(SOCKEYE_PASSWORD=alice-pw timeout 60 "$PYTHON" "$HELPERS/socks5udp.py" \
	--proxy "127.0.0.1:$SOCKS_PORT" --user alice --wait 1 2>>"$T/udpc.log") || true
note "$out"
expect_line "$out" '^rep=0 ' "udp_associate allowed to alice"
strace_off
tail -n +"$((mark + 1))" "$T/sockeyed.log" >"$T/alice.log"
grep -q 'bind: listening on' "$T/alice.log" || fail "control: no 'bind: listening on' for alice"
grep -q 'udp: relaying at' "$T/alice.log" || fail "control: no 'udp: relaying at' for alice"
if [ -n "$STRACE_PID" ]; then
	grep -q 'listen(' "$T/strace.alice" ||
		fail "control: strace saw no listen() for alice's BIND: $(head -c 500 "$T/strace.alice.err")"
	grep -q 'SOCK_DGRAM' "$T/strace.alice" ||
		fail "control: strace saw no UDP socket for alice's UDP ASSOCIATE"
	note "strace: $(grep -c 'listen(' "$T/strace.alice") listen() and $(grep -c 'SOCK_DGRAM' "$T/strace.alice") UDP socket() for alice; $(grep -c -E 'socket\(|listen\(' "$T/strace.mallory") socket()/listen() for mallory"
fi
stop_sockeye

# --- no access rules at all ------------------------------------------------------------
write_conf "$T/open.conf" 'workers = 1;' "status_socket = \"$T/status.sock\";"
start_sockeye "$T/open.conf"
denied "no rules: 0.0.0.0" --dst "0.0.0.0:$P"
grep -q "refused: .*dst=0\.0\.0\.0:$P: an unspecified address" "$T/sockeyed.log" ||
	fail "no rules: no refusal line for 0.0.0.0"
n=2
if have_ipv6; then
	denied "no rules: [::]" --dst "[::]:$P"
	denied "no rules: [::ffff:0.0.0.0]" --dst "[::ffff:0.0.0.0]:$P"
	n=4
fi
denied "no rules: 0.0.0.0 sent as a name" --atyp 3 --dst "0.0.0.0:$P"
got=$(timeout 20 "$PYTHON" "$HELPERS/statusq.py" "$T/status.sock" refused.access_rule) ||
	fail "status socket"
[ "$got" -ge "$n" ] || fail "status refused.access_rule = $got, want >= $n"
# UDP without rules: 0.0.0.0 dropped, the echo server itself answers.
out=$(timeout 60 "$PYTHON" "$HELPERS/socks5udp.py" --proxy "127.0.0.1:$SOCKS_PORT" \
	--wait 2 --echo "0.0.0.0:$E" --echo "127.0.0.1:$E" 2>>"$T/udpc.log")
note "$out"
expect_line "$out" "^echo dst=0\\.0\\.0\\.0:$E none\$" "no rules: udp to 0.0.0.0"
expect_line "$out" "^echo dst=127\\.0\\.0\\.1:$E from=.* ok\$" "no rules: udp to 127.0.0.1"
line=$(wait_access 'cmd=udp_associate' 'end=closed')
field_ok "$line" 'drops=denied:1'
# Loopback itself is not refused without rules: the listener sees it.
out=$(probe --dst "127.0.0.1:$P" --wait-close) || fail "no rules: 127.0.0.1: $out"
expect_line "$out" '^rep=0 ' "no rules: 127.0.0.1 is allowed"
wait_for 5 sh -c "[ \$(wc -l <'$T/conns') -ge 1 ]" ||
	fail "the listener on port $P saw nothing from an allowed CONNECT"
[ "$(conns)" = 1 ] || fail "the listener saw $(conns) connections, want exactly 1"

# The listener is reachable as 0.0.0.0: the refusals above were needed.
"$PYTHON" -c 'import socket, sys
socket.create_connection(("0.0.0.0", int(sys.argv[1])), timeout=5).close()' "$P" ||
	fail "a direct connect to 0.0.0.0:$P failed"
wait_for 5 sh -c "[ \$(wc -l <'$T/conns') -ge 2 ]" ||
	fail "a direct connect to 0.0.0.0:$P did not reach the listener"
exit 0
