#!/bin/sh
# SPDX-License-Identifier: ISC
# 80-haproxy: Debian's HAProxy in TCP mode, with send-proxy-v2 (and its
# health checks with check-send-proxy), in front of three sockeyed
# instances, as root, in a network namespace of its own where every
# party has an address (on lo; all /32):
#
#   10.77.0.1-3  the instances' proxy_protocol listeners (port 1081)
#   10.77.0.5    curl (a client `access` allows)
#   10.77.0.7    curl (a client a deny rule names)
#   10.77.0.6    a client that forges a PROXY header straight to 10.77.0.1
#   10.77.0.10   HAProxy's source address: the only trusted one
#   10.77.0.50   HAProxy's frontend (port 1080)
#
# Checks: curl through HAProxy fetches the page; the instances' access
# lines say client=10.77.0.5 (curl's address) and via=10.77.0.10; each
# instance served some of them; curl from 10.77.0.7 gets REP 2 (the
# rule is enforced on the header's address); the forged header is
# refused ("not in 'proxy_protocol.trusted'") and believed nowhere;
# HAProxy's health checks leave no access line; and SIGTERM to one
# instance while clients keep fetching loses nothing: every fetch
# succeeds (its listener closes at once, so HAProxy moves on), and the
# sessions it had open finish their work before it exits.
#
# The script runs twice: as itself (root and tools checked, the namespace
# made and removed) and, re-executed inside the namespace, as the test.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"

NET=10.77.0
if [ "${HAP_INNER:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
	command -v ip >/dev/null 2>&1 || skip "ip (iproute2) not installed"
	command -v haproxy >/dev/null 2>&1 || skip "haproxy not installed"
	command -v curl >/dev/null 2>&1 || skip "curl not installed"
	require_python
	NS="sockeye-$$-hap"
	_hap_cleanup() {
		_rc=$?
		set +e
		for _p in $(ip netns pids "$NS" 2>/dev/null); do
			kill -KILL "$_p" 2>/dev/null
		done
		ip netns del "$NS" 2>/dev/null
		(exit $_rc)
		cleanup
	}
	trap _hap_cleanup EXIT
	ip netns add "$NS" || skip "cannot create network namespaces here"
	ip -n "$NS" link set lo up
	for _a in 1 2 3 5 6 7 10 50; do
		ip -n "$NS" addr add "$NET.$_a/32" dev lo
	done
	rc=0
	HAP_INNER=1 ip netns exec "$NS" "${SHELL:-/bin/sh}" "$0" || rc=$?
	exit $rc
fi

# --- inside the namespace ------------------------------------------------

start_server web http
WEB=$SERVER_PORT
BODY='hello from the sockeye test server'

# Three instances, each with its own config, log and ports file.
for i in 1 2 3; do
	cat >"$T/s$i.conf" <<EOF
listen = [ ];
proxy_protocol = { listen = [ "$NET.$i:1081" ]; trusted = [ "$NET.10" ]; };
workers = 1;
user = "nobody"; group = "nogroup";
pid_file = "$T/s$i.pid";
shutdown_timeout_s = 10;
auth = { methods = [ "none" ]; };
log = { target = "stderr"; level = "info"; access = true; };
clients = [ "$NET.0/24" ];
access = ( { action = "deny"; from = [ "$NET.7" ]; },
           { action = "allow"; } );
EOF
	"$SOCKEYED" -F -f "$T/s$i.conf" -P "$T/s$i.ports" </dev/null 2>"$T/s$i.log" &
	echo $! >"$T/pids/s$i"
	eval "S${i}_PID=$!"
done
for i in 1 2 3; do
	wait_for 10 test -s "$T/s$i.ports" || fail "instance $i did not start: $(cat "$T/s$i.log")"
done

cat >"$T/haproxy.cfg" <<EOF
global
	maxconn 2000
defaults
	mode tcp
	timeout connect 2s
	timeout client 30s
	timeout server 30s
	retries 3
	option redispatch
frontend socks
	bind $NET.50:1080
	default_backend sockeye
backend sockeye
	balance roundrobin
	source $NET.10
	default-server send-proxy-v2 check check-send-proxy inter 300 fall 1 rise 2
	server s1 $NET.1:1081
	server s2 $NET.2:1081
	server s3 $NET.3:1081
EOF
haproxy -c -f "$T/haproxy.cfg" >"$T/haproxy-check.log" 2>&1 ||
	error "haproxy refuses the config: $(cat "$T/haproxy-check.log")"
bg haproxy haproxy -db -f "$T/haproxy.cfg"
# (Asked of the kernel: a connection would become a session.)
wait_for 10 sh -c "ss -Hltn 'sport = :1080' | grep -q '$NET\.50:1080'" ||
	fail "haproxy does not listen: $(cat "$T/haproxy.log")"

# fetch FROM: curl through HAProxy from address FROM; prints the body.
fetch() {
	timeout 30 curl -sS --max-time 20 --interface "$1" \
		--socks5 "$NET.50:1080" "http://127.0.0.1:$WEB/"
}

# --- through HAProxy, as curl's own address --------------------------------
# Round robin: six fetches reach every instance twice once all are up.
wait_for 10 sh -c "curl -s --max-time 2 --interface $NET.5 --socks5 $NET.50:1080 http://127.0.0.1:$WEB/ >/dev/null" ||
	fail "no fetch through haproxy: $(fetch "$NET.5" 2>&1)"
for n in 1 2 3 4 5 6; do
	OUT=$(fetch "$NET.5" 2>&1) || fail "fetch $n through haproxy: $OUT"
	[ "$OUT" = "$BODY" ] || fail "fetch $n: got '$OUT'"
done
for i in 1 2 3; do
	L=$(grep ' info: access ' "$T/s$i.log" | grep "client=$NET\.5:" | head -n 1)
	[ -n "$L" ] || fail "instance $i has no access line for curl ($NET.5): $(grep ' access ' "$T/s$i.log" | head -n 3)"
	field_ok "$L" "via=$NET\\.10:[0-9]+"
	field_ok "$L" 'rep=0'
done
if grep ' info: access ' "$T"/s?.log | grep -v "client=$NET\.5:" | grep -q .; then
	fail "an access line with another client: $(grep ' info: access ' "$T"/s?.log | grep -v "client=$NET\.5:" | head -n 2)"
fi

# --- the access rule applies to the header's client ---------------------------
rc=0
OUT=$(fetch "$NET.7" 2>&1) || rc=$?
[ $rc -ne 0 ] || fail "the denied client fetched the page through haproxy: $OUT"
wait_for 5 sh -c "grep -h ' info: access ' '$T'/s?.log | grep -q 'client=$NET\.7:.* rep=2 '" ||
	fail "no rep=2 access line for $NET.7: $(grep -h " access .*$NET\.7" "$T"/s?.log)"

# --- a forged header, straight to an instance ----------------------------------
HDR=$(printf 'PROXY TCP4 %s.5 %s.1 40000 1081\r\n' "$NET" "$NET" | od -An -tx1 | tr -d ' \n')
OUT=$(timeout 30 "$PYTHON" "$HELPERS/socks5probe.py" -H "$NET.1" -p 1081 \
	--source "$NET.6" --prefix-hex "$HDR" --dst "127.0.0.1:$WEB")
expect_line "$OUT" '^closed' "a forged PROXY header from $NET.6"
wait_log 5 "refused $NET\\.6:[0-9]+: not in 'proxy_protocol\\.trusted'" 1 "$T/s1.log" ||
	fail "no refusal of the forged header: $(tail -n 5 "$T/s1.log")"
grep -q "client=$NET\\.5:40000 " "$T/s1.log" && fail "the forged header was believed"

# --- health checks leave no trace ----------------------------------------------
# (every 300 ms on three servers since the start: dozens of them)
for i in 1 2 3; do
	n=$(grep -c ' info: access ' "$T/s$i.log")
	[ "$n" -le 5 ] || fail "instance $i wrote $n access lines for 2-3 fetches: health checks logged?"
	grep -q 'PROXY header on a proxy_protocol' "$T/s$i.log" &&
		fail "instance $i refused a health check: $(grep 'PROXY header' "$T/s$i.log" | head -n 1)"
done

# --- SIGTERM to one instance: nothing lost ------------------------------------
# Sessions open on every instance (round robin), each holding 4 s after
# its echo; then fetches in a loop while s1 stops.
start_server echo echo
ECHO=$SERVER_PORT
for n in 1 2 3; do
	bg hold$n timeout 30 "$PYTHON" "$HELPERS/socks5probe.py" -H "$NET.50" -p 1080 \
		--dst "127.0.0.1:$ECHO" --send "held$n" --expect-echo --hold 4
done
for n in 1 2 3; do
	wait_for 10 grep -q '^echo=ok$' "$T/hold$n.out" || fail "held session $n did not start: $(cat "$T/hold$n.out")"
done
cat >"$T/loop.sh" <<EOF
ok=0 bad=0
for n in \$(seq 1 40); do
	if [ "\$(curl -sS --max-time 20 --interface $NET.5 --socks5 $NET.50:1080 http://127.0.0.1:$WEB/ 2>&1)" = "$BODY" ]; then
		ok=\$((ok + 1))
	else
		bad=\$((bad + 1))
	fi
done
echo "ok=\$ok bad=\$bad"
EOF
bg loop1 sh "$T/loop.sh"
L1=$BG_PID
bg loop2 sh "$T/loop.sh"
L2=$BG_PID
sleep 0.5
START=$(date +%s)
kill -TERM "$S1_PID"
# Its listener is closed at once: a connection to it is refused.
sleep 0.3
if "$PYTHON" -c "import socket; socket.create_connection(('$NET.1', 1081), 1)" 2>/dev/null; then
	fail "instance 1 still accepts after SIGTERM"
fi
wait_for 60 proc_gone "$L1" || fail "fetch loop 1 did not end"
wait_for 60 proc_gone "$L2" || fail "fetch loop 2 did not end"
for n in 1 2; do
	OUT=$(cat "$T/loop$n.out")
	[ "$OUT" = "ok=40 bad=0" ] || fail "fetches while an instance stopped: $OUT ($(cat "$T/loop$n.log"))"
done
for n in 1 2 3; do
	wait_for 10 grep -qE '^(timeout|closed)' "$T/hold$n.out" || fail "held session $n never ended"
	grep -q '^timeout$' "$T/hold$n.out" ||
		fail "held session $n was closed by the server before its 4 s: $(cat "$T/hold$n.out")"
done
wait_for 15 proc_gone "$S1_PID" || fail "instance 1 still running 15 s after SIGTERM"
rc=0
wait "$S1_PID" || rc=$?
[ $rc -eq 0 ] || fail "instance 1 exited with status $rc"
rm -f "$T/pids/s1"
# Some of the loops' fetches went to s2 and s3 after s1 had stopped.
for i in 2 3; do
	[ "$(grep -c " info: access .*client=$NET\\.5:" "$T/s$i.log")" -ge 10 ] ||
		fail "instance $i served few of the 80 fetches"
done
note "instance 1 stopped in $(( $(date +%s) - START )) s; 80 fetches, none lost"

for i in 2 3; do
	kill -TERM "$(eval echo "\$S${i}_PID")"
done
for i in 2 3; do
	P=$(eval echo "\$S${i}_PID")
	wait_for 15 proc_gone "$P" || fail "instance $i still running 15 s after SIGTERM"
	rm -f "$T/pids/s$i"
done
echo "PASS: $TEST_NAME"
