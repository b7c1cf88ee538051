#!/bin/sh
# SPDX-License-Identifier: ISC
# 74-soak: SOAK_SECONDS (default 300) of everything at once: CONNECT
# churn without authentication and with a password, CHAP one-way and
# mutual, BIND, UDP ASSOCIATE, and misbehaving clients (slow handshakes,
# reset storms, hang-ups, wrong passwords, garbage). Every well-behaved
# client must be served throughout; afterwards each worker holds exactly
# the descriptors it held after a warm-up round, and its resident memory
# is back within 10 % + 1 MiB of what it was then (memory freed but not
# returned to the system would show here). The daemon's leak check runs
# when it stops (lib.sh). Memory is compared only without AddressSanitizer,
# whose shadow of the heap stays resident whatever the daemon returns:
# `make distcheck`'s build compares it.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"
. "${srcdir:-.}/tests/integration/lib-auth.sh"
. "${srcdir:-.}/tests/integration/lib-faults.sh"
require_python
need_fds 4096
SECS=${SOAK_SECONDS:-300}

start_server echo echo
ECHO=$SERVER_PORT
_start_helper udpecho "$T/udpecho.port" "$PYTHON" "$HELPERS/udpecho.py" \
	--port-file "$T/udpecho.port" --bind 127.0.0.1
UECHO=$HELPER_PORT
mkuser "$T/users" alice 'alice-pw'
mkuser "$T/users" carol 'carol-chap' --chap
S=$T/status.sock
write_conf "$T/sockeye.conf" \
	"auth = { methods = [ \"none\", \"password\", \"chap\" ]; users_file = \"$T/users\"; };" \
	'limits = { handshake_timeout_s = 3; max_sessions = 10000; max_sessions_per_client = 10000; };' \
	'bind = { accept_timeout_s = 10; require_peer_match = false; };' \
	"status_socket = \"$S\";" \
	'log = { target = "stderr"; level = "info"; access = true; };'
chmod 600 "$T/sockeye.conf"
start_sockeye "$T/sockeye.conf"
wait_for 10 test -S "$S" || fail "no status socket"
P=127.0.0.1:$SOCKS_PORT

# One round of each kind of client; prints one line, "ok KIND" or
# "bad KIND: why".
round() {
	case $1 in
	chap)
		o=$(authc carol-chap -m chap -u carol --dst "127.0.0.1:$ECHO" --send chap)
		case $o in *echo=ok*) echo "ok chap" ;; *) echo "bad chap: $o" ;; esac ;;
	mutual)
		o=$(authc carol-chap -m chap -u carol --mutual --dst "127.0.0.1:$ECHO" --send m)
		case $o in *echo=ok*) echo "ok mutual" ;; *) echo "bad mutual: $o" ;; esac ;;
	bind)
		o=$(timeout 60 "$PYTHON" "$HELPERS/socks5bind.py" --proxy "$P" \
			--timeout 10 --dst 127.0.0.1:21 2>&1)
		case $o in *data=ok*) echo "ok bind" ;; *) echo "bad bind: $o" ;; esac ;;
	udp)
		o=$(timeout 60 "$PYTHON" "$HELPERS/socks5udp.py" --proxy "$P" \
			--wait 3 --echo "127.0.0.1:$UECHO" 2>&1)
		case $o in *" ok"*) echo "ok udp" ;; *) echo "bad udp: $o" ;; esac ;;
	slow)
		o=$(timeout 120 "$PYTHON" "$HELPERS/faults.py" slowloris -p "$SOCKS_PORT" \
			--dst "127.0.0.1:$ECHO" --slow 50 --normal 5 --reap 3 2>&1)
		case $? in 0) echo "ok slow" ;; *) echo "bad slow: $o" ;; esac ;;
	resets)
		o=$(timeout 120 "$PYTHON" "$HELPERS/faults.py" resets -p "$SOCKS_PORT" -n 50 2>&1)
		case $? in 0) echo "ok resets" ;; *) echo "bad resets: $o" ;; esac ;;
	hangup)
		timeout 30 "$PYTHON" "$HELPERS/hangup.py" -p "$SOCKS_PORT" \
			--dst "localhost:$ECHO" --hold 0.2 --reset >/dev/null 2>&1
		timeout 30 "$PYTHON" "$HELPERS/hangup.py" -p "$SOCKS_PORT" \
			--dst "localhost:$ECHO" --hold 0.2 >/dev/null 2>&1
		echo "ok hangup" ;;
	wrongpw)
		o=$(authc wrong -m password -u alice --dst "127.0.0.1:$ECHO")
		case $o in *auth=fail*) echo "ok wrongpw" ;; *) echo "bad wrongpw: $o" ;; esac ;;
	garbage)
		"$PYTHON" -c '
import os, socket, sys
for n in (1, 3, 17, 300):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    s.sendall(os.urandom(n))
    s.settimeout(10)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()' "$SOCKS_PORT" && echo "ok garbage" || echo "bad garbage" ;;
	esac
}

KINDS="chap mutual bind udp slow resets hangup wrongpw garbage"
# Warm-up: each kind once, and a few plain sessions.
for k in $KINDS; do
	r=$(round "$k")
	case $r in ok*) ;; *) fail "warm-up: $r" ;; esac
done
o=$(timeout 60 "$PYTHON" "$HELPERS/sessions.py" -p "$SOCKS_PORT" \
	--dst "127.0.0.1:$ECHO" -n 5 --timeout 30) || fail "warm-up sessions: $o"
_idle() { [ "$(statusq "$S" sessions.active)" = 0 ]; }
wait_for 30 _idle || fail "warm-up sessions still active"
sleep 5		# the workers' trim timer (2 s) returns what the burst freed
BASE=$(fd_counts)
RSS0=
for w in $(worker_pids); do RSS0="$RSS0 $w:$(rss_kb "$w")"; done
note "after the warm-up: descriptors $(echo "$BASE" | tr '\n' ' ')RSS KiB$RSS0"

# The soak: a loop per kind, and two churners, until $T/stop exists.
loop() {
	while [ ! -f "$T/stop" ]; do
		round "$1"
	done
	echo "done $1"
}
for k in $KINDS; do
	bg "loop-$k" loop "$k"
done
bg churn timeout $((SECS + 120)) "$PYTHON" "$HELPERS/sessions.py" \
	-p "$SOCKS_PORT" --dst "127.0.0.1:$ECHO" -n 3 --churn "$T/stop" \
	--timeout $((SECS + 60))
SOCKEYE_PASSWORD=alice-pw bg churnpw timeout $((SECS + 120)) "$PYTHON" \
	"$HELPERS/sessions.py" -p "$SOCKS_PORT" --dst "127.0.0.1:$ECHO" -n 2 \
	-u alice --churn "$T/stop" --timeout $((SECS + 60))
sleep "$SECS"
touch "$T/stop"
for k in $KINDS; do
	wait_for 180 grep -q "^done $k\$" "$T/loop-$k.out" ||
		fail "the $k loop did not stop: $(tail -n 3 "$T/loop-$k.out")"
done
wait_for 120 grep -q '^churn ' "$T/churn.out" || fail "churn did not stop"
wait_for 120 grep -q '^churn ' "$T/churnpw.out" || fail "password churn did not stop"

summary=
for k in $KINDS; do
	okn=$(grep -c "^ok $k" "$T/loop-$k.out" || true)
	badn=$(grep -c "^bad $k" "$T/loop-$k.out" || true)
	summary="$summary $k=$okn"
	[ "$badn" -eq 0 ] || fail "$badn bad rounds of $k: $(grep -m 3 "^bad" "$T/loop-$k.out")"
	[ "$okn" -gt 0 ] || fail "no round of $k"
done
for c in churn churnpw; do
	l=$(grep '^churn ' "$T/$c.out")
	summary="$summary $c:$(printf '%s' "$l" | sed 's/^churn //; s/ /,/')"
	case $l in *" bad=0") ;; *) fail "$c: $l $(grep -m 3 '^bad' "$T/$c.out")" ;; esac
done
note "rounds in $SECS s:$summary"

wait_for 60 _idle || fail "sessions still active after the soak"
sleep 5
settled 30 "$BASE" "$S"
if asan_build; then
	note "resident memory not compared: an AddressSanitizer build"
	exit 0
fi
RSS1=
for w in $(worker_pids); do
	r0=$(printf '%s\n' $RSS0 | sed -n "s/^$w://p")
	r1=$(rss_kb "$w")
	RSS1="$RSS1 $w:$r1"
	[ -n "$r0" ] || fail "worker $w was not there after the warm-up"
	[ "$r1" -le $((r0 + r0 / 10 + 1024)) ] ||
		fail "worker $w: RSS $r1 KiB after the soak, $r0 KiB before"
done
note "after the soak: RSS KiB$RSS1"
exit 0
