#!/bin/sh
# SPDX-License-Identifier: ISC
# 41-bind-refusals: how a BIND ends when it does not succeed:
#  - no peer within bind.accept_timeout_s: a second reply with REP 6,
#    then the close, in about that time (access log end=accept-timeout);
#  - the client closes its connection while waiting: the listener goes
#    (a connection to it is refused) and the log says end=client-eof;
#  - bind.require_peer_match, true by default: a wildcard request is
#    refused (REP 2);
#  - an access rule refusing the peer: its connection is closed and the
#    client gets REP 2 (end=access-denied);
#  - BIND left out of `commands`: REP 7.
. "${srcdir:-.}/tests/integration/lib.sh"
require_python

bindc() {
	timeout 60 "$PYTHON" "$HELPERS/socks5bind.py" --proxy "127.0.0.1:$SOCKS_PORT" \
		--timeout 15 "$@" 2>>"$T/bindc.log"
}

# --- the accept timeout -------------------------------------------------------
write_conf "$T/sockeye.conf" 'workers = 1;' 'bind = { accept_timeout_s = 2; };'
start_sockeye "$T/sockeye.conf"
out=$(bindc --dst 127.0.0.1:21 --no-peer)
note "$out"
expect_line "$out" '^rep1=0 bnd=127\.0\.0\.1:[0-9]+$' "timeout: first reply"
expect_line "$out" '^rep2=6 bnd=0\.0\.0\.0:0$' "timeout: REP 6"
expect_line "$out" '^closed$' "timeout: closed"
el=$(printf '%s\n' "$out" | sed -n 's/^elapsed=//p')
awk -v e="$el" 'BEGIN { exit !(e >= 1.8 && e < 8) }' ||
	fail "timeout: the second reply came after $el s, want about 2 s"
line=$(wait_access 'cmd=bind' 'end=accept-timeout')
field_ok "$line" 'rep=6'

# --- the client leaves while waiting --------------------------------------------
"$PYTHON" - "$SOCKS_PORT" >"$T/leave.out" 2>&1 <<'EOF' || fail "leave: $(cat "$T/leave.out")"
import socket, struct, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
c.sendall(b"\x05\x01\x00")
assert c.recv(2) == b"\x05\x00"
c.sendall(b"\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x15")
r = b""
while len(r) < 10:
    r += c.recv(10 - len(r))
print(struct.unpack("!H", r[8:10])[0])
c.close()
EOF
LPORT=$(cat "$T/leave.out")
wait_access 'cmd=bind' 'end=client-eof' >/dev/null
# The listener went with the session: a connection to it is refused.
"$PYTHON" -c 'import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5).close()
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)' "$LPORT" || fail "leave: the listener on port $LPORT outlived the session"
stop_sockeye

# --- require_peer_match, an access rule, commands --------------------------------
write_conf "$T/sockeye2.conf" 'workers = 1;' \
	'bind = { accept_timeout_s = 10; };' \
	'commands = [ "connect", "bind" ];' \
	'access = ( { action = "deny"; to = [ "127.0.0.2/32" ]; commands = [ "bind" ]; },
	            { action = "allow"; } );'
start_sockeye "$T/sockeye2.conf"
out=$(bindc --dst 0.0.0.0:0)
note "$out"
expect_line "$out" '^rep1=2 ' "require_peer_match (default): a wildcard is refused"
wait_access 'cmd=bind' 'dst=0\.0\.0\.0:0' 'end=not-allowed' >/dev/null

out=$(bindc --dst 127.0.0.2:21 --peer-from 127.0.0.2)
note "$out"
expect_line "$out" '^rep1=0 ' "access: first reply"
expect_line "$out" '^rep2=2 ' "access: the refused peer gives REP 2"
wait_access 'cmd=bind' 'end=access-denied' >/dev/null
grep -q 'refused: .*cmd=bind dst=127\.0\.0\.2:21: denied by the access rule' "$T/sockeyed.log" ||
	fail "access: no refusal line naming the rule"

# The named peer passes the rules: accepted.
out=$(bindc --dst 127.0.0.1:21)
expect_line "$out" '^data=ok$' "access: an allowed peer"

out=$(timeout 30 "$PYTHON" "$HELPERS/socks5udp.py" --proxy "127.0.0.1:$SOCKS_PORT" --wait 1) || true
expect_line "$out" '^rep=7 ' "commands: UDP ASSOCIATE not listed"
exit 0
