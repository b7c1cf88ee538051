#!/bin/sh
# SPDX-License-Identifier: ISC
# 70-slowloris: 2,000 connections that send their handshake a byte a
# second are closed at limits.handshake_timeout_s, while 100 normal
# clients (another address) are served meanwhile, every byte echoed;
# afterwards no session is active and each worker holds the descriptors
# it held before.
. "${srcdir:-.}/tests/integration/lib.sh"
. "${srcdir:-.}/tests/integration/lib-ops.sh"
. "${srcdir:-.}/tests/integration/lib-faults.sh"
require_python
# 2,000 sockets here and as many in the daemon, plus the echo server's.
need_fds 8192

REAP=4
start_server echo echo
ECHO=$SERVER_PORT
S=$T/status.sock
write_conf "$T/sockeye.conf" \
	"limits = { handshake_timeout_s = $REAP; max_sessions = 10000; max_sessions_per_client = 10000; };" \
	"status_socket = \"$S\";" \
	'log = { target = "stderr"; level = "info"; access = true; };'
start_sockeye "$T/sockeye.conf"
wait_for 10 test -S "$S" || fail "no status socket"
BASE=$(fd_counts)

out=$(timeout 180 "$PYTHON" "$HELPERS/faults.py" slowloris -p "$SOCKS_PORT" \
	--dst "127.0.0.1:$ECHO" --slow 2000 --normal 100 --reap "$REAP") ||
	fail "slowloris: $out"
note "$out"
last=$(printf '%s\n' "$out" | tail -n 1)
case $last in
"slow=2000 reaped=2000 early=0 late=0 "*"normal=100 ok=100") ;;
*) fail "want all 2,000 reaped on time and 100 served: $last" ;;
esac

# Each slow one ended as a handshake timeout, in the access log.
settled 20 "$BASE" "$S"
n=$(log_count 'access .*end=handshake-timeout')
[ "$n" -eq 2000 ] || fail "$n access lines say end=handshake-timeout, want 2000"
n=$(log_count 'access .*cmd=connect .*rep=0 ')
[ "$n" -eq 100 ] || fail "$n access lines of relayed sessions, want 100"
exit 0
